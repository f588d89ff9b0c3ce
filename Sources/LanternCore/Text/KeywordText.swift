import Foundation

/// Turns what someone typed on a phone into comparable words: case, accents and punctuation
/// don't matter ("Naloxone!!", "naloxoné" and "NALOXONE" are the same word), apostrophes
/// vanish so "won't" reads as WONT, and anything else that is not a letter or digit splits words.
public enum KeywordText {
    public static func words(_ text: String) -> [String] {
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
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
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
