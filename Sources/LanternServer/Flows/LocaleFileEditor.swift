import Foundation
import LanternCore

/// Changes one message at a time in a locale file's text, leaving every other byte as it was:
/// comments, order and the translators' layout survive an import, and importing what was
/// exported changes nothing. Locale files keep `messages:` last, one message per entry, either
/// `  key: "text"` or a block of `    text:` / `    segments:` / `    reviewed:` lines.
struct LocaleFileEditor {
    private(set) var lines: [String]
    private let endsWithNewline: Bool

    init(_ text: String) {
        endsWithNewline = text.hasSuffix("\n")
        var lines = text.components(separatedBy: "\n")
        if endsWithNewline { lines.removeLast() }
        self.lines = lines
    }

    var text: String { lines.joined(separator: "\n") + (endsWithNewline ? "\n" : "") }

    enum EditError: Error, CustomStringConvertible {
        case noMessagesSection
        case unreadableEntry(key: String, line: Int)
        var description: String {
            switch self {
            case .noMessagesSection: "the locale file has no 'messages:' section"
            case .unreadableEntry(let key, let line): "message '\(key)' (line \(line)) is not written as 'key: \"text\"' or a block with 'text:'"
            }
        }
    }

    private var messagesStart: Int? { lines.firstIndex { $0.hasPrefix("messages:") } }

    /// The entry's first line and the lines after it that belong to it.
    private func entry(_ key: String) -> (line: Int, body: Range<Int>)? {
        guard let start = messagesStart else { return nil }
        let head = "  \(key):"
        guard let i = lines[(start + 1)...].firstIndex(where: { $0 == head || $0.hasPrefix(head + " ") }) else { return nil }
        var end = i + 1
        while end < lines.count, lines[end].isEmpty || lines[end].hasPrefix("    ") { end += 1 }
        // Trailing blank lines separate it from the next entry; they are not its own.
        while end > i + 1, lines[end - 1].isEmpty { end -= 1 }
        return (i, (i + 1)..<end)
    }

    private func bodyLine(_ field: String, in body: Range<Int>) -> Int? {
        body.first { lines[$0].hasPrefix("    \(field):") }
    }

    /// Sets a message's words, adding the message at the end if the file lacks it (as a block
    /// with `segments:` when it may use more than one).
    mutating func setText(_ key: String, _ text: String, segments: Int) throws(EditError) {
        let quoted = Self.yamlQuoted(text)
        guard let found = entry(key) else {
            guard messagesStart != nil else { throw .noMessagesSection }
            let last = (lines.lastIndex { !$0.isEmpty } ?? lines.count - 1) + 1
            let added = segments > 1 ? ["  \(key):", "    segments: \(segments)", "    text: \(quoted)"] : ["  \(key): \(quoted)"]
            lines.insert(contentsOf: added, at: last)
            return
        }
        if lines[found.line] != "  \(key):" {
            lines[found.line] = "  \(key): \(quoted)"
        } else if let t = bodyLine("text", in: found.body) {
            lines[t] = "    text: \(quoted)"
        } else {
            throw .unreadableEntry(key: key, line: found.line + 1)
        }
    }

    /// Records (or, with nil, removes) a native speaker's review of a message.
    mutating func setReview(_ key: String, _ review: MessageReview?) throws(EditError) {
        guard let found = entry(key) else { return }
        let line = review.map {
            "    reviewed: {by: \(Self.yamlQuoted($0.by)), on: \(Self.yamlQuoted($0.on)), english: \(Self.yamlQuoted($0.english))}"
        }
        if lines[found.line] != "  \(key):" {
            // `  key: "text"` becomes a block to carry the review.
            guard let line else { return }
            let head = "  \(key): "
            let scalar = String(lines[found.line].dropFirst(head.count))
            lines.replaceSubrange(found.line...found.line, with: ["  \(key):", "    text: \(scalar)", line])
            return
        }
        if let r = bodyLine("reviewed", in: found.body) {
            if let line { lines[r] = line } else { lines.remove(at: r) }
        } else if let line {
            guard let t = bodyLine("text", in: found.body) else { throw .unreadableEntry(key: key, line: found.line + 1) }
            lines.insert(line, at: t + 1)
        }
    }

    /// A YAML double-quoted scalar: backslash, quote and control characters escaped, and the
    /// invisible direction marks written as escapes so nobody carries one by accident.
    static func yamlQuoted(_ s: String) -> String {
        DoubleQuoted.quote(s) { scalar in
            let v = scalar.value
            let invisible = v < 0x20 || v == 0x7F || (0x200E...0x200F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
            return invisible ? String(format: "\\u%04X", v) : nil
        }
    }
}
