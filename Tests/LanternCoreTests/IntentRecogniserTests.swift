import Testing
@testable import LanternCore

/// The recogniser's own rules, on a small made-up set: answers when sure, asks between two,
/// gives up on nothing it knows; deterministic; typos carried by word pieces; a script of its own.
@Suite struct IntentRecogniserTests {
    static let examples: [IntentExample] = [
        ("could you send me a kit", "kit"), ("free kit please", "kit"), ("i need a kit posted", "kit"), ("kit to my house", "kit"),
        ("send supplies please", "kit"), ("who reads these texts", "who"), ("who runs this number", "who"), ("is this anonymous", "who"),
        ("who are you people", "who"), ("who sees what i send", "who"), ("i want to get clean", "quit"), ("how do i cut down", "quit"),
        ("i want to come off it", "quit"), ("help me stop using", "quit"), ("ready to quit using", "quit"),
    ].map { IntentExample(text: $0.0, intent: $0.1, locale: "en-GB") }

    @Test func aClearSentenceIsAnsweredAndTheSameEveryTime() {
        let r = IntentRecogniser(examples: Self.examples)
        #expect(r.verdict("can you send a kit to me") == .answer("kit"))
        #expect(r.verdict("who reads what i send you") == .answer("who"))
        #expect(r.verdict("i want to get clean and come off") == .answer("quit"))
        #expect(r.ranked("can you send a kit to me") == IntentRecogniser(examples: Self.examples).ranked("can you send a kit to me"))
        let shares = r.ranked("who runs this").map(\.confidence)
        #expect(abs(shares.reduce(0, +) - 1) < 1e-9 && shares == shares.sorted(by: >))
    }

    @Test func typosAreCarriedByPiecesOfWords() {
        let r = IntentRecogniser(examples: Self.examples)
        #expect(r.verdict("cud u sned me a kitt") == .answer("kit"))
        #expect(r.verdict("anonymouse?") == .answer("who"))
    }

    @Test func nothingKnownIsUnsureAndTwoCloseMeaningsAreAsked() {
        let r = IntentRecogniser(examples: Self.examples)
        #expect(r.verdict("zzzz qqqq") == .unsure)
        #expect(r.verdict("") == .unsure)
        if case .ask(let a, let b) = r.verdict("kit who") { #expect(Set([a, b]) == ["kit", "who"]) }
        else { Issue.record("\(r.ranked("kit who"))") }
    }

    @Test func languageByScriptAtOnceAndByLettersFromThreeWords() {
        let examples = Self.examples + [
            IntentExample(text: "potrzebuje zestawu prosze", intent: "kit", locale: "pl"),
            IntentExample(text: "chce przestac brac", intent: "quit", locale: "pl"),
            IntentExample(text: "kto czyta te wiadomosci", intent: "who", locale: "pl"),
            IntentExample(text: "mujhe kit chahiye", intent: "kit", locale: "ur"),
        ]
        let r = IntentRecogniser(examples: examples, samples: ["pl": ["Wyslemy zestaw w zwyklej paczce", "Kto czyta wiadomosci? Tylko koordynatorzy"],
                                                               "en-GB": ["We will post it in a plain parcel", "Who reads the texts? Only coordinators"]],
                                 names: ["en-GB": "English", "pl": "Polski", "ur": "اردو"])
        #expect(r.language(of: "مجھے کٹ چاہیے")?.locale == "ur")
        #expect(r.language(of: "kto czyta moje wiadomosci")?.locale == "pl")
        #expect(r.language(of: "kit")?.locale == nil)
        #expect(r.language(of: "mujhe naya kit chahiye")?.romanised == true)
    }

    @Test func heldOutExamplesAreCounted() {
        let cv = IntentRecogniser(examples: Self.examples).crossValidate(folds: 5)
        #expect(cv.total == Self.examples.count)
        #expect(cv.byIntent.keys.sorted() == ["kit", "quit", "who"])
    }
}
