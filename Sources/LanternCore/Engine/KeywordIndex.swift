import Foundation

/// Every flow's keywords, laid out once for the lookups the engine makes on every text: the
/// global ones, the others, and those that still answer someone who opted out. Each keyword's
/// words are kept as scalars with their typo tolerance, so matching a text allocates nothing
/// for the keywords it cannot be.
struct KeywordIndex: Sendable {
    /// A class, so walking thousands of them per text costs no copying.
    final class Entry: Sendable {
        /// Index into `FlowLibrary.flows`.
        let flow: Int
        let keyword: Keyword
        let state: String
        let words: [[Unicode.Scalar]]
        let tolerances: [Int]
        let masks: [UInt64]

        init(flow: Int, keyword: Keyword, state: String) {
            self.flow = flow
            self.keyword = keyword
            self.state = state
            self.words = keyword.words.map { Array($0.unicodeScalars) }
            self.tolerances = keyword.words.map { KeywordText.tolerance(forLength: $0.count) }
            self.masks = words.map(KeywordText.letterMask)
        }
    }

    enum Group: Sendable { case global, local, optedOut }

    /// One group's entries, found by their first word: exactly, or (for words long enough to
    /// carry a typo) by a cheap test over the distinct first words before any full comparison.
    struct Table: Sendable {
        let entries: [Entry]
        let exact: [String: [Int]]
        /// Distinct first words that tolerate a typo, by their length in scalars (a typo changes
        /// the length by at most the tolerance, at most 2), so a text is compared with few.
        let fuzzy: [Int: [(scalars: [Unicode.Scalar], mask: UInt64, tolerance: Int, entries: [Int])]]

        init(_ entries: [Entry]) {
            self.entries = entries
            var exact: [String: [Int]] = [:]
            var fuzzy: [String: (scalars: [Unicode.Scalar], mask: UInt64, tolerance: Int, entries: [Int])] = [:]
            var order: [String] = []
            for (i, e) in entries.enumerated() {
                guard let first = e.keyword.words.first else { continue }
                exact[first, default: []].append(i)
                guard e.tolerances[0] > 0 else { continue }
                if fuzzy[first] == nil { order.append(first) }
                fuzzy[first, default: (e.words[0], e.masks[0], e.tolerances[0], [])].entries.append(i)
            }
            self.exact = exact
            self.fuzzy = Dictionary(grouping: order.compactMap { fuzzy[$0] }, by: \.scalars.count)
        }

        /// Indices of the entries whose first word the typed first word may be, in order.
        func candidates(_ typed: TypedWords) -> [Int] {
            var found = exact[typed.words[0]] ?? []
            let (scalars, mask) = (typed.scalars[0], typed.masks[0])
            for length in max(0, scalars.count - 2)...(scalars.count + 2) {
                for f in fuzzy[length] ?? [] where abs(scalars.count - f.scalars.count) <= f.tolerance
                    && (mask & ~f.mask).nonzeroBitCount <= f.tolerance && (f.mask & ~mask).nonzeroBitCount <= f.tolerance
                    && KeywordText.distance(scalars, f.scalars, limit: f.tolerance) <= f.tolerance {
                    found += f.entries
                }
            }
            return found.count > 1 ? Array(Set(found)).sorted() : found
        }
    }

    let global: Table
    let local: Table
    let optedOut: Table
    /// Everyday words of every language ("FALA", "CAUSA"): typed as they are, they are meant as
    /// themselves, never as a keyword one letter away (FALAR, PAUSA).
    let everyday: Set<String>

    init(flows: [Flow], everyday: Set<String> = []) {
        self.everyday = everyday
        func entries(_ flow: Int, _ keywords: [Keyword], state: String) -> [Entry] {
            keywords.map { Entry(flow: flow, keyword: $0, state: state) }
        }
        func all(_ i: Int, _ flow: Flow, optedOutWords: Bool) -> [Entry] {
            entries(i, flow.keywords, state: flow.start)
                + flow.shortcuts.flatMap { entries(i, [$0.keyword], state: $0.state) }
                + (optedOutWords ? entries(i, flow.optedOutKeywords, state: flow.start) : [])
        }
        let numbered = Array(flows.enumerated())
        global = Table(numbered.filter { $0.element.isGlobal }.flatMap { all($0.offset, $0.element, optedOutWords: false) })
        local = Table(numbered.filter { !$0.element.isGlobal }.flatMap { all($0.offset, $0.element, optedOutWords: false) })
        optedOut = Table(numbered.filter { $0.element.runsWhenOptedOut }.flatMap { all($0.offset, $0.element, optedOutWords: true) })
    }

    subscript(group: Group) -> Table {
        switch group {
        case .global: global
        case .local: local
        case .optedOut: optedOut
        }
    }

    /// The best keyword in a group: the longest keyword wins ("KIT STATUS" over "KIT"), then the
    /// fewest typos, then the flow listed first.
    func best(_ typed: TypedWords, in group: Group, wholeOnly: Bool) -> (entry: Entry, distance: Int)? {
        guard !typed.words.isEmpty else { return nil }
        var best: (entry: Entry, distance: Int)?
        let table = self[group]
        for i in table.candidates(typed) {
            let entry = table.entries[i]
            let n = entry.words.count
            if wholeOnly && n != typed.words.count { continue }
            if let b = best, n < b.entry.words.count { continue }
            guard let d = Self.distance(typed, entry, everyday: everyday) else { continue }
            if let b = best, n == b.entry.words.count && d >= b.distance { continue }
            best = (entry, d)
        }
        return best
    }

    /// Typo distance if the typed words are this keyword (whole) or begin with it (start).
    static func distance(_ typed: TypedWords, _ entry: Entry, everyday: Set<String> = []) -> Int? {
        let k = entry.keyword.words
        guard !k.isEmpty, typed.words.count >= k.count else { return nil }
        if entry.keyword.match == .whole && typed.words.count != k.count { return nil }
        var total = 0
        for i in k.indices {
            if typed.words[i] == k[i] { continue }
            let limit = entry.tolerances[i]
            guard limit > 0, abs(typed.scalars[i].count - entry.words[i].count) <= limit, !everyday.contains(typed.words[i]) else { return nil }
            // Each typo brings in at most one letter the keyword lacks, and drops at most one it has.
            let (mine, theirs) = (typed.masks[i], entry.masks[i])
            guard (mine & ~theirs).nonzeroBitCount <= limit, (theirs & ~mine).nonzeroBitCount <= limit else { return nil }
            let d = KeywordText.distance(typed.scalars[i], entry.words[i], limit: limit)
            guard d <= limit else { return nil }
            total += d
        }
        return total
    }
}

/// A text's words, folded, with their scalars worked out once for typo matching.
struct TypedWords {
    let words: [String]
    let scalars: [[Unicode.Scalar]]
    let masks: [UInt64]
    init(_ words: [String]) {
        self.words = words
        self.scalars = words.map { Array($0.unicodeScalars) }
        self.masks = scalars.map(KeywordText.letterMask)
    }
}
