import Foundation

/// A named area a service defines (e.g. "Bristol"), optionally covering postcode districts,
/// so people can subscribe by the name they use and alerts to a district still reach them.
public struct NamedArea: Sendable, Equatable {
    /// Stable code, e.g. `@bristol`.
    public let code: String
    public let name: String
    public let words: [[String]]
    public let districts: [PostcodeDistrict]

    public init(name: String, aliases: [String] = [], districts: [PostcodeDistrict] = []) {
        self.name = name
        self.code = "@" + KeywordText.words(name).joined(separator: "-").lowercased()
        self.words = ([name] + aliases).map(KeywordText.words).filter { !$0.isEmpty }
        self.districts = districts
    }
}

/// Where alerts go: postcode districts, named areas, or everywhere. Stored as short codes
/// ("BS5", "@bristol", "*"): nothing more precise than a district is ever kept.
public enum AreaCodes {
    public static let everywhere = "*"
    /// A report's area when she could not say it.
    public static let unknown = "unknown"
    /// Areas one person may have alerts for. Each costs nothing to keep, but without a cap one
    /// text could sign a number up for hundreds, and every "MY ALERTS" would list them all.
    public static let maxPerPerson = 10
    /// What coordinators (and files) write for every area; a person's words come from the locale files.
    public static let allWord: Set<String> = ["ALL"]
    static let fillerWords: Set<String> = ["AND", "OR", "PLUS", "IN", "THE"]

    /// Reads "BS5, M14 and Bristol", "bs5 6aa", "all". Nil if any part is not an area, so a
    /// typo is asked again rather than silently dropped.
    /// `everywhereWords`: single words meaning every area (the locale files' `answers: everywhere`).
    public static func parse(_ words: [String], areas: [NamedArea], everywhereWords: Set<String> = allWord) -> [String]? {
        var codes: [String] = []
        var i = 0
        func add(_ c: String) { if !codes.contains(c) { codes.append(c) } }
        outer: while i < words.count {
            let w = words[i]
            if fillerWords.contains(w) { i += 1; continue }
            if everywhereWords.contains(w) { add(everywhere); i += 1; continue }
            // A named area, longest name first.
            for area in areas {
                for name in area.words.sorted(by: { $0.count > $1.count }) where i + name.count <= words.count {
                    if Array(words[i..<(i + name.count)]) == name { add(area.code); i += name.count; continue outer }
                }
            }
            // A full postcode written with a space ("BS5 6AA") keeps only its district.
            if i + 1 < words.count, PostcodeDistrict.isFullPostcode(w + words[i + 1]), let d = PostcodeDistrict(w + words[i + 1]) {
                add(d.code); i += 2; continue
            }
            guard let d = PostcodeDistrict(w) else { return nil }
            add(d.code)
            i += 1
        }
        if codes.contains(everywhere) { return [everywhere] }
        return codes.isEmpty ? nil : codes
    }

    public static func join(_ codes: [String]) -> String { codes.joined(separator: ",") }
    public static func split(_ joined: String?) -> [String] {
        (joined ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }
    }

    /// How a list of codes reads in a text: "BS5, M14 and Bristol"; `everywhereWord` for "*".
    public static func describe(_ codes: [String], areas: [NamedArea], everywhereWord: String, andWord: String) -> String {
        let names = codes.map { code -> String in
            if code == everywhere { return everywhereWord }
            return areas.first { $0.code == code }?.name ?? code
        }
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " \(andWord) " + names.last!
    }

    /// Every subscription code that an alert to `targets` should reach: the targets themselves,
    /// "everywhere", named areas that contain a targeted district, and districts inside a
    /// targeted named area. An alert to everywhere reaches every subscriber.
    public static func reach(of targets: [String], areas: [NamedArea]) -> Set<String>? {
        if targets.contains(everywhere) { return nil }   // nil: everyone
        var out: Set<String> = [everywhere]
        for t in targets {
            out.insert(t)
            if let named = areas.first(where: { $0.code == t }) {
                out.formUnion(named.districts.map(\.code))
            } else {
                for named in areas where named.districts.contains(where: { $0.code == t }) { out.insert(named.code) }
            }
        }
        return out
    }
}
