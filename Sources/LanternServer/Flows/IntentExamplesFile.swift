import Foundation
import LanternCore

/// The example-sentence format coordinators edit (and the test corpora use): `[intent]` starts
/// a section, each other line is one example, `#` starts a comment, blank lines are ignored.
public enum IntentExamplesFile {
    public static func parse(_ text: String, locale: String, file: String, diagnostics: inout [FlowDiagnostic]) -> [IntentExample] {
        var out: [IntentExample] = []
        var intent: String?
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let at = SourceLocation(file: file, line: n + 1)
            if line.hasPrefix("[") {
                let name = line.dropFirst().prefix { $0 != "]" }
                guard line.hasSuffix("]"), !name.isEmpty, name.allSatisfy({ $0.isLetter || $0 == "_" }) else {
                    diagnostics.append(FlowDiagnostic(.error, "'\(line)' is not a section: write [intent]", at: at))
                    intent = nil
                    continue
                }
                intent = String(name)
                continue
            }
            guard let intent else {
                diagnostics.append(FlowDiagnostic(.error, "an example before any [intent] line", at: at))
                continue
            }
            out.append(IntentExample(text: line, intent: intent, locale: locale, location: at))
        }
        return out
    }
}
