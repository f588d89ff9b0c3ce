import Foundation
import LanternCore

/// Counts events per key in fixed one-minute windows. In memory only: a restart forgives
/// everyone, which errs on the side of answering.
struct RateWindow: Sendable {
    struct Count: Sendable {
        var start: Date
        var n: Int
    }
    let limit: Int
    let window: TimeInterval
    private var counts: [String: Count] = [:]
    private var lastPrune = Date.distantPast

    init(limit: Int, window: TimeInterval = 60) {
        self.limit = limit
        self.window = window
    }

    /// Records one event for `key` and returns how many there have been in its current window.
    mutating func record(_ key: String, now: Date) -> Int {
        prune(now: now)
        var c = counts[key] ?? Count(start: now, n: 0)
        if now.timeIntervalSince(c.start) >= window { c = Count(start: now, n: 0) }
        c.n += 1
        counts[key] = c
        return c.n
    }

    /// When `key`'s current window ends (for Retry-After).
    func resetsAt(_ key: String) -> Date? { counts[key].map { $0.start.addingTimeInterval(window) } }

    private mutating func prune(now: Date) {
        guard now.timeIntervalSince(lastPrune) >= window else { return }
        lastPrune = now
        counts = counts.filter { now.timeIntervalSince($0.value.start) < window }
    }
}

/// The inbound limits: per contact, and for the whole service.
actor InboundLimits {
    private var perContact: RateWindow
    private var global: RateWindow

    init(_ settings: LimitSettings) {
        perContact = RateWindow(limit: settings.messagesPerContactPerMinute)
        global = RateWindow(limit: settings.repliesPerMinute)
    }

    /// Nil when the text may be answered; otherwise the limit it hit and whether this is the
    /// first text over it (she is told once, then silence until the minute is up).
    func admit(contact: String, now: Date) -> (limit: InboundLimit, notify: Bool)? {
        let n = perContact.record(contact, now: now)
        if n > perContact.limit { return (.contactRate, n == perContact.limit + 1) }
        if global.record("", now: now) > global.limit { return (.globalRate, false) }
        return nil
    }
}

/// Admin API requests per token.
actor AdminRateLimit {
    private var window: RateWindow

    init(perMinute: Int) { window = RateWindow(limit: perMinute) }

    /// Nil when allowed; otherwise seconds until the token may call again.
    func admit(token: String, now: Date) -> Int? {
        guard window.record(token, now: now) > window.limit else { return nil }
        return max(1, Int((window.resetsAt(token) ?? now).timeIntervalSince(now).rounded(.up)))
    }
}
