import Foundation

/// The conversation state machine. Pure: given the library, what was typed, who typed it,
/// where she was and the time, it returns what to say and do. No I/O, no clock, no randomness.
public struct FlowEngine: Sendable {
    public let library: FlowLibrary
    /// Whether a reply to an alert is also passed to the coordinators, as a report they can
    /// answer (a service's choice: `LANTERN_RELAY_ALERT_REPLIES`).
    public let relayAlertReplies: Bool
    /// How check-ins run here (the on-call phone, the grace window), for what SPOT says.
    public let spot: SpotPolicy
    /// Whether there are peers to TALK to, and when they are on duty.
    public let talk: TalkPolicy
    /// This text's randomness (reference codes), given by the caller with the text.
    private(set) var seed: UInt64 = 0

    public init(library: FlowLibrary, relayAlertReplies: Bool = false, spot: SpotPolicy = SpotPolicy(), talk: TalkPolicy? = nil) {
        self.library = library
        self.relayAlertReplies = relayAlertReplies
        self.spot = spot
        self.talk = talk ?? TalkPolicy(hours: library.talkHours)
    }

    /// The postcode district of an address ("12 Example St, Bristol BS5 6AA" → BS5), if it has a full postcode.
    static func district(ofAddress address: String) -> String? {
        let words = KeywordText.words(address)
        for i in words.indices {
            if PostcodeDistrict.isFullPostcode(words[i]) { return PostcodeDistrict(words[i])?.code }
            if i + 1 < words.count, PostcodeDistrict.isFullPostcode(words[i] + words[i + 1]) { return PostcodeDistrict(words[i] + words[i + 1])?.code }
        }
        return nil
    }

    /// A time as she reads it in the UK, day and month first: "02/12 14:30" (no words, so it
    /// reads the same in every language).
    static func ukTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/London") ?? .gmt
        let c = calendar.dateComponents([.day, .month, .hour, .minute], from: date)
        return String(format: "%02d/%02d %02d:%02d", c.day ?? 0, c.month ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    /// Longest text looked at: SMS concatenation tops out near this, so anything longer is not
    /// a text someone typed, and reading it all would only cost time.
    public static let maxInboundCharacters = 1_600

    /// `seed`: randomness for the references this text may hand out (the caller draws it, and
    /// draws again if a reference turns out to be taken).
    public func handle(text: String, contact: ContactContext, conversation: ConversationState?, now: Date, seed: UInt64 = 0) -> EngineOutcome {
        var turn = self
        turn.seed = seed
        var outcome = turn.decide(text: InboundText.capped(text), contact: contact, conversation: conversation, now: now)
        // A buddy who leaves: whoever asked them hears, so nobody counts on someone who will never be told.
        if outcome.effects.contains(where: \.isVital), !contact.buddyInvites.isEmpty || !contact.buddyFor.isEmpty {
            let notices = contact.buddyInvites.map { notice(FlowLibrary.buddyOwnerDeclinedKey, to: $0.from, values: ["ending": $0.ending]) }
                + contact.buddyFor.map { notice(FlowLibrary.buddyOwnerLeftKey, to: $0.from, values: ["ending": $0.ending]) }
            outcome.effects.insert(.tell(notices), at: 0)
        }
        if let thread = contact.talk { turn.endingTalk(thread, outcome: &outcome, text: InboundText.capped(text), contact: contact) }
        return outcome.clippedToSegmentCeiling()
    }

    func decide(text: String, contact: ContactContext, conversation: ConversationState?, now: Date) -> EngineOutcome {
        let words = KeywordText.words(text)
        let typed = TypedWords(words)
        let active = conversation.flatMap { $0.expiresAt > now ? $0 : nil }
        var contact = contact
        contact.activeFlow = active?.flow
        let timedOut = conversation != nil && active == nil
        let waiting = active.flatMap { a in library.flow(a.flow).flatMap { f in f.states[a.state].map { (a, f, $0) } } }

        let recognition = library.recogniser.recognise(text)
        // 0. Mid-emergency, the follow-up she was offered comes first: "she woke up" and
        //    "still not breathing" answer it rather than start the steps again; an emergency
        //    that follow-up cannot answer ("my daughter drank my methadone" during an overdose)
        //    starts its own.
        if let (a, flow, state) = waiting, let current = flow.intent,
           !recognition.intents.contains(where: { !Self.followUp(of: current, answers: $0) }),
           let outcome = followUpAnswer(words, text: text, flow: flow, state: state, vars: a.variables, contact: contact, now: now) {
            return outcome
        }

        // 1. Someone may be dying, or she may be in danger: the recogniser runs on every text,
        //    before anything else, even for someone who opted out. An emergency is never taken
        //    as the answer to a question she was asked (a place, an address, a report).
        if recognition.isEmergency, var outcome = emergency(recognition, contact: contact, now: now) {
            // Her own check-in: whoever would be told if she didn't answer is told now.
            if contact.checkIn != nil, !contact.isOptedOut { outcome.effects.append(.escalateCheckIn) }
            return outcome
        }
        // 1a. "Will the police come if I call?": the honest answer, never the steps.
        if recognition.police, let flow = library.flow(FlowLibrary.policeFlow), !contact.isOptedOut || flow.runsWhenOptedOut {
            return run(flow, state: flow.start, vars: [:], contact: contact, now: now, decision: .keyword(flow: flow.id, keyword: "police"))
        }
        var outcome = everyday(words: words, text: text, typed: typed, contact: contact, active: active, waiting: waiting,
                               timedOut: timedOut, now: now, recognition: recognition)
        // 1b. A danger sign said less surely: the 999 line first, then whatever else she asked.
        if recognition.maybe {
            let key = FlowLibrary.emergencyMaybeKey
            outcome.replies.insert(Reply(key: key, text: library.render(key, locale: contact.language)), at: 0)
            outcome.isUrgent = true
        }
        return outcome
    }

    /// Everything after the recogniser: opt-out, check-ins, TALK, keywords, answers, the menu.
    func everyday(words: [String], text: String, typed: TypedWords, contact: ContactContext, active: ConversationState?,
                  waiting: (ConversationState, Flow, FlowState)?, timedOut: Bool, now: Date,
                  recognition: EmergencyRecognition) -> EngineOutcome {
        let freeText = waiting?.2.ask.map { $0.expect.takesAnyWords } ?? false
        if contact.isOptedOut {
            // Opt-out wins: only flows meant for opted-out people (START, FORGET) answer.
            if let hit = bestKeyword(typed, in: .optedOut) {
                return start(hit, words: words, text: text, contact: contact, now: now)
            }
            return EngineOutcome(replies: [], effects: [], conversation: nil, decision: .ignoredWhileOptedOut)
        }

        // 1b. A check-in: her answer to "Are you OK?", or a buddy saying she is safe.
        if let outcome = checkInTurn(words, text: text, typed: typed, contact: contact, conversation: active, now: now,
                                     recognition: recognition) {
            return outcome
        }

        // 1c. In an open TALK thread: BYE, and greetings that are for the peer.
        if let outcome = talkTurn(words, contact: contact, text: text, waiting: waiting != nil) {
            return outcome
        }

        // 2. A language's own name on its own ("POLSKI", "CYMRAEG") switches to it.
        if !freeText, let locale = library.selectedLanguage(words) {
            var chosen = contact
            chosen.language = locale
            let key = FlowLibrary.languageSetKey
            return EngineOutcome(replies: [Reply(key: key, text: library.render(key, locale: locale))], effects: [.setLanguage(locale)],
                                 conversation: nil, decision: .keyword(flow: "language", keyword: words.joined(separator: " ")),
                                 variables: ["language": locale])
        }
        // 3. Global keywords win in every state (in a TALK chat, only as the whole text: "help me,
        //    I'm scared" is for the peer).
        if let hit = bestKeyword(typed, in: .global, wholeOnly: freeText || contact.talk != nil) {
            return start(hit, words: words, text: text, contact: contact, now: now)
        }
        // 4. An answer to the question she was asked.
        if let (a, flow, state) = waiting {
            if let outcome = answer(words, text: text, flow: flow, state: state, vars: a.variables, contact: contact, now: now) {
                return outcome
            }
        }
        // 4b. Someone asked her to be their buddy: YES or NO is her answer.
        if let outcome = buddyInviteAnswer(words, text: text, contact: contact, conversation: active, now: now) {
            return outcome
        }
        // 5. A keyword that starts a flow.
        if let hit = bestKeyword(typed, in: .local, wholeOnly: freeText || contact.talk != nil) {
            return start(hit, words: words, text: text, contact: contact, now: now)
        }
        // 6. In a TALK chat, words that answer nothing she was asked are for the peer.
        if let thread = contact.talk, !contact.isOptedOut {
            return relayTurn(text, thread: thread, contact: contact)
        }
        // 6b. Still waiting for an answer we could not use: say so, and ask again.
        if let active, let flow = library.flow(active.flow), let state = flow.states[active.state] {
            return reprompt(flow: flow, state: state, conversation: active, contact: contact, now: now, words: words)
        }
        // 7. A coordinator asked her about her report: what she says next (that is no keyword)
        //    is her answer, passed back to them and kept nowhere.
        if let ref = contact.awaitingReportAnswer, !contact.isOptedOut {
            let answer = FreeText.prefix(text.trimmingCharacters(in: .whitespacesAndNewlines), scalars: 500, bytes: 1_500)
            let relay = library.render(FlowLibrary.reportAnswerRelayKey, locale: defaultLocale, values: ["ref": ref, "answer": answer])
            let thanks = library.render(FlowLibrary.reportAnswerThanksKey, locale: contact.language, values: ["ref": ref],
                                        discreet: library.isDiscreet(contact))
            return EngineOutcome(replies: [Reply(key: FlowLibrary.reportAnswerThanksKey, text: thanks)],
                                 effects: [.relayReportAnswer(ReportAnswer(ref: ref, answer: answer, relayText: relay))],
                                 conversation: nil, decision: .fallback(flow: "report_answer", timedOut: timedOut),
                                 variables: ["ref": ref, "answer": answer])
        }
        // 7b. She was asked to check on a friend: say how to close it rather than show the menu.
        if !contact.watching.isEmpty {
            let name = herName(contact.watching.first?.ownerName, language: contact.language)
            return EngineOutcome(replies: [notice(FlowLibrary.spotWatchHowToCloseKey, to: contact, values: ["name": name])],
                                 effects: [], conversation: nil,
                                 decision: .fallback(flow: "spot_watch", timedOut: timedOut))
        }
        // 8. Just after an alert, a text we don't understand is most likely about it: say what
        //    she can do about it rather than show the menu.
        if contact.recentAlert && !contact.isOptedOut {
            let options = library.render(FlowLibrary.alertReplyKey, locale: contact.language, discreet: library.isDiscreet(contact))
            var outcome = EngineOutcome(replies: [Reply(key: FlowLibrary.alertReplyKey, text: options)], effects: [], conversation: nil,
                                        decision: .fallback(flow: "alert_reply", timedOut: timedOut))
            if relayAlertReplies {
                // Passed on as a report the coordinators can answer by its reference; kept nowhere.
                let ref = ReferenceCode.make(prefix: "R", seed: seed, shift: 32)
                let words = FreeText.prefix(text.trimmingCharacters(in: .whitespacesAndNewlines), scalars: 500, bytes: 1_500)
                outcome.variables = ["ref": ref, "area": AreaCodes.unknown, "happened": "a reply to an alert", "when": "today",
                                     "description": words]
                outcome.effects = [.relayReport(report(outcome.variables))]
                outcome.replies.insert(Reply(key: FlowLibrary.reportAnswerThanksKey,
                                             text: library.render(FlowLibrary.reportAnswerThanksKey, locale: contact.language,
                                                                  values: ["ref": ref], discreet: library.isDiscreet(contact))), at: 0)
            }
            return outcome
        }
        // 9. Never silence: a short menu.
        if let flow = library.flows.first(where: { $0.fallbackState != nil }), let state = flow.fallbackState {
            return run(flow, state: state, vars: [:], contact: contact, now: now, decision: .fallback(flow: flow.id, timedOut: timedOut))
        }
        return EngineOutcome(replies: [], effects: [], conversation: nil, decision: .fallback(flow: "", timedOut: timedOut))
    }

    // MARK: - Emergencies

    /// Whether the follow-up of an emergency of one kind answers a text that is also an
    /// emergency of another: an overdose's follow-up answers "still not breathing" and "gave
    /// him the spray, still nothing", a child's follow-up "she's not breathing"; nothing but its
    /// own flow answers a child who swallowed something, or a crisis.
    static func followUp(of current: EmergencyIntent, answers found: EmergencyIntent) -> Bool {
        switch found {
        case current: true
        case .overdose, .noResponse: current == .overdose || current == .noResponse || current == .child
        case .child, .selfHarm, .abuse: false
        }
    }

    /// Runs the flow for what the recogniser found, most urgent first; a second intent in the
    /// same text ("I took too much, I want to die") adds its flow's first words after.
    /// She is answered in her own language if her words were in it, else in the language
    /// they were in (and a new person keeps that language).
    func emergency(_ recognition: EmergencyRecognition, contact initial: ContactContext, now: Date) -> EngineOutcome? {
        let flows = recognition.intents.compactMap { library.flow(for: $0) }
            .filter { !initial.isOptedOut || $0.runsWhenOptedOut }
        guard let primary = flows.first else { return nil }
        var contact = initial
        var chosenLanguage: String?
        if !recognition.locales.contains(contact.language), let locale = recognition.locales.first,
           library.catalogues[locale] != nil {
            contact.language = locale
            if initial.isNew { chosenLanguage = locale }
        }
        var outcome = run(primary, state: primary.start, vars: [:], contact: contact, now: now,
                          decision: .emergency(flow: primary.id))
        for extra in flows.dropFirst() {
            outcome.replies += run(extra, state: extra.start, vars: [:], contact: contact, now: now,
                                   decision: .emergency(flow: extra.id)).replies
        }
        if let chosenLanguage {
            outcome.effects.insert(.setLanguage(chosenLanguage), at: 0)
            outcome.variables["language"] = chosenLanguage
        }
        return outcome
    }

    /// An answer to an emergency flow's follow-up: its number, or words that mean one of the
    /// options ("i dont have any" → no naloxone here).
    func followUpAnswer(_ words: [String], text: String, flow: Flow, state: FlowState, vars: [String: String],
                                contact: ContactContext, now: Date) -> EngineOutcome? {
        guard !state.menu.isEmpty else { return nil }
        if let outcome = answer(words, text: text, flow: flow, state: state, vars: vars, contact: contact, now: now) {
            return outcome
        }
        let names = state.menu.compactMap(\.intent)
        guard !names.isEmpty, let name = library.recogniser.followUp(text, among: names),
              let option = state.menu.first(where: { $0.intent == name }) else { return nil }
        return choose(option, in: flow, state: state, vars: vars, contact: contact, now: now)
    }

    /// Goes where a menu option leads, with the values it sets.
    func choose(_ option: MenuOption, in flow: Flow, state: FlowState, vars: [String: String],
                        contact: ContactContext, now: Date) -> EngineOutcome? {
        var vars = vars
        vars.merge(option.set) { _, new in new }
        let decision = Decision.answer(flow: flow.id, state: state.id)
        switch option.target {
        case .state(let next):
            return run(flow, state: next, vars: vars, contact: contact, now: now, decision: decision)
        case .flow(let id):
            guard let target = library.flow(id) else { return nil }
            return run(target, state: target.start, vars: [:], contact: contact, now: now, decision: decision)
        }
    }

    // MARK: - Matching

    struct KeywordHit {
        let flow: Flow
        let keyword: Keyword
        let state: String
        let distance: Int
    }

    func bestKeyword(_ typed: TypedWords, in group: KeywordIndex.Group, wholeOnly: Bool = false) -> KeywordHit? {
        library.keywords.best(typed, in: group, wholeOnly: wholeOnly).map {
            KeywordHit(flow: library.flows[$0.entry.flow], keyword: $0.entry.keyword, state: $0.entry.state, distance: $0.distance)
        }
    }

}
