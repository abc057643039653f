import Foundation
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
}
