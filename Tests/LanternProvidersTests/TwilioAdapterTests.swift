import Foundation
import LanternCore
import LanternTesting
import Testing
@testable import LanternProviders

@Suite struct TwilioWebhookTests {
    let builder = TwilioWebhookBuilder(publicBaseURL: "https://sms.example.org", authToken: "secret-token")

    func twilio(verify: Bool = true) -> Twilio {
        Twilio(configuration: TwilioConfiguration(accountSID: "AC00000000000000000000000000000000", authToken: "secret-token", fromNumber: "+447700900999",
                                                  publicBaseURL: URL(string: "https://sms.example.org/")!, verifySignatures: verify),
               transport: URLSessionTransport())
    }

    func request(_ s: TwilioWebhookBuilder.Signed, headers: [String: String]? = nil, body: String? = nil, uri: String? = nil) -> WebhookRequest {
        WebhookRequest(method: "POST", uri: uri ?? s.path, headers: headers ?? s.headers, body: Array((body ?? s.body).utf8))
    }

    @Test func parsesASignedInboundText() async throws {
        let s = builder.inbound(sid: "SM1", from: "+447700900123", to: "+447700900999", body: "Naloxone & more €")
        let m = try await twilio().inboundMessage(from: request(s))
        #expect(m.messageID == TwilioWebhookBuilder.sid("SM1"))
        #expect(m.from.e164 == "+447700900123")
        #expect(m.to == "+447700900999")
        #expect(m.text == "Naloxone & more €")
    }

    @Test func parametersMustHaveTheShapesTwilioGivesThem() async {
        let sid = TwilioWebhookBuilder.sid("SM1")
        func params(_ changes: [(String, String)]) -> [(String, String)] {
            var p: [(String, String)] = [("AccountSid", builder.accountSID), ("Body", "hi"), ("From", "+447700900123"),
                                         ("MessageSid", sid), ("NumMedia", "0")]
            for (name, value) in changes {
                if let i = p.firstIndex(where: { $0.0 == name }) { p[i].1 = value } else { p.append((name, value)) }
            }
            return p
        }
        let good = builder.sign(path: "/webhooks/twilio", params: params([]))
        await #expect(throws: Never.self) { try await twilio().inboundMessage(from: request(good)) }
        for (changes, why) in [([("MessageSid", "SM1")], "MessageSid"), ([("MessageSid", sid + "NumMedia0")], "MessageSid"),
                               ([("AccountSid", "AC11111111111111111111111111111111")], "AccountSid"),
                               ([("NumMedia", "")], "NumMedia"), ([("NumMedia", "0NumSegments1")], "NumMedia")] {
            let signed = builder.sign(path: "/webhooks/twilio", params: params(changes))
            await #expect(throws: WebhookRejection.malformed("parameter \(why) does not have the form Twilio gives it")) {
                try await twilio().inboundMessage(from: request(signed))
            }
        }
        let twice = builder.sign(path: "/webhooks/twilio", params: params([]) + [("Body", "again")])
        await #expect(throws: WebhookRejection.malformed("parameter Body appears twice")) { try await twilio().inboundMessage(from: request(twice)) }
        // The signature itself travels with the message, so a re-split replay is caught even if it parses.
        #expect((try? await twilio().inboundMessage(from: request(good)))?.replayKeys == ["signature:" + good.headers["X-Twilio-Signature"]!])
    }

    @Test func rejectsMissingForgedAndReplayedElsewhereSignatures() async {
        let s = builder.inbound(sid: "SM1", from: "+447700900123", body: "hi")
        var noSig = s.headers
        noSig["X-Twilio-Signature"] = nil
        await #expect(throws: WebhookRejection.forbidden("missing X-Twilio-Signature")) { try await twilio().inboundMessage(from: request(s, headers: noSig)) }
        var forged = s.headers
        forged["X-Twilio-Signature"] = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        await #expect(throws: WebhookRejection.forbidden("X-Twilio-Signature does not match")) { try await twilio().inboundMessage(from: request(s, headers: forged)) }
        // A body changed after signing.
        await #expect(throws: WebhookRejection.forbidden("X-Twilio-Signature does not match")) {
            try await twilio().inboundMessage(from: request(s, body: s.body.replacingOccurrences(of: "Body=hi", with: "Body=STOP")))
        }
        // A valid webhook for another path (the status URL) replayed at the inbound URL.
        await #expect(throws: WebhookRejection.forbidden("X-Twilio-Signature does not match")) {
            try await twilio().inboundMessage(from: request(s, uri: "/webhooks/twilio?x=1"))
        }
    }

    @Test func signatureOffIsExplicitAndStillParses() async throws {
        let s = builder.inbound(sid: "SM1", from: "+447700900123", body: "hi")
        var noSig = s.headers
        noSig["X-Twilio-Signature"] = nil
        #expect(try await twilio(verify: false).inboundMessage(from: request(s, headers: noSig)).text == "hi")
    }

    @Test func rejectsWrongContentTypeAndBrokenBodies() async {
        let s = builder.inbound(sid: "SM1", from: "+447700900123", body: "hi")
        var h = s.headers
        h["Content-Type"] = "text/plain"
        await #expect(throws: WebhookRejection.unsupportedMediaType("expected application/x-www-form-urlencoded or application/json, got text/plain")) {
            try await twilio().inboundMessage(from: request(s, headers: h))
        }
        let broken = builder.sign(path: "/webhooks/twilio", params: [])
        await #expect(throws: WebhookRejection.malformed("body is not valid form encoding")) {
            try await twilio(verify: false).inboundMessage(from: request(broken, body: "Body=%ZZ"))
        }
        let noSid = builder.sign(path: "/webhooks/twilio", params: [("From", "+447700900123"), ("Body", "x")])
        await #expect(throws: WebhookRejection.malformed("missing MessageSid")) { try await twilio().inboundMessage(from: request(noSid)) }
    }

    @Test func alphanumericSendersAreAcknowledgedButIgnored() async {
        let s = builder.inbound(sid: "SM1", from: "Vodafone", body: "Your bill")
        await #expect(throws: WebhookRejection.ignored("sender is not a phone number we can reply to")) { try await twilio().inboundMessage(from: request(s)) }
    }

    @Test func jsonWebhooksAreVerifiedByBodyHash() async throws {
        let body = #"{"MessageSid":"SM99999999999999999999999999999999","From":"+447700900123","To":"+447700900999","Body":"hello"}"#
        let hash = Data(Array(body.utf8)).sha256Hex
        let path = "/webhooks/twilio?bodySHA256=\(hash)"
        let sig = TwilioSignature.compute(url: "https://sms.example.org" + path, params: [], authToken: "secret-token")
        let r = WebhookRequest(method: "POST", uri: path, headers: ["Content-Type": "application/json", "X-Twilio-Signature": sig], body: Array(body.utf8))
        #expect(try await twilio().inboundMessage(from: r).text == "hello")
        let tampered = WebhookRequest(method: "POST", uri: path, headers: r.headers, body: Array(body.replacingOccurrences(of: "hello", with: "STOP").utf8))
        await #expect(throws: WebhookRejection.forbidden("X-Twilio-Signature does not match")) { try await twilio().inboundMessage(from: tampered) }
    }

    @Test func statusCallbacks() async throws {
        let delivered = try await twilio().deliveryReport(from: request(builder.status(sid: "SMa", status: "delivered", outboxID: 42)))
        #expect(delivered == DeliveryReport(messageID: "SMa", outboxID: 42, state: .delivered, errorCode: nil, optedOut: false))
        let stopped = try await twilio().deliveryReport(from: request(builder.status(sid: "SMb", status: "failed", errorCode: "21610")))
        #expect(stopped.state == .failed)
        #expect(stopped.optedOut)
        let undelivered = try await twilio().deliveryReport(from: request(builder.status(sid: "SMc", status: "undelivered", errorCode: "30003")))
        #expect(undelivered.state == .failed && !undelivered.optedOut)
        #expect(try await twilio().deliveryReport(from: request(builder.status(sid: "SMd", status: "sending"))).state == .sent)
    }
}

extension Data {
    var sha256Hex: String {
        // Via the provider's own helper path: compute with CryptoKit-compatible swift-crypto.
        TwilioSignatureTestSupport.sha256Hex(self)
    }
}

import Crypto
enum TwilioSignatureTestSupport {
    static func sha256Hex(_ d: Data) -> String { SHA256.hash(data: d).map { String(format: "%02x", $0) }.joined() }
}

@Suite(.serialized) struct TwilioSendTests {
    func twilio(_ fake: FakeSMSAPI, timeout: TimeInterval = 15) -> Twilio {   // generous: the whole suite runs in parallel on 2 cores
        Twilio(configuration: TwilioConfiguration(accountSID: "AC123", authToken: "tok", fromNumber: "+447700900999",
                                                  apiBaseURL: fake.baseURL, publicBaseURL: URL(string: "https://sms.example.org")!,
                                                  requestTimeout: timeout),
               transport: URLSessionTransport())
    }

    let message = OutboundSMS(outboxID: 7, to: PhoneNumber("+447700900123")!, from: "+447700900456", text: "Hello & welcome €")

    @Test func sendsTheDocumentedRequest() async throws {
        let fake = try await FakeSMSAPI.start()
        defer { Task { await fake.stop() } }
        let outcome = await twilio(fake).send(message)
        guard case .accepted(let sid?) = outcome else { Issue.record("not accepted: \(outcome)"); return }
        #expect(sid.hasPrefix("SM"))
        let r = try #require(await fake.requests().first)
        #expect(r.path == "/2010-04-01/Accounts/AC123/Messages.json")
        #expect(r.headers["authorization"] == "Basic " + Data("AC123:tok".utf8).base64EncodedString())
        #expect(r.form["To"] == "+447700900123")
        #expect(r.form["From"] == "+447700900456")
        #expect(r.form["Body"] == "Hello & welcome €")
        #expect(r.form["StatusCallback"] == "https://sms.example.org/webhooks/twilio/status?ref=7")
        await fake.stop()
    }

    @Test func mapsProviderAnswers() async throws {
        let fake = try await FakeSMSAPI.start()
        await fake.script([
            .status(400, body: #"{"code": 21610, "message": "Attempt to send to unsubscribed recipient"}"#),
            .status(429, body: #"{"code": 20429}"#, retryAfter: "7"),
            .status(503),
            .status(401),
            .status(400, body: #"{"code": 21211}"#),
        ])
        let t = twilio(fake)
        #expect(await t.send(message) == .failed(errorCode: "21610", optedOut: true))
        #expect(await t.send(message) == .retry(reason: "HTTP 429", retryAfter: 7))
        #expect(await t.send(message) == .retry(reason: "HTTP 503", retryAfter: nil))
        if case .suspended(let reason) = await t.send(message) { #expect(reason.contains("TWILIO_AUTH_TOKEN")) } else { Issue.record("401 should pause sending") }
        #expect(await t.send(message) == .failed(errorCode: "21211", optedOut: false))
        await fake.stop()
    }

    @Test func aTimeoutIsAmbiguousAndAClosedPortIsNotSent() async throws {
        let fake = try await FakeSMSAPI.start()
        await fake.script([.hang(.seconds(3))])
        #expect(await { if case .ambiguous = await twilio(fake, timeout: 1).send(message) { true } else { false } }())
        await fake.stop()
        // Nothing listens there (and no other test's server can be given the port meanwhile):
        // the request certainly never arrived.
        let refusing = try RefusingPort()
        let closed = Twilio(configuration: TwilioConfiguration(accountSID: "AC123", authToken: "tok", fromNumber: "+447700900999",
                                                               apiBaseURL: refusing.url, publicBaseURL: nil, requestTimeout: 2),
                            transport: URLSessionTransport())
        let outcome = await closed.send(message)
        #expect({ if case .retry = outcome { true } else { false } }(), "\(outcome)")
        withExtendedLifetime(refusing) {}
    }
}
