import Foundation

/// One entry of a locale's `emergency:` section, parsed. The language coordinators write:
/// - words in order: `NOT BREATHING`;
/// - alternatives: `NOT|BARELY|STOPPED BREATHING`;
/// - a word's beginning: `OVERDOS*` (OVERDOSE, OVERDOSED, OVERDOSING);
/// - any number: `#` ("my 3 year old");
/// - a gap of up to three words, or N: `CAN NOT ... WAKE`, `KID ...5 METHADONE`;
/// - alternatives of several words in brackets: `(END IT|END MY LIFE|DIE)`;
/// - `^` first: only at the start of the text; `$` last: only at its end;
/// - `!` before everything: a sign of right now (see `EmergencyLexicon.signs`);
/// - `>>` after everything: a `not` entry whose reach goes on to the end of the sentence.
struct EmergencyPattern: Sendable {
    enum Element: Sendable {
        /// Any of these words; `prefix` ones match a word's beginning.
        case words([(text: String, prefix: Bool)])
        case number
        case gap(Int)
    }

    var elements: [Element]
    var anchoredStart = false
    var anchoredEnd = false
    var urgent = false
    var reachesForward = false

    struct SyntaxError: Error, CustomStringConvertible {
        let description: String
    }

    static let maxGap = 8

    /// Parses one entry; bracketed alternatives make it several patterns.
    /// Words already read are kept in `words`: the same words recur across a lexicon's
    /// thousands of entries, and reading each costs more than the rest of parsing.
    static func parse(_ source: String, words plainWords: inout [String: [String]]) throws(SyntaxError) -> [EmergencyPattern] {
        var p = EmergencyPattern(elements: [])
        var text = source.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("!") { p.urgent = true; text = String(text.dropFirst()).trimmingCharacters(in: .whitespaces) }
        if text.hasSuffix(">>") { p.reachesForward = true; text = String(text.dropLast(2)).trimmingCharacters(in: .whitespaces) }
        if text.hasPrefix("^") { p.anchoredStart = true; text = String(text.dropFirst()).trimmingCharacters(in: .whitespaces) }
        if text.hasSuffix("$") { p.anchoredEnd = true; text = String(text.dropLast()).trimmingCharacters(in: .whitespaces) }

        // Pieces: a word slot, a gap, or a bracketed group of phrases.
        enum Piece { case slot(String), group([String]) }
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let first = rest.first {
            if first == " " || first == "\t" { rest = rest.dropFirst(); continue }
            if first == "(" {
                guard let close = rest.firstIndex(of: ")") else { throw SyntaxError(description: "a '(' is never closed") }
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                let phrases = inner.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard !phrases.contains(where: \.isEmpty) else { throw SyntaxError(description: "an empty alternative in '(\(inner))'") }
                pieces.append(.group(phrases))
                rest = rest[rest.index(after: close)...]
                continue
            }
            let end = rest.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "(" }) ?? rest.endIndex
            let piece = String(rest[..<end])
            if piece.contains(")") { throw SyntaxError(description: "a ')' has no matching '('") }
            pieces.append(.slot(piece))
            rest = rest[end...]
        }

        var variants: [[Element]] = [[]]
        for piece in pieces {
            switch piece {
            case .slot(let s):
                let element = try Self.element(s, words: &plainWords)
                if case .gap = element, let last = variants.first?.last, case .gap = last {
                    throw SyntaxError(description: "two gaps in a row")
                }
                variants = variants.map { $0 + [element] }
            case .group(let phrases):
                // Phrases that differ only in their last word become one option whose last word
                // has the alternatives ("(NOT WORKING|NOT WAKING|GONE)" is NOT WORKING|WAKING, and
                // GONE): the same texts match, with far fewer patterns to compile and try.
                var options: [[Element]] = []
                var byHead: [String: Int] = [:]
                for phrase in phrases {
                    let words = phrase.split(separator: " ")
                    var elements: [Element] = []
                    for piece in words {
                        let e = try Self.element(String(piece), words: &plainWords)
                        if case .gap = e { throw SyntaxError(description: "no gaps inside brackets") }
                        elements.append(e)
                    }
                    let head = words.dropLast().joined(separator: " ")
                    if case .words(let last)? = elements.last, let i = byHead[head], case .words(let merged)? = options[i].last {
                        options[i][options[i].count - 1] = .words(merged + last)
                    } else {
                        if case .words? = elements.last { byHead[head] = options.count }
                        options.append(elements)
                    }
                }
                variants = variants.flatMap { v in options.map { v + $0 } }
                if variants.count > 256 { throw SyntaxError(description: "too many combinations of bracketed alternatives (over 256)") }
            }
        }
        return try variants.map { elements throws(SyntaxError) in
            guard let first = elements.first, let last = elements.last else { throw SyntaxError(description: "the pattern has no words") }
            if case .gap = first { throw SyntaxError(description: "a pattern cannot start with a gap") }
            if case .gap = last { throw SyntaxError(description: "a pattern cannot end with a gap") }
            var v = p
            v.elements = elements
            return v
        }
    }

    /// One space-separated piece: a gap, any number, or one word's alternatives.
    static func element(_ piece: String, words plainWords: inout [String: [String]]) throws(SyntaxError) -> Element {
        if piece.hasPrefix("...") || piece == "…" {
            let n = piece == "…" ? "" : piece.dropFirst(3)
            guard let gap = n.isEmpty ? 3 : Int(n), (1...maxGap).contains(gap) else {
                throw SyntaxError(description: "'\(piece)' is not a gap: write ... (up to 3 words) or ...N with N from 1 to \(maxGap)")
            }
            return .gap(gap)
        }
        if piece == "#" { return .number }
        var alternatives: [(text: String, prefix: Bool)] = []
        for alt in piece.split(separator: "|", omittingEmptySubsequences: false) {
            var word = String(alt)
            let prefix = word.hasSuffix("*")
            if prefix { word.removeLast() }
            let normal: [String]
            if let known = plainWords[word] { normal = known } else {
                normal = EmergencyText.plainWords(word)
                plainWords[word] = normal
            }
            guard normal.count == 1, let only = normal.first, !only.isEmpty else {
                throw SyntaxError(description: "'\(alt)' in '\(piece)' is not one word (for alternatives of several words use brackets: (A B|C D))")
            }
            if prefix && only.unicodeScalars.count < 3 {
                throw SyntaxError(description: "'\(alt)' is too short to match word beginnings (3 letters at least)")
            }
            alternatives.append((only, prefix))
        }
        return .words(alternatives)
    }
}
