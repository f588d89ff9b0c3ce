import Foundation

/// What the recogniser found in one text.
public struct EmergencyRecognition: Sendable, Equatable {
    /// What the text is about, most urgent first; empty when it is an everyday text.
    public var intents: [EmergencyIntent]
    /// Languages whose words it was found in, in the library's order.
    public var locales: [String]

    public static let none = EmergencyRecognition(intents: [], locales: [])
    public var isEmergency: Bool { !intents.isEmpty }
}

/// Recognises an overdose, a poisoned child, or a crisis in any language Lantern speaks, on
/// every text, before anything else. Its own component, not a keyword list run through the
/// general typo-tolerant matcher: emergency words may carry typos only where no everyday word
/// lies one typo away, short words (OD) count only in the patterns written for them, and
/// negations ("not an emergency", "if someone…", "she woke up") are understood. Pure and
/// compiled once: every word of every pattern gets a number, and a text is read word by word
/// against an index of where patterns start.
public struct EmergencyRecogniser: Sendable {
    enum Role: Sendable, Equatable {
        case sign(EmergencyIntent)
        case not
        case over
        case past
        case followUp(String)

        var isSign: Bool { if case .sign = self { true } else { false } }
    }

    struct Compiled: Sendable {
        /// Each element: the word ids it accepts, any number, or a gap of up to n words.
        enum Element: Sendable { case ids([Int32]), number, gap(Int) }
        let elements: [Element]
        let anchoredStart: Bool
        let anchoredEnd: Bool
        let urgent: Bool
        let reachesForward: Bool
        let role: Role
        let locale: Int
        /// The entry as written, for `lantern flows recognise`.
        let source: String
    }

    /// A problem with an entry, for `flows check`.
    public struct Problem: Sendable, Equatable {
        public let locale: String
        public let message: String
        public let location: SourceLocation?
    }

    let locales: [String]
    let patterns: [Compiled]
    /// Patterns by the word ids their first element accepts.
    let startsWith: [Int32: [Int]]
    let startsWithNumber: [Int]
    let exact: [String: Int32]
    /// Word beginnings (`OVERDOS*`) by their first three letters.
    let prefixes: [String: [(prefix: String, id: Int32)]]
    /// Words a typing mistake is forgiven in (six letters or more, Latin letters), by first
    /// letter and length, so a typed word is compared with a handful at most.
    let tolerant: [TolerantKey: [(word: [UInt8], id: Int32)]]
    let notTypos: Set<String>
    let spellings: [String: [String]]
    /// Follow-up answers by name, in every language.
    let followUpNames: Set<String>
    public let problems: [Problem]

    /// The shortest emergency word typing mistakes are forgiven in.
    static let tolerantLength = 6

    public init(lexicons: [(locale: String, lexicon: EmergencyLexicon)]) {
        var problems: [Problem] = []
        var exact: [String: Int32] = [:]
        var prefixIDs: [String: Int32] = [:]
        var nextID: Int32 = 0
        func id(_ word: String, prefix: Bool) -> Int32 {
            if prefix {
                if let i = prefixIDs[word] { return i }
                prefixIDs[word] = nextID
            } else {
                if let i = exact[word] { return i }
                exact[word] = nextID
            }
            nextID += 1
            return nextID - 1
        }

        var spellings: [String: [String]] = [:]
        var spelledBy: [String: String] = [:]
        var notTypos: Set<String> = []
        for (locale, lexicon) in lexicons {
            for s in lexicon.spellings {
                let typed = EmergencyText.rawWords(s.typed).map { EmergencyText.collapseRuns($0.text) }
                let means = EmergencyText.rawWords(s.means).map { EmergencyText.withoutApostrophes(EmergencyText.collapseRuns($0.text)) }
                guard typed.count == 1, !means.isEmpty else {
                    problems.append(Problem(locale: locale, message: "spelling '\(s.typed)' must be one typed word meaning one or more words", location: s.location))
                    continue
                }
                if let other = spellings[typed[0]], other != means {
                    problems.append(Problem(locale: locale, message: "spelling '\(s.typed)' means '\(means.joined(separator: " "))' here but '\(other.joined(separator: " "))' in \(spelledBy[typed[0]] ?? "?"); every language's spellings apply to every text, so they must agree", location: s.location))
                    continue
                }
                spellings[typed[0]] = means
                spelledBy[typed[0]] = locale
            }
            for w in lexicon.notTypos { for word in EmergencyText.rawWords(w) { notTypos.insert(EmergencyText.withoutApostrophes(word.text)) } }
        }

        var compiled: [Compiled] = []
        var followUpNames: Set<String> = []
        for (index, (locale, lexicon)) in lexicons.enumerated() {
            var entries: [(EmergencyLexicon.Entry, Role)] = []
            for intent in EmergencyIntent.allCases { entries += (lexicon.signs[intent] ?? []).map { ($0, .sign(intent)) } }
            entries += lexicon.not.map { ($0, .not) } + lexicon.over.map { ($0, .over) } + lexicon.past.map { ($0, .past) }
            for (name, list) in lexicon.followUps.sorted(by: { $0.key < $1.key }) {
                followUpNames.insert(name)
                entries += list.map { ($0, .followUp(name)) }
            }
            for (entry, role) in entries {
                let parsed: [EmergencyPattern]
                do { parsed = try EmergencyPattern.parse(entry.text) } catch {
                    problems.append(Problem(locale: locale, message: "emergency entry '\(entry.text)': \(error.description)", location: entry.location))
                    continue
                }
                for pattern in parsed {
                    if pattern.reachesForward && role != .not {
                        problems.append(Problem(locale: locale, message: "'>>' only goes at the end of a 'not' entry ('\(entry.text)')", location: entry.location))
                    }
                    if pattern.urgent, role != .not, role.isSign == false {
                        problems.append(Problem(locale: locale, message: "'!' only marks signs and 'not' entries ('\(entry.text)')", location: entry.location))
                    }
                    var elements: [Compiled.Element] = []
                    for element in pattern.elements {
                        switch element {
                        case .gap(let n): elements.append(.gap(n))
                        case .number: elements.append(.number)
                        case .words(let words):
                            for w in words where !w.prefix && spellings[w.text] != nil {
                                problems.append(Problem(locale: locale, message: "'\(w.text)' in '\(entry.text)' never reaches a pattern: spellings turn it into '\(spellings[w.text]!.joined(separator: " "))'; write that", location: entry.location))
                            }
                            elements.append(.ids(words.map { id($0.text, prefix: $0.prefix) }))
                        }
                    }
                    compiled.append(Compiled(elements: elements, anchoredStart: pattern.anchoredStart, anchoredEnd: pattern.anchoredEnd,
                                             urgent: pattern.urgent, reachesForward: pattern.reachesForward, role: role, locale: index,
                                             source: entry.text))
                }
            }
        }

        var startsWith: [Int32: [Int]] = [:]
        var startsWithNumber: [Int] = []
        for (i, p) in compiled.enumerated() {
            switch p.elements.first {
            case .ids(let ids)?: for w in Set(ids) { startsWith[w, default: []].append(i) }
            case .number?: startsWithNumber.append(i)
            default: break
            }
        }
        var tolerant: [TolerantKey: [(word: [UInt8], id: Int32)]] = [:]
        for (word, i) in exact where word.utf8.count >= Self.tolerantLength && word.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) {
            let bytes = Array(word.utf8)
            tolerant[TolerantKey(first: bytes[0], length: bytes.count), default: []].append((bytes, i))
        }
        var prefixes: [String: [(prefix: String, id: Int32)]] = [:]
        for (word, i) in prefixIDs {
            prefixes[String(String.UnicodeScalarView(word.unicodeScalars.prefix(3))), default: []].append((word, i))
        }
        self.locales = lexicons.map(\.locale)
        self.patterns = compiled
        self.startsWith = startsWith
        self.startsWithNumber = startsWithNumber
        self.exact = exact
        self.prefixes = prefixes
        self.tolerant = tolerant
        self.notTypos = notTypos
        self.spellings = spellings
        self.followUpNames = followUpNames
        // Bracketed alternatives expand into several patterns; say each problem once.
        var seen: Set<String> = []
        self.problems = problems.filter { seen.insert($0.locale + "\u{0}" + $0.message).inserted }
    }

    // MARK: - Reading a text

    struct Token {
        let ids: [Int32]
        let isNumber: Bool
        let sentence: Int
    }

    /// The text as word ids, spellings applied.
    func tokens(_ text: String) -> [Token] {
        var out: [Token] = []
        for raw in EmergencyText.rawWords(text) {
            let collapsed = EmergencyText.collapseRuns(raw.text)
            var words: [String]
            if let spelled = spellings[collapsed] {
                words = spelled
            } else {
                let plain = EmergencyText.withoutApostrophes(collapsed)
                words = spellings[plain] ?? [plain]
            }
            for w in words where !w.isEmpty {
                out.append(Token(ids: ids(of: w), isNumber: w.unicodeScalars.allSatisfy { $0.value >= 0x30 && $0.value <= 0x39 },
                                 sentence: raw.sentence))
            }
        }
        return out
    }

    /// Every pattern word this typed word is: itself, a word it begins with, or (for long
    /// words, not everyday ones) the word it is one typing mistake away from.
    func ids(of word: String) -> [Int32] {
        var found: [Int32] = []
        if let i = exact[word] { found.append(i) }
        let scalars = word.unicodeScalars
        if scalars.count >= 3, let bucket = prefixes[String(String.UnicodeScalarView(scalars.prefix(3)))] {
            for (prefix, id) in bucket where word.utf8.starts(with: prefix.utf8) { found.append(id) }
        }
        if found.isEmpty && word.utf8.count >= Self.tolerantLength - 1 && !notTypos.contains(word) {
            found = typoMatches(word)
        }
        return found
    }

    struct TolerantKey: Hashable, Sendable {
        let first: UInt8
        let length: Int
    }

    /// Words one typing mistake away (insert, delete, change or swap two neighbours), never in
    /// the first letter. Latin letters only: other scripts are matched as written.
    func typoMatches(_ word: String) -> [Int32] {
        var out: [Int32] = []
        var bytes: [UInt8] = []
        for b in word.utf8 {
            guard b >= 0x41 && b <= 0x5A else { return [] }
            bytes.append(b)
        }
        for length in (bytes.count - 1)...(bytes.count + 1) {
            for (target, id) in tolerant[TolerantKey(first: bytes[0], length: length)] ?? [] where Self.withinOneEdit(bytes, target) {
                out.append(id)
            }
        }
        return out
    }

    /// Whether two words differ by at most one insertion, deletion, substitution or swap of
    /// neighbours, without building the distance table.
    static func withinOneEdit(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        if a.count == b.count {
            var i = 0
            while i < a.count && a[i] == b[i] { i += 1 }
            if i == a.count { return true }
            // One change, or two neighbours swapped.
            if a[(i + 1)...] == b[(i + 1)...] { return true }
            return i + 1 < a.count && a[i] == b[i + 1] && a[i + 1] == b[i] && a[(i + 2)...] == b[(i + 2)...]
        }
        let (long, short) = a.count > b.count ? (a, b) : (b, a)
        guard long.count - short.count == 1 else { return false }
        var i = 0
        while i < short.count && long[i] == short[i] { i += 1 }
        return long[(i + 1)...] == short[i...]
    }

    struct Match {
        let pattern: Int
        let start: Int
        /// Exclusive.
        let end: Int
    }

    /// Where each pattern matches (at most once per start position).
    func matches(_ tokens: [Token], where include: (Role) -> Bool) -> [Match] {
        var out: [Match] = []
        var candidates: [Int] = []
        for (pos, token) in tokens.enumerated() {
            candidates.removeAll(keepingCapacity: true)
            for id in token.ids { candidates += startsWith[id] ?? [] }
            if token.isNumber { candidates += startsWithNumber }
            for (n, p) in candidates.enumerated() where !candidates[..<n].contains(p) {
                let pattern = patterns[p]
                guard include(pattern.role), !pattern.anchoredStart || pos == 0 else { continue }
                if let end = match(pattern, element: 1, at: pos + 1, tokens) {
                    out.append(Match(pattern: p, start: pos, end: end))
                }
            }
        }
        return out
    }

    func match(_ p: Compiled, element e: Int, at pos: Int, _ tokens: [Token]) -> Int? {
        if e == p.elements.count { return !p.anchoredEnd || pos == tokens.count ? pos : nil }
        switch p.elements[e] {
        case .gap(let n):
            for skip in 0...n where pos + skip < tokens.count {
                if let end = match(p, element: e + 1, at: pos + skip, tokens) { return end }
            }
            return nil
        case .number:
            guard pos < tokens.count, tokens[pos].isNumber else { return nil }
            return match(p, element: e + 1, at: pos + 1, tokens)
        case .ids(let want):
            guard pos < tokens.count else { return nil }
            let have = tokens[pos].ids
            guard have.contains(where: { want.contains($0) }) else { return nil }
            return match(p, element: e + 1, at: pos + 1, tokens)
        }
    }

    // MARK: - Deciding

    /// Whether this text is an emergency or a crisis, and what kind.
    public func recognise(_ text: String) -> EmergencyRecognition {
        decide(text).recognition
    }

    /// One entry that matched a text, and what became of it: for a coordinator trying out
    /// new words (`lantern flows recognise`), never for an inbound text.
    public struct Explanation: Sendable, Equatable, CustomStringConvertible {
        public let role: String
        public let locale: String
        public let entry: String
        /// Word positions (after spellings), from 1.
        public let words: ClosedRange<Int>
        public let cancelled: Bool
        public var description: String {
            "\(role.padding(toLength: 18, withPad: " ", startingAt: 0)) \(locale.padding(toLength: 6, withPad: " ", startingAt: 0)) words \(words.lowerBound)-\(words.upperBound)  \(entry)\(cancelled ? "  (cancelled)" : "")"
        }
    }

    public func explain(_ text: String) -> [Explanation] { decide(text).explanations }

    func decide(_ text: String) -> (recognition: EmergencyRecognition, explanations: [Explanation]) {
        let tokens = tokens(text)
        guard !tokens.isEmpty else { return (.none, []) }
        let found = matches(tokens) { if case .followUp = $0 { false } else { true } }
        guard found.contains(where: { patterns[$0.pattern].role.isSign }) else {
            return (.none, found.map { explanation($0, cancelled: false) })
        }
        let nots = found.filter { patterns[$0.pattern].role == .not }
        let overs = found.filter { patterns[$0.pattern].role == .over }
        let pasts = found.filter { patterns[$0.pattern].role == .past }
        var intents: Set<EmergencyIntent> = []
        var localeIndexes: Set<Int> = []
        var explanations: [Explanation] = []
        for m in found {
            let pattern = patterns[m.pattern]
            guard case .sign(let intent) = pattern.role else {
                explanations.append(explanation(m, cancelled: false))
                continue
            }
            // A negation cancels the signs whose last word it covers ("is this an EMERGENCY line",
            // "my phone is DEAD"); one that reaches forward ("how do I know…") also the signs after
            // it in its sentence, except signs of right now, which only a `!` negation about
            // someone in general reaches ("if someone isn't breathing…").
            let cancelled = nots.contains { n in
                (n.start <= m.end - 1 && m.end - 1 < n.end)
                    || ((!pattern.urgent || patterns[n.pattern].urgent) && patterns[n.pattern].reachesForward && m.start >= n.start
                        && tokens[m.start].sentence == tokens[n.end - 1].sentence)
            } || overs.contains { $0.start >= m.end } || (!pattern.urgent && !pasts.isEmpty)
            explanations.append(explanation(m, cancelled: cancelled))
            if !cancelled {
                intents.insert(intent)
                localeIndexes.insert(pattern.locale)
            }
        }
        let recognition = EmergencyRecognition(intents: intents.sorted { $0.rank < $1.rank },
                                               locales: localeIndexes.sorted().map { locales[$0] })
        return (recognition, explanations)
    }

    func explanation(_ m: Match, cancelled: Bool) -> Explanation {
        let p = patterns[m.pattern]
        let role: String
        switch p.role {
        case .sign(let intent): role = "sign of " + intent.rawValue
        case .not: role = "not"
        case .over: role = "over"
        case .past: role = "past"
        case .followUp(let name): role = "follow-up " + name
        }
        return Explanation(role: role, locale: locales[p.locale], entry: p.source, words: (m.start + 1)...m.end, cancelled: cancelled)
    }

    /// Which of these follow-up answers a text gives ("she woke up" → breathing), in the order asked.
    public func followUp(_ text: String, among names: [String]) -> String? {
        let tokens = tokens(text)
        let found = matches(tokens) { if case .followUp(let n) = $0 { names.contains(n) } else { false } }
        // The answer that says the most wins: "still not breathing" over "breathing".
        var best: (name: String, length: Int, order: Int)?
        for m in found {
            guard case .followUp(let name) = patterns[m.pattern].role, let order = names.firstIndex(of: name) else { continue }
            let length = m.end - m.start
            if best == nil || length > best!.length || (length == best!.length && order < best!.order) { best = (name, length, order) }
        }
        return best?.name
    }

    /// Whether any language names this follow-up answer.
    public func knowsFollowUp(_ name: String) -> Bool { followUpNames.contains(name) }

    /// Languages with no signs of this intent, for `flows check`.
    public func locales(lacking intent: EmergencyIntent) -> [String] {
        let have = Set(patterns.compactMap { $0.role == .sign(intent) ? $0.locale : nil })
        return locales.indices.filter { !have.contains($0) }.map { locales[$0] }
    }
}
