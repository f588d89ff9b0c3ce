import Foundation
import Testing
@testable import LanternCore

/// The recogniser's rules, on a small lexicon written here (the shipped words are measured on
/// the corpus in LanternServerTests).
@Suite struct EmergencyRecogniserTests {
    static let english = EmergencyLexicon(
        spellings: [("OD'D", "OD", nil), ("ODING", "OD", nil), ("ISNT", "IS NOT", nil), ("CANT", "CAN NOT", nil),
                    ("HES", "HE IS", nil), ("SHES", "SHE IS", nil), ("U", "YOU", nil), ("R", "ARE", nil)],
        notTypos: ["OVERDUE", "DOING", "TAKING"],
        signs: [
            .overdose: [.init("!NOT|BARELY ...3 BREATH*"), .init("!NOT ...3 WAKE|WAKING"), .init("OVERDOSE|OVERDOSED|OVERDOSING"),
                        .init("HE|SHE ...2 OD"), .init("^OD$"), .init("!LIPS ...2 BLUE"), .init("EMERGENCY"), .init("!^999$"),
                        .init("!UNCONSCIOUS")],
            .child: [.init("KID|CHILD ...4 DRANK|SWALLOWED ...4 METHADONE|PILLS")],
            .selfHarm: [.init("!WANT TO (DIE|END IT)")],
            .abuse: [.init("!HE ...2 HITS ME")],
        ],
        not: [.init("NOT AN EMERGENCY >>"), .init("IS THIS ...2 EMERGENCY"), .init("!IF SOMEONE >>"), .init("PHONE ...3 DEAD")],
        over: [.init("WOKE UP"), .init("BREATHING NOW")],
        past: [.init("LAST YEAR")],
        followUps: ["breathing": [.init("BREATHING"), .init("WOKE")], "not_breathing": [.init("NOT ...2 BREATH*")],
                    "police": [.init("POLICE")]])
    static let polish = EmergencyLexicon(signs: [.overdose: [.init("!NIE ...2 ODDYCH*"), .init("PRZEDAWK*")]],
                                          not: [.init("!JESLI KTOS >>")])
    static let urdu = EmergencyLexicon(signs: [.overdose: [.init("!سانس ...2 نہیں")]])
    static let recogniser = EmergencyRecogniser(lexicons: [("en-GB", english), ("pl", polish), ("ur", urdu)])

    func intents(_ text: String) -> [EmergencyIntent] { Self.recogniser.recognise(text).intents }

    @Test func theLexiconCompilesCleanly() {
        #expect(Self.recogniser.problems.isEmpty, "\(Self.recogniser.problems)")
    }

    @Test func textSpeakApostrophesAccentsAndHeldDownKeysKeepTheirMeaning() {
        for text in ["she isnt breathing", "she isn't breathing", "SHE ISN’T BREATHING!!!", "she isnt breathinggg", "hes od'd",
                     "hes ODing", "he's ODd", "he's ODd 😢", "she ODed…", "Nie oddychał", "nie oddycha", "OD", "od!!", "999", "۹۹۹", "lips r blue"] {
            #expect(intents(text) == [.overdose], "\(text)")
        }
    }

    @Test func wordsInScriptsAreReadAsPeopleTypeThem() {
        // Arabic-keyboard letters (ي for ی) and vowel marks don't stop a match.
        #expect(intents("سانس نہیں لے رہا") == [.overdose])
        #expect(intents("سانس نهيں لے رہا") == [.overdose])
        #expect(Self.recogniser.recognise("سانس نہیں").locales == ["ur"])
    }

    @Test func theLanguageThatSaysMostOfItAnswers() {
        let es = EmergencyLexicon(signs: [.overdose: [.init("^SOCORRO"), .init("!NO ...3 RESPIR*")]])
        let pt = EmergencyLexicon(signs: [.overdose: [.init("^SOCORRO"), .init("!NAO ...3 RESPIR*")]])
        let r = EmergencyRecogniser(lexicons: [("es", es), ("pt", pt)])
        #expect(r.recognise("socorro ele nao respira").locales == ["pt", "es"])
        #expect(r.recognise("socorro no respira").locales == ["es", "pt"])
        #expect(r.recognise("socorro").locales == ["es", "pt"])      // a tie: the library's order
    }

    @Test func typosAreForgivenOnlyWhereNoEverydayWordIs() {
        #expect(intents("he overdossed") == [.overdose])      // one slip in a long word
        #expect(intents("overdozing") == [.overdose])
        #expect(intents("unconcious") == [.overdose])
        for everyday in ["my bill is overdue", "what are you doing", "im doing ok", "im not taking anything", "odd"] {
            #expect(intents(everyday).isEmpty, "\(everyday)")
        }
    }

    @Test func shortWordsCountOnlyInThePatternsWrittenForThem() {
        #expect(intents("Jestem od rana sama").isEmpty)       // Polish "od" means "from"
        #expect(intents("dostalam list od mamy").isEmpty)
        #expect(intents("she od").isEmpty == false)
        #expect(intents("9").isEmpty)                          // 999 is not 9
        #expect(intents("999 is it free").isEmpty)             // 999 counts on its own
    }

    @Test func negationsCancelWhatTheyCover() {
        #expect(intents("not an emergency just a question").isEmpty)
        #expect(intents("is this an emergency line").isEmpty)
        #expect(intents("my phone is dead").isEmpty)
        #expect(intents("this is an emergency") == [.overdose])
        // "if someone" is about anyone: it reaches even the signs of right now after it.
        #expect(intents("what do i do if someone isnt breathing").isEmpty)
        #expect(intents("co robic jesli ktos nie oddycha").isEmpty)
        // ...but not a sign in the next sentence.
        #expect(intents("what if someone overdoses. she isnt breathing") == [.overdose])
    }

    @Test func itBeingOverCancelsOnlyWhatCameBefore() {
        #expect(intents("she wasnt breathing but she woke up").isEmpty)
        #expect(intents("she woke up and now shes not breathing") == [.overdose])
        // "breathing now" inside "not breathing now" is not over.
        #expect(intents("hes not breathing now") == [.overdose])
    }

    @Test func talkOfThePastCancelsEventsButNotSignsOfRightNow() {
        #expect(intents("she overdosed last year").isEmpty)
        #expect(intents("she overdosed last year and now she isnt waking") == [.overdose])
    }

    @Test func aTextCanSayMoreThanOneThingMostUrgentFirst() {
        #expect(intents("my kid drank my methadone") == [.child])
        #expect(intents("my kid swallowed pills and isnt breathing") == [.child, .overdose])
        #expect(intents("i want to die") == [.selfHarm])
        #expect(intents("he hits me") == [.abuse])
        #expect(intents("overdose and i want to end it") == [.overdose, .selfHarm])
    }

    @Test func followUpsPreferTheAnswerThatSaysMost() {
        let names = ["breathing", "not_breathing", "police"]
        #expect(Self.recogniser.followUp("she woke up", among: names) == "breathing")
        #expect(Self.recogniser.followUp("still not breathing", among: names) == "not_breathing")
        #expect(Self.recogniser.followUp("will the police come", among: names) == "police")
        #expect(Self.recogniser.followUp("thanks", among: names) == nil)
        #expect(Self.recogniser.followUp("police", among: ["breathing"]) == nil)
    }

    @Test func badEntriesAreReportedNotCrashedOn() {
        let broken = EmergencyRecogniser(lexicons: [("en-GB", EmergencyLexicon(
            spellings: [("CANT", "CAN NOT", nil)],
            signs: [.overdose: [.init("... BREATHING"), .init("(NOT BREATHING"), .init("CANT WAKE"), .init("OD*"), .init("!IF SOMEONE >>")]],
            over: [.init("!WOKE UP")]))])
        let messages = broken.problems.map(\.message)
        #expect(messages.contains { $0.contains("cannot start with a gap") })
        #expect(messages.contains { $0.contains("never closed") })
        #expect(messages.contains { $0.contains("'CANT'") && $0.contains("CAN NOT") })
        #expect(messages.contains { $0.contains("too short") })
        #expect(messages.contains { $0.contains("'>>' only goes") })
        #expect(messages.contains { $0.contains("'!' only marks") })
        // Whatever was fine still works.
        #expect(broken.recognise("he cant wake").intents.isEmpty)
    }

    @Test func spellingsMustAgreeAcrossLanguages() {
        let a = EmergencyLexicon(spellings: [("YA", "YOU", nil)], signs: [.overdose: [.init("OVERDOSE")]])
        let b = EmergencyLexicon(spellings: [("YA", "ALREADY", nil)], signs: [.overdose: [.init("SOBREDOSIS")]])
        let r = EmergencyRecogniser(lexicons: [("en-GB", a), ("es", b)])
        #expect(r.problems.contains { $0.locale == "es" && $0.message.contains("must agree") })
    }

    @Test func explanationsSayWhatMatchedAndWhatCancelledIt() {
        let (verdict, lines) = Self.recogniser.explain("is this an emergency line")
        #expect(!verdict.isEmergency)
        #expect(lines.contains { $0.role == "sign of overdose" && $0.cancelled })
        #expect(lines.contains { $0.role == "not" && $0.entry == "IS THIS ...2 EMERGENCY" })
    }

    @Test func anythingAPhoneCanSendIsReadWithoutCrashing() {
        let odd = ["", " ", "'''", "’’", "\u{200C}\u{200D}", String(repeating: "a", count: 5000), String(repeating: "help ", count: 2000),
                   "🙂👍🏽", "\u{0301}\u{0301}", "ÆØÅ æøå ß ı", "نہیں\u{064B}", "ਨਹੀਂ", "12345678901234567890"]
        for text in odd { _ = Self.recogniser.recognise(text) }
    }
}

/// How the engine uses the recogniser: first, for everyone, in her language, past every limit.
@Suite struct EmergencyEngineTests {
    let engine = Fixture.engine
    let now = Fixture.t0

    @Test func emergencyOutcomesAreUrgentAndPlain() {
        let o = engine.handle(text: "he's not breathing", contact: ContactContext(wording: .discreet), conversation: nil, now: now)
        #expect(o.isUrgent && o.decision == .emergency(flow: "emergency"))
        let menu = engine.handle(text: "menu", contact: ContactContext(), conversation: nil, now: now)
        #expect(!menu.isUrgent)
    }

    @Test func limitsAndBlocksNeverHoldBackAnEmergency() {
        let o = engine.handle(text: "overdose", contact: ContactContext(), conversation: nil, now: now)
        for limit in InboundLimit.allCases {
            let limited = o.limited(by: limit, keeping: nil, notice: Reply(key: "slow", text: "Slow down."))
            #expect(limited.replies == o.replies && limited.decision == o.decision, "\(limit)")
        }
        let menu = engine.handle(text: "menu", contact: ContactContext(), conversation: nil, now: now)
        #expect(menu.limited(by: .contactRate, keeping: nil, notice: nil).replies.isEmpty)
    }

    @Test func crisisFlowsAnswerTheirOwnIntent() {
        #expect(engine.handle(text: "my kid drank methadone", contact: ContactContext(), conversation: nil, now: now).replies.map(\.text) == ["999 for the child."])
        #expect(engine.handle(text: "i want to die", contact: ContactContext(isOptedOut: true), conversation: nil, now: now).replies.map(\.text) == ["Samaritans."])
        #expect(engine.handle(text: "he hits me", contact: ContactContext(), conversation: nil, now: now).isUrgent)
        // Two things in one text: both answers, most urgent first.
        let both = engine.handle(text: "overdose i want to die", contact: ContactContext(), conversation: nil, now: now)
        #expect(both.replies.map(\.text) == ["Call 999.", "Samaritans."])
    }

    @Test func somethingInGeneralIsNotAnEmergency() {
        let o = engine.handle(text: "what if someone overdoses", contact: ContactContext(), conversation: nil, now: now)
        #expect(o.decision != .emergency(flow: "emergency"))
    }
}
