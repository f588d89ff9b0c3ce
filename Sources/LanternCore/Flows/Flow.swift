import Foundation

/// A conversation a coordinator can edit: what words start it, what it says, what it asks.
public struct Flow: Sendable {
    public let id: String
    public let keywords: [Keyword]
    /// Words that start this flow only while the person is opted out (e.g. YES to resume).
    public let optedOutKeywords: [Keyword]
    /// What the emergency recogniser must find for this flow to start, ahead of everything
    /// else (an overdose, a poisoned child, a crisis). Its replies are plain, never limited.
    public let intent: EmergencyIntent?
    /// Global flows win in every state, even in the middle of another conversation.
    public let isGlobal: Bool
    /// Whether the flow may run for someone who has opted out (START, FORGET, emergencies).
    public let runsWhenOptedOut: Bool
    public let start: String
    /// The state to enter when nothing else matched: the "short menu" everyone gets instead of silence.
    public let fallbackState: String?
    /// Words that jump straight into a state other than `start`.
    public let shortcuts: [Shortcut]
    public let states: [String: FlowState]
    /// How long an unanswered question stays open before the conversation resets.
    public let timeout: TimeInterval
    public let location: SourceLocation?

    public init(id: String, keywords: [Keyword] = [], optedOutKeywords: [Keyword] = [], intent: EmergencyIntent? = nil,
                isGlobal: Bool = false, runsWhenOptedOut: Bool = false, start: String, fallbackState: String? = nil,
                shortcuts: [Shortcut] = [], states: [FlowState], timeout: TimeInterval = 30 * 60,
                location: SourceLocation? = nil) {
        self.id = id
        self.keywords = keywords
        self.optedOutKeywords = optedOutKeywords
        self.intent = intent
        self.isGlobal = isGlobal
        self.runsWhenOptedOut = runsWhenOptedOut
        self.start = start
        self.fallbackState = fallbackState
        self.shortcuts = shortcuts
        self.states = Dictionary(states.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.timeout = timeout
        self.location = location
    }

    /// The same flow, answering to more words (a catalogue's aliases in its language).
    public func adding(keywords extra: [Keyword]) -> Flow {
        Flow(id: id, keywords: keywords + extra, optedOutKeywords: optedOutKeywords, intent: intent, isGlobal: isGlobal,
             runsWhenOptedOut: runsWhenOptedOut, start: start, fallbackState: fallbackState, shortcuts: shortcuts,
             states: Array(states.values), timeout: timeout, location: location)
    }

    public struct Shortcut: Sendable {
        public let keyword: Keyword
        public let state: String
        public init(keyword: Keyword, state: String) { self.keyword = keyword; self.state = state }
    }
}

/// A trigger word or phrase, kept in its normalised words so matching is cheap.
public struct Keyword: Sendable, Hashable {
    public let text: String
    public let words: [String]
    /// `whole`: the message must be exactly this (opt-out words, as carriers do).
    /// `start`: the message may go on after it ("naloxone please").
    public let match: Match
    public let location: SourceLocation?
    /// The language this word belongs to, for aliases a catalogue adds (POMOC is Polish HELP):
    /// the first word a new person uses can choose her language.
    public let locale: String?

    public enum Match: String, Sendable { case whole, start }

    public init(_ text: String, match: Match = .start, location: SourceLocation? = nil, locale: String? = nil) {
        self.text = text
        self.words = KeywordText.words(text)
        self.match = match
        self.location = location
        self.locale = locale
    }

    public static func == (a: Keyword, b: Keyword) -> Bool { a.words == b.words && a.match == b.match }
    public func hash(into h: inout Hasher) { h.combine(words); h.combine(match) }
}

/// One step of a flow. It may say things, perform actions, then either wait for an answer
/// (a numbered menu or a question) or move on / end.
public struct FlowState: Sendable {
    public let id: String
    public let say: [String]
    public let actions: [FlowAction]
    public let menu: [MenuOption]
    public let ask: Question?
    /// Where to go next without waiting, when there is no menu or question.
    public let next: String?
    /// Message for an answer we could not use; defaults to the library-wide one.
    public let invalid: String?
    /// Goes one way or another on something about the person (e.g. whether she gets alerts).
    public let check: Check?
    public let location: SourceLocation?

    public init(id: String, say: [String] = [], actions: [FlowAction] = [], menu: [MenuOption] = [],
                ask: Question? = nil, next: String? = nil, invalid: String? = nil, check: Check? = nil,
                location: SourceLocation? = nil) {
        self.id = id
        self.say = say
        self.actions = actions
        self.menu = menu
        self.ask = ask
        self.next = next
        self.invalid = invalid
        self.check = check
        self.location = location
    }

    public var waitsForAnswer: Bool { !menu.isEmpty || ask != nil }
}

public struct MenuOption: Sendable {
    /// Message key of the option's label, shown as "1 label".
    public let label: String
    public let target: Target
    /// Values saved when this option is chosen (e.g. `kind: spray`).
    public let set: [String: String]
    /// A follow-up answer (from the locales' `emergency: followup:`) that chooses this option
    /// as well as its number: "she woke up" for "They're breathing now".
    public let intent: String?
    public let location: SourceLocation?

    public enum Target: Sendable, Equatable {
        case state(String)
        case flow(String)
    }

    public init(label: String, target: Target, set: [String: String] = [:], intent: String? = nil, location: SourceLocation? = nil) {
        self.label = label
        self.target = target
        self.set = set
        self.intent = intent
        self.location = location
    }
}

/// A question that waits for a typed answer, validated before it is used.
public struct Question: Sendable {
    public let expect: AnswerKind
    /// Conversation variable the validated answer is kept in (never the raw text).
    public let save: String?
    /// Where to go with a valid answer, unless a branch names the answer (e.g. `yes:`/`no:`).
    public let next: String?
    public let branches: [String: String]
    public init(expect: AnswerKind, save: String?, next: String?, branches: [String: String] = [:]) {
        self.expect = expect
        self.save = save
        self.next = next
        self.branches = branches
    }

    public var targets: [String] { (next.map { [$0] } ?? []) + branches.values.sorted() }
}

/// A fork on something known about the person, decided without asking her.
public struct Check: Sendable {
    public enum Condition: String, Sendable, CaseIterable {
        /// She is subscribed to alerts for at least one area.
        case subscribed
        /// Her alerts are paused right now.
        case paused
        /// She has a kit request that is still open.
        case hasOpenKit = "has_open_kit"
        /// She has a kit request (open, or fulfilled recently).
        case hasKit = "has_kit"
        /// She has asked for as many kits as the service allows in its period.
        case kitLimitReached = "kit_limit_reached"
        /// The service has pickup points for the area she gave.
        case hasPickupPoints = "has_pickup_points"
        /// A report she made can still be answered by a coordinator.
        case hasLiveReport = "has_live_report"
        /// She was in the middle of asking for a kit.
        case makingKit = "making_kit"
        /// The service works in every area she gave (`areas`, or `area`).
        case areasCovered = "areas_covered"
        /// The service works where the address she gave is (by its postcode's district).
        case addressCovered = "address_covered"
        /// Someone would be told if a check-in went unanswered: a buddy who said yes, or the
        /// service's on-call phone.
        case canBeCheckedOn = "can_be_checked_on"
        /// She asked someone to be her buddy who has not said yes yet.
        case hasPendingBuddy = "has_pending_buddy"
        /// A buddy of hers said yes.
        case hasBuddy = "has_buddy"
        /// The service has an on-call phone for check-ins nobody answers.
        case hasOnCall = "has_on_call"
        /// In an emergency, she said there is no naloxone to hand (`naloxone: none`): no dose is offered.
        case noNaloxone = "no_naloxone"
        case hasBuddies = "has_buddies"
        /// She has as many buddies as one person may.
        case buddiesFull = "buddies_full"
        /// She said where she is (with the minutes, or after).
        case placeGiven = "place_given"
        /// She has a TALK thread open.
        case hasOpenTalk = "has_open_talk"
        /// The service has peers to talk to, and this number may start a thread.
        case canTalk = "can_talk"
        /// A peer is on duty now (service.yaml's `talk: on_duty:`).
        case peersOnDuty = "peers_on_duty"
        /// The service lists supplies (service.yaml's `supplies:`): KIT asks which.
        case hasSupplies = "has_supplies"
        /// Everything she chose (`kind`) can be posted / collected.
        case itemsCanPost = "items_can_post"
        case itemsCanCollect = "items_can_collect"
    }
    public let condition: Condition
    public let then: String
    public let otherwise: String
    public init(condition: Condition, then: String, otherwise: String) {
        self.condition = condition
        self.then = then
        self.otherwise = otherwise
    }
}

/// What kind of answer a question accepts. Only the validated, structured value is ever kept.
public enum AnswerKind: String, Sendable, CaseIterable {
    case yesNo = "yes_no"
    case postcodeDistrict = "postcode_district"
    case number
    /// One or more postcode districts or named areas, or "all": saved as area codes.
    case areas
    /// A number of hours from 1 to 168 (a week).
    case hours
    /// A postal address with a plausible full UK postcode. Kept only encrypted.
    case address
    /// Any words (e.g. what a bad batch looked like). Never kept: the flow must finish in the
    /// same message, and the words are only passed on.
    case text
    /// A number from the pickup points listed for the area she gave.
    case pickupPoint = "pickup_point"
    /// Like `areas`, or "don't know" / SKIP (saved as `unknown`): a report is worth passing on
    /// even when she cannot say the district.
    case areasOrUnknown = "areas_or_unknown"
    /// A number from the list of languages (`{languages}`), or a language's own name: saved as its tag.
    case language
    /// Minutes from 1 to 120 ("10", "10m", "10 mins"); words after them are where she is
    /// (saved as `place`, never kept beyond the check-in).
    case minutes
    /// A phone number (UK numbers without +44 too). Kept, sealed like every conversation,
    /// only until the question after it is answered.
    case phone
    /// The name someone knows her by (a first name or nickname: letters only, short), for the
    /// texts Lantern sends her buddy.
    case name
    /// Where she is, in her own words. Sealed with the check-in and deleted when it ends.
    case place
    /// A number from the list of her buddies (`{buddies}`).
    case buddy
    /// Numbers from the service's supplies list ("1 3"): saved as the kit queue shows them.
    case supplies

    /// Variables this kind of answer fills besides its own (`save:`).
    public var alsoSaves: [String] {
        switch self {
        case .minutes: ["place"]
        default: []
        }
    }

    /// Answers that are her own words (or a number), never kept in the conversation between texts.
    public var isFreeWords: Bool { [.text, .address, .place].contains(self) }

    /// Answers that may be any words at all: while one is awaited, keywords count only as the whole text.
    public var takesAnyWords: Bool { [.text, .address, .place].contains(self) }

    /// Answers read from her text as she typed it (case and punctuation kept), not as keywords.
    public var wantsTypedText: Bool { [.text, .address, .place, .phone, .name, .minutes].contains(self) }

    /// The variable a flow must save this kind of answer in for actions that use it.
    public var savesFor: [FlowAction] {
        switch self {
        case .areas: [.subscribe, .unsubscribe]
        case .hours: [.pause]
        case .language: [.setLanguage]
        case .minutes: [.startCheckIn]
        case .phone, .name: [.askBuddy]
        case .place: [.setCheckInPlace]
        case .buddy: [.removeBuddy]
        default: []
        }
    }
}

/// Something a flow does besides talking; carried out by the store in the same transaction.
public enum FlowAction: String, Sendable, CaseIterable, Codable {
    case optOut = "opt_out"
    case optIn = "opt_in"
    case erase
    /// Subscribe to alerts for the areas in the variable `areas` (after her explicit YES).
    case subscribe
    /// Stop alerts for the areas in `areas`.
    case unsubscribe
    /// Stop all alerts (she can still text the service).
    case unsubscribeAll = "unsubscribe_all"
    /// Pause alerts for the number of hours in `hours`.
    case pause
    /// End a pause now.
    case resume
    /// Record a naloxone kit request (kind, method, and pickup point or address); sets `ref`.
    case requestKit = "request_kit"
    /// Cancel her open kit request and delete its address.
    case cancelKit = "cancel_kit"
    /// Pass a bad-batch report to the coordinators at once, without keeping it; sets `ref`.
    case relayReport = "relay_report"
    /// Pass her answer to a coordinator's question about her report back to the coordinators
    /// (uses `ref`, `answer` and `relay_text`; keeps none of it).
    case relayReportAnswer = "relay_report_answer"
    /// Answer in the language in `language` from now on (every reply and alert).
    case setLanguage = "set_language"
    /// Wording that names drugs, overdose and naloxone plainly, or discreetly (lock screens).
    case plainWording = "plain_wording"
    case discreetWording = "discreet_wording"
    /// Start (or move) her check-in timer by the minutes in `minutes`, with `place` if she gave it.
    case startCheckIn = "start_check_in"
    /// Keep where she is (`place`) with her running check-in.
    case setCheckInPlace = "set_check_in_place"
    /// Ask the number in `buddy` to be her buddy.
    case askBuddy = "ask_buddy"
    /// Remove the buddy in `buddy`.
    case removeBuddy = "remove_buddy"
    /// Not for flows: said of what check-in and buddy answers do, for logs and metrics.
    case endCheckIn = "end_check_in"
    case escalateCheckIn = "escalate_check_in"
    case checkedOn = "checked_on"
    case answerBuddy = "answer_buddy"
    case tell
    /// Open a TALK thread (sets `talk_ref`): her next texts go to the on-duty peers.
    case openTalk = "open_talk"
    /// Not for flows: her words relayed in an open thread, and the thread ending.
    case relayToPeer = "relay_to_peer"
    case closeTalk = "close_talk"

    /// Actions the engine takes itself, which no flow may name.
    public static let engineOnly: Set<FlowAction> = [.endCheckIn, .checkedOn, .answerBuddy, .tell, .relayToPeer, .closeTalk]

    /// The variables this action reads, which the flow must have saved before it.
    public var requiredVariables: [String] {
        switch self {
        case .subscribe, .unsubscribe: ["areas"]
        case .pause: ["hours"]
        case .requestKit: ["kind"]
        case .relayReport: ["area", "happened", "description"]
        case .setLanguage: ["language"]
        case .startCheckIn: ["minutes"]
        case .setCheckInPlace: ["place"]
        case .askBuddy, .removeBuddy: ["buddy"]
        default: []
        }
    }

    /// Variables the action makes available to the messages after it.
    public var providesVariables: [String] {
        switch self {
        case .requestKit, .relayReport: ["ref"]
        case .openTalk: ["talk_ref"]
        default: []
        }
    }
}
