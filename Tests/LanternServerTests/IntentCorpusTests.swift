import Foundation
import LanternCore
import LanternTesting
import Testing
@testable import LanternServer

/// The intent recogniser, measured through the engine on sentences held out from its examples
/// (Tests/LanternServerTests/Intents/<locale>.txt, written apart from locales/examples/): where
/// each sentence lands, as a new person sending it would see.
@Suite struct IntentCorpusTests {
    static let library = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).load().library

    struct Landed {
        var total = 0, right = 0
        var byIntent: [String: (right: Int, total: Int)] = [:]
        var misses: [String] = []
        var acts: [String] = []
    }

    static func corpus() throws -> [IntentExample] {
        let dir = Repository.root.appendingPathComponent("Tests/LanternServerTests/Intents")
        var diagnostics: [FlowDiagnostic] = []
        var out: [IntentExample] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where name.hasSuffix(".txt") {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            out += IntentExamplesFile.parse(text, locale: String(name.dropLast(4)), file: name, diagnostics: &diagnostics)
        }
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        return out
    }

    /// Each held-out sentence, from a new person: did she reach the flow she meant?
    static func landed() throws -> Landed {
        let engine = FlowEngine(library: library)
        var result = Landed()
        for example in try corpus() {
            let outcome = engine.handle(text: example.text, contact: ContactContext(isNew: true), conversation: nil, now: Date())
            let meant = library.flow(forIntent: example.intent)?.id
            let reached: String? = switch outcome.decision {
            case .understood(let flow, _), .keyword(let flow, _), .emergency(let flow), .fallback(let flow, _): flow
            default: nil
            }
            let ok = reached == meant
            result.total += 1
            result.byIntent[example.intent, default: (0, 0)].total += 1
            if ok { result.right += 1; result.byIntent[example.intent]!.right += 1 }
            else { result.misses.append("\(example.locale) [\(example.intent)] -> \(reached ?? "?") (\(outcome.decision)): \(example.text)") }
            if outcome.actions.contains(.optOut) || outcome.actions.contains(.erase) {
                result.acts.append("\(example.locale): \(example.text)")
            }
        }
        return result
    }

    @Test func theHeldOutSentencesCoverEveryIntentInEveryLanguage() throws {
        let corpus = try Self.corpus()
        let intents = Set(Self.library.understanding.examples.map(\.intent))
        #expect(intents.count >= 18, "\(intents.sorted())")
        for locale in Self.library.catalogues.keys.sorted() {
            for intent in intents.sorted() {
                #expect(corpus.filter { $0.locale == locale && $0.intent == intent }.count >= 5, "\(locale) \(intent)")
            }
        }
        // Held out means held out: no test sentence is also an example.
        let taught = Set(Self.library.understanding.examples.map { KeywordText.words($0.text) })
        let copied = corpus.filter { taught.contains(KeywordText.words($0.text)) }
        #expect(copied.count <= corpus.count / 50, "\(copied.map(\.text))")
    }

    @Test func ninetyPercentReachWhatTheyMeantAndEveryIntentThreeQuarters() throws {
        let result = try Self.landed()
        let share = Double(result.right) / Double(max(1, result.total))
        #expect(share >= 0.90, "\(result.right) of \(result.total)\n\(result.misses.joined(separator: "\n"))")
        for (intent, score) in result.byIntent.sorted(by: { $0.key < $1.key }) {
            #expect(Double(score.right) >= 0.75 * Double(score.total), "\(intent): \(score.right) of \(score.total)")
        }
    }

    /// Opting out and erasure stay whole-text words: no sentence does either by itself.
    @Test func noSentenceOptsAnyoneOutOrErasesAnyone() throws {
        let result = try Self.landed()
        #expect(result.acts.isEmpty, "\(result.acts)")
    }

    /// A new person's language, from a text of three words or more: right for 95%.
    @Test func aNewPersonsLanguageIsRightFromHerFirstText() throws {
        var total = 0, right = 0
        var wrong: [String] = []
        for example in try Self.corpus() where KeywordText.words(example.text).count >= 3 {
            total += 1
            let found = Self.library.understanding.language(of: example.text)
            // Romanised Urdu or Panjabi is recognised as such (she is then answered in English she can read).
            if found?.locale == example.locale || (found == nil && example.locale == defaultLocale) { right += 1 }
            else { wrong.append("\(example.locale) -> \(found?.locale ?? "none"): \(example.text)") }
        }
        #expect(total > 300)
        #expect(Double(right) >= 0.95 * Double(total), "\(right) of \(total)\n\(wrong.joined(separator: "\n"))")
    }
}

/// The examples are data coordinators edit: flows check says what is wrong with them.
extension IntentCorpusTests {
    @Test func flowsCheckRefusesExamplesThatLeadNowhereOrWouldOptSomeoneOut() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let locales = dir.url.appendingPathComponent("locales")
        try FileManager.default.copyItem(at: Repository.locales, to: locales)
        let extra = "an example before any section\n[stop]\nplease stop all of it\n[forget]\nwipe me out\n[nonsense]\nfoo bar\n[kit\n"
        let en = locales.appendingPathComponent("examples/en-GB.txt")
        try (String(contentsOf: en, encoding: .utf8) + "\n" + extra).write(to: en, atomically: true, encoding: .utf8)
        let errors = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: locales).loadAndCheck().diagnostics
            .filter { $0.severity == .error }.map(\.message)
        #expect(errors.contains("intent 'stop' would start 'stop', which opts out or erases: a sentence never does that by itself"), "\(errors)")
        #expect(errors.contains("intent 'forget' would start 'forget', which opts out or erases: a sentence never does that by itself"), "\(errors)")
        #expect(errors.contains("examples for intent 'nonsense', which no flow answers (name a flow, or opt_out / erase)"), "\(errors)")
        #expect(errors.contains("'[kit' is not a section: write [intent]"), "\(errors)")
    }
}
