import Foundation
import LanternCore
import LanternServer
import LanternStore
import LanternTesting
import Logging
import Testing

/// Alerts end to end: people subscribe by text over signed Twilio webhooks, coordinators use
/// the admin API with bearer tokens, and a fake Twilio records exactly who got what.
@Suite struct AlertsEndToEndTests {
    /// Coordinators send alerts four at a time, at `sendRate` a second (0: no limit).
    func withLantern(sendRate: Double = 0, canaries: [String] = [], _ body: (LanternHarness) async throws -> Void) async throws {
        try await withRunningLantern(canaries: canaries, configure: { $0.sendRate = sendRate; $0.maxConcurrentSends = 4 }, body)
    }

    @Test func anAlertReachesExactlyItsSubscribersOnce() async throws {
        let canary = "canary-\(UUID().uuidString.prefix(8))"
        try await withLantern(canaries: [canary]) { env in
            try await env.subscribe("+447700900101", "BS5")
            try await env.subscribe("+447700900102", "M14")
            try await env.subscribe("+447700900103", "G31")
            try await env.subscribe("+447700900104", "Bristol")      // contains BS5
            try await env.subscribe("+447700900105", "all")
            try await env.subscribe("+447700900106", "BS5")
            try await env.text("STOP", from: "+447700900106")                // opted out
            try await env.subscribe("+447700900107", "BS5")
            try await env.text("PAUSE 24", from: "+447700900107")            // paused
            try await env.settled()

            // Naming the drug would show on discreet subscribers' lock screens: refused until the coordinator chooses.
            let refused = try await env.api("POST", "/admin/broadcasts",
                                            json: #"{"text": "Strong heroin in \#(canary).", "areas": ["BS5", "M14"], "confirmed": true}"#, token: env.coordinator)
            #expect(refused.status == 422 && refused.body.contains("HEROIN") && refused.body.contains("plain_for_everyone"), "\(refused.body)")
            let created = try await env.broadcast(#"{"text": "Strong heroin in \#(canary).", "areas": ["BS5", "M14"], "confirmed": true, "plain_for_everyone": true}"#)
            let id = created["id"] as! Int
            let done = try await env.waitForBroadcast(id) { $0.status == .completed }
            #expect(done.recipients == 4)
            #expect(done.counts.sent == 4)
            #expect(done.texts.isEmpty)                                  // words cleared once finished
            let got = await env.alertsByRecipient()
            #expect(got == ["+447700900101": 1, "+447700900102": 1, "+447700900104": 1, "+447700900105": 1])
            let body = await env.fake.requests().first { $0.form["To"] == "+447700900101" && $0.form["Body"]?.contains(canary) == true }?.form["Body"]
            #expect(body == "Confirmed: Strong heroin in \(canary).\nReply STOP to end")
        }
    }

    @Test func tokensAreCheckedAndRolesEnforced() async throws {
        try await withLantern { env in
            var r = try await env.client.request("GET", env.base.appendingPathComponent("admin/broadcasts"))
            #expect(r.status == 401)
            #expect(r.headers["www-authenticate"] == "Bearer")
            #expect(r.body.contains("a valid admin token is required"))
            r = try await env.api("GET", "/admin/broadcasts", token: "lnt_guess_guess")
            #expect(r.status == 401)
            r = try await env.api("GET", "/admin/broadcasts", token: env.coordinator)
            #expect(r.status == 200)
            r = try await env.api("GET", "/admin/tokens", token: env.coordinator)
            #expect(r.status == 403)
            r = try await env.api("GET", "/admin/tokens", token: env.admin)
            #expect(r.status == 200)
            #expect(r.body.contains("\"alice\"") && !r.body.contains(env.coordinator))
            r = try await env.api("DELETE", "/admin/tokens/alice", token: env.admin)
            #expect(r.status == 200)
            r = try await env.api("GET", "/admin/broadcasts", token: env.coordinator)
            #expect(r.status == 401)
        }
    }

    @Test func previewCountsSegmentsTimeAndCost() async throws {
        try await withLantern(sendRate: 2) { env in
            for (i, n) in ["+447700900111", "+447700900112", "+447700900113"].enumerated() {
                try await env.subscribe(n, i == 2 ? "M14" : "BS5")
            }
            var r = try await env.api("POST", "/admin/broadcasts/preview",
                                      json: #"{"text": "Pills sold as diazepam are much stronger than usual.", "areas": ["bs5"], "confirmed": false}"#, token: env.coordinator)
            #expect(r.status == 200, "\(r.body)")
            var p = try AdminJSON.decoder.decode(BroadcastPreview.self, from: Data(r.body.utf8))
            #expect(p.recipients == 2)
            #expect(p.messages.first?.encoding == "GSM-7")
            #expect(p.messages.first?.segments == 1)
            #expect(p.messages.first?.text == "Unconfirmed report: Pills sold as diazepam are much stronger than usual.\nReply STOP to end")
            #expect(p.totalSegments == 2)
            #expect(p.estimatedSeconds == 1)
            #expect(p.estimatedCost == 0.08 && p.currency == "GBP")
            r = try await env.api("POST", "/admin/broadcasts/preview",
                                  json: #"{"text": "It’s bad ⚠️", "areas": ["all"], "confirmed": true}"#, token: env.coordinator)
            p = try AdminJSON.decoder.decode(BroadcastPreview.self, from: Data(r.body.utf8))
            #expect(p.recipients == 3)
            #expect(p.messages.first?.encoding == "UCS-2")
            #expect(p.messages.first?.nonGSMCharacters.contains("’") == true)
            // A template renders with the areas filled in.
            r = try await env.api("POST", "/admin/broadcasts/preview",
                                  json: #"{"template": "nitazenes", "areas": ["BS5", "M14"], "confirmed": true}"#, token: env.coordinator)
            p = try AdminJSON.decoder.decode(BroadcastPreview.self, from: Data(r.body.utf8))
            #expect(p.messages.first?.locale == "en-GB")
            #expect(p.messages.first?.text.hasPrefix("Confirmed: Nitazenes found in heroin in BS5 and M14.") == true)
            // Every language has the template, each with its discreet wording for discreet subscribers.
            let polish = p.messages.first { $0.locale == "pl" }
            #expect(polish?.text.hasPrefix("Potwierdzone: Nitazeny w heroinie w: BS5 i M14.") == true, "\(polish?.text ?? "")")
            #expect(p.messages.first { $0.locale == "pl~discreet" }?.text.contains("krazy cos duzo mocniejszego") == true)
            #expect(p.messages.first { $0.locale == "ur" }?.encoding == "UCS-2")
            // Preview sends nothing.
            #expect(await env.alertsByRecipient().isEmpty)
        }
    }

    /// Each subscriber gets an alert in her own language and her own wording: discreet by
    /// default, plain for whoever asked for it.
    @Test func aTemplateAlertGoesOutInEachPersonsLanguageAndWording() async throws {
        try await withLantern { env in
            let polish = "+447700900161", english = "+447700900162", welsh = "+447700900163"
            try await env.text("polski", from: polish)
            try await env.text("alerty BS5", from: polish)
            try await env.text("tak", from: polish)
            try await env.subscribe(english, "BS5")
            try await env.text("plain", from: english)
            try await env.text("cymraeg", from: welsh)
            try await env.text("rhybuddion BS5", from: welsh)
            try await env.text("ie", from: welsh)
            await env.fake.waitForRequests(9)   // every reply so far (3 each) has gone out
            let id = try await env.broadcast(#"{"template": "nitazenes", "areas": ["BS5"], "confirmed": true}"#)["id"] as! Int
            _ = try await env.waitForBroadcast(id) { $0.status == .completed }
            let sent = await env.fake.waitForRequests(12)
            func alert(_ to: String) -> String { sent.last { $0.form["To"] == to }?.form["Body"] ?? "" }
            #expect(alert(polish).hasPrefix("Potwierdzone: Uwaga: w BS5 krazy cos duzo mocniejszego niz zwykle"), "\(alert(polish))")
            #expect(alert(polish).hasSuffix("Odpisz STOP, by zakonczyc"))
            #expect(alert(english).hasPrefix("Confirmed: Nitazenes found in heroin in BS5."), "\(alert(english))")
            #expect(alert(welsh).hasPrefix("Wedi'i gadarnhau: Sylwch:"), "\(alert(welsh))")
        }
    }

    @Test func badRequestsAreExplained() async throws {
        try await withLantern { env in
            let cases: [(String, Int, String)] = [
                (#"{"text": "x", "areas": ["Narnia"], "confirmed": true}"#, 422, "'Narnia' is not a postcode district"),
                (#"{"areas": ["BS5"], "confirmed": true}"#, 422, "give the alert's words"),
                (#"{"text": "x", "areas": [], "confirmed": true}"#, 422, "give at least one area"),
                (#"{"text": "x", "areas": ["BS5"], "confirmed": true, "expires_at": "2001-01-01T00:00:00Z"}"#, 422, "must be in the future"),
                (#"{"text": "x", "areas": ["BS5"], "confirmed": true, "expires_in_hours": 500}"#, 422, "at most 72 hours"),
                (#"{"text": "x", "areas": ["BS5"], "confirmed": true, "template": "nitazenes"}"#, 422, "only one of"),
                (#"{"text": "x", "areas": ["BS5"]}"#, 400, "missing field 'confirmed'"),
                (#"{"text": "x", "areas": ["BS5"], "confirmed": true, "expires_at": "tomorrow"}"#, 400, "'expires_at' must be a date in ISO 8601"),
                ("not json", 400, "not valid JSON"),
            ]
            for (json, status, message) in cases {
                let r = try await env.api("POST", "/admin/broadcasts", json: json, token: env.coordinator)
                #expect(r.status == status, "\(json) → \(r.status) \(r.body)")
                #expect(r.body.contains(message), "\(json) → \(r.body)")
            }
            let missing = try await env.api("GET", "/admin/broadcasts/999", token: env.coordinator)
            #expect(missing.status == 404)
        }
    }

    @Test func approvalNeedsASecondCoordinator() async throws {
        try await withLantern { env in
            let bola = try await env.token("bola")
            try await env.subscribe("+447700900121", "BS5")
            let b = try await env.broadcast(#"{"text": "Check your batch.", "areas": ["BS5"], "confirmed": false, "requires_approval": true}"#)
            let id = b["id"] as! Int
            #expect(b["status"] as? String == "awaiting_approval")
            try await Task.sleep(for: .milliseconds(1500))
            #expect(await env.alertsByRecipient().isEmpty)
            var r = try await env.api("POST", "/admin/broadcasts/\(id)/approve", token: env.coordinator)
            #expect(r.status == 403)
            #expect(r.body.contains("different coordinator"))
            r = try await env.api("POST", "/admin/broadcasts/\(id)/approve", token: bola)
            #expect(r.status == 200)
            let done = try await env.waitForBroadcast(id) { $0.status == .completed }
            #expect(done.approvedBy == "bola")
            #expect(await env.alertsByRecipient() == ["+447700900121": 1])
            r = try await env.api("POST", "/admin/broadcasts/\(id)/approve", token: bola)
            #expect(r.status == 409)
            let audit = try await env.db.auditLog().map { "\($0.actor) \($0.action)" }
            #expect(audit.contains("alice broadcast.created") && audit.contains("bola broadcast.approved"))
        }
    }

    /// Subscribers for the mid-broadcast tests, seeded straight into the store (synthetic numbers).
    func seed(_ env: LanternHarness, _ count: Int) async throws -> [PhoneNumber] {
        try await Seed.subscribers(count, areas: "BS5", database: env.db, provider: "twilio")
    }

    @Test func cancelStopsEverythingNotYetSent() async throws {
        try await withLantern(sendRate: 10) { env in
            let numbers = try await seed(env, 40)
            let id = try await env.broadcast(#"{"text": "Cancel me.", "areas": ["BS5"], "confirmed": true}"#)["id"] as! Int
            _ = try await env.waitForBroadcast(id) { $0.counts.sent >= 5 }
            let r = try await env.api("POST", "/admin/broadcasts/\(id)/cancel", token: env.coordinator)
            #expect(r.status == 200)
            try await Task.sleep(for: .milliseconds(800))
            let s = try await env.status(id)
            #expect(s.status == .cancelled)
            #expect(s.counts.queued == 0 && s.counts.sending == 0)
            #expect(s.counts.sent + s.counts.skipped == numbers.count)
            #expect(s.counts.sent < numbers.count)
            let got = await env.alertsByRecipient()
            #expect(got.values.allSatisfy { $0 == 1 })
            #expect(got.count == s.counts.sent)
            #expect(s.texts.isEmpty)
        }
    }

    @Test func nothingIsSentAfterItExpires() async throws {
        try await withLantern(sendRate: 10) { env in
            // 100 at 10/s needs 10 s; it expires after 8 (room for a slow start when the
            // whole suite runs in parallel on two cores; the time is written to the second).
            let numbers = try await seed(env, 100)
            let expires = Date().addingTimeInterval(8)
            let json = #"{"text": "Short-lived.", "areas": ["BS5"], "confirmed": true, "expires_at": "\#(ISO8601DateFormatter().string(from: expires))"}"#
            let id = try #require(try await env.broadcast(json)["id"] as? Int)
            // Expired, and whatever was already in flight at that moment has finished.
            let s = try await env.waitForBroadcast(id) { $0.status == .expired && $0.counts.sending == 0 }
            let sentBy = await env.alertsByRecipient().count
            try await Task.sleep(for: .milliseconds(800))
            #expect(await env.alertsByRecipient().count == sentBy)      // nothing more after expiry
            #expect(sentBy < numbers.count && sentBy > 0)
            let final = try await env.status(id)
            #expect(final.counts.skipped + final.counts.sent + final.counts.unknown == numbers.count)
            #expect(s.texts.isEmpty)
        }
    }

    @Test func stopDuringABroadcastStopsHerCopy() async throws {
        try await withLantern(sendRate: 10) { env in
            let numbers = try await seed(env, 30)
            // Fan-out and sending go in contact-key order; pick whoever would be last.
            let keys = numbers.map { (env.db.vault.contactKey(for: $0).hex, $0) }.sorted { $0.0 < $1.0 }
            let last = keys.last!.1
            let id = try await env.broadcast(#"{"text": "Going round.", "areas": ["BS5"], "confirmed": true}"#)["id"] as! Int
            try await env.text("STOP", from: last.e164)
            let done = try await env.waitForBroadcast(id) { $0.status == .completed }
            let got = await env.alertsByRecipient()
            #expect(got[last.e164] == nil)
            #expect(got.count == numbers.count - 1)
            #expect(done.counts.skipped == 1)
            // She still got the STOP confirmation (a reply, not an alert).
            let replies = await env.fake.requests().filter { $0.form["To"] == last.e164 }
            #expect(replies.count == 1 && replies[0].form["Body"]?.hasPrefix("OK, you won't get any more texts") == true)
        }
    }

    @Test func rateLimitedSendsAreRetriedNotDuplicated() async throws {
        try await withLantern { env in
            let numbers = try await seed(env, 25)
            await env.fake.script(Array(repeating: .status(429, body: #"{"code":20429}"#), count: 6) + [.status(503), .status(500)])
            let id = try await env.broadcast(#"{"text": "Busy provider.", "areas": ["BS5"], "confirmed": true}"#)["id"] as! Int
            let done = try await env.waitForBroadcast(id) { $0.status == .completed }
            #expect(done.counts.sent == numbers.count)
            let got = await env.alertsByRecipient()
            #expect(got.count == numbers.count && got.values.allSatisfy { $0 == 1 })
        }
    }

    /// Nothing gets between her and the steps: with 5,000 alerts queued at 1 a second, an
    /// emergency text's reply is sent next, not after the alerts. Its words are nowhere at rest.
    @Test func anEmergencyReplyJumpsARunningBroadcast() async throws {
        let canary = "canary\(UUID().uuidString.prefix(6).lowercased())"
        try await withLantern(sendRate: 1, canaries: [canary]) { env in
            try await Seed.subscribers(5_000, areas: "BS5", database: env.db, provider: "twilio")
            let id = try await env.broadcast(#"{"text": "Going round.", "areas": ["BS5"], "confirmed": true}"#)["id"] as! Int
            _ = try await env.waitForBroadcast(id) { $0.counts.sent >= 2 }
            let mum = "+447700900150"
            try await env.text("\(canary) shes not breathing", from: mum)
            let queuedAhead = await env.fake.requests().count
            _ = await env.fake.waitForRequests(queuedAhead + 2)
            let sends = await env.fake.requests()
            let first = try #require(sends.firstIndex { $0.form["To"] == mum }, "no reply to the emergency text")
            // At most one alert was already on its way when she texted; hers is the next one out.
            #expect(first <= queuedAhead + 1, "the reply was send number \(first + 1), after \(queuedAhead) already sent")
            #expect(sends[first].form["Body"]?.hasPrefix("Call 999 now") == true)
            let status = try await env.status(id)
            #expect(status.counts.sent < 100, "the broadcast should still be running")
        }
    }

    @Test func aReplyToAnAlertGetsWhatSheCanDoNotTheMenu() async throws {
        try await withLantern { env in
            try await env.subscribe("+447700900141", "BS5")
            let id = try await env.broadcast(#"{"text": "Strong batch going round BS5.", "areas": ["BS5"], "confirmed": true}"#)["id"] as! Int
            _ = try await env.waitForBroadcast(id) { $0.status == .completed }
            let before = await env.fake.requests().count
            try await env.text("is it in the brown?", from: "+447700900141")
            try await env.text("is it in the brown?", from: "+447700900142")   // never got an alert
            let replies = await env.fake.waitForRequests(before + 2).dropFirst(before)
            let hers = replies.first { $0.form["To"] == "+447700900141" }?.form["Body"] ?? ""
            let theirs = replies.first { $0.form["To"] == "+447700900142" }?.form["Body"] ?? ""
            #expect(hers.hasPrefix("Thanks. Seen it, or know more? Text REPORT"), "\(hers)")
            #expect(theirs.hasPrefix("Sorry, I didn't get that"), "\(theirs)")
            // Keywords still work as ever after an alert.
            try await env.text("my alerts", from: "+447700900141")
            let next = await env.fake.waitForRequests(before + 3).last?.form["Body"] ?? ""
            #expect(next.hasPrefix("You get alerts for BS5"), "\(next)")
        }
    }

    @Test func previewCountsEachPersonUnderTheWordsSheWillGet() async throws {
        try await withLantern { env in
            try await env.subscribe("+447700900151", "BS5")          // the service's default: discreet
            try await env.subscribe("+447700900152", "BS5")
            try await env.text("PLAIN", from: "+447700900152")              // asked for plain words
            try await env.settled()
            let both = #"{"texts": {"en-GB": "Strong heroin in BS5.", "en-GB~discreet": "Strong batch in BS5."}, "areas": ["BS5"], "confirmed": true}"#
            let preview = try await env.api("POST", "/admin/broadcasts/preview", json: both, token: env.coordinator)
            #expect(preview.status == 200, "\(preview.body)")
            let json = try JSONSerialization.jsonObject(with: Data(preview.body.utf8)) as! [String: Any]
            let messages = json["messages"] as! [[String: Any]]
            let counts = Dictionary(uniqueKeysWithValues: messages.map { ($0["locale"] as! String, $0["recipients"] as! Int) })
            #expect(counts == ["en-GB": 1, "en-GB~discreet": 1], "\(counts)")
            #expect((json["warnings"] as? [String])?.isEmpty == true)
            // Plain words only: the preview warns, and sending is refused.
            let plainOnly = #"{"text": "Strong heroin in BS5.", "areas": ["BS5"], "confirmed": true}"#
            let warned = try await env.api("POST", "/admin/broadcasts/preview", json: plainOnly, token: env.coordinator)
            #expect(warned.body.contains("lock screens"), "\(warned.body)")
            #expect(try await env.api("POST", "/admin/broadcasts", json: plainOnly, token: env.coordinator).status == 422)
            // Sent with both: each gets her own words.
            let id = try await env.broadcast(both)["id"] as! Int
            _ = try await env.waitForBroadcast(id) { $0.status == .completed }
            let bodies = Dictionary(uniqueKeysWithValues: await env.fake.requests().filter { $0.form["Body"]?.hasPrefix("Confirmed:") == true }
                .map { ($0.form["To"]!, $0.form["Body"]!) })
            #expect(bodies["+447700900151"]?.contains("Strong batch") == true && bodies["+447700900152"]?.contains("heroin") == true, "\(bodies)")
        }
    }
}

/// What coordinators and subscribers do around an alert.
extension LanternHarness {
    /// Texts ALERTS <area> then YES, and waits for the confirmation to go out.
    func subscribe(_ from: String, _ area: String) async throws {
        let before = await fake.requests().count
        try await text("alerts \(area)", from: from)
        try await text("yes", from: from)
        await fake.waitForRequests(before + 2)
    }

    func broadcast(_ json: String, token: String? = nil) async throws -> [String: Any] {
        let r = try await api("POST", "/admin/broadcasts", json: json, token: token ?? coordinator)
        #expect(r.status == 201, "\(r.body)")
        return try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: Any]
    }

    func status(_ id: Int) async throws -> BroadcastSummary {
        let r = try await api("GET", "/admin/broadcasts/\(id)", token: coordinator)
        return try AdminJSON.decoder.decode(BroadcastSummary.self, from: Data(r.body.utf8))
    }

    func waitForBroadcast(_ id: Int, timeout: Duration = .seconds(15), until: (BroadcastSummary) -> Bool) async throws -> BroadcastSummary {
        let clock = ContinuousClock(), deadline = clock.now.advanced(by: timeout)
        var last = try await status(id)
        while clock.now < deadline && !until(last) {
            try await Task.sleep(for: .milliseconds(50))
            last = try await status(id)
        }
        #expect(until(last), "broadcast \(id) stuck: \(last)")
        return last
    }

    /// Alert texts (not replies) the fake received, by recipient.
    func alertsByRecipient() async -> [String: Int] {
        var out: [String: Int] = [:]
        for r in await fake.requests() where r.wasAccepted && r.form["Body"]?.contains("Reply STOP to end") == true {
            out[r.form["To"] ?? "?", default: 0] += 1
        }
        return out
    }
}
