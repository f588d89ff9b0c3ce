import Foundation
import LanternCore

/// Settings for a MessageBird (Bird) account and number.
public struct MessageBirdConfiguration: Sendable {
    public var accessKey: String
    /// The webhook signing key (not the access key).
    public var signingKey: String
    public var originator: String?
    public var apiBaseURL: URL
    public var publicBaseURL: URL?
    public var verifySignatures: Bool
    public var requestTimeout: TimeInterval
    public var tolerance: TimeInterval

    public init(accessKey: String, signingKey: String, originator: String? = nil,
                apiBaseURL: URL = URL(string: "https://rest.messagebird.com")!, publicBaseURL: URL? = nil,
                verifySignatures: Bool = true, requestTimeout: TimeInterval = 15, tolerance: TimeInterval = 300) {
        self.accessKey = accessKey
        self.signingKey = signingKey
        self.originator = originator
        self.apiBaseURL = apiBaseURL
        self.publicBaseURL = publicBaseURL
        self.verifySignatures = verifySignatures
        self.requestTimeout = requestTimeout
        self.tolerance = tolerance
    }
}

/// MessageBird / Bird: webhooks signed with `MessageBird-Signature-JWT` (or the Bird platform's
/// `messagebird-signature` HMAC), inbound by GET or POST, delivery reports by GET; sends through
/// the REST `/messages` endpoint.
public struct MessageBird: SMSProvider {
    public let name = "messagebird"
    public let configuration: MessageBirdConfiguration
    let transport: any HTTPTransport
    let now: @Sendable () -> Date

    public var sendsAreIdempotent: Bool { false }
    public var receivesWebhooks: Bool { true }
    public var acknowledgement: WebhookAcknowledgement { WebhookAcknowledgement(contentType: "text/plain", body: "OK") }

    public init(configuration: MessageBirdConfiguration, transport: any HTTPTransport, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.transport = transport
        self.now = now
    }

    /// Verifies the request and returns its fields, from the query (GET) or the form/JSON body.
    func verifiedFields(_ request: WebhookRequest) async throws(WebhookRejection) -> [String: String] {
        if configuration.verifySignatures {
            guard let url = request.publicURL(base: configuration.publicBaseURL) else {
                throw .forbidden("signature cannot be checked: LANTERN_PUBLIC_URL is not set")
            }
            if let jwt = request.header("messagebird-signature-jwt") {
                do {
                    try await MessageBirdSignature.verifyJWT(jwt, signingKey: configuration.signingKey, url: url, body: request.body, now: now())
                } catch {
                    throw .forbidden("MessageBird-Signature-JWT: \(error.description)")
                }
            } else if let signature = request.header("messagebird-signature"), let timestamp = request.header("messagebird-request-timestamp") {
                guard let ts = TimeInterval(timestamp), abs(now().timeIntervalSince1970 - ts) <= configuration.tolerance else {
                    throw .forbidden("messagebird-request-timestamp is stale")
                }
                let expected = MessageBirdSignature.hmac(timestamp: timestamp, url: url, body: request.body, signingKey: configuration.signingKey)
                guard WebhookCrypto.matches(signature, expected) else { throw .forbidden("messagebird-signature does not match") }
            } else {
                throw .forbidden("missing MessageBird-Signature-JWT")
            }
        }
        var fields: [String: String] = [:]
        for p in request.query.flatMap(FormEncoding.decode) ?? [] { fields[p.name] = p.value }
        if !request.body.isEmpty {
            switch request.contentType {
            case "application/json":
                let json = try JSONBody(request.body)
                for key in ["id", "originator", "recipient", "body", "reference", "status", "statusErrorCode"] {
                    if let v = json.string(key) { fields[key] = v }
                }
            case "application/x-www-form-urlencoded":
                guard let form = FormEncoding.decode(request.body) else { throw .malformed("body is not valid form encoding") }
                for p in form { fields[p.name] = p.value }
            default:
                throw .unsupportedMediaType("expected form or JSON, got \(request.contentType ?? "no content type")")
            }
        }
        return fields
    }

    public func inboundMessage(from request: WebhookRequest) async throws(WebhookRejection) -> InboundMessage {
        let f = try await verifiedFields(request)
        guard let id = f["id"], MessageIDFormat.isPlausible(id) else { throw .malformed("missing id") }
        guard let raw = f["originator"] else { throw .malformed("missing originator") }
        guard let from = PhoneNumber(international: raw) else { throw .ignored("sender is not a phone number we can reply to") }
        return InboundMessage(provider: name, messageID: id, from: from, to: f["recipient"].map { $0.hasPrefix("+") ? $0 : "+" + $0 },
                              text: f["body"] ?? "")
    }

    /// Status reports arrive only for sends that carried a `reference` (we send the outbox id).
    public func deliveryReport(from request: WebhookRequest) async throws(WebhookRejection) -> DeliveryReport {
        let f = try await verifiedFields(request)
        guard let id = f["id"], !id.isEmpty else { throw .malformed("missing id") }
        let code = f["statusErrorCode"].flatMap { $0.isEmpty || $0 == "0" ? nil : $0 }
        return DeliveryReport(messageID: id, outboxID: f["reference"].flatMap { Int64($0) }, state: Self.deliveryState(f["status"] ?? ""),
                              errorCode: code, optedOut: false)
    }

    static func deliveryState(_ status: String) -> DeliveryState? {
        switch status {
        case "sent", "buffered": .sent
        case "delivered": .delivered
        case "expired", "delivery_failed": .failed
        default: nil
        }
    }

    func sendRequest(_ message: OutboundSMS) -> HTTPRequestSpec {
        var body: [String: Any] = ["recipients": [message.to.digits], "body": message.text, "reference": "\(message.outboxID)",
                                   "datacoding": "auto"]
        if let from = message.from ?? configuration.originator { body["originator"] = from }
        if let base = configuration.publicBaseURL { body["reportUrl"] = base.absoluteString.trimmingSuffix("/") + "/webhooks/messagebird/status" }
        return .postJSON(configuration.apiBaseURL.appendingPathComponent("messages"), body,
                         headers: [("Authorization", "AccessKey \(configuration.accessKey)")], timeout: configuration.requestTimeout)
    }

    public func send(_ message: OutboundSMS) async -> SendOutcome {
        await SendResponse.sendJSON(transport, sendRequest(message), messageIDPath: "id", errorCodePath: "errors.0.code",
                                    optedOutCodes: [], credentialsHint: "MESSAGEBIRD_ACCESS_KEY")
    }
}

extension MessageBirdConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "MessageBirdConfiguration(api: \(apiBaseURL), signatures: \(verifySignatures ? "checked" : "NOT CHECKED"))" }
    public var debugDescription: String { description }
}

extension MessageBird: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "MessageBird(\(configuration))" }
    public var debugDescription: String { description }
}
