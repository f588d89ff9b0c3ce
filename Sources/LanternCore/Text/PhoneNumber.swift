import Foundation

/// A phone number in E.164 form (`+447700900123`). Lantern only ever handles numbers in this
/// shape, so two spellings of the same number always hash to the same contact key.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    public let e164: String

    /// Normalises what people and providers write ("07700 900123", "+44 (0)7700-900123",
    /// "00447700900123") to E.164, assuming the UK where no country code is given.
    /// Returns nil for anything that cannot be a dialable number (short codes, alphanumeric senders).
    public init?(_ raw: String, defaultCountryCode: String = "44") {
        // "+44 (0)7700…" is a common UK way of writing the trunk prefix.
        let s = raw.contains("(0)") ? raw.replacingOccurrences(of: "(0)", with: "") : raw
        var digits = ""
        var leadingPlus = false
        for ch in s {
            if ch == "+" && digits.isEmpty && !leadingPlus { leadingPlus = true; continue }
            if ch.isWhitespace { continue }
            if ch.isASCII, ch.isNumber { digits.append(ch); continue }
            if " -().\u{00A0}".contains(ch) { continue }
            return nil
        }
        if leadingPlus {
            // already international
        } else if digits.hasPrefix("00") {
            digits.removeFirst(2)
        } else if digits.hasPrefix("0") {
            digits = defaultCountryCode + digits.dropFirst()
        } else {
            return nil
        }
        guard (8...15).contains(digits.count), digits.first != "0" else { return nil }
        self.e164 = "+" + digits
    }

    /// Providers that write international numbers without the `+` ("447700900123": Vonage,
    /// Plivo, Sinch, MessageBird).
    /// Whether the number is in one of `countryCodes` ("44", "353"…); "*" allows every country.
    public func isIn(countryCodes: Set<String>) -> Bool {
        countryCodes.contains("*") || countryCodes.contains { e164.hasPrefix("+" + $0) }
    }

    public init?(international raw: String) {
        let t = raw.trimmingCharacters(in: .whitespaces)
        self.init(t.hasPrefix("+") || t.hasPrefix("0") ? t : "+" + t)
    }

    /// The digits without the `+`, as those providers want them.
    public var digits: String { String(e164.dropFirst()) }

    /// The number with its middle hidden, for anything a human might read over a shoulder.
    public var masked: String {
        let chars = Array(e164)
        guard chars.count > 8 else { return String(repeating: "•", count: chars.count) }
        return String(chars.prefix(5)) + String(repeating: "•", count: chars.count - 8) + String(chars.suffix(3))
    }

    /// Deliberately masked: a `PhoneNumber` interpolated by mistake never prints the number.
    public var description: String { masked }
}
