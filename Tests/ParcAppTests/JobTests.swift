import Foundation
import Synchronization
import Testing
@testable import ParcApp
import ParcCore

@Suite struct JobTests {
    @Test func aFollowerWhoComesLateGetsEveryEventThenTheEnd() async throws {
        let job = Job<Int, String>()
        job.emit(1)
        job.emit(2)
        let early = job.events()
        job.emit(3)
        let late = job.events()
        job.finish(.success("done"))
        var seenEarly: [Int] = [], seenLate: [Int] = []
        for await e in early { seenEarly.append(e.event) }
        for await e in late { seenLate.append(e.event) }
        #expect(seenEarly == [1, 2, 3])
        #expect(seenLate == [1, 2, 3])
        #expect(try await job.value() == "done")
        // After the end: the whole history, and the stream ends at once.
        var after: [Int] = []
        for await e in job.events() { after.append(e.event) }
        #expect(after == [1, 2, 3])
    }

    @Test func eventsArriveWhileTheWorkGoesAndCancellationIsSeenByIt() async throws {
        let job = Job<Int, Int>()
        let gate = AsyncStream<Void>.makeStream()
        job.start { job in
            var n = 0
            for await _ in gate.stream {
                n += 1
                job.emit(n)
                if job.cancellation.isCancelled { break }
            }
            return n
        }
        let stream = job.events()
        var iterator = stream.makeAsyncIterator()
        gate.continuation.yield()
        #expect(await iterator.next()?.event == 1)
        gate.continuation.yield()
        #expect(await iterator.next()?.event == 2)
        job.cancel(by: "alice")
        #expect(job.cancellation.cancelledBy == "alice")
        gate.continuation.yield()
        #expect(await iterator.next()?.event == 3)
        #expect(await iterator.next() == nil, "the stream ends with the work")
        #expect(try await job.value() == 3)
    }

    @Test func aTapSeesEveryEventInOrderInTheEmittersContext() {
        let job = Job<Int, Void>()
        job.emit(1)
        let seen = Mutex<[Int]>([])
        job.tap { e in seen.withLock { $0.append(e.event) } }
        #expect(seen.withLock { $0 } == [1], "the history first")
        job.emit(2)
        job.emit(3)
        #expect(seen.withLock { $0 } == [1, 2, 3], "each new event before emit returns")
    }

    @Test func aFollowerThatFellBehindGetsAllItMissedAtOnceAndAnEmptyBatchAtTheEnd() async {
        let job = Job<Int, Void>()
        for i in 1...5 { job.emit(i) }
        #expect(await job.events(after: 0).map(\.event) == [1, 2, 3, 4, 5])
        #expect(await job.events(after: 3).map(\.event) == [4, 5])
        async let waiting = job.events(after: 5)
        try? await Task.sleep(for: .milliseconds(50))
        job.emit(6)
        #expect(await waiting.map(\.event) == [6], "a waiting follower wakes with the new event")
        async let ended = job.events(after: 6)
        try? await Task.sleep(for: .milliseconds(50))
        job.finish(.success(()))
        #expect(await ended.isEmpty, "the end")
    }
}
