import Foundation
import PropertyBased
import Testing
@testable import LanternCore

@Suite struct AutoReplyTests {
    @Test(arguments: [
        "I'm driving with Do Not Disturb While Driving turned on. I'll see your message when I get where I'm going.",
        "Automatic reply: I am out of the office until Monday",
        "AUTO-REPLY: this number does not receive messages",
        "This is an automated message, please do not reply to this number",
        "Out of office",
    ])
    func recognisesAutomaticAnswers(text: String) {
        #expect(AutoReply.looksAutomatic(text))
    }

    /// What a person really sends must never be mistaken for an auto-reply.
    @Test(arguments: [
        "STOP", "naloxone", "HELP", "1", "kit", "he's not breathing", "I'm driving to his now what do I do, he won't wake up",
        "reply please", "I'm out of naloxone", "Office closed? where can I get a kit", "do not disturb me again STOP",
    ])
    func leavesPeopleAlone(text: String) {
        #expect(!AutoReply.looksAutomatic(text))
    }
}

@Suite struct InboundLimitTests {
    let conversation = ConversationState(flow: "info", state: "main", expiresAt: Fixture.t0 + 60)
    let notice = Reply(key: "limits.slow_down", text: "Pause a minute.")

    @Test func overTheLimitOnlyOptOutAndErasureGetThrough() {
        let engine = Fixture.engine
        let contact = ContactContext()
        let menu = engine.handle(text: "naloxone", contact: contact, conversation: conversation, now: Fixture.t0)
        let limited = menu.limited(by: .contactRate, keeping: conversation, notice: notice)
        #expect(limited.replies == [notice] && limited.actions.isEmpty && limited.conversation == conversation)
        #expect(limited.decision == .limited(.contactRate))
        #expect(menu.limited(by: .globalRate, keeping: conversation, notice: nil).replies.isEmpty)

        let stop = engine.handle(text: "STOP", contact: contact, conversation: conversation, now: Fixture.t0)
        let stillStops = stop.limited(by: .contactRate, keeping: conversation, notice: notice)
        #expect(stillStops.actions == [.optOut] && stillStops.replies == stop.replies)

        let forget = engine.handle(text: "FORGET", contact: contact, conversation: conversation, now: Fixture.t0)
        let stillForgets = forget.limited(by: .blocked, keeping: conversation, notice: nil)
        #expect(stillForgets.actions == [.erase] && stillForgets.conversation == nil)
        // A blocked number is not answered, not even to confirm.
        #expect(stillForgets.replies.isEmpty)
    }
}

/// The keyword matcher and engine take anything a phone can send: they never crash, never go
/// silent, and emergency words win wherever they appear.
@Suite struct EngineFuzzTests {
    static let anyText = Gen.oneOf(
        Gen.character(in: " "..."\u{2FFF}").string(of: 0...200),
        Gen<Character?>.element(of: Array("NALOXONE STOP help 1 2 ?!'’ é ÂĂ menu\n\t.-")).map { $0! }.string(of: 0...60)
    )

    @Test func anyTextGetsAnAnswerNeverACrash() async {
        await propertyCheck(count: 3000 * fuzzScale, input: Self.anyText, Gen.bool) { text, waiting in
            let conversation = waiting ? ConversationState(flow: "info", state: "main", expiresAt: Fixture.t0 + 60) : nil
            let outcome = Fixture.engine.handle(text: text, contact: ContactContext(), conversation: conversation, now: Fixture.t0)
            #expect(!outcome.replies.isEmpty, "no answer to \(text.debugDescription)")
            _ = KeywordText.words(text)
        }
    }

    @Test func emergencyWordsWinAnywhere() async {
        await propertyCheck(count: 1000 * fuzzScale, input: Gen.letter.string(of: 0...30), Gen.letter.string(of: 0...30)) { before, after in
            let text = before + " overdose " + after
            let outcome = Fixture.engine.handle(text: text, contact: ContactContext(), conversation: nil, now: Fixture.t0)
            #expect(outcome.decision == .emergency(flow: "emergency"), "\(text.debugDescription)")
        }
    }
}

/// `LANTERN_FUZZ_SCALE=100 swift test --filter Fuzz` runs a hundred times as many cases;
/// CI runs the default, a few seconds' worth. Each run draws new inputs (its seed is printed
/// on failure, so a case can be replayed).
let fuzzScale = Int(ProcessInfo.processInfo.environment["LANTERN_FUZZ_SCALE"] ?? "") ?? 1

@Suite struct LanguageChoiceTests {
    static let polish = Catalogue(locale: "pl", name: "Polski", messages: [
        "help.main": MessageTemplate(text: "Pomoc."), "language.set": MessageTemplate(text: "Po polsku."),
    ], selectors: [Keyword("POLSKI", match: .whole, locale: "pl")], keywordAliases: ["help": [Keyword("POMOC", locale: "pl")]])
    static let library = FlowLibrary(flows: Fixture.library.flows, catalogues: Array(Fixture.library.catalogues.values) + [polish])
    let engine = FlowEngine(library: LanguageChoiceTests.library)

    @Test func theFirstWordOfANewPersonPicksHerLanguage() {
        let first = engine.handle(text: "pomoc", contact: ContactContext(isNew: true), conversation: nil, now: Fixture.t0)
        #expect(first.actions == [.setLanguage] && first.variables["language"] == "pl")
        #expect(first.replies.map(\.text) == ["Pomoc."])
        // Someone who already talks to us in English keeps English (the alias still works).
        let known = engine.handle(text: "pomoc", contact: ContactContext(isNew: false), conversation: nil, now: Fixture.t0)
        #expect(known.actions.isEmpty && known.replies.first?.text != "Pomoc.")
    }

    @Test func aLanguagesNameOnItsOwnSwitchesFromAnywhere() {
        let waiting = ConversationState(flow: "info", state: "main", expiresAt: Fixture.t0 + 60)
        let outcome = engine.handle(text: "Polski!", contact: ContactContext(), conversation: waiting, now: Fixture.t0)
        #expect(outcome.actions == [.setLanguage] && outcome.variables["language"] == "pl" && outcome.replies.map(\.text) == ["Po polsku."])
        // Inside a sentence it is just a word.
        let sentence = engine.handle(text: "i speak polski", contact: ContactContext(), conversation: nil, now: Fixture.t0)
        #expect(!sentence.actions.contains(.setLanguage))
    }

    @Test func yesAndNoInEveryLanguage() {
        for yes in ["tak", "Da", "sí", "sim", "ie"] { #expect(engine.validate(KeywordText.words(yes), text: yes, as: .yesNo) == "yes", "\(yes)") }
        for no in ["nie", "nu", "não", "na"] { #expect(engine.validate(KeywordText.words(no), text: no, as: .yesNo) == "no", "\(no)") }
    }
}

@Suite struct DiscretionTests {
    static func library(_ messages: [String: String], telltales: [String] = ["NALOX", "OVERDOS"], wording: Wording = .discreet) -> FlowLibrary {
        let base = Array(Fixture.library.catalogues.values).first { $0.locale == defaultLocale }!
        var all = base.messages
        for (k, v) in messages { all[k] = MessageTemplate(text: v) }
        let en = Catalogue(locale: defaultLocale, name: "English", messages: all, telltaleWords: telltales, emergency: Fixture.lexicon)
        return FlowLibrary(flows: Fixture.library.flows, catalogues: [en], defaultWording: wording)
    }

    @Test func discreetIsTheDefaultPlainIsHerChoiceEmergencyIsAlwaysPlain() {
        let lib = Self.library(["info.main.discreet": "About the spray.", "emergency.discreet": "Hidden steps."])
        let engine = FlowEngine(library: lib)
        #expect(engine.handle(text: "naloxone", contact: ContactContext(), conversation: nil, now: Fixture.t0).replies.first?.text == "About the spray.")
        #expect(engine.handle(text: "naloxone", contact: ContactContext(wording: .plain), conversation: nil, now: Fixture.t0).replies.first?.text == "Info text.")
        // Life first: the emergency steps ignore any discreet variant.
        let emergency = engine.handle(text: "overdose", contact: ContactContext(wording: .discreet), conversation: nil, now: Fixture.t0)
        #expect(emergency.replies.first?.key == "emergency" && emergency.replies.first?.text != "Hidden steps.")
        // A service can make plain the default.
        let plainService = FlowEngine(library: Self.library(["info.main.discreet": "About the spray."], wording: .plain))
        #expect(plainService.handle(text: "naloxone", contact: ContactContext(), conversation: nil, now: Fixture.t0).replies.first?.text == "Info text.")
    }

    @Test func flowsCheckRefusesADiscreetVariantThatGivesItAway() {
        let leaky = FlowCheck(library: Self.library(["info.main.discreet": "About the naloxone spray."])).run()
        #expect(leaky.contains { $0.severity == .error && $0.message.contains("'info.main.discreet'") && $0.message.contains("NALOX") })
        let missing = FlowCheck(library: Self.library(["info.a": "Naloxone, step A."])).run()
        #expect(missing.contains { $0.severity == .warning && $0.message.contains("'info.a'") && $0.message.contains("no discreet variant") })
        let loud = FlowCheck(library: Self.library(["emergency": "Overdose! Call 999."])).run()
        #expect(loud.contains { $0.severity == .error && $0.message.contains("starts with a tell-tale word") })
        let clean = FlowCheck(library: Self.library(["info.main.discreet": "About the spray."])).run()
        #expect(!clean.contains { $0.message.contains("discreet message") })
    }

    @Test func pickupPointsThatGiveItAwayNeedADiscreetNameAndGetIt() {
        func library(_ points: [PickupPoint]) -> FlowLibrary {
            let base = Self.library([:], telltales: ["NALOX", "DRUG", "NEEDLE"])
            return FlowLibrary(flows: base.flows, catalogues: Array(base.catalogues.values), pickupPoints: points, defaultWording: .discreet)
        }
        let leaky = FlowCheck(library: library([PickupPoint(name: "Drug service, High St", area: "BS5", hours: "Mon 10-4")])).run()
        #expect(leaky.contains { $0.severity == .error && $0.message.contains("'Drug service, High St' gives away") })
        let stillLeaky = FlowCheck(library: library([PickupPoint(name: "Drug service", area: "BS5", hours: "Mon", discreetName: "Needle place")])).run()
        #expect(stillLeaky.contains { $0.severity == .error && $0.message.contains("still gives it away") })
        let fixed = library([PickupPoint(name: "Drug service, High St", area: "BS5", hours: "Mon 10-4", discreetName: "Support centre, High St")])
        #expect(!FlowCheck(library: fixed).run().contains { $0.message.contains("pickup point") })
        #expect(fixed.pickupPointList(for: ["BS5"], discreet: true) == "1 Support centre, High St (Mon 10-4)")
        #expect(fixed.pickupPointList(for: ["BS5"], discreet: false) == "1 Drug service, High St (Mon 10-4)")
    }
}
