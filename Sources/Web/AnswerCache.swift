import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParcApp
import ParcCore
import Synchronization

/// The portal's answers kept in memory while the inventory does not change.
///
/// The inventory is read far more often than it is written: a commune's overview, its lists, its
/// report and the API's lists are answered from here until anything is committed to the database
/// (by this server, another `parc` process or `sqlite3`: SQLite's `data_version`, see
/// `InventoryChanges`) or the day changes (warranties "bientôt finies"). Then everything kept is
/// dropped at once; the next request renders again, and the requests that arrive for the same page
/// meanwhile wait for that one rendering instead of each doing it.
///
/// An answer is kept per viewer (the session or the API token that asked) and per URI: what one
/// account sees is never given to another, whatever the pages show. Sessions and tokens are
/// resolved from here too, with a session's end of life checked on every request.
final class AnswerCache: Sendable {
    /// What the kept answers were computed from.
    struct Generation: Equatable, Sendable {
        var data: Int64
        var day: Day
    }

    /// A whole answer: its status, headers and body, with the body's digest as its entity tag.
    struct Kept: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: ByteBuffer
        var etag: String

        /// The answer to `request`: 304 when the client holds this version (`If-None-Match`).
        func response(to request: Request) -> Response {
            guard status == .ok else { return Response(status: status, headers: headers, body: .init(byteBuffer: body)) }
            if let tags = request.headers[.ifNoneMatch], AnswerCache.matches(tags, etag) {
                return Response(status: .notModified, headers: [.eTag: etag, .cacheControl: AnswerCache.cacheControl])
            }
            return Response(status: status, headers: headers, body: .init(byteBuffer: body))
        }
    }

    struct Key: Hashable, Sendable {
        /// "s:" and a session's digest, or "t:" and an API token's.
        var viewer: String
        var uri: String
    }

    private struct State {
        var generation: Generation?
        var answers: [Key: Kept] = [:]
        var bytes = 0
        var pending: [Key: Task<Kept, any Error>] = [:]
        /// Sessions and tokens resolved in this generation, with a session's end of life.
        var viewers: [String: (viewer: Viewer, expires: Date?)] = [:]
    }

    /// Browsers keep the page for this account only and ask again each time (`If-None-Match`).
    static let cacheControl = "private, no-cache"

    private let state = Mutex(State())
    private let changes: InventoryChanges
    /// What all kept bodies may weigh together; past it the oldest half of the answers go.
    let maxBytes: Int
    let maxViewers = 10_000

    init(changes: InventoryChanges, maxBytes: Int = 64 << 20) {
        self.changes = changes
        self.maxBytes = maxBytes
    }

    /// The generation now: the inventory's change counter and the day. Everything kept from an
    /// older one is dropped here.
    func generation(day: Day) -> Generation? {
        guard let data = try? changes.version() else { return nil }
        let now = Generation(data: data, day: day)
        state.withLock { s in
            if s.generation != now {
                s.generation = now
                s.answers.removeAll(keepingCapacity: true)
                s.viewers.removeAll(keepingCapacity: true)
                s.bytes = 0
                // Renderings under way finish for whoever waits on them, and are not kept.
                s.pending.removeAll()
            }
        }
        return now
    }

    /// The viewer of a session or token resolved earlier in this generation, while its session lasts.
    func viewer(_ identity: String, in generation: Generation, now: Date) -> Viewer? {
        state.withLock { s in
            guard s.generation == generation, let found = s.viewers[identity] else { return nil }
            if let expires = found.expires, expires <= now {
                s.viewers[identity] = nil
                return nil
            }
            return found.viewer
        }
    }

    func keep(_ viewer: Viewer, as identity: String, expires: Date?, in generation: Generation) {
        state.withLock { s in
            guard s.generation == generation else { return }
            if s.viewers.count >= maxViewers { s.viewers.removeAll(keepingCapacity: true) }
            s.viewers[identity] = (viewer, expires)
        }
    }

    /// The answer kept for `key`, or the one being rendered for it, or a new rendering by `render`
    /// (kept when it is a whole 200 that sets no cookie).
    func answer(_ key: Key, in generation: Generation, render: @escaping @Sendable () async throws -> Response) async throws -> Kept {
        enum Found { case kept(Kept), waiting(Task<Kept, any Error>) }
        let found: Found = state.withLock { s in
            if s.generation == generation {
                if let kept = s.answers[key] { return .kept(kept) }
                if let task = s.pending[key] { return .waiting(task) }
            }
            let task = Task<Kept, any Error> { [self] in
                defer { state.withLock { s in if s.pending[key] != nil, s.generation == generation { s.pending[key] = nil } } }
                let kept = try await Self.collect(try await render())
                if kept.status == .ok && kept.headers[.setCookie] == nil { store(kept, for: key, in: generation) }
                return kept
            }
            if s.generation == generation { s.pending[key] = task }
            return .waiting(task)
        }
        switch found {
        case .kept(let kept): return kept
        case .waiting(let task): return try await task.value
        }
    }

    private func store(_ kept: Kept, for key: Key, in generation: Generation) {
        state.withLock { s in
            guard s.generation == generation else { return }
            if s.bytes + kept.body.readableBytes > maxBytes {
                // Past the budget: drop half of what is kept (a dictionary's order is as good as any).
                let drop = s.answers.keys.prefix(max(1, s.answers.count / 2))
                for k in Array(drop) { s.bytes -= s.answers.removeValue(forKey: k)?.body.readableBytes ?? 0 }
            }
            if let old = s.answers.updateValue(kept, forKey: key) { s.bytes -= old.body.readableBytes }
            s.bytes += kept.body.readableBytes
        }
    }

    /// A response read whole, with its entity tag and the cache headers of kept answers.
    static func collect(_ response: Response) async throws -> Kept {
        let collector = Collector()
        try await response.body.write(collector)
        var headers = response.headers
        let etag = "\"" + String(SHA256.hex(Array(collector.buffer.readableBytesView)).prefix(32)) + "\""
        if response.status == .ok {
            headers[.eTag] = etag
            headers[.cacheControl] = cacheControl
        }
        return Kept(status: response.status, headers: headers, body: collector.buffer, etag: etag)
    }

    /// Whether an `If-None-Match` value names `etag` (a list of tags, weak ones compared weakly, or `*`).
    static func matches(_ header: String, _ etag: String) -> Bool {
        if header == etag { return true }
        return header.split(separator: ",").contains { tag in
            var t = tag.trimmingCharacters(in: .whitespaces)
            if t == "*" { return true }
            if t.hasPrefix("W/") { t.removeFirst(2) }
            return t == etag
        }
    }

    /// How many answers are kept (for tests).
    var count: Int { state.withLock { $0.answers.count } }

    /// Reads a response's body into one buffer.
    final class Collector: ResponseBodyWriter {
        var buffer = ByteBuffer()
        func write(_ part: ByteBuffer) async throws {
            var part = part
            buffer.writeBuffer(&part)
        }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
