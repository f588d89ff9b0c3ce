import Crypto
import Foundation
import LanternCore

/// Settings for a Telnyx messaging profile.
public struct TelnyxConfiguration: Sendable {
    public var apiKey: String
    /// The account's webhook public key (Base64, 32 bytes) from the Mission Control portal.
    public var publicKey: String
    public var fromNumber: String?
    public var messagingProfileID: String?
    public var apiBaseURL: URL
    public var publicBaseURL: URL?
    public var verifySignatures: Bool
    public var requestTimeout: TimeInterval
    /// Webhooks older or newer than this are refused (Telnyx's own SDKs use 300 s).
    public var tolerance: TimeInterval

    public init(apiKey: String, publicKey: String, fromNumber: String? = nil, messagingProfileID: String? = nil,
                apiBaseURL: URL = URL(string: "https://api.telnyx.com")!, publicBaseURL: URL? = nil,
                verifySignatures: Bool = true, requestTimeout: TimeInterval = 15, tolerance: TimeInterval = 300) {
        self.apiKey = apiKey
        self.publicKey = publicKey
        self.fromNumber = fromNumber
        self.messagingProfileID = messagingProfileID
        self.apiBaseURL = apiBaseURL
        self.publicBaseURL = publicBaseURL
        self.verifySignatures = verifySignatures
        self.requestTimeout = requestTimeout
        self.tolerance = tolerance
    }
}

/// Telnyx API v2: JSON webhooks signed with Ed25519 over `timestamp|body`, sends through
/// `/v2/messages` with an `Idempotency-Key`, so a send that timed out can safely be retried.
public struct Telnyx: SMSProvider {
    public let name = "telnyx"
    public let configuration: TelnyxConfiguration
    let transport: any HTTPTransport
    let now: @Sendable () -> Date
    /// Parsed once: decoding the key per webhook cost as much as half the verification.
    let publicKey: Curve25519.Signing.PublicKey?

    public var sendsAreIdempotent: Bool { true }
    public var receivesWebhooks: Bool { true }
    public var acknowledgement: WebhookAcknowledgement { WebhookAcknowledgement(contentType: "application/json", body: "{}") }

    /// 40300: "Blocked due to STOP message".
    public static let optedOutErrorCodes: Set<String> = ["40300"]

    public init(configuration: TelnyxConfiguration, transport: any HTTPTransport, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.transport = transport
        self.now = now
        self.publicKey = Data(base64Encoded: configuration.publicKey).flatMap { try? Curve25519.Signing.PublicKey(rawRepresentation: $0) }
    }

    /// Ed25519 over `"{timestamp}|{raw body}"`, within the tolerance of our clock.
    public static func isValid(signature: String, timestamp: String, body: [UInt8], publicKey: String, now: Date,
                               tolerance: TimeInterval = 300) -> Bool {
        guard let keyData = Data(base64Encoded: publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyData) else {
            return false
        }
        return isValid(signature: signature, timestamp: timestamp, body: body, key: key, now: now, tolerance: tolerance)
    }

    static func isValid(signature: String, timestamp: String, body: [UInt8], key: Curve25519.Signing.PublicKey, now: Date,
                        tolerance: TimeInterval) -> Bool {
        guard let ts = TimeInterval(timestamp), abs(now.timeIntervalSince1970 - ts) <= tolerance,
              let sig = Data(base64Encoded: signature), sig.count == 64 else { return false }
        var message = Data((timestamp + "|").utf8)
        message.append(contentsOf: body)
        return key.isValidSignature(sig, for: message)
    }

    func verified(_ request: WebhookRequest) throws(WebhookRejection) -> JSONBody {
        guard request.contentType == "application/json" else {
            throw .unsupportedMediaType("expected application/json, got \(request.contentType ?? "no content type")")
        }
        if configuration.verifySignatures {
            guard let signature = request.header("telnyx-signature-ed25519"), let timestamp = request.header("telnyx-timestamp") else {
                throw .forbidden("missing telnyx-signature-ed25519 or telnyx-timestamp")
            }
            guard let key = publicKey,
                  Self.isValid(signature: signature, timestamp: timestamp, body: request.body, key: key, now: now(), tolerance: configuration.tolerance) else {
                throw .forbidden("telnyx-signature-ed25519 does not match, or the timestamp is stale")
            }
        }
        return try JSONBody(request.body)
    }

    public func inboundMessage(from request: WebhookRequest) throws(WebhookRejection) -> InboundMessage {
        let json = try verified(request)
        // One profile URL can receive every messaging event; only received texts are ours here.
        guard json.string("data.event_type") == "message.received" else { throw .ignored("not an inbound message event") }
        guard let id = json.string("data.payload.id") ?? json.string("data.id"), MessageIDFormat.isPlausible(id) else {
            throw .malformed("missing data.payload.id")
        }
        guard let rawFrom = json.string("data.payload.from.phone_number") else { throw .malformed("missing data.payload.from.phone_number") }
        guard let from = PhoneNumber(international: rawFrom) else { throw .ignored("sender is not a phone number we can reply to") }
        return InboundMessage(provider: name, messageID: id, from: from, to: json.string("data.payload.to.0.phone_number"),
                              text: json.string("data.payload.text") ?? "")
    }

    public func deliveryReport(from request: WebhookRequest) throws(WebhookRejection) -> DeliveryReport {
        let json = try verified(request)
        guard let id = json.string("data.payload.id"), !id.isEmpty else { throw .malformed("missing data.payload.id") }
        let status = json.string("data.payload.to.0.status") ?? ""
        let code = json.string("data.payload.errors.0.code")
        let outboxID = request.query.flatMap(FormEncoding.decode)?.first(where: { $0.name == "ref" }).flatMap { Int64($0.value) }
        return DeliveryReport(messageID: id, outboxID: outboxID, state: Self.deliveryState(status), errorCode: code,
                              optedOut: code.map(Self.optedOutErrorCodes.contains) ?? false)
    }

    static func deliveryState(_ status: String) -> DeliveryState? {
        switch status {
        case "sent", "queued", "sending": .sent
        case "delivered": .delivered
        case "sending_failed", "delivery_failed", "expired": .failed
        default: nil   // delivery_unconfirmed and anything new: not final
        }
    }

    /// The same key for every attempt at one outbox row, so Telnyx sends it at most once.
    static func idempotencyKey(_ message: OutboundSMS) -> String {
        "lantern-\(message.outboxID)-" + WebhookCrypto.sha256Hex(Data((message.to.e164 + "\n" + message.text).utf8)).prefix(24)
    }

    func sendRequest(_ message: OutboundSMS) -> HTTPRequestSpec {
        var body: [String: Any] = ["to": message.to.e164, "text": message.text]
        if let from = message.from ?? configuration.fromNumber {
            body["from"] = from
        }
        if let profile = configuration.messagingProfileID, body["from"] == nil { body["messaging_profile_id"] = profile }
        if let base = configuration.publicBaseURL {
            body["webhook_url"] = base.absoluteString.trimmingSuffix("/") + "/webhooks/telnyx/status?ref=\(message.outboxID)"
        }
        return .postJSON(configuration.apiBaseURL.appendingPathComponent("v2/messages"), body,
                         headers: [("Authorization", "Bearer \(configuration.apiKey)"), ("Accept", "application/json"),
                                   ("Idempotency-Key", Self.idempotencyKey(message))],
                         timeout: configuration.requestTimeout)
    }

    public func send(_ message: OutboundSMS) async -> SendOutcome {
        await SendResponse.sendJSON(transport, sendRequest(message), messageIDPath: "data.id", errorCodePath: "errors.0.code",
                                    optedOutCodes: Self.optedOutErrorCodes, credentialsHint: "TELNYX_API_KEY")
    }
}

extension TelnyxConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "TelnyxConfiguration(api: \(apiBaseURL), signatures: \(verifySignatures ? "checked" : "NOT CHECKED"))"
    }
    public var debugDescription: String { description }
}

extension Telnyx: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "Telnyx(\(configuration))" }
    public var debugDescription: String { description }
}
