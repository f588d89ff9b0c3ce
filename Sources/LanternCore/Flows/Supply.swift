import Foundation

/// Something the service hands out (`supplies:` in service.yaml): naloxone, needles and syringes,
/// a sharps bin, foil, test strips. What she is sent is never named to her unless she chose
/// plain wording: `discreetName` is what a lock screen shows.
public struct Supply: Sendable, Equatable {
    /// Stable id, as coordinators see it in the kit queue (`spray`, `sharps_bin`).
    public let id: String
    public let name: String
    public let discreetName: String
    /// The most of it one request may ask for.
    public let max: Int
    public let post: Bool
    public let collect: Bool
    /// Its names in other languages, by locale (`translations:`); a language without one shows
    /// the English names.
    public let translations: [String: Names]

    /// A supply's two names in one language.
    public struct Names: Sendable, Equatable {
        public let name: String
        public let discreetName: String
        public init(name: String, discreetName: String) {
            self.name = name
            self.discreetName = discreetName
        }
    }

    public init(id: String, name: String, discreetName: String, max: Int = 1, post: Bool = true, collect: Bool = true,
                translations: [String: Names] = [:]) {
        self.id = id
        self.name = name
        self.discreetName = discreetName
        self.max = max
        self.post = post
        self.collect = collect
        self.translations = translations
    }

    /// What she reads in her language: the discreet name unless she chose plain wording.
    public func name(discreet: Bool, locale: String = defaultLocale) -> String {
        let names = translations[locale] ?? Names(name: name, discreetName: discreetName)
        return discreet ? names.discreetName : names.name
    }

    /// The numbered list KIT shows in one language.
    public static func list(_ supplies: [Supply], discreet: Bool, locale: String) -> String {
        supplies.enumerated().map { "\($0.offset + 1) \($0.element.name(discreet: discreet, locale: locale))" }.joined(separator: "\n")
    }

    /// "1 3", "1,3", "1 and 3", "1 1 3" (twice the first, up to its max): the chosen supplies and
    /// how many of each, as the kit queue stores them ("spray+sharps_bin", "spray x2+foil"); nil
    /// if any number is not on the list or a count goes over its max.
    public static func choose(_ words: [String], from supplies: [Supply]) -> String? {
        let numbers = words.filter { !["AND", "I", "E", "Y", "SI", "OU", "O", "SAU", "A"].contains($0) }
        guard !numbers.isEmpty, numbers.count <= 20 else { return nil }
        var counts: [Int: Int] = [:]
        var order: [Int] = []
        for w in numbers {
            guard let n = Int(w), (1...supplies.count).contains(n) else { return nil }
            if counts[n] == nil { order.append(n) }
            counts[n, default: 0] += 1
            guard counts[n]! <= supplies[n - 1].max else { return nil }
        }
        return order.map { n in supplies[n - 1].id + (counts[n]! > 1 ? " x\(counts[n]!)" : "") }.joined(separator: "+")
    }

    /// The supplies in a stored choice ("spray x2+foil" → (spray, 2), (foil, 1)); unknown ids are skipped.
    public static func chosen(_ stored: String?, from supplies: [Supply]) -> [(supply: Supply, count: Int)] {
        (stored ?? "").split(separator: "+").compactMap { part in
            let bits = part.split(separator: " ")
            guard let id = bits.first, let supply = supplies.first(where: { $0.id == id }) else { return nil }
            return (supply, bits.count > 1 ? Int(bits[1].dropFirst()) ?? 1 : 1)
        }
    }
}
