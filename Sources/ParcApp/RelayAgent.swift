import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ParcCore
import Provisioning
import SSHTransport
import Synchronization

/// `parc relay`: connects out to the central server (HTTPS; a held request, so nothing has to
/// reach the relay), asks for the work for its schools, does each piece here over SSH with the same
/// engine, and streams its events back. The SSH keys and sudo's password stay on this machine.
public struct RelayAgent: Sendable {
    public struct Settings: Sendable {
        public var server: URL
        /// The relay account's API token (`parc token add LOGIN`): a secret.
        public var token: String
        /// The schools to serve (UAI); empty: every school of the relay's account.
        public var schools: [String]
        public var credentials: [SSHCredential]
        public var becomePassword: Secret?
        public var caFile: String?
        /// Seconds between two tries when the server cannot be reached.
        public var retryDelay: Double = 2

        public init(server: URL, token: String, schools: [String], credentials: [SSHCredential], becomePassword: Secret? = nil, caFile: String? = nil) {
            self.server = server
            self.token = token
            self.schools = schools
            self.credentials = credentials
            self.becomePassword = becomePassword
            self.caFile = caFile
        }
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    let settings: Settings
    let logger: Logger
    let client: HTTPClient

    public init(_ settings: Settings, logger: Logger = Logger(label: "parc.relay")) throws {
        let scheme = settings.server.scheme?.lowercased() ?? ""
        guard scheme == "https" || scheme == "http", settings.server.host != nil else {
            throw Failure(description: "'\(settings.server.absoluteString)' is not an http(s) URL of a parc server")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = settings.caFile {
            guard FileManager.default.isReadableFile(atPath: ca) else { throw Failure(description: "--ca-file \(ca): cannot read it") }
            tls.trustRoots = .file(ca)
        }
        client = HTTPClient(eventLoopGroupProvider: .singleton,
                            configuration: .init(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                                 timeout: .init(connect: .seconds(10))))
        self.settings = settings
        self.logger = logger
    }

    func url(_ path: String) -> String {
        var base = settings.server.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }

    /// Serves until the task is cancelled. The server cannot be reached: tried again; the token
    /// refused: thrown (nothing will change by waiting).
    public func run() async throws {
        defer { Task { [client] in try? await client.shutdown() } }
        var announced = false
        while !Task.isCancelled {
            let work: RelayWork?
            do {
                work = try await poll()
                if !announced {
                    logger.info("connected", metadata: ["server": "\(settings.server.absoluteString)"])
                    announced = true
                }
            } catch let failure as Failure {
                throw failure
            } catch {
                if Task.isCancelled { break }
                logger.warning("cannot reach the server; trying again", metadata: ["error": "\(error)"])
                announced = false
                try? await Task.sleep(for: .milliseconds(Int(settings.retryDelay * 1000)))
                continue
            }
            guard let work else { continue }
            logger.info("work", metadata: ["run": "\(work.run)", "hosts": "\(work.hosts.count)"])
            Task { await perform(work) }
        }
    }

    /// One held request for work: the next piece, or nil when the server had none.
    func poll() async throws -> RelayWork? {
        let schools = settings.schools.map { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0 }.joined(separator: ",")
        var request = HTTPClientRequest(url: url("/api/v1/relay/work" + (schools.isEmpty ? "" : "?schools=\(schools)")))
        request.headers.add(name: "Authorization", value: "Bearer \(settings.token)")
        let response = try await client.execute(request, timeout: .seconds(90))
        let body = try await response.body.collect(upTo: 256 << 20)
        switch response.status.code {
        case 200: return try JSONDecoder().decode(RelayWork.self, from: Data(body.readableBytesView))
        case 204: return nil
        case 401, 403, 404:
            throw Failure(description: "the server refuses this relay (\(response.status.code)): \(String(buffer: body).prefix(300)); check the token (parc token add LOGIN on the server) and the schools (--school) of its relay account")
        default:
            throw URLError(.badServerResponse, userInfo: [NSLocalizedDescriptionKey: "HTTP \(response.status.code): \(String(buffer: body).prefix(200))"])
        }
    }

    /// Does one piece of work and reports it; events go back in batches as they come, the
    /// outcome last. A report that does not get through is sent again from where the server is.
    func perform(_ work: RelayWork) async {
        let reporter = Reporter(agent: self, job: work.id)
        let cancellation = RunCancellation()
        let sender = Task { await reporter.pump(cancellation: cancellation) }
        let outcome: RelayOutcome
        do {
            outcome = try await work.perform(credentials: settings.credentials, becomePassword: settings.becomePassword, logger: logger,
                                             cancellation: cancellation) { reporter.add($0) }
        } catch {
            // The work could not start here (a playbook the engine refuses, a missing password):
            // every host fails with the reason.
            for h in work.hosts { reporter.add(.note("\(h.name): \(error)")) }
            var recap: [String: HostRecap] = [:]
            for h in work.hosts { var r = HostRecap(); r.failed = 1; recap[h.name] = r }
            outcome = RelayOutcome(result: RunResult(records: [], recap: recap, failedHosts: work.hosts.map(\.serial), unreachableHosts: [],
                                                     aborted: "the relay could not run it: \(error)"), newKeys: [:])
        }
        reporter.finish(outcome)
        await sender.value
        logger.info("work done", metadata: ["run": "\(work.run)"])
    }

    /// Sends one report; returns the server's reply.
    func send(job: String, _ report: RelayReport) async throws -> RelayReply {
        var request = HTTPClientRequest(url: url("/api/v1/relay/jobs/\(job)/events"))
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(settings.token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(report)))
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == 200 else {
            if response.status.code == 404 { throw Failure(description: "the server no longer expects this work") }
            throw URLError(.badServerResponse, userInfo: [NSLocalizedDescriptionKey: "HTTP \(response.status.code)"])
        }
        return try JSONDecoder().decode(RelayReply.self, from: Data(body.readableBytesView))
    }

    /// The events of one piece of work on their way to the server: collected as they come,
    /// sent in batches, the outcome with the last one.
    final class Reporter: Sendable {
        struct State {
            var events: [RelayEvent] = []
            var sent = 0
            var outcome: RelayOutcome?
            var wake: CheckedContinuation<Void, Never>?
        }
        let state = Mutex(State())
        let agent: RelayAgent
        let job: String
        init(agent: RelayAgent, job: String) { self.agent = agent; self.job = job }

        func add(_ e: RelayEvent) {
            let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.events.append(e)
                defer { s.wake = nil }
                return s.wake
            }
            c?.resume()
        }

        func finish(_ outcome: RelayOutcome) {
            let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.outcome = outcome
                defer { s.wake = nil }
                return s.wake
            }
            c?.resume()
        }

        /// Sends until the outcome is through (or the server says it no longer expects it).
        func pump(cancellation: RunCancellation) async {
            while true {
                // Wait for something to send.
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { s -> Bool in
                        if s.events.count > s.sent || s.outcome != nil { return true }
                        s.wake = c
                        return false
                    }
                    if ready { c.resume() }
                }
                // A short pause gathers the events of hosts working at the same time into one report.
                try? await Task.sleep(for: .milliseconds(20))
                let (from, batch, outcome) = state.withLock { s in (s.sent, Array(s.events[s.sent...]), s.outcome) }
                do {
                    let reply = try await agent.send(job: job, RelayReport(from: from, events: batch, outcome: outcome))
                    state.withLock { $0.sent = max($0.sent, min(reply.next, $0.events.count)) }
                    if let by = reply.cancelledBy { cancellation.cancel(by: by) }
                    if outcome != nil { return }
                } catch let failure as RelayAgent.Failure {
                    agent.logger.warning("report refused", metadata: ["job": "\(job)", "error": "\(failure)"])
                    cancellation.cancel(by: "the server")
                    return
                } catch {
                    agent.logger.warning("cannot report; trying again", metadata: ["job": "\(job)", "error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }
}
