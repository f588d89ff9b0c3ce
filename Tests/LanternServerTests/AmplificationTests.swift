import Foundation
import LanternCore
import LanternServer
import LanternStore
import LanternTesting
import PropertyBased
import Testing

/// A few characters in must never buy many segments out: the reply budget holds for any input,
/// in every language, after placeholders are filled.
@Suite struct AmplificationTests {
    static let library = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).load().library
    let engine = FlowEngine(library: Self.library)
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// Every district from BA1 to BA40 and beyond: what one 1,454-character text listed.
    static let manyAreas = (1...99).map { "BA\($0)" } + (1...99).map { "BS\($0)" } + (1...99).map { "M\($0)" } + (1...65).map { "LS\($0)" }

    func checkBudget(_ outcome: EngineOutcome, _ what: String) {
        guard !outcome.isUrgent else { return }
        for reply in outcome.replies {
            let n = SMSSegments.count(reply.text).segments
            #expect(n <= MessageTemplate.segmentCeiling, "\(what): '\(reply.key)' is \(n) segments")
        }
    }

    @Test func aHugeAreaListIsRefusedWithTheReasonAndCannotBeSignedUp() {
        let text = "ALERTS " + Self.manyAreas.joined(separator: " ")
        #expect(text.count > 1_400)
        for locale in Self.library.languages.map(\.locale) {
            let contact = ContactContext(language: locale)
            let asked = engine.handle(text: text, contact: contact, conversation: nil, now: t0)
            checkBudget(asked, "ALERTS x362 in \(locale)")
            #expect(asked.replies.first?.key == FlowLibrary.tooManyAreasKey, "\(locale): \(asked.replies.map(\.key))")
            #expect(!asked.actions.contains(.subscribe))
            // Answering YES to that cannot subscribe anyone: the question is asked again.
            let yes = engine.handle(text: "YES", contact: contact, conversation: asked.conversation, now: t0 + 10)
            #expect(!yes.actions.contains(.subscribe))
        }
    }

    @Test func myAlertsWithTheMostAreasStaysWithinBudgetInEveryLanguage() {
        let ten = Array(Self.manyAreas.prefix(AreaCodes.maxPerPerson))
        for locale in Self.library.languages.map(\.locale) {
            let contact = ContactContext(language: locale, subscriptions: ten)
            for text in ["MY ALERTS", "ALERTS", "STOP ALERTS", "ALERTS " + ten.joined(separator: " "), "MENU", "HELP", "PRIVACY"] {
                checkBudget(engine.handle(text: text, contact: contact, conversation: nil, now: t0), "\(text) in \(locale)")
            }
        }
    }

    @Test func anyInputGetsRepliesWithinBudget() async {
        let words = ["ALERTS", "KIT", "REPORT", "MY", "YES", "1", "2", "BS5", "BA1", "M14", "NALOXONE", "HELP", "STOP", "START",
                     "PAUSE", "24", "LANGUAGE", "POLSKI", "PLAIN", "FORGET", "hi", "x", "ا", "ਜੀ", "é", "\u{0301}", "🙂", "\n"]
        await propertyCheck(count: 300, input: Gen.int(in: 0..<words.count).array(of: 1...400)) { picks in
            let text = picks.map { words[$0] }.joined(separator: " ")
            var conversation: ConversationState?
            for (i, locale) in ["en-GB", "ur", "pl"].enumerated() {
                let outcome = engine.handle(text: text, contact: ContactContext(language: locale), conversation: conversation,
                                            now: t0 + Double(i))
                checkBudget(outcome, "random text in \(locale)")
                conversation = outcome.conversation
            }
        }
    }

    @Test func aLongTextIsReadOnlyAsFarAsAnSMSCanGo() {
        // 64 KB of letters that each carry combining marks: nothing past 1,600 is looked at.
        let text = "naloxone " + String(repeating: "a\u{0301}\u{0302}", count: 22_000)
        let start = ContinuousClock.now
        let outcome = engine.handle(text: text, contact: ContactContext(), conversation: nil, now: t0)
        #expect(ContinuousClock.now - start < .seconds(2))
        checkBudget(outcome, "64 KB text")
        #expect(InboundText.capped(text).unicodeScalars.count == FlowEngine.maxInboundCharacters)
    }

    @Test func aClippedReplyEndsAtAWordAndFits() {
        let long = String(repeating: "Bristol and Somerset, ", count: 40)
        let clipped = SMSSegments.clip(long, toSegments: 3)
        #expect(SMSSegments.count(clipped).segments == 3 && clipped.hasSuffix("...") && clipped.count < long.count)
        #expect(SMSSegments.clip("short", toSegments: 1) == "short")
        let urdu = String(repeating: "برسٹل اور سمرسیٹ ", count: 40)
        #expect(SMSSegments.count(SMSSegments.clip(urdu, toSegments: 3)).segments == 3)
    }
}

extension AbuseAndHardeningTests {
    @Test func oneNumberCannotHoldMoreThanTenAreas() async throws {
        try await withRunningLantern(clock: TestClock(Date())) { env in
            let first = (1...8).map { "BS\($0)" }.joined(separator: " ")
            try await env.text("ALERTS \(first)")
            try await env.text("YES")
            try await env.text("ALERTS M1 M2 M3 M4")
            try await env.text("YES")
            let her = try #require(try await env.db.contact(for: PhoneNumber(Self.her)!))
            #expect(her.subscriptions.count == AreaCodes.maxPerPerson)
            try await env.text("MY ALERTS")
            for text in try await env.allSent(to: Self.her) { #expect(SMSSegments.count(text).segments <= 3) }
        }
    }
}

extension AbuseAndHardeningTests {
    @Test func aHundredForgetsErasePromptlyButAreAnsweredOnce() async throws {
        try await withRunningLantern(clock: TestClock(Date())) { env in
            try await env.text("ALERTS BS5")
            try await env.text("YES")
            let before = try await env.allSent(to: Self.her).count
            for _ in 0..<30 { try await env.text("FORGET") }
            #expect(try await env.db.contact(for: PhoneNumber(Self.her)!) == nil)
            let answers = try await env.allSent(to: Self.her).count - before
            // The erasure's confirmation, then one "there is nothing to erase" for the next hour.
            #expect(answers == 2, "\(answers) replies to 30 FORGETs")
            // STOP still works for someone over her limit, and is confirmed once.
            for _ in 0..<12 { try await env.text("menu", from: Self.other) }
            let beforeStop = try await env.allSent(to: Self.other).count
            for _ in 0..<5 { try await env.text("STOP", from: Self.other) }
            #expect(try await env.db.contact(for: PhoneNumber(Self.other)!)?.isOptedOut == true)
            #expect(try await env.allSent(to: Self.other).count - beforeStop == 1)
            // An hour on, a FORGET from the erased number is answered again (once).
            env.clock.advance(by: 3601)
            try await env.text("FORGET")
            try await env.text("FORGET")
            #expect(try await env.allSent(to: Self.her).count - before == 3)
        }
    }
}

extension AmplificationTests {
    @Test func freeWordsAreLimitedByWhatTheyWeighNotWhatAScreenShows() {
        // 18 KB that a screen shows as a short address: letters each carrying hundreds of accents.
        let heavy = "1 Canary Street BS5 6AA " + String(repeating: "a" + String(repeating: "\u{0301}", count: 300), count: 20)
        #expect(heavy.count < 300 && heavy.utf8.count > 12_000)
        let asked = ConversationState(flow: "kit", state: "ask_address", expiresAt: t0 + 1800, variables: ["kind": "spray", "method": "post"])
        let outcome = engine.handle(text: heavy, contact: ContactContext(), conversation: asked, now: t0)
        #expect(outcome.variables["address"] == nil && !outcome.actions.contains(.requestKit))
        let fine = engine.handle(text: "1 Canary Street BS5 6AA", contact: ContactContext(), conversation: asked, now: t0)
        #expect(fine.conversation?.variables["address"] != nil || fine.variables["address"] != nil || fine.actions.contains(.requestKit))
    }
}

extension AbuseAndHardeningTests {
    @Test func aCoordinatorsTextIsLimitedInSegmentsAsSent() async throws {
        try await withRunningLantern(clock: TestClock(Date())) { env in
            let long = String(repeating: "Bad batch in BS5, take care. ", count: 20)
            let preview = try await env.api("POST", "/admin/broadcasts/preview", json: #"{"areas": ["BS5"], "text": "\#(long)", "confirmed": false}"#)
            #expect(preview.status == 422 && preview.body.contains("SMS segments"), "\(preview.status) \(preview.body)")
            let ok = try await env.api("POST", "/admin/broadcasts/preview", json: #"{"areas": ["BS5"], "text": "Bad batch in BS5, take care.", "confirmed": false}"#)
            #expect(ok.status == 200, "\(ok.body)")
        }
    }
}

/// Areas the service does not cover are answered honestly, with what it does cover.
@Suite struct CoverageTests {
    static let shipped = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).load().library
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func engine(covers: [String]?) -> FlowEngine {
        let l = Self.shipped
        return FlowEngine(library: FlowLibrary(flows: l.flows, catalogues: Array(l.catalogues.values), areas: l.areas,
                                               pickupPoints: l.pickupPoints, defaultWording: l.defaultWording, covers: covers))
    }

    @Test func alertsSomewhereNotCoveredSayWhatIs() {
        let bristol = engine(covers: ["@bristol"])
        let m14 = bristol.handle(text: "alerts M14", contact: ContactContext(), conversation: nil, now: t0)
        #expect(m14.replies.first?.text == "We don't cover M14 yet, sorry: we send alerts for Bristol. Reply with one of those, ALL for all of them, or MENU.",
                "\(m14.replies.map(\.text))")
        #expect(!m14.actions.contains(.subscribe))
        // Her answer is asked again the same way; a covered district goes on to YES.
        let bs5 = bristol.handle(text: "BS5", contact: ContactContext(), conversation: m14.conversation, now: t0 + 10)
        #expect(bs5.replies.first?.text.hasPrefix("Reply YES to start alerts for BS5") == true, "\(bs5.replies.map(\.text))")
        let polish = bristol.handle(text: "alerty M14", contact: ContactContext(language: "pl"), conversation: nil, now: t0)
        #expect(polish.replies.first?.text.hasPrefix("Przepraszamy, nie obejmujemy jeszcze: M14") == true, "\(polish.replies.map(\.text))")
        // Without 'covers:' the service works everywhere, as before.
        let anywhere = engine(covers: nil).handle(text: "alerts M14", contact: ContactContext(), conversation: nil, now: t0)
        #expect(anywhere.replies.first?.text.hasPrefix("Reply YES to start alerts for M14") == true)
    }

    @Test func coversIsReadFromServiceYAMLAndChecked() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let flows = dir.url.appendingPathComponent("flows")
        try FileManager.default.copyItem(at: Repository.flows, to: flows)
        let service = flows.appendingPathComponent("service.yaml")
        let text = try String(contentsOf: service, encoding: .utf8)
        try text.replacingOccurrences(of: "  # covers: [Bristol, Glasgow East]", with: "  covers: [Bristol, G31, Narnia]")
            .write(to: service, atomically: true, encoding: .utf8)
        let (library, diagnostics) = FlowFiles(flowsDirectory: flows, localesDirectory: Repository.locales).loadAndCheck()
        #expect(diagnostics.contains { $0.message.contains("'covers' entry 'Narnia'") })
        #expect(library.covers(["BS5"]) && library.covers(["@bristol"]) && library.covers(["G31"]) && !library.covers(["G32"]) && !library.covers(["M14"]))
    }
}

extension CoverageTests {
    @Test func aReplyToAnAlertReachesTheCoordinatorsWhenTheServiceAsks() {
        var contact = ContactContext()
        contact.recentAlert = true
        let quiet = FlowEngine(library: Self.shipped).handle(text: "is it in the brown?", contact: contact, conversation: nil, now: t0)
        #expect(quiet.actions.isEmpty && quiet.replies.map(\.key) == [FlowLibrary.alertReplyKey])
        let relaying = FlowEngine(library: Self.shipped, relayAlertReplies: true)
            .handle(text: "is it in the brown?", contact: contact, conversation: nil, now: t0, seed: 7 << 32 | 7)
        guard relaying.effects.count == 1, case .relayReport(let report) = relaying.effects[0] else {
            Issue.record("expected one report, got \(relaying.effects)")
            return
        }
        #expect(report.description == "is it in the brown?" && report.happened == "a reply to an alert" && report.areas == [AreaCodes.unknown])
        // The coordinators' words are rendered by the engine, not by the store.
        #expect(report.relayText.contains(report.ref) && report.relayText.contains("is it in the brown?"))
        let ref: String? = report.ref
        #expect(relaying.replies.first?.text == "Thanks, we've passed that on to the team (\(ref ?? ""))."
                && relaying.replies.last?.key == FlowLibrary.alertReplyKey)
        // Without a recent alert it is just an unknown text.
        contact.recentAlert = false
        #expect(FlowEngine(library: Self.shipped, relayAlertReplies: true)
            .handle(text: "is it in the brown?", contact: contact, conversation: nil, now: t0).actions.isEmpty)
    }
}

extension CoverageTests {
    @Test func aKitByPostSomewhereNotCoveredIsSaidHonestlyAndTheAddressDropped() {
        let bristol = engine(covers: ["@bristol"])
        let asked = ConversationState(flow: "kit", state: "ask_address", expiresAt: t0 + 1800, variables: ["kind": "spray", "method": "post"])
        let far = bristol.handle(text: "1 Test Road, Manchester M14 5AA", contact: ContactContext(wording: .plain), conversation: asked, now: t0)
        #expect(!far.actions.contains(.requestKit) && far.conversation == nil)
        #expect(far.replies.first?.text.hasPrefix("Sorry, we can't post kits there yet: we work in Bristol.") == true, "\(far.replies.map(\.text))")
        let near = bristol.handle(text: "Flat 2, 12 Example Street, Bristol BS5 6AA", contact: ContactContext(), conversation: asked, now: t0)
        #expect(near.actions.contains(.requestKit))
    }
}
