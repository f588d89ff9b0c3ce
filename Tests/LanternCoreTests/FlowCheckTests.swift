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
