import Foundation
import LanternCore
import Yams

/// Reads one flow file (`flows/*.yaml`) into a `Flow`, reporting each mistake with its line.
extension NodeReader {
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
}
