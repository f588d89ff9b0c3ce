import Foundation
import LanternCore

/// The labelled texts the emergency recogniser is measured on (`Tests/LanternServerTests/Corpus`):
/// one file per language, sections `[overdose]`, `[child]`, `[self_harm]`, `[abuse]` (texts that
/// must get an emergency or crisis reply) and `[everyday]` (texts that must not).
public struct EmergencyCorpus: Sendable {
    public struct Text: Sendable {
        public let locale: String
        /// nil: an everyday text.
        public let intent: EmergencyIntent?
        public let text: String
        public let line: Int
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
                if section == "everyday" { intent = nil } else if let i = EmergencyIntent(rawValue: section) { intent = i } else {
                    throw CorpusError(message: "\(file):\(n + 1): unknown section [\(section)]")
                }
                texts.append(Text(locale: locale, intent: intent, text: line, line: n + 1))
            }
        }
        self.texts = texts
    }

    public var emergencies: [Text] { texts.filter { $0.intent != nil } }
    public var everyday: [Text] { texts.filter { $0.intent == nil } }

    public struct CorpusError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// How a recogniser does on this corpus.
    public struct Score: Sendable, CustomStringConvertible {
        public let missed: [Text]
        public let wrongIntent: [Text]
        public let falseAlarms: [Text]
        public let emergencies: Int
        public let everyday: Int
        public var recall: Double { Double(emergencies - missed.count) / Double(max(1, emergencies)) }
        public var falseAlarmRate: Double { Double(falseAlarms.count) / Double(max(1, everyday)) }
        public var description: String {
            String(format: "recall %.1f%% (%d of %d), false alarms %.1f%% (%d of %d), wrong intent %d",
                   recall * 100, emergencies - missed.count, emergencies, falseAlarmRate * 100, falseAlarms.count, everyday, wrongIntent.count)
        }
    }

    public func score(_ recogniser: EmergencyRecogniser) -> Score {
        var missed: [Text] = [], wrong: [Text] = [], alarms: [Text] = []
        for t in texts {
            let found = recogniser.recognise(t.text)
            switch t.intent {
            case nil: if found.isEmergency { alarms.append(t) }
            case let intent?:
                if !found.isEmergency { missed.append(t) }
                // An overdose text answered as a poisoned child still gets 999 first; any other
                // intent must be among those found.
                else if intent != .overdose && !found.intents.contains(intent) { wrong.append(t) }
            }
        }
        return Score(missed: missed, wrongIntent: wrong, falseAlarms: alarms, emergencies: emergencies.count, everyday: everyday.count)
    }
}
