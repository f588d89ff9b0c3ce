import Foundation
import LanternCore

/// Settings for a Sinch SMS service plan.
public struct SinchConfiguration: Sendable {
    public var servicePlanID: String
    public var apiToken: String
    /// The callback signing secret Sinch provisions for the service plan.
    public var webhookSecret: String?
    public var fromNumber: String?
    /// `https://eu.sms.api.sinch.com` (or us, au, br, ca).
    public var apiBaseURL: URL
    public var publicBaseURL: URL?
    public var verifySignatures: Bool
    public var requestTimeout: TimeInterval
    public var tolerance: TimeInterval

    public init(servicePlanID: String, apiToken: String, webhookSecret: String?, fromNumber: String? = nil,
                apiBaseURL: URL = URL(string: "https://eu.sms.api.sinch.com")!, publicBaseURL: URL? = nil,
                verifySignatures: Bool = true, requestTimeout: TimeInterval = 15, tolerance: TimeInterval = 300) {
        self.servicePlanID = servicePlanID
        self.apiToken = apiToken
        self.webhookSecret = webhookSecret
        self.fromNumber = fromNumber
        self.apiBaseURL = apiBaseURL
        self.publicBaseURL = publicBaseURL
        self.verifySignatures = verifySignatures
        self.requestTimeout = requestTimeout
        self.tolerance = tolerance
    }
}

/// Sinch SMS REST API: JSON callbacks signed with HMAC-SHA256 over `body.nonce.timestamp`,
/// sends as one-recipient batches.
public struct Sinch: SMSProvider {
    public let name = "sinch"
    public let configuration: SinchConfiguration
    let transport: any HTTPTransport
    let now: @Sendable () -> Date

    public var sendsAreIdempotent: Bool { false }
    public var receivesWebhooks: Bool { true }
    public var acknowledgement: WebhookAcknowledgement { WebhookAcknowledgement(contentType: "application/json", body: "{}") }

    /// Sinch has no opt-out code: status `Deleted` is what it documents for an opted-out
    /// subscriber. Code 413 is "the account is blocked" (e.g. out of credit): ours, not hers.
    public static let optedOutCodes: Set<String> = []
    public static let accountProblemCodes: Set<String> = ["413"]

    public init(configuration: SinchConfiguration, transport: any HTTPTransport, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.transport = transport
        self.now = now
    }

    public static func signature(body: [UInt8], nonce: String, timestamp: String, secret: String) -> String {
        WebhookCrypto.hmacSHA256(key: Data(secret.utf8), Data(body) + Data(".\(nonce).\(timestamp)".utf8)).base64EncodedString()
    }

    func verified(_ request: WebhookRequest) throws(WebhookRejection) -> JSONBody {
        guard request.contentType == "application/json" else {
            throw .unsupportedMediaType("expected application/json, got \(request.contentType ?? "no content type")")
        }
        if configuration.verifySignatures {
            guard let secret = configuration.webhookSecret else { throw .forbidden("signature cannot be checked: SINCH_WEBHOOK_SECRET is not set") }
            guard let signature = request.header("x-sinch-webhook-signature"),
                  let nonce = request.header("x-sinch-webhook-signature-nonce"),
                  let timestamp = request.header("x-sinch-webhook-signature-timestamp") else {
                throw .forbidden("missing x-sinch-webhook-signature headers")
            }
            if let algorithm = request.header("x-sinch-webhook-signature-algorithm"), algorithm.lowercased() != "hmacsha256" {
                throw .forbidden("unsupported signature algorithm \(algorithm)")
            }
            guard let ts = TimeInterval(timestamp), abs(now().timeIntervalSince1970 - ts) <= configuration.tolerance else {
                throw .forbidden("x-sinch-webhook-signature-timestamp is stale")
            }
            guard WebhookCrypto.matches(signature, Self.signature(body: request.body, nonce: nonce, timestamp: timestamp, secret: secret)) else {
                throw .forbidden("x-sinch-webhook-signature does not match")
            }
        }
        return try JSONBody(request.body)
    }

    public func inboundMessage(from request: WebhookRequest) throws(WebhookRejection) -> InboundMessage {
        let json = try verified(request)
        guard json.string("type") == "mo_text" else { throw .ignored("not a text message") }
        guard let id = json.string("id"), MessageIDFormat.isPlausible(id) else { throw .malformed("missing id") }
        guard let rawFrom = json.string("from") else { throw .malformed("missing from") }
        guard let from = PhoneNumber(international: rawFrom) else { throw .ignored("sender is not a phone number we can reply to") }
        let to = json.string("to").map { $0.hasPrefix("+") ? $0 : "+" + $0 }
        return InboundMessage(provider: name, messageID: id, from: from, to: to, text: json.string("body") ?? "")
    }

    public func deliveryReport(from request: WebhookRequest) throws(WebhookRejection) -> DeliveryReport {
        let json = try verified(request)
        guard json.string("type") == "recipient_delivery_report_sms" else { throw .ignored("only per-recipient reports are used") }
        guard let batch = json.string("batch_id"), !batch.isEmpty else { throw .malformed("missing batch_id") }
        let status = json.string("status") ?? ""
        let code = json.string("code")
        let accountProblem = code.map(Self.accountProblemCodes.contains) ?? false
        return DeliveryReport(messageID: batch, outboxID: json.string("client_reference").flatMap { Int64($0) },
                              state: Self.deliveryState(status), errorCode: code == "0" ? nil : code,
                              optedOut: status == "Deleted" && !accountProblem, accountProblem: accountProblem)
    }

    static func deliveryState(_ status: String) -> DeliveryState? {
        switch status {
        case "Dispatched": .sent
        case "Delivered": .delivered
        case "Aborted", "Cancelled", "Rejected", "Deleted", "Failed", "Expired": .failed
        default: nil   // Queued, Unknown
        }
    }

    func sendRequest(_ message: OutboundSMS) -> HTTPRequestSpec {
        var body: [String: Any] = ["to": [message.to.digits], "body": message.text,
                                   "delivery_report": "per_recipient_final", "client_reference": "\(message.outboxID)"]
        if let from = message.from ?? configuration.fromNumber { body["from"] = from.hasPrefix("+") ? String(from.dropFirst()) : from }
        if let base = configuration.publicBaseURL { body["callback_url"] = base.absoluteString.trimmingSuffix("/") + "/webhooks/sinch/status" }
        let url = configuration.apiBaseURL.appendingPathComponent("xms/v1/\(configuration.servicePlanID)/batches")
        return .postJSON(url, body, headers: [("Authorization", "Bearer \(configuration.apiToken)")], timeout: configuration.requestTimeout)
    }

    public func send(_ message: OutboundSMS) async -> SendOutcome {
        await SendResponse.sendJSON(transport, sendRequest(message), messageIDPath: "id", errorCodePath: "code",
                                    optedOutCodes: Self.optedOutCodes, credentialsHint: "SINCH_SERVICE_PLAN_ID / SINCH_API_TOKEN")
    }
}

extension SinchConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "SinchConfiguration(api: \(apiBaseURL), signatures: \(verifySignatures ? "checked" : "NOT CHECKED"))" }
    public var debugDescription: String { description }
}

extension Sinch: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "Sinch(\(configuration))" }
    public var debugDescription: String { description }
}
