import Foundation

/// Her TALK thread, while one is open: its reference, and whether a peer has answered yet.
public struct TalkInfo: Sendable, Equatable {
    public let ref: String
    /// A peer answered and took it: her texts now go to that peer only.
    public let taken: Bool

    public init(ref: String, taken: Bool) {
        self.ref = ref
        self.taken = taken
    }
}

/// Her words on their way to the on-duty peers' phones ("T-4KQ2MP: her words"), and what she is
/// told once if she reaches the day's limit.
public struct TalkRelay: Sendable, Equatable {
    public let ref: String
    public let text: String
    public let limitNotice: String

    public init(ref: String, text: String, limitNotice: String) {
        self.ref = ref
        self.text = text
        self.limitNotice = limitNotice
    }
}

/// A thread ending from her side (BYE, STOP, FORGET): the peer(s) are told in this text.
public struct TalkClose: Sendable, Equatable {
    public let ref: String
    public let peerNotice: String

    public init(ref: String, peerNotice: String) {
        self.ref = ref
        self.peerNotice = peerNotice
    }
}

/// When a peer is usually on duty (UK time), from `flows/service.yaml`'s `talk:`, so she is told
/// honestly when someone will answer.
public struct TalkHours: Sendable, Equatable {
    /// One day's duty, in minutes from midnight.
    public struct Shift: Sendable, Equatable {
        public let start: Int
        public let end: Int
        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }
    }

    /// "Usually within N hours", while someone is on duty.
    public var replyWithinHours: Int
    /// By weekday as `Calendar` numbers them (1 Sunday … 7 Saturday); a missing day is off.
    /// nil: someone is always on duty.
    public var shifts: [Int: Shift]?

    public init(replyWithinHours: Int = 24, shifts: [Int: Shift]? = nil) {
        self.replyWithinHours = replyWithinHours
        self.shifts = shifts
    }

    static var uk: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "Europe/London") ?? .gmt
        return c
    }

    public func isOnDuty(at date: Date) -> Bool {
        guard let shifts else { return true }
        let cal = Self.uk
        let parts = cal.dateComponents([.weekday, .hour, .minute], from: date)
        guard let day = parts.weekday, let shift = shifts[day] else { return false }
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        return minute >= shift.start && minute < shift.end
    }

    /// When the next shift starts, within a week; nil if nobody is ever on duty.
    public func nextOnDuty(after date: Date) -> Date? {
        guard let shifts, !shifts.isEmpty else { return nil }
        let cal = Self.uk
        let today = cal.startOfDay(for: date)
        for offset in 0...7 {
            guard let day = cal.date(byAdding: .day, value: offset, to: today),
                  let shift = shifts[cal.component(.weekday, from: day)],
                  let start = cal.date(byAdding: .minute, value: shift.start, to: day), start > date else { continue }
            return start
        }
        return nil
    }
}

/// Whether TALK can work at all here: peers on duty are configured.
public struct TalkPolicy: Sendable, Equatable {
    public var hasPeers: Bool
    public var hours: TalkHours

    public init(hasPeers: Bool = false, hours: TalkHours = TalkHours()) {
        self.hasPeers = hasPeers
        self.hours = hours
    }
}
