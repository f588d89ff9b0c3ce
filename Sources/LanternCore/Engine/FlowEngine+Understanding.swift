import Foundation

/// Sentences no keyword and no question took: the intent recogniser's answer, its "Did you
/// mean", or nothing (then the menu).
extension FlowEngine {
    /// `ask`: whether two close intents may be put to her as a question (not while she is in
    /// the middle of another one).
    /// `unless`: intents better answered by what comes next (just after an alert, a text about
    /// the batch or the area is about that alert).
    func understood(_ text: String, contact: ContactContext, now: Date, ask: Bool, unless: Set<String> = []) -> EngineOutcome? {
        switch library.understanding.verdict(text) {
        case .answer(let intent):
            guard !unless.contains(intent), let flow = library.flow(forIntent: intent) else { return nil }
            let decision = Decision.understood(flow: flow.id, intent: intent)
            // "alerts for bristol please": the place in the sentence answers the flow's question.
            let places = areaWords(in: KeywordText.words(text))
            if !places.isEmpty, let state = firstQuestion(flow, from: flow.start, contact: contact, now: now), state.ask?.expect == .areas,
               var outcome = answer(places, text: places.joined(separator: " "), flow: flow, state: state, vars: [:], contact: contact, now: now) {
                outcome.decision = decision
                return outcome
            }
            return run(flow, state: flow.start, vars: [:], contact: contact, now: now, decision: decision)
        case .ask(let first, let second) where ask:
            guard library.flow(forIntent: first) != nil, library.flow(forIntent: second) != nil else { return nil }
            return clarify(first, second, contact: contact, now: now)
        default:
            return nil
        }
    }

    /// The places named in a sentence: the service's area names and postcode districts.
    func areaWords(in words: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        outer: while i < words.count {
            for area in library.areas {
                for name in area.words.sorted(by: { $0.count > $1.count }) where i + name.count <= words.count {
                    if Array(words[i..<(i + name.count)]) == name { out += name; i += name.count; continue outer }
                }
            }
            if PostcodeDistrict(words[i]) != nil { out.append(words[i]) }
            i += 1
        }
        return out
    }

    /// "Did you mean 1 … or 2 …? Or MENU": one question, kept for half an hour.
    func clarify(_ first: String, _ second: String, contact: ContactContext, now: Date) -> EngineOutcome {
        let discreet = library.isDiscreet(contact)
        let lines = [first, second].enumerated().map { i, intent in
            "\(i + 1) " + library.render(FlowLibrary.intentLabelPrefix + intent, locale: contact.language, discreet: discreet)
        }
        let text = library.render(FlowLibrary.clarifyAskKey, locale: contact.language, discreet: discreet) + "\n" + lines.joined(separator: "\n")
        let conversation = ConversationState(flow: FlowLibrary.clarifyFlow, state: "ask", expiresAt: now.addingTimeInterval(30 * 60),
                                             variables: ["first": first, "second": second])
        return EngineOutcome(replies: [Reply(key: FlowLibrary.clarifyAskKey, text: text)], effects: [], conversation: conversation,
                             decision: .understood(flow: FlowLibrary.clarifyFlow, intent: first))
    }

    /// Her answer to "Did you mean": 1 or 2.
    func clarifyAnswer(_ words: [String], active: ConversationState?, contact: ContactContext, now: Date) -> EngineOutcome? {
        guard let active, active.flow == FlowLibrary.clarifyFlow, words.count == 1, let n = Int(words[0]), n == 1 || n == 2,
              let intent = active.variables[n == 1 ? "first" : "second"], let flow = library.flow(forIntent: intent) else { return nil }
        return run(flow, state: flow.start, vars: [:], contact: contact, now: now, decision: .answer(flow: FlowLibrary.clarifyFlow, state: "ask"))
    }

    /// A new person's language, from her first text when it is clear (a script of its own, or
    /// three words or more in Latin letters). Romanised Urdu or Panjabi keeps English, which she
    /// can read, rather than switch her to a script she may not.
    func detectedLanguage(_ text: String, contact: ContactContext) -> String? {
        guard contact.isNew, let found = library.understanding.language(of: text), !found.romanised,
              found.locale != contact.language, library.catalogues[found.locale] != nil else { return nil }
        return found.locale
    }
}
