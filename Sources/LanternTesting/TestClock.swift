import Foundation
import Synchronization

/// A clock a test moves by hand, to drive timeouts and expiry without waiting.
public final class TestClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    public var now: Date { current.withLock { $0 } }

    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    /// For injection: `now: clock.nowFunction`.
    public var nowFunction: @Sendable () -> Date { { self.now } }
}
