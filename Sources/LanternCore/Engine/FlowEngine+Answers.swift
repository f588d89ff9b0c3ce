import Foundation

/// Answers to the question she was asked: starting a flow from a keyword (with words after
/// it as the first answer), validating what she typed, and asking again when it does not fit.
extension FlowEngine {

    /// Starts a flow from a keyword. Words after the keyword answer the flow's first question
    /// when it has one ("PAUSE 24", "ALERTS BS5"); otherwise they are ignored ("naloxone please").
    func start(_ hit: KeywordHit, words: [String], text: String, contact: ContactContext, now: Date) -> EngineOutcome {
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
        // Words after the keyword answer its first question, except free words ("report it was…"):
        // a number and where she is ("SPOT 10 flat 2", "BUDDY 07700 900456 Jo") as she typed them.
        if !rest.isEmpty, let state = firstQuestion(hit.flow, from: hit.state, contact: contact, now: now), let ask = state.ask,
           !ask.expect.takesAnyWords,
           var outcome = answer(rest, text: ask.expect.wantsTypedText ? Self.typedRest(text, droppingWords: hit.keyword.words.count)
                                                                      : rest.joined(separator: " "),
                                flow: hit.flow, state: state, vars: [:], contact: contact, now: now) {
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

    /// The state a flow first waits in from `id`, passing only silent checks ("has she room for
    /// another buddy?"): where words after its keyword are an answer.
    func firstQuestion(_ flow: Flow, from id: String, contact: ContactContext, now: Date) -> FlowState? {
        var current = flow.states[id]
        var hops = 0
        while let state = current, let check = state.check, state.say.isEmpty, state.actions.isEmpty, hops < 8 {
            current = flow.states[holds(check.condition, for: contact, vars: [:], now: now) ? check.then : check.otherwise]
            hops += 1
        }
        return current
    }

    /// Whether `words` name areas, but more than one person may have.
    func tooManyAreas(_ words: [String], state: FlowState) -> Bool {
        guard state.ask?.expect == .areas, words.count > AreaCodes.maxPerPerson,
              let codes = AreaCodes.parse(words, areas: library.areas, everywhereWords: library.answers.everywhere) else { return false }
        return codes.count > AreaCodes.maxPerPerson
    }

    func answer(_ words: [String], text: String, flow: Flow, state: FlowState, vars: [String: String],
                        contact: ContactContext, now: Date) -> EngineOutcome? {
        var vars = vars
        let decision = Decision.answer(flow: flow.id, state: state.id)
        if !state.menu.isEmpty {
            guard words.count == 1, let n = Int(words[0]), (1...state.menu.count).contains(n) else { return nil }
            return choose(state.menu[n - 1], in: flow, state: state, vars: vars, contact: contact, now: now)
        }
        if let question = state.ask {
            guard let value = validate(words, text: text, as: question.expect, vars: vars, contact: contact) else { return nil }
            if let name = question.save { vars[name] = value }
            switch question.expect {
            case .minutes: vars["place"] = Self.place(afterMinutesIn: text)
            default: break
            }
            guard let next = question.branches[value] ?? question.next else { return nil }
            return run(flow, state: next, vars: vars, contact: contact, now: now, decision: decision)
        }
        return nil
    }

    /// Turns a typed answer into the structured value that may be kept; nil if it does not fit.
    func validate(_ words: [String], text: String, as kind: AnswerKind, vars: [String: String] = [:],
                  contact: ContactContext? = nil) -> String? {
        switch kind {
        case .yesNo:
            guard let first = words.first, words.count <= 3 else { return nil }
            if let contact, library.answers.unclear[contact.language]?.contains(first) == true { return nil }
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
        case .minutes:
            return Self.minutes(words).map { String($0.minutes) }
        case .phone:
            // A mobile: in the UK that is 07… (never a landline, a premium-rate or a short number).
            guard let number = Self.buddyNumber(text)?.0, !number.e164.hasPrefix("+44") || number.e164.hasPrefix("+447") else { return nil }
            return number.e164
        case .place:
            return Self.placeText(text)
        case .name:
            return Self.personName(text)
        case .supplies:
            return Supply.choose(words, from: library.supplies)
        case .buddy:
            let buddies = contact?.buddies ?? []
            guard words.count == 1, let n = Int(words[0]), (1...max(1, buddies.count)).contains(n), n <= buddies.count else { return nil }
            return buddies[n - 1].key
        }
    }

    func reprompt(flow: Flow, state: FlowState, conversation: ConversationState, contact: ContactContext,
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

}
