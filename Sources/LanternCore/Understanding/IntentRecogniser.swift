import Foundation

/// One example sentence for an intent, in a language (`locales/examples/<locale>.txt`).
public struct IntentExample: Sendable, Equatable {
    public let text: String
    public let intent: String
    public let locale: String
    public let location: SourceLocation?

    public init(text: String, intent: String, locale: String, location: SourceLocation? = nil) {
        self.text = text
        self.intent = intent
        self.locale = locale
        self.location = location
    }
}

/// What a sentence means, when no keyword and no question took it: "can i get a kit" is KIT,
/// "who reads my texts" is who we are, "i want to come off it" is quitting (never the way out of
/// the texts). Learnt when Lantern starts from the example sentences kept beside each locale,
/// so a coordinator teaches it by adding a line. Also which language a text is in.
public struct IntentRecogniser: Sendable {
    /// One intent and how sure the recogniser is of it (0...1, the intents' shares summing to 1).
    public struct Guess: Sendable, Equatable {
        public let intent: String
        public let confidence: Double
    }

    /// What to do with a sentence.
    public enum Verdict: Sendable, Equatable {
        /// Sure enough: answer as that intent.
        case answer(String)
        /// Two close: ask which ("Did you mean 1 … or 2 …?").
        case ask(String, String)
        /// Not sure at all: the menu.
        case unsure
    }

    /// A language found in a text, and whether it was written in Latin letters for a language
    /// that has its own script (romanised Urdu or Panjabi).
    public struct Language: Sendable, Equatable {
        public let locale: String
        public let confidence: Double
        public let romanised: Bool
    }

    let intents: NaiveBayes?
    let languages: NaiveBayes?
    /// Each locale's own script (from its name: "اردو" is Arabic script), for texts not in Latin letters.
    let scripts: [Script: String]
    public let examples: [IntentExample]

    /// Answer when the top intent's share is at least this; ask between this and `askAt`.
    public static let answerAt = 0.60
    public static let askAt = 0.30
    /// A new person's language is taken from her text when this sure, and the text has this many words.
    public static let languageAt = 0.80
    public static let languageWords = 3

    /// `samples`: more text in each language (its messages), so a language is known by more
    /// than its examples.
    public init(examples: [IntentExample], samples: [String: [String]] = [:], names: [String: String] = [:]) {
        self.examples = examples
        intents = examples.isEmpty ? nil
            : NaiveBayes(examples: examples.map { (TextFeatures.of($0.text, keepMarks: false), $0.intent) })
        var byLanguage: [(features: [UInt64], label: String)] = []
        for e in examples {
            let script = Script.of(e.text)
            let label = script == .latin && Script.of(names[e.locale] ?? "") != .latin ? e.locale + Self.romanisedSuffix : e.locale
            guard script == .latin else { continue }
            byLanguage.append((TextFeatures.of(e.text, keepMarks: true), label))
        }
        for (locale, texts) in samples.sorted(by: { $0.key < $1.key }) where Script.of(names[locale] ?? "") == .latin {
            for t in texts { byLanguage.append((TextFeatures.of(t, keepMarks: true), locale)) }
        }
        languages = byLanguage.isEmpty ? nil : NaiveBayes(examples: byLanguage)
        var scripts: [Script: String] = [:]
        for (locale, name) in names.sorted(by: { $0.key < $1.key }) where Script.of(name) != .latin && scripts[Script.of(name)] == nil {
            scripts[Script.of(name)] = locale
        }
        self.scripts = scripts
    }

    static let romanisedSuffix = "-Latn"

    /// The intents, most likely first.
    public func ranked(_ text: String) -> [Guess] {
        guard let intents else { return [] }
        let (scores, known) = intents.scores(TextFeatures.of(text, keepMarks: false))
        guard known > 0 else { return [] }
        return Self.shares(scores, known: known).enumerated()
            .map { Guess(intent: intents.classes[$0.offset], confidence: $0.element) }
            .sorted { ($0.confidence, $1.intent) > ($1.confidence, $0.intent) }
    }

    public func verdict(_ text: String) -> Verdict {
        let guesses = ranked(text)
        guard let first = guesses.first else { return .unsure }
        if first.confidence >= Self.answerAt { return .answer(first.intent) }
        if guesses.count > 1, first.confidence + guesses[1].confidence >= Self.askAt * 2, first.confidence >= Self.askAt {
            return .ask(first.intent, guesses[1].intent)
        }
        return .unsure
    }

    /// Scores turned into shares. Naive Bayes adds up every feature as if independent, so its
    /// raw odds are far too sure; dividing by the square root of the features it knew keeps a
    /// long text from shouting down a short one, and the shares then mean something.
    static func shares(_ scores: [Float], known: Int) -> [Double] {
        let scale = 3 / Double(known).squareRoot()
        let top = Double(scores.max() ?? 0)
        let raw = scores.map { Foundation.exp((Double($0) - top) * scale) }
        let sum = raw.reduce(0, +)
        return raw.map { $0 / sum }
    }

    /// The language a text is written in, when it is clear: a script of its own (Urdu, Panjabi)
    /// at once; Latin letters from three words on, by their look.
    public func language(of text: String) -> Language? {
        let script = Script.of(text)
        if script != .latin, script != .none, let locale = scripts[script] {
            return Language(locale: locale, confidence: 1, romanised: false)
        }
        guard script == .latin, let languages else { return nil }
        let features = TextFeatures.of(text, keepMarks: true)
        guard TextFeatures.words(text, keepMarks: true).count >= Self.languageWords else { return nil }
        let (scores, known) = languages.scores(features)
        guard known > 0 else { return nil }
        let shares = Self.shares(scores, known: known)
        guard let best = shares.indices.max(by: { shares[$0] < shares[$1] }), shares[best] >= Self.languageAt else { return nil }
        let label = languages.classes[best]
        let romanised = label.hasSuffix(Self.romanisedSuffix)
        return Language(locale: romanised ? String(label.dropLast(Self.romanisedSuffix.count)) : label,
                        confidence: shares[best], romanised: romanised)
    }
}

/// The writing system most of a text's letters are in.
enum Script: Hashable, Sendable {
    case latin, arabic, gurmukhi, other, none

    static func of(_ text: String) -> Script {
        var counts: [Script: Int] = [:]
        for s in text.unicodeScalars where s.properties.isAlphabetic {
            let script: Script
            switch s.value {
            case 0x0041...0x024F, 0x1E00...0x1EFF: script = .latin
            case 0x0600...0x06FF, 0x0750...0x077F, 0x08A0...0x08FF, 0xFB50...0xFDFF, 0xFE70...0xFEFF: script = .arabic
            case 0x0A00...0x0A7F: script = .gurmukhi
            default: script = .other
            }
            counts[script, default: 0] += 1
        }
        return counts.max { ($0.value, $1.key.order) < ($1.value, $0.key.order) }?.key ?? .none
    }

    private var order: Int {
        switch self { case .latin: 0; case .arabic: 1; case .gurmukhi: 2; case .other: 3; case .none: 4 }
    }
}

extension IntentRecogniser {
    /// How well the examples teach: each example is held out in turn (one fold in `folds`), the
    /// rest train, and the held-out example is recognised. Counts a right answer only when the
    /// recogniser would answer with it (not ask, not give up).
    public struct CrossValidation: Sendable {
        public var total = 0
        public var right = 0
        public var byIntent: [String: (right: Int, total: Int)] = [:]
        public var byLocale: [String: (right: Int, total: Int)] = [:]
        /// Held-out examples answered as another intent (asking or giving up is not counted here).
        public var wrong: [(example: IntentExample, answered: String)] = []
        public var accuracy: Double { total == 0 ? 1 : Double(right) / Double(total) }
    }

    public func crossValidate(folds: Int = 5) -> CrossValidation {
        var result = CrossValidation()
        guard folds > 1, examples.count >= folds else { return result }
        for fold in 0..<folds {
            let training = examples.enumerated().filter { $0.offset % folds != fold }.map(\.element)
            let model = IntentRecogniser(examples: training)
            for (i, example) in examples.enumerated() where i % folds == fold {
                let verdict = model.verdict(example.text)
                let ok = verdict == .answer(example.intent)
                result.total += 1
                if ok { result.right += 1 }
                if case .answer(let other) = verdict, other != example.intent { result.wrong.append((example, other)) }
                result.byIntent[example.intent, default: (0, 0)].total += 1
                result.byLocale[example.locale, default: (0, 0)].total += 1
                if ok {
                    result.byIntent[example.intent]!.right += 1
                    result.byLocale[example.locale]!.right += 1
                }
            }
        }
        return result
    }
}
