import Crypto
import Foundation
import LanternCore
import LanternProviders
import LanternServer

/// One signed webhook, ready to send over loopback.
public struct SignedWebhook: Sendable {
    public let method: String
    public let path: String
    public let headers: [String: String]
    public let body: String

    public init(method: String, path: String, headers: [String: String], body: String) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}

/// Everything a provider-agnostic test needs to play one provider: its configuration against a
/// fake send API, webhooks signed with its real algorithm, and how to read what it was sent.
public enum ProviderHarness: String, Sendable, CaseIterable, CustomStringConvertible {
    case twilio, vonage, vonageMessages = "vonage-messages", telnyx, plivo, sinch, messagebird

    public var description: String { rawValue }
    /// The route name (`/webhooks/<name>`).
    public var name: String { self == .vonageMessages ? "vonage" : rawValue }
    public static let publicBase = "https://sms.example.org"
    public static let ours = "+447700900999"
    /// Long enough for every signing scheme (HS256 needs 32 bytes).
    static let secret = "harness-secret-0123456789-harness-secret-0123456789"
    /// Telnyx's published test key pair (fixed, so a benchmark's server child and its load
    /// generator agree on it).
    static let telnyxKey = try! Curve25519.Signing.PrivateKey(
        rawRepresentation: Data(base64Encoded: "p68GNpDl9oAQohBiK0MEOFIjxnoFnz0uGGeJqxQ5PSb7sT30NeKJBe9x41ficebctubmao9Zp3lGEOva5+4KKQ==")!.prefix(32))

    public func configure(_ c: inout LanternConfiguration, fakeAPI: URL) {
        let base = URL(string: Self.publicBase)!
        c.providers.twilio = nil
        switch self {
        case .twilio:
            c.providers.twilio = TwilioConfiguration(accountSID: "AC00000000000000000000000000000000", authToken: Self.secret, fromNumber: Self.ours,
                                           apiBaseURL: fakeAPI, publicBaseURL: base)
        case .vonage, .vonageMessages:
            c.providers.vonage = VonageConfiguration(apiKey: "key", apiSecret: "api-secret", signatureSecret: Self.secret, fromNumber: Self.ours,
                                                     apiBaseURL: fakeAPI, publicBaseURL: base)
        case .telnyx:
            c.providers.telnyx = TelnyxConfiguration(apiKey: "KEY0123", publicKey: Self.telnyxKey.publicKey.rawRepresentation.base64EncodedString(),
                                                     fromNumber: Self.ours, apiBaseURL: fakeAPI, publicBaseURL: base)
        case .plivo:
            c.providers.plivo = PlivoConfiguration(authID: "MA0123", authToken: Self.secret, fromNumber: Self.ours, apiBaseURL: fakeAPI, publicBaseURL: base)
        case .sinch:
            c.providers.sinch = SinchConfiguration(servicePlanID: "plan1", apiToken: "token1", webhookSecret: Self.secret, fromNumber: Self.ours,
                                                   apiBaseURL: fakeAPI, publicBaseURL: base)
        case .messagebird:
            c.providers.messageBird = MessageBirdConfiguration(accessKey: "live_key", signingKey: Self.secret, originator: Self.ours,
                                                               apiBaseURL: fakeAPI, publicBaseURL: base)
        }
    }

    /// This provider's adapter on its own (no server), for parser tests and benchmarks.
    public func adapter(fakeAPI: URL = URL(string: "http://127.0.0.1:9")!, now: @escaping @Sendable () -> Date = { Date() }) -> any SMSProvider {
        var c = LanternConfiguration()
        configure(&c, fakeAPI: fakeAPI)
        let t = URLSessionTransport()
        switch self {
        case .twilio: return Twilio(configuration: c.providers.twilio!, transport: t)
        case .vonage, .vonageMessages: return Vonage(configuration: c.providers.vonage!, transport: t, now: now)
        case .telnyx: return Telnyx(configuration: c.providers.telnyx!, transport: t, now: now)
        case .plivo: return Plivo(configuration: c.providers.plivo!, transport: t, now: now)
        case .sinch: return Sinch(configuration: c.providers.sinch!, transport: t, now: now)
        case .messagebird: return MessageBird(configuration: c.providers.messageBird!, transport: t, now: now)
        }
    }

    /// The provider's message id for the `n`th send the fake accepted.
    public func messageID(_ n: Int) -> String {
        self == .twilio ? "SM" + String(format: "%032d", n) : "\(rawValue)-msg-\(n)"
    }

    /// The fake send API's "accepted" answer, in this provider's shape.
    public var acceptance: FakeSMSAPI.Acceptance {
        let id: @Sendable (Int) -> String = { n in self.messageID(n) }
        switch self {
        case .twilio: return FakeSMSAPI.twilioAcceptance
        case .vonage, .vonageMessages: return { n in (200, #"{"message-count":"1","messages":[{"to":"447700900123","message-id":"\#(id(n))","status":"0"}]}"#) }
        case .telnyx: return { n in (200, #"{"data":{"id":"\#(id(n))","to":[{"status":"queued"}]}}"#) }
        case .plivo: return { n in (202, #"{"api_id":"a","message":"message(s) queued","message_uuid":["\#(id(n))"]}"#) }
        case .sinch: return { n in (201, #"{"id":"\#(id(n))"}"#) }
        case .messagebird: return { n in (201, #"{"id":"\#(id(n))","recipients":{"items":[{"status":"sent"}]}}"#) }
        }
    }

    /// Who a recorded send went to (E.164) and what it said.
    public func sent(_ r: FakeSMSAPI.Recorded) -> (to: String, text: String) {
        func plus(_ s: String?) -> String { guard let s else { return "" }; return s.hasPrefix("+") ? s : "+" + s }
        switch self {
        case .twilio: return (r.form["To"] ?? "", r.form["Body"] ?? "")
        case .vonage, .vonageMessages: return (plus(r.form["to"]), r.form["text"] ?? "")
        case .telnyx: return (r.json["to"] ?? "", r.json["text"] ?? "")
        case .plivo: return (plus(r.json["dst"]), r.json["text"] ?? "")
        case .sinch: return (plus(r.json["to"]), r.json["body"] ?? "")
        case .messagebird: return (plus(r.json["recipients"]), r.json["body"] ?? "")
        }
    }

    /// Whether a recorded send carried this provider's credentials the way its API wants them.
    public func isAuthenticated(_ r: FakeSMSAPI.Recorded) -> Bool {
        let auth = r.headers["authorization"] ?? ""
        switch self {
        case .twilio: return auth == "Basic " + Data("AC00000000000000000000000000000000:\(Self.secret)".utf8).base64EncodedString()
        case .vonage, .vonageMessages: return r.form["api_key"] == "key" && r.form["api_secret"] == "api-secret"
        case .telnyx: return auth == "Bearer KEY0123" && r.headers["idempotency-key"] != nil
        case .plivo: return auth == "Basic " + Data("MA0123:\(Self.secret)".utf8).base64EncodedString() && r.path == "/v1/Account/MA0123/Message/"
        case .sinch: return auth == "Bearer token1" && r.path == "/xms/v1/plan1/batches"
        case .messagebird: return auth == "AccessKey live_key"
        }
    }

    // MARK: Signed webhooks

    public func inbound(id: String, from: String, to: String = ProviderHarness.ours, text: String, now: Date = Date()) -> SignedWebhook {
        let ts = String(Int(now.timeIntervalSince1970))
        let digits = { (s: String) in s.hasPrefix("+") ? String(s.dropFirst()) : s }
        switch self {
        case .twilio:
            let s = TwilioWebhookBuilder(publicBaseURL: Self.publicBase, authToken: Self.secret).inbound(sid: id, from: from, to: to, body: text)
            return SignedWebhook(method: "POST", path: s.path, headers: s.headers, body: s.body)
        case .vonage:
            var p: [(name: String, value: String)] = [("msisdn", digits(from)), ("to", digits(to)), ("messageId", id), ("text", text),
                                                      ("type", "text"), ("keyword", "X"), ("message-timestamp", "2026-01-01 00:00:00"),
                                                      ("timestamp", ts), ("nonce", UUID().uuidString)]
            p.append(("sig", VonageSignature.sign(p, secret: Self.secret, method: .sha256)))
            return SignedWebhook(method: "POST", path: "/webhooks/vonage", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                 body: FormEncoding.encode(p.map { ($0.name, $0.value) }))
        case .vonageMessages:
            let body = json(["message_uuid": id, "from": digits(from), "to": digits(to), "text": text, "channel": "sms",
                             "message_type": "text", "timestamp": "2026-01-01T00:00:00Z"])
            return SignedWebhook(method: "POST", path: "/webhooks/vonage",
                                 headers: ["Content-Type": "application/json",
                                           "Authorization": "Bearer " + Self.jwt(["iat": Int(now.timeIntervalSince1970), "api_key": "key",
                                                                                  "payload_hash": WebhookCrypto.sha256Hex(Data(body.utf8))])],
                                 body: body)
        case .telnyx:
            let body = json(["data": ["event_type": "message.received", "id": "ev-\(id)",
                                      "payload": ["id": id, "direction": "inbound", "type": "SMS", "text": text,
                                                  "from": ["phone_number": from], "to": [["phone_number": to]]]]])
            return telnyxSigned(path: "/webhooks/telnyx", body: body, ts: ts)
        case .plivo:
            let params: [(name: String, value: String)] = [("From", digits(from)), ("To", digits(to)), ("Text", text), ("Type", "sms"),
                                                           ("MessageUUID", id), ("Units", "1")]
            return plivoSigned(path: "/webhooks/plivo", params: params)
        case .sinch:
            let body = json(["type": "mo_text", "id": id, "from": digits(from), "to": digits(to), "body": text,
                             "received_at": "2026-01-01T00:00:00Z"])
            return sinchSigned(path: "/webhooks/sinch", body: body, ts: ts)
        case .messagebird:
            let params = [("id", id), ("originator", digits(from)), ("recipient", digits(to)), ("body", text), ("createdDatetime", "2026-01-01T00:00:00Z")]
            return messageBirdSigned(method: "POST", path: "/webhooks/messagebird", body: FormEncoding.encode(params),
                                     contentType: "application/x-www-form-urlencoded", now: now)
        }
    }

    /// A delivery report for a text we sent: delivered, or failed because she opted out.
    public func status(messageID: String, outboxID: Int64, delivered: Bool, optedOut: Bool = false, now: Date = Date()) -> SignedWebhook {
        let ts = String(Int(now.timeIntervalSince1970))
        switch self {
        case .twilio:
            let s = TwilioWebhookBuilder(publicBaseURL: Self.publicBase, authToken: Self.secret)
                .status(sid: messageID, status: delivered ? "delivered" : "undelivered", errorCode: optedOut ? "21610" : nil, outboxID: outboxID)
            return SignedWebhook(method: "POST", path: s.path, headers: s.headers, body: s.body)
        case .vonage:
            var p: [(name: String, value: String)] = [("msisdn", "447700900123"), ("to", "447700900999"), ("messageId", messageID),
                                                      ("status", delivered ? "delivered" : "failed"), ("err-code", optedOut ? "9" : "0"),
                                                      ("client-ref", "\(outboxID)"), ("timestamp", ts)]
            p.append(("sig", VonageSignature.sign(p, secret: Self.secret, method: .sha256)))
            return SignedWebhook(method: "GET", path: "/webhooks/vonage/status?" + FormEncoding.encode(p.map { ($0.name, $0.value) }),
                                 headers: [:], body: "")
        case .vonageMessages:
            let body = json(["message_uuid": messageID, "status": delivered ? "delivered" : "rejected", "client_ref": "\(outboxID)",
                             "timestamp": "2026-01-01T00:00:00Z"])
            return SignedWebhook(method: "POST", path: "/webhooks/vonage/status",
                                 headers: ["Content-Type": "application/json",
                                           "Authorization": "Bearer " + Self.jwt(["iat": Int(now.timeIntervalSince1970),
                                                                                  "payload_hash": WebhookCrypto.sha256Hex(Data(body.utf8))])],
                                 body: body)
        case .telnyx:
            var payload: [String: Any] = ["id": messageID, "to": [["status": delivered ? "delivered" : "delivery_failed"]]]
            if optedOut { payload["errors"] = [["code": "40300", "title": "Blocked due to STOP message"]] }
            let body = json(["data": ["event_type": "message.finalized", "id": "ev-\(messageID)", "payload": payload]])
            return telnyxSigned(path: "/webhooks/telnyx/status?ref=\(outboxID)", body: body, ts: ts)
        case .plivo:
            var params: [(name: String, value: String)] = [("MessageUUID", messageID), ("Status", delivered ? "delivered" : "failed")]
            if optedOut { params.append(("ErrorCode", "200")) }
            return plivoSigned(path: "/webhooks/plivo/status?ref=\(outboxID)", params: params)
        case .sinch:
            let body = json(["type": "recipient_delivery_report_sms", "batch_id": messageID, "recipient": "447700900123",
                             "status": delivered ? "Delivered" : (optedOut ? "Deleted" : "Failed"), "code": delivered ? 0 : 402,
                             "client_reference": "\(outboxID)", "at": "2026-01-01T00:00:00Z"])
            return sinchSigned(path: "/webhooks/sinch/status", body: body, ts: ts)
        case .messagebird:
            let query = FormEncoding.encode([("id", messageID), ("reference", "\(outboxID)"), ("recipient", "447700900123"),
                                             ("status", delivered ? "delivered" : "delivery_failed"), ("statusDatetime", "2026-01-01T00:00:00Z")])
            return messageBirdSigned(method: "GET", path: "/webhooks/messagebird/status?" + query, body: "", contentType: nil, now: now)
        }
    }

    /// The same webhook with its signature taken away (Vonage's SMS API signs with a `sig`
    /// parameter; everyone else with headers).
    public func unsigned(_ w: SignedWebhook) -> SignedWebhook {
        if self == .vonage {
            let strip = { (s: String) in FormEncoding.encode((FormEncoding.decode(s) ?? []).filter { $0.name != "sig" }.map { ($0.name, $0.value) }) }
            let parts = w.path.split(separator: "?", maxSplits: 1)
            let path = parts.count > 1 ? "\(parts[0])?" + strip(String(parts[1])) : w.path
            return SignedWebhook(method: w.method, path: path, headers: w.headers, body: w.body.isEmpty ? "" : strip(w.body))
        }
        return SignedWebhook(method: w.method, path: w.path, headers: w.headers.filter { $0.key.lowercased() == "content-type" }, body: w.body)
    }

    /// Whether this provider reports opt-outs through delivery reports (MessageBird does not).
    public var reportsOptOuts: Bool { self != .messagebird && self != .vonageMessages }

    // MARK: Signing helpers

    func json(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func jwt(_ claims: [String: Any], alg: String = "HS256") -> String {
        let header = WebhookCrypto.base64URLEncode(Data(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8))
        let payload = WebhookCrypto.base64URLEncode(try! JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]))
        let sig = WebhookCrypto.hmacSHA256(key: Data(secret.utf8), Data("\(header).\(payload)".utf8))
        return "\(header).\(payload).\(WebhookCrypto.base64URLEncode(sig))"
    }

    func telnyxSigned(path: String, body: String, ts: String) -> SignedWebhook {
        let sig = try! Self.telnyxKey.signature(for: Data("\(ts)|\(body)".utf8)).base64EncodedString()
        return SignedWebhook(method: "POST", path: path,
                             headers: ["Content-Type": "application/json", "telnyx-signature-ed25519": sig, "telnyx-timestamp": ts], body: body)
    }

    func plivoSigned(path: String, params: [(name: String, value: String)]) -> SignedWebhook {
        let nonce = UUID().uuidString
        let sig = PlivoSignature.v3(method: "POST", url: Self.publicBase + path, params: params, nonce: nonce, authToken: Self.secret)
        return SignedWebhook(method: "POST", path: path,
                             headers: ["Content-Type": "application/x-www-form-urlencoded", "X-Plivo-Signature-V3": sig,
                                       "X-Plivo-Signature-V3-Nonce": nonce],
                             body: FormEncoding.encode(params.map { ($0.name, $0.value) }))
    }

    func sinchSigned(path: String, body: String, ts: String) -> SignedWebhook {
        let nonce = UUID().uuidString
        return SignedWebhook(method: "POST", path: path,
                             headers: ["Content-Type": "application/json",
                                       "x-sinch-webhook-signature": Sinch.signature(body: Array(body.utf8), nonce: nonce, timestamp: ts, secret: Self.secret),
                                       "x-sinch-webhook-signature-nonce": nonce, "x-sinch-webhook-signature-timestamp": ts,
                                       "x-sinch-webhook-signature-algorithm": "HmacSHA256"],
                             body: body)
    }

    func messageBirdSigned(method: String, path: String, body: String, contentType: String?, now: Date) -> SignedWebhook {
        var claims: [String: Any] = ["iss": "MessageBird", "nbf": Int(now.timeIntervalSince1970), "exp": Int(now.timeIntervalSince1970) + 60,
                                     "jti": UUID().uuidString, "url_hash": WebhookCrypto.sha256Hex(Data((Self.publicBase + path).utf8))]
        if !body.isEmpty { claims["payload_hash"] = WebhookCrypto.sha256Hex(Data(body.utf8)) }
        var headers = ["MessageBird-Signature-JWT": Self.jwt(claims)]
        if let contentType { headers["Content-Type"] = contentType }
        return SignedWebhook(method: method, path: path, headers: headers, body: body)
    }
}

extension TestHTTPClient {
    public func send(_ base: URL, _ w: SignedWebhook) async throws -> Response {
        try await request(w.method, URL(string: base.absoluteString + w.path)!, headers: w.headers, body: w.body.isEmpty ? nil : w.body)
    }
}
