import Foundation

/// What the engine needs to know about the person texting, and nothing more.
public struct ContactContext: Sendable, Equatable {
    public var isOptedOut: Bool
    public var language: String
    /// Area codes she gets alerts for.
    public var subscriptions: [String]
    public var alertsPausedUntil: Date?
    /// Her latest kit request, if any.
    public var kit: KitInfo?
    public var kitLimitReached: Bool
    /// A coordinator blocked this number for abuse: only opting out and erasure still work.
    public var isBlocked: Bool
    /// First text from this number (no record of her yet): her first keyword may pick her language.
    public var isNew: Bool
    /// How plainly she wants drugs, overdose and naloxone named; nil: the service's default.
    public var wording: Wording?
    /// She made a report whose reference is still live (a coordinator may answer it).
    public var hasLiveReport: Bool
    /// The flow she is in the middle of, if any (set by the engine from her conversation), so
    /// that STOP can say what it ended.
    public var activeFlow: String?
    /// An alert reached her in the last day or so: a text we don't understand is most likely
    /// about it ("thanks", "is it in the brown?").
    public var recentAlert: Bool = false
    /// A coordinator asked her something about this report of hers, and she has not answered yet.
    public var awaitingReportAnswer: String?
    /// Her check-in timer, while one runs.
    public var checkIn: CheckInInfo?
    /// The people she asked to be her buddy (agreed or not yet), in the order she asked.
    public var buddies: [BuddyInfo] = []
    /// People who asked this person to be their buddy, waiting for a YES or NO.
    public var buddyInvites: [BuddyInvite] = []
    /// People this person agreed to be a buddy for.
    public var buddyFor: [BuddyInvite] = []
    /// Check-ins this person was asked to help with, because she did not answer.
    public var watching: [WatchedCheckIn] = []
    /// Her TALK thread, while one is open.
    public var talk: TalkInfo?
    /// A peer closed and blocked a thread of hers: she may not start another for now.
    public var talkBlocked = false

    public init(isOptedOut: Bool = false, language: String = defaultLocale, subscriptions: [String] = [],
                alertsPausedUntil: Date? = nil, kit: KitInfo? = nil, kitLimitReached: Bool = false,
                isBlocked: Bool = false, isNew: Bool = false, wording: Wording? = nil, hasLiveReport: Bool = false) {
        self.hasLiveReport = hasLiveReport
        self.isBlocked = isBlocked
        self.isNew = isNew
        self.wording = wording
        self.isOptedOut = isOptedOut
        self.language = language
        self.subscriptions = subscriptions
        self.alertsPausedUntil = alertsPausedUntil
        self.kit = kit
        self.kitLimitReached = kitLimitReached
    }
}

/// Lock-screen discretion: `discreet` wording never names drugs, overdose or naloxone.
public enum Wording: String, Sendable, Equatable, Codable {
    case discreet, plain
}

/// A kit request as the person may hear about it: its reference and where it stands.
public struct KitInfo: Sendable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case open, sent, collected, cancelled, expired
    }
    public let ref: String
    public let status: Status
    public let method: String
    public init(ref: String, status: Status, method: String) {
        self.ref = ref
        self.status = status
        self.method = method
    }
}

/// Short codes a person or coordinator can read out: no 0/O or 1/I/L to confuse.
public enum ReferenceCode {
    static let alphabet = Array("23456789ABCDEFGHJKMNPQRSTVWXYZ")
    /// Six characters: 729 million codes, so two live ones rarely meet (and the store checks,
    /// drawing again if they do). Four were too few: two reporters were given the same one.
    public static let length = 6

    /// `prefix-XXXXXX` from `seed` (different `shift`s give independent codes).
    public static func make(prefix: String, seed: UInt64, shift: Int = 0) -> String {
        var v = seed >> UInt64(shift)
        var chars: [Character] = []
        for _ in 0..<length {
            chars.append(alphabet[Int(v % UInt64(alphabet.count))])
            v /= UInt64(alphabet.count)
        }
        return prefix + "-" + String(chars)
    }

    /// Normalises what someone typed ("r 3kd9", "R-3KD9") to the stored form, or nil.
    public static func parse(_ raw: String, prefix: String) -> String? {
        let compact = raw.uppercased().filter { $0.isLetter || $0.isNumber }
        // Four-character codes from before are still read until they expire.
        guard compact.hasPrefix(prefix), [4, length].contains(compact.count - prefix.count) else { return nil }
        let code = compact.dropFirst(prefix.count)
        guard code.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return prefix + "-" + code
    }
}

/// Where a person is in a conversation while Lantern waits for her answer.
/// Holds only flow and state names and validated values, never what she typed.
public struct ConversationState: Sendable, Codable, Equatable {
    public var flow: String
    public var state: String
    public var expiresAt: Date
    public var variables: [String: String]

    public init(flow: String, state: String, expiresAt: Date, variables: [String: String] = [:]) {
        self.flow = flow
        self.state = state
        self.expiresAt = expiresAt
        self.variables = variables
    }
}

/// One text to send back.
public struct Reply: Sendable, Equatable {
    /// The message key it was rendered from (the first, for a menu), for logs and tests.
    public let key: String
    public let text: String
    public init(key: String, text: String) { self.key = key; self.text = text }
}

/// Why the engine answered as it did: the structured outcome that may be logged and counted,
/// in place of the message itself.
public enum Decision: Sendable, Equatable, CustomStringConvertible {
    case emergency(flow: String)
    case keyword(flow: String, keyword: String)
    case answer(flow: String, state: String)
    case invalidAnswer(flow: String, state: String)
    case fallback(flow: String, timedOut: Bool)
    case ignoredWhileOptedOut
    /// Held back by an abuse or cost limit; only opt-out and erasure went through.
    case limited(InboundLimit)

    public var description: String {
        switch self {
        case .emergency(let f): "emergency flow=\(f)"
        case .keyword(let f, let k): "keyword \(k) flow=\(f)"
        case .answer(let f, let s): "answer flow=\(f) state=\(s)"
        case .invalidAnswer(let f, let s): "invalid answer flow=\(f) state=\(s)"
        case .fallback(let f, let t): "unrecognised\(t ? " after timeout" : "") flow=\(f)"
        case .ignoredWhileOptedOut: "ignored: opted out"
        case .limited(let l): "limited: \(l.rawValue)"
        }
    }

    /// A low-cardinality label for metrics.
    public var kind: String {
        switch self {
        case .emergency: "emergency"
        case .keyword: "keyword"
        case .answer: "answer"
        case .invalidAnswer: "invalid_answer"
        case .fallback: "fallback"
        case .ignoredWhileOptedOut: "ignored_opted_out"
        case .limited: "limited"
        }
    }
}

/// Everything one inbound text leads to. Applied by the store in one transaction.
public struct EngineOutcome: Sendable, Equatable {
    public var replies: [Reply]
    /// What changes, in order (an opt-out or erasure is applied before anything is queued).
    public var effects: [Effect]
    /// The conversation to keep, or nil when it ended (or never started).
    public var conversation: ConversationState?
    public var decision: Decision
    /// The flow's validated values when it stopped (what she chose, the reference she was
    /// given): what the engine decided on, for tests and reprompts. The store reads none of it.
    public var variables: [String: String]
    /// Emergency or crisis words: nothing may hold them back (limits, pauses, opt-out, a queue
    /// of alerts), and they go out before anything else waiting.
    public var isUrgent: Bool = false
    /// When the replies may go out: nil for at once. The service-wide limit sets it when this
    /// minute's budget is spent, so a reply waits instead of being lost.
    public var notBefore: Date?

    public init(replies: [Reply], effects: [Effect], conversation: ConversationState?, decision: Decision,
                variables: [String: String] = [:]) {
        self.replies = replies
        self.effects = effects
        self.conversation = conversation
        self.decision = decision
        self.variables = variables
    }

    /// The kinds of effect, in order: what logs and metrics may say of them.
    public var actions: [FlowAction] { effects.map(\.action) }

    /// Whether this outcome erases her.
    public var erases: Bool { effects.contains(.erase) }
}

extension EngineOutcome {
    /// Every reply within the three-segment ceiling once its placeholders are filled (a long
    /// list of areas, an echoed address): cut at a word, marked "...". Urgent steps are never cut.
    public func clippedToSegmentCeiling() -> EngineOutcome {
        guard !isUrgent else { return self }
        var out = self
        out.replies = replies.map { Reply(key: $0.key, text: SMSSegments.clip($0.text, toSegments: MessageTemplate.segmentCeiling)) }
        return out
    }
}

/// Free words she typed, kept short by what they weigh, not by what a screen shows.
enum FreeText {
    static func prefix(_ text: String, scalars: Int, bytes: Int) -> String {
        var out = String.UnicodeScalarView()
        var used = 0
        for s in text.unicodeScalars.prefix(scalars) {
            let size = String(s).utf8.count
            guard used + size <= bytes else { break }
            used += size
            out.append(s)
        }
        return String(out)
    }
}

/// What Lantern reads of an inbound text.
public enum InboundText {
    /// The first `FlowEngine.maxInboundCharacters` characters (counted as Unicode scalars, so
    /// piled-up combining marks count too).
    public static func capped(_ text: String) -> String {
        guard text.utf8.count > FlowEngine.maxInboundCharacters else { return text }   // cheap and common
        return FreeText.prefix(text, scalars: FlowEngine.maxInboundCharacters, bytes: 4 * FlowEngine.maxInboundCharacters)
    }
}

/// The limits that keep one person, a runaway loop or an SMS-pumping attack from costing the
/// service its credit. Opting out and erasing always get through them.
public enum InboundLimit: String, Sendable, Equatable, CaseIterable {
    /// She sent more than the per-minute allowance; she hears once that replies will resume.
    case contactRate = "contact_rate"
    /// The whole service is over its replies-per-minute cap.
    case globalRate = "global_rate"
    /// A coordinator blocked the number.
    case blocked
}

extension EngineOutcome {
    /// What is left of this outcome under a limit: opting out and erasure (with their
    /// confirmations) still happen; everything else is dropped, and the conversation stays as
    /// it was. `notice` is said instead when nothing else is.
    ///
    /// Emergency and crisis replies are never limited: an abuser can only make Lantern send
    /// first-aid steps, while a limit could cost a life. Nor is an answer that ends a check-in
    /// (hers, or a buddy's OK): held back, it would send her buddies running for nothing.
    /// `vitalReplies`: whether an opt-out's or erasure's own confirmation may still be sent (the
    /// action always happens; its answer is rationed like any other).
    public func limited(by limit: InboundLimit, keeping conversation: ConversationState?, notice: Reply?,
                        vitalReplies: Bool = true) -> EngineOutcome {
        if isUrgent { return self }
        let vital = effects.filter(\.passesLimits)
        if !vital.isEmpty {
            return EngineOutcome(replies: limit == .blocked || !vitalReplies ? [] : replies, effects: vital,
                                 conversation: vital.contains(.erase) ? nil : conversation,
                                 decision: decision, variables: variables)
        }
        return EngineOutcome(replies: notice.map { [$0] } ?? [], effects: [], conversation: conversation,
                             decision: .limited(limit))
    }
}

/// A delivery state a provider reports, in Lantern's terms.
public enum DeliveryState: String, Sendable, Equatable {
    case sent, delivered, failed

    /// Callbacks arrive out of order; a final state is never overwritten by an earlier one.
    public var rank: Int {
        switch self {
        case .sent: 1
        case .delivered, .failed: 2
        }
    }
}
