/// What a short, misspelt, maybe mixed-script text looks like to a classifier: its words, pairs
/// of words, and the 3- to 5-letter pieces of each word (as langid.py and fastText use), each as
/// a 64-bit hash. Pieces carry a word's meaning through typos ("naloxne" shares most of
/// "naloxone"'s) and a language's look through words never seen.
enum TextFeatures {
    /// Words of the text: folded the way keywords are (intents), or lower-cased with their
    /// accents and letters kept (languages: "ą", "ñ", "ț" are the strongest signs of one).
    static func words(_ text: String, keepMarks: Bool) -> [[Unicode.Scalar]] {
        if !keepMarks { return KeywordText.words(text).map { Array($0.unicodeScalars) } }
        var out: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for scalar in text.lowercased().unicodeScalars {
            let p = scalar.properties
            if p.isAlphabetic || p.generalCategory == .nonspacingMark || p.generalCategory == .spacingMark || p.numericType != nil {
                current.append(scalar)
            } else if scalar == "'" || scalar == "’" {
                continue
            } else if !current.isEmpty {
                out.append(current)
                current = []
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// The distinct features of a text (at most `limit` words are read: a text is short).
    static func of(_ text: String, keepMarks: Bool, limit: Int = 40) -> [UInt64] {
        let words = Self.words(text, keepMarks: keepMarks).prefix(limit)
        var out = Set<UInt64>()
        out.reserveCapacity(words.count * 12)
        var previous: UInt64?
        for word in words {
            let w = hash(word[...], kind: 1)
            out.insert(w)
            if let previous { out.insert(mix(previous, w)) }
            previous = w
            // "<word>" in pieces of 3 to 5.
            let padded: [Unicode.Scalar] = ["<"] + word + [">"]
            for n in 3...5 where padded.count >= n {
                for start in 0...(padded.count - n) {
                    out.insert(hash(padded[start..<(start + n)], kind: UInt64(n)))
                }
            }
        }
        // In a fixed order: scores are sums of floats, and a Set's order changes from run to run.
        return out.sorted()
    }

    /// FNV-1a over the scalars, seeded by the kind of feature.
    static func hash(_ scalars: ArraySlice<Unicode.Scalar>, kind: UInt64) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (kind &* 0x9E37_79B9_7F4A_7C15)
        for s in scalars {
            h ^= UInt64(s.value)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        (a &* 0x9E37_79B9_7F4A_7C15) ^ (b &+ 0x632B_E59B_D9B4_E019)
    }
}

