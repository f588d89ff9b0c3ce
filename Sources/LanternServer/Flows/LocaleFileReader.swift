import Foundation
import LanternCore
import Yams

/// Reads one locale file (`locales/<tag>.yaml`): messages, keywords, answers, emergency words.
extension NodeReader {
    mutating func catalogue(_ node: Node) -> Catalogue? {
        guard let fields = mapping(node, "a locale file", allowed: ["locale", "name", "selectors", "keywords", "telltale_words", "everyday_words", "answers", "emergency", "messages"]) else { return nil }
        let d = Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let locale = d["locale"].flatMap({ string($0, "'locale'") }) else { error("a locale file needs 'locale: <tag>'", node); return nil }
        let name = d["name"].flatMap { string($0, "'name'") } ?? locale
        var messages: [String: MessageTemplate] = [:]
        for (key, keyNode, value) in (d["messages"].flatMap { keyedMapping($0, "'messages'", allowed: []) }) ?? [] {
            if messages[key] != nil { error("message '\(key)' is defined twice", value); continue }
            if let text = value.scalar?.string {
                messages[key] = MessageTemplate(text: text, maxSegments: 1, location: at(keyNode))
            } else if let f = mapping(value, "message '\(key)'", allowed: ["text", "segments", "reviewed"]) {
                let m = Dictionary(f.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                guard let text = m["text"].flatMap({ string($0, "'text'") }) else { error("message '\(key)' needs 'text:'", value); continue }
                var segments = 1
                if let s = m["segments"] {
                    if let n = s.scalar.flatMap({ Int($0.string) }) { segments = n } else { error("'segments' must be a whole number", s) }
                }
                var review: MessageReview?
                if let node = m["reviewed"] { review = self.review(node, key: key) }
                messages[key] = MessageTemplate(text: text, maxSegments: segments, location: at(keyNode), review: review)
            }
        }
        // Words that pick this language on their own, and this language's keywords per flow.
        let selectors = d["selectors"].map { strings($0, "'selectors'").map { Keyword($0.0, match: .whole, location: at($0.1), locale: locale) } } ?? []
        var aliases: [String: [Keyword]] = [:]
        for (flow, _, value) in (d["keywords"].flatMap { keyedMapping($0, "'keywords'", allowed: []) }) ?? [] {
            aliases[flow] = strings(value, "keywords for '\(flow)'").map { Keyword($0.0, match: .start, location: at($0.1), locale: locale) }
        }
        let telltales = d["telltale_words"].map { strings($0, "'telltale_words'").map(\.0) } ?? []
        let everyday = d["everyday_words"].map { strings($0, "'everyday_words'").map(\.0) } ?? []
        let lexicon = d["emergency"].map { emergency($0) } ?? EmergencyLexicon()
        var answers: [AnswerWord: [String]] = [:]
        for (kind, _, value) in (d["answers"].flatMap { keyedMapping($0, "'answers'", allowed: Set(AnswerWord.allCases.map(\.rawValue))) }) ?? [] {
            if let word = AnswerWord(rawValue: kind) { answers[word] = strings(value, "answers for '\(kind)'").map(\.0) }
        }
        return Catalogue(locale: locale, name: name, messages: messages, location: at(node), selectors: selectors, keywordAliases: aliases,
                         telltaleWords: telltales, emergency: lexicon, answers: answers, everydayWords: everyday)
    }

    /// `reviewed: {by: "A. Nowak", on: 2026-12-08, english: <fingerprint>}`: a native speaker's
    /// reading, written by `lantern locales import --reviewed-by`.
    mutating func review(_ node: Node, key: String) -> MessageReview? {
        guard let f = mapping(node, "'reviewed' of '\(key)'", allowed: ["by", "on", "english"]) else { return nil }
        let m = Dictionary(f.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let by = m["by"].flatMap({ string($0, "'by'") }), !by.isEmpty,
              let on = m["on"].flatMap({ string($0, "'on'") }),
              let english = m["english"].flatMap({ string($0, "'english'") }) else {
            error("'reviewed' of '\(key)' needs 'by:', 'on:' and 'english:'", node)
            return nil
        }
        return MessageReview(by: by, on: on, english: english)
    }

    /// A locale's `emergency:` section: the recogniser's words for this language.
    mutating func emergency(_ node: Node) -> EmergencyLexicon {
        let intents = EmergencyIntent.allCases.map(\.rawValue)
        var lexicon = EmergencyLexicon(location: at(node))
        func entries(_ value: Node, _ what: String) -> [EmergencyLexicon.Entry] {
            strings(value, what).map { EmergencyLexicon.Entry($0.0, location: at($0.1)) }
        }
        let allowed = Set(intents + ["spellings", "not_typos", "not", "over", "past", "maybe", "police", "followup"])
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
            case "maybe": lexicon.maybe = entries(value, "'maybe'")
            case "police": lexicon.police = entries(value, "'police'")
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
