import Foundation
import LanternCore
import LanternServer
import LanternStore
import LanternTesting
import Testing

/// SPOT through the running daemon: signed webhooks in, the fake provider out, a real SQLite
/// file, the timer on its own loop, and the canary scan at the end of every run.
@Suite struct SpotEndToEndTests {
    static let buddy = "+447700900456"

    /// Her buddy says yes, so a check-in can escalate to them.
    func signUpBuddy(_ lantern: LanternHarness) async throws {
        _ = try await lantern.text("BUDDY 07700 900456")
        _ = try await lantern.text("Jo")
        #expect(await lantern.sent(to: Self.buddy).first?.contains("Jo has asked you to be their check-in buddy") == true)
        _ = try await lantern.text("YES", from: Self.buddy)
        #expect(await lantern.sent(to: LanternHarness.her, count: 3).last?.contains("said YES") == true)
    }

    @Test func aCheckInDueWhileTheDaemonWasDownFiresOnceAfterTheRestartAndItsPlaceIsDeleted() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock()
        let place = "flat 9 canary-\(UUID().uuidString.prefix(8)) court"
        try await withRunningLantern(clock: clock, directory: dir, canaries: [place]) { lantern in
            try await signUpBuddy(lantern)
            _ = try await lantern.text("SPOT 10 \(place)")
            #expect(await lantern.sent(to: LanternHarness.her, count: 4).last?.contains("I'll text you at") == true)
            #expect(try await lantern.db.checkInState(for: PhoneNumber(LanternHarness.her)!)?.hasPlace == true)
        }
        // Down for 11 minutes: the check-in fell due meanwhile.
        clock.advance(by: 11 * 60)
        try await withRunningLantern(clock: clock, directory: dir, canaries: [place], firstSendNumber: 1_000) { lantern in
            let asked = await lantern.sent(to: LanternHarness.her, count: 1, timeout: .seconds(10))
            #expect(asked == ["Are you OK? Reply OK if you are, or HELP if not."])
            #expect(lantern.logs.text.contains("check-in step taken late"))
            // The grace window passes: her buddy is asked, with the place.
            lantern.clock.advance(by: 3 * 60 + 1)
            let check = await lantern.sent(to: Self.buddy, count: 1, timeout: .seconds(10))
            #expect(check.first?.contains(place) == true)
            _ = try await lantern.text("she's ok", from: Self.buddy)
            #expect(await lantern.sent(to: LanternHarness.her, count: 3, timeout: .seconds(10)).last?.contains("Your buddy says you're OK") == true)
            try await lantern.settled()
            // Exactly once, however many ticks passed.
            lantern.clock.advance(by: 30 * 60)
            try await Task.sleep(for: .milliseconds(1500))
            try await lantern.settled()
            let toHer = try await lantern.allSent(to: LanternHarness.her)
            #expect(toHer.filter { $0.contains("Are you OK?") }.count == 1)
            #expect(try await lantern.allSent(to: Self.buddy).filter { $0.contains("Please check on Jo now") }.count == 1)
            #expect(try await lantern.db.checkInState(for: PhoneNumber(LanternHarness.her)!) == nil)
            // Coordinators see counts, never who.
            let counts = try await lantern.api("GET", "/admin/spot/counts")
            #expect(counts.status == 200)
            let body = counts.body
            let seen = try JSONDecoder().decode(SpotCounts.self, from: Data(body.utf8))
            #expect(seen == SpotCounts(running: 0, started: 1, endedOK: 0, escalated: 1, answeredByBuddy: 1, unanswered: 0, stopped: 0, buddies: 1))
            #expect(!body.contains("+44") && !body.contains("7700"))
            // The place is gone from the store, WAL included (the harness scans once more after).
            #expect(try await lantern.atRest(place).isEmpty)
        }
    }

    @Test func buddyRequestsAreLimitedAndANoIsFinal() async throws {
        // Typed at a person's pace: the per-number limit is not what this is about.
        try await withRunningLantern(clock: TestClock(), typingPace: 10) { lantern in
            let numbers = ["+447700900401", "+447700900402", "+447700900403", "+447700900404"]
            _ = try await lantern.text("BUDDY \(numbers[0])")
            _ = try await lantern.text("Jo")
            _ = try await lantern.text("NO", from: numbers[0])
            #expect(await lantern.sent(to: LanternHarness.her, count: 3).last?.contains("said no") == true)
            // Never asked again by her.
            _ = try await lantern.text("BUDDY \(numbers[0])")
            _ = try await lantern.text("Jo")
            #expect(await lantern.sent(to: LanternHarness.her, count: 5).last?.contains("can't ask") == true)
            _ = try await lantern.text("BUDDY \(numbers[1])")
            _ = try await lantern.text("Jo")
            _ = try await lantern.text("BUDDY \(numbers[2])")
            _ = try await lantern.text("Jo")
            // A fourth new number in a week is one too many.
            _ = try await lantern.text("BUDDY \(numbers[3])")
            _ = try await lantern.text("Jo")
            #expect(await lantern.sent(to: LanternHarness.her, count: 11).last?.contains("3 new numbers a week") == true)
            // Someone else asking a number already asked today: refused, and it is not texted twice.
            _ = try await lantern.text("BUDDY \(numbers[1])", from: "+447700900124")
            _ = try await lantern.text("Jo", from: "+447700900124")
            #expect(await lantern.sent(to: "+447700900124", count: 2).last?.contains("can't ask") == true)
            try await lantern.settled()
            #expect(try await lantern.allSent(to: numbers[1]).count == 1)
            #expect(try await lantern.allSent(to: numbers[3]).isEmpty)
            // A number abroad (outside LANTERN_ALLOWED_COUNTRY_CODES) is never texted.
            _ = try await lantern.text("BUDDY +1 202 555 0100", from: "+447700900125")
            _ = try await lantern.text("Jo", from: "+447700900125")
            #expect(await lantern.sent(to: "+447700900125", count: 2).last?.contains("can't ask") == true)
            // A check-in with only unconfirmed buddies is a reminder, said plainly: nothing goes to them.
            _ = try await lantern.text("SPOT 5")
            let afterSpot = await lantern.sent(to: LanternHarness.her, count: 12)
            #expect(afterSpot.last?.contains("nobody else will be told") == true, "\(afterSpot)")
        }
    }

    @Test func pausedAlertsNeverHoldACheckInBack() async throws {
        try await withRunningLantern(clock: TestClock()) { lantern in
            try await signUpBuddy(lantern)
            _ = try await lantern.text("PAUSE 24")
            _ = try await lantern.text("SPOT 1")
            #expect(await lantern.sent(to: LanternHarness.her, count: 5).last?.contains("I'll text you at") == true)
            lantern.clock.advance(by: 61)
            #expect(await lantern.sent(to: LanternHarness.her, count: 6, timeout: .seconds(10)).last == "Are you OK? Reply OK if you are, or HELP if not.")
        }
    }

    @Test func aLongPlaceIsShortenedSoTheBuddysTextStillFitsAndEndsWith999() async throws {
        let place = String(repeating: "گلی نمبر تین کے پیچھے والا مکان ", count: 6)
        try await withRunningLantern(clock: TestClock(), canaries: [place]) { lantern in
            _ = try await lantern.text("URDU")
            _ = try await lantern.text("BUDDY 07700 900456")
            _ = try await lantern.text("Jo")
            _ = try await lantern.text("ہاں", from: Self.buddy)
            _ = try await lantern.text("PLAIN", from: Self.buddy)
            _ = try await lantern.text("SPOT 5 \(place)")
            #expect(await lantern.sent(to: LanternHarness.her, count: 5).last?.contains("999") == true)
            lantern.clock.advance(by: 5 * 60 + 1)
            _ = await lantern.sent(to: LanternHarness.her, count: 6, timeout: .seconds(10))
            lantern.clock.advance(by: 3 * 60 + 1)
            let sentToBuddy = await lantern.sent(to: Self.buddy, count: 4, timeout: .seconds(10))
            let check = try #require(sentToBuddy.last)
            // In Urdu (her language, which the buddy was asked in), plainly (the buddy texted PLAIN).
            #expect(check.contains("نالوکسون"))
            #expect(check.contains("999"))
            #expect(check.contains("..."))
            #expect(SMSSegments.count(check).segments <= MessageTemplate.segmentCeiling)
        }
    }

    @Test func anInvitationNeverAnsweredLapsesAfterAWeek() async throws {
        let clock = TestClock()
        try await withRunningLantern(clock: clock) { lantern in
            _ = try await lantern.text("BUDDY 07700 900456")
            _ = try await lantern.text("Jo")
            _ = await lantern.sent(to: Self.buddy, count: 1)
            _ = try await lantern.text("BUDDIES")
            #expect(await lantern.sent(to: LanternHarness.her, count: 3).last?.contains("(not yet)") == true)
            clock.advance(by: 8 * 86400)
            _ = try await lantern.db.sweep(RetentionSettings(), now: clock.now)
            _ = try await lantern.text("BUDDIES")
            #expect(await lantern.sent(to: LanternHarness.her, count: 4).last?.contains("no buddies yet") == true)
            // And the same number may be asked again.
            _ = try await lantern.text("BUDDY 07700 900456")
            _ = try await lantern.text("Jo")
            #expect(await lantern.sent(to: Self.buddy, count: 2).count == 2)
        }
    }

    /// Fails safe through the running daemon: an OK straight after SPOT leaves the timer running;
    /// "help" after "Are you OK?" reaches her buddy and the on-call phone within about a second
    /// (the timer's tick), with the place, and the place is gone from the disk once it ends.
    @Test func helpAfterAreYouOKReachesHerBuddyAndTheOnCallPhoneAtOnce() async throws {
        let onCall = "+447700900777"
        let place = "flat 3 canary-\(UUID().uuidString.prefix(8)) row"
        try await withRunningLantern(clock: TestClock(), canaries: [place],
                                     configure: { $0.spot.onCallNumbers = [PhoneNumber(onCall)!] }) { lantern in
            try await signUpBuddy(lantern)
            _ = try await lantern.text("SPOT 15 \(place)")
            _ = try await lantern.text("ok")
            let ack = await lantern.sent(to: LanternHarness.her, count: 5)
            #expect(ack.last?.contains("Your timer is still on") == true)
            #expect(try await lantern.db.checkInState(for: PhoneNumber(LanternHarness.her)!)?.status == "running")
            lantern.clock.advance(by: 15 * 60 + 1)
            #expect(await lantern.sent(to: LanternHarness.her, count: 6, timeout: .seconds(10)).last == "Are you OK? Reply OK if you are, or HELP if not.")
            let asked = ContinuousClock.now
            _ = try await lantern.text("help")
            let toBuddy = await lantern.sent(to: Self.buddy, count: 3, timeout: .seconds(5))
            let toOnCall = await lantern.sent(to: onCall, count: 1, timeout: .seconds(5))
            let took = ContinuousClock.now - asked
            #expect(toBuddy.last?.contains("Jo has just texted that they need help") == true)
            #expect(toBuddy.last?.contains(place) == true)
            #expect(toOnCall.first?.contains("need help") == true)
            // Her text wakes the timer (about 0.1 s alone); the bound leaves room for a loaded runner.
            #expect(took < .seconds(5), "took \(took)")
            print("help to buddy and on-call: \(took)")
            #expect(await lantern.sent(to: LanternHarness.her, count: 7).last?.contains("call 999") == true)
            _ = try await lantern.text("found her shes ok", from: Self.buddy)
            _ = await lantern.sent(to: LanternHarness.her, count: 8, timeout: .seconds(5))
            #expect(try await lantern.db.checkInState(for: PhoneNumber(LanternHarness.her)!) == nil)
            try await lantern.settled()
            #expect(try await lantern.atRest(place).isEmpty)
        }
    }
}
