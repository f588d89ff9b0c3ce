import Testing
@testable import LanternCore

@Suite struct FlowCheckTests {
    func diagnostics(flows: [Flow], messages: [String: MessageTemplate], extraCatalogues: [Catalogue] = []) -> [String] {
        var all = Fixture.catalogue.messages
        all.merge(messages) { _, new in new }
        let library = FlowLibrary(flows: Fixture.library.flows + flows,
                                  catalogues: [Catalogue(locale: "en-GB", name: "English", messages: all, emergency: Fixture.lexicon)] + extraCatalogues)
        return FlowCheck(library: library).run().map(\.description)
    }

    @Test func theFixtureIsClean() {
        let errors = FlowCheck(library: Fixture.library).run().filter { $0.severity == .error }
        #expect(errors.isEmpty, "\(errors)")
    }

    @Test func findsUnknownKeysUnreachableAndDeadEndStates() {
        let flow = Flow(id: "broken", keywords: [Keyword("BROKEN")], start: "a", states: [
            FlowState(id: "a", say: ["no.such.key"], next: "gone"),
            FlowState(id: "island", say: ["info.a"]),
            FlowState(id: "b"),
        ])
        let d = diagnostics(flows: [flow], messages: [:])
        #expect(d.contains { $0.contains("uses message 'no.such.key'") })
        #expect(d.contains { $0.contains("goes to state 'gone'") })
        #expect(d.contains { $0.contains("state 'island' can never be reached") })
        #expect(d.contains { $0.contains("state 'b' is a dead end") })
    }

    @Test func aLanguageWithoutOKWordsOrNegationsCannotRunSpot() {
        let spot = Flow(id: FlowLibrary.spotFlow, keywords: [Keyword("SPOT")], start: "a", states: [FlowState(id: "a", say: ["info.a"])])
        let bare = diagnostics(flows: [spot], messages: [:])
        #expect(bare.contains { $0.contains("en-GB lists no 'answers: ok' words for SPOT") })
        #expect(bare.contains { $0.contains("en-GB lists no 'answers: negation' words for SPOT") })
        let welsh = Catalogue(locale: "cy", name: "Cymraeg", messages: [:], emergency: Fixture.lexicon,
                              answers: [.ok: ["IAWN"], .negation: ["DDIM"]])
        let withWelsh = diagnostics(flows: [spot], messages: [:], extraCatalogues: [welsh])
        #expect(!withWelsh.contains { $0.contains("cy lists no") })
        // Without the SPOT flow nothing is asked of the answers.
        #expect(!diagnostics(flows: [], messages: [:]).contains { $0.contains("words for SPOT") })
    }

    @Test func findsDuplicateKeywordsAcrossFlows() {
        let flow = Flow(id: "other", keywords: [Keyword("naloxone!")], start: "a", states: [FlowState(id: "a", say: ["info.a"])])
        #expect(diagnostics(flows: [flow], messages: [:]).contains { $0.contains("keyword 'naloxone!' is claimed by flow 'info'") })
    }

    @Test func findsPlaceholderProblems() {
        let flow = Flow(id: "p", keywords: [Keyword("PLACE")], start: "a", states: [FlowState(id: "a", say: ["p.one", "p.two"])])
        let d = diagnostics(flows: [flow], messages: ["p.one": MessageTemplate(text: "Hi {name}"),
                                                      "p.two": MessageTemplate(text: "Broken {oops")])
        #expect(d.contains { $0.contains("uses {name}, which no flow supplies") })
        #expect(d.contains { $0.contains("'{' is never closed") })
    }

    @Test func findsMessagesOverBudgetAndNamesTheCulprit() {
        let flow = Flow(id: "long", keywords: [Keyword("LONG")], start: "a", states: [FlowState(id: "a", say: ["long.one", "long.curly"])])
        let d = diagnostics(flows: [flow], messages: [
            "long.one": MessageTemplate(text: String(repeating: "a", count: 161)),
            "long.curly": MessageTemplate(text: "It’s " + String(repeating: "a", count: 70)),
        ])
        #expect(d.contains { $0.contains("'long.one' (en-GB) is 2 segments") })
        #expect(d.contains { $0.contains("'long.curly'") && $0.contains("force UCS-2: '’'") })
    }

    @Test func everyLanguageNamesTheStrayCharactersThatForceUCS2() {
        let flow = Flow(id: "long", keywords: [Keyword("LONG")], start: "a", states: [FlowState(id: "a", say: ["long.pl"])])
        let english = MessageTemplate(text: "Short and plain.")
        let polish = Catalogue(locale: "pl", name: "Polski", messages: [
            "long.pl": MessageTemplate(text: "Mocny towar krąży. " + String(repeating: "a", count: 60)),
        ], emergency: Fixture.lexicon)
        let urdu = Catalogue(locale: "ur", name: "اردو", messages: [
            "long.pl": MessageTemplate(text: String(repeating: "سانس نہیں لے رہا ", count: 5)),
        ], emergency: Fixture.lexicon)
        let d = diagnostics(flows: [flow], messages: ["long.pl": english], extraCatalogues: [polish, urdu])
        #expect(d.contains { $0.contains("'long.pl' (pl) is 2 segments") && $0.contains("force UCS-2: 'ą'") })
        #expect(d.contains { $0.contains("'long.pl' (ur) is 2 segments") && $0.contains("its script is UCS-2 throughout") })
    }

    @Test func menuOptionsCountTowardsTheBudget() {
        let flow = Flow(id: "m", keywords: [Keyword("MLONG")], start: "a", states: [
            FlowState(id: "a", say: ["m.say"], menu: [MenuOption(label: "m.opt", target: .state("b"))]),
            FlowState(id: "b", say: ["info.a"]),
        ])
        let d = diagnostics(flows: [flow], messages: ["m.say": MessageTemplate(text: String(repeating: "a", count: 155)),
                                                      "m.opt": MessageTemplate(text: "Option")])
        #expect(d.contains { $0.contains("'m.say' (en-GB) is 2 segments") })
    }

    @Test func reportsMissingTranslationsAndUnusedKeysAsWarnings() {
        let pl = Catalogue(locale: "pl", name: "Polski", messages: ["help.main": MessageTemplate(text: "Pomoc.")])
        let library = FlowLibrary(flows: Fixture.library.flows, catalogues: [
            Catalogue(locale: "en-GB", name: "English", messages: Fixture.catalogue.messages.merging(["unused.key": MessageTemplate(text: "x")]) { a, _ in a }, emergency: Fixture.lexicon),
            pl,
        ])
        let d = FlowCheck(library: library).run()
        #expect(d.contains { $0.severity == .warning && $0.message.contains("pl is missing") })
        #expect(d.contains { $0.severity == .warning && $0.message.contains("'unused.key' is not used") })
    }

    @Test func requiresExactlyOneFallback() {
        let library = FlowLibrary(flows: Fixture.library.flows.filter { $0.id != "menu" }, catalogues: [Fixture.catalogue])
        #expect(FlowCheck(library: library).run().contains { $0.message.contains("no flow has a 'fallback'") })
    }
}

@Suite struct FlowCheckRegressionTests {
    /// A coordinator used the same placeholder twice ("say {ref} … {ref}") and `flows check` crashed.
    @Test func aRepeatedPlaceholderIsFine() {
        let flow = Flow(id: "r", keywords: [Keyword("REPEAT")], start: "a", states: [
            FlowState(id: "a", say: ["r.one"], ask: Question(expect: .areas, save: "areas", next: "b")),
            FlowState(id: "b", say: ["r.two"]),
        ])
        var messages = Fixture.catalogue.messages
        messages["r.one"] = MessageTemplate(text: "Where?")
        messages["r.two"] = MessageTemplate(text: "{areas} and again {areas}")
        let library = FlowLibrary(flows: Fixture.library.flows + [flow], catalogues: [Catalogue(locale: "en-GB", name: "English", messages: messages, emergency: Fixture.lexicon)])
        let errors = FlowCheck(library: library).run().filter { $0.severity == .error }
        #expect(errors.isEmpty, "\(errors)")
    }
}

/// `flows check` on emergencies: every language must recognise every emergency a flow answers
/// and answer it in its own words; entries it cannot read are errors with their line.
@Suite struct EmergencyFlowCheckTests {
    func errors(_ library: FlowLibrary) -> [String] {
        FlowCheck(library: library).run().filter { $0.severity == .error }.map(\.message)
    }

    @Test func aLanguageWithoutEmergencyWordsOrRepliesIsAnError() {
        let welsh = Catalogue(locale: "cy", name: "Cymraeg", messages: ["help.main": MessageTemplate(text: "Help.")])
        let found = errors(FlowLibrary(flows: Fixture.library.flows, catalogues: [Fixture.catalogue, welsh]))
        #expect(found.contains { $0.contains("cy has no 'overdose' words") })
        #expect(found.contains { $0.contains("cy has no 'self_harm' words") })
        #expect(found.contains { $0.contains("cy has no words of its own for emergency or crisis replies") && $0.contains("emergency") })
    }

    @Test func everyIntentNeedsAFlowAndOnlyOne() {
        let noChild = Fixture.library.flows.filter { $0.intent != .child }
        #expect(errors(FlowLibrary(flows: noChild, catalogues: [Fixture.catalogue])).contains { $0.contains("no flow answers 'child'") })
        let twice = Fixture.library.flows + [Flow(id: "again", intent: .abuse, isGlobal: true, runsWhenOptedOut: true, start: "s",
                                                  states: [FlowState(id: "s", say: ["danger.lines"])])]
        #expect(errors(FlowLibrary(flows: twice, catalogues: [Fixture.catalogue])).contains { $0.contains("answered by flow 'danger' and again by 'again'") })
        let local = Fixture.library.flows.map { $0.intent == .selfHarm ? Flow(id: "crisis", intent: .selfHarm, start: "s", states: [FlowState(id: "s", say: ["crisis.lines"])]) : $0 }
        #expect(errors(FlowLibrary(flows: local, catalogues: [Fixture.catalogue])).contains { $0.contains("is not 'global: true' and 'when_opted_out: true'") })
    }

    @Test func unreadableEntriesAndUnknownFollowUpsAreErrors() {
        var lexicon = Fixture.lexicon
        lexicon.not.append(.init("(IS THIS AN EMERGENCY", location: SourceLocation(file: "locales/en-GB.yaml", line: 12)))
        let en = Catalogue(locale: "en-GB", name: "English", messages: Fixture.catalogue.messages, emergency: lexicon)
        let followUp = Flow(id: "emergency", intent: .overdose, isGlobal: true, runsWhenOptedOut: true, start: "s", states: [
            FlowState(id: "s", say: ["emergency"], menu: [MenuOption(label: "opt.a", target: .state("s"), intent: "no_such_answer")]),
        ])
        let flows = Fixture.library.flows.map { $0.id == "emergency" ? followUp : $0 }
        let diagnostics = FlowCheck(library: FlowLibrary(flows: flows, catalogues: [en])).run().filter { $0.severity == .error }
        #expect(diagnostics.contains { $0.description.hasPrefix("locales/en-GB.yaml:12: error:") && $0.message.contains("never closed") })
        #expect(diagnostics.contains { $0.message.contains("follow-up 'no_such_answer', which no locale") })
    }

    @Test func anEmergencyTextOverThreeSegmentsIsAnError() {
        var messages = Fixture.catalogue.messages
        messages["emergency"] = MessageTemplate(text: String(repeating: "Call 999 now. ", count: 40), maxSegments: 3)
        let en = Catalogue(locale: "en-GB", name: "English", messages: messages, emergency: Fixture.lexicon)
        #expect(errors(FlowLibrary(flows: Fixture.library.flows, catalogues: [en])).contains { $0.contains("message 'emergency' (en-GB) is 4 segments") })
    }
}
