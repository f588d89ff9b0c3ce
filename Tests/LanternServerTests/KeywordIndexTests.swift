import Foundation
@testable import LanternCore
import LanternServer
import LanternTesting
import Testing

/// The keyword index finds, for every text, exactly the keyword a plain walk over every flow's
/// keywords would: longest first, then fewest typos, then the flow listed first.
@Suite struct KeywordIndexTests {
    static let library = CoverageTests.shipped

    /// The rule written the slow, obvious way: a word that is an everyday word in some language
    /// is itself, never a typo of a keyword.
    static func reference(_ words: [String], flows: [Flow], optedOutWords: Bool, wholeOnly: Bool) -> (flow: String, keyword: [String], state: String)? {
        let everyday = Set(library.catalogues.values.flatMap(\.everydayWords))
        var best: (flow: Flow, keyword: Keyword, state: String, distance: Int)?
        for flow in flows {
            var candidates = flow.keywords.map { ($0, flow.start) } + flow.shortcuts.map { ($0.keyword, $0.state) }
            if optedOutWords { candidates += flow.optedOutKeywords.map { ($0, flow.start) } }
            for (keyword, state) in candidates {
                let k = keyword.words
                if wholeOnly && k.count != words.count { continue }
                guard !k.isEmpty, words.count >= k.count, keyword.match == .start || words.count == k.count else { continue }
                var total = 0, fits = true
                for (typed, want) in zip(words, k) {
                    guard let d = KeywordText.wordMatches(typed: typed, keyword: want, tolerant: !everyday.contains(typed)) else { fits = false; break }
                    total += d
                }
                guard fits else { continue }
                if let b = best, k.count < b.keyword.words.count || (k.count == b.keyword.words.count && total >= b.distance) { continue }
                best = (flow, keyword, state, total)
            }
        }
        return best.map { ($0.flow.id, $0.keyword.words, $0.state) }
    }

    @Test func everyKeywordTypoAndStrayWordFindsWhatTheObviousWalkFinds() {
        let library = Self.library
        let keywords = library.flows.flatMap { $0.keywords + $0.optedOutKeywords + $0.shortcuts.map(\.keyword) }.map(\.words)
        var rng = SystemRandomNumberGenerator()
        var texts: [[String]] = keywords
        for words in keywords {
            guard let first = words.first, first.count > 2 else { continue }
            var typo = Array(first)
            let i = Int.random(in: 0..<typo.count, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: typo.remove(at: i)
            case 1: typo[i] = "X"
            default: if i + 1 < typo.count { typo.swapAt(i, i + 1) } else { typo.append("E") }
            }
            texts.append([String(typo)] + words.dropFirst() + ["PLEASE"])
            texts.append(words + ["NOW"])
        }
        texts += [["WHAT", "IS", "THIS"], ["1"], ["HELLO"], ["STOPP"], ["NALAXONE", "PLEASE"], ["MY", "ALERTS"],
                  ["FALA"], ["CAUSA"], ["QUIEN"], ["PASO", "DE", "TI"], ["OLVIDALO"]]
        var checked = 0
        for words in texts {
            for (group, flows, optedOut) in [(KeywordIndex.Group.global, library.flows.filter(\.isGlobal), false),
                                             (.local, library.flows.filter { !$0.isGlobal }, false),
                                             (.optedOut, library.flows.filter(\.runsWhenOptedOut), true)] {
                for wholeOnly in [false, true] {
                    let found = library.keywords.best(TypedWords(words), in: group, wholeOnly: wholeOnly).map {
                        (library.flows[$0.entry.flow].id, $0.entry.keyword.words, $0.entry.state)
                    }
                    let expected = Self.reference(words, flows: flows, optedOutWords: optedOut, wholeOnly: wholeOnly)
                    #expect(found?.0 == expected?.flow && found?.1 == expected?.keyword && found?.2 == expected?.state,
                            "\(words) in \(group): \(String(describing: found)) vs \(String(describing: expected))")
                    checked += 1
                }
            }
        }
        #expect(checked > 1_000)
    }
}
