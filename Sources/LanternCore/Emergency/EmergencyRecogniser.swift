import Foundation

/// What the recogniser found in one text.
public struct EmergencyRecognition: Sendable, Equatable {
    /// What the text is about, most urgent first; empty when it is an everyday text.
    public var intents: [EmergencyIntent]
    /// Languages whose words it was found in, the one whose words covered most of the text
    /// first ("socorro ele nao respira" is Portuguese though SOCORRO is Spanish too), then in
    /// the library's order.
    public var locales: [String]
    /// A danger sign said less surely ("breathing funny"): not an emergency, but she gets the
    /// 999 line first. Never set when `intents` is not empty.
    public var maybe: Bool = false
    /// A question whether police or social services come if she calls 999.
    public var police: Bool = false

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
        case maybe
        case police
        case followUp(String)

        var kind: Kind {
            switch self {
            case .sign: .sign
            case .not: .not
            case .over: .over
            case .past: .past
            case .maybe: .maybe
            case .police: .police
            case .followUp: .followUp
            }
        }
    }

    enum Kind: UInt8, Sendable { case sign, not, over, past, maybe, police, followUp }

    /// One element of a pattern: the word ids it accepts (`alternatives[lower..<upper]`), any
    /// number, or a gap of up to `upper` words. Plain values, so reading one costs nothing.
    struct Step: Sendable {
        enum Kind: UInt8, Sendable { case ids, number, gap }
        let kind: Kind
        let lower: Int32
        let upper: Int32
    }

    /// A pattern as the hot path reads it: plain values only (its role's words and its source
    /// text live in `roles` and `sources`, read only to explain).
    struct Compiled: Sendable {
        let firstStep: Int32
        let stepCount: Int32
        let anchoredStart: Bool
        let anchoredEnd: Bool
        let urgent: Bool
        let reachesForward: Bool
        let kind: Kind
        let intent: EmergencyIntent?
        let locale: Int32
    }

    /// A problem with an entry, for `flows check`.
    public struct Problem: Sendable, Equatable {
        public let locale: String
        public let message: String
        public let location: SourceLocation?
    }

    let locales: [String]
    let patterns: [Compiled]
    let roles: [Role]
    /// Each entry as written, for `lantern flows recognise`.
    let sources: [String]
    let steps: [Step]
    let alternatives: [Int32]
    /// Patterns by the word id their first element accepts: `starts[startOffsets[id]..<startOffsets[id + 1]]`.
    let startOffsets: [Int32]
    let starts: [Int32]
    let startsWithNumber: [Int32]
    /// Everything known about a typed word, found with one lookup: what it is spelled as, the
    /// pattern word it is, and whether it is an everyday word typos must not reach.
    struct Known: Sendable {
        var spelled: [String]?
        var id: Int32?
        var notTypo = false
    }
    let known: [String: Known]
    /// Word beginnings (`OVERDOS*`) by their first three UTF-8 bytes.
    let prefixes: [UInt32: [(prefix: String, id: Int32)]]
    /// Words a typing mistake is forgiven in (six letters or more, Latin letters), by first
    /// letter and length (`tolerantSlot`), so a typed word is compared with a handful at most.
    let tolerant: [[(word: [UInt8], id: Int32)]]
    /// Word beginnings of five Latin letters or more (`BREATH*`), by first letter, which a typing
    /// mistake inside them does not hide ("braething", "breahting").
    let tolerantPrefixes: [[(prefix: [UInt8], id: Int32)]]
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
                let means = EmergencyText.plainWords(s.means)
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
            for w in lexicon.notTypos { notTypos.formUnion(EmergencyText.plainWords(w)) }
        }

        var compiled: [Compiled] = []
        // Typing mistakes are forgiven only in the words of signs and follow-up answers: a
        // negation must be typed right, so a slip can only make Lantern answer, never stay quiet.
        var forgiving: Set<Int32> = []
        var roles: [Role] = []
        var sources: [String] = []
        var steps: [Step] = []
        var alternatives: [Int32] = []
        var followUpNames: Set<String> = []
        var plainWords: [String: [String]] = [:]
        for (index, (locale, lexicon)) in lexicons.enumerated() {
            var entries: [(EmergencyLexicon.Entry, Role)] = []
            for intent in EmergencyIntent.allCases { entries += (lexicon.signs[intent] ?? []).map { ($0, .sign(intent)) } }
            entries += lexicon.not.map { ($0, .not) } + lexicon.over.map { ($0, .over) } + lexicon.past.map { ($0, .past) }
                + lexicon.maybe.map { ($0, .maybe) } + lexicon.police.map { ($0, .police) }
            for (name, list) in lexicon.followUps.sorted(by: { $0.key < $1.key }) {
                followUpNames.insert(name)
                entries += list.map { ($0, .followUp(name)) }
            }
            for (entry, role) in entries {
                let parsed: [EmergencyPattern]
                do { parsed = try EmergencyPattern.parse(entry.text, words: &plainWords) } catch {
                    problems.append(Problem(locale: locale, message: "emergency entry '\(entry.text)': \(error.description)", location: entry.location))
                    continue
                }
                for pattern in parsed {
                    if pattern.reachesForward && role != .not {
                        problems.append(Problem(locale: locale, message: "'>>' only goes at the end of a 'not' entry ('\(entry.text)')", location: entry.location))
                    }
                    if pattern.urgent, role.kind != .sign, role.kind != .not {
                        problems.append(Problem(locale: locale, message: "'!' only marks signs and 'not' entries ('\(entry.text)')", location: entry.location))
                    }
                    let first = Int32(steps.count)
                    for element in pattern.elements {
                        switch element {
                        case .gap(let n): steps.append(Step(kind: .gap, lower: 0, upper: Int32(n)))
                        case .number: steps.append(Step(kind: .number, lower: 0, upper: 0))
                        case .words(let words):
                            for w in words where !w.prefix && spellings[w.text] != nil {
                                problems.append(Problem(locale: locale, message: "'\(w.text)' in '\(entry.text)' never reaches a pattern: spellings turn it into '\(spellings[w.text]!.joined(separator: " "))'; write that", location: entry.location))
                            }
                            let lower = Int32(alternatives.count)
                            let ids = words.map { id($0.text, prefix: $0.prefix) }
                            alternatives += ids
                            if role.kind == .sign || role.kind == .followUp || role.kind == .maybe {
                                for (w, i) in zip(words, ids) where !w.prefix { forgiving.insert(i) }
                            }
                            steps.append(Step(kind: .ids, lower: lower, upper: Int32(alternatives.count)))
                        }
                    }
                    var intent: EmergencyIntent?
                    if case .sign(let i) = role { intent = i }
                    compiled.append(Compiled(firstStep: first, stepCount: Int32(steps.count) - first, anchoredStart: pattern.anchoredStart,
                                             anchoredEnd: pattern.anchoredEnd, urgent: pattern.urgent, reachesForward: pattern.reachesForward,
                                             kind: role.kind, intent: intent, locale: Int32(index)))
                    roles.append(role)
                    sources.append(entry.text)
                }
            }
        }

        var startsWith = [[Int32]](repeating: [], count: Int(nextID))
        var startsWithNumber: [Int32] = []
        for (i, p) in compiled.enumerated() {
            let step = steps[Int(p.firstStep)]
            switch step.kind {
            case .ids: for w in Set(alternatives[Int(step.lower)..<Int(step.upper)]) { startsWith[Int(w)].append(Int32(i)) }
            case .number: startsWithNumber.append(Int32(i))
            case .gap: break
            }
        }
        var startOffsets: [Int32] = [0]
        var starts: [Int32] = []
        for list in startsWith {
            starts += list
            startOffsets.append(Int32(starts.count))
        }
        var tolerant = [[(word: [UInt8], id: Int32)]](repeating: [], count: 26 * Self.maxTolerantLength)
        for (word, i) in exact where forgiving.contains(i) && word.utf8.count >= Self.tolerantLength
            && word.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) {
            let bytes = Array(word.utf8)
            if let slot = Self.tolerantSlot(first: bytes[0], length: bytes.count) { tolerant[slot].append((bytes, i)) }
        }
        var known: [String: Known] = [:]
        for (word, i) in exact { known[word, default: Known()].id = i }
        for (word, means) in spellings { known[word, default: Known()].spelled = means }
        for word in notTypos { known[word, default: Known()].notTypo = true }
        var prefixes: [UInt32: [(prefix: String, id: Int32)]] = [:]
        var tolerantPrefixes = [[(prefix: [UInt8], id: Int32)]](repeating: [], count: 26)
        for (word, i) in prefixIDs {
            prefixes[Self.head(word), default: []].append((word, i))
            if word.utf8.count >= Self.tolerantLength - 1, word.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) {
                tolerantPrefixes[Int(word.utf8.first! - 0x41)].append((Array(word.utf8), i))
            }
        }
        self.tolerantPrefixes = tolerantPrefixes.map { $0.sorted { $0.id < $1.id } }
        self.locales = lexicons.map(\.locale)
        self.patterns = compiled
        self.roles = roles
        self.sources = sources
        self.steps = steps
        self.alternatives = alternatives
        self.startOffsets = startOffsets
        self.starts = starts
        self.startsWithNumber = startsWithNumber
        self.known = known
        self.prefixes = prefixes
        self.tolerant = tolerant
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
            var collapsed = EmergencyText.collapseRuns(raw.text)
            // A letter held down may stand for one or two ("tooo much" is TOO, "helppp" HELP):
            // whichever the lexicon knows.
            if collapsed != raw.text {
                let two = EmergencyText.collapseRuns(raw.text, keeping: 2)
                if known[two] != nil { collapsed = two }
            }
            var word = collapsed
            var entry = known[collapsed]
            if entry?.spelled == nil && collapsed.utf8.contains(0x27) {
                word = EmergencyText.withoutApostrophes(collapsed)
                entry = known[word]
            }
            if let spelled = entry?.spelled {
                for w in spelled { out.append(token(w, known: known[w], sentence: raw.sentence)) }
            } else if !word.isEmpty {
                out.append(token(word, known: entry, sentence: raw.sentence))
            }
        }
        return out
    }

    func token(_ word: String, known entry: Known?, sentence: Int) -> Token {
        Token(ids: ids(of: word, known: entry), isNumber: word.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }, sentence: sentence)
    }

    /// Every pattern word this typed word is: itself, a word it begins with, or (for long
    /// words, not everyday ones) the word it is one typing mistake away from.
    func ids(of word: String, known entry: Known?) -> [Int32] {
        var found: [Int32] = []
        if let i = entry?.id { found.append(i) }
        let length = word.utf8.count
        if length >= 3, let bucket = prefixes[Self.head(word)] {
            for (prefix, id) in bucket where word.utf8.starts(with: prefix.utf8) { found.append(id) }
        }
        if found.isEmpty && length >= Self.tolerantLength - 1 && entry?.notTypo != true {
            found = typoMatches(word)
        }
        return found
    }

    /// A word's first three UTF-8 bytes as one number (every word beginning has at least three).
    static func head(_ word: String) -> UInt32 {
        var key: UInt32 = 0
        for b in word.utf8.prefix(3) { key = key << 8 | UInt32(b) }
        return key
    }

    static let maxTolerantLength = 40

    /// Where words starting with this capital letter and of this length are kept.
    static func tolerantSlot(first: UInt8, length: Int) -> Int? {
        guard first >= 0x41, first <= 0x5A, length > 0, length < maxTolerantLength else { return nil }
        return Int(first - 0x41) * maxTolerantLength + length
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
            guard let slot = Self.tolerantSlot(first: bytes[0], length: length) else { continue }
            for (target, id) in tolerant[slot] where Self.withinOneEdit(bytes, target) { out.append(id) }
        }
        // A beginning typed with one mistake: compare as many letters as it has, one more or one fewer.
        for (prefix, id) in tolerantPrefixes[Int(bytes[0] - 0x41)] where bytes.count >= prefix.count - 1 {
            for n in (prefix.count - 1)...(prefix.count + 1) where n <= bytes.count
                && Self.withinOneEdit(Array(bytes[..<n]), prefix) {
                out.append(id)
                break
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
    func matches(_ tokens: [Token], followUps: Bool) -> [Match] {
        var out: [Match] = []
        var candidates: [Int32] = []
        for (pos, token) in tokens.enumerated() {
            candidates.removeAll(keepingCapacity: true)
            for id in token.ids { candidates += starts[Int(startOffsets[Int(id)])..<Int(startOffsets[Int(id) + 1])] }
            if token.isNumber { candidates += startsWithNumber }
            for (n, p) in candidates.enumerated() where !candidates[..<n].contains(p) {
                let pattern = patterns[Int(p)]
                guard (pattern.kind == .followUp) == followUps, !pattern.anchoredStart || pos == 0 else { continue }
                if let end = match(pattern, step: Int(pattern.firstStep) + 1, at: pos + 1, tokens) {
                    out.append(Match(pattern: Int(p), start: pos, end: end))
                }
            }
        }
        return out
    }

    /// Where the pattern ends if its steps from `step` on match the words from `pos` on.
    func match(_ p: Compiled, step: Int, at pos: Int, _ tokens: [Token]) -> Int? {
        if step == Int(p.firstStep + p.stepCount) { return !p.anchoredEnd || pos == tokens.count ? pos : nil }
        let s = steps[step]
        switch s.kind {
        case .gap:
            for skip in 0...Int(s.upper) where pos + skip < tokens.count {
                if let end = match(p, step: step + 1, at: pos + skip, tokens) { return end }
            }
            return nil
        case .number:
            guard pos < tokens.count, tokens[pos].isNumber else { return nil }
            return match(p, step: step + 1, at: pos + 1, tokens)
        case .ids:
            guard pos < tokens.count else { return nil }
            let want = alternatives[Int(s.lower)..<Int(s.upper)]
            guard tokens[pos].ids.contains(where: { want.contains($0) }) else { return nil }
            return match(p, step: step + 1, at: pos + 1, tokens)
        }
    }

    // MARK: - Deciding

    /// Whether this text is an emergency or a crisis, and what kind.
    public func recognise(_ text: String) -> EmergencyRecognition {
        decide(text, explaining: false).recognition
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

    /// The verdict and every entry behind it, for `lantern flows recognise`.
    public func explain(_ text: String) -> (recognition: EmergencyRecognition, explanations: [Explanation]) {
        decide(text, explaining: true)
    }

    /// The verdict, and (only when asked: not on the path of every text) what led to it.
    func decide(_ text: String, explaining: Bool) -> (recognition: EmergencyRecognition, explanations: [Explanation]) {
        let tokens = tokens(text)
        guard !tokens.isEmpty else { return (.none, []) }
        let found = matches(tokens, followUps: false)
        let police = found.filter { patterns[$0.pattern].kind == .police }
        guard found.contains(where: { patterns[$0.pattern].kind == .sign || patterns[$0.pattern].kind == .maybe }) else {
            var none = EmergencyRecognition.none
            none.police = !police.isEmpty
            return (none, explaining ? found.map { explanation($0, cancelled: false) } : [])
        }
        let nots = found.filter { patterns[$0.pattern].kind == .not }
        let overs = found.filter { patterns[$0.pattern].kind == .over }
        let pasts = found.filter { patterns[$0.pattern].kind == .past }
        var maybe = false
        var intents: Set<EmergencyIntent> = []
        var coverage: [Int: Int] = [:]   // words covered by uncancelled signs, by language
        var explanations: [Explanation] = []
        for m in found {
            let pattern = patterns[m.pattern]
            guard pattern.kind == .maybe || pattern.intent != nil else {
                if explaining { explanations.append(explanation(m, cancelled: false)) }
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
            } || (pattern.kind != .maybe && overs.contains { $0.start >= m.end }) || (!pattern.urgent && !pasts.isEmpty)
                // "If I call an ambulance, will the police come?" is a question about calling, not a call
                // for help (a sign that starts inside the question is part of it); "he's overdosed, will
                // police come if I call" still is one.
                || (!pattern.urgent && police.contains { $0.start <= m.start && m.start < $0.end })
            if explaining { explanations.append(explanation(m, cancelled: cancelled)) }
            // A danger sign said less surely is taken back the way any sign is, except by "but she's
            // fine": unsure either way, she still gets the 999 line.
            guard let intent = pattern.intent else {
                maybe = maybe || !cancelled
                continue
            }
            if !cancelled {
                intents.insert(intent)
                coverage[Int(pattern.locale), default: 0] += m.end - m.start
            }
        }
        // Naloxone given and still nothing says everything the overdose steps would, and more.
        if intents.contains(.noResponse) { intents.remove(.overdose) }
        var recognition = EmergencyRecognition(intents: intents.sorted { $0.rank < $1.rank },
                                               locales: coverage.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { locales[$0.key] })
        recognition.maybe = maybe && intents.isEmpty
        recognition.police = !police.isEmpty
        return (recognition, explanations)
    }

    func explanation(_ m: Match, cancelled: Bool) -> Explanation {
        let role: String
        switch roles[m.pattern] {
        case .sign(let intent): role = "sign of " + intent.rawValue
        case .not: role = "not"
        case .over: role = "over"
        case .past: role = "past"
        case .maybe: role = "maybe"
        case .police: role = "police"
        case .followUp(let name): role = "follow-up " + name
        }
        return Explanation(role: role, locale: locales[Int(patterns[m.pattern].locale)], entry: sources[m.pattern],
                           words: (m.start + 1)...m.end, cancelled: cancelled)
    }

    /// Which of these follow-up answers a text gives ("she woke up" → breathing), in the order asked.
    public func followUp(_ text: String, among names: [String]) -> String? {
        let tokens = tokens(text)
        let found = matches(tokens, followUps: true)
        // The answer that says the most wins: "still not breathing" over "breathing".
        var best: (name: String, length: Int, order: Int)?
        for m in found {
            guard case .followUp(let name) = roles[m.pattern], let order = names.firstIndex(of: name) else { continue }
            let length = m.end - m.start
            if best == nil || length > best!.length || (length == best!.length && order < best!.order) { best = (name, length, order) }
        }
        return best?.name
    }

    /// Whether any language names this follow-up answer.
    public func knowsFollowUp(_ name: String) -> Bool { followUpNames.contains(name) }

    /// Languages with no signs of this intent, for `flows check`.
    public func locales(lacking intent: EmergencyIntent) -> [String] {
        let have = Set(patterns.compactMap { $0.intent == intent ? Int($0.locale) : nil })
        return locales.indices.filter { !have.contains($0) }.map { locales[$0] }
    }
}
