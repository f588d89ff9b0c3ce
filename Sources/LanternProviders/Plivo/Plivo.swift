import Foundation
import LanternCore

/// Settings for a Plivo account and number.
public struct PlivoConfiguration: Sendable {
    public var authID: String
    public var authToken: String
    public var fromNumber: String?
    public var apiBaseURL: URL
    public var publicBaseURL: URL?
    public var verifySignatures: Bool
    /// V2 signatures cover only the URL and a nonce, not the body: accepted alone only when an
    /// operator says their Plivo application sends nothing newer.
    public var acceptV2Only: Bool = false
    public var requestTimeout: TimeInterval

    public init(authID: String, authToken: String, fromNumber: String? = nil, apiBaseURL: URL = URL(string: "https://api.plivo.com")!,
                publicBaseURL: URL? = nil, verifySignatures: Bool = true, requestTimeout: TimeInterval = 15) {
        self.authID = authID
        self.authToken = authToken
        self.fromNumber = fromNumber
        self.apiBaseURL = apiBaseURL
        self.publicBaseURL = publicBaseURL
        self.verifySignatures = verifySignatures
        self.requestTimeout = requestTimeout
    }
}

/// Plivo: form webhooks signed V3 (preferred) or V2, each nonce accepted once; sends through
/// the Message API.
public struct Plivo: SMSProvider {
    public let name = "plivo"
    public let configuration: PlivoConfiguration
    let transport: any HTTPTransport
    let nonces: NonceCache
    let now: @Sendable () -> Date

    public var sendsAreIdempotent: Bool { false }
    public var receivesWebhooks: Bool { true }
    public var acknowledgement: WebhookAcknowledgement {
        WebhookAcknowledgement(contentType: "application/xml", body: "<Response></Response>")
    }

    /// 200: the destination sent STOP to this source.
    public static let optedOutErrorCodes: Set<String> = ["200"]

    public init(configuration: PlivoConfiguration, transport: any HTTPTransport, nonces: NonceCache = NonceCache(),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.transport = transport
        self.nonces = nonces
        self.now = now
    }

    /// Every nonce a request carries (V3 and V2): each is spent once, whichever signature was checked.
    static func nonces(_ request: WebhookRequest) -> [String] {
        ["x-plivo-signature-v3-nonce", "x-plivo-signature-v2-nonce"].compactMap { request.header($0) }.filter { !$0.isEmpty }
    }

    func verifiedParameters(_ request: WebhookRequest) throws(WebhookRejection) -> [(name: String, value: String)] {
        let params: [(name: String, value: String)]
        if request.method.uppercased() == "GET" {
            params = []
        } else {
            guard request.contentType == "application/x-www-form-urlencoded" else {
                throw .unsupportedMediaType("expected application/x-www-form-urlencoded, got \(request.contentType ?? "no content type")")
            }
            guard let form = FormEncoding.decode(request.body) else { throw .malformed("body is not valid form encoding") }
            params = form
        }
        if configuration.verifySignatures {
            guard let url = request.publicURL(base: configuration.publicBaseURL) else {
                throw .forbidden("signature cannot be checked: LANTERN_PUBLIC_URL is not set")
            }
            let token = configuration.authToken
            if let v3 = request.header("x-plivo-signature-v3"), let nonce = request.header("x-plivo-signature-v3-nonce") {
                let expected = PlivoSignature.v3(method: request.method, url: url, params: params, nonce: nonce, authToken: token)
                // The header may list several signatures (one per auth token of the account).
                guard v3.split(separator: ",").contains(where: { WebhookCrypto.matches($0.trimmingCharacters(in: .whitespaces), expected) }) else {
                    throw .forbidden("X-Plivo-Signature-V3 does not match")
                }
            } else if let v2 = request.header("x-plivo-signature-v2") ?? request.header("x-plivo-signature-ma-v2"),
                      let nonce = request.header("x-plivo-signature-v2-nonce") {
                guard configuration.acceptV2Only else {
                    throw .forbidden("X-Plivo-Signature-V2 alone is not accepted: it does not cover the body (use V3, or set PLIVO_ACCEPT_V2_SIGNATURES=on)")
                }
                guard WebhookCrypto.matches(v2, PlivoSignature.v2(url: url, nonce: nonce, authToken: token)) else {
                    throw .forbidden("X-Plivo-Signature-V2 does not match")
                }
            } else {
                throw .forbidden("missing X-Plivo-Signature-V3 (or -V2) and its nonce")
            }
            // Every nonce seen is spent, also the V2 one beside a V3 signature: otherwise that
            // V2 header, which signs no body, could carry any text later.
            let time = now()
            for nonce in Self.nonces(request) where !nonces.admit(nonce, now: time) {
                throw .forbidden("a signature nonce was already used (replay)")
            }
        }
        return request.method.uppercased() == "GET" ? (request.query.flatMap(FormEncoding.decode) ?? []) : params
    }

    public func inboundMessage(from request: WebhookRequest) throws(WebhookRejection) -> InboundMessage {
        let params = try verifiedParameters(request)
        func field(_ name: String) -> String? { params.first(where: { $0.name == name })?.value }
        guard let id = field("MessageUUID"), MessageIDFormat.isPlausible(id) else { throw .malformed("missing MessageUUID") }
        guard let rawFrom = field("From") else { throw .malformed("missing From") }
        guard let from = PhoneNumber(international: rawFrom) else { throw .ignored("sender is not a phone number we can reply to") }
        let to = field("To").map { $0.hasPrefix("+") ? $0 : "+" + $0 }
        return InboundMessage(provider: name, messageID: id, from: from, to: to, text: field("Text") ?? field("Body") ?? "",
                              replayKeys: Self.nonces(request).map { "nonce:" + $0 })
    }

    public func deliveryReport(from request: WebhookRequest) throws(WebhookRejection) -> DeliveryReport {
        let params = try verifiedParameters(request)
        func field(_ name: String) -> String? { params.first(where: { $0.name == name })?.value }
        guard let id = field("MessageUUID"), !id.isEmpty else { throw .malformed("missing MessageUUID") }
        let code = field("ErrorCode").flatMap { $0.isEmpty || $0 == "0" ? nil : $0 }
        let outboxID = request.query.flatMap(FormEncoding.decode)?.first(where: { $0.name == "ref" }).flatMap { Int64($0.value) }
        return DeliveryReport(messageID: id, outboxID: outboxID, state: Self.deliveryState(field("Status") ?? ""), errorCode: code,
                              optedOut: code.map(Self.optedOutErrorCodes.contains) ?? false)
    }

    static func deliveryState(_ status: String) -> DeliveryState? {
        switch status.lowercased() {
        case "sent", "queued": .sent
        case "delivered", "read": .delivered
        case "failed", "undelivered", "rejected": .failed
        default: nil
        }
    }

    func sendRequest(_ message: OutboundSMS) -> HTTPRequestSpec {
        var body: [String: Any] = ["dst": message.to.digits, "text": message.text]
        if let from = message.from ?? configuration.fromNumber { body["src"] = from.hasPrefix("+") ? String(from.dropFirst()) : from }
        if let base = configuration.publicBaseURL {
            body["url"] = base.absoluteString.trimmingSuffix("/") + "/webhooks/plivo/status?ref=\(message.outboxID)"
            body["method"] = "POST"
        }
        let url = configuration.apiBaseURL.appendingPathComponent("v1/Account/\(configuration.authID)/Message/")
        let credentials = Data("\(configuration.authID):\(configuration.authToken)".utf8).base64EncodedString()
        return .postJSON(url, body, headers: [("Authorization", "Basic \(credentials)")], timeout: configuration.requestTimeout)
    }

    public func send(_ message: OutboundSMS) async -> SendOutcome {
        await SendResponse.sendJSON(transport, sendRequest(message), messageIDPath: "message_uuid.0", errorCodePath: "error_code",
                                    optedOutCodes: Self.optedOutErrorCodes, credentialsHint: "PLIVO_AUTH_ID / PLIVO_AUTH_TOKEN")
    }
}

extension PlivoConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "PlivoConfiguration(auth id: \(authID.prefix(4))…, signatures: \(verifySignatures ? "checked" : "NOT CHECKED"))" }
    public var debugDescription: String { description }
}

extension Plivo: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "Plivo(\(configuration))" }
    public var debugDescription: String { description }
}
