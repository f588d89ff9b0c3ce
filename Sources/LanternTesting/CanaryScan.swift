import Foundation

/// Looks for a secret (a canary message body or number) anywhere it must not be: files on
/// disk and captured logs, as plain UTF-8, UTF-16 (both byte orders), percent-encoded and Base64.
public enum CanaryScan {
    public static func encodings(of canary: String) -> [(name: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = [("utf8", Array(canary.utf8))]
        out.append(("utf16le", canary.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))
        out.append(("utf16be", canary.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }))
        let percent = canary.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? canary
        if percent != canary { out.append(("percent", Array(percent.utf8))) }
        let form = canary.replacingOccurrences(of: " ", with: "+")
        if form != canary { out.append(("form", Array(form.utf8))) }
        // Base64 at each of the three alignments the canary could start at inside a larger blob;
        // the middle part of each is stable whatever surrounds it.
        let raw = Array(canary.utf8)
        for shift in 0..<3 {
            let padded = [UInt8](repeating: 0, count: shift) + raw
            let b64 = Array(Data(padded).base64EncodedString().utf8)
            let stableStart = (shift == 0 ? 0 : 4), stableEnd = b64.count - 4
            if stableEnd - stableStart >= 8 { out.append(("base64+\(shift)", Array(b64[stableStart..<stableEnd]))) }
        }
        return out
    }

    /// Every (file, encoding) where the canary was found, under `directory` (recursively).
    public static func files(in directory: URL, containing canary: String) -> [String] {
        var hits: [String] = []
        let encoded = encodings(of: canary)
        guard let e = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return [] }
        for case let url as URL in e {
            guard let data = try? Data(contentsOf: url) else { continue }
            let bytes = [UInt8](data)
            for (name, needle) in encoded where contains(bytes, needle) {
                hits.append("\(url.lastPathComponent) (\(name))")
            }
        }
        return hits
    }

    /// For many secrets at once: every file is read once, and each secret looked for in it.
    /// Returns "secret: file (encoding)" for each find.
    public static func files(in directory: URL, containingAny secrets: [String]) -> [String] {
        guard let e = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return [] }
        let needles = secrets.map { ($0, encodings(of: $0).map { (name: $0.name, data: Data($0.bytes)) }) }
        var hits: [String] = []
        for case let url as URL in e {
            guard let data = try? Data(contentsOf: url) else { continue }
            for (secret, encoded) in needles {
                for (name, needle) in encoded where data.count >= needle.count && data.range(of: needle) != nil {
                    hits.append("'\(secret)' at rest: \(url.lastPathComponent) (\(name))")
                }
            }
        }
        return hits
    }

    /// For many secrets at once in one text: "secret (encoding)" for each find.
    public static func text(_ haystack: String, containingAny secrets: [String]) -> [String] {
        let data = Data(haystack.utf8)
        return secrets.flatMap { secret in
            encodings(of: secret).filter { data.range(of: Data($0.bytes)) != nil }.map { "'\(secret)' (\($0.name))" }
        }
    }

    public static func text(_ haystack: String, containing canary: String) -> [String] {
        let bytes = Array(haystack.utf8)
        return encodings(of: canary).filter { contains(bytes, $0.bytes) }.map(\.name)
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        return Data(haystack).range(of: Data(needle)) != nil
    }
}
