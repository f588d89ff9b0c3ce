import Foundation

/// Turns a panicked text into words the emergency recogniser can compare, keeping what they mean:
/// case and accents go ("não" is NAO, "przestał" is PRZESTAL), apostrophes stay long enough to
/// tell "od'd" from "odd", letters held down collapse ("helppp" is HELP), Urdu and Arabic
/// keyboard letters agree (ي is ی), vowel marks nobody types consistently go, and digits in any
/// script are ASCII ("۹۹۹" is 999). Written by hand on Unicode scalars because it runs on every
/// text before anything else: Foundation's folding costs more than the whole recogniser may.
enum EmergencyText {
    /// One word, with the sentence it was in (a question's reach ends at its sentence).
    struct Word: Sendable, Equatable {
        var text: String
        var sentence: Int
    }

    /// Letters a Latin diacritic sits on, for the scalars U+00C0…U+024F, plus letters Unicode
    /// does not decompose (ł, ø, đ, ß, æ, œ, ı).
    static let latinFold: [UInt32: String] = {
        var table: [UInt32: String] = [:]
        for v in UInt32(0xC0)...UInt32(0x24F) {
            guard let scalar = Unicode.Scalar(v) else { continue }
            let folded = String(scalar).folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).uppercased()
            if folded.unicodeScalars.allSatisfy({ $0.isASCII && $0.properties.isAlphabetic }) { table[v] = folded }
        }
        for (v, s) in [(0x141, "L"), (0x142, "L"), (0xD8, "O"), (0xF8, "O"), (0x110, "D"), (0x111, "D"), (0xDF, "SS"),
                       (0xC6, "AE"), (0xE6, "AE"), (0x152, "OE"), (0x153, "OE"), (0x131, "I")] as [(UInt32, String)] {
            table[v] = s
        }
        return table
    }()

    /// Arabic-keyboard letters as Urdu writes them (people type on either).
    static let arabicToUrdu: [UInt32: UInt32] = [0x64A: 0x6CC, 0x649: 0x6CC, 0x643: 0x6A9, 0x647: 0x6C1, 0x6C0: 0x6C1]

    static func isApostrophe(_ v: UInt32) -> Bool { v == 0x27 || v == 0x2019 || v == 0x2018 || v == 0x60 || v == 0xB4 }

    /// What a digit in any of the scripts people here use stands for, or nil.
    static func digit(_ v: UInt32) -> UInt32? {
        switch v {
        case 0x30...0x39: v
        case 0x660...0x669: v - 0x660 + 0x30
        case 0x6F0...0x6F9: v - 0x6F0 + 0x30
        case 0xA66...0xA6F: v - 0xA66 + 0x30
        case 0x966...0x96F: v - 0x966 + 0x30
        default: nil
        }
    }

    /// Lowercase endings on an abbreviation in capitals: "ODd", "ODed", "ODing", "ODs" mean OD.
    static let abbreviationEndings: Set<String> = ["d", "ed", "ing", "in", "s", "ds"]

    /// The words of a text, before spellings are applied. Apostrophes inside a word are kept
    /// ("OD'D"); sentence breaks are . ! ? ; and new lines.
    static func rawWords(_ text: String, limit: Int = 1_000) -> [Word] {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return asciiWords(text, limit: limit) }
        var words: [Word] = []
        var current = String.UnicodeScalarView()
        var sentence = 0
        var pendingBreak = false
        // The word as typed, while it is plain ASCII letters (for "ODd").
        var typed = String.UnicodeScalarView()
        var typedIsASCII = true
        func flush() {
            // A trailing apostrophe ("goin'") is not part of the word.
            while let last = current.last, isApostrophe(last.value) { current.removeLast() }
            if typedIsASCII, typed.count >= 3 {
                let upper = typed.prefix { $0.value >= 0x41 && $0.value <= 0x5A }
                let rest = String(String.UnicodeScalarView(typed.dropFirst(upper.count)))
                if upper.count >= 2, abbreviationEndings.contains(rest) {
                    current = String.UnicodeScalarView(upper)
                }
            }
            typed = String.UnicodeScalarView()
            typedIsASCII = true
            if !current.isEmpty {
                if pendingBreak && !words.isEmpty { sentence += 1 }
                pendingBreak = false
                words.append(Word(text: String(current), sentence: sentence))
                current = String.UnicodeScalarView()
            }
        }
        for scalar in text.unicodeScalars {
            if words.count >= limit { break }
            let v = scalar.value
            if v < 0x80 {
                switch v {
                case 0x61...0x7A: current.append(Unicode.Scalar(v - 32)!); typed.append(scalar)
                case 0x41...0x5A: current.append(scalar); typed.append(scalar)
                case 0x30...0x39: current.append(scalar); typedIsASCII = false
                case 0x27, 0x60:
                    if !current.isEmpty { current.append(Unicode.Scalar(0x27)); typedIsASCII = false }
                case 0x2E, 0x21, 0x3F, 0x3B, 0x0A, 0x0D:
                    flush(); pendingBreak = true
                default: flush()
                }
                continue
            }
            // Only what joins the word makes it more than plain ASCII letters; a separator
            // (an emoji, a curly quote at its end) leaves "ODd" as it was.
            if isApostrophe(v) {
                if !current.isEmpty { current.append(Unicode.Scalar(0x27)); typedIsASCII = false }
                continue
            }
            if let d = digit(v) { current.append(Unicode.Scalar(d)!); typedIsASCII = false; continue }
            if let folded = latinFold[v] { current.append(contentsOf: folded.unicodeScalars); typedIsASCII = false; continue }
            let props = scalar.properties
            switch props.generalCategory {
            case .nonspacingMark, .enclosingMark, .format:
                // Vowel marks, nasalisation dots, zero-width joiners: typed inconsistently, dropped.
                continue
            default: break
            }
            if v == 0x6D4 || v == 0x61F || v == 0x964 || v == 0x965 || v == 0x2026 { flush(); pendingBreak = true; continue } // ۔ ؟ । ॥ …
            if props.isAlphabetic {
                typedIsASCII = false
                if let u = arabicToUrdu[v] { current.append(Unicode.Scalar(u)!); continue }
                if props.isLowercase || props.isUppercase {
                    let folded = String(scalar).folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).uppercased()
                    current.append(contentsOf: folded.unicodeScalars)
                } else {
                    current.append(scalar)
                }
            } else {
                flush()
            }
        }
        flush()
        return words
    }

    /// The same as `rawWords`, for a text that is all ASCII (most are): bytes, not scalars.
    static func asciiWords(_ text: String, limit: Int) -> [Word] {
        var words: [Word] = []
        var current: [UInt8] = []
        current.reserveCapacity(24)
        var sentence = 0
        var pendingBreak = false
        var upperHead = 0           // capitals the word began with
        var lowerTail = 0           // lowercase letters after them
        var mixed = false           // anything else (digits, apostrophes, capitals after lowercase)
        func flush() {
            while current.last == 0x27 { current.removeLast() }
            if !mixed, upperHead >= 2, lowerTail >= 1, lowerTail <= 3 {
                let ending = String(decoding: current[upperHead...].map { $0 + 32 }, as: UTF8.self)
                if abbreviationEndings.contains(ending) { current.removeLast(lowerTail) }
            }
            if !current.isEmpty {
                if pendingBreak && !words.isEmpty { sentence += 1 }
                pendingBreak = false
                words.append(Word(text: String(decoding: current, as: UTF8.self), sentence: sentence))
                current.removeAll(keepingCapacity: true)
            }
            upperHead = 0; lowerTail = 0; mixed = false
        }
        for b in text.utf8 {
            if words.count >= limit { break }
            switch b {
            case 0x61...0x7A:
                current.append(b - 32)
                if upperHead == 0 && current.count == 1 { mixed = true }
                lowerTail += 1
            case 0x41...0x5A:
                current.append(b)
                if lowerTail > 0 { mixed = true } else { upperHead += 1 }
            case 0x30...0x39:
                current.append(b); mixed = true
            case 0x27, 0x60:
                if !current.isEmpty { current.append(0x27); mixed = true }
            case 0x2E, 0x21, 0x3F, 0x3B, 0x0A, 0x0D:
                flush(); pendingBreak = true
            default:
                flush()
            }
        }
        flush()
        return words
    }

    /// Runs of three or more of one letter become one (or `keeping` of them): "helppp",
    /// "pleeease", "noooo". Digits stay as they are: 999 is not 9.
    static func collapseRuns(_ word: String, keeping: Int = 1) -> String {
        // Most words have no such run: find out from the bytes first.
        var previous: UInt8 = 0, run = 0, hasRun = false
        for b in word.utf8 {
            if b == previous && !(b >= 0x30 && b <= 0x39) { run += 1; if run >= 2 { hasRun = true; break } } else { run = 0 }
            previous = b
        }
        guard hasRun else { return word }
        let scalars = word.unicodeScalars
        var out = String.UnicodeScalarView()
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let s = scalars[i]
            var j = scalars.index(after: i)
            var n = 1
            while j < scalars.endIndex && scalars[j] == s { n += 1; j = scalars.index(after: j) }
            let kept = n >= 3 && !(s.value >= 0x30 && s.value <= 0x39) ? keeping : n
            for _ in 0..<kept { out.append(s) }
            i = j
        }
        return String(out)
    }

    /// Words as a locale file writes them (a pattern word, a spelling's meaning, an everyday
    /// word), in the form typed words take once read: runs collapsed, apostrophes gone.
    static func plainWords(_ text: String) -> [String] {
        rawWords(text).map { withoutApostrophes(collapseRuns($0.text)) }
    }

    static func withoutApostrophes(_ word: String) -> String {
        guard word.unicodeScalars.contains(where: { $0.value == 0x27 }) else { return word }
        var out = String.UnicodeScalarView()
        for s in word.unicodeScalars where s.value != 0x27 { out.append(s) }
        return String(out)
    }
}
