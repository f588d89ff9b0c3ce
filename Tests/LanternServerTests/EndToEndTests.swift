import Foundation
import LanternCore
import LanternServer
import LanternStore
import LanternTesting
import Logging
import Testing

/// The daemon on a real loopback port with a real SQLite file, a fake Twilio API that records
/// what it receives, and webhooks signed with Twilio's algorithm (`withRunningLantern`). Every
/// test ends with the harness proving that the bodies and numbers it used are nowhere at rest:
/// not in the database, its WAL, the key file, nor any log line.
@Suite struct EndToEndTests {
    static let her = "+447700900123"
    static let ours = "+447700900999"

    func canary() -> String { "canary-\(UUID().uuidString.prefix(8).lowercased())" }

    @Test func aSignedTextGetsItsReplyThroughTwilio() async throws {
        let secret = canary()
        try await withRunningLantern(canaries: [secret]) { env in
            let r = try await env.post(env.builder.inbound(sid: "SM-first", from: Self.her, to: Self.ours, body: "Naloxone please \(secret)"))
            #expect(r.status == 200)
            #expect(r.headers["content-type"]?.hasPrefix("text/xml") == true)
            #expect(r.body.contains("<Response/>"))
            let sent = await env.fake.waitForRequests(1)
            let form = try #require(sent.first).form
            #expect(form["To"] == Self.her)
            #expect(form["From"] == Self.ours)
            #expect(form["Body"]?.hasPrefix("The spray or jab can bring someone back") == true)   // discreet by default
            #expect(form["StatusCallback"]?.hasPrefix("https://sms.example.org/webhooks/twilio/status?ref=") == true)
            try await env.waitForOutbox("sent") { $0[.sent] == 1 }
            // The reply's own words are cleared once Twilio accepted it.
            try await env.lantern.database.checkpoint()
            #expect(CanaryScan.files(in: env.dir.url, containing: "Naloxone reverses an overdose").isEmpty)
        }
    }

    @Test func theSameMessageSidIsAnsweredOnce() async throws {
        let secret = canary()
        try await withRunningLantern(canaries: [secret]) { env in
            let webhook = env.builder.inbound(sid: "SM-dup", from: Self.her, body: "menu \(secret)")
            for _ in 0..<3 {
                let r = try await env.post(webhook)
                #expect(r.status == 200)
            }
            await env.fake.waitForRequests(1)
            try await env.settled()
            #expect(await env.fake.requests().count == 1)
        }
    }

    @Test func dedupeSurvivesARestart() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let secret = canary()
        let webhook = LanternHarness.twilio.inbound(sid: "SM-restart", from: Self.her, body: "help \(secret)")
        try await withRunningLantern(directory: dir, canaries: [secret]) { env in
            let r = try await env.post(webhook)
            #expect(r.status == 200)
            await env.fake.waitForRequests(1)
        }
        try await withRunningLantern(directory: dir, canaries: [secret]) { env in
            #expect(try await env.post(webhook).status == 200)
            try await env.settled()
            #expect(await env.fake.requests().isEmpty)
        }
    }

    @Test func rateLimitsAndServerErrorsAreRetriedAndSentOnce() async throws {
        try await withRunningLantern { env in
            await env.fake.script([.status(429, body: #"{"code":20429}"#), .status(503)])
            #expect(try await env.post(env.builder.inbound(sid: "SM-429", from: Self.her, body: "menu")).status == 200)
            try await env.waitForOutbox("sent after retries") { $0[.sent] == 1 }
            #expect(await env.fake.requests().count == 3)
            #expect(await env.fake.acceptedCount() == 1)
            try await env.settled()
            #expect(await env.fake.requests().count == 3)
        }
    }

    @Test func aTimedOutSendIsNotResentBlindlyAndItsCallbackSettlesIt() async throws {
        try await withRunningLantern(configure: { $0.providers.twilio?.requestTimeout = 0.5 }) { env in
            await env.fake.script([.hang(.milliseconds(1500))])
            #expect(try await env.post(env.builder.inbound(sid: "SM-hang", from: Self.her, body: "menu")).status == 200)
            try await env.waitForOutbox("unknown") { $0[.unknown] == 1 }
            try await Task.sleep(for: .milliseconds(1500))
            #expect(await env.fake.requests().count == 1)        // never sent twice
            // Twilio did take it: its status callback carries our ref and settles the row.
            let ref = try #require(await env.fake.requests().first?.form["StatusCallback"]?.split(separator: "=").last.flatMap { Int64($0) })
            #expect(try await env.post(env.builder.status(sid: "SM-late", status: "delivered", outboxID: ref)).status == 200)
            try await env.waitForOutbox("delivered") { $0[.delivered] == 1 && $0[.unknown] == nil }
        }
    }

    @Test func forgedAndMissingSignaturesAreRefused() async throws {
        let secret = canary()
        try await withRunningLantern(canaries: [secret]) { env in
            let good = env.builder.inbound(sid: "SM-forged", from: Self.her, body: "menu \(secret)")
            var missing = good.headers
            missing["X-Twilio-Signature"] = nil
            var r = try await env.client.request("POST", env.base.appendingPathComponent("webhooks/twilio"), headers: missing, body: good.body)
            #expect(r.status == 403)
            #expect(r.body.contains("missing X-Twilio-Signature"))
            let wrongToken = TwilioWebhookBuilder(publicBaseURL: "https://sms.example.org", authToken: "guessed").inbound(sid: "SM-f2", from: Self.her, body: "menu \(secret)")
            r = try await env.post(wrongToken)
            #expect(r.status == 403)
            #expect(r.body == "X-Twilio-Signature does not match\n")
            let otherHost = TwilioWebhookBuilder(publicBaseURL: "https://evil.example.com", authToken: LanternHarness.providerSecret).inbound(sid: "SM-f3", from: Self.her, body: "menu")
            #expect(try await env.post(otherHost).status == 403)
            let tampered = TwilioWebhookBuilder.Signed(path: good.path, headers: good.headers, body: good.body.replacingOccurrences(of: "menu", with: "stop"))
            #expect(try await env.post(tampered).status == 403)
            try await env.settled()
            #expect(await env.fake.requests().isEmpty)
            #expect(try await env.lantern.database.contact(for: PhoneNumber(Self.her)!) == nil)
        }
    }

    @Test func badRequestsGetClearFourHundreds() async throws {
        try await withRunningLantern { env in
            let url = env.base.appendingPathComponent("webhooks/twilio")
            var r = try await env.client.request("POST", url, headers: ["Content-Type": "text/plain", "X-Twilio-Signature": "x"], body: "hello")
            #expect(r.status == 415)
            #expect(r.body.contains("expected application/x-www-form-urlencoded"))
            let huge = "Body=" + String(repeating: "a", count: 70_000)
            r = try await env.client.request("POST", url, headers: ["Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"], body: huge)
            #expect(r.status == 413)
            #expect(r.body.contains("body larger than 65536 bytes"))
            let broken = env.builder.sign(path: "/webhooks/twilio", params: [])
            r = try await env.client.request("POST", url, headers: broken.headers, body: "Body=%ZZ")
            #expect(r.status == 400)
            #expect(r.body.contains("not valid form encoding"))
            let unsigned = env.builder.sign(path: "/webhooks/twilio", params: [("From", Self.her), ("Body", "x")])
            r = try await env.post(unsigned)
            #expect(r.status == 400)
            #expect(r.body.contains("missing MessageSid"))
            r = try await env.client.request("POST", env.base.appendingPathComponent("webhooks/nosuchprovider"),
                                             headers: ["Content-Type": "application/x-www-form-urlencoded"], body: "a=b")
            #expect(r.status == 404)
            // The server is still fine afterwards.
            #expect(try await env.client.request("GET", env.base.appendingPathComponent("healthz")).status == 200)
        }
    }

    @Test func optedOutErrorFromTwilioStopsEverything() async throws {
        try await withRunningLantern { env in
            #expect(try await env.post(env.builder.inbound(sid: "SM-a", from: Self.her, body: "menu")).status == 200)
            let sent = await env.fake.waitForRequests(1)
            try await env.waitForOutbox("sent") { $0[.sent] == 1 }
            // The fake numbers its messages SM000…001 onwards.
            let sid = "SM" + String(format: "%032d", 1)
            #expect(sent.count == 1)
            let status = env.builder.status(sid: sid, status: "failed", errorCode: "21610")
            #expect(try await env.post(status).status == 200)
            #expect(try await env.lantern.database.contact(for: PhoneNumber(Self.her)!)?.isOptedOut == true)
            #expect(try await env.post(env.builder.inbound(sid: "SM-b", from: Self.her, body: "menu")).status == 200)
            try await env.settled()
            #expect(await env.fake.requests().count == 1)
            // A forged status callback is refused like any other webhook.
            let forged = TwilioWebhookBuilder(publicBaseURL: "https://sms.example.org", authToken: "nope").status(sid: sid, status: "delivered")
            #expect(try await env.post(forged).status == 403)
        }
    }

    @Test func stopAndForgetOverHTTP() async throws {
        let secret = canary()
        try await withRunningLantern(canaries: [secret]) { env in
            let her = PhoneNumber(Self.her)!
            #expect(try await env.post(env.builder.inbound(sid: "SM-1", from: Self.her, body: "naloxone \(secret)")).status == 200)
            #expect(try await env.post(env.builder.inbound(sid: "SM-2", from: Self.her, body: "STOP")).status == 200)
            var sent = await env.fake.waitForRequests(2)
            #expect(sent.last?.form["Body"]?.hasPrefix("OK, you won't get any more texts") == true)
            #expect(try await env.lantern.database.contact(for: her)?.isOptedOut == true)
            #expect(try await env.post(env.builder.inbound(sid: "SM-3", from: Self.her, body: "FORGET")).status == 200)
            sent = await env.fake.waitForRequests(3)
            #expect(sent.last?.form["To"] == Self.her)
            #expect(sent.last?.form["Body"]?.hasPrefix("Done. We have deleted your number") == true)
            #expect(try await env.lantern.database.contact(for: her) == nil)
            try await env.waitForOutbox("all sent") { $0[.queued] == nil && $0[.sending] == nil }
            try await env.lantern.database.checkpoint()
            let key = env.lantern.database.vault.contactKey(for: her)
            #expect(CanaryScan.files(in: env.dir.url, containing: key.hex).isEmpty, "erased contact key still on disk")
        }
    }

    @Test func healthAndReadiness() async throws {
        try await withRunningLantern { env in
            let health = try await env.client.request("GET", env.base.appendingPathComponent("healthz"))
            #expect(health.status == 200)
            let ready = try await env.client.request("GET", env.base.appendingPathComponent("readyz"))
            #expect(ready.status == 200)
            #expect(ready.body == "ready\n")
        }
    }

    @Test func gracefulShutdownFinishesSendsInFlight() async throws {
        try await withRunningLantern { env in
            await env.fake.setDelay(.milliseconds(800))
            #expect(try await env.post(env.builder.inbound(sid: "SM-drain", from: Self.her, body: "menu")).status == 200)
            await env.fake.waitForRequests(1)
            try await env.lantern.stop()        // as SIGTERM would, while Twilio is still answering
            let counts = try await env.db.outboxCounts()
            #expect(counts[.sent] == 1)
            #expect(counts[.sending] == nil)
        }
    }
}

@Suite struct ReplyOrderTests {
    /// Several quick texts from one person: her replies reach the provider in the order she asked,
    /// even though the sender works on many people at once.
    @Test func repliesToOnePersonKeepTheirOrder() async throws {
        try await withRunningLantern(configure: { $0.maxConcurrentSends = 8 }) { env in
            await env.fake.setDelay(.milliseconds(30))
            // Queue them while the sender is held up, so they are claimed in one batch.
            let bodies = ["help", "privacy", "naloxone", "kit status", "menu"]
            for body in bodies { try await env.text(body, from: "+447700900151") }
            let sent = await env.sent(to: "+447700900151", count: bodies.count)
            let firstWords = sent.map { String($0.prefix(12)) }
            #expect(firstWords == ["A free, priv", "We never kee", "The spray or", "You have no ", "Hi. A free, "], "\(firstWords)")
        }
    }
}
