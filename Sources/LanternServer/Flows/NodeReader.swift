import Foundation
import LanternCore
import Yams

/// Walks a YAML node tree, recording problems instead of stopping at the first.
struct NodeReader {
    let file: String
    var diagnostics: [FlowDiagnostic]

    func at(_ node: Node?) -> SourceLocation { SourceLocation(file: file, line: node?.mark?.line ?? 1) }

    mutating func error(_ message: String, _ node: Node?) {
        diagnostics.append(FlowDiagnostic(.error, message, at: at(node)))
    }

    mutating func compose(_ url: URL) -> Node? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            diagnostics.append(FlowDiagnostic(.error, "cannot read file (is it UTF-8?)", at: SourceLocation(file: file, line: 1)))
            return nil
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                diagnostics.append(FlowDiagnostic(.error, "file is empty", at: SourceLocation(file: file, line: 1)))
                return nil
            }
            return node
        } catch let e as YamlError {
            diagnostics.append(FlowDiagnostic(.error, "not valid YAML: \(e)", at: SourceLocation(file: file, line: Self.line(of: e))))
            return nil
        } catch {
            diagnostics.append(FlowDiagnostic(.error, "not valid YAML", at: SourceLocation(file: file, line: 1)))
            return nil
        }
    }

    static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: 1
        }
    }

    // MARK: typed access

    mutating func mapping(_ node: Node, _ what: String, allowed: Set<String>) -> [(key: String, value: Node)]? {
        keyedMapping(node, what, allowed: allowed)?.map { ($0.key, $0.value) }
    }

    /// Like `mapping`, keeping each key's node (for the line a name is written on).
    mutating func keyedMapping(_ node: Node, _ what: String, allowed: Set<String>) -> [(key: String, keyNode: Node, value: Node)]? {
        guard let m = node.mapping else { error("\(what) must be a mapping of names to values", node); return nil }
        var out: [(String, Node, Node)] = []
        for (k, v) in m {
            guard let key = k.string else { error("\(what) has a key that is not text", k); continue }
            if !allowed.isEmpty && !allowed.contains(key) {
                error("\(what) has unknown field '\(key)' (expected one of: \(allowed.sorted().joined(separator: ", ")))", k)
                continue
            }
            out.append((key, k, v))
        }
        return out
    }

    mutating func string(_ node: Node, _ what: String) -> String? {
        guard let s = node.scalar?.string else { error("\(what) must be text", node); return nil }
        return s
    }

    mutating func strings(_ node: Node, _ what: String) -> [(String, Node)] {
        if let s = node.scalar?.string { return [(s, node)] }
        guard let seq = node.sequence else { error("\(what) must be text or a list", node); return [] }
        return seq.compactMap { item in string(item, what).map { ($0, item) } }
    }

    mutating func bool(_ node: Node, _ what: String) -> Bool? {
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: error("\(what) must be true or false", node); return nil
        }
    }

    mutating func duration(_ node: Node, _ what: String) -> TimeInterval? {
        guard let s = node.scalar?.string.trimmingCharacters(in: .whitespaces), !s.isEmpty else {
            error("\(what) must be a duration like 30m, 2h or 90s", node); return nil
        }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = s.last, let mult = units[unit], let n = Double(s.dropLast()), n > 0 { return n * mult }
        if let n = Double(s), n > 0 { return n }
        error("\(what) must be a duration like 30m, 2h or 90s", node)
        return nil
    }

}
