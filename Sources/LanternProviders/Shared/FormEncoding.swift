import Foundation

/// `application/x-www-form-urlencoded`, both ways. Keeps repeated names and their order,
/// because signature schemes sign every parameter received.
public enum FormEncoding {
    /// Name/value pairs in order; nil if an escape is broken or a name or value is not UTF-8.
    /// On every webhook's path: one pass over the bytes, no copying of parts that need no decoding.
    public static func decode(_ bytes: [UInt8]) -> [(name: String, value: String)]? {
        bytes.withUnsafeBufferPointer { buffer -> [(name: String, value: String)]? in
            var out: [(name: String, value: String)] = []
            var start = 0
            while start < buffer.count {
                var end = start
                while end < buffer.count && buffer[end] != UInt8(ascii: "&") { end += 1 }
                if end > start {
                    var equals = start
                    while equals < end && buffer[equals] != UInt8(ascii: "=") { equals += 1 }
                    guard let name = percentDecode(UnsafeBufferPointer(rebasing: buffer[start..<equals])) else { return nil }
                    let value = equals < end ? percentDecode(UnsafeBufferPointer(rebasing: buffer[(equals + 1)..<end])) : ""
                    guard let value else { return nil }
                    out.append((name, value))
                }
                start = end + 1
            }
            return out
        }
    }

    public static func decode(_ bytes: some Collection<UInt8>) -> [(name: String, value: String)]? {
        decode(Array(bytes))
    }

    public static func decode(_ string: String) -> [(name: String, value: String)]? {
        decode(Array(string.utf8))
    }

    static func percentDecode(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if !bytes.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "%") }) {
            return String(validating: bytes, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard i + 2 < bytes.count, let hv = hexValue(bytes[i + 1]), let lv = hexValue(bytes[i + 2]) else { return nil }
                out.append(hv << 4 | lv)
                i += 2
            default: out.append(b)
            }
            i += 1
        }
        return String(validating: out, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static let unreserved: Set<UInt8> = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))

    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if unreserved.contains(b) { out.append(Character(UnicodeScalar(b))) }
            else if b == UInt8(ascii: " ") { out.append("+") }
            else { out += String(format: "%%%02X", b) }
        }
        return out
    }
}

