import Foundation
import Testing
@testable import LanternCore

@Suite struct KitReportCoreTests {
    static let catalogue = Catalogue(locale: "en-GB", name: "English", messages: Fixture.catalogue.messages.merging([
        "d.ask": MessageTemplate(text: "Describe it."),
        "d.more": MessageTemplate(text: "Anything else?"),
        "d.done": MessageTemplate(text: "Sent as {ref}."),
        "addr.ask": MessageTemplate(text: "Address?"),
        "addr.done": MessageTemplate(text: "Kit {ref}."),
    ]) { _, new in new }, emergency: Fixture.lexicon)

    static let library = FlowLibrary(flows: Fixture.library.flows + [
        Flow(id: "report", keywords: [Keyword("REPORT")], start: "describe", states: [
            FlowState(id: "describe", say: ["d.ask"], menu: [], ask: Question(expect: .text, save: "description", next: "sent")),
            FlowState(id: "sent", say: ["d.done"], actions: []),
        ]),
        Flow(id: "kit", keywords: [Keyword("KIT")], start: "addr", states: [
            FlowState(id: "addr", say: ["addr.ask"], ask: Question(expect: .address, save: "address", next: "done")),
            FlowState(id: "done", say: ["addr.done"], actions: [.requestKit]),
        ]),
    ], catalogues: [catalogue])

    let engine = FlowEngine(library: library)
    let now = Fixture.t0

    @Test(arguments: [
        ("12 Example Street, Bristol BS5 6AA", true), ("Flat 2 12 Example St BS56AA", true), ("1 Test Rd, London SW1A 1AA", true),
        ("12 Example Street, Bristol", false), ("BS5", false), ("BS5 6AA", true),
    ])
    func addressesNeedAFullPostcode(_ text: String, _ valid: Bool) {
        let v = engine.validate(KeywordText.words(text), text: text, as: .address)
        #expect((v != nil) == valid)
        if valid { #expect(v == text) }
    }

    @Test func freeTextIsAnsweredButNeverKeptAndKeywordsMustBeWhole() {
        let waiting = ConversationState(flow: "report", state: "describe", expiresAt: now + 60)
        let o = engine.handle(text: "help, sold as heroin", contact: ContactContext(), conversation: waiting, now: now)
        #expect(o.replies.map(\.text) == ["Sent as {ref}."])
        #expect(o.variables["description"] == "help, sold as heroin")
        #expect(o.conversation == nil)
        // Just the keyword is still the keyword.
        #expect(engine.handle(text: "HELP", contact: ContactContext(), conversation: waiting, now: now).replies.map(\.text) == ["Help."])
    }

    @Test func anEmergencyIsNeverTakenAsTheAnswerToAQuestion() {
        let waiting = ConversationState(flow: "report", state: "describe", expiresAt: now + 60)
        let o = engine.handle(text: "my friend overdosed on it", contact: ContactContext(), conversation: waiting, now: now)
        #expect(o.replies.map(\.text) == ["Call 999."])
        #expect(o.variables["description"] == nil)
        #expect(!o.effects.contains { if case .relayReport = $0 { true } else { false } })
    }

    @Test func referencesComeFromTheSeedGivenAndTheRequestIsATypedEffect() throws {
        let a = engine.handle(text: "kit", contact: ContactContext(), conversation: nil, now: now, seed: 42)
        var waiting = try #require(a.conversation)
        waiting.variables = ["kind": "spray", "method": "post"]      // as the shipped flow's menus set them
        let o = engine.handle(text: "1 Road, Bristol BS5 6AA", contact: ContactContext(), conversation: waiting, now: now, seed: 42)
        guard o.effects.count == 1, case .requestKit(let order) = try #require(o.effects.first) else {
            Issue.record("expected one kit request, got \(o.effects)")
            return
        }
        #expect(order.ref == ReferenceCode.make(prefix: "K", seed: 42))
        #expect(order == KitOrder(ref: order.ref, kind: "spray", method: "post", address: "1 Road, Bristol BS5 6AA"))
        #expect(o.replies.map(\.text) == ["Kit \(order.ref)."])
        // Another seed, another reference: the engine has no randomness of its own.
        let other = engine.handle(text: "1 Road, Bristol BS5 6AA", contact: ContactContext(), conversation: waiting, now: now, seed: 43)
        #expect(other.effects != o.effects)
    }

    @Test func referenceCodesAreReadable() {
        let code = ReferenceCode.make(prefix: "R", seed: 123_456_789)
        #expect(code.count == 2 + ReferenceCode.length && code.hasPrefix("R-"))
        // Four-character codes handed out before still read back until they expire.
        #expect(ReferenceCode.parse("r 3kd9", prefix: "R") == "R-3KD9")
        #expect(!code.contains("0") && !code.contains("O") && !code.contains("I") && !code.contains("1"))
        #expect(ReferenceCode.parse(code.lowercased(), prefix: "R") == code)
        #expect(ReferenceCode.parse("r " + code.dropFirst(2), prefix: "R") == code)
        #expect(ReferenceCode.parse("K-ABCD", prefix: "R") == nil)
        #expect(ReferenceCode.parse("R-AB0D", prefix: "R") == nil)
    }
}
