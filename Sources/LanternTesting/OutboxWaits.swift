import Foundation
import LanternStore

extension AppDatabase {
    /// Waits, bounded, until the outbox counts satisfy `condition`; false if time ran out.
    @discardableResult
    public func waitForOutbox(timeout: Duration = .seconds(10), _ condition: ([OutboxStatus: Int]) -> Bool) async throws -> Bool {
        let clock = ContinuousClock(), deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if condition(try await outboxCounts()) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition(try await outboxCounts())
    }

    /// Waits, bounded, until nothing is queued or being sent.
    @discardableResult
    public func waitUntilOutboxIdle(timeout: Duration = .seconds(10)) async throws -> Bool {
        try await waitForOutbox(timeout: timeout) { ($0[.queued] ?? 0) + ($0[.sending] ?? 0) == 0 }
    }
}
