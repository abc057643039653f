import Foundation
import ParcCore
import Synchronization

/// An event as it happened: when, and what.
public struct Stamped<Event: Sendable>: Sendable {
    public var at: Date
    public var event: Event
}

/// Work that goes on by itself (a run, an onboarding, a facts refresh) and tells what it does as
/// it does it: every follower gets all the events from the first (a page opened late misses
/// nothing), then the new ones as they come, and the stream ends when the work does.
public final class Job<Event: Sendable, Output: Sendable>: Sendable {
    private struct State {
        var events: [Stamped<Event>] = []
        var output: Result<Output, any Error>?
        var waiters: [CheckedContinuation<Result<Output, any Error>, Never>] = []
        /// Called with each event as it is emitted, in order (``tap(_:)``).
        var taps: [@Sendable (Stamped<Event>) -> Void] = []
        /// Followers waiting for events past an index (``events(after:)``).
        var pollers: [(index: Int, continuation: CheckedContinuation<[Stamped<Event>], Never>)] = []
    }
    private let state = Mutex(State())
    /// Asks the work to stop (see ``cancel(by:)``).
    public let cancellation = RunCancellation()

    public init() {}

    /// Records an event and hands it to every follower.
    public func emit(_ event: Event) {
        let stamped = Stamped(at: Date(), event: event)
        let ready = state.withLock { s -> [(CheckedContinuation<[Stamped<Event>], Never>, [Stamped<Event>])] in
            s.events.append(stamped)
            for t in s.taps { t(stamped) }
            defer { s.pollers = [] }
            return s.pollers.map { ($0.continuation, Array(s.events[$0.index...])) }
        }
        for (c, events) in ready { c.resume(returning: events) }
    }

    /// Calls `body` with every event so far, then with each new one as it is emitted, in order and
    /// in the emitter's own context (no task to wake: a derived stream, such as encoded frames for
    /// many followers, keeps up with the work). `body` must be quick and must not call this job.
    public func tap(_ body: @escaping @Sendable (Stamped<Event>) -> Void) {
        state.withLock { s in
            for e in s.events { body(e) }
            s.taps.append(body)
        }
    }

    /// The events past the first `index` ones, as soon as there is one (all those there are then:
    /// a follower that falls behind catches up in one go); empty once the work has ended.
    public func events(after index: Int) async -> [Stamped<Event>] {
        await withCheckedContinuation { c in
            let ready = state.withLock { s -> [Stamped<Event>]? in
                if s.events.count > index { return Array(s.events[index...]) }
                if s.output != nil { return [] }
                s.pollers.append((index, c))
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    /// The work ended: followers get the end, waiters the output (resumed outside the lock).
    public func finish(_ output: Result<Output, any Error>) {
        let (waiters, pollers) = state.withLock { s in
            guard s.output == nil else { return ([CheckedContinuation<Result<Output, any Error>, Never>](), [CheckedContinuation<[Stamped<Event>], Never>]()) }
            s.output = output
            defer { s.waiters = []; s.pollers = [] }
            return (s.waiters, s.pollers.map(\.continuation))
        }
        for p in pollers { p.resume(returning: []) }
        for w in waiters { w.resume(returning: output) }
    }

    /// Runs `body` in a task of its own and finishes with what it returns or throws. A lower
    /// priority than those following it keeps the followers' tasks ahead of the work's own.
    public func start(priority: TaskPriority? = nil, _ body: @escaping @Sendable (Job) async throws -> Output) {
        Task(priority: priority) {
            do { finish(.success(try await body(self))) } catch { finish(.failure(error)) }
        }
    }

    /// Every event so far, then each new one until the work ends.
    public func events() -> Events { Events(job: self) }

    /// A job's events as an `AsyncSequence` (``events(after:)`` one batch at a time).
    public struct Events: AsyncSequence, Sendable {
        let job: Job
        public func makeAsyncIterator() -> Iterator { Iterator(job: job) }

        public struct Iterator: AsyncIteratorProtocol {
            let job: Job
            var seen = 0
            var batch: ArraySlice<Stamped<Event>> = []

            public mutating func next() async -> Stamped<Event>? {
                if batch.isEmpty {
                    let more = await job.events(after: seen)
                    seen += more.count
                    batch = more[...]
                }
                return batch.popFirst()
            }
        }
    }

    /// The events so far.
    public var history: [Stamped<Event>] { state.withLock { $0.events } }
    public var isFinished: Bool { state.withLock { $0.output != nil } }

    /// Waits for the end.
    public func result() async -> Result<Output, any Error> {
        await withCheckedContinuation { c in
            let ready = state.withLock { s -> Result<Output, any Error>? in
                if let o = s.output { return o }
                s.waiters.append(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    public func value() async throws -> Output { try await result().get() }

    /// Asks the work to stop; `actor` is recorded as who stopped it.
    public func cancel(by actor: String) { cancellation.cancel(by: actor) }
}
