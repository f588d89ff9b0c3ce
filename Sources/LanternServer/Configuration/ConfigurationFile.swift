import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Settings from a file as well as the environment: the same `NAME=value` lines (comments with
/// `#`, optional quotes), so one file can hold a service's provider credentials. Named by
/// `LANTERN_CONFIG_FILE`; anything also set in the environment wins (`SettingSources`). It
/// holds secrets, so it must be readable by its owner only.
public enum ConfigurationFile {
    public static func read(_ path: String) throws(ConfigurationError) -> [String: String] {
        var st = stat()
        guard stat(path, &st) == 0 else { throw .invalid("LANTERN_CONFIG_FILE", "cannot read \(path): \(String(cString: strerror(errno)))") }
        guard st.st_mode & 0o077 == 0 else {
            throw .invalid("LANTERN_CONFIG_FILE", "\(path) has mode \(String(st.st_mode & 0o777, radix: 8)); it holds secrets, so it must be readable by its owner only (chmod 600)")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .invalid("LANTERN_CONFIG_FILE", "\(path) is not a UTF-8 text file")
        }
        return try parse(text, source: path)
    }

    static func parse(_ text: String, source: String) throws(ConfigurationError) -> [String: String] {
        var values: [String: String] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let eq = line.firstIndex(of: "=") else {
                throw .invalid("LANTERN_CONFIG_FILE", "\(source):\(n + 1): expected NAME=value")
            }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }) else {
                // The line itself is not repeated: it may hold a secret.
                throw .invalid("LANTERN_CONFIG_FILE", "\(source):\(n + 1): expected NAME=value")
            }
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
            }
            values[name] = value
        }
        return values
    }
}
