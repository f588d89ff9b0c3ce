import Foundation
import LanternCore
import Synchronization

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

    /// Events for `key` in its current window, without recording one.
    func count(_ key: String, now: Date) -> Int {
        guard let c = counts[key], now.timeIntervalSince(c.start) < window else { return 0 }
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

/// The per-contact inbound limit: texts per number per minute.
actor InboundLimits {
    private var perContact: RateWindow

    init(_ settings: LimitSettings) {
        perContact = RateWindow(limit: settings.messagesPerContactPerMinute)
    }

    /// Nil when the text may be answered; otherwise whether this is the first text over the
    /// limit (she is told once, then silence until the minute is up).
    func admit(contact: String, now: Date) -> (limit: InboundLimit, notify: Bool)? {
        let n = perContact.record(contact, now: now)
        if n > perContact.limit { return (.contactRate, n == perContact.limit + 1) }
        return nil
    }
}

/// A rate window that can be consulted from inside a store transaction (a lock, not an actor).
final class SharedRateWindow: Sendable {
    private let window: Mutex<RateWindow>
    init(limit: Int, window seconds: TimeInterval) { window = Mutex(RateWindow(limit: limit, window: seconds)) }

    /// Records one event for `key`; true while it is within the limit.
    func allow(_ key: String, now: Date) -> Bool {
        window.withLock { w in w.record(key, now: now) <= w.limit }
    }
}

/// The service-wide brake on replies, counted in SMS segments (what the provider bills), so a
/// few long replies cost as much of it as many short ones. Replies over the minute's budget are
/// not dropped: they are booked into the first later minute with room, up to `maxWait` ahead.
/// Booked inside the inbound transaction, hence a lock rather than an actor.
final class ReplyBudget: Sendable {
    private struct State {
        /// Segments booked per minute slot (seconds since 1970 / 60).
        var booked: [Int: Int] = [:]
    }
    let segmentsPerMinute: Int
    let maxWait: TimeInterval
    private let state = Mutex(State())

    init(segmentsPerMinute: Int, maxWait: TimeInterval) {
        self.segmentsPerMinute = segmentsPerMinute
        self.maxWait = maxWait
    }

    /// When replies of `segments` may go: `now` when this minute has room, the start of a later
    /// minute when it has not, nil when every minute up to `maxWait` ahead is full.
    func book(segments: Int, now: Date) -> Date? {
        let minute = Int((now.timeIntervalSince1970 / 60).rounded(.down))
        let slots = max(0, Int((maxWait / 60).rounded(.up)))
        return state.withLock { s -> Date? in
            s.booked = s.booked.filter { $0.key >= minute }
            for slot in minute...(minute + slots) {
                let used = s.booked[slot] ?? 0
                // A reply longer than a whole minute's budget still goes, alone in its minute.
                guard used + segments <= segmentsPerMinute || used == 0 else { continue }
                s.booked[slot] = used + segments
                return slot == minute ? now : Date(timeIntervalSince1970: Double(slot) * 60)
            }
            return nil
        }
    }
}

/// Failed admin logins per client address: after `limit` in a minute the address waits out the
/// minute, whatever it sends (so 3,000 guesses cost it 300 minutes, not 4 seconds).
actor AuthenticationFailures {
    private var window: RateWindow

    init(perMinute: Int = 10) { window = RateWindow(limit: perMinute) }

    /// Counts one failure; returns how many this minute.
    func record(_ address: String, now: Date) -> Int { window.record(address, now: now) }

    /// Seconds until `address` may try again, when it is over the limit.
    func blocked(_ address: String, now: Date) -> Int? {
        guard window.count(address, now: now) >= window.limit, let reset = window.resetsAt(address), reset > now else { return nil }
        return max(1, Int(reset.timeIntervalSince(now).rounded(.up)))
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
