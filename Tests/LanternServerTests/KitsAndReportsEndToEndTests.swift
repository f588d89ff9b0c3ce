import Crypto
import Foundation
import LanternCore
import LanternServer
import LanternStore
import LanternTesting
import Logging
import Testing

@Suite struct KitsAndReportsEndToEndTests {
    static let her = LanternHarness.her
    static let coordinatorPhone = "+447700900900"

    /// Coordinators on a phone and a webhook; she types at a person's pace (10 s a text, well
    /// under the per-minute limit) on a clock the test moves.
    func withLantern(canaries: [String], _ body: (LanternHarness) async throws -> Void) async throws {
        try await withRunningLantern(clock: TestClock(Date()), typingPace: 10, canaries: canaries, reportWebhook: true,
                                     configure: { $0.reports.coordinatorNumbers = [PhoneNumber(Self.coordinatorPhone)!] }, body)
    }

    func ref(_ prefix: String, in text: String?) -> String? {
        guard let text, let r = text.range(of: "\(prefix)-") else { return nil }
        return String(text[r.lowerBound...].prefix(2 + ReferenceCode.length))
    }

    @Test func aKitByPostGoesFromTextToCoordinatorToConfirmationAndTheAddressIsGone() async throws {
        let street = "Canary\(UUID().uuidString.prefix(6)) Street"
        let address = "Flat 9, 12 \(street), Bristol BS5 6AA"
        try await withLantern(canaries: [street]) { env in
            try await env.text("kit")
            try await env.text("1")
            try await env.text("2")
            try await env.text(address)
            let confirmation = await env.nth(4, sentTo: Self.her)
            let kit = try #require(ref("K", in: confirmation), "\(confirmation ?? "")")
            // At rest the address exists only sealed.
            #expect(try await env.atRest(street).isEmpty)

            let queue = try await env.api("GET", "/admin/kits")
            #expect(queue.status == 200)
            #expect(queue.body.contains(kit) && queue.body.contains("\"has_address\" : true") && !queue.body.contains(street))
            let one = try await env.api("GET", "/admin/kits/\(kit)")
            #expect(one.status == 200)
            let detail = try AdminJSON.decoder.decode(KitDetail.self, from: Data(one.body.utf8))
            #expect(detail.address == address)
            #expect(detail.summary.kind == "spray" && detail.summary.method == "post")
            #expect(try await env.db.auditLog().contains { $0.actor == "alice" && $0.action == "kit.address_viewed" && $0.subject == kit })

            let sent = try await env.api("POST", "/admin/kits/\(kit)/sent", json: #"{"reason": "posted"}"#)
            #expect(sent.status == 200, "\(sent.body)")
            #expect(await env.nth(5, sentTo: Self.her) == "Your parcel \(kit) is on its way.")
            let again = try await env.api("GET", "/admin/kits/\(kit)")
            #expect(try AdminJSON.decoder.decode(KitDetail.self, from: Data(again.body.utf8)).address == nil)
            #expect(try await env.api("POST", "/admin/kits/\(kit)/sent").status == 409)
            #expect(try await env.api("POST", "/admin/kits/K-ZZZZ/sent").status == 404)
            #expect(try await env.api("POST", "/admin/kits/\(kit)/lost").status == 400)
            #expect(try await env.atRest(street).isEmpty)
            // Kits are for coordinators with a token.
            #expect(try await env.api("GET", "/admin/kits/\(kit)", token: "lnt_x_y").status == 401)
        }
    }

    @Test func threeSuppliesByPostGoThroughDispatchAsYourParcelNamingNothing() async throws {
        let street = "Canary\(UUID().uuidString.prefix(6)) Road"
        try await withLantern(canaries: [street]) { env in
            try await env.text("kit")
            let asked = try #require(await env.nth(1, sentTo: Self.her))
            // Discreet by default: the list names nothing a lock screen would give away.
            #expect(asked.contains("1 Nose spray") && asked.contains("3 Small pack") && asked.contains("4 Safety box"))
            #expect(!asked.lowercased().contains("needle") && !asked.lowercased().contains("naloxone"))
            try await env.text("7")  // not on the list
            #expect(await env.nth(2, sentTo: Self.her)?.contains("numbers from the list") == true)
            try await env.text("1 3 3 4")
            try await env.text("2")
            try await env.text("Flat 2, 40 \(street), Bristol BS5 6AA")
            let kit = try #require(ref("K", in: await env.nth(5, sentTo: Self.her)))
            let one = try await env.api("GET", "/admin/kits/\(kit)")
            let detail = try AdminJSON.decoder.decode(KitDetail.self, from: Data(one.body.utf8))
            #expect(detail.summary.kind == "spray+needles x2+sharps_bin" && detail.summary.method == "post")
            let sent = try await env.api("POST", "/admin/kits/\(kit)/sent", json: #"{"reason": "posted"}"#)
            #expect(sent.status == 200, "\(sent.body)")
            #expect(await env.nth(6, sentTo: Self.her) == "Your parcel \(kit) is on its way.")
            #expect(try await env.atRest(street).isEmpty)
            // Test strips can only be posted: asking for them skips the question of how.
            try await env.text("kit")
            try await env.text("6")
            #expect(await env.nth(8, sentTo: Self.her)?.contains("address for the parcel") == true)
        }
    }

    @Test func theKitLimitStopsRepeatRequests() async throws {
        try await withLantern(canaries: []) { env in
            var sent = 0
            for i in 1...3 {
                try await env.text("kit"); try await env.text("3"); try await env.text("2")
                try await env.text("\(i) Test Road, Bristol BS5 6AA")
                sent += 4
                let kit = try #require(ref("K", in: await env.nth(sent, sentTo: Self.her)))
                #expect(try await env.api("POST", "/admin/kits/\(kit)/sent").status == 200)
                sent += 1
                _ = await env.fake.waitForRequests(sent)
            }
            try await env.text("kit")
            #expect(await env.nth(sent + 1, sentTo: Self.her)?.hasPrefix("Sorry, that's the most kits we can send for now.") == true)
        }
    }

    @Test func anOpenRequestLosesItsAddressAfterFourteenDays() async throws {
        let street = "Expiry\(UUID().uuidString.prefix(6)) Lane"
        try await withLantern(canaries: [street]) { env in
            try await env.text("kit"); try await env.text("1"); try await env.text("2")
            try await env.text("3 \(street), Bristol BS5 6AA")
            let kit = try #require(ref("K", in: await env.nth(4, sentTo: Self.her)))
            env.clock.advance(by: 13 * 86400)
            try await env.lantern.lantern.housekeeping.runOnce()
            #expect(try await env.db.kitRequest(kit, viewer: "test", now: env.clock.now).address != nil)
            env.clock.advance(by: 2 * 86400)
            try await env.lantern.lantern.housekeeping.runOnce()
            let expired = try await env.db.kitRequest(kit, viewer: "test", now: env.clock.now)
            #expect(expired.address == nil && expired.summary.status == .expired)
            try await env.text("kit status")
            #expect(await env.nth(5, sentTo: Self.her) == "Your request \(kit) is closed, as it wasn't collected in time. Text MENU for more.")
        }
    }

    /// She reports a bad batch in BS5 (unexpected effects, today); returns the reference she is given.
    func reportBadBatch(_ env: LanternHarness, _ description: String) async throws -> String {
        for text in ["report", "bs5", "2", "1", description] { try await env.text(text) }
        return try #require(ref("R", in: await env.nth(5, sentTo: Self.her)))
    }

    @Test func aReportIsRelayedAtOnceSignedAndKeptNowhere() async throws {
        let canary = "canary-\(UUID().uuidString.prefix(8)) brown powder"
        try await withLantern(canaries: [canary]) { env in
            let report = try await reportBadBatch(env, "Sold as heroin, \(canary)")
            // The on-duty coordinator's phone got it, without the reporter's number.
            let relay = try #require(await env.fake.waitForRequests(6).first { $0.form["To"] == Self.coordinatorPhone })
            let relayBody = relay.form["Body"] ?? ""
            #expect(relayBody.contains(canary) && relayBody.contains(report) && relayBody.contains("BS5") && relayBody.contains("unexpected effects"))
            #expect(!relayBody.contains("7700900131"))
            // And the webhook got a signed copy.
            let hook = try #require(await env.reports!.waitForRequests(1).first)
            #expect(hook.path == "/reports")
            let body = Data(hook.body.utf8)
            let expected = "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(LanternHarness.reportWebhookSecret.utf8)))
                .map { String(format: "%02x", $0) }.joined()
            #expect(hook.headers["x-lantern-signature"] == expected)
            let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: String])
            #expect(json["ref"] == report && json["area"] == "BS5" && json["description"] == "Sold as heroin, \(canary)")
            #expect(!hook.body.contains("7700900131"))
            // Nothing of it is at rest once it has gone; a count per area and day stays.
            try await env.settled()
            #expect(try await env.atRest(canary).isEmpty)
            let counts = try await env.api("GET", "/admin/reports/counts")
            #expect(counts.body.contains("\"area\" : \"BS5\"") && counts.body.contains("\"count\" : 1"))

            // A coordinator answers through the reference, never seeing her number.
            let reply = try await env.api("POST", "/admin/reports/\(report.lowercased())/reply", json: #"{"text": "Thank you, we've warned the outreach team."}"#)
            #expect(reply.status == 201, "\(reply.body)")
            #expect(await env.nth(6, sentTo: Self.her) == "Thank you, we've warned the outreach team.")
            #expect(try await env.api("POST", "/admin/reports/R-ZZZZ/reply", json: #"{"text": "x"}"#).status == 404)
            // After its lifetime the reference no longer reaches her.
            env.clock.advance(by: 8 * 86400)
            try await env.lantern.lantern.housekeeping.runOnce()
            #expect(try await env.api("POST", "/admin/reports/\(report)/reply", json: #"{"text": "late"}"#).status == 404)
        }
    }

    @Test func aCoordinatorAnswersAReportFromHerPhone() async throws {
        let canary = "canary-\(UUID().uuidString.prefix(8))"
        try await withLantern(canaries: [canary]) { env in
            let report = try await reportBadBatch(env, "Sold as heroin, \(canary)")
            // The relay tells the coordinator how to answer by text, not a command line.
            let relay = await env.nth(1, sentTo: Self.coordinatorPhone) ?? ""
            #expect(relay.contains("To answer her, text: \(report) and your answer") && !relay.contains("lantern reports"), "\(relay)")

            try await env.text("\(report.lowercased()) Was that today? \(canary)", from: Self.coordinatorPhone)
            #expect(await env.nth(6, sentTo: Self.her) == "Was that today? \(canary)")
            #expect(await env.nth(2, sentTo: Self.coordinatorPhone) == "Sent to the person who made report \(report).")
            // Her next text is her answer: back to the coordinators, kept nowhere.
            try await env.text("yes this morning \(canary)")
            #expect(await env.nth(7, sentTo: Self.her) == "Thanks, we've passed that on to the team (\(report)).")
            let answer = await env.nth(3, sentTo: Self.coordinatorPhone) ?? ""
            #expect(answer == "Answer to \(report): \"yes this morning \(canary)\" To reply, text: \(report) and your answer", "\(answer)")
            // One answer per question: after that she is an ordinary texter again.
            try await env.text("ok bye")
            #expect(await env.nth(8, sentTo: Self.her)?.hasPrefix("Sorry, I didn't get that") == true)
            // A reference that is not live: the coordinator is told, nobody else gets anything.
            try await env.text("R-ZZZZZZ hello", from: Self.coordinatorPhone)
            #expect(await env.nth(4, sentTo: Self.coordinatorPhone)?.hasPrefix("Not sent: no live report R-ZZZZZZ") == true)
            #expect(await env.fake.requests().filter { $0.form["To"] == Self.her }.count == 8)
            // Anything else from a coordinator's phone is an ordinary text.
            try await env.text("menu", from: Self.coordinatorPhone)
            #expect(await env.nth(5, sentTo: Self.coordinatorPhone)?.contains("Reply with a number") == true)
            let audit = try await env.db.auditLog()
            #expect(audit.contains { $0.action == "report.replied" && $0.actor.hasPrefix("coordinator-sms:") })
        }
    }

    @Test func outOfStockTellsHerWhereElseAndWhenNotALoop() async throws {
        try await withLantern(canaries: []) { env in
            try await env.text("kit")
            try await env.text("1")
            try await env.text("2")
            try await env.text("Flat 2, 12 Example Street, Bristol BS5 6AA")
            let kit = try #require(ref("K", in: await env.nth(4, sentTo: Self.her)))
            let closed = try await env.api("POST", "/admin/kits/\(kit)/cancelled", json: #"{"reason": "no_stock"}"#)
            #expect(closed.status == 200, "\(closed.body)")
            let told = await env.nth(5, sentTo: Self.her) ?? ""
            #expect(told.contains("run out of kits") && told.contains("pharmacies") && told.contains("2 weeks"), "\(told)")
            #expect(!told.contains("Text KIT to ask again"))
        }
    }
}
