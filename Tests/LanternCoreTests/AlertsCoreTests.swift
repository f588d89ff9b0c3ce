import Foundation
import Testing
@testable import LanternCore

@Suite struct AreaCodesTests {
    let areas = [NamedArea(name: "Bristol", districts: [PostcodeDistrict("BS5")!, PostcodeDistrict("BS6")!]),
                 NamedArea(name: "Glasgow East", aliases: ["Glasgow E"], districts: [PostcodeDistrict("G31")!])]

    @Test(arguments: [
        ("BS5", ["BS5"]), ("bs5, m14", ["BS5", "M14"]), ("BS5 and M14 and bs5", ["BS5", "M14"]),
        ("bristol", ["@bristol"]), ("glasgow east", ["@glasgow-east"]), ("Glasgow E", ["@glasgow-east"]),
        ("g31 6aa", ["G31"]), ("all", ["*"]), ("BS5 and everywhere", ["*"]), ("M14 Bristol", ["M14", "@bristol"]),
    ])
    func parses(input: String, codes: [String]) {
        #expect(AreaCodes.parse(KeywordText.words(input), areas: areas, everywhereWords: ["ALL", "EVERYWHERE"]) == codes)
    }

    /// Words for "everywhere" come from the locale files: without them only ALL means it.
    @Test func everywhereIsWhatTheLocaleFilesSay() {
        #expect(AreaCodes.parse(["EVERYWHERE"], areas: areas) == nil)
        #expect(AreaCodes.parse(["ALL"], areas: areas) == ["*"])
        #expect(AreaCodes.parse(["WSZEDZIE"], areas: areas, everywhereWords: ["WSZEDZIE"]) == ["*"])
    }

    @Test(arguments: ["", "somewhere", "BS5 somewhere", "glasgow west", "and"])
    func rejectsAnythingNotAnArea(input: String) {
        #expect(AreaCodes.parse(KeywordText.words(input), areas: areas) == nil)
    }

    @Test func reachCoversNamedAreasBothWays() {
        #expect(AreaCodes.reach(of: ["BS5"], areas: areas) == ["*", "BS5", "@bristol"])
        #expect(AreaCodes.reach(of: ["@bristol"], areas: areas) == ["*", "@bristol", "BS5", "BS6"])
        #expect(AreaCodes.reach(of: ["M14"], areas: areas) == ["*", "M14"])
        #expect(AreaCodes.reach(of: ["*"], areas: areas) == nil)
    }

    @Test func describesInWords() {
        #expect(AreaCodes.describe(["BS5", "M14", "@bristol"], areas: areas, everywhereWord: "all areas", andWord: "and") == "BS5, M14 and Bristol")
        #expect(AreaCodes.describe(["*"], areas: areas, everywhereWord: "all areas", andWord: "and") == "all areas")
    }
}

@Suite struct AlertFlowEngineTests {
    static let catalogue = Catalogue(locale: "en-GB", name: "English", messages: Fixture.catalogue.messages.merging([
        "a.ask": MessageTemplate(text: "Which area?"),
        "a.confirm": MessageTemplate(text: "YES for {areas}?"),
        "a.done": MessageTemplate(text: "Now: {my_areas}."),
        "a.no": MessageTemplate(text: "Cancelled."),
        "a.bad": MessageTemplate(text: "Not an area."),
        "p.ask": MessageTemplate(text: "Hours?"),
        "p.done": MessageTemplate(text: "Paused {hours}h."),
        "m.some": MessageTemplate(text: "You have {my_areas}."),
        "m.none": MessageTemplate(text: "None."),
    ]) { _, new in new }, emergency: Fixture.lexicon, answers: Fixture.answers)

    static let library = FlowLibrary(flows: Fixture.library.flows + [
        Flow(id: "alerts", keywords: [Keyword("ALERTS")], start: "ask", states: [
            FlowState(id: "ask", say: ["a.ask"], ask: Question(expect: .areas, save: "areas", next: "confirm"), invalid: "a.bad"),
            FlowState(id: "confirm", say: ["a.confirm"], ask: Question(expect: .yesNo, save: nil, next: nil, branches: ["yes": "done", "no": "no"])),
            FlowState(id: "done", say: ["a.done"], actions: [.subscribe]),
            FlowState(id: "no", say: ["a.no"]),
        ]),
        Flow(id: "pause", keywords: [Keyword("PAUSE")], start: "ask", states: [
            FlowState(id: "ask", say: ["p.ask"], ask: Question(expect: .hours, save: "hours", next: "done")),
            FlowState(id: "done", say: ["p.done"], actions: [.pause]),
        ]),
        Flow(id: "mine", keywords: [Keyword("MINE")], start: "check", states: [
            FlowState(id: "check", check: Check(condition: .subscribed, then: "some", otherwise: "none")),
            FlowState(id: "some", say: ["m.some"]),
            FlowState(id: "none", say: ["m.none"]),
        ]),
    ], catalogues: [catalogue], areas: [NamedArea(name: "Bristol")])

    let engine = FlowEngine(library: library)
    let now = Fixture.t0

    @Test func theLibraryIsClean() {
        let errors = FlowCheck(library: Self.library).run().filter { $0.severity == .error }
        #expect(errors.isEmpty, "\(errors)")
    }

    @Test func wordsAfterTheKeywordAnswerTheFirstQuestion() {
        let o = engine.handle(text: "alerts bs5 and bristol", contact: ContactContext(), conversation: nil, now: now)
        #expect(o.replies.map(\.text) == ["YES for BS5 and Bristol?"])
        #expect(o.conversation?.state == "confirm")
        #expect(o.conversation?.variables["areas"] == "BS5,@bristol")
        #expect(o.decision == .keyword(flow: "alerts", keyword: "ALERTS"))
        // Words that don't answer it just start the flow.
        let p = engine.handle(text: "alerts please", contact: ContactContext(), conversation: nil, now: now)
        #expect(p.replies.map(\.text) == ["Which area?"])
    }

    @Test func yesSubscribesAndTheReplyAlreadyKnows() {
        let waiting = ConversationState(flow: "alerts", state: "confirm", expiresAt: now + 60, variables: ["areas": "BS5"])
        let yes = engine.handle(text: "Yes!", contact: ContactContext(subscriptions: ["M14"]), conversation: waiting, now: now)
        #expect(yes.actions == [.subscribe])
        #expect(yes.variables["areas"] == "BS5")
        #expect(yes.replies.map(\.text) == ["Now: M14 and BS5."])
        let no = engine.handle(text: "no", contact: ContactContext(), conversation: waiting, now: now)
        #expect(no.actions.isEmpty)
        #expect(no.replies.map(\.text) == ["Cancelled."])
    }

    @Test func hoursAreBounded() {
        #expect(engine.handle(text: "pause 24", contact: ContactContext(), conversation: nil, now: now).actions == [.pause])
        #expect(engine.handle(text: "pause 24h", contact: ContactContext(), conversation: nil, now: now).replies.map(\.text) == ["Paused 24h."])
        #expect(engine.handle(text: "pause 0", contact: ContactContext(), conversation: nil, now: now).actions.isEmpty)
        #expect(engine.handle(text: "pause 169", contact: ContactContext(), conversation: nil, now: now).actions.isEmpty)
    }

    @Test func checksBranchOnWhatIsKnown() {
        #expect(engine.handle(text: "mine", contact: ContactContext(subscriptions: ["*"]), conversation: nil, now: now).replies.map(\.text)
                == ["You have everywhere."])
        #expect(engine.handle(text: "mine", contact: ContactContext(), conversation: nil, now: now).replies.map(\.text) == ["None."])
    }

    @Test func flowCheckCatchesActionsWithoutTheirValues() {
        let broken = FlowLibrary(flows: Self.library.flows + [
            Flow(id: "bad", keywords: [Keyword("BADSUB")], start: "s", states: [FlowState(id: "s", say: ["a.no"], actions: [.subscribe])]),
        ], catalogues: [Self.catalogue])
        #expect(FlowCheck(library: broken).run().contains { $0.message.contains("does 'subscribe', which needs 'areas'") })
    }

    @Test func alertTextIsMarkedAndCarriesTheOptOut() {
        #expect(Self.library.alertText(body: "Bad batch in BS5.", confirmed: true, locale: "en-GB") == "Confirmed: Bad batch in BS5.\nReply STOP to end")
        #expect(Self.library.alertText(body: "x", confirmed: false, locale: "pl") == "Unconfirmed: x\nReply STOP to end")
    }
}
