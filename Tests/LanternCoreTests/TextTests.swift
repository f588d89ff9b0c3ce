import PropertyBased
import Testing
@testable import LanternCore

@Suite struct KeywordTextTests {
    /// Plain ASCII skips Foundation's folding (the common case, on every text): it must read
    /// every such text exactly as the folding path does.
    @Test func asciiTextsReadTheSameWithoutFoundationsFolding() async {
        #expect(KeywordText.asciiWords("Naloxone!! won't  KIT-status 24h") == ["NALOXONE", "WONT", "KIT", "STATUS", "24H"])
        #expect(KeywordText.asciiWords("naloxoné") == nil)
        await propertyCheck(count: 3000 * fuzzScale, input: Gen.character(in: "\u{0}"..."\u{7F}").string(of: 0...60)) { text in
            #expect(KeywordText.asciiWords(text) == KeywordText.foldedWords(text), "\(Array(text.unicodeScalars))")
        }
    }

    @Test(arguments: [
        ("Naloxone!!", ["NALOXONE"]),
        ("  naloxoné ", ["NALOXONE"]),
        ("he won't wake up", ["HE", "WONT", "WAKE", "UP"]),
        ("he won’t wake", ["HE", "WONT", "WAKE"]),
        ("1.", ["1"]),
        ("STOP-ALL", ["STOP", "ALL"]),
        ("ROMÂNĂ", ["ROMANA"]),
        ("", []),
        ("?!", []),
    ])
    func words(input: String, expected: [String]) {
        #expect(KeywordText.words(input) == expected)
    }

    @Test func typoToleranceGrowsWithLength() {
        #expect(KeywordText.wordMatches(typed: "NALAXONE", keyword: "NALOXONE", tolerant: true) == 1)
        #expect(KeywordText.wordMatches(typed: "NALOXNOE", keyword: "NALOXONE", tolerant: true) == 1) // swapped
        #expect(KeywordText.wordMatches(typed: "NALOXON", keyword: "NALOXONE", tolerant: true) == 1)
        #expect(KeywordText.wordMatches(typed: "SHOP", keyword: "STOP", tolerant: true) == nil)
        #expect(KeywordText.wordMatches(typed: "KID", keyword: "KIT", tolerant: true) == nil)
        #expect(KeywordText.wordMatches(typed: "PRIVCY", keyword: "PRIVACY", tolerant: true) == 1)
        #expect(KeywordText.wordMatches(typed: "PRVCY", keyword: "PRIVACY", tolerant: true) == nil)
        #expect(KeywordText.wordMatches(typed: "NALAXONE", keyword: "NALOXONE", tolerant: false) == nil)
    }

    @Test func distanceStopsAtTheLimit() {
        #expect(KeywordText.distance("kitten", "sitting", limit: 5) == 3)
        #expect(KeywordText.distance("kitten", "sitting", limit: 1) == 2)
        #expect(KeywordText.distance("", "abc", limit: 5) == 3)
    }
}

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("+447700900123", "+447700900123"),
        ("07700 900123", "+447700900123"),
        ("07700-900-123", "+447700900123"),
        ("+44 (0)7700 900123", "+447700900123"),
        ("00447700900123", "+447700900123"),
        ("+1 415 867 5309", "+14158675309"),
    ])
    func normalises(raw: String, e164: String) {
        #expect(PhoneNumber(raw)?.e164 == e164)
    }

    @Test(arguments: ["Vodafone", "12345", "447700900123", "+44", "", "whatsapp:+447700900123", "+4477009001234567"])
    func rejects(raw: String) {
        #expect(PhoneNumber(raw) == nil)
    }

    @Test func maskingHidesTheMiddle() {
        let n = PhoneNumber("+447700900123")!
        #expect(n.masked == "+4477•••••123")
        #expect("\(n)" == n.masked)          // interpolating by mistake never shows the number
        #expect(!n.masked.contains("900"))
    }
}

@Suite struct PostcodeDistrictTests {
    @Test(arguments: [("BS5", "BS5"), ("bs5", "BS5"), ("M14", "M14"), ("G31", "G31"), ("EC1A", "EC1A"), ("W1D", "W1D"),
                      ("BS5 6AA", "BS5"), ("m146hr", "M14"), ("SW1A 1AA", "SW1A")])
    func accepts(raw: String, code: String) {
        #expect(PostcodeDistrict(raw)?.code == code)
    }

    @Test(arguments: ["12", "BSS", "B5555", "", "BS5 6A", "HELLO", "5BS"])
    func rejects(raw: String) {
        #expect(PostcodeDistrict(raw) == nil)
    }

    @Test func fullPostcodes() {
        #expect(PostcodeDistrict.isFullPostcode("BS5 6AA"))
        #expect(!PostcodeDistrict.isFullPostcode("BS5"))
    }
}

/// Right-to-left texts laid out for a phone: the shape of the marks (the display itself is
/// checked through FriBidi in LanternServerTests' BidiDisplayTests).
@Suite struct BidiTextTests {
    let rlm = "\u{200F}", lri = "\u{2066}", pdi = "\u{2069}"

    @Test func everyLineStartsRightToLeftAndNumbersInGroupsAreIsolated() {
        let out = BidiText.rightToLeft("SPOT لکھیں\nہیلپ لائن 0808 2000 247 پر، یا 999")
        #expect(out == "\(rlm)SPOT لکھیں\n\(rlm)ہیلپ لائن \(lri)0808 2000 247\(pdi) پر، یا 999")
    }

    @Test func aNumberInOneGroupOrJoinedByPunctuationStaysAsItIs() {
        // One group, or groups joined by ':' '-' '.', already read in order; no marks spent on them.
        let out = BidiText.rightToLeft("ہر 2-3 منٹ، 10:00-20:00 اور K-4821")
        #expect(out == rlm + "ہر 2-3 منٹ، 10:00-20:00 اور K-4821")
    }

    @Test func renderingTwiceChangesNothing() {
        let once = BidiText.rightToLeft("سامریٹنز 116 123\n+44 7700 900123")
        #expect(BidiText.rightToLeft(once) == once)
        #expect(once.contains("\(lri)+44 7700 900123\(pdi)"))
    }

    @Test func directionComesFromTheFirstStrongLetter() {
        #expect(BidiText.isRightToLeft("اردو"))
        #expect(BidiText.isRightToLeft("123 اردو"))
        #expect(!BidiText.isRightToLeft("Polski"))
        #expect(!BidiText.isRightToLeft("ਪੰਜਾਬੀ"))
        #expect(BidiText.isolated("اردو") == "\u{2068}اردو\(pdi)")
        #expect(BidiText.isolated("Cymraeg") == "Cymraeg")
    }
}
