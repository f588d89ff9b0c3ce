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

    /// What her words say to a check-in. Only a clear OK ends one; where Lantern cannot tell,
    /// it acts as if she might be in danger.
    enum CheckInAnswer: Equatable {
        /// "ok", "im fine", "safe": with no "not" and no word of trouble.
        case ok
        /// "done", "spot off": ending the timer early.
        case done
        /// "help", "not ok", "no", a danger sign: her buddies are asked at once.
        case danger
        /// Anything else.
        case unclear
    }

    func checkInAnswer(_ words: [String], recognition: EmergencyRecognition) -> CheckInAnswer {
        let answers = library.answers
        if recognition.isEmergency || recognition.maybe || AnswerVocabulary.contains(answers.help, in: words) { return .danger }
        let negated = words.contains { answers.negation.contains($0) }
        let okish = isOK(words) || words.contains { answers.okWords.contains($0) }
        // "not ok", "nie ok", "no": to "Are you OK?" that is a no.
        if negated && okish { return .danger }
        if words.count == 1 && answers.no.contains(words[0]) { return .danger }
        if negated { return .unclear }
        if answers.done.contains(words.joined(separator: " ")) { return .done }
        return isOK(words) ? .ok : .unclear
    }

    /// What a text means for a check-in, ahead of flows: nil when it means nothing for one.
    func checkInTurn(_ words: [String], text: String, typed: TypedWords, contact: ContactContext,
                     conversation: ConversationState?, now: Date, recognition: EmergencyRecognition) -> EngineOutcome? {
        // Someone asked to check on a friend: she is safe, they can't go, or who is this.
        if let outcome = watcherTurn(words, contact: contact, conversation: conversation, recognition: recognition) {
            return outcome
        }
        guard let checkIn = contact.checkIn else { return nil }
        // "SPOT 20" (a new timer), "MORE 20" (20 more minutes on the time set).
        if let moved = extend(words, text: text, checkIn: checkIn, contact: contact, now: now) {
            return moved
        }
        let answer = checkInAnswer(words, recognition: recognition)
        if answer == .danger { return helpNow(checkIn, contact: contact, conversation: conversation) }
        switch checkIn.status {
        case .running:
            switch answer {
            case .done:
                return ended(checkIn, replyKey: FlowLibrary.spotStoppedKey, contact: contact, conversation: conversation)
            case .ok:
                // "ok", "ok thanks" to the confirmation: she read it. The timer keeps running.
                return EngineOutcome(replies: [notice(FlowLibrary.spotStillRunningKey, to: contact,
                                                      values: ["due_time": Self.ukClock(checkIn.dueAt)])],
                                     effects: [], conversation: conversation, decision: .answer(flow: FlowLibrary.spotFlow, state: "running"))
            case .danger, .unclear:
                return nil
            }
        case .due, .escalated, .reminded, .help:
            if answer == .ok || answer == .done { return answered(checkIn, contact: contact, conversation: conversation) }
            // Unclear: a keyword in it is answered, the grace keeps running, and once she is
            // asked again for a clear OK.
            let askedAgain = conversation?.flow == FlowLibrary.spotFlow && conversation?.state == Self.askedAgainState
            var outcome: EngineOutcome?
            if let hit = bestKeyword(typed, in: .global) ?? bestKeyword(typed, in: .local) {
                outcome = start(hit, words: words, text: text, contact: contact, now: now)
            }
            guard !askedAgain else { return outcome }
            var reply = outcome ?? EngineOutcome(replies: [], effects: [], conversation: nil,
                                                 decision: .answer(flow: FlowLibrary.spotFlow, state: checkIn.status.rawValue))
            reply.replies.append(notice(FlowLibrary.spotReplyOKKey, to: contact))
            if reply.conversation == nil {
                reply.conversation = ConversationState(flow: FlowLibrary.spotFlow, state: Self.askedAgainState,
                                                       expiresAt: now.addingTimeInterval(30 * 60))
            }
            return reply
        }
    }

    /// The conversation mark that she was asked once more for a clear OK (a state no flow has,
    /// so nothing answers it as a question).
    static let askedAgainState = "asked_again"

    /// Whether the words are an "I'm OK" in any language ("ok", "im fine", "safe", "tak").
    func isOK(_ words: [String]) -> Bool {
        guard !words.isEmpty, words.count <= 4 else { return false }
        let whole = words.joined(separator: " ")
        return library.answers.ok.contains(whole) || (words.count <= 2 && library.answers.ok.contains(words[0]))
    }

    /// A buddy's word that she is safe, however it is put ("found her, she's ok now"), never
    /// turned round ("she's not ok": the emergency steps answer "not breathing" before this).
    func isReassurance(_ words: [String]) -> Bool {
        // "ok on my way" is a buddy going to her, not one who has found her safe.
        if AnswerVocabulary.contains(library.answers.coming, in: words) { return false }
        if isOK(words) && !words.contains(where: { library.answers.negation.contains($0) }) { return true }
        guard words.count <= 12 else { return false }
        return words.contains { library.answers.okWords.contains($0) } && !words.contains { library.answers.negation.contains($0) }
            && !AnswerVocabulary.contains(library.answers.help, in: words)
    }

    /// Her words asked for help (or were a danger sign) while a check-in ran: her buddies and
    /// the on-call phone are asked at once, and she is told to call 999.
    func helpNow(_ checkIn: CheckInInfo, contact: ContactContext, conversation: ConversationState?) -> EngineOutcome {
        let key = contact.buddies.contains(where: \.confirmed) ? FlowLibrary.spotHelpNowKey
            : spot.hasOnCall ? FlowLibrary.spotHelpNowOnCallKey : FlowLibrary.spotHelpNowAloneKey
        var outcome = EngineOutcome(replies: [notice(key, to: contact)], effects: [.escalateCheckIn],
                                    conversation: conversation?.flow == FlowLibrary.spotFlow ? nil : conversation,
                                    decision: .answer(flow: FlowLibrary.spotFlow, state: "help"))
        outcome.isUrgent = true
        return outcome
    }

    /// Her answer after "Are you OK?": glad, and her buddies told if they were asked.
    func answered(_ checkIn: CheckInInfo, contact: ContactContext, conversation: ConversationState?) -> EngineOutcome {
        // Only the on-call phones were told when none of those asked is her buddy.
        let toldBuddy = checkIn.watchers.contains { w in contact.buddies.contains { $0.key == w.key } }
        let key = !checkIn.hasEscalated ? FlowLibrary.spotGladKey : toldBuddy ? FlowLibrary.spotGladToldKey : FlowLibrary.spotGladToldOnCallKey
        return ended(checkIn, replyKey: key, contact: contact, conversation: conversation)
    }

    /// Her check-in ends at her word: buddies who were told hear that she answered.
    func ended(_ checkIn: CheckInInfo, replyKey: String, contact: ContactContext, conversation: ConversationState?) -> EngineOutcome {
        let told = checkIn.hasEscalated ? watcherNotices(FlowLibrary.spotWatchOwnerOKKey, checkIn) : []
        // A question about this check-in (where she is) ends with it; any other stays open.
        return EngineOutcome(replies: [notice(replyKey, to: contact)], effects: [.endCheckIn(.ok, notices: told)],
                             conversation: conversation?.flow == FlowLibrary.spotFlow ? nil : conversation, decision: .answer(flow: FlowLibrary.spotFlow, state: checkIn.status.rawValue))
    }

    /// The same words to each person asked to check on her, with the name they know her by.
    func watcherNotices(_ key: String, _ checkIn: CheckInInfo) -> [Notice] {
        checkIn.watchers.map { notice(key, to: $0, values: ["name": herName(checkIn.name, for: $0)]) }
    }

    /// The name someone knows her by, or words for her when she gave none.
    func herName(_ name: String?, for party: Party) -> String {
        herName(name, language: party.language)
    }

    func herName(_ name: String?, language: String) -> String {
        name ?? library.render(FlowLibrary.spotUnnamedKey, locale: language)
    }

    /// "MORE 20" adds minutes to the time already set (her place is kept); "SPOT 20" while a
    /// check-in runs starts it again from now. Buddies who were told hear she texted back.
    func extend(_ words: [String], text: String, checkIn: CheckInInfo, contact: ContactContext, now: Date) -> EngineOutcome? {
        guard words.count >= 2 else { return nil }
        let told = checkIn.hasEscalated ? [Effect.tell(watcherNotices(FlowLibrary.spotWatchOwnerAnsweredKey, checkIn))] : []
        if FlowLibrary.spotMoreWords.contains(words[0]) {
            guard let (minutes, _) = Self.minutes(Array(words.dropFirst())) else { return nil }
            let latest = now.addingTimeInterval(Double(SpotPolicy.maxMinutes) * 60)
            let due = min(max(checkIn.dueAt, now).addingTimeInterval(Double(minutes) * 60), latest)
            return EngineOutcome(replies: [notice(FlowLibrary.spotMoreKey, to: contact, values: ["due_time": Self.ukClock(due)])],
                                 effects: told + [.startCheckIn(CheckInStart(dueAt: due, place: nil))], conversation: nil,
                                 decision: .answer(flow: FlowLibrary.spotFlow, state: "more"))
        }
        guard let hit = bestKeyword(TypedWords(words), in: .local), hit.flow.id == FlowLibrary.spotFlow, hit.distance == 0,
              Self.minutes(Array(words.dropFirst(hit.keyword.words.count))) != nil else { return nil }
        var fresh = contact
        fresh.checkIn = nil
        var outcome = start(hit, words: words, text: text, contact: fresh, now: now)
        outcome.effects.insert(contentsOf: told, at: 0)
        return outcome
    }

    /// Someone asked to check on her: "she's ok" closes it, "who is this" is answered
    /// honestly, and "can't, at work" or NO tells her and everyone else asked at once.
    func watcherTurn(_ words: [String], contact: ContactContext, conversation: ConversationState?,
                     recognition: EmergencyRecognition) -> EngineOutcome? {
        let answers = library.answers
        if !contact.watching.isEmpty, !recognition.isEmergency, isReassurance(words) {
            var outcome = checkedOn(contact)
            // A buddy who is checking in herself, and was just asked: her OK answers that too.
            if let own = contact.checkIn, own.status != .running {
                let mine = answered(own, contact: contact, conversation: conversation)
                outcome.effects += mine.effects
                outcome.replies += mine.replies
            }
            return outcome
        }
        let whole = words.joined(separator: " ")
        if answers.who.contains(whole) {
            if let watched = contact.watching.first {
                return EngineOutcome(replies: [notice(FlowLibrary.spotWatchWhoKey, to: contact,
                                                      values: ["name": herName(watched.ownerName, for: watched.owner)])],
                                     effects: [], conversation: conversation, decision: .answer(flow: FlowLibrary.spotFlow, state: "who"))
            }
            if let asker = contact.buddyInvites.first ?? contact.buddyFor.first {
                return EngineOutcome(replies: [notice(FlowLibrary.buddyWhoKey, to: contact,
                                                      values: ["name": herName(asker.name, language: contact.language)])],
                                     effects: [], conversation: conversation, decision: .answer(flow: FlowLibrary.buddyFlow, state: "who"))
            }
            return nil
        }
        guard !contact.watching.isEmpty, !recognition.isEmergency else { return nil }
        let cannot = AnswerVocabulary.contains(answers.cannot, in: words)
            || (words.count <= 2 && words.first.map { answers.no.contains($0) } == true)
        guard cannot else { return nil }
        var notices: [Notice] = []
        for watched in contact.watching {
            notices.append(notice(FlowLibrary.spotBuddyCantKey, to: watched.owner))
            notices += watched.others.map {
                notice(FlowLibrary.spotWatchOtherCantKey, to: $0, values: ["name": herName(watched.ownerName, for: $0)])
            }
        }
        let name = herName(contact.watching.first?.ownerName, language: contact.language)
        return EngineOutcome(replies: [notice(FlowLibrary.spotWatchCantThanksKey, to: contact, values: ["name": name])],
                             effects: [.tell(notices)], conversation: conversation,
                             decision: .answer(flow: FlowLibrary.spotFlow, state: "cannot"))
    }

    /// A buddy's (or the on-call phone's) OK: each check-in they were asked about ends.
    func checkedOn(_ contact: ContactContext) -> EngineOutcome {
        let effects = contact.watching.map { watched in
            // Her buddy, or the service's on-call phone (which is nobody's buddy of hers).
            let isBuddy = contact.buddyFor.contains { $0.from.key == watched.owner.key }
            return Effect.checkedOn(owner: watched.owner.key,
                             notices: [notice(isBuddy ? FlowLibrary.spotOwnerCheckedOnKey : FlowLibrary.spotOwnerCheckedOnByOnCallKey,
                                              to: watched.owner)]
                                + watched.others.map {
                                    notice(FlowLibrary.spotWatchSomeoneElseKey, to: $0, values: ["name": herName(watched.ownerName, for: $0)])
                                })
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

    /// "07700 900456" → +447700900456 (words after the number are ignored: her name is asked
    /// for on its own, so nobody has to guess whose name it is).
    static func buddyNumber(_ text: String) -> (PhoneNumber, name: String?)? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let numberPart = trimmed.prefix { "+0123456789 -().".contains($0) }
        guard let number = PhoneNumber(String(numberPart).trimmingCharacters(in: .whitespaces)) else { return nil }
        return (number, nil)
    }

    /// A name as someone knows her: letters (any script), spaces, hyphens and apostrophes, at
    /// most three words and 24 characters. It goes to someone else's phone in our name, so it
    /// may not carry a link, a number or a message.
    static func personName(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ".!")))
        let words = trimmed.split(whereSeparator: \.isWhitespace)
        guard !trimmed.isEmpty, trimmed.count <= 24, words.count <= 3,
              trimmed.allSatisfy({ $0.isLetter || $0 == " " || $0 == "-" || $0 == "'" }) else { return nil }
        return words.joined(separator: " ")
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
        let text = render(key, locale: party.language, values: values, discreet: isDiscreet(context))
        // A name standing first may be the words for her when she gave none ("the person who…").
        return Notice(to: party.key, key: key, text: text.prefix(1).uppercased() + text.dropFirst())
    }
}
