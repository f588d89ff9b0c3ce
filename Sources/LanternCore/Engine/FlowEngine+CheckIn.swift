import Foundation

/// How check-ins run for this service: whether there is an on-call phone to tell, and how long
/// she has to answer "Are you OK?".
public struct SpotPolicy: Sendable, Equatable {
    public var hasOnCall: Bool
    public var graceMinutes: Int
    /// The longest check-in she may ask for.
    public static let maxMinutes = 120

    public init(hasOnCall: Bool = false, graceMinutes: Int = 3) {
        self.hasOnCall = hasOnCall
        self.graceMinutes = graceMinutes
    }
}

/// Check-ins and buddies: her answers while a timer runs, a buddy's OK, and YES or NO to being
/// someone's buddy. Everything here is decided from what the store loaded about her; the texts
/// to other people are rendered here, in their language and wording, as notices.
extension FlowEngine {

    /// What a text means for a check-in, ahead of flows: nil when it means nothing for one.
    func checkInTurn(_ words: [String], text: String, typed: TypedWords, contact: ContactContext,
                     conversation: ConversationState?, now: Date) -> EngineOutcome? {
        // Someone asked to check on a friend says she is safe: it ends, and she is told.
        if !contact.watching.isEmpty, isReassurance(words) {
            var outcome = checkedOn(contact)
            // A buddy who is checking in herself, and was just asked: her OK answers that too.
            if let own = contact.checkIn, own.status != .running {
                let mine = answered(own, contact: contact, conversation: conversation)
                outcome.effects += mine.effects
                outcome.replies += mine.replies
            }
            return outcome
        }
        guard let checkIn = contact.checkIn else { return nil }
        // "SPOT 20", "MORE 20": a new due time (her buddies, if told, hear she answered).
        if let moved = extend(words, text: text, checkIn: checkIn, contact: contact, now: now) {
            return moved
        }
        switch checkIn.status {
        case .running:
            // Done early.
            guard isOK(words) else { return nil }
            return ended(checkIn, replyKey: FlowLibrary.spotStoppedKey, contact: contact, conversation: conversation)
        case .due, .escalated, .reminded:
            // Any text from her means she is awake: it ends. A keyword in it is answered too.
            var outcome = answered(checkIn, contact: contact, conversation: conversation)
            if !isOK(words), let hit = bestKeyword(typed, in: .global) ?? bestKeyword(typed, in: .local) {
                var after = contact
                after.checkIn = nil
                let then = start(hit, words: words, text: text, contact: after, now: now)
                outcome.replies += then.replies
                outcome.effects += then.effects
                outcome.conversation = then.conversation
                outcome.variables = then.variables
                outcome.decision = then.decision
            }
            return outcome
        }
    }

    /// Whether the words are an "I'm OK" in any language ("ok", "im fine", "safe", "tak").
    func isOK(_ words: [String]) -> Bool {
        guard !words.isEmpty, words.count <= 4 else { return false }
        let whole = words.joined(separator: " ")
        return library.answers.ok.contains(whole) || (words.count <= 2 && library.answers.ok.contains(words[0]))
    }

    /// A buddy's word that she is safe, however it is put ("found her, she's ok now"), never
    /// turned round ("she's not ok": the emergency steps answer "not breathing" before this).
    func isReassurance(_ words: [String]) -> Bool {
        if isOK(words) { return true }
        guard words.count <= 12 else { return false }
        return words.contains { library.answers.okWords.contains($0) } && !words.contains { library.answers.negation.contains($0) }
    }

    /// Her answer after "Are you OK?": glad, and her buddies told if they were asked.
    func answered(_ checkIn: CheckInInfo, contact: ContactContext, conversation: ConversationState?) -> EngineOutcome {
        ended(checkIn, replyKey: checkIn.hasEscalated ? FlowLibrary.spotGladToldKey : FlowLibrary.spotGladKey,
              contact: contact, conversation: conversation)
    }

    /// Her check-in ends at her word: buddies who were told hear that she answered.
    func ended(_ checkIn: CheckInInfo, replyKey: String, contact: ContactContext, conversation: ConversationState?) -> EngineOutcome {
        let told = checkIn.hasEscalated ? checkIn.watchers.map { notice(FlowLibrary.spotWatchOwnerOKKey, to: $0) } : []
        // A question about this check-in (where she is) ends with it; any other stays open.
        return EngineOutcome(replies: [notice(replyKey, to: contact)], effects: [.endCheckIn(.ok, notices: told)],
                             conversation: conversation?.flow == FlowLibrary.spotFlow ? nil : conversation, decision: .answer(flow: FlowLibrary.spotFlow, state: checkIn.status.rawValue))
    }

    /// "MORE 20" or the SPOT keyword with minutes while a check-in runs: the spot flow takes the minutes.
    func extend(_ words: [String], text: String, checkIn: CheckInInfo, contact: ContactContext, now: Date) -> EngineOutcome? {
        guard words.count >= 2, let flow = library.flow(FlowLibrary.spotFlow),
              let ask = flow.states.values.first(where: { $0.ask?.expect == .minutes }) else { return nil }
        let keywordWords: Int
        if FlowLibrary.spotMoreWords.contains(words[0]) {
            keywordWords = 1
        } else if let hit = bestKeyword(TypedWords(words), in: .local), hit.flow.id == flow.id, hit.distance == 0 {
            keywordWords = hit.keyword.words.count
        } else {
            return nil
        }
        let rest = Array(words.dropFirst(keywordWords))
        guard validate(rest, text: "", as: .minutes) != nil else { return nil }
        var fresh = contact
        fresh.checkIn = nil
        guard var outcome = answer(rest, text: Self.typedRest(text, droppingWords: keywordWords), flow: flow, state: ask,
                                   vars: [:], contact: fresh, now: now) else { return nil }
        if checkIn.hasEscalated {
            outcome.effects.insert(.endCheckIn(.ok, notices: checkIn.watchers.map { notice(FlowLibrary.spotWatchOwnerOKKey, to: $0) }), at: 0)
        }
        return outcome
    }

    /// A buddy's (or the on-call phone's) OK: each check-in they were asked about ends.
    func checkedOn(_ contact: ContactContext) -> EngineOutcome {
        let effects = contact.watching.map { watched in
            Effect.checkedOn(owner: watched.owner.key,
                             notices: [notice(FlowLibrary.spotOwnerCheckedOnKey, to: watched.owner)]
                                + watched.others.map { notice(FlowLibrary.spotWatchSomeoneElseKey, to: $0) })
        }
        return EngineOutcome(replies: [notice(FlowLibrary.spotWatchThanksKey, to: contact)], effects: effects, conversation: nil,
                             decision: .answer(flow: FlowLibrary.spotFlow, state: "watching"))
    }

    /// YES or NO from someone asked to be a buddy: everyone who asked is told.
    func buddyInviteAnswer(_ words: [String], text: String, contact: ContactContext, conversation: ConversationState?,
                           now: Date) -> EngineOutcome? {
        guard !contact.buddyInvites.isEmpty, let answer = validate(words, text: text, as: .yesNo) else { return nil }
        let accept = answer == "yes"
        let notices = contact.buddyInvites.map {
            notice(accept ? FlowLibrary.buddyOwnerAgreedKey : FlowLibrary.buddyOwnerDeclinedKey, to: $0.from, values: ["ending": $0.ending])
        }
        let key = accept ? FlowLibrary.buddyInviteAgreedKey : FlowLibrary.buddyInviteDeclinedKey
        return EngineOutcome(replies: [notice(key, to: contact)], effects: [.answerBuddyInvites(accept: accept, notices: notices)],
                             conversation: conversation, decision: .answer(flow: FlowLibrary.buddyFlow, state: "invited"))
    }

    /// Words for someone, in their language and wording.
    func notice(_ key: String, to party: Party, values: [String: String] = [:]) -> Notice {
        library.notice(key, to: party, values: values)
    }

    /// The same words as her reply.
    func notice(_ key: String, to contact: ContactContext, values: [String: String] = [:]) -> Reply {
        Reply(key: key, text: library.render(key, locale: contact.language, values: values, discreet: library.isDiscreet(contact)))
    }

    /// Her text after the first `n` words, as she typed it ("SPOT 10 Flat 2, 14 Park Rd" → "10 Flat 2, 14 Park Rd").
    static func typedRest(_ text: String, droppingWords n: Int) -> String {
        var rest = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        for _ in 0..<n {
            rest = rest.drop { !$0.isWhitespace }
            rest = rest.drop { $0.isWhitespace }
        }
        return String(rest)
    }

    /// "10", "10m", "10 mins", "10min": the minutes (1–120), and how many words they took.
    static func minutes(_ words: [String]) -> (minutes: Int, words: Int)? {
        // "in 10", "for 20 mins", "za 10 minut": a little word before the number is skipped.
        let skip = words.first.map { minuteFillers.contains($0) } == true ? 1 : 0
        guard let first = words.dropFirst(skip).first else { return nil }
        let digits = first.prefix { $0.isNumber }
        guard !digits.isEmpty, digits.count <= 4, let n = Int(digits) else { return nil }
        let attached = first.dropFirst(digits.count)
        let next = words.count > skip + 1 ? Substring(words[skip + 1]) : nil
        let unit = attached.isEmpty ? next.flatMap { unitScale($0) != nil ? $0 : nil } : attached
        guard let scale = unit.map(unitScale) ?? 1 else { return nil }
        let minutes = n * scale
        guard (1...SpotPolicy.maxMinutes).contains(minutes) else { return nil }
        return (minutes, skip + (attached.isEmpty && unit != nil ? 2 : 1))
    }

    static let minuteFillers: Set<String> = ["IN", "FOR", "AFTER", "ZA", "PO", "EN", "EM", "DUPA", "PESTE", "MEWN", "AM"]

    /// Minutes in one of a unit ("M", "MINS", "MINUT"…: 1; "H", "HR", "HOUR", "GODZ"…: 60), or nil.
    static func unitScale(_ word: Substring) -> Int? {
        if word == "M" || word.hasPrefix("MIN") { return 1 }
        if ["H", "HR", "HRS"].contains(word) || word.hasPrefix("HOUR") || word.hasPrefix("GODZ") || word.hasPrefix("HORA")
            || ["ORA", "ORE"].contains(word) || word.hasPrefix("AWR") { return 60 }
        return nil
    }

    /// Where she said she is, after the minutes: "10 flat 2, 14 Park Rd" → "flat 2, 14 Park Rd".
    static func place(afterMinutesIn text: String) -> String? {
        let words = KeywordText.words(text)
        guard let (_, used) = minutes(words) else { return nil }
        let rest = typedRest(text, droppingWords: used).trimmingCharacters(in: CharacterSet(charactersIn: " ,.-:;").union(.whitespacesAndNewlines))
        return rest.isEmpty ? nil : placeText(rest)
    }

    /// A place kept to what a text can carry.
    static func placeText(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        return FreeText.prefix(trimmed, scalars: 160, bytes: 480)
    }

    /// "07700 900456 Jo" → (+447700900456, "Jo"). A name is kept only if it looks like one: it
    /// goes to someone else's phone in our name, so it may not carry a link or a message.
    static func buddyNumber(_ text: String) -> (PhoneNumber, name: String?)? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let numberPart = trimmed.prefix { "+0123456789 -().".contains($0) }
        guard let number = PhoneNumber(String(numberPart).trimmingCharacters(in: .whitespaces)) else { return nil }
        let rest = trimmed.dropFirst(numberPart.count).trimmingCharacters(in: .whitespacesAndNewlines)
        let nameWords = rest.split(whereSeparator: \.isWhitespace)
        let looksLikeName = !rest.isEmpty && rest.count <= 24 && nameWords.count <= 3
            && rest.allSatisfy { $0.isLetter || $0 == " " || $0 == "-" || $0 == "'" }
        return (number, looksLikeName ? rest : nil)
    }

    /// Her buddies as a numbered list, last digits only.
    func buddyList(_ contact: ContactContext) -> String {
        let discreet = library.isDiscreet(contact)
        return contact.buddies.enumerated().map { i, b in
            let state = library.render(b.confirmed ? FlowLibrary.buddyAgreedKey : FlowLibrary.buddyWaitingKey, locale: contact.language,
                                       discreet: discreet)
            return "\(i + 1) ...\(b.ending) \(state)"
        }.joined(separator: "\n")
    }

    /// A time of day as she reads it in the UK ("21:40").
    static func ukClock(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/London") ?? .gmt
        let c = calendar.dateComponents([.hour, .minute], from: date)
        return String(format: "%02d:%02d", c.hour ?? 0, c.minute ?? 0)
    }

    /// The words for each way asking a number can go, in her language.
    func buddyAskReplies(ending: String, contact: ContactContext) -> [BuddyAskResult: Reply] {
        var out: [BuddyAskResult: Reply] = [:]
        for result in BuddyAskResult.allCases {
            let key = result == .asked ? BuddyAsk.replyKey : FlowLibrary.buddyResultPrefix + result.rawValue
            out[result] = notice(key, to: contact, values: ["ending": ending])
        }
        return out
    }
}

extension FlowLibrary {
    /// Words for someone other than the person texting (her buddy, her), in their language and wording.
    public func notice(_ key: String, to party: Party, values: [String: String] = [:]) -> Notice {
        var context = ContactContext(language: party.language)
        context.wording = party.wording
        return Notice(to: party.key, key: key, text: render(key, locale: party.language, values: values, discreet: isDiscreet(context)))
    }
}
