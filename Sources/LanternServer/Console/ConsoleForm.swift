import Foundation

/// A submitted console form. Kept as pairs, not a dictionary: a checkbox list ("area" ticked
/// three times) sends one name many times, and every value counts.
struct ConsoleForm: Sendable, Equatable {
    let fields: [(name: String, value: String)]

    init(_ fields: [(name: String, value: String)]) { self.fields = fields }

    /// `application/x-www-form-urlencoded`, as every browser sends it.
    init?(urlEncoded body: String) {
        var fields: [(String, String)] = []
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : "") else { return nil }
            fields.append((name, value))
        }
        self.fields = fields
    }

    static func decode(_ s: Substring) -> String? {
        s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// The first value given for `name`.
    subscript(_ name: String) -> String? { fields.first { $0.name == name }?.value }

    /// Every value given for `name`, in the order sent.
    func all(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

    /// A trimmed value, or nil when it is missing or blank.
    func text(_ name: String) -> String? {
        guard let v = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
        return v
    }

    /// A ticked checkbox.
    func isOn(_ name: String) -> Bool { self[name].map { !$0.isEmpty } ?? false }

    static func == (a: ConsoleForm, b: ConsoleForm) -> Bool {
        a.fields.map(\.name) == b.fields.map(\.name) && a.fields.map(\.value) == b.fields.map(\.value)
    }
}
