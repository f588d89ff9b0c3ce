import Foundation
import LanternCore
import Yams

/// Reads `flows/*.yaml` and `locales/*.yaml` into a `FlowLibrary`, keeping the file and line of
/// everything so problems point at the line a coordinator has to fix.
public struct FlowFiles: Sendable {
    public let flowsDirectory: URL
    public let localesDirectory: URL

    public init(flowsDirectory: URL, localesDirectory: URL) {
        self.flowsDirectory = flowsDirectory
        self.localesDirectory = localesDirectory
    }

    public struct Loaded: Sendable {
        public let library: FlowLibrary
        /// Problems reading the files; `FlowCheck` adds the rest.
        public let diagnostics: [FlowDiagnostic]
    }

    /// Loads everything and runs `FlowCheck`. `errors` non-empty means the flows must not be served.
    public func loadAndCheck() -> (library: FlowLibrary, diagnostics: [FlowDiagnostic]) {
        let loaded = load()
        let all = loaded.diagnostics + FlowCheck(library: loaded.library).run()
        return (loaded.library, all)
    }

    public func load() -> Loaded {
        var diagnostics: [FlowDiagnostic] = []
        var flows: [Flow] = []
        var catalogues: [Catalogue] = []
        var areas: [NamedArea] = []
        var pickupPoints: [PickupPoint] = []
        var wording = Wording.discreet
        var covers: [String]?
        for url in yamlFiles(in: flowsDirectory, diagnostics: &diagnostics) {
            var reader = NodeReader(file: relativePath(url), diagnostics: [])
            if let node = reader.compose(url) {
                // A file with a top-level 'service:' holds the service's own data (its named areas).
                if let service = node.mapping?["service"] {
                    let data = reader.service(service)
                    areas += data.areas
                    pickupPoints += data.pickupPoints
                    wording = data.wording ?? wording
                    if let c = data.covers { covers = (covers ?? []) + c }
                } else if let flow = reader.flow(node) {
                    flows.append(flow)
                }
            }
            diagnostics += reader.diagnostics
        }
        for url in yamlFiles(in: localesDirectory, diagnostics: &diagnostics) {
            var reader = NodeReader(file: relativePath(url), diagnostics: [])
            if let node = reader.compose(url), let catalogue = reader.catalogue(node) {
                let expected = url.deletingPathExtension().lastPathComponent
                if catalogue.locale != expected {
                    reader.error("locale '\(catalogue.locale)' is in a file named \(url.lastPathComponent); name it \(catalogue.locale).yaml", node)
                }
                catalogues.append(catalogue)
            }
            diagnostics += reader.diagnostics
        }
        return Loaded(library: FlowLibrary(flows: flows, catalogues: catalogues, areas: areas, pickupPoints: pickupPoints,
                                           defaultWording: wording, covers: covers),
                      diagnostics: diagnostics)
    }

    func yamlFiles(in dir: URL, diagnostics: inout [FlowDiagnostic]) -> [URL] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else {
            diagnostics.append(FlowDiagnostic(.error, "cannot read directory \(dir.path)", at: nil))
            return []
        }
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { dir.appendingPathComponent($0) }
    }

    func relativePath(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return url.path.hasPrefix(cwd) ? String(url.path.dropFirst(cwd.count)) : url.path
    }
}

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

    // MARK: flows

    static let flowFields: Set<String> = ["flow", "description", "keywords", "opted_out_keywords", "intent", "phrases", "match", "global",
                                          "when_opted_out", "start", "fallback", "shortcuts", "timeout", "states"]
    static let stateFields: Set<String> = ["say", "do", "menu", "ask", "next", "invalid", "check", "note"]

    mutating func flow(_ node: Node) -> Flow? {
        guard let fields = mapping(node, "a flow", allowed: Self.flowFields) else { return nil }
        var id: String?, start: String?, fallback: String?
        var keywordNodes: [(String, Node)] = [], optedOutNodes: [(String, Node)] = []
        var intent: EmergencyIntent?
        var match = Keyword.Match.start
        var isGlobal = false, whenOptedOut = false
        var timeout: TimeInterval = 30 * 60
        var shortcuts: [(String, String, Node)] = []
        var states: [FlowState] = []
        for (key, value) in fields {
            switch key {
            case "flow": id = string(value, "'flow'")
            case "description": break
            case "keywords": keywordNodes = strings(value, "'keywords'")
            case "opted_out_keywords": optedOutNodes = strings(value, "'opted_out_keywords'")
            case "phrases":
                error("emergency phrases now live in each locale file's 'emergency:' section, read by the emergency recogniser; give the flow 'intent: overdose' instead", value)
            case "intent":
                if let name = string(value, "'intent'") {
                    if let i = EmergencyIntent(rawValue: name) { intent = i }
                    else { error("'intent' must be one of \(EmergencyIntent.allCases.map(\.rawValue).joined(separator: ", "))", value) }
                }
            case "match":
                if let s = string(value, "'match'") {
                    if let m = Keyword.Match(rawValue: s) { match = m } else { error("'match' must be whole or start", value) }
                }
            case "global": isGlobal = bool(value, "'global'") ?? false
            case "when_opted_out": whenOptedOut = bool(value, "'when_opted_out'") ?? false
            case "start": start = string(value, "'start'")
            case "fallback": fallback = string(value, "'fallback'")
            case "timeout": timeout = duration(value, "'timeout'") ?? timeout
            case "shortcuts":
                for (word, target) in mapping(value, "'shortcuts'", allowed: []) ?? [] {
                    if let s = string(target, "a shortcut's state") { shortcuts.append((word, s, target)) }
                }
            case "states":
                for (name, keyNode, stateNode) in keyedMapping(value, "'states'", allowed: []) ?? [] {
                    if let s = state(name, stateNode, at: at(keyNode)) { states.append(s) }
                }
            default: break
            }
        }
        guard let id else { error("a flow needs 'flow: <name>'", node); return nil }
        guard let start else { error("flow '\(id)' needs 'start: <state>'", node); return nil }
        func keywords(_ list: [(String, Node)], _ m: Keyword.Match) -> [Keyword] {
            list.map { Keyword($0.0, match: m, location: at($0.1)) }
        }
        for (word, n) in keywordNodes + optedOutNodes where KeywordText.words(word).isEmpty {
            error("'\(word)' has no letters or digits, so it can never match", n)
        }
        return Flow(id: id, keywords: keywords(keywordNodes, match), optedOutKeywords: keywords(optedOutNodes, match),
                    intent: intent, isGlobal: isGlobal, runsWhenOptedOut: whenOptedOut,
                    start: start, fallbackState: fallback,
                    shortcuts: shortcuts.map { Flow.Shortcut(keyword: Keyword($0.0, match: match, location: at($0.2)), state: $0.1) },
                    states: states, timeout: timeout, location: at(node))
    }

    mutating func state(_ id: String, _ node: Node, at location: SourceLocation) -> FlowState? {
        guard let fields = mapping(node, "state '\(id)'", allowed: Self.stateFields) else { return nil }
        var say: [String] = [], actions: [FlowAction] = [], menu: [MenuOption] = []
        var ask: Question?, next: String?, invalid: String?, check: Check?
        for (key, value) in fields {
            switch key {
            case "say": say = strings(value, "'say'").map(\.0)
            case "do":
                for (name, n) in strings(value, "'do'") {
                    if let a = FlowAction(rawValue: name) { actions.append(a) }
                    else { error("unknown action '\(name)' (known: \(FlowAction.allCases.map(\.rawValue).joined(separator: ", ")))", n) }
                }
            case "menu":
                guard let seq = value.sequence else { error("'menu' must be a list of options", value); continue }
                for item in seq {
                    guard let f = mapping(item, "a menu option", allowed: ["label", "go", "flow", "set", "intent"]) else { continue }
                    let d = Dictionary(f.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                    var set: [String: String] = [:]
                    for (name, v) in d["set"].flatMap({ mapping($0, "'set'", allowed: []) }) ?? [] {
                        if let value = string(v, "a 'set' value") { set[name] = value }
                    }
                    guard let labelNode = d["label"], let label = string(labelNode, "'label'") else {
                        error("a menu option needs 'label: <message key>'", item); continue
                    }
                    let intent = d["intent"].flatMap { string($0, "'intent'") }
                    if let go = d["go"].flatMap({ string($0, "'go'") }) {
                        menu.append(MenuOption(label: label, target: .state(go), set: set, intent: intent, location: at(item)))
                    } else if let flow = d["flow"].flatMap({ string($0, "'flow'") }) {
                        menu.append(MenuOption(label: label, target: .flow(flow), set: set, intent: intent, location: at(item)))
                    } else {
                        error("a menu option needs 'go: <state>' or 'flow: <flow>'", item)
                    }
                }
            case "ask":
                guard let f = mapping(value, "'ask'", allowed: ["expect", "save", "next", "yes", "no"]) else { continue }
                let d = Dictionary(f.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                let expectName = d["expect"].flatMap { string($0, "'expect'") }
                guard let expectName, let expect = AnswerKind(rawValue: expectName) else {
                    error("'ask' needs 'expect:' one of \(AnswerKind.allCases.map(\.rawValue).joined(separator: ", "))", value); continue
                }
                var branches: [String: String] = [:]
                for answer in ["yes", "no"] {
                    guard let n = d[answer] else { continue }
                    if expect != .yesNo { error("'\(answer):' only goes with 'expect: yes_no'", n) }
                    branches[answer] = string(n, "'\(answer)'")
                }
                let nextState = d["next"].flatMap { string($0, "'next'") }
                if nextState == nil && branches.isEmpty { error("'ask' needs 'next: <state>' (or 'yes:' and 'no:')", value); continue }
                ask = Question(expect: expect, save: d["save"].flatMap { string($0, "'save'") }, next: nextState, branches: branches)
            case "check":
                guard let f = mapping(value, "'check'", allowed: ["if", "then", "else"]) else { continue }
                let d = Dictionary(f.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                guard let name = d["if"].flatMap({ string($0, "'if'") }), let condition = Check.Condition(rawValue: name) else {
                    error("'check' needs 'if:' one of \(Check.Condition.allCases.map(\.rawValue).joined(separator: ", "))", value); continue
                }
                guard let then = d["then"].flatMap({ string($0, "'then'") }), let otherwise = d["else"].flatMap({ string($0, "'else'") }) else {
                    error("'check' needs 'then: <state>' and 'else: <state>'", value); continue
                }
                check = Check(condition: condition, then: then, otherwise: otherwise)
            case "next": next = string(value, "'next'")
            case "invalid": invalid = string(value, "'invalid'")
            default: break
            }
        }
        return FlowState(id: id, say: say, actions: actions, menu: menu, ask: ask, next: next, invalid: invalid, check: check,
                         location: location)
    }

    // MARK: service data

    mutating func service(_ node: Node) -> (areas: [NamedArea], pickupPoints: [PickupPoint], wording: Wording?, covers: [String]?) {
        guard let fields = mapping(node, "'service'", allowed: ["areas", "pickup_points", "wording", "covers"]) else { return ([], [], nil, nil) }
        var areas: [NamedArea] = []
        var points: [(String, String, String, String?, Node)] = []
        var wording: Wording?
        var coverNames: [(String, Node)]?
        for (key, value) in fields {
            if key == "covers" {
                coverNames = strings(value, "'covers'")
                continue
            }
            if key == "wording" {
                if let raw = string(value, "'wording'") {
                    if let w = Wording(rawValue: raw) { wording = w } else { error("'wording' must be discreet or plain", value) }
                }
                continue
            }

            guard let seq = value.sequence else { error("'\(key)' must be a list", value); continue }
            for item in seq {
                if key == "areas" {
                    guard let f = mapping(item, "an area", allowed: ["name", "aliases", "districts"]) else { continue }
                    let d = Dictionary(f.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                    guard let name = d["name"].flatMap({ string($0, "'name'") }), !KeywordText.words(name).isEmpty else {
                        error("an area needs 'name:'", item); continue
                    }
                    let aliases = d["aliases"].map { strings($0, "'aliases'").map(\.0) } ?? []
                    var districts: [PostcodeDistrict] = []
                    for (code, n) in d["districts"].map({ strings($0, "'districts'") }) ?? [] {
                        if let district = PostcodeDistrict(code) { districts.append(district) }
                        else { error("'\(code)' is not a postcode district (like BS5 or M14)", n) }
                    }
                    for word in ([name] + aliases) where PostcodeDistrict(word) != nil {
                        error("area name '\(word)' looks like a postcode district; choose a name that doesn't", item)
                    }
                    areas.append(NamedArea(name: name, aliases: aliases, districts: districts))
                } else {
                    guard let f = mapping(item, "a pickup point", allowed: ["name", "area", "hours", "discreet_name"]) else { continue }
                    let d = Dictionary(f.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                    guard let name = d["name"].flatMap({ string($0, "'name'") }), let area = d["area"].flatMap({ string($0, "'area'") }),
                          let hours = d["hours"].flatMap({ string($0, "'hours'") }) else {
                        error("a pickup point needs 'name:', 'area:' and 'hours:'", item); continue
                    }
                    points.append((name, area, hours, d["discreet_name"].flatMap { string($0, "'discreet_name'") }, item))
                }
            }
        }
        // Pickup areas may name the service's own areas, so resolve them once all are read.
        let pickupPoints = points.compactMap { name, area, hours, discreetName, node -> PickupPoint? in
            guard let codes = AreaCodes.parse(KeywordText.words(area), areas: areas), codes.count == 1 else {
                error("pickup point '\(name)' has area '\(area)', which is not one district, area name or ALL", node); return nil
            }
            return PickupPoint(name: name, area: codes[0], hours: hours, discreetName: discreetName)
        }
        // Where the service works (districts or its area names); absent: everywhere.
        let covers: [String]? = coverNames.map { names in
            names.flatMap { name, node -> [String] in
                guard let codes = AreaCodes.parse(KeywordText.words(name), areas: areas), !codes.contains(AreaCodes.everywhere) else {
                    error("'covers' entry '\(name)' is not a postcode district or an area name above", node); return []
                }
                return codes
            }
        }
        return (areas, pickupPoints, wording, covers)
    }

    // MARK: catalogues

    mutating func catalogue(_ node: Node) -> Catalogue? {
        guard let fields = mapping(node, "a locale file", allowed: ["locale", "name", "selectors", "keywords", "telltale_words", "answers", "emergency", "messages"]) else { return nil }
        let d = Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let locale = d["locale"].flatMap({ string($0, "'locale'") }) else { error("a locale file needs 'locale: <tag>'", node); return nil }
        let name = d["name"].flatMap { string($0, "'name'") } ?? locale
        var messages: [String: MessageTemplate] = [:]
        for (key, keyNode, value) in (d["messages"].flatMap { keyedMapping($0, "'messages'", allowed: []) }) ?? [] {
            if messages[key] != nil { error("message '\(key)' is defined twice", value); continue }
            if let text = value.scalar?.string {
                messages[key] = MessageTemplate(text: text, maxSegments: 1, location: at(keyNode))
            } else if let f = mapping(value, "message '\(key)'", allowed: ["text", "segments"]) {
                let m = Dictionary(f.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                guard let text = m["text"].flatMap({ string($0, "'text'") }) else { error("message '\(key)' needs 'text:'", value); continue }
                var segments = 1
                if let s = m["segments"] {
                    if let n = s.scalar.flatMap({ Int($0.string) }) { segments = n } else { error("'segments' must be a whole number", s) }
                }
                messages[key] = MessageTemplate(text: text, maxSegments: segments, location: at(keyNode))
            }
        }
        // Words that pick this language on their own, and this language's keywords per flow.
        let selectors = d["selectors"].map { strings($0, "'selectors'").map { Keyword($0.0, match: .whole, location: at($0.1), locale: locale) } } ?? []
        var aliases: [String: [Keyword]] = [:]
        for (flow, _, value) in (d["keywords"].flatMap { keyedMapping($0, "'keywords'", allowed: []) }) ?? [] {
            aliases[flow] = strings(value, "keywords for '\(flow)'").map { Keyword($0.0, match: .start, location: at($0.1), locale: locale) }
        }
        let telltales = d["telltale_words"].map { strings($0, "'telltale_words'").map(\.0) } ?? []
        let lexicon = d["emergency"].map { emergency($0) } ?? EmergencyLexicon()
        var answers: [AnswerWord: [String]] = [:]
        for (kind, _, value) in (d["answers"].flatMap { keyedMapping($0, "'answers'", allowed: Set(AnswerWord.allCases.map(\.rawValue))) }) ?? [] {
            if let word = AnswerWord(rawValue: kind) { answers[word] = strings(value, "answers for '\(kind)'").map(\.0) }
        }
        return Catalogue(locale: locale, name: name, messages: messages, location: at(node), selectors: selectors, keywordAliases: aliases,
                         telltaleWords: telltales, emergency: lexicon, answers: answers)
    }

    /// A locale's `emergency:` section: the recogniser's words for this language.
    mutating func emergency(_ node: Node) -> EmergencyLexicon {
        let intents = EmergencyIntent.allCases.map(\.rawValue)
        var lexicon = EmergencyLexicon(location: at(node))
        func entries(_ value: Node, _ what: String) -> [EmergencyLexicon.Entry] {
            strings(value, what).map { EmergencyLexicon.Entry($0.0, location: at($0.1)) }
        }
        let allowed = Set(intents + ["spellings", "not_typos", "not", "over", "past", "followup"])
        for (key, value) in mapping(node, "'emergency'", allowed: allowed) ?? [] {
            switch key {
            case "spellings":
                for (typed, keyNode, means) in keyedMapping(value, "'spellings'", allowed: []) ?? [] {
                    if let m = string(means, "a spelling's meaning") { lexicon.spellings.append((typed, m, at(keyNode))) }
                }
            case "not_typos": lexicon.notTypos = strings(value, "'not_typos'").map(\.0)
            case "not": lexicon.not = entries(value, "'not'")
            case "over": lexicon.over = entries(value, "'over'")
            case "past": lexicon.past = entries(value, "'past'")
            case "followup":
                for (name, _, list) in keyedMapping(value, "'followup'", allowed: []) ?? [] {
                    lexicon.followUps[name] = entries(list, "follow-up '\(name)'")
                }
            default:
                if let intent = EmergencyIntent(rawValue: key) { lexicon.signs[intent] = entries(value, "'\(key)'") }
            }
        }
        return lexicon
    }
}
