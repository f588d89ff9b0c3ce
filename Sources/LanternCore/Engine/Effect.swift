import Foundation

/// What one inbound text changes, typed: the store applies each mechanically, one function per
/// case, and never needs to ask the engine or the catalogue anything (the words coordinators
/// receive are rendered here, before the store sees them).
public enum Effect: Sendable, Equatable {
    case optOut
    case optIn
    /// Everything about her, gone at once.
    case erase
    /// Alerts for these area codes (`AreaCodes.everywhere` replaces all others).
    case subscribe([String])
    case unsubscribe([String])
    case unsubscribeAll
    case pause(until: Date)
    case resume
    case setLanguage(String)
    case setWording(Wording)
    case requestKit(KitOrder)
    /// Her open kit request, cancelled at her word (its address deleted).
    case cancelKit
    case relayReport(Report)
    case relayReportAnswer(ReportAnswer)
    /// A check-in timer (or a new due time for hers).
    case startCheckIn(CheckInStart)
    /// Where she is, for her buddies if she doesn't answer: sealed, deleted when it ends.
    case setCheckInPlace(String)
    /// She answered or stopped it: ended, its place deleted, anyone told who was asked.
    case endCheckIn(CheckInEnd, notices: [Notice])
    /// She asked for help while a check-in ran: her buddies and the on-call phone are asked at
    /// the timer's next tick (`CheckInInfo.Status.help`).
    case escalateCheckIn
    /// A buddy (or the on-call phone) checked on her: her check-in ends, she and the others are told.
    case checkedOn(owner: String, notices: [Notice])
    /// Asks a number to be her buddy (the store decides whether it may, see `BuddyAskResult`).
    case askBuddy(BuddyAsk)
    case removeBuddy(String)
    /// This person's YES or NO to being someone's buddy; whoever asked is told.
    case answerBuddyInvites(accept: Bool, notices: [Notice])
    /// Texts to other people and nothing else: a buddy who leaves (STOP, FORGET) has whoever
    /// relied on them told, so nobody counts on a buddy who will never hear.
    case tell([Notice])
    /// A TALK thread opens with this reference; the on-duty peers are told (`peerNotice`).
    case openTalk(ref: String, peerNotice: String)
    /// Her words on their way to the peer(s) of her open thread.
    case relayToPeer(TalkRelay)
    /// Her thread ends (BYE, STOP, FORGET); the peer(s) are told.
    case closeTalk(TalkClose)

    /// The flow action this effect carries out: for logs, metrics and tests.
    public var action: FlowAction {
        switch self {
        case .optOut: .optOut
        case .optIn: .optIn
        case .erase: .erase
        case .subscribe: .subscribe
        case .unsubscribe: .unsubscribe
        case .unsubscribeAll: .unsubscribeAll
        case .pause: .pause
        case .resume: .resume
        case .setLanguage: .setLanguage
        case .setWording(let w): w == .plain ? .plainWording : .discreetWording
        case .requestKit: .requestKit
        case .cancelKit: .cancelKit
        case .relayReport: .relayReport
        case .relayReportAnswer: .relayReportAnswer
        case .startCheckIn: .startCheckIn
        case .setCheckInPlace: .setCheckInPlace
        case .endCheckIn: .endCheckIn
        case .escalateCheckIn: .escalateCheckIn
        case .checkedOn: .checkedOn
        case .askBuddy: .askBuddy
        case .removeBuddy: .removeBuddy
        case .answerBuddyInvites: .answerBuddy
        case .tell: .tell
        case .openTalk: .openTalk
        case .relayToPeer: .relayToPeer
        case .closeTalk: .closeTalk
        }
    }

    /// Opting out and erasure go through every limit.
    public var isVital: Bool { self == .optOut || self == .erase }

    /// Effects no limit holds back: opting out, erasure, and an answer that ends a check-in.
    public var passesLimits: Bool {
        switch self {
        case .optOut, .erase, .endCheckIn, .escalateCheckIn, .checkedOn, .tell, .closeTalk: true
        default: false
        }
    }

    /// Texts this effect sends to people other than her.
    public var notices: [Notice] {
        switch self {
        case .endCheckIn(_, let n), .checkedOn(_, let n), .answerBuddyInvites(_, let n), .tell(let n): n
        default: []
        }
    }
}

/// A kit request as she made it: the reference she was given and what she chose. The address,
/// when there is one, is sealed by the store and deleted on dispatch.
public struct KitOrder: Sendable, Equatable {
    public let ref: String
    public let kind: String
    /// `post` or `pickup`.
    public let method: String
    public let pickup: String?
    public let address: String?

    public init(ref: String, kind: String, method: String, pickup: String? = nil, address: String? = nil) {
        self.ref = ref
        self.kind = kind
        self.method = method
        self.pickup = pickup
        self.address = address
    }
}

/// A bad-batch report on its way to the coordinators, kept nowhere: the store counts it per
/// area, keeps the reference, and passes `relayText` (their SMS) and the fields (the webhook) on.
public struct Report: Sendable, Equatable {
    public let ref: String
    /// Area codes, or `AreaCodes.unknown`.
    public let areas: [String]
    /// The areas in words, in the service's language (for the webhook).
    public let areaName: String
    public let happened: String
    public let when: String
    public let description: String
    /// The text on the coordinators' phones, rendered from the catalogue.
    public let relayText: String

    public init(ref: String, areas: [String], areaName: String, happened: String, when: String, description: String, relayText: String) {
        self.ref = ref
        self.areas = areas
        self.areaName = areaName
        self.happened = happened
        self.when = when
        self.description = description
        self.relayText = relayText
    }
}

/// Her answer to a coordinator's question about her report, passed back and kept nowhere.
public struct ReportAnswer: Sendable, Equatable {
    public let ref: String
    public let answer: String
    public let relayText: String

    public init(ref: String, answer: String, relayText: String) {
        self.ref = ref
        self.answer = answer
        self.relayText = relayText
    }
}

extension [Effect] {
    /// The reference a kit request or report in these effects hands out, which must be hers alone.
    public var newReference: (ref: String, kind: FlowAction)? {
        for effect in self {
            switch effect {
            case .requestKit(let order): return (order.ref, .requestKit)
            case .relayReport(let report): return (report.ref, .relayReport)
            default: continue
            }
        }
        return nil
    }
}
