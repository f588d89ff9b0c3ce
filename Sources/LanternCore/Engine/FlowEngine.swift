import Foundation

/// The conversation state machine. Pure: given the library, what was typed, who typed it,
/// where she was and the time, it returns what to say and do. No I/O, no clock, no randomness.
public struct FlowEngine: Sendable {
    public let library: FlowLibrary
    /// Whether a reply to an alert is also passed to the coordinators, as a report they can
    /// answer (a service's choice: `LANTERN_RELAY_ALERT_REPLIES`).
    public let relayAlertReplies: Bool
    /// This text's randomness (reference codes), given by the caller with the text.
    private var seed: UInt64 = 0

    public init(library: FlowLibrary, relayAlertReplies: Bool = false) {
        self.library = library
        self.relayAlertReplies = relayAlertReplies
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
        return turn.decide(text: InboundText.capped(text), contact: contact, conversation: conversation, now: now).clippedToSegmentCeiling()
    }

    private func decide(text: String, contact: ContactContext, conversation: ConversationState?, now: Date) -> EngineOutcome {
        let words = KeywordText.words(text)
        let typed = TypedWords(words)
        let active = conversation.flatMap { $0.expiresAt > now ? $0 : nil }
        var contact = contact
        contact.activeFlow = active?.flow
        let timedOut = conversation != nil && active == nil
        let waiting = active.flatMap { a in library.flow(a.flow).flatMap { f in f.states[a.state].map { (a, f, $0) } } }

        // 0. Mid-emergency, the follow-up she was offered comes first: "she woke up" and
        //    "still not breathing" answer it rather than start the steps again.
        if let (a, flow, state) = waiting, flow.intent != nil,
           let outcome = followUpAnswer(words, text: text, flow: flow, state: state, vars: a.variables, contact: contact, now: now) {
            return outcome
        }

        // 1. Someone may be dying, or she may be in danger: the recogniser runs on every text,
        //    before anything else, even for someone who opted out. If she was answering a
        //    free-text question, her answer is still taken after the steps.
        let recognition = library.recogniser.recognise(text)
        // Waiting for free words (an address, a description): keywords count only as the whole
        // text, so "help, it was sold as…" is an answer, not HELP.
        let freeText = waiting?.2.ask.map { [.text, .address].contains($0.expect) } ?? false
        if recognition.isEmergency, var outcome = emergency(recognition, contact: contact, now: now) {
            if !contact.isOptedOut, freeText, let (a, flow, state) = waiting,
               let answered = answer(words, text: text, flow: flow, state: state, vars: a.variables, contact: contact, now: now) {
                outcome.replies += answered.replies
                outcome.effects += answered.effects
                // Her answer finished that flow; the emergency follow-up stays open.
                outcome.conversation = answered.conversation ?? outcome.conversation
                outcome.variables.merge(answered.variables) { _, new in new }
            }
            return outcome
        }

        if contact.isOptedOut {
            // Opt-out wins: only flows meant for opted-out people (START, FORGET) answer.
            if let hit = bestKeyword(typed, in: .optedOut) {
                return start(hit, words: words, text: text, contact: contact, now: now)
            }
            return EngineOutcome(replies: [], effects: [], conversation: nil, decision: .ignoredWhileOptedOut)
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
        // 3. Global keywords win in every state.
        if let hit = bestKeyword(typed, in: .global, wholeOnly: freeText) {
            return start(hit, words: words, text: text, contact: contact, now: now)
        }
        // 4. An answer to the question she was asked.
        if let (a, flow, state) = waiting {
            if let outcome = answer(words, text: text, flow: flow, state: state, vars: a.variables, contact: contact, now: now) {
                return outcome
            }
        }
        // 5. A keyword that starts a flow.
        if let hit = bestKeyword(typed, in: .local, wholeOnly: freeText) {
            return start(hit, words: words, text: text, contact: contact, now: now)
        }
        // 6. Still waiting for an answer we could not use: say so, and ask again.
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

    /// Runs the flow for what the recogniser found, most urgent first; a second intent in the
    /// same text ("I took too much, I want to die") adds its flow's first words after.
    /// She is answered in her own language if her words were in it, else in the language
    /// they were in (and a new person keeps that language).
    private func emergency(_ recognition: EmergencyRecognition, contact initial: ContactContext, now: Date) -> EngineOutcome? {
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
    private func followUpAnswer(_ words: [String], text: String, flow: Flow, state: FlowState, vars: [String: String],
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
    private func choose(_ option: MenuOption, in flow: Flow, state: FlowState, vars: [String: String],
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

    // MARK: - Answers

    /// Starts a flow from a keyword. Words after the keyword answer the flow's first question
    /// when it has one ("PAUSE 24", "ALERTS BS5"); otherwise they are ignored ("naloxone please").
    private func start(_ hit: KeywordHit, words: [String], text: String, contact: ContactContext, now: Date) -> EngineOutcome {
        // The first word a new person uses, when it is another language's (POMOC), is her language.
        if let locale = hit.keyword.locale, contact.isNew, locale != contact.language {
            var chosen = contact
            chosen.language = locale
            chosen.isNew = false
            var outcome = start(hit, words: words, text: text, contact: chosen, now: now)
            outcome.effects.insert(.setLanguage(locale), at: 0)
            outcome.variables["language"] = locale
            return outcome
        }
        let decision = Decision.keyword(flow: hit.flow.id, keyword: hit.keyword.text)
        let rest = Array(words.dropFirst(hit.keyword.words.count))
        if !rest.isEmpty, let state = hit.flow.states[hit.state], let ask = state.ask, ![.text, .address].contains(ask.expect),
           var outcome = answer(rest, text: rest.joined(separator: " "), flow: hit.flow, state: state, vars: [:], contact: contact, now: now) {
            outcome.decision = decision
            return outcome
        }
        if !rest.isEmpty, let state = hit.flow.states[hit.state], tooManyAreas(rest, state: state) {
            // "ALERTS BA1 BA2 … BA40": ask again at that question, saying why.
            let waiting = ConversationState(flow: hit.flow.id, state: state.id, expiresAt: now.addingTimeInterval(hit.flow.timeout))
            var outcome = reprompt(flow: hit.flow, state: state, conversation: waiting, contact: contact, now: now, words: rest)
            outcome.decision = decision
            return outcome
        }
        return run(hit.flow, state: hit.state, vars: [:], contact: contact, now: now, decision: decision)
    }

    /// Whether `words` name areas, but more than one person may have.
    func tooManyAreas(_ words: [String], state: FlowState) -> Bool {
        guard state.ask?.expect == .areas, words.count > AreaCodes.maxPerPerson,
              let codes = AreaCodes.parse(words, areas: library.areas, everywhereWords: library.answers.everywhere) else { return false }
        return codes.count > AreaCodes.maxPerPerson
    }

    private func answer(_ words: [String], text: String, flow: Flow, state: FlowState, vars: [String: String],
                        contact: ContactContext, now: Date) -> EngineOutcome? {
        var vars = vars
        let decision = Decision.answer(flow: flow.id, state: state.id)
        if !state.menu.isEmpty {
            guard words.count == 1, let n = Int(words[0]), (1...state.menu.count).contains(n) else { return nil }
            return choose(state.menu[n - 1], in: flow, state: state, vars: vars, contact: contact, now: now)
        }
        if let question = state.ask {
            guard let value = validate(words, text: text, as: question.expect, vars: vars) else { return nil }
            if let name = question.save { vars[name] = value }
            guard let next = question.branches[value] ?? question.next else { return nil }
            return run(flow, state: next, vars: vars, contact: contact, now: now, decision: decision)
        }
        return nil
    }

    /// Turns a typed answer into the structured value that may be kept; nil if it does not fit.
    func validate(_ words: [String], text: String, as kind: AnswerKind, vars: [String: String] = [:]) -> String? {
        switch kind {
        case .yesNo:
            guard let first = words.first, words.count <= 3 else { return nil }
            if library.answers.yes.contains(first) { return "yes" }
            if library.answers.no.contains(first) { return "no" }
            return nil
        case .postcodeDistrict:
            return PostcodeDistrict(words.joined(separator: " "))?.code
        case .number:
            guard words.count == 1, let n = Int(words[0]), n >= 0 else { return nil }
            return String(n)
        case .areas:
            guard let codes = AreaCodes.parse(words, areas: library.areas, everywhereWords: library.answers.everywhere),
                  codes.count <= AreaCodes.maxPerPerson else { return nil }
            return AreaCodes.join(codes)
        case .areasOrUnknown:
            if library.answers.dontKnow.contains(words.joined(separator: " ")) { return AreaCodes.unknown }
            return validate(words, text: text, as: .areas, vars: vars)
        case .hours:
            let digits = words.first.map { $0.hasSuffix("H") || $0.hasSuffix("HRS") ? String($0.prefix { $0.isNumber }) : $0 }
            guard words.count <= 2, let d = digits, let n = Int(d), (1...168).contains(n) else { return nil }
            return String(n)
        case .address:
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            // Counted as what is stored and sent, not as what a screen shows: one "character"
            // can carry thousands of combining marks.
            guard trimmed.unicodeScalars.count <= 300, trimmed.utf8.count <= 900, words.count >= 2 else { return nil }
            let hasPostcode = words.indices.contains { i in
                PostcodeDistrict.isFullPostcode(words[i]) || (i + 1 < words.count && PostcodeDistrict.isFullPostcode(words[i] + words[i + 1]))
            }
            return hasPostcode ? trimmed : nil
        case .text:
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : FreeText.prefix(trimmed, scalars: 500, bytes: 1_500)
        case .language:
            let all = library.languages
            if words.count == 1, let n = Int(words[0]), (1...all.count).contains(n) { return all[n - 1].locale }
            return library.selectedLanguage(words)
        case .pickupPoint:
            let points = library.pickupPoints(for: AreaCodes.split(vars["area"]))
            guard words.count == 1, let n = Int(words[0]), (1...max(1, points.count)).contains(n), n <= points.count else { return nil }
            return points[n - 1].name
        }
    }

    private func reprompt(flow: Flow, state: FlowState, conversation: ConversationState, contact: ContactContext,
                          now: Date, words: [String] = []) -> EngineOutcome {
        var key = state.invalid ?? (state.menu.isEmpty ? FlowLibrary.invalidAnswerKey : FlowLibrary.invalidChoiceKey)
        if tooManyAreas(words, state: state) { key = FlowLibrary.tooManyAreasKey }
        let values = placeholders(conversation.variables, contact: contact, extra: ["max": String(AreaCodes.maxPerPerson)])
        let discreet = library.isDiscreet(contact)
        var text = library.render(key, locale: contact.language, discreet: discreet, value: values)
        if !state.menu.isEmpty {
            text += "\n" + library.menuLines(state.menu, locale: contact.language, discreet: discreet, value: values)
        }
        var kept = conversation
        kept.expiresAt = now.addingTimeInterval(flow.timeout)
        return EngineOutcome(replies: [Reply(key: key, text: text)], effects: [], conversation: kept,
                             decision: .invalidAnswer(flow: flow.id, state: state.id), variables: conversation.variables)
    }

    // MARK: - Running states

    /// What placeholders read as: saved values (area codes in words) and what we know of her.
    /// Each is worked out only when a message being rendered uses it.
    func placeholders(_ vars: [String: String], contact: ContactContext, extra: [String: String] = [:]) -> (String) -> String? {
        let library = self.library
        return { name in
            if let value = extra[name] { return value }
            switch name {
            case "areas":
                return vars["areas"].map { library.describe(areas: AreaCodes.split($0), locale: contact.language) }
            case "my_areas":
                return library.describe(areas: contact.subscriptions, locale: contact.language)
            case "area":
                return vars["area"].map { library.describe(areas: AreaCodes.split($0), locale: contact.language) }
            case "pickup_points":
                return vars["area"].map { library.pickupPointList(for: AreaCodes.split($0), discreet: library.isDiscreet(contact)) }
            case "languages":
                return library.languageList
            case "pickup":
                // The pickup point she chose, by its discreet name where she gets discreet wording.
                if let chosen = vars["pickup"], library.isDiscreet(contact),
                   let point = library.pickupPoints.first(where: { $0.name == chosen }) {
                    return point.name(discreet: true)
                }
            case "paused_until":
                if let until = contact.alertsPausedUntil { return Self.ukTime(until) }
            case "covered":
                if let covers = library.covers { return library.describe(areas: covers, locale: contact.language) }
            case "kit_ref":
                if let kit = contact.kit { return kit.ref }
            case "kit_status":
                if let kit = contact.kit {
                    return library.render(FlowLibrary.kitStatePrefix + kit.status.rawValue, locale: contact.language,
                                          discreet: library.isDiscreet(contact))
                }
            default:
                break
            }
            return vars[name]
        }
    }

    private func run(_ flow: Flow, state start: String, vars initialVars: [String: String], contact initial: ContactContext, now: Date,
                     decision: Decision) -> EngineOutcome {
        var vars = initialVars
        var replies: [Reply] = []
        var effects: [Effect] = []
        var contact = initial
        var current: String? = start
        var conversation: ConversationState?
        var visited = 0
        while let id = current, let state = flow.states[id], visited < 32 {
            visited += 1
            current = nil
            for action in state.actions {
                if let effect = apply(action, vars: &vars, to: &contact, now: now) { effects.append(effect) }
            }
            let values = placeholders(vars, contact: contact)
            // Emergency and crisis words are always plain: life comes first.
            let discreet = library.isDiscreet(contact) && flow.intent == nil
            for key in state.say {
                replies.append(Reply(key: key, text: library.render(key, locale: contact.language, discreet: discreet, value: values)))
            }
            if !state.menu.isEmpty {
                let lines = library.menuLines(state.menu, locale: contact.language, discreet: discreet, value: values)
                if let last = replies.popLast() {
                    replies.append(Reply(key: last.key, text: last.text + "\n" + lines))
                } else {
                    replies.append(Reply(key: state.menu[0].label, text: lines))
                }
            }
            if state.waitsForAnswer {
                // Free words she typed are never kept between messages.
                let kept = vars.filter { !Self.transientVariables(of: flow).contains($0.key) }
                conversation = ConversationState(flow: flow.id, state: id, expiresAt: now.addingTimeInterval(flow.timeout), variables: kept)
            } else if let check = state.check {
                current = holds(check.condition, for: contact, vars: vars, now: now) ? check.then : check.otherwise
            } else {
                current = state.next
            }
        }
        if effects.contains(where: \.isVital) { conversation = nil }
        var outcome = EngineOutcome(replies: replies, effects: effects, conversation: conversation, decision: decision, variables: vars)
        outcome.isUrgent = flow.intent != nil
        return outcome
    }

    /// Carries out an action on the engine's copy of the person, so later words in the same
    /// reply ("You now get alerts for {my_areas}") are already true, and says it as the typed
    /// effect the store will apply (nil when the flow saved nothing to act on).
    private func apply(_ action: FlowAction, vars: inout [String: String], to contact: inout ContactContext, now: Date) -> Effect? {
        switch action {
        case .optOut:
            contact.isOptedOut = true
            return .optOut
        case .optIn:
            contact.isOptedOut = false
            return .optIn
        case .erase:
            // What the erasure ended is still said in its confirmation ("your kit request K-… is cancelled").
            if let kit = contact.kit, kit.status == .open { vars["kit_ref"] = kit.ref }
            contact = ContactContext(language: contact.language)
            return .erase
        case .setLanguage:
            guard let l = vars["language"] else { return nil }
            contact.language = l
            return .setLanguage(l)
        case .plainWording:
            contact.wording = .plain
            return .setWording(.plain)
        case .discreetWording:
            contact.wording = .discreet
            return .setWording(.discreet)
        case .subscribe:
            let add = AreaCodes.split(vars["areas"])
            if add.contains(AreaCodes.everywhere) { contact.subscriptions = [AreaCodes.everywhere] }
            else if !contact.subscriptions.contains(AreaCodes.everywhere) {
                contact.subscriptions += add.filter { !contact.subscriptions.contains($0) }
                contact.subscriptions = Array(contact.subscriptions.prefix(AreaCodes.maxPerPerson))
            }
            return .subscribe(add)
        case .unsubscribe:
            let remove = AreaCodes.split(vars["areas"])
            contact.subscriptions.removeAll { remove.contains($0) }
            return .unsubscribe(remove)
        case .unsubscribeAll:
            contact.subscriptions = []
            return .unsubscribeAll
        case .pause:
            let until = now.addingTimeInterval(Double(Int(vars["hours"] ?? "") ?? 0) * 3600)
            contact.alertsPausedUntil = until
            return .pause(until: until)
        case .resume:
            contact.alertsPausedUntil = nil
            return .resume
        case .relayReportAnswer:
            contact.awaitingReportAnswer = nil
            guard let ref = vars["ref"], let answer = vars["answer"] else { return nil }
            return .relayReportAnswer(ReportAnswer(ref: ref, answer: answer, relayText: library.render(
                FlowLibrary.reportAnswerRelayKey, locale: defaultLocale, values: ["ref": ref, "answer": answer])))
        case .requestKit:
            let ref = ReferenceCode.make(prefix: "K", seed: seed)
            vars["ref"] = ref
            contact.kit = KitInfo(ref: ref, status: .open, method: vars["method"] ?? "")
            guard let kind = vars["kind"], let method = vars["method"] else { return nil }
            return .requestKit(KitOrder(ref: ref, kind: kind, method: method, pickup: vars["pickup"], address: vars["address"]))
        case .cancelKit:
            if let kit = contact.kit, kit.status == .open { contact.kit = KitInfo(ref: kit.ref, status: .cancelled, method: kit.method) }
            return .cancelKit
        case .relayReport:
            vars["ref"] = ReferenceCode.make(prefix: "R", seed: seed, shift: 32)
            return .relayReport(report(vars))
        }
    }

    /// A report as the coordinators get it, in the service's own language.
    private func report(_ vars: [String: String]) -> Report {
        let areas = AreaCodes.split(vars["area"])
        let areaName = library.describe(areas: areas, locale: defaultLocale)
        var values = vars
        values["area"] = areaName
        return Report(ref: vars["ref"] ?? "", areas: areas, areaName: areaName, happened: vars["happened"] ?? "",
                      when: vars["when"] ?? "", description: vars["description"] ?? "",
                      relayText: library.render(FlowLibrary.reportRelayKey, locale: defaultLocale, values: values))
    }

    /// Variables holding free words she typed, by flow.
    static func transientVariables(of flow: Flow) -> Set<String> {
        Set(flow.states.values.compactMap { s in s.ask.flatMap { [.text, .address].contains($0.expect) ? $0.save : nil } })
    }

    func holds(_ condition: Check.Condition, for contact: ContactContext, vars: [String: String], now: Date) -> Bool {
        switch condition {
        case .subscribed: !contact.subscriptions.isEmpty
        case .paused: (contact.alertsPausedUntil ?? .distantPast) > now
        case .hasOpenKit: contact.kit?.status == .open
        case .hasLiveReport: contact.hasLiveReport
        case .makingKit: contact.activeFlow == "kit"
        case .areasCovered: library.covers(AreaCodes.split(vars["areas"] ?? vars["area"]))
        case .addressCovered: Self.district(ofAddress: vars["address"] ?? "").map { library.covers([$0]) } ?? true
        case .hasKit: contact.kit != nil
        case .kitLimitReached: contact.kitLimitReached
        case .hasPickupPoints: !library.pickupPoints(for: AreaCodes.split(vars["area"])).isEmpty
        }
    }

    // MARK: - Matching

    struct KeywordHit {
        let flow: Flow
        let keyword: Keyword
        let state: String
        let distance: Int
    }

    private func bestKeyword(_ typed: TypedWords, in group: KeywordIndex.Group, wholeOnly: Bool = false) -> KeywordHit? {
        library.keywords.best(typed, in: group, wholeOnly: wholeOnly).map {
            KeywordHit(flow: library.flows[$0.entry.flow], keyword: $0.entry.keyword, state: $0.entry.state, distance: $0.distance)
        }
    }

}

