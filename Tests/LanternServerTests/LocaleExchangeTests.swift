import Foundation
@testable import LanternCore
import LanternTesting
import Testing
@testable import LanternServer

/// Translators' path: PO out, PO back in, reviews that go stale when the English changes, and
/// keywords that must not be everyday words.
@Suite struct LocaleExchangeTests {
    /// A copy of the shipped locales to change freely.
    struct Copy {
        let dir: TemporaryDirectory
        let locales: URL
        var files: FlowFiles { FlowFiles(flowsDirectory: Repository.flows, localesDirectory: locales) }
        init() throws {
            dir = try TemporaryDirectory()
            locales = dir.url.appendingPathComponent("locales")
            try FileManager.default.copyItem(at: Repository.locales, to: locales)
        }
        func read(_ locale: String) throws -> String {
            try String(contentsOf: locales.appendingPathComponent("\(locale).yaml"), encoding: .utf8)
        }
        func write(_ locale: String, _ text: String) throws {
            try text.write(to: locales.appendingPathComponent("\(locale).yaml"), atomically: true, encoding: .utf8)
        }
        func diagnostics() -> [FlowDiagnostic] { files.loadAndCheck().diagnostics }
    }

    @Test func exportingAndImportingEveryLanguageLeavesItsFileByteForByteTheSame() throws {
        let copy = try Copy()
        defer { copy.dir.remove() }
        let exchange = LocaleExchange(files: copy.files)
        for locale in ["cy", "es", "pa", "pl", "pt", "ro", "ur"] {
            let before = try copy.read(locale)
            let po = try exchange.export(locale: locale)
            // The PO file reads back to what was written.
            let parsed = try PortableObject.parse(po)
            #expect(try PortableObject.parse(parsed.written()) == parsed)
            #expect(parsed.headerValue("Language") == locale)
            let result = try exchange.importPO(po, today: "2026-12-08")
            #expect(result.changed.isEmpty && !result.written, "\(locale): \(result.changed)")
            #expect(try copy.read(locale) == before, "\(locale) changed on a round trip")
        }
    }

    @Test func anExportCarriesWhatATranslatorNeeds() throws {
        let copy = try Copy()
        defer { copy.dir.remove() }
        let po = try PortableObject.parse(LocaleExchange(files: copy.files).export(locale: "pl"))
        let library = copy.files.loadAndCheck().library
        let steps = try #require(po.entries.first { $0.context == "emergency.steps" })
        #expect(steps.id == library.catalogues["en-GB"]?.messages["emergency.steps"]?.text)
        #expect(steps.translation == library.catalogues["pl"]?.messages["emergency.steps"]?.text)
        #expect(steps.notes.contains { $0.hasPrefix("SAFETY-CRITICAL") })
        #expect(steps.notes.contains("length: at most 3 SMS segments (459 characters; only 201 if any letter outside the SMS alphabet is used)"))
        #expect(steps.notes.contains("review: not reviewed by a native speaker"))
        let discreet = try #require(po.entries.first { $0.context == "naloxone.use.discreet" })
        #expect(discreet.notes.contains { $0.hasPrefix("wording: DISCREET") && $0.contains("NALOKSON") })
        #expect(po.entries.contains { $0.context == "kit.requested_post" && $0.notes.contains("keep as they are: {ref}") })
        // What coordinators read stays in the service's language, so it is not sent out.
        #expect(!po.entries.contains { $0.context == FlowLibrary.reportRelayKey })
        let ur = try PortableObject.parse(LocaleExchange(files: copy.files).export(locale: "ur"))
        #expect(ur.entries.first { $0.context == "emergency.steps" }?.notes.contains("length: at most 3 SMS segments (201 characters in this script)") == true)
    }

    @Test func aReviewedImportIsRecordedAndGoesStaleWhenTheEnglishChanges() throws {
        let copy = try Copy()
        defer { copy.dir.remove() }
        let exchange = LocaleExchange(files: copy.files)
        var po = try PortableObject.parse(exchange.export(locale: "pl"))
        // The reviewer corrects one message and is unsure of another (left fuzzy).
        let fixed = "Dzwon 999 teraz i popros o karetke: to nic nie kosztuje. Zostan z ta osoba."
        po.entries = po.entries.map { e in
            var e = e
            if e.context == "emergency.no_naloxone" { e.translation = fixed }
            if e.context == "privacy.main" { e.flags = ["fuzzy"] }
            return e
        }
        let result = try exchange.importPO(po.written(), reviewer: "Ala Nowak", today: "2026-12-08")
        #expect(result.written && result.changed == ["emergency.no_naloxone"])
        #expect(result.reviewed.contains("emergency.steps") && result.reviewed.contains("emergency.no_naloxone") && !result.reviewed.contains("privacy.main"))
        let library = copy.files.loadAndCheck().library
        let pl = try #require(library.catalogues["pl"])
        #expect(pl.messages["emergency.no_naloxone"]?.text == fixed)
        let english = try #require(library.catalogues["en-GB"]?.messages["emergency.steps"]?.text)
        #expect(pl.messages["emergency.steps"]?.review == MessageReview(by: "Ala Nowak", on: "2026-12-08", english: EnglishFingerprint.of(english)))
        #expect(pl.messages["privacy.main"]?.review == nil)
        // Only privacy.main is still waiting in Polish; nothing is stale.
        let before = copy.diagnostics().filter { $0.message.hasPrefix("pl:") }.map(\.message)
        #expect(before.count == 1 && before[0].hasPrefix("pl: 1 safety-critical message(s) not yet reviewed by a native speaker (privacy.main)"), "\(before)")

        // The English steps change: the Polish review no longer vouches for them.
        try copy.write("en-GB", copy.read("en-GB").replacingOccurrences(of: "Shout their name, shake their shoulders.", with: "Shout their name, rub their chest bone."))
        let after = copy.diagnostics().filter { $0.message.hasPrefix("pl:") }.map(\.message)
        #expect(after.contains { $0.contains("stale") && $0.contains("emergency.steps") }, "\(after)")
        // And the next export marks it fuzzy, with the English it was reviewed against called older.
        let again = try PortableObject.parse(exchange.export(locale: "pl"))
        let steps = try #require(again.entries.first { $0.context == "emergency.steps" })
        #expect(steps.isFuzzy && steps.notes.contains { $0.hasPrefix("review: STALE: reviewed by Ala Nowak on 2026-12-08") })
        #expect(again.entries.first { $0.context == "emergency.no_naloxone" }?.isFuzzy == false)
    }

    @Test func anImportThatWouldBreakTheFilesIsRefusedAndWritesNothing() throws {
        let copy = try Copy()
        defer { copy.dir.remove() }
        let exchange = LocaleExchange(files: copy.files)
        let before = try copy.read("pt")
        var po = try PortableObject.parse(exchange.export(locale: "pt"))
        po.entries = po.entries.map { e in
            var e = e
            if e.context == "menu.unknown" { e.translation = String(repeating: "Nao percebi. ", count: 20) }
            if e.context == "kit.requested_post" { e.translation = "O teu pedido {rf} está feito." }
            return e
        }
        #expect {
            try exchange.importPO(po.written(), today: "2026-12-08")
        } throws: { error in
            guard case LocaleExchange.ExchangeError.refused(let problems) = error else { return false }
            return problems.contains { $0.contains("menu.unknown") && $0.contains("over its budget") }
                && problems.contains { $0.contains("kit.requested_post") && $0.contains("{rf}") }
        }
        #expect(try copy.read("pt") == before)
        // Keys English does not have, and files that are not PO, are refused too.
        #expect(throws: LocaleExchange.ExchangeError.self) {
            try exchange.importPO("msgid \"\"\nmsgstr \"Language: pt\\n\"\n\nmsgctxt \"no.such.key\"\nmsgid \"x\"\nmsgstr \"y\"\n", today: "2026-12-08")
        }
        #expect(throws: LocaleExchange.ExchangeError.self) { try exchange.importPO("<html>", today: "2026-12-08") }
        #expect(throws: LocaleExchange.ExchangeError.self) { try exchange.export(locale: "en-GB") }
    }

    /// Everyday words texted alone mean themselves: not the keyword one letter away, and the old
    /// keywords that were everyday words no longer fire. The new ones do.
    @Test func anEverydayWordIsNeverTakenForAKeyword() {
        let library = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).loadAndCheck().library
        let engine = FlowEngine(library: library)
        func first(_ text: String) -> (key: String, actions: [FlowAction]) {
            let outcome = engine.handle(text: text, contact: ContactContext(), conversation: nil, now: Date())
            return (outcome.replies.first?.key ?? "", outcome.actions)
        }
        for (text, not) in [("fala", "talk."), ("causa", "pause."), ("quien", "pause."), ("paso", "emergency."), ("habla", "talk."),
                            ("Claro", "wording."), ("Direct", "wording."), ("avisa", "report.")] {
            #expect(!first(text).key.hasPrefix(not), "'\(text)' started \(first(text).key)")
        }
        for text in ["apagar", "olvidalo", "Zapomnij!", "anghofio", "Olvídalo"] {
            #expect(!first(text).actions.contains(.erase), "'\(text)' erased her")
        }
        #expect(first("BORRAME").actions.contains(.erase) && first("apaga-me").actions.contains(.erase) && first("usun mnie").actions.contains(.erase))
        #expect(first("sin rodeos").actions.contains(.plainWording) && first("sem rodeios").actions.contains(.plainWording))
        #expect(first("falar").key.hasPrefix("talk.") && first("pausa").key.hasPrefix("pause."))
    }

    /// A language that needs more than three segments for a message says the rest in a second
    /// text, sent straight after it; the menu follows the last text.
    @Test func aSecondTextFollowsItsMessageAndNeverStandsAlone() throws {
        let copy = try Copy()
        defer { copy.dir.remove() }
        let pl = try copy.read("pl")
        try copy.write("pl", pl + "  emergency.steps.continued: \"DALEJ: zostan z ta osoba do przyjazdu pomocy.\"\n  menu.option.kit.continued: \"nigdy\"\n")
        let (library, diagnostics) = copy.files.loadAndCheck()
        #expect(diagnostics.contains { $0.message == "'menu.option.kit.continued' (pl) would be a second text for a message no flow says, so it is never sent" })
        #expect(!diagnostics.contains { $0.message.contains("emergency.steps.continued") }, "\(diagnostics.map(\.message))")
        let outcome = FlowEngine(library: library).handle(text: "nie oddycha", contact: ContactContext(language: "pl"), conversation: nil, now: Date())
        let texts = outcome.replies.map(\.text)
        #expect(texts.count == 3, "\(texts)")
        #expect(texts.first == library.catalogues["pl"]?.messages["emergency.steps"]?.text)
        #expect(texts.dropFirst().first == "DALEJ: zostan z ta osoba do przyjazdu pomocy.")
        #expect(texts.last?.contains("\n1 ") == true)
        // English has no second text: one text, as before.
        let english = FlowEngine(library: library).handle(text: "she isnt breathing", contact: ContactContext(), conversation: nil, now: Date())
        #expect(english.replies.count == 2)
    }

    /// A discreet text gives nothing away in any language: another language's unmistakable word
    /// (the Polish for naloxone in a Spanish lock-screen text) is refused; a short word that is
    /// ordinary here ("droga", a road, in Polish) is not.
    @Test func aDiscreetTextIsCheckedAgainstEveryLanguagesUnmistakableWords() throws {
        let copy = try Copy()
        defer { copy.dir.remove() }
        try copy.write("es", copy.read("es") + "  menu.main.discreet: \"Pide el kit de NALOKSON en tu farmacia.\"\n")
        try copy.write("pl", copy.read("pl") + "  menu.unknown.discreet: \"Nie rozumiem. Szczesliwa droga.\"\n")
        let errors = copy.diagnostics().filter { $0.severity == .error }.map(\.message)
        #expect(errors.contains("discreet message 'menu.main.discreet' (es) gives it away: NALOKSON"), "\(errors)")
        #expect(!errors.contains { $0.contains("(pl)") }, "\(errors)")
    }

    /// KIT lists the service's supplies in her language: discreet names unless she chose plain.
    @Test func kitListsSuppliesInHerLanguage() {
        let library = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).loadAndCheck().library
        let engine = FlowEngine(library: library)
        func list(_ language: String, _ wording: Wording) -> String {
            engine.handle(text: "KIT", contact: ContactContext(language: language, wording: wording), conversation: nil, now: Date()).replies.map(\.text).joined()
        }
        let polish = list("pl", .discreet)
        #expect(polish.contains("1 Spray do nosa") && polish.contains("Zestaw do uda") && !polish.contains("Nose spray"), "\(polish)")
        #expect(list("pl", .plain).contains("1 Nalokson w sprayu do nosa (Nyxoid)"))
        #expect(list("en-GB", .discreet).contains("1 Nose spray"))
        // Every language has every example supply in its own words, discreet ones giving nothing away.
        for supply in library.supplies {
            #expect(Set(supply.translations.keys) == ["cy", "es", "pa", "pl", "pt", "ro", "ur"], "\(supply.id)")
            for (locale, names) in supply.translations {
                #expect(library.telltales(in: names.discreetName, locale: locale).isEmpty, "\(supply.id) \(locale)")
            }
        }
    }

    /// Polish "no" is "yeah": from someone writing in Polish it is asked again, never taken as
    /// English "no"; everyone else's "no" is no, and Polish TAK and NIE are clear.
    @Test func aWordThatIsYesInOneLanguageAndNoInAnotherIsAskedAgain() {
        let library = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).loadAndCheck().library
        let engine = FlowEngine(library: library)
        func answer(_ text: String, _ language: String) -> String? {
            engine.validate(KeywordText.words(text), text: text, as: .yesNo, contact: ContactContext(language: language))
        }
        #expect(answer("no", "pl") == nil && answer("No dobra", "pl") == nil)
        #expect(answer("nie", "pl") == "no" && answer("tak", "pl") == "yes")
        #expect(answer("no", "en-GB") == "no" && answer("no", "es") == "no")
    }

    /// "Claro" (sure) as Spanish PLAIN, "apagar" (delete) as Portuguese FORGET: refused.
    @Test func aKeywordThatIsAnEverydayWordIsRefused() throws {
        let copy = try Copy()
        defer { copy.dir.remove() }
        #expect(copy.diagnostics().filter { $0.severity == .error }.isEmpty)
        let es = try copy.read("es")
        let plain = try #require(es.firstRange(of: #/\n  plain: \[[^\]]*\]/#))
        try copy.write("es", es.replacingCharacters(in: plain, with: "\n  plain: [CLARO]"))
        let pt = try copy.read("pt")
        let forget = try #require(pt.firstRange(of: #/\n  forget: \[[^\]]*\]/#))
        try copy.write("pt", pt.replacingCharacters(in: forget, with: "\n  forget: [APAGAR, APAGA-ME]"))
        let errors = copy.diagnostics().filter { $0.severity == .error }.map(\.message)
        #expect(errors.contains { $0.hasPrefix("keyword 'CLARO' of flow 'plain' is an everyday word in Español") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("keyword 'APAGAR' of flow 'forget' is an everyday word in Português") }, "\(errors)")
        #expect(errors.count == 2, "\(errors)")
    }
}
