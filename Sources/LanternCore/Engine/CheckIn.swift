import Foundation

/// Someone on the other side of a check-in (her, a buddy, the on-call phone): enough to speak
/// to them in their own language and wording. Never their number.
public struct Party: Sendable, Equatable {
    /// Their contact key (hex).
    public let key: String
    public let language: String
    public let wording: Wording?

    public init(key: String, language: String = defaultLocale, wording: Wording? = nil) {
        self.key = key
        self.language = language
        self.wording = wording
    }
}

/// A text to someone other than the person who texted in (her buddy, the person she watches
/// over), rendered by the engine in their language and queued with her reply.
public struct Notice: Sendable, Equatable {
    public let to: String
    public let key: String
    public let text: String

    public init(to: String, key: String, text: String) {
        self.to = to
        self.key = key
        self.text = text
    }
}

/// Her check-in timer, as the engine needs to know it.
public struct CheckInInfo: Sendable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Counting down to `dueAt`.
        case running
        /// "Are you OK?" went out: waiting for her answer until the grace window ends.
        case due
        /// She did not answer: her buddies (and the on-call phone) were asked to check on her.
        case escalated
        /// The buddies had one reminder; the last window before it ends.
        case reminded
        /// She asked for help (or her words were a danger sign): her buddies and the on-call
        /// phone are asked at the timer's next tick.
        case help
    }
    public let status: Status
    public let dueAt: Date
    /// Who was asked to check on her (empty until it escalates).
    public let watchers: [Party]
    /// The name her buddies know her by, if she gave one.
    public let name: String?

    public init(status: Status, dueAt: Date, watchers: [Party] = [], name: String? = nil) {
        self.status = status
        self.dueAt = dueAt
        self.watchers = watchers
        self.name = name
    }

    /// Her buddies were told: her answer now reassures them too.
    public var hasEscalated: Bool { status == .escalated || status == .reminded }
}

/// One of her buddies, as she may see them: the last digits, and whether they said yes.
public struct BuddyInfo: Sendable, Equatable {
    public let key: String
    /// "456": the last three digits, all she is shown.
    public let ending: String
    public let confirmed: Bool

    public init(key: String, ending: String, confirmed: Bool) {
        self.key = key
        self.ending = ending
        self.confirmed = confirmed
    }
}

/// Someone who asked this person to be their buddy and has not had an answer yet.
public struct BuddyInvite: Sendable, Equatable {
    public let from: Party
    /// The last three digits of the number that was asked (this person's), to tell her who answered.
    public let ending: String
    /// The name the asker gave for this person to know her by.
    public let name: String?

    public init(from: Party, ending: String, name: String? = nil) {
        self.from = from
        self.ending = ending
        self.name = name
    }
}

/// A check-in this person was asked to help with (they are a buddy or the on-call phone, and she
/// did not answer).
public struct WatchedCheckIn: Sendable, Equatable {
    public let owner: Party
    /// The other people asked with them: told when someone has checked on her.
    public let others: [Party]
    /// The name this person knows her by, if she gave one.
    public let ownerName: String?

    public init(owner: Party, others: [Party], ownerName: String? = nil) {
        self.owner = owner
        self.others = others
        self.ownerName = ownerName
    }
}

/// How asking a number to be her buddy went: the store decides (it knows the number's history),
/// the engine has words ready for each.
public enum BuddyAskResult: String, Sendable, CaseIterable {
    /// The invitation is queued to them.
    case asked
    /// They are her buddy already, or were asked and have not answered.
    case already
    /// She has as many buddies as one person may.
    case full
    /// She asked as many new numbers as she may this week.
    case weeklyLimit = "weekly_limit"
    /// That number said no or STOP before, or was asked today: never said which.
    case refused
    /// Her own number.
    case ownNumber = "own_number"
}

/// Her request that a number be her buddy: the number (normalised) and the words the buddy and
/// she get for each way it can go.
public struct BuddyAsk: Sendable, Equatable {
    public let number: PhoneNumber
    /// The neutral invitation, in her language.
    public let invitation: String
    /// Her reply for each result (the reply in the outcome is a placeholder for it).
    public let replies: [BuddyAskResult: Reply]
    /// The name the buddy knows her by: sealed with the link, for the texts they get.
    public let name: String

    public init(number: PhoneNumber, invitation: String, replies: [BuddyAskResult: Reply], name: String) {
        self.number = number
        self.invitation = invitation
        self.replies = replies
        self.name = name
    }

    /// The key of the reply the store swaps for the one matching what it did.
    public static let replyKey = "buddy.asked"
    /// Buddies one person may have.
    public static let maxPerPerson = 3
    /// New numbers one person may ask in a week.
    public static let newNumbersPerWeek = 3
}

/// A new check-in (or a new due time for the one running), and where she is if she said.
public struct CheckInStart: Sendable, Equatable {
    public let dueAt: Date
    /// Sealed by the store, deleted when the check-in ends.
    public let place: String?

    public init(dueAt: Date, place: String?) {
        self.dueAt = dueAt
        self.place = place
    }
}

/// How a check-in ended, for the counts coordinators see (never who).
public enum CheckInEnd: String, Sendable, CaseIterable {
    /// She answered (before or after it was due, or after her buddies were told).
    case ok = "ended_ok"
    /// A buddy or the on-call phone checked on her and said so.
    case answeredByBuddy = "answered_by_buddy"
    /// Nobody answered after the reminder: it stopped.
    case unanswered
    /// She stopped or erased, or it was replaced.
    case stopped
}
