import Foundation

/// How a text will travel over SMS. One character outside GSM 03.38 switches the whole
/// message to UCS-2, which more than halves what fits in a segment (and doubles the cost).
public enum SMSEncoding: String, Sendable, Codable {
    case gsm7 = "GSM-7"
    case ucs2 = "UCS-2"
}

/// The size of one message on the wire: what a mum with little credit pays for.
public struct SegmentCount: Sendable, Equatable {
    public let encoding: SMSEncoding
    /// Septets for GSM-7, UTF-16 code units for UCS-2.
    public let units: Int
    public let segments: Int
    /// Characters that forced UCS-2 (empty for GSM-7), so an editor can replace them.
    public let nonGSMCharacters: [Character]
}

public enum SMSSegments {
    /// GSM 03.38 basic table (1 septet each), in code order; 0x1B (ESC) left out.
    static let basic: Set<Character> = Set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    )
    /// Extension table: ESC + code, 2 septets each.
    static let extended: Set<Character> = ["\u{0C}", "^", "{", "}", "\\", "[", "~", "]", "|", "€"]

    /// ASCII bytes in the GSM basic table (1 septet); `^{}\\[]~|` are 2; backtick is not GSM.
    static let asciiSeptets: [UInt8] = (0..<128).map { b -> UInt8 in
        let c = Character(UnicodeScalar(UInt8(b)))
        if basic.contains(c) { return 1 }
        if extended.contains(c) { return 2 }
        return 0
    }

    public static func count(_ text: String) -> SegmentCount {
        // Fast path: plain ASCII that is all GSM (most texts Lantern sends).
        var units = 0
        var ascii = true
        var asciiWidths: [Int] = []
        asciiWidths.reserveCapacity(text.utf8.count)
        for b in text.utf8 {
            guard b < 128, asciiSeptets[Int(b)] > 0, b != 13 else { ascii = false; break }
            let w = Int(asciiSeptets[Int(b)])
            units += w
            asciiWidths.append(w)
        }
        if ascii {
            return SegmentCount(encoding: .gsm7, units: units, segments: segments(of: asciiWidths, single: 160, multi: 153), nonGSMCharacters: [])
        }
        var septetsPerChar: [Int] = []
        septetsPerChar.reserveCapacity(text.count)
        var nonGSM: [Character] = []
        for ch in text {
            if basic.contains(ch) { septetsPerChar.append(1) }
            else if extended.contains(ch) { septetsPerChar.append(2) }
            else if ch == "\r\n" { septetsPerChar.append(2) }
            else { nonGSM.append(ch) }
        }
        if nonGSM.isEmpty {
            let total = septetsPerChar.reduce(0, +)
            return SegmentCount(encoding: .gsm7, units: total,
                                segments: segments(of: septetsPerChar, single: 160, multi: 153),
                                nonGSMCharacters: [])
        }
        // UCS-2: a grapheme is never split across parts, so count per Character.
        let widths = text.map { $0.utf16.count }
        return SegmentCount(encoding: .ucs2, units: widths.reduce(0, +),
                            segments: segments(of: widths, single: 70, multi: 67),
                            nonGSMCharacters: nonGSM)
    }

    /// `text` shortened to fit `segments`, cut at a word where one is near, ending "...".
    public static func clip(_ text: String, toSegments limit: Int) -> String {
        // Short enough for `limit` segments in any encoding (UCS-2 parts hold 67 UTF-16 units;
        // GSM-7's escaped characters are single UTF-16 units, so they fit too): nothing to count.
        if limit >= 1 && text.utf16.count <= (limit == 1 ? 70 : 67 * limit) { return text }
        guard count(text).segments > limit else { return text }
        let characters = Array(text)
        var low = 0, high = characters.count
        while low < high {   // the longest prefix that fits with the marker
            let mid = (low + high + 1) / 2
            if count(String(characters[..<mid]) + "...").segments <= limit { low = mid } else { high = mid - 1 }
        }
        var cut = low
        if let space = characters[..<low].lastIndex(where: { $0 == " " || $0 == "\n" }), low - space < 24 { cut = space }
        return String(characters[..<cut]).trimmingCharacters(in: .whitespacesAndNewlines) + "..."
    }

    /// Packs indivisible units into parts the way handsets and providers do: a unit that would
    /// straddle a boundary moves whole to the next part.
    static func segments(of widths: [Int], single: Int, multi: Int) -> Int {
        let total = widths.reduce(0, +)
        if total == 0 { return 1 }
        if total <= single { return 1 }
        var parts = 1
        var used = 0
        for w in widths {
            if used + w > multi { parts += 1; used = 0 }
            used += w
        }
        return parts
    }
}
