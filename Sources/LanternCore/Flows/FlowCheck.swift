import Foundation

/// A problem `flows check` found, pointing at the line to fix.
public struct FlowDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }
    public let severity: Severity
    public let location: SourceLocation?
    public let message: String

    public init(_ severity: Severity, _ message: String, at location: SourceLocation?) {
        self.severity = severity
        self.message = message
        self.location = location
    }

    public var description: String {
        "\(location.map { "\($0): " } ?? "")\(severity.rawValue): \(message)"
    }
}

/// Everything the engine would trip on, found before a coordinator's edit reaches a phone:
/// missing words, states nobody can reach or that lead nowhere, keywords two flows both claim,
/// placeholders nobody fills, and messages longer than their SMS budget.
public struct FlowCheck: Sendable {
    public let library: FlowLibrary

    /// The value used for a placeholder when measuring a message's length (a typical short value).
    public static let sampleValue = "XXXXXXXX"

    public init(library: FlowLibrary) { self.library = library }

    public func run() -> [FlowDiagnostic] {
        var out: [FlowDiagnostic] = []
        guard let base = library.catalogues[defaultLocale] else {
            return [FlowDiagnostic(.error, "no \(defaultLocale) catalogue: every message needs English words to fall back to", at: nil)]
        }
        var used: Set<String> = FlowLibrary.engineKeys
        var allowedPlaceholders: [String: Set<String>] = FlowLibrary.systemMessages
        out += checkPickupPoints()
        out += checkWayOut()
        out += checkAnswerWords()

        for key in FlowLibrary.engineKeys.sorted() where base.messages[key] == nil {
            out.append(FlowDiagnostic(.error, "message '\(key)' is missing: Lantern itself uses it", at: base.location))
        }
        for key in base.messages.keys where key.hasPrefix(FlowLibrary.alertTemplatePrefix) {
            used.insert(key)
            allowedPlaceholders[key] = ["areas"]
        }

        let fallbacks = library.flows.filter { $0.fallbackState != nil }
        if fallbacks.isEmpty {
            out.append(FlowDiagnostic(.error, "no flow has a 'fallback' state: unrecognised texts would get silence", at: nil))
        } else if fallbacks.count > 1 {
            for f in fallbacks.dropFirst() {
                out.append(FlowDiagnostic(.error, "flow '\(f.id)' declares a second fallback (first is '\(fallbacks[0].id)')", at: f.location))
            }
        }

        var seenFlowIDs: [String: SourceLocation?] = [:]
        for flow in library.flows {
            if let first = seenFlowIDs[flow.id] {
                out.append(FlowDiagnostic(.error, "flow id '\(flow.id)' is used twice (also at \(first.map(\.description) ?? "?"))", at: flow.location))
            }
            seenFlowIDs[flow.id] = flow.location
            out += checkStructure(flow)
            var allowed = Self.savedVariables(flow).union(FlowLibrary.builtinPlaceholders)
            if allowed.contains("area") { allowed.formUnion(FlowLibrary.areaPlaceholders) }
            for state in flow.states.values { for a in state.actions { allowed.formUnion(a.providesVariables) } }
            for state in flow.states.values {
                for key in messageKeys(of: state) {
                    used.insert(key)
                    allowedPlaceholders[key, default: []].formUnion(allowed)
                    if base.messages[key] == nil {
                        out.append(FlowDiagnostic(.error, "state '\(state.id)' uses message '\(key)', which \(defaultLocale) does not define", at: state.location ?? flow.location))
                    }
                }
            }
            if flow.intent != nil && (!flow.isGlobal || !flow.runsWhenOptedOut) {
                out.append(FlowDiagnostic(.error, "flow '\(flow.id)' answers an emergency ('intent') but is not 'global: true' and 'when_opted_out: true': nothing may stand between her and it", at: flow.location))
            }
            for state in flow.states.values {
                for option in state.menu {
                    guard let intent = option.intent else { continue }
                    if flow.intent == nil {
                        out.append(FlowDiagnostic(.error, "a menu option of '\(state.id)' names follow-up '\(intent)', but only emergency flows ('intent:') read follow-up words", at: option.location ?? state.location))
                    } else if !library.recogniser.knowsFollowUp(intent) {
                        out.append(FlowDiagnostic(.error, "a menu option of '\(state.id)' names follow-up '\(intent)', which no locale's 'emergency: followup:' defines", at: option.location ?? state.location))
                    }
                }
            }
        }
        out += checkDuplicateKeywords()
        out += checkEverydayKeywords()
        out += checkEmergencies()

        // A discreet variant is used wherever its message is, with the same placeholders; so is
        // a second text (`.continued`) for a message a flow says.
        for key in used where allowedPlaceholders[key] != nil {
            allowedPlaceholders[key + FlowLibrary.discreetSuffix] = allowedPlaceholders[key]
        }
        used.formUnion(used.map { $0 + FlowLibrary.discreetSuffix })
        let said = Set(library.flows.flatMap { $0.states.values.flatMap(\.say) })
        let continued = Set(said.flatMap { [$0 + FlowLibrary.continuationSuffix, $0 + FlowLibrary.discreetSuffix + FlowLibrary.continuationSuffix] })
        for key in continued {
            allowedPlaceholders[key] = allowedPlaceholders[String(key.dropLast(FlowLibrary.continuationSuffix.count))]
        }

        for (locale, catalogue) in library.catalogues.sorted(by: { $0.key < $1.key }) {
            for (key, template) in catalogue.messages.sorted(by: { $0.key < $1.key }) {
                let at = template.location ?? catalogue.location
                if key.hasSuffix(FlowLibrary.continuationSuffix) {
                    if !continued.contains(key) {
                        out.append(FlowDiagnostic(.warning, "'\(key)' (\(locale)) would be a second text for a message no flow says, so it is never sent", at: at))
                    }
                } else if locale == defaultLocale {
                    if !used.contains(key) {
                        out.append(FlowDiagnostic(.warning, "message '\(key)' is not used by any flow", at: at))
                    }
                } else if base.messages[key] == nil {
                    out.append(FlowDiagnostic(.warning, "\(locale) has '\(key)', which \(defaultLocale) does not define", at: at))
                }
                do {
                    let names = try MessageTemplate.parse(template.text).placeholders
                    let allowed = allowedPlaceholders[key] ?? FlowLibrary.builtinPlaceholders
                    for name in names where !allowed.contains(name) {
                        out.append(FlowDiagnostic(.error, "message '\(key)' (\(locale)) uses {\(name)}, which no flow supplies", at: at))
                    }
                } catch {
                    out.append(FlowDiagnostic(.error, "message '\(key)' (\(locale)): \(error)", at: at))
                }
                if template.maxSegments > MessageTemplate.segmentCeiling || template.maxSegments < 1 {
                    out.append(FlowDiagnostic(.error, "message '\(key)' (\(locale)) allows \(template.maxSegments) segments; the limit is 1 to \(MessageTemplate.segmentCeiling)", at: at))
                }
            }
            out += checkDiscretion(catalogue)
            out += checkReviews(catalogue)
            for flowID in catalogue.keywordAliases.keys.sorted() where library.flow(flowID) == nil {
                out.append(FlowDiagnostic(.error, "\(locale) gives keywords for flow '\(flowID)', which does not exist", at: catalogue.location))
            }
            if locale != defaultLocale {
                // What coordinators read (the relayed report) stays in the service's own language.
                let missing = base.messages.keys.filter { catalogue.messages[$0] == nil && !FlowLibrary.coordinatorOnlyKeys.contains($0) }.sorted()
                if !missing.isEmpty {
                    out.append(FlowDiagnostic(.warning, "\(locale) is missing \(missing.count) translation(s), which fall back to \(defaultLocale): \(missing.joined(separator: ", "))", at: catalogue.location))
                }
            }
            out += checkBudgets(locale: locale)
        }
        return out
    }

    /// Everything a flow saves: answers to its questions and values its menu options set.
    static func savedVariables(_ flow: Flow) -> Set<String> {
        var out = Set(flow.states.values.compactMap { $0.ask?.save })
        for state in flow.states.values { out.formUnion(state.ask?.expect.alsoSaves ?? []) }
        for state in flow.states.values { for option in state.menu { out.formUnion(option.set.keys) } }
        return out
    }

    private func messageKeys(of state: FlowState) -> [String] {
        state.say + state.menu.map(\.label) + (state.invalid.map { [$0] } ?? [])
    }

    private func checkStructure(_ flow: Flow) -> [FlowDiagnostic] {
        var out: [FlowDiagnostic] = []
        let saved = Self.savedVariables(flow)
        func exists(_ id: String, from: SourceLocation?, _ what: String) {
            if flow.states[id] == nil {
                out.append(FlowDiagnostic(.error, "\(what) goes to state '\(id)', which flow '\(flow.id)' does not have", at: from ?? flow.location))
            }
        }
        exists(flow.start, from: flow.location, "'start'")
        if let f = flow.fallbackState { exists(f, from: flow.location, "'fallback'") }
        for s in flow.shortcuts { exists(s.state, from: s.keyword.location, "shortcut \(s.keyword.text)") }

        var edges: [String: [String]] = [:]
        for state in flow.states.values.sorted(by: { $0.id < $1.id }) {
            var targets: [String] = []
            if let n = state.next { targets.append(n); exists(n, from: state.location, "state '\(state.id)' 'next'") }
            if let q = state.ask {
                for t in q.targets { targets.append(t); exists(t, from: state.location, "state '\(state.id)' 'ask'") }
                if q.next == nil && !(q.expect == .yesNo && q.branches["yes"] != nil && q.branches["no"] != nil) {
                    out.append(FlowDiagnostic(.error, "state '\(state.id)' asks a question but some answers go nowhere: give it 'next' (or both 'yes' and 'no')", at: state.location))
                }
            }
            if let c = state.check {
                for t in [c.then, c.otherwise] { targets.append(t); exists(t, from: state.location, "state '\(state.id)' 'check'") }
                if state.waitsForAnswer || state.next != nil {
                    out.append(FlowDiagnostic(.error, "state '\(state.id)' has a 'check' and also waits or has 'next'; a check decides where to go", at: state.location))
                }
            }
            for action in state.actions {
                for needed in action.requiredVariables where !saved.contains(needed) {
                    out.append(FlowDiagnostic(.error, "state '\(state.id)' does '\(action.rawValue)', which needs '\(needed)', but flow '\(flow.id)' never saves it", at: state.location))
                }
            }
            for action in state.actions where FlowAction.engineOnly.contains(action) {
                out.append(FlowDiagnostic(.error, "state '\(state.id)' does '\(action.rawValue)', which only Lantern itself does (on a buddy's or her answer to a check-in)", at: state.location))
            }
            if let q = state.ask, q.expect.isFreeWords {
                for t in q.targets where flow.states[t]?.waitsForAnswer == true {
                    out.append(FlowDiagnostic(.error, "state '\(state.id)' takes free words, so the flow must finish with them: '\(t)' may not wait for another answer (they are never kept)", at: state.location))
                }
            }
            for option in state.menu {
                switch option.target {
                case .state(let s): targets.append(s); exists(s, from: option.location, "a menu option of '\(state.id)'")
                case .flow(let f):
                    if library.flow(f) == nil {
                        out.append(FlowDiagnostic(.error, "a menu option of '\(state.id)' starts flow '\(f)', which does not exist", at: option.location ?? state.location))
                    }
                }
            }
            edges[state.id] = targets
            if state.say.isEmpty && state.actions.isEmpty && !state.waitsForAnswer && state.next == nil && state.check == nil {
                out.append(FlowDiagnostic(.error, "state '\(state.id)' is a dead end: it says nothing, does nothing and goes nowhere", at: state.location))
            }
            if !state.menu.isEmpty && state.ask != nil {
                out.append(FlowDiagnostic(.error, "state '\(state.id)' has both a menu and a question; give it one", at: state.location))
            }
            if state.waitsForAnswer && state.next != nil {
                out.append(FlowDiagnostic(.error, "state '\(state.id)' waits for an answer, so its 'next' would never be used", at: state.location))
            }
            if state.ask != nil && state.say.isEmpty {
                out.append(FlowDiagnostic(.error, "state '\(state.id)' asks a question without saying anything", at: state.location))
            }
        }
        var reached: Set<String> = []
        var queue = [flow.start] + (flow.fallbackState.map { [$0] } ?? []) + flow.shortcuts.map(\.state)
        while let s = queue.popLast() {
            guard reached.insert(s).inserted else { continue }
            queue += edges[s] ?? []
        }
        for state in flow.states.values.sorted(by: { $0.id < $1.id }) where !reached.contains(state.id) {
            out.append(FlowDiagnostic(.error, "state '\(state.id)' can never be reached in flow '\(flow.id)'", at: state.location))
        }
        return out
    }

    private func checkDuplicateKeywords() -> [FlowDiagnostic] {
        var out: [FlowDiagnostic] = []
        var owner: [[String]: (flow: String, at: SourceLocation?)] = [:]
        var ownerOptedOut: [[String]: (flow: String, at: SourceLocation?)] = [:]
        for flow in library.flows {
            let plain = flow.keywords + flow.shortcuts.map(\.keyword)
            for k in plain {
                if let first = owner[k.words] {
                    out.append(FlowDiagnostic(.error, "keyword '\(k.text)' is claimed by flow '\(first.flow)' (\(first.at.map(\.description) ?? "?")) and again by '\(flow.id)'", at: k.location ?? flow.location))
                    continue
                }
                owner[k.words] = (flow.id, k.location)
            }
            for k in flow.optedOutKeywords {
                if let first = ownerOptedOut[k.words] {
                    out.append(FlowDiagnostic(.error, "opted-out keyword '\(k.text)' is claimed by '\(first.flow)' and again by '\(flow.id)'", at: k.location))
                }
                ownerOptedOut[k.words] = (flow.id, k.location)
            }
        }
        return out
    }

    /// One message as it would really be sent (menu options appended, placeholders filled
    /// with a typical value), measured against its budget.
    public struct Measured: Sendable {
        public let key: String
        public let count: SegmentCount
        public let budget: Int
        public let location: SourceLocation?
    }

    public func measure(locale: String) -> [Measured] {
        guard let catalogue = library.catalogues[locale] else { return [] }
        var menuSuffix: [String: [MenuOption]] = [:]
        for flow in library.flows {
            for state in flow.states.values where !state.menu.isEmpty {
                if let last = state.say.last { menuSuffix[last] = state.menu }
            }
        }
        // Lists Lantern builds itself are measured as they are really sent: the languages (some
        // in their own scripts, so UCS-2) and the longest list of pickup points for any area.
        let longestPickupList = Set(library.pickupPoints.map(\.area)).map { library.pickupPointList(for: [$0]) }
            .max { SMSSegments.count($0).units < SMSSegments.count($1).units } ?? Self.sampleValue
        // The supplies list as the plain names read (longer than the discreet ones).
        let supplies = Supply.list(library.supplies, discreet: false, locale: locale)
        let generated = ["languages": library.languageList, "pickup_points": longestPickupList,
                         "supplies": supplies.isEmpty ? Self.sampleValue : supplies]
        return catalogue.messages.sorted(by: { $0.key < $1.key }).map { key, template in
            let sample = Dictionary(template.placeholders.map { ($0, generated[$0] ?? Self.sampleValue) }, uniquingKeysWith: { a, _ in a })
            var text = catalogue.displayed(template.render(sample))
            // A menu follows the last text: the second one where the message has one.
            let menuAfter = catalogue.messages[key + FlowLibrary.continuationSuffix] == nil ? menuSuffix[Self.sourceKey(key)] : nil
            if let options = menuAfter {
                text += "\n" + library.menuLines(options, locale: locale, values: sample)
            }
            return Measured(key: key, count: SMSSegments.count(text),
                            budget: min(template.maxSegments, MessageTemplate.segmentCeiling),
                            location: template.location ?? catalogue.location)
        }
    }

    /// Discreet variants never give away what a text is about; emergency steps are plain but
    /// do not start with a tell-tale word (a lock screen shows about the first 30 characters);
    /// and every other message that names one should have a discreet variant.
    /// Every question (other than yes/no, whose NO is the way out) says how to get out: its
    /// words mention MENU in every language, so nobody is stuck answering something she
    /// cannot answer.
    /// A yes/no question no language can answer (no `answers: yes/no` in any locale file) would
    /// keep asking forever.
    func checkAnswerWords() -> [FlowDiagnostic] {
        var out: [FlowDiagnostic] = []
        for flow in library.flows {
            for state in flow.states.values.sorted(by: { $0.id < $1.id }) {
                guard let ask = state.ask else { continue }
                if ask.expect == .yesNo && (library.answers.yes.isEmpty || library.answers.no.isEmpty) {
                    out.append(FlowDiagnostic(.error, "flow '\(flow.id)' asks yes or no in state '\(state.id)', but no locale file lists 'answers: yes' and 'no'", at: flow.location))
                }
                if ask.expect == .areasOrUnknown && library.answers.dontKnow.isEmpty {
                    out.append(FlowDiagnostic(.warning, "flow '\(flow.id)' accepts \"don't know\" in state '\(state.id)', but no locale file lists 'answers: dont_know'", at: flow.location))
                }
            }
        }
        // A check-in ends only on a clear OK, and "not ok" must never read as one: every
        // language that can start one needs both, in its own words.
        if library.flow(FlowLibrary.spotFlow) != nil {
            for (locale, catalogue) in library.catalogues.sorted(by: { $0.key < $1.key }) {
                for (kind, why) in [(AnswerWord.ok, "her OK could not end a check-in"),
                                    (AnswerWord.negation, "\"not ok\" could be read as OK")]
                    where (catalogue.answers[kind] ?? []).isEmpty {
                    out.append(FlowDiagnostic(.error, "\(locale) lists no 'answers: \(kind.rawValue)' words for SPOT: \(why) in \(catalogue.name)", at: catalogue.location))
                }
            }
        }
        return out
    }

    func checkWayOut() -> [FlowDiagnostic] {
        var out: [FlowDiagnostic] = []
        for flow in library.flows where flow.intent == nil {
            for state in flow.states.values.sorted(by: { $0.id < $1.id }) {
                guard let ask = state.ask, ask.expect != .yesNo, let key = state.say.last else { continue }
                for (locale, catalogue) in library.catalogues.sorted(by: { $0.key < $1.key }) {
                    guard let template = catalogue.messages[key], !template.text.contains("MENU") else { continue }
                    out.append(FlowDiagnostic(.warning, "question '\(key)' (\(locale)) does not say how to get out: mention MENU", at: template.location))
                }
            }
        }
        return out
    }

    /// Pickup point names and hours reach lock screens too ("Collect it from Example drug
    /// service"): one that gives away what it is needs a discreet name, which must not.
    func checkPickupPoints() -> [FlowDiagnostic] {
        var out: [FlowDiagnostic] = []
        func telltales(_ text: String) -> [String] {
            Array(Set(library.catalogues.keys.flatMap { library.telltales(in: text, locale: $0) })).sorted()
        }
        for point in library.pickupPoints {
            let found = telltales(point.name + " " + point.hours)
            guard !found.isEmpty else { continue }
            if let discreet = point.discreetName {
                let again = telltales(discreet + " " + point.hours)
                if !again.isEmpty {
                    out.append(FlowDiagnostic(.error, "pickup point '\(point.name)': its discreet_name (with its hours) still gives it away: \(again.joined(separator: ", "))", at: nil))
                }
            } else {
                out.append(FlowDiagnostic(.error, "pickup point '\(point.name)' gives away what it is (\(found.joined(separator: ", "))) on a lock screen; give it a discreet_name: for people who get discreet wording", at: nil))
            }
        }
        // A supply's discreet name is what a lock screen shows when she chooses it.
        // In every language she may read it in, against every language's tell-tale words.
        for supply in library.supplies {
            let found = telltales(supply.discreetName)
            if !found.isEmpty {
                out.append(FlowDiagnostic(.error, "supply '\(supply.id)': its discreet_name '\(supply.discreetName)' gives it away on a lock screen (\(found.joined(separator: ", ")))", at: nil))
            }
            for (locale, names) in supply.translations.sorted(by: { $0.key < $1.key }) {
                guard library.catalogues[locale] != nil else {
                    out.append(FlowDiagnostic(.error, "supply '\(supply.id)' has names in '\(locale)', which is not a language in locales/", at: nil))
                    continue
                }
                let found = telltales(names.discreetName)
                if !found.isEmpty {
                    out.append(FlowDiagnostic(.error, "supply '\(supply.id)': its discreet_name in \(locale) '\(names.discreetName)' gives it away on a lock screen (\(found.joined(separator: ", ")))", at: nil))
                }
            }
            let missing = library.catalogues.keys.filter { $0 != defaultLocale && supply.translations[$0] == nil }.sorted()
            if !missing.isEmpty {
                out.append(FlowDiagnostic(.warning, "supply '\(supply.id)' has no name in \(missing.joined(separator: ", ")): people reading those languages see the English names (add 'translations:' in service.yaml)", at: nil))
            }
        }
        return out
    }

    private func checkDiscretion(_ catalogue: Catalogue) -> [FlowDiagnostic] {
        guard !catalogue.telltaleWords.isEmpty else { return [] }
        var out: [FlowDiagnostic] = []
        // What a lock screen shows first: the emergency texts themselves (options follow them).
        let emergencyKeys = Set(library.flows.filter { $0.intent != nil }.flatMap { $0.states.values.flatMap(\.say) })
        let plainOnly: Set<String> = emergencyMessageKeys.union([FlowLibrary.reportRelayKey])
        // Other languages' long tell-tale words give a text away in any language (NALOKSON,
        // NYXOID, PRZEDAWK); their short ones may be ordinary words here (Spanish DROGA is
        // Polish for "road"), so only this language's own short ones count.
        let unmistakable = Array(Set(library.catalogues.values.flatMap(\.telltaleWords).filter { $0.count >= 6 }))
        for (key, template) in catalogue.messages.sorted(by: { $0.key < $1.key }) {
            let found = library.telltales(in: template.text, locale: catalogue.locale)
            if key.hasSuffix(FlowLibrary.discreetSuffix) || key.hasSuffix(FlowLibrary.discreetSuffix + FlowLibrary.continuationSuffix) {
                let found = Set(found + FlowLibrary.telltales(in: template.text, list: unmistakable)).sorted()
                if !found.isEmpty {
                    out.append(FlowDiagnostic(.error, "discreet message '\(key)' (\(catalogue.locale)) gives it away: \(found.joined(separator: ", "))",
                                              at: template.location))
                }
                continue
            }
            // A second text goes out with its message: judged as that message is (discreet mode
            // sends the discreet variant's own second text).
            let message = Self.sourceKey(key)
            if message != key {
                // An emergency's second text lights up the lock screen too: same opening rule.
                if emergencyKeys.contains(message) {
                    let opening = library.telltales(in: String(template.text.prefix(30)), locale: catalogue.locale)
                    if !opening.isEmpty {
                        out.append(FlowDiagnostic(.error, "'\(key)' (\(catalogue.locale)) starts with a tell-tale word a lock screen would show: \(opening.joined(separator: ", "))",
                                                  at: template.location))
                    }
                }
                if !found.isEmpty, !plainOnly.contains(message), !emergencyKeys.contains(message),
                   library.template(message + FlowLibrary.discreetSuffix, locale: catalogue.locale) == nil {
                    out.append(FlowDiagnostic(.warning, "'\(key)' (\(catalogue.locale)) names \(found.joined(separator: ", ").lowercased()) and '\(message)' has no discreet variant ('\(message)\(FlowLibrary.discreetSuffix)')",
                                              at: template.location))
                }
                continue
            }
            if emergencyKeys.contains(key) {
                let opening = library.telltales(in: String(template.text.prefix(30)), locale: catalogue.locale)
                if !opening.isEmpty {
                    out.append(FlowDiagnostic(.error, "'\(key)' (\(catalogue.locale)) starts with a tell-tale word a lock screen would show: \(opening.joined(separator: ", "))",
                                              at: template.location))
                }
                continue
            }
            if !found.isEmpty, !plainOnly.contains(key), library.template(key + FlowLibrary.discreetSuffix, locale: catalogue.locale) == nil {
                out.append(FlowDiagnostic(.warning, "'\(key)' (\(catalogue.locale)) names \(found.joined(separator: ", ").lowercased()) and has no discreet variant ('\(key)\(FlowLibrary.discreetSuffix)')",
                                          at: template.location))
            }
        }
        return out
    }

    /// A keyword matches the whole text (or its start), in every language: one that is an
    /// everyday word ("Claro" = sure, "apagar" = delete) fires when she only meant the word,
    /// switching her wording or erasing her. Flows' own keywords are English; a locale's
    /// keywords are its language's.
    func checkEverydayKeywords() -> [FlowDiagnostic] {
        var out: [FlowDiagnostic] = []
        for flow in library.flows {
            for k in flow.keywords + flow.shortcuts.map(\.keyword) {
                let locale = k.locale ?? defaultLocale
                // An alias two languages share carries no locale: check it against both.
                let owners = k.locale == nil ? library.catalogues.values.filter { c in
                    c.locale == defaultLocale || (c.keywordAliases[flow.id] ?? []).contains { $0.words == k.words }
                } : library.catalogues[locale].map { [$0] } ?? []
                for catalogue in owners.sorted(by: { $0.locale < $1.locale }) where catalogue.everydayWords.contains(k.words.joined(separator: " ")) {
                    out.append(FlowDiagnostic(.error, "keyword '\(k.text)' of flow '\(flow.id)' is an everyday word in \(catalogue.name) (\(catalogue.locale)'s everyday_words): someone answering with it would start '\(flow.id)'; choose words nobody texts by accident",
                                              at: k.location ?? flow.location))
                }
            }
        }
        return out
    }

    /// The English message a translation is read against: a second text (`.continued`) against the
    /// message it continues.
    public static func sourceKey(_ key: String) -> String {
        key.hasSuffix(FlowLibrary.continuationSuffix) ? String(key.dropLast(FlowLibrary.continuationSuffix.count)) : key
    }

    /// Safety-critical translations a native speaker has not read, or read against English that
    /// has changed since: one warning per language for each, naming the messages.
    func checkReviews(_ catalogue: Catalogue) -> [FlowDiagnostic] {
        guard catalogue.locale != defaultLocale, let base = library.catalogues[defaultLocale] else { return [] }
        var unreviewed: [String] = []
        var stale: [String] = []
        for (key, template) in catalogue.messages.sorted(by: { $0.key < $1.key }) where library.isSafetyCritical(key) {
            guard let english = base.messages[key] ?? base.messages[Self.sourceKey(key)] ?? base.messages[FlowLibrary.plainKey(key)] else { continue }
            guard let review = template.review else { unreviewed.append(key); continue }
            if review.english != EnglishFingerprint.of(english.text) { stale.append(key) }
        }
        var out: [FlowDiagnostic] = []
        if !stale.isEmpty {
            out.append(FlowDiagnostic(.warning, "\(catalogue.locale): \(stale.count) safety-critical message(s) reviewed against English that has changed since (stale): \(stale.joined(separator: ", "))",
                                      at: catalogue.location))
        }
        if !unreviewed.isEmpty {
            // Until most are reviewed the list is the whole file: then by kind, not one by one.
            let kinds = unreviewed.count <= 20 ? unreviewed.joined(separator: ", ")
                : Dictionary(grouping: unreviewed) { String($0.prefix { $0 != "." }) }
                    .sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.count)" }.joined(separator: ", ")
            out.append(FlowDiagnostic(.warning, "\(catalogue.locale): \(unreviewed.count) safety-critical message(s) not yet reviewed by a native speaker (\(kinds)); send them with 'lantern locales export --format po \(catalogue.locale)'",
                                      at: catalogue.location))
        }
        return out
    }

    /// Every message an emergency or crisis flow says.
    var emergencyMessageKeys: Set<String> {
        Set(library.flows.filter { $0.intent != nil }.flatMap { f in f.states.values.flatMap { $0.say + $0.menu.map(\.label) } })
    }

    /// Every language must recognise every emergency a flow answers, and have the words to
    /// answer it itself: a mum who texts in Urdu must not get English back in that moment.
    private func checkEmergencies() -> [FlowDiagnostic] {
        var out: [FlowDiagnostic] = []
        let recogniser = library.recogniser
        for p in recogniser.problems {
            out.append(FlowDiagnostic(.error, "\(p.locale): \(p.message)", at: p.location ?? library.catalogues[p.locale]?.location))
        }
        var seen: [EmergencyIntent: Flow] = [:]
        for flow in library.flows {
            guard let intent = flow.intent else { continue }
            if let first = seen[intent] {
                out.append(FlowDiagnostic(.error, "intent '\(intent.rawValue)' is answered by flow '\(first.id)' and again by '\(flow.id)'", at: flow.location))
            }
            seen[intent] = flow
        }
        // An intent no language has words for is never found: only one some language recognises needs a flow.
        for intent in EmergencyIntent.allCases where seen[intent] == nil
            && recogniser.locales(lacking: intent).count < recogniser.locales.count {
            out.append(FlowDiagnostic(.error, "no flow answers '\(intent.rawValue)' (a flow with 'intent: \(intent.rawValue)'): the recogniser would find it and say nothing", at: nil))
        }
        for intent in EmergencyIntent.allCases where seen[intent] != nil {
            for locale in recogniser.locales(lacking: intent) {
                out.append(FlowDiagnostic(.error, "\(locale) has no '\(intent.rawValue)' words in its 'emergency:' section: that emergency would go unrecognised in \(library.catalogues[locale]?.name ?? locale)", at: library.catalogues[locale]?.location))
            }
        }
        let keys = emergencyMessageKeys.sorted()
        for (locale, catalogue) in library.catalogues.sorted(by: { $0.key < $1.key }) where locale != defaultLocale {
            let missing = keys.filter { catalogue.messages[$0] == nil }
            if !missing.isEmpty {
                out.append(FlowDiagnostic(.error, "\(locale) has no words of its own for emergency or crisis replies: \(missing.joined(separator: ", "))", at: catalogue.location))
            }
        }
        return out
    }

    private func checkBudgets(locale: String) -> [FlowDiagnostic] {
        measure(locale: locale).filter { $0.count.segments > $0.budget }.map { m in
            var why = "message '\(m.key)' (\(locale)) is \(m.count.segments) segments (\(m.count.units) \(m.count.encoding == .gsm7 ? "GSM-7 characters" : "UCS-2 units")), over its budget of \(m.budget)"
            if m.count.encoding == .ucs2 {
                // A few stray characters are worth naming (replace them and it fits); a language
                // written in its own script is UCS-2 throughout, and naming every letter helps nobody.
                let odd = Set(m.count.nonGSMCharacters)
                if odd.count <= 8 {
                    why += "; these characters force UCS-2: \(odd.map { "'\($0)'" }.sorted().joined(separator: " "))"
                } else {
                    why += "; its script is UCS-2 throughout (67 units a segment): shorten it"
                }
            }
            return FlowDiagnostic(.error, why, at: m.location)
        }
    }
}
