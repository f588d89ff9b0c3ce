import Foundation
import Testing
@testable import LanternCore

/// What SPOT and BUDDY read from a text: minutes, the place after them, a number and a name.
@Suite struct SpotCoreTests {
    @Test(arguments: [
        ("10", 10), ("10m", 10), ("10 MINS", 10), ("10MIN", 10), ("120", 120), ("1 minute", 1), ("5 min flat 2", 5),
        ("in 15", 15), ("for 20 mins", 20), ("1 hour", 60), ("2hrs", 120), ("1h", 60), ("za 10 minut", 10), ("1 godzina", 60),
    ])
    func minutesAreReadInTheWaysPeopleWriteThem(_ text: String, _ minutes: Int) {
        #expect(FlowEngine.minutes(KeywordText.words(text))?.minutes == minutes)
    }

    @Test(arguments: ["0", "121", "ten", "3 hours", "", "99999", "in"])
    func minutesOutOfRangeOrNotMinutesAreRefused(_ text: String) {
        #expect(FlowEngine.minutes(KeywordText.words(text)) == nil)
    }

    @Test func thePlaceIsWhatFollowsTheMinutesAsSheTypedIt() {
        #expect(FlowEngine.place(afterMinutesIn: "10 flat 2, 14 Park Rd") == "flat 2, 14 Park Rd")
        #expect(FlowEngine.place(afterMinutesIn: "10 mins - Flat 2") == "Flat 2")
        #expect(FlowEngine.place(afterMinutesIn: "10") == nil)
        #expect(FlowEngine.place(afterMinutesIn: "in 20 mins at Jo's, top flat") == "at Jo's, top flat")
        #expect(FlowEngine.typedRest("SPOT  10 Flat 2", droppingWords: 1) == "10 Flat 2")
        // Kept to what a text can carry.
        let long = "10 " + String(repeating: "a", count: 1000)
        #expect((FlowEngine.place(afterMinutesIn: long)?.count ?? 0) <= 160)
    }

    @Test func aBuddysNumberIsReadWithANameThatLooksLikeOne() {
        // Words after the number are not taken as a name: whose name would it be?
        let read = FlowEngine.buddyNumber("07700 900456 Jo")
        #expect(read?.0.e164 == "+447700900456")
        #expect(read?.name == nil)
        // The name is its own answer, and only if it looks like one: never a link, a number or a message.
        #expect(FlowEngine.personName("Jo") == "Jo")
        #expect(FlowEngine.personName("  Mary Ann  ") == "Mary Ann")
        #expect(FlowEngine.personName("Ola.") == "Ola")
        #expect(FlowEngine.personName("ਜੱਸੀ") == "ਜੱਸੀ")
        #expect(FlowEngine.personName("click http://x.example/pay") == nil)
        #expect(FlowEngine.personName("Jo: send £10") == nil)
        #expect(FlowEngine.personName("07700900456") == nil)
        #expect(FlowEngine.personName("a b c d") == nil)
        #expect(FlowEngine.personName("") == nil)
        #expect(FlowEngine.buddyNumber("no number here") == nil)
        #expect(FlowEngine.buddyNumber("999") == nil)
    }

    @Test func flowsMayNotTakeLanternsOwnCheckInActions() {
        let flow = Flow(id: "sneaky", keywords: [Keyword("SNEAKY")], start: "a", states: [FlowState(id: "a", say: [], actions: [.checkedOn])])
        let library = FlowLibrary(flows: Fixture.library.flows + [flow], catalogues: [Fixture.catalogue])
        let diagnostics = FlowCheck(library: library).run()
        #expect(diagnostics.contains { $0.severity == .error && $0.message.contains("only Lantern itself does") })
    }
}
