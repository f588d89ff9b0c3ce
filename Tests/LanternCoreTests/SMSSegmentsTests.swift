import Testing
@testable import LanternCore

@Suite struct SMSSegmentsTests {
    @Test(arguments: [
        (String(repeating: "a", count: 160), SMSEncoding.gsm7, 160, 1),
        (String(repeating: "a", count: 161), .gsm7, 161, 2),
        (String(repeating: "a", count: 306), .gsm7, 306, 2),
        (String(repeating: "a", count: 307), .gsm7, 307, 3),
        (String(repeating: "€", count: 80), .gsm7, 160, 1),       // extension table: 2 septets each
        ("Call 999 now", .gsm7, 12, 1),
        (String(repeating: "ą", count: 70), .ucs2, 70, 1),
        (String(repeating: "ą", count: 71), .ucs2, 71, 2),
        ("", .gsm7, 0, 1),
    ])
    func counts(text: String, encoding: SMSEncoding, units: Int, segments: Int) {
        let c = SMSSegments.count(text)
        #expect(c.encoding == encoding)
        #expect(c.units == units)
        #expect(c.segments == segments)
    }

    @Test func anEscapePairIsNeverSplitAcrossParts() {
        // 306 septets would fit in 2 parts, but the € (ESC + code) cannot straddle the boundary.
        let text = String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152)
        #expect(SMSSegments.count(text).units == 306)
        #expect(SMSSegments.count(text).segments == 3)
    }

    @Test func aCurlyApostropheForcesUCS2AndIsNamed() {
        let c = SMSSegments.count("You’re welcome")
        #expect(c.encoding == .ucs2)
        #expect(c.nonGSMCharacters == ["’"])
    }

    @Test func characterSetEdges() {
        #expect(SMSSegments.count("Ç").encoding == .gsm7)
        #expect(SMSSegments.count("ç").encoding == .ucs2)     // only the capital is GSM
        #expect(SMSSegments.count("`").encoding == .ucs2)
        #expect(SMSSegments.count("á").encoding == .ucs2)
        #expect(SMSSegments.count("–").encoding == .ucs2)     // en dash
        #expect(SMSSegments.count("@£$¥").units == 4)
    }

    @Test func emojiTakesTwoUnitsAndIsNotSplit() {
        let text = String(repeating: "a", count: 66) + "😀" + "b"
        let c = SMSSegments.count(text)
        #expect(c.encoding == .ucs2)
        #expect(c.units == 69)
        #expect(c.segments == 1)
        let long = String(repeating: "a", count: 66) + "😀" + String(repeating: "b", count: 5)
        // 66 + 2 > 67 in the first part: the emoji moves whole to part 2.
        #expect(SMSSegments.count(long).segments == 2)
    }
}
