import Foundation

/// A gettext PO file, the format translators' tools (Poedit, Weblate, Lokalize) read and write.
/// Only what Lantern needs: comments, flags, `msgctxt`, `msgid`, `msgstr`; plural forms and
/// obsolete (`#~`) entries are not used and are skipped on reading. Written by hand because no
/// Swift package on this machine reads PO, and the format is small and stable.
public struct PortableObject: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// `#.` lines: notes for the translator.
        public var notes: [String] = []
        /// `#:` lines: where the text lives.
        public var references: [String] = []
        /// `#,` flags (`fuzzy`: the translation needs looking at before it is trusted).
        public var flags: [String] = []
        public var context: String?
        public var id: String
        public var translation: String

        public init(notes: [String] = [], references: [String] = [], flags: [String] = [], context: String?, id: String, translation: String) {
            self.notes = notes
            self.references = references
            self.flags = flags
            self.context = context
            self.id = id
            self.translation = translation
        }

        public var isFuzzy: Bool { flags.contains("fuzzy") }
    }

    /// The header's `Name: value` lines (the first entry, with an empty msgid).
    public var header: [(name: String, value: String)]
    public var entries: [Entry]

    public init(header: [(name: String, value: String)], entries: [Entry]) {
        self.header = header
        self.entries = entries
    }

    public static func == (a: PortableObject, b: PortableObject) -> Bool {
        a.entries == b.entries && a.header.map { "\($0.name): \($0.value)" } == b.header.map { "\($0.name): \($0.value)" }
    }

    public func headerValue(_ name: String) -> String? {
        header.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// A line of the file that could not be read, with its number.
    public struct SyntaxError: Error, CustomStringConvertible, Equatable {
        public let line: Int
        public let problem: String
        public var description: String { "line \(line): \(problem)" }
    }

    // MARK: Writing

    public func written(leadingComments: [String] = []) -> String {
        var out = leadingComments.map { "# \($0)\n" }.joined()
        out += "msgid \"\"\nmsgstr \"\"\n"
        for (name, value) in header { out += Self.quoted("\(name): \(value)\n") + "\n" }
        for e in entries {
            out += "\n"
            for n in e.notes { out += "#. \(n)\n" }
            for r in e.references { out += "#: \(r)\n" }
            if !e.flags.isEmpty { out += "#, \(e.flags.joined(separator: ", "))\n" }
            if let c = e.context { out += "msgctxt " + Self.quoted(c) + "\n" }
            out += "msgid " + Self.quoted(e.id) + "\n"
            out += "msgstr " + Self.quoted(e.translation) + "\n"
        }
        return out
    }

    /// A PO string: C escapes for the backslash, the quote and control characters.
    static func quoted(_ s: String) -> String {
        DoubleQuoted.quote(s) { $0.value < 0x20 ? String(format: "\\%03o", $0.value) : nil }
    }

    // MARK: Reading

    public static func parse(_ text: String) throws(SyntaxError) -> PortableObject {
        var entries: [Entry] = []
        var header: [(String, String)] = []
        var current = Entry(context: nil, id: "", translation: "")
        var field: String?  // which string the continuation lines belong to
        var sawID = false, sawTranslation = false
        var lineNumber = 0

        func finish() {
            defer { current = Entry(context: nil, id: "", translation: ""); field = nil; sawID = false; sawTranslation = false }
            guard sawID else { return }
            if current.id.isEmpty && current.context == nil {
                for line in current.translation.split(separator: "\n") {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    header.append((String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                                   String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
                }
            } else {
                entries.append(current)
            }
        }

        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { if sawTranslation { finish() }; continue }
            if line.hasPrefix("#~") { continue }
            if line.hasPrefix("#") {
                // A comment after a msgstr starts the next entry.
                if sawTranslation { finish() }
                if line.hasPrefix("#.") { current.notes.append(line.dropFirst(2).trimmingCharacters(in: .whitespaces)) }
                else if line.hasPrefix("#:") { current.references.append(line.dropFirst(2).trimmingCharacters(in: .whitespaces)) }
                else if line.hasPrefix("#,") {
                    current.flags += line.dropFirst(2).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                }
                continue
            }
            if line.hasPrefix("\"") {
                guard let f = field else { throw SyntaxError(line: lineNumber, problem: "a string with no msgid, msgstr or msgctxt before it") }
                append(try unquoted(line, lineNumber), to: f, in: &current)
                continue
            }
            guard let space = line.firstIndex(of: " ") else { throw SyntaxError(line: lineNumber, problem: "expected msgctxt, msgid or msgstr") }
            let keyword = String(line[..<space])
            let rest = line[line.index(after: space)...].trimmingCharacters(in: .whitespaces)
            switch keyword {
            case "msgctxt":
                if sawTranslation { finish() }
                current.context = ""
            case "msgid":
                if sawTranslation { finish() }
                sawID = true
            case "msgstr", "msgstr[0]":
                guard sawID else { throw SyntaxError(line: lineNumber, problem: "msgstr with no msgid before it") }
                sawTranslation = true
            case "msgid_plural":
                throw SyntaxError(line: lineNumber, problem: "plural forms are not used by Lantern")
            default:
                throw SyntaxError(line: lineNumber, problem: "unknown keyword '\(keyword)'")
            }
            field = keyword == "msgstr[0]" ? "msgstr" : keyword
            append(try unquoted(rest, lineNumber), to: field!, in: &current)
        }
        finish()
        return PortableObject(header: header, entries: entries)
    }

    private static func append(_ s: String, to field: String, in entry: inout Entry) {
        switch field {
        case "msgctxt": entry.context = (entry.context ?? "") + s
        case "msgid": entry.id += s
        default: entry.translation += s
        }
    }

    static func unquoted(_ token: String, _ line: Int) throws(SyntaxError) -> String {
        guard token.count >= 2, token.hasPrefix("\""), token.hasSuffix("\"") else {
            throw SyntaxError(line: line, problem: "expected a \"quoted\" string")
        }
        var out = String.UnicodeScalarView()
        let scalars = Array(token.unicodeScalars.dropFirst().dropLast())
        var i = 0
        while i < scalars.count {
            let s = scalars[i]
            if s == "\"" { throw SyntaxError(line: line, problem: "a quote inside a string must be written \\\"") }
            guard s == "\\" else { out.append(s); i += 1; continue }
            guard i + 1 < scalars.count else { throw SyntaxError(line: line, problem: "a string ends with a lone backslash") }
            let e = scalars[i + 1]
            i += 2
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            case "\"": out.append("\"")
            case "0"..."7":
                var value = e.value - 0x30
                var digits = 1
                while digits < 3, i < scalars.count, ("0"..."7").contains(scalars[i]) {
                    value = value * 8 + scalars[i].value - 0x30
                    i += 1; digits += 1
                }
                guard let scalar = Unicode.Scalar(value) else { throw SyntaxError(line: line, problem: "a bad octal escape") }
                out.append(scalar)
            default:
                throw SyntaxError(line: line, problem: "unknown escape \\\(e)")
            }
        }
        return String(out)
    }
}

/// The double-quoted strings PO and YAML share: backslash, quote, newline and tab escaped the C
/// way; `other` writes any other character that needs it, in the file's own form.
enum DoubleQuoted {
    static func quote(_ s: String, other: (Unicode.Scalar) -> String?) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if let escaped = other(scalar) { out += escaped } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
