import Foundation

/// Keeps sends within the provider's rate, counted in segments (a 3-segment text costs 3).
/// A token bucket that may go into debt for a long message, paid back before the next send.
public actor SendPacer {
    /// Segments per second; 0 means unlimited.
    public let rate: Double
    let capacity: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant
    private let clock = ContinuousClock()

    public init(rate: Double) {
        self.rate = rate
        self.capacity = max(1, rate)
        self.tokens = max(1, rate)
        self.last = clock.now
    }

    private func refill() {
        let now = clock.now
        let elapsed = last.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(capacity, tokens + seconds * rate)
        last = now
    }

    /// Waits until at least one send is allowed, then returns how many (up to `limit`) may start now.
    public func reserve(upTo limit: Int) async throws -> Int {
        guard rate > 0 else { return limit }
        refill()
        while tokens < 1 {
            let wait = (1 - tokens) / rate
            try await Task.sleep(for: .milliseconds(Int((wait * 1000).rounded(.up))))
            refill()
        }
        return max(1, min(limit, Int(tokens)))
    }

    /// Records what was actually sent.
    public func consume(segments: Int) {
        guard rate > 0 else { return }
        refill()
        tokens -= Double(segments)
    }
}
