import Foundation

/// Where a text goes out: a provider and the number it is sent from. Carriers limit each
/// sending number, and accounts differ per provider, so each route is paced on its own.
public struct SendRoute: Hashable, Sendable, CustomStringConvertible {
    public let provider: String
    /// Our number it is sent from; nil for the provider's configured default.
    public let sender: String?

    public init(provider: String, sender: String?) {
        self.provider = provider
        self.sender = sender
    }

    /// As the outbox query names it.
    public var description: String { provider + "|" + (sender ?? "") }
}

/// Keeps each route's sends within its provider's rate, counted in segments (a 3-segment text
/// costs 3): one token bucket per route, which may go into debt for a long message and is paid
/// back before that route sends again. Other routes are not held up meanwhile.
public actor SendPacer {
    /// Segments per second for each provider's numbers; 0 means unlimited.
    public let defaultRate: Double
    public let rates: [String: Double]

    struct Bucket {
        var tokens: Double
        var last: ContinuousClock.Instant
    }
    private var buckets: [SendRoute: Bucket] = [:]
    private let clock = ContinuousClock()

    /// `rates`: per provider, where it differs from `rate`.
    public init(rate: Double, rates: [String: Double] = [:]) {
        self.defaultRate = rate
        self.rates = rates
    }

    public func rate(for provider: String) -> Double { rates[provider] ?? defaultRate }

    private func refilled(_ route: SendRoute) -> Bucket {
        let now = clock.now
        let rate = rate(for: route.provider)
        var b = buckets[route] ?? Bucket(tokens: max(1, rate), last: now)
        b.tokens = min(max(1, rate), b.tokens + b.last.duration(to: now).seconds * rate)
        b.last = now
        buckets[route] = b
        return b
    }

    /// Routes that may not send now (still paying back), so they are not claimed.
    public func resting() -> Set<SendRoute> {
        Set(buckets.keys.filter { rate(for: $0.provider) > 0 && refilled($0).tokens < 1 })
    }

    /// Takes the cost of one text from its route: true if it may go now.
    public func take(_ route: SendRoute, segments: Int) -> Bool {
        guard rate(for: route.provider) > 0 else { return true }
        var b = refilled(route)
        guard b.tokens >= 1 else { return false }
        b.tokens -= Double(segments)
        buckets[route] = b
        return true
    }

    /// How long until `route` may send again (zero if it may now).
    public func wait(for route: SendRoute) -> Duration {
        let rate = rate(for: route.provider)
        guard rate > 0 else { return .zero }
        let b = refilled(route)
        return b.tokens >= 1 ? .zero : .milliseconds(Int(((1 - b.tokens) / rate * 1000).rounded(.up)))
    }

    /// Every route that has sent is paying back: claiming now could only find texts for routes
    /// that have never sent (and a claim that skips resting routes walks their whole backlog).
    public func allResting() -> Bool {
        let known = buckets.keys.filter { rate(for: $0.provider) > 0 }
        return !known.isEmpty && known.allSatisfy { refilled($0).tokens < 1 }
    }

    /// How many texts to claim now: what the routes that have sent may send between them (at
    /// least one, for a route that has not sent yet), at most `limit`. Claiming more only puts
    /// texts back, and every put-back is a write the inbound path waits behind.
    public func allowance(upTo limit: Int) -> Int {
        let known = buckets.keys.filter { rate(for: $0.provider) > 0 }
        guard !known.isEmpty else { return limit }
        let total = known.reduce(0) { $0 + max(0, Int(refilled($1).tokens)) }
        return max(1, min(limit, total))
    }

    /// The soonest any resting route may send again; nil if none is resting.
    public func soonestReady() -> Duration? {
        resting().map { wait(for: $0) }.min()
    }
}

extension Duration {
    /// In seconds, fractions included.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
