import Foundation
import LanternCore
import LanternTesting
import Testing
@testable import LanternServer

@Suite struct FlowFilesTests {
    @Test func theShippedFlowsAreClean() {
        let (library, diagnostics) = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).loadAndCheck()
        // Every language complete: no errors, and no warnings (missing translations, missing
        // discreet variants, unused messages) either, but one: no language other than English
        // has had a native speaker's review yet (README, "Languages"), and flows check says so.
        let unreviewed = diagnostics.filter { $0.message.contains("safety-critical message(s) not yet reviewed by a native speaker") }
        #expect(Set(unreviewed.compactMap { $0.message.split(separator: ":").first.map(String.init) }) == ["cy", "es", "pa", "pl", "pt", "ro", "ur"])
        let rest = diagnostics.filter { !unreviewed.contains($0) }
        #expect(rest.isEmpty, "\(rest.map(\.description).joined(separator: "\n"))")
        #expect(Set(library.flows.map(\.id)).isSuperset(of: ["menu", "help", "privacy", "naloxone", "emergency", "stop", "start", "forget"]))
    }

    @Test func everyShippedMessageFitsItsBudgetAndIsPlainGSM() {
        let (library, _) = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).loadAndCheck()
        for m in FlowCheck(library: library).measure(locale: "en-GB") where m.key != "language.choose" {
            #expect(m.count.segments <= m.budget, "\(m.key)")
            #expect(m.count.encoding == .gsm7, "\(m.key) is UCS-2 because of \(m.count.nonGSMCharacters)")
        }
    }

    /// Lists Lantern builds are measured as sent: the language list names languages in their own
    /// scripts, so it is UCS-2 and two segments, and its budget says so.
    @Test func generatedListsAreMeasuredAsTheyAreSent() {
        let (library, _) = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).loadAndCheck()
        let measured = FlowCheck(library: library).measure(locale: "en-GB").first { $0.key == "language.choose" }
        let sent = FlowEngine(library: library).handle(text: "LANG", contact: ContactContext(), conversation: nil, now: Date())
        #expect(measured?.count == SMSSegments.count(sent.replies[0].text))
        #expect(measured?.count.encoding == .ucs2 && measured?.count.segments == 2 && measured?.budget == 2)
    }

    @Test func everyMessageInEveryLanguageFitsItsBudgetAndNoDiscreetOneGivesItAway() {
        let (library, _) = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).loadAndCheck()
        #expect(library.catalogues.keys.sorted() == ["cy", "en-GB", "es", "pa", "pl", "pt", "ro", "ur"])
        for locale in library.catalogues.keys.sorted() {
            for m in FlowCheck(library: library).measure(locale: locale) {
                #expect(m.count.segments <= m.budget && m.count.segments <= 3, "\(locale) \(m.key): \(m.count.segments) segments")
            }
            let catalogue = library.catalogues[locale]!
            #expect(!catalogue.telltaleWords.isEmpty, "\(locale) has no tell-tale list")
            for (key, template) in catalogue.messages where key.hasSuffix(FlowLibrary.discreetSuffix) {
                #expect(library.telltales(in: template.text, locale: locale).isEmpty, "\(locale) \(key)")
            }
        }
    }

    @Test func twilioOptOutWordsAllOptOut() {
        let (library, _) = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).loadAndCheck()
        let engine = FlowEngine(library: library)
        for word in ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "stop.", "Stop!"] {
            let outcome = engine.handle(text: word, contact: ContactContext(), conversation: nil, now: Date())
            #expect(outcome.actions == [.optOut], "\(word)")
        }
    }

    func check(flow: String, locale: String = "locale: en-GB\nmessages:\n  a: \"A\"\n") throws -> [String] {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let flows = dir.url.appendingPathComponent("flows"), locales = dir.url.appendingPathComponent("locales")
        try FileManager.default.createDirectory(at: flows, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: locales, withIntermediateDirectories: true)
        try flow.write(to: flows.appendingPathComponent("test.yaml"), atomically: true, encoding: .utf8)
        try locale.write(to: locales.appendingPathComponent("en-GB.yaml"), atomically: true, encoding: .utf8)
        return FlowFiles(flowsDirectory: flows, localesDirectory: locales).loadAndCheck().diagnostics.map(\.description)
    }

    @Test func problemsPointAtTheFileAndLine() throws {
        let d = try check(flow: """
            flow: test
            keywords: [TEST]
            start: one
            fallback: one
            states:
              one:
                say: a
                sya: typo
              two:
                say: missing.key
            """)
        #expect(d.contains { $0.contains("test.yaml:8:") && $0.contains("unknown field 'sya'") }, "\(d)")
        #expect(d.contains { $0.contains("test.yaml:9:") && $0.contains("'missing.key'") }, "\(d)")
        #expect(d.contains { $0.contains("test.yaml:9:") && $0.contains("state 'two' can never be reached") }, "\(d)")
    }

    @Test func invalidYAMLIsReportedWithItsLine() throws {
        let d = try check(flow: "flow: test\nkeywords: [TEST\nstart: one\n")
        #expect(d.contains { $0.contains("test.yaml:") && $0.contains("not valid YAML") }, "\(d)")
    }

    @Test func badValuesAreExplained() throws {
        let d = try check(flow: """
            flow: test
            keywords: ["!!"]
            global: maybe
            timeout: soon
            start: one
            fallback: one
            states:
              one:
                say: a
                do: explode
            """)
        #expect(d.contains { $0.contains("'!!' has no letters or digits") })
        #expect(d.contains { $0.contains("'global' must be true or false") })
        #expect(d.contains { $0.contains("'timeout' must be a duration") })
        #expect(d.contains { $0.contains("unknown action 'explode'") })
    }
}

extension FlowFilesTests {
    /// A question that does not say how to get out is flagged, in whichever language it is.
    @Test func everyQuestionSaysHowToGetOut() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let locales = dir.url.appendingPathComponent("locales")
        try FileManager.default.copyItem(at: Repository.locales, to: locales)
        let pl = locales.appendingPathComponent("pl.yaml")
        let text = try String(contentsOf: pl, encoding: .utf8)
        #expect(text.contains(" MENU - powrot."))
        try text.replacingOccurrences(of: "Usuwamy adres po wysylce. MENU - powrot.", with: "Usuwamy adres po wysylce.")
            .write(to: pl, atomically: true, encoding: .utf8)
        let (_, diagnostics) = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: locales).loadAndCheck()
        #expect(diagnostics.contains { $0.message == "question 'kit.ask_address' (pl) does not say how to get out: mention MENU" },
                "\(diagnostics.map(\.message))")
    }
}
