import Foundation

/// A UK postcode district: the outward code, e.g. BS5, M14, G31, EC1A. Alerts are targeted by
/// district because it is precise enough to matter and vague enough not to identify anyone.
public struct PostcodeDistrict: Sendable, Hashable, Codable, CustomStringConvertible {
    public let code: String

    /// Accepts a district ("bs5"), or a full postcode ("BS5 6AA") from which it keeps the district.
    public init?(_ raw: String) {
        let compact = raw.uppercased().filter { !$0.isWhitespace }
        guard !compact.isEmpty else { return nil }
        let candidate: Substring
        if let full = Self.fullPostcode(compact) { candidate = full } else { candidate = Substring(compact) }
        guard Self.isOutward(candidate) else { return nil }
        code = String(candidate)
    }

    public var description: String { code }

    /// Outward code forms: A9, A99, AA9, AA99, A9A, AA9A.
    static func isOutward(_ s: Substring) -> Bool {
        let c = Array(s)
        guard (2...4).contains(c.count), c.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return false }
        guard c[0].isLetter else { return false }
        var i = 1
        if c[i].isLetter { i += 1 }
        guard i < c.count, c[i].isNumber else { return false }
        i += 1
        if i == c.count { return true }
        // second digit, or a trailing letter (EC1A, W1D)
        guard i == c.count - 1 else { return false }
        return c[i].isNumber || c[i].isLetter
    }

    /// If `s` is a whole postcode (outward + inward "9AA"), returns its outward part.
    static func fullPostcode(_ s: String) -> Substring? {
        let c = Array(s)
        guard c.count >= 5, c.count <= 7 else { return nil }
        let inward = c.suffix(3)
        let a = Array(inward)
        guard a[0].isNumber, a[1].isLetter, a[2].isLetter else { return nil }
        let outward = s.dropLast(3)
        return isOutward(outward) ? outward : nil
    }

    /// Whether a text is a plausible full UK postcode, for postal addresses.
    public static func isFullPostcode(_ raw: String) -> Bool {
        fullPostcode(raw.uppercased().filter { !$0.isWhitespace }) != nil
    }
}
