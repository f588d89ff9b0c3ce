/// Right-to-left text laid out the way a phone shows it. A phone runs every SMS through the
/// Unicode bidirectional algorithm, one line at a time: a line takes the direction of its first
/// strong letter, so an Urdu text that starts with "SPOT" or a place name is laid out left to
/// right and its sentences appear in the wrong order; and numbers separated by spaces in a
/// right-to-left line are laid out right to left as groups ("0808 2000 247" shows as
/// "247 2000 0808"). Done here once, when a text is rendered, so no translator has to remember.
public enum BidiText {
    /// U+200F RIGHT-TO-LEFT MARK: a strong right-to-left letter nobody sees.
    static let rightToLeftMark: Unicode.Scalar = "\u{200F}"
    /// U+2066 LEFT-TO-RIGHT ISOLATE … U+2069 POP DIRECTIONAL ISOLATE: what is between them is
    /// laid out left to right, whatever surrounds it.
    static let leftToRightIsolate: Unicode.Scalar = "\u{2066}"
    /// U+2068 FIRST STRONG ISOLATE: between it and the pop, the text's own direction.
    static let firstStrongIsolate: Unicode.Scalar = "\u{2068}"
    static let popIsolate: Unicode.Scalar = "\u{2069}"
    static let isolateOpeners: Set<Unicode.Scalar> = ["\u{2066}", "\u{2067}", "\u{2068}"]

    /// Whether the text's first strong letter is written right to left (Urdu, Arabic, Hebrew…).
    public static func isRightToLeft(_ text: String) -> Bool {
        for scalar in text.unicodeScalars {
            if isStrongRightToLeft(scalar) { return true }
            if scalar.properties.isAlphabetic { return false }
        }
        return false
    }

    /// Letters of the right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko and their
    /// presentation forms), plus the right-to-left mark itself.
    static func isStrongRightToLeft(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x200F: return true
        case 0x0590...0x05FF, 0x0600...0x06FF, 0x0700...0x08FF, 0xFB1D...0xFDFF, 0xFE70...0xFEFF:
            return scalar.properties.isAlphabetic
        default: return false
        }
    }

    static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x0660...0x0669, 0x06F0...0x06F9: return true
        default: return false
        }
    }

    /// What may stand between two groups of digits in one number: "0808 2000 247", "10:00-20:00".
    static let numberJoiners: Set<Unicode.Scalar> = [" ", "-", ".", ":", "/"]

    /// A right-to-left text as it should be sent: every line starts with a right-to-left mark
    /// (so "SPOT…" or "{areas}…" at the start cannot turn the line round), and every number made
    /// of several groups is isolated left to right (so it reads in its written order). Marks
    /// already present are kept, so rendering twice changes nothing.
    public static func rightToLeft(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var atLineStart = true
        var isolateDepth = 0
        var i = 0
        while i < scalars.count {
            let s = scalars[i]
            if atLineStart {
                atLineStart = false
                if s != rightToLeftMark { out.append(rightToLeftMark) }
            }
            if isolateOpeners.contains(s) { isolateDepth += 1 }
            if s == popIsolate, isolateDepth > 0 { isolateDepth -= 1 }
            if s == "\n" || s == "\r" { atLineStart = true; out.append(s); i += 1; continue }
            guard isolateDepth == 0, isDigit(s) || (s == "+" && i + 1 < scalars.count && isDigit(scalars[i + 1])) else {
                out.append(s); i += 1; continue
            }
            // A number: digits, and single joiners that have digits after them.
            var end = i + 1
            var groups = 1
            while end < scalars.count {
                if isDigit(scalars[end]) { end += 1; continue }
                if numberJoiners.contains(scalars[end]), end + 1 < scalars.count, isDigit(scalars[end + 1]) {
                    if scalars[end] == " " { groups += 1 }
                    end += 2
                    continue
                }
                break
            }
            let number = scalars[i..<end]
            if groups > 1 {
                out.append(leftToRightIsolate)
                out.append(contentsOf: number)
                out.append(popIsolate)
            } else {
                out.append(contentsOf: number)
            }
            i = end
        }
        return String(out)
    }

    /// A name in its own direction inside another language's line ("8 اردو" in an English
    /// list), so it cannot turn the rest of the line round.
    public static func isolated(_ text: String) -> String {
        guard isRightToLeft(text) else { return text }
        var out = String.UnicodeScalarView()
        out.append(firstStrongIsolate)
        out.append(contentsOf: text.unicodeScalars)
        out.append(popIsolate)
        return String(out)
    }
}
