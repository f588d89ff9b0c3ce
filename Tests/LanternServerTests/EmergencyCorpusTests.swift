import Foundation
import LanternCore
import LanternTesting
import Testing
@testable import LanternServer

/// The emergency recogniser, measured on texts written as people send them (in every language,
/// with typos, text-speak and no punctuation), against the shipped locale files.
@Suite struct EmergencyCorpusTests {
    static let library = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).load().library

    @Test func theCorpusIsBigEnoughAndCoversEveryLanguage() throws {
        let corpus = try EmergencyCorpus()
        #expect(corpus.emergencies.count >= 300 && corpus.everyday.count >= 300,
                "\(corpus.emergencies.count) emergency and \(corpus.everyday.count) everyday texts")
        for locale in Self.library.catalogues.keys {
            let file = locale == defaultLocale ? "en" : locale
            #expect(corpus.texts.contains { $0.locale == file && $0.intent != nil } && corpus.texts.contains { $0.locale == file && $0.intent == nil },
                    "no \(locale) texts")
        }
    }

    /// Every language has texts of the kinds the recogniser was weakest on: naloxone given and no
    /// response, a danger sign said less surely, and the fear of police.
    @Test func everyLanguageHasNoResponseMaybeAndPoliceTexts() throws {
        let corpus = try EmergencyCorpus()
        for locale in Self.library.catalogues.keys {
            let file = locale == defaultLocale ? "en" : locale
            let mine = corpus.texts.filter { $0.locale == file }
            #expect(mine.filter { $0.intent == .noResponse }.count >= 8, "\(locale): no_response")
            #expect(mine.filter { $0.section == "maybe" }.count >= 5, "\(locale): maybe")
            #expect(mine.filter { $0.section == "police" }.count >= 4, "\(locale): police")
        }
    }

    @Test func recallIsAtLeast98PercentAndFalseAlarmsAtMost2Percent() throws {
        let score = try EmergencyCorpus().score(Self.library.recogniser)
        let detail = (score.missed.map { "missed \($0.locale):\($0.line) \($0.text)" }
                      + score.falseAlarms.map { "false alarm \($0.locale):\($0.line) \($0.text)" }
                      + score.wrongIntent.map { "wrong intent \($0.locale):\($0.line) \($0.text)" }).joined(separator: "\n")
        #expect(score.recall >= 0.98, "\(score)\n\(detail)")
        #expect(score.falseAlarmRate <= 0.02, "\(score)\n\(detail)")
        #expect(score.wrongIntent.isEmpty, "\(score)\n\(detail)")
        let maybeDetail = score.maybeMissed.map { "maybe missed \($0.locale):\($0.line) \($0.text)" }.joined(separator: "\n")
        let policeDetail = score.policeWrong.map { "police wrong \($0.locale):\($0.line) \($0.text)" }.joined(separator: "\n")
        #expect(score.maybeMissed.isEmpty, "\(score)\n\(maybeDetail)")
        #expect(score.policeWrong.isEmpty, "\(score)\n\(policeDetail)")
        print("emergency corpus: \(score)")
        for t in score.missed { print("  missed \(t.locale):\(t.line) \(t.text)") }
        for t in score.falseAlarms { print("  false alarm \(t.locale):\(t.line) \(t.text)") }
    }
}
