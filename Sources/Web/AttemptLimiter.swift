import Foundation
import Synchronization

/// Guesses of a password (sign-in, the password-change form) counted per account and per
/// address, *before* bcrypt runs: an attempt is reserved under a lock, so parallel guesses
/// count each other while they are checked and none slips between reading the count and
/// adding to it.
///
/// The database keeps the failures (across restarts and the command line's `parc user log`);
/// this keeps the attempts in progress and the failures this process saw, so the limit holds
/// even before a failure is written.
final class AttemptLimiter: Sendable {
    private struct State {
        var failures: [String: [Double]] = [:]
        var inFlight: [String: Int] = [:]
    }
    private let state = Mutex(State())
    let limit: Int
    let window: Double

    init(limit: Int, window: TimeInterval) {
        self.limit = limit
        self.window = window
    }

    /// Reserves one attempt under every key; nil when it may go on (``finish`` must follow),
    /// or the seconds to wait.
    /// - Parameter recorded: for each key, the failures the database holds within the window.
    func reserve(_ keys: [String], recorded: [[Double]], now: Double) -> Int? {
        state.withLock { s in
            if s.failures.count > 10_000 { s.failures = s.failures.compactMapValues { t in let kept = t.filter { $0 > now - window }; return kept.isEmpty ? nil : kept } }
            var wait: Double? = nil
            for (i, key) in keys.enumerated() {
                let seen = (s.failures[key] ?? []).filter { $0 > now - window }
                s.failures[key] = seen.isEmpty ? nil : seen
                let stored = i < recorded.count ? recorded[i].filter { $0 > now - window } : []
                let failures = stored.count >= seen.count ? stored : seen
                let busy = s.inFlight[key] ?? 0
                if failures.count + busy >= limit {
                    // Full of failures: until the oldest that counts leaves the window; full of
                    // attempts still being checked: a moment.
                    let until = failures.count >= limit ? failures[failures.count - limit] + window - now : 1
                    wait = max(wait ?? 0, until)
                }
            }
            if let wait { return max(1, Int(wait.rounded(.up))) }
            for key in keys { s.inFlight[key, default: 0] += 1 }
            return nil
        }
    }

    /// Ends an attempt reserved with ``reserve``; a failure counts against every key.
    func finish(_ keys: [String], failed: Bool, now: Double) {
        state.withLock { s in
            for key in keys {
                let left = (s.inFlight[key] ?? 1) - 1
                s.inFlight[key] = left > 0 ? left : nil
                if failed { s.failures[key, default: []].append(now) }
            }
        }
    }
}
