import Foundation

/// The default language every other catalogue falls back to.
public let defaultLocale = "en-GB"

/// One message's words and how many SMS segments it may use.
public struct MessageTemplate: Sendable {
    public let text: String
    public let maxSegments: Int
    public let location: SourceLocation?
    /// A native speaker's reading of this translation (`reviewed:`), if there has been one.
    public let review: MessageReview?
    /// Parsed once: rendering is on every reply's path.
    let pieces: [Piece]?

    /// Domain rule: never more than three segments for anything.
    public static let segmentCeiling = 3

    public init(text: String, maxSegments: Int = 1, location: SourceLocation? = nil, review: MessageReview? = nil) {
        self.text = text
        self.maxSegments = maxSegments
        self.location = location
        self.review = review
        self.pieces = try? Self.parse(text).pieces
    }

    /// The `{name}` placeholders this text expects, in order of appearance.
    public var placeholders: [String] { (try? Self.parse(text).placeholders) ?? [] }

    enum Piece: Sendable { case literal(String), placeholder(String) }

    struct PlaceholderError: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String) throws -> (pieces: [Piece], placeholders: [String]) {
        var pieces: [Piece] = []
        var names: [String] = []
        var literal = ""
        var i = text.startIndex
        while i < text.endIndex {
            let ch = text[i]
            if ch == "{" {
                guard let close = text[i...].firstIndex(of: "}") else {
                    throw PlaceholderError(description: "a '{' is never closed")
                }
                let name = String(text[text.index(after: i)..<close])
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw PlaceholderError(description: "'{\(name)}' is not a placeholder name (letters, digits and _ only)")
                }
                if !literal.isEmpty { pieces.append(.literal(literal)); literal = "" }
                pieces.append(.placeholder(name))
                names.append(name)
                i = text.index(after: close)
            } else if ch == "}" {
                throw PlaceholderError(description: "a '}' has no matching '{'")
            } else {
                literal.append(ch)
                i = text.index(after: i)
            }
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        return (pieces, names)
    }

    /// Fills placeholders; a value that was not supplied is left visibly as `{name}` rather than
    /// silently dropped (and `flows check` catches it before it ships).
    public func render(_ values: [String: String]) -> String {
        render { values[$0] }
    }

    /// Fills placeholders from `value`, asked only for the names this text uses (some values,
    /// such as a list of areas in words, cost something to work out).
    public func render(_ value: (String) -> String?) -> String {
        guard let pieces else { return text }
        var out = ""
        for piece in pieces {
            switch piece {
            case .literal(let s): out += s
            case .placeholder(let name): out += value(name) ?? "{\(name)}"
            }
        }
        return out
    }
}

/// Who read a translation against the English, when, and which English text it was: when the
/// English changes, the review no longer vouches for the translation (it is stale).
public struct MessageReview: Sendable, Equatable {
    public let by: String
    /// The day, as written (YYYY-MM-DD).
    public let on: String
    /// `EnglishFingerprint` of the English text the reviewer read it against.
    public let english: String

    public init(by: String, on: String, english: String) {
        self.by = by
        self.on = on
        self.english = english
    }
}

/// A short, stable name for one English text, so a review can say which English it was read
/// against without copying it (FNV-1a, 64 bits, as hex: not a secret, only a change detector).
public enum EnglishFingerprint {
    public static func of(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// The words of one language, by message key.
public struct Catalogue: Sendable {
    public let locale: String
    /// The language's own name for itself (shown in language lists).
    public let name: String
    public let messages: [String: MessageTemplate]
    public let location: SourceLocation?
    /// Words that switch to this language when texted on their own (POLSKI, POLISH).
    public let selectors: [Keyword]
    /// Extra keywords per flow id in this language (help: [POMOC]).
    public let keywordAliases: [String: [Keyword]]
    /// Word beginnings that give a text away on a lock screen, in this language (NALOX,
    /// OVERDOS…). Discreet variants (`<key>.discreet`) must contain none; `flows check` enforces it.
    public let telltaleWords: [String]
    /// How an emergency or a crisis is said in this language (`emergency:`).
    public let emergency: EmergencyLexicon
    /// How yes, no, "I don't know" and "everywhere" are said in this language (`answers:`).
    public let answers: [AnswerWord: [String]]
    /// Words people text on their own in ordinary talk ("sure", "delete"), folded: never a
    /// keyword, or answering a question with one would switch something on (`everyday_words:`).
    public let everydayWords: Set<String>
    /// Written right to left (its own name is): its texts are laid out for a phone's bidi
    /// algorithm when rendered (`BidiText`).
    public let rightToLeft: Bool

    public init(locale: String, name: String, messages: [String: MessageTemplate], location: SourceLocation? = nil,
                selectors: [Keyword] = [], keywordAliases: [String: [Keyword]] = [:], telltaleWords: [String] = [],
                emergency: EmergencyLexicon = EmergencyLexicon(), answers: [AnswerWord: [String]] = [:], everydayWords: [String] = []) {
        self.everydayWords = Set(everydayWords.map { KeywordText.words($0).joined(separator: " ") }.filter { !$0.isEmpty })
        self.emergency = emergency
        self.answers = answers
        self.telltaleWords = telltaleWords.map { KeywordText.words($0).joined() }.filter { !$0.isEmpty }
        self.locale = locale
        self.name = name
        self.messages = messages
        self.location = location
        self.selectors = selectors
        self.keywordAliases = keywordAliases
        self.rightToLeft = BidiText.isRightToLeft(name)
    }

    /// A text in this language as it is sent: laid out for right-to-left display where the
    /// language is written that way, unchanged otherwise.
    public func displayed(_ text: String) -> String {
        rightToLeft ? BidiText.rightToLeft(text) : text
    }
}

/// Answers the engine reads in every language at once (someone may answer YES in English to a
/// Polish question): each language's words live in its locale file, under `answers:`.
public enum AnswerWord: String, Sendable, CaseIterable {
    case yes, no
    case dontKnow = "dont_know"
    /// Alerts for every area the service covers ("ALERTS ALL").
    case everywhere
    /// "I'm OK" to a check-in (hers, or one a buddy was asked to help with).
    case ok
    /// Words that turn a sentence round ("not", "nie"): "she's not ok" never closes a check-in.
    case negation
    /// Ending her TALK chat ("BYE", "END CHAT"): never STOP or END, which opt her out.
    case bye
    /// Ending a running check-in early ("DONE", "SPOT OFF"); an OK then is only "I read it".
    case done
    /// Words in her answer to "Are you OK?" that ask her buddies at once ("help", "not good").
    case help
    /// A buddy asked to check on her who can't go ("at work", "cant get there").
    case cannot
    /// "Who is this?" from someone texted about a check-in.
    case who
    /// A buddy on the way ("ok on my way"): never that she is safe.
    case coming
    /// Words that mean one thing in this language and another in the rest (Polish "no" is
    /// "yeah"): from someone writing in this language, a yes/no answer starting with one is
    /// asked again rather than guessed.
    case unclear
}

/// Every language's answer words, folded the way typed words are, worked out once.
public struct AnswerVocabulary: Sendable {
    /// Words a yes or no answer may start with.
    public let yes: Set<String>
    public let no: Set<String>
    /// Whole answers meaning "I don't know" (words joined by a space).
    public let dontKnow: Set<String>
    /// Single words meaning every area.
    public let everywhere: Set<String>
    /// Whole answers meaning "I'm OK" / "she's safe" (words joined by a space).
    public let ok: Set<String>
    /// The one-word ones among them ("OK", "SAFE"), looked for inside a buddy's longer text.
    public let okWords: Set<String>
    public let negation: Set<String>
    /// Whole answers that end her TALK chat (words joined by a space).
    public let bye: Set<String>
    /// Whole answers that end a running check-in early.
    public let done: Set<String>
    /// Words or phrases (joined by a space) found anywhere in a text.
    public let help: Set<String>
    public let cannot: Set<String>
    /// Whole questions.
    public let who: Set<String>
    /// Words or phrases found anywhere in a buddy's text.
    public let coming: Set<String>
    /// Each language's words that are yes or no only in other languages, by locale.
    public let unclear: [String: Set<String>]

    public init(_ catalogues: [Catalogue]) {
        func all(_ kind: AnswerWord) -> [String] { catalogues.flatMap { $0.answers[kind] ?? [] } }
        yes = Set(all(.yes).flatMap(KeywordText.words))
        no = Set(all(.no).flatMap(KeywordText.words))
        dontKnow = Set(all(.dontKnow).map { KeywordText.words($0).joined(separator: " ") })
        everywhere = Set(all(.everywhere).flatMap(KeywordText.words))
        ok = Set(all(.ok).map { KeywordText.words($0).joined(separator: " ") })
        okWords = Set(all(.ok).map(KeywordText.words).filter { $0.count == 1 }.map { $0[0] })
        negation = Set(all(.negation).flatMap(KeywordText.words))
        bye = Set(all(.bye).map { KeywordText.words($0).joined(separator: " ") })
        done = Set(all(.done).map { KeywordText.words($0).joined(separator: " ") })
        help = Set(all(.help).map { KeywordText.words($0).joined(separator: " ") })
        cannot = Set(all(.cannot).map { KeywordText.words($0).joined(separator: " ") })
        who = Set(all(.who).map { KeywordText.words($0).joined(separator: " ") })
        coming = Set(all(.coming).map { KeywordText.words($0).joined(separator: " ") })
        unclear = Dictionary(catalogues.map { ($0.locale, Set(($0.answers[.unclear] ?? []).flatMap(KeywordText.words))) }, uniquingKeysWith: { a, _ in a })
    }

    /// Whether any of these words or phrases (up to four words) stands anywhere in the text.
    public static func contains(_ phrases: Set<String>, in words: [String]) -> Bool {
        guard !phrases.isEmpty else { return false }
        for start in words.indices {
            var phrase = ""
            for end in start..<min(words.count, start + 4) {
                phrase += (end == start ? "" : " ") + words[end]
                if phrases.contains(phrase) { return true }
            }
        }
        return false
    }
}
