import Foundation
import LanternCore
import Synchronization

/// Settings for a Vonage account (SMS API and/or Messages API webhooks; sends through the SMS API).
public struct VonageConfiguration: Sendable {
    public var apiKey: String
    public var apiSecret: String
    /// The signature secret: signs SMS API webhooks (`sig`) and Messages API JWTs.
    public var signatureSecret: String
    public var signatureMethod: VonageSignature.Method
    public var fromNumber: String?
    public var apiBaseURL: URL
    public var publicBaseURL: URL?
    public var verifySignatures: Bool
    public var requestTimeout: TimeInterval
    public var tolerance: TimeInterval

    public init(apiKey: String, apiSecret: String, signatureSecret: String, signatureMethod: VonageSignature.Method = .sha256,
                fromNumber: String? = nil, apiBaseURL: URL = URL(string: "https://rest.nexmo.com")!, publicBaseURL: URL? = nil,
                verifySignatures: Bool = true, requestTimeout: TimeInterval = 15, tolerance: TimeInterval = 300) {
        self.apiKey = apiKey
        self.apiSecret = apiSecret
        self.signatureSecret = signatureSecret
        self.signatureMethod = signatureMethod
        self.fromNumber = fromNumber
        self.apiBaseURL = apiBaseURL
        self.publicBaseURL = publicBaseURL
        self.verifySignatures = verifySignatures
        self.requestTimeout = requestTimeout
        self.tolerance = tolerance
    }
}

/// The parts of long texts that Vonage's SMS API delivers one request per part. Held in memory
/// only (never written anywhere), for a few minutes, until the last part arrives.
public final class ConcatenatedParts: Sendable {
    struct Pending {
        var parts: [Int: String]
        var total: Int
        var firstSeen: Date
    }
    private let pending = Mutex<[String: Pending]>([:])
    let lifetime: TimeInterval

    public init(lifetime: TimeInterval = 300) { self.lifetime = lifetime }

    /// The whole text once every part is in; nil while parts are missing.
    func add(reference: String, part: Int, total: Int, text: String, now: Date) -> String? {
        pending.withLock { pending in
            pending = pending.filter { now.timeIntervalSince($0.value.firstSeen) < lifetime }
            var p = pending[reference] ?? Pending(parts: [:], total: total, firstSeen: now)
            p.parts[part] = text
            guard p.parts.count >= p.total else {
                pending[reference] = p
                return nil
            }
            pending[reference] = nil
            return (1...p.total).map { p.parts[$0] ?? "" }.joined()
        }
    }
}

/// Vonage: SMS API webhooks (GET, form or JSON, with `sig`; long texts in parts) and Messages
/// API webhooks (JSON with a signed JWT bearer), one adapter; sends through the SMS API.
public struct Vonage: SMSProvider {
    public let name = "vonage"
    public let configuration: VonageConfiguration
    let transport: any HTTPTransport
    let parts: ConcatenatedParts
    let now: @Sendable () -> Date

    public var sendsAreIdempotent: Bool { false }
    public var receivesWebhooks: Bool { true }
    public var acknowledgement: WebhookAcknowledgement { WebhookAcknowledgement(contentType: "text/plain", body: "") }

    /// DLR err-code 9: "illegal number", the recipient asked not to receive messages.
    public static let optedOutErrorCodes: Set<String> = ["9"]

    public init(configuration: VonageConfiguration, transport: any HTTPTransport, parts: ConcatenatedParts = ConcatenatedParts(),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.transport = transport
        self.parts = parts
        self.now = now
    }

    /// A webhook's fields, verified: Messages API JSON by its JWT, SMS API by `sig`.
    enum Verified {
        case messagesAPI(JSONBody)
        case smsAPI([String: String])
    }

    func verified(_ request: WebhookRequest) async throws(WebhookRejection) -> Verified {
        if let auth = request.header("authorization"), auth.lowercased().hasPrefix("bearer ") {
            guard request.contentType == "application/json" else { throw .unsupportedMediaType("expected application/json") }
            if configuration.verifySignatures {
                do {
                    try await VonageSignature.verifyJWT(String(auth.dropFirst(7)), secret: configuration.signatureSecret, body: request.body,
                                                  now: now(), tolerance: configuration.tolerance)
                } catch {
                    throw .forbidden("Authorization bearer: \(error.description)")
                }
            }
            return .messagesAPI(try JSONBody(request.body))
        }
        // SMS API: parameters from the query (GET), the form body, or a flat JSON body.
        var params: [(name: String, value: String)] = request.query.flatMap(FormEncoding.decode) ?? []
        if !request.body.isEmpty {
            switch request.contentType {
            case "application/x-www-form-urlencoded":
                guard let form = FormEncoding.decode(request.body) else { throw .malformed("body is not valid form encoding") }
                params += form
            case "application/json":
                guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
                    throw .malformed("body is not a JSON object")
                }
                for (k, v) in object {
                    if let s = v as? String { params.append((k, s)) } else if let n = v as? NSNumber { params.append((k, n.stringValue)) }
                }
            default:
                throw .unsupportedMediaType("expected form or JSON, got \(request.contentType ?? "no content type")")
            }
        }
        if configuration.verifySignatures {
            guard params.contains(where: { $0.name == "sig" }) else {
                throw .forbidden("missing sig (and no Authorization bearer): ask Vonage to enable signed webhooks")
            }
            guard VonageSignature.isValid(params, secret: configuration.signatureSecret, method: configuration.signatureMethod) else {
                throw .forbidden("sig does not match")
            }
            guard let ts = params.first(where: { $0.name == "timestamp" }).flatMap({ TimeInterval($0.value) }),
                  abs(now().timeIntervalSince1970 - ts) <= configuration.tolerance else {
                throw .forbidden("timestamp is missing or stale")
            }
        }
        return .smsAPI(Dictionary(params.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }))
    }

    public func inboundMessage(from request: WebhookRequest) async throws(WebhookRejection) -> InboundMessage {
        switch try await verified(request) {
        case .messagesAPI(let json):
            guard json.string("channel") ?? "sms" == "sms" else { throw .ignored("not an SMS") }
            guard let id = json.string("message_uuid"), MessageIDFormat.isPlausible(id) else { throw .malformed("missing message_uuid") }
            guard let raw = json.string("from") else { throw .malformed("missing from") }
            guard let from = PhoneNumber(international: raw) else { throw .ignored("sender is not a phone number we can reply to") }
            return InboundMessage(provider: name, messageID: id, from: from, to: json.string("to").map { $0.hasPrefix("+") ? $0 : "+" + $0 },
                                  text: json.string("text") ?? "")
        case .smsAPI(let f):
            guard let id = f["messageId"], !id.isEmpty, id.count <= 128 else { throw .malformed("missing messageId") }
            guard let raw = f["msisdn"] else { throw .malformed("missing msisdn") }
            guard let from = PhoneNumber(international: raw) else { throw .ignored("sender is not a phone number we can reply to") }
            var text = f["text"] ?? ""
            var messageID = id
            if f["concat"] == "true", let ref = f["concat-ref"], let part = f["concat-part"].flatMap({ Int($0) }),
               let total = f["concat-total"].flatMap({ Int($0) }), (1...16).contains(total), (1...total).contains(part) {
                // The reference is per sender; the whole text is handled once, when complete.
                guard let whole = parts.add(reference: from.e164 + "/" + ref, part: part, total: total, text: text, now: now()) else {
                    throw .ignored("part of a longer text; waiting for the rest")
                }
                text = whole
                messageID = "concat-\(ref)-" + WebhookCrypto.sha256Hex(Data(from.e164.utf8)).prefix(16)
            }
            return InboundMessage(provider: name, messageID: messageID, from: from, to: f["to"].map { $0.hasPrefix("+") ? $0 : "+" + $0 },
                                  text: text)
        }
    }

    public func deliveryReport(from request: WebhookRequest) async throws(WebhookRejection) -> DeliveryReport {
        switch try await verified(request) {
        case .messagesAPI(let json):
            guard let id = json.string("message_uuid"), !id.isEmpty else { throw .malformed("missing message_uuid") }
            let state: DeliveryState? = switch json.string("status") ?? "" {
            case "submitted": .sent
            case "delivered", "read": .delivered
            case "rejected", "undeliverable": .failed
            default: nil
            }
            let code = json.string("error.type").flatMap { URL(string: $0)?.lastPathComponent } ?? json.string("error.title")
            return DeliveryReport(messageID: id, outboxID: json.string("client_ref").flatMap { Int64($0) }, state: state,
                                  errorCode: code, optedOut: false)
        case .smsAPI(let f):
            guard let id = f["messageId"], !id.isEmpty else { throw .malformed("missing messageId") }
            let code = f["err-code"].flatMap { $0 == "0" || $0.isEmpty ? nil : $0 }
            let state: DeliveryState? = switch f["status"] ?? "" {
            case "accepted", "buffered": .sent
            case "delivered": .delivered
            case "expired", "failed", "rejected": .failed
            default: nil
            }
            return DeliveryReport(messageID: id, outboxID: f["client-ref"].flatMap { Int64($0) }, state: state, errorCode: code,
                                  optedOut: code.map(Self.optedOutErrorCodes.contains) ?? false)
        }
    }

    func sendRequest(_ message: OutboundSMS) -> HTTPRequestSpec {
        var form: [(String, String)] = [("api_key", configuration.apiKey), ("api_secret", configuration.apiSecret),
                                        ("to", message.to.digits), ("text", message.text), ("client-ref", "\(message.outboxID)"),
                                        ("status-report-req", "1")]
        if let from = message.from ?? configuration.fromNumber { form.append(("from", from.hasPrefix("+") ? String(from.dropFirst()) : from)) }
        if SMSSegments.count(message.text).encoding == .ucs2 { form.append(("type", "unicode")) }
        if let base = configuration.publicBaseURL { form.append(("callback", base.absoluteString.trimmingSuffix("/") + "/webhooks/vonage/status")) }
        return HTTPRequestSpec(method: "POST", url: configuration.apiBaseURL.appendingPathComponent("sms/json"),
                               headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                               body: Data(FormEncoding.encode(form).utf8), timeout: configuration.requestTimeout)
    }

    /// Vonage answers 200 even when it refuses: the real outcome is `messages[0].status`
    /// ("0" sent, "1" throttled, others refused).
    public func send(_ message: OutboundSMS) async -> SendOutcome {
        switch await SendResponse.exchange(transport, sendRequest(message)) {
        case .failure(let f): return f.outcome
        case .success(let response):
            let json = try? JSONBody(Array(response.body))
            guard (200..<300).contains(response.status), let status = json?.string("messages.0.status") else {
                return SendResponse.outcome(response, messageID: nil, errorCode: nil, optedOutCodes: [], credentialsHint: "VONAGE_API_KEY / VONAGE_API_SECRET")
            }
            switch status {
            case "0": return .accepted(providerMessageID: json?.string("messages.0.message-id"))
            case "1": return .retry(reason: "Vonage status 1 (throttled)", retryAfter: 1)
            case "4", "9", "14": return .suspended(reason: "Vonage status \(status): the account was refused (check VONAGE_API_KEY / VONAGE_API_SECRET and the account's credit)")
            case "5": return .retry(reason: "Vonage status 5 (internal error)", retryAfter: nil)
            default: return .failed(errorCode: "vonage-\(status)", optedOut: status == "7")
            }
        }
    }
}

extension VonageConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "VonageConfiguration(key: \(apiKey.prefix(4))…, signatures: \(verifySignatures ? signatureMethod.rawValue : "NOT CHECKED"))"
    }
    public var debugDescription: String { description }
}

extension Vonage: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "Vonage(\(configuration))" }
    public var debugDescription: String { description }
}
