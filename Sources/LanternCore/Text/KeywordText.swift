import Foundation

/// Turns what someone typed on a phone into comparable words: case, accents and punctuation
/// don't matter ("Naloxone!!", "naloxoné" and "NALOXONE" are the same word), apostrophes
/// vanish so "won't" reads as WONT, and anything else that is not a letter or digit splits words.
public enum KeywordText {
    public static func words(_ text: String) -> [String] {
        asciiWords(text) ?? foldedWords(text)
    }

    /// Any text: Foundation's folding, then letters and digits.
    static func foldedWords(_ text: String) -> [String] {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        var words: [String] = []
        var current = ""
        for ch in folded {
            if ch == "'" || ch == "’" || ch == "‘" || ch == "`" { continue }
            if ch.isLetter || ch.isNumber {
                current.append(contentsOf: ch.uppercased())
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// The common case, plain ASCII, without Foundation's folding: the same words `words` gives.
    static func asciiWords(_ text: String) -> [String]? {
        var words: [String] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case 0x80...: return nil
            case UInt8(ascii: "'"), UInt8(ascii: "`"): continue
            case UInt8(ascii: "a")...UInt8(ascii: "z"): current.append(byte - 32)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): current.append(byte)
            default:
                if !current.isEmpty {
                    words.append(String(decoding: current, as: UTF8.self))
                    current.removeAll(keepingCapacity: true)
                }
            }
        }
        if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
        return words
    }

    /// A word's letters as a 64-bit set (scalar value mod 64): a typed word whose set differs from
    /// a keyword's in more places than the typos allowed cannot be that keyword, whatever the order.
    static func letterMask(_ scalars: [Unicode.Scalar]) -> UInt64 {
        scalars.reduce(0) { $0 | (1 << UInt64($1.value & 63)) }
    }

    /// How many typing mistakes a word of this length may carry and still count as the keyword.
    /// Short words must be exact: STOP must not match SHOP, and KIT must not match KID.
    public static func tolerance(forLength n: Int) -> Int {
        switch n {
        case ..<5: 0
        case 5..<8: 1
        default: 2
        }
    }

    /// Optimal-string-alignment distance (insert, delete, substitute, swap neighbours), stopping
    /// early once `limit` is exceeded because only small distances matter here.
    public static func distance(_ a: String, _ b: String, limit: Int) -> Int {
        if a == b { return 0 }
        return distance(Array(a.unicodeScalars), Array(b.unicodeScalars), limit: limit)
    }

    static func distance(_ x: [Unicode.Scalar], _ y: [Unicode.Scalar], limit: Int) -> Int {
        if abs(x.count - y.count) > limit { return limit + 1 }
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var prevPrev = [Int](repeating: 0, count: y.count + 1)
        var prev = Array(0...y.count)
        var cur = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            cur[0] = i
            var rowMin = cur[0]
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    v = min(v, prevPrev[j - 2] + 1)
                }
                cur[j] = v
                rowMin = min(rowMin, v)
            }
            if rowMin > limit { return limit + 1 }
            (prevPrev, prev, cur) = (prev, cur, prevPrev)
        }
        return prev[y.count]
    }

    /// Whether a typed word is this keyword word, allowing for the typos its length tolerates.
    public static func wordMatches(typed: String, keyword: String, tolerant: Bool) -> Int? {
        if typed == keyword { return 0 }
        guard tolerant else { return nil }
        let limit = tolerance(forLength: keyword.count)
        guard limit > 0 else { return nil }
        let d = distance(typed, keyword, limit: limit)
        return d <= limit ? d : nil
    }
}
