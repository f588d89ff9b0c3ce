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

    /// One place a secret was found, and in which encoding.
    public struct Find: Sendable {
        public let secret: String
        public let place: String
        public let encoding: String
    }

    /// Every file under `directory` (recursively) holding any of `secrets`: each file is read
    /// once, and each secret looked for in every encoding.
    public static func finds(in directory: URL, secrets: [String]) -> [Find] {
        guard let e = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return [] }
        let needles = secrets.map { ($0, encodings(of: $0).map { (name: $0.name, data: Data($0.bytes)) }) }
        var found: [Find] = []
        for case let url as URL in e {
            guard let data = try? Data(contentsOf: url) else { continue }
            found += finds(in: data, needles, place: url.lastPathComponent)
        }
        return found
    }

    /// Every secret in `haystack` (a log, say), in any encoding.
    public static func finds(in haystack: String, secrets: [String]) -> [Find] {
        finds(in: Data(haystack.utf8), secrets.map { ($0, encodings(of: $0).map { (name: $0.name, data: Data($0.bytes)) }) }, place: "text")
    }

    static func finds(in data: Data, _ needles: [(String, [(name: String, data: Data)])], place: String) -> [Find] {
        needles.flatMap { secret, encoded in
            encoded.filter { !$0.data.isEmpty && data.count >= $0.data.count && data.range(of: $0.data) != nil }
                .map { Find(secret: secret, place: place, encoding: $0.name) }
        }
    }

    /// Every "file (encoding)" under `directory` where the canary was found.
    public static func files(in directory: URL, containing canary: String) -> [String] {
        finds(in: directory, secrets: [canary]).map { "\($0.place) (\($0.encoding))" }
    }

    /// The encodings in which the canary appears in `haystack`.
    public static func text(_ haystack: String, containing canary: String) -> [String] {
        finds(in: haystack, secrets: [canary]).map(\.encoding)
    }
}
