import Foundation
import LanternCore

/// The labelled texts the emergency recogniser is measured on (`Tests/LanternServerTests/Corpus`):
/// one file per language, sections `[overdose]`, `[child]`, `[self_harm]`, `[abuse]` (texts that
/// must get an emergency or crisis reply) and `[everyday]` (texts that must not).
public struct EmergencyCorpus: Sendable {
    public struct Text: Sendable {
        public let locale: String
        /// nil: an everyday text, or one of the two kinds below.
        public let intent: EmergencyIntent?
        public let text: String
        public let line: Int
        /// `[maybe]`: a danger sign said less surely, which must get at least the 999 line;
        /// `[police]`: a question about police or social services, which must get the honest
        /// answer and never the steps.
        public var section: String = ""
    }

    public let texts: [Text]
    public static var directory: URL { Repository.root.appendingPathComponent("Tests/LanternServerTests/Corpus") }

    public init(directory: URL = EmergencyCorpus.directory) throws {
        var texts: [Text] = []
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".txt") }.sorted()
        for file in files {
            let locale = String(file.dropLast(4))
            let body = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            var section: String?
            for (n, raw) in body.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                if line.hasPrefix("[") && line.hasSuffix("]") { section = String(line.dropFirst().dropLast()); continue }
                guard let section else { throw CorpusError(message: "\(file):\(n + 1): text before any [section]") }
                let intent: EmergencyIntent?
                if Self.otherSections.contains(section) { intent = nil } else if let i = EmergencyIntent(rawValue: section) { intent = i } else {
                    throw CorpusError(message: "\(file):\(n + 1): unknown section [\(section)]")
                }
                texts.append(Text(locale: locale, intent: intent, text: line, line: n + 1, section: section))
            }
        }
        self.texts = texts
    }

    static let otherSections: Set<String> = ["everyday", "maybe", "police"]
    public var emergencies: [Text] { texts.filter { $0.intent != nil } }
    public var everyday: [Text] { texts.filter { $0.section == "everyday" } }
    public var maybes: [Text] { texts.filter { $0.section == "maybe" } }
    public var policeQuestions: [Text] { texts.filter { $0.section == "police" } }

    public struct CorpusError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// How a recogniser does on this corpus.
    public struct Score: Sendable, CustomStringConvertible {
        public let missed: [Text]
        public let wrongIntent: [Text]
        public let falseAlarms: [Text]
        /// `[maybe]` texts that got neither the 999 line nor the steps.
        public let maybeMissed: [Text]
        /// `[police]` texts that got the steps, or not the police answer.
        public let policeWrong: [Text]
        public let emergencies: Int
        public let everyday: Int
        public var recall: Double { Double(emergencies - missed.count) / Double(max(1, emergencies)) }
        public var falseAlarmRate: Double { Double(falseAlarms.count) / Double(max(1, everyday)) }
        public var description: String {
            String(format: "recall %.1f%% (%d of %d), false alarms %.1f%% (%d of %d), wrong intent %d",
                   recall * 100, emergencies - missed.count, emergencies, falseAlarmRate * 100, falseAlarms.count, everyday, wrongIntent.count)
                + ", maybe missed \(maybeMissed.count), police wrong \(policeWrong.count)"
        }
    }

    public func score(_ recogniser: EmergencyRecogniser) -> Score {
        var missed: [Text] = [], wrong: [Text] = [], alarms: [Text] = [], maybeMissed: [Text] = [], policeWrong: [Text] = []
        for t in texts {
            let found = recogniser.recognise(t.text)
            switch t.intent {
            case nil where t.section == "maybe":
                // Not sure is never "no": the steps are a safe answer too.
                if !found.maybe && !found.isEmergency { maybeMissed.append(t) }
            case nil where t.section == "police":
                if !found.police || found.isEmergency { policeWrong.append(t) }
            case nil: if found.isEmergency { alarms.append(t) }
            case let intent?:
                if !found.isEmergency { missed.append(t) }
                // An overdose text answered as a poisoned child still gets 999 first; any other
                // intent must be among those found.
                else if intent != .overdose && !found.intents.contains(intent) { wrong.append(t) }
            }
        }
        return Score(missed: missed, wrongIntent: wrong, falseAlarms: alarms, maybeMissed: maybeMissed, policeWrong: policeWrong,
                     emergencies: emergencies.count, everyday: everyday.count)
    }
}
