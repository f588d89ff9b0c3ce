import Foundation
import Testing
@testable import LanternCore

/// A small library built in Swift, so engine rules are tested apart from the shipped wording.
enum Fixture {
    static func message(_ text: String, _ segments: Int = 1) -> MessageTemplate { MessageTemplate(text: text, maxSegments: segments) }

    /// Every message Lantern itself needs, worded as its own key, under the fixture's own.
    static let systemWords = Dictionary(uniqueKeysWithValues: FlowLibrary.engineKeys.map { ($0, message($0)) })

    static let catalogue = Catalogue(locale: "en-GB", name: "English", messages: systemWords.merging([
        "common.invalid_choice": message("Pick a number:"),
        "common.invalid_answer": message("Try again."),
        "menu.main": message("Main menu:"),
        "menu.unknown": message("Didn't get that:"),
        "opt.info": message("Info"),
        "opt.area": message("Area"),
        "info.main": message("Info text."),
        "info.more": message("More:"),
        "opt.a": message("A"),
        "opt.b": message("B"),
        "info.a": message("A text."),
        "info.b": message("B text."),
        "area.ask": message("Which area?"),
        "area.bad": message("That is not a district."),
        "area.done": message("Area {district} noted."),
        "stop.ok": message("Stopped."),
        "start.ok": message("Started."),
        "forget.ok": message("Forgotten."),
        "help.main": message("Help."),
        "emergency": message("Call 999."),
        "areas.everywhere": message("everywhere"),
        "areas.and": message("and"),
        "alert.confirmed": message("Confirmed: {text}"),
        "alert.unconfirmed": message("Unconfirmed: {text}"),
        "alert.optout": message("Reply STOP to end"),
        "child.call": message("999 for the child."),
        "crisis.lines": message("Samaritans."),
        "danger.lines": message("Helpline."),
    ]) { _, new in new }, emergency: lexicon, answers: answers)

    /// Yes, no and the rest in a few languages, as locale files give them.
    static let answers: [AnswerWord: [String]] = [
        .yes: ["YES", "Y", "OK", "TAK", "DA", "SÍ", "SIM", "IE"], .no: ["NO", "N", "NIE", "NU", "NÃO", "NA"],
        .dontKnow: ["DON'T KNOW", "SKIP"], .everywhere: ["ALL", "EVERYWHERE"],
    ]

    /// A few emergency words, enough to test the engine's rules (the shipped ones are tested
    /// on the corpus).
    static let lexicon = EmergencyLexicon(
        spellings: [("ISNT", "IS NOT", nil), ("HES", "HE IS", nil), ("ITS", "IT IS", nil)],
        signs: [.overdose: [.init("!NOT BREATHING"), .init("OVERDOS*"), .init("AN|HE ...2 OD")],
                .child: [.init("KID ...3 DRANK ...3 METHADONE")],
                .selfHarm: [.init("!WANT TO DIE")],
                .abuse: [.init("!HE HITS ME")]],
        not: [.init("!IF SOMEONE >>")])

    /// The crisis flows every library needs (flows check insists), each saying one line.
    static let crisisFlows = [
        Flow(id: "child", intent: .child, isGlobal: true, runsWhenOptedOut: true, start: "s", states: [FlowState(id: "s", say: ["child.call"])]),
        Flow(id: "crisis", intent: .selfHarm, isGlobal: true, runsWhenOptedOut: true, start: "s", states: [FlowState(id: "s", say: ["crisis.lines"])]),
        Flow(id: "danger", intent: .abuse, isGlobal: true, runsWhenOptedOut: true, start: "s", states: [FlowState(id: "s", say: ["danger.lines"])]),
    ]

    static let library = FlowLibrary(flows: [
        Flow(id: "emergency", intent: .overdose, isGlobal: true,
             runsWhenOptedOut: true, start: "s", states: [FlowState(id: "s", say: ["emergency"])]),
        Flow(id: "stop", keywords: [Keyword("STOP", match: .whole), Keyword("UNSUBSCRIBE", match: .whole)], isGlobal: true,
             start: "s", states: [FlowState(id: "s", say: ["stop.ok"], actions: [.optOut])]),
        Flow(id: "start", keywords: [Keyword("START", match: .whole)], optedOutKeywords: [Keyword("YES", match: .whole)],
             isGlobal: true, runsWhenOptedOut: true, start: "s",
             states: [FlowState(id: "s", say: ["start.ok"], actions: [.optIn])]),
        Flow(id: "forget", keywords: [Keyword("FORGET", match: .whole)], isGlobal: true, runsWhenOptedOut: true, start: "s",
             states: [FlowState(id: "s", say: ["forget.ok"], actions: [.erase])]),
        Flow(id: "help", keywords: [Keyword("HELP")], isGlobal: true, start: "s", states: [FlowState(id: "s", say: ["help.main"])]),
        Flow(id: "menu", keywords: [Keyword("MENU")], isGlobal: true, start: "main", fallbackState: "unknown", states: [
            FlowState(id: "main", say: ["menu.main"], menu: [
                MenuOption(label: "opt.info", target: .flow("info")), MenuOption(label: "opt.area", target: .flow("area"))]),
            FlowState(id: "unknown", say: ["menu.unknown"], menu: [
                MenuOption(label: "opt.info", target: .flow("info")), MenuOption(label: "opt.area", target: .flow("area"))]),
        ]),
        Flow(id: "info", keywords: [Keyword("NALOXONE"), Keyword("INFO MORE")],
             start: "main", shortcuts: [.init(keyword: Keyword("BRAVO"), state: "b")], states: [
                FlowState(id: "main", say: ["info.main", "info.more"], menu: [
                    MenuOption(label: "opt.a", target: .state("a")), MenuOption(label: "opt.b", target: .state("b"))]),
                FlowState(id: "a", say: ["info.a"]),
                FlowState(id: "b", say: ["info.b"]),
             ], timeout: 600),
        Flow(id: "area", keywords: [Keyword("AREA")], start: "ask", states: [
            FlowState(id: "ask", say: ["area.ask"], ask: Question(expect: .postcodeDistrict, save: "district", next: "done"),
                      invalid: "area.bad"),
            FlowState(id: "done", say: ["area.done"]),
        ]),
    ] + crisisFlows, catalogues: [catalogue])

    static let engine = FlowEngine(library: library)
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
}

@Suite struct FlowEngineTests {
    let engine = Fixture.engine
    let now = Fixture.t0
    let person = ContactContext()
    let optedOut = ContactContext(isOptedOut: true)

    func waiting(_ flow: String, _ state: String, expires: TimeInterval = 300, vars: [String: String] = [:]) -> ConversationState {
        ConversationState(flow: flow, state: state, expiresAt: Fixture.t0.addingTimeInterval(expires), variables: vars)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        var optedOut = false
        var conversation: ConversationState? = nil
        let replies: [String]
        var actions: [FlowAction] = []
        var endsIn: String? = nil          // "flow/state" the conversation waits in, nil when it ended
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "keyword starts a flow and waits at its menu", text: "Naloxone!!",
             replies: ["Info text.", "More:\n1 A\n2 B"], endsIn: "info/main"),
        Case(name: "typo tolerated", text: "nalaxone", replies: ["Info text.", "More:\n1 A\n2 B"], endsIn: "info/main"),
        Case(name: "keyword followed by more words", text: "naloxone please", replies: ["Info text.", "More:\n1 A\n2 B"], endsIn: "info/main"),
        Case(name: "two-word keyword beats one-word", text: "info more", replies: ["Info text.", "More:\n1 A\n2 B"], endsIn: "info/main"),
        Case(name: "shortcut jumps to a state", text: "bravo", replies: ["B text."]),
        Case(name: "numbered answer", text: "2", conversation: .init(flow: "info", state: "main", expiresAt: Fixture.t0 + 60),
             replies: ["B text."]),
        Case(name: "numbered answer with punctuation", text: " 1. ", conversation: .init(flow: "info", state: "main", expiresAt: Fixture.t0 + 60),
             replies: ["A text."]),
        Case(name: "out-of-range number re-asks and keeps waiting", text: "7",
             conversation: .init(flow: "info", state: "main", expiresAt: Fixture.t0 + 60),
             replies: ["Pick a number:\n1 A\n2 B"], endsIn: "info/main"),
        Case(name: "answer after timeout gets the short menu", text: "2",
             conversation: .init(flow: "info", state: "main", expiresAt: Fixture.t0 - 1),
             replies: ["Didn't get that:\n1 Info\n2 Area"], endsIn: "menu/unknown"),
        Case(name: "global keyword wins mid-flow", text: "help", conversation: .init(flow: "info", state: "main", expiresAt: Fixture.t0 + 60),
             replies: ["Help."]),
        Case(name: "another flow's keyword mid-flow starts it", text: "area",
             conversation: .init(flow: "info", state: "main", expiresAt: Fixture.t0 + 60), replies: ["Which area?"], endsIn: "area/ask"),
        Case(name: "menu option starts another flow", text: "2", conversation: .init(flow: "menu", state: "main", expiresAt: Fixture.t0 + 60),
             replies: ["Which area?"], endsIn: "area/ask"),
        Case(name: "validated answer is saved and rendered", text: "bs5 6aa",
             conversation: .init(flow: "area", state: "ask", expiresAt: Fixture.t0 + 60), replies: ["Area BS5 noted."]),
        Case(name: "invalid answer uses the state's message", text: "somewhere",
             conversation: .init(flow: "area", state: "ask", expiresAt: Fixture.t0 + 60), replies: ["That is not a district."], endsIn: "area/ask"),
        Case(name: "STOP mid-flow opts out and ends it", text: "STOP",
             conversation: .init(flow: "info", state: "main", expiresAt: Fixture.t0 + 60), replies: ["Stopped."], actions: [.optOut]),
        Case(name: "opt-out words need the whole message", text: "stop it", replies: ["Didn't get that:\n1 Info\n2 Area"], endsIn: "menu/unknown"),
        Case(name: "long opt-out word tolerates a typo", text: "unsubscibe", replies: ["Stopped."], actions: [.optOut]),
        Case(name: "emergency beats a keyword in the same text", text: "naloxone he's not breathing", replies: ["Call 999."]),
        Case(name: "emergency beats STOP-like flows mid-flow", text: "I think its an OD",
             conversation: .init(flow: "area", state: "ask", expiresAt: Fixture.t0 + 60), replies: ["Call 999."]),
        Case(name: "unrecognised gets the short menu", text: "what is this", replies: ["Didn't get that:\n1 Info\n2 Area"], endsIn: "menu/unknown"),
        Case(name: "empty text gets the short menu", text: "", replies: ["Didn't get that:\n1 Info\n2 Area"], endsIn: "menu/unknown"),
        Case(name: "FORGET erases", text: "forget", conversation: .init(flow: "info", state: "main", expiresAt: Fixture.t0 + 60),
             replies: ["Forgotten."], actions: [.erase]),
        Case(name: "YES alone does not opt in someone who never left", text: "yes", replies: ["Didn't get that:\n1 Info\n2 Area"], endsIn: "menu/unknown"),
        Case(name: "opted out: ordinary texts are ignored", text: "naloxone", optedOut: true, replies: []),
        Case(name: "opted out: STOP again is silent", text: "stop", optedOut: true, replies: []),
        Case(name: "opted out: START opts back in", text: "start", optedOut: true, replies: ["Started."], actions: [.optIn]),
        Case(name: "opted out: YES opts back in", text: "Yes", optedOut: true, replies: ["Started."], actions: [.optIn]),
        Case(name: "opted out: FORGET still erases", text: "FORGET", optedOut: true, replies: ["Forgotten."], actions: [.erase]),
        Case(name: "opted out: emergency steps still come", text: "overdose", optedOut: true, replies: ["Call 999."]),
    ]

    @Test(arguments: cases)
    func engineRule(_ c: Case) {
        let outcome = engine.handle(text: c.text, contact: ContactContext(isOptedOut: c.optedOut), conversation: c.conversation, now: now)
        #expect(outcome.replies.map(\.text) == c.replies)
        #expect(outcome.actions == c.actions)
        #expect(outcome.conversation.map { "\($0.flow)/\($0.state)" } == c.endsIn)
    }

    @Test func waitingStatesExpireAfterTheFlowTimeout() {
        let outcome = engine.handle(text: "naloxone", contact: person, conversation: nil, now: now)
        #expect(outcome.conversation?.expiresAt == now.addingTimeInterval(600))
    }

    @Test func decisionsNeverCarryTheText() {
        let canary = "canary-7f3a secret words"
        for text in [canary, "naloxone " + canary, "overdose " + canary] {
            let outcome = engine.handle(text: text, contact: person, conversation: nil, now: now)
            #expect(!outcome.decision.description.lowercased().contains("canary"))
            #expect(!outcome.replies.contains { $0.text.contains("canary") })
            #expect(outcome.conversation?.variables.values.contains { $0.contains("canary") } != true)
        }
    }

    @Test func decisionsAreStructured() {
        #expect(engine.handle(text: "nalaxone", contact: person, conversation: nil, now: now).decision
                == .keyword(flow: "info", keyword: "NALOXONE"))
        #expect(engine.handle(text: "x", contact: person, conversation: nil, now: now).decision == .fallback(flow: "menu", timedOut: false))
        #expect(engine.handle(text: "x", contact: optedOut, conversation: nil, now: now).decision == .ignoredWhileOptedOut)
    }
}
