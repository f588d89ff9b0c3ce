import Foundation
import LanternCore
import Logging

/// Settings for one Twilio account and number.
public struct TwilioConfiguration: Sendable {
    public var accountSID: String
    public var authToken: String
    /// The number to send from when a text has no number of ours to reply from.
    public var fromNumber: String?
    public var messagingServiceSID: String?
    /// `https://api.twilio.com` in production; a loopback fake in tests.
    public var apiBaseURL: URL
    /// The public URL Twilio calls us on, e.g. `https://sms.example.org` (signatures are over it).
    public var publicBaseURL: URL?
    /// Only ever false when an operator explicitly turned it off (and is warned loudly).
    public var verifySignatures: Bool
    public var requestTimeout: TimeInterval

    public init(accountSID: String, authToken: String, fromNumber: String? = nil, messagingServiceSID: String? = nil,
                apiBaseURL: URL = URL(string: "https://api.twilio.com")!, publicBaseURL: URL?, verifySignatures: Bool = true,
                requestTimeout: TimeInterval = 15) {
        self.accountSID = accountSID
        self.authToken = authToken
        self.fromNumber = fromNumber
        self.messagingServiceSID = messagingServiceSID
        self.apiBaseURL = apiBaseURL
        self.publicBaseURL = publicBaseURL
        self.verifySignatures = verifySignatures
        self.requestTimeout = requestTimeout
    }
}

/// Twilio Programmable Messaging: form-encoded (or JSON) webhooks signed with the auth token,
/// and sends through `Messages.json`.
public struct Twilio: SMSProvider {
    public let name = "twilio"
    public let configuration: TwilioConfiguration
    let transport: any HTTPTransport

    /// Twilio has no idempotency key for creating a message: a timed-out send is never blindly retried.
    public var sendsAreIdempotent: Bool { false }
    public var receivesWebhooks: Bool { true }
    public var acknowledgement: WebhookAcknowledgement {
        WebhookAcknowledgement(contentType: "text/xml", body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>")
    }

    /// Error codes that mean the recipient has opted out of this sender.
    public static let optedOutErrorCodes: Set<String> = ["21610"]

    /// Key and URL variants for the signature check, prepared once.
    let verifier: TwilioSignature.Verifier?

    public init(configuration: TwilioConfiguration, transport: any HTTPTransport) {
        self.configuration = configuration
        self.transport = transport
        self.verifier = configuration.publicBaseURL.map {
            TwilioSignature.Verifier(publicBaseURL: $0.absoluteString.trimmingSuffix("/"), authToken: configuration.authToken)
        }
    }

    // MARK: Webhooks

    /// Verifies and returns the parameters of a webhook, whatever its content type.
    func verifiedParameters(_ request: WebhookRequest) throws(WebhookRejection) -> [(name: String, value: String)] {
        let isJSON: Bool
        switch request.contentType {
        case "application/x-www-form-urlencoded": isJSON = false
        case "application/json": isJSON = true
        case let other:
            throw .unsupportedMediaType("expected application/x-www-form-urlencoded or application/json, got \(other ?? "no content type")")
        }
        // The body is parsed once; the signature is checked over exactly these parameters.
        let params: [(name: String, value: String)]
        if isJSON {
            guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] else {
                throw .malformed("body is not a JSON object")
            }
            params = object.compactMap { k, v in
                if let s = v as? String { return (k, s) }
                if let n = v as? NSNumber { return (k, n.stringValue) }
                return nil
            }
        } else {
            guard let form = FormEncoding.decode(request.body) else { throw .malformed("body is not valid form encoding") }
            params = form
        }
        if configuration.verifySignatures {
            guard let signature = request.headers["x-twilio-signature"], !signature.isEmpty else {
                throw .forbidden("missing X-Twilio-Signature")
            }
            guard let base = configuration.publicBaseURL, let verifier else {
                throw .forbidden("signature cannot be checked: LANTERN_PUBLIC_URL is not set")
            }
            let valid = isJSON
                ? TwilioSignature.isValidJSON(signature: signature, url: base.absoluteString.trimmingSuffix("/") + request.uri,
                                              body: request.body, authToken: configuration.authToken)
                : verifier.isValid(signature: signature, uri: request.uri, params: params)
            guard valid else { throw .forbidden("X-Twilio-Signature does not match") }
        }
        return params
    }

    public func inboundMessage(from request: WebhookRequest) throws(WebhookRejection) -> InboundMessage {
        let params = try verifiedParameters(request)
        func field(_ name: String) -> String? { params.first(where: { $0.name == name })?.value }
        guard let sid = field("MessageSid") ?? field("SmsMessageSid") ?? field("SmsSid") else { throw .malformed("missing MessageSid") }
        try checkParameters(params)
        guard let rawFrom = field("From") else { throw .malformed("missing From") }
        guard let from = PhoneNumber(rawFrom) else {
            throw .ignored("sender is not a phone number we can reply to")
        }
        // The signature stays the same when a request is re-split, so it is deduplicated too.
        return InboundMessage(provider: name, messageID: sid, from: from, to: field("To"), text: field("Body") ?? "",
                              replayKeys: request.headers["x-twilio-signature"].map { ["signature:" + $0] } ?? [])
    }

    /// Twilio signs names and values joined without separators, so a captured request can be
    /// re-split (`MessageSid=SM…NumMedia0`) and keep its signature. Every parameter whose shape
    /// Twilio documents must have it; a parameter may appear once.
    func checkParameters(_ params: [(name: String, value: String)]) throws(WebhookRejection) {
        var seen = Set<String>()
        for (name, value) in params {
            guard seen.insert(name).inserted else { throw .malformed("parameter \(name) appears twice") }
            guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) }) else {
                throw .malformed("unexpected parameter name")
            }
            let ok: Bool
            switch name {
            case "MessageSid", "SmsMessageSid", "SmsSid": ok = Self.isSID(value, prefixes: ["SM", "MM"])
            case "AccountSid": ok = Self.isSID(value, prefixes: ["AC"]) && (!configuration.verifySignatures || value == configuration.accountSID)
            case "MessagingServiceSid": ok = Self.isSID(value, prefixes: ["MG"])
            case "NumMedia", "NumSegments", "ReferralNumMedia": ok = !value.isEmpty && value.count <= 3 && value.allSatisfy { $0.isASCII && $0.isNumber }
            case "ApiVersion": ok = value == "2010-04-01"
            default: ok = true
            }
            guard ok else { throw .malformed("parameter \(name) does not have the form Twilio gives it") }
        }
    }

    /// `SM` + 32 hex digits and the like.
    static func isSID(_ value: String, prefixes: Set<String>) -> Bool {
        value.utf8.count == 34 && prefixes.contains(String(value.prefix(2)))
            && value.utf8.dropFirst(2).allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }
    }

    public func deliveryReport(from request: WebhookRequest) throws(WebhookRejection) -> DeliveryReport {
        let params = try verifiedParameters(request)
        func field(_ name: String) -> String? { params.first(where: { $0.name == name })?.value }
        guard let sid = field("MessageSid") ?? field("SmsSid"), !sid.isEmpty else { throw .malformed("missing MessageSid") }
        let status = field("MessageStatus") ?? field("SmsStatus") ?? ""
        let errorCode = field("ErrorCode").flatMap { $0.isEmpty || $0 == "0" ? nil : $0 }
        let outboxID = request.query.flatMap(FormEncoding.decode)?.first(where: { $0.name == "ref" }).flatMap { Int64($0.value) }
        return DeliveryReport(messageID: sid, outboxID: outboxID, state: Self.deliveryState(status), errorCode: errorCode,
                              optedOut: errorCode.map(Self.optedOutErrorCodes.contains) ?? false)
    }

    static func deliveryState(_ status: String) -> DeliveryState? {
        switch status.lowercased() {
        case "sent", "accepted", "scheduled", "queued", "sending": .sent
        case "delivered", "read": .delivered
        case "failed", "undelivered", "canceled": .failed
        default: nil
        }
    }

    // MARK: Erasure

    /// Twilio keeps every message's number and body until deleted
    /// (`DELETE /2010-04-01/Accounts/{sid}/Messages/{sid}.json`). Finds hers by number, both
    /// ways, plus the ids Lantern still knew, and deletes each; any failure means "again later".
    public func eraseMessages(of number: PhoneNumber, knownIDs: [String]) async -> ErasureOutcome {
        var sids = Set(knownIDs)
        for filter in ["To", "From"] {
            var next: String? = "2010-04-01/Accounts/\(configuration.accountSID)/Messages.json?" + FormEncoding.encode([(filter, number.e164), ("PageSize", "1000")])
            var pages = 0
            while let page = next, pages < 50 {
                pages += 1
                guard let url = URL(string: configuration.apiBaseURL.absoluteString.trimmingSuffix("/") + "/" + (page.hasPrefix("/") ? String(page.dropFirst()) : page)) else { break }
                let response: HTTPResponseData
                do { response = try await transport.send(authorized("GET", url)) } catch { return .retry(reason: "listing messages: \(error)") }
                guard response.status == 200, let json = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] else {
                    return .retry(reason: "listing messages: HTTP \(response.status)")
                }
                for message in json["messages"] as? [[String: Any]] ?? [] { if let sid = message["sid"] as? String { sids.insert(sid) } }
                next = (json["next_page_uri"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            }
        }
        var deleted = 0
        for sid in sids.sorted() where Self.isSID(sid, prefixes: ["SM", "MM"]) {
            let url = configuration.apiBaseURL.appendingPathComponent("2010-04-01/Accounts/\(configuration.accountSID)/Messages/\(sid).json")
            let response: HTTPResponseData
            do { response = try await transport.send(authorized("DELETE", url)) } catch { return .retry(reason: "deleting a message: \(error)") }
            switch response.status {
            case 204, 200: deleted += 1
            case 404: break   // already gone
            default: return .retry(reason: "deleting a message: HTTP \(response.status)")   // e.g. still being sent
            }
        }
        return .done(deleted: deleted)
    }

    func authorized(_ method: String, _ url: URL) -> HTTPRequestSpec {
        let credentials = Data("\(configuration.accountSID):\(configuration.authToken)".utf8).base64EncodedString()
        return HTTPRequestSpec(method: method, url: url, headers: [("Authorization", "Basic \(credentials)"), ("Accept", "application/json")],
                               timeout: configuration.requestTimeout)
    }

    // MARK: Sending

    func sendRequest(_ message: OutboundSMS) -> HTTPRequestSpec {
        var form: [(String, String)] = [("To", message.to.e164)]
        if let service = configuration.messagingServiceSID {
            form.append(("MessagingServiceSid", service))
        } else if let from = message.from ?? configuration.fromNumber {
            form.append(("From", from))
        }
        form.append(("Body", message.text))
        if let base = configuration.publicBaseURL {
            form.append(("StatusCallback", base.absoluteString.trimmingSuffix("/") + "/webhooks/twilio/status?ref=\(message.outboxID)"))
        }
        let url = configuration.apiBaseURL.appendingPathComponent("2010-04-01/Accounts/\(configuration.accountSID)/Messages.json")
        let credentials = Data("\(configuration.accountSID):\(configuration.authToken)".utf8).base64EncodedString()
        return HTTPRequestSpec(method: "POST", url: url,
                               headers: [("Authorization", "Basic \(credentials)"),
                                         ("Content-Type", "application/x-www-form-urlencoded"),
                                         ("Accept", "application/json")],
                               body: Data(FormEncoding.encode(form).utf8), timeout: configuration.requestTimeout)
    }

    public func send(_ message: OutboundSMS) async -> SendOutcome {
        // Twilio's error code is "code" (older answers: "error_code"); the rest is every provider's rule.
        switch await SendResponse.exchange(transport, sendRequest(message)) {
        case .failure(let f): return f.outcome
        case .success(let response):
            let json = try? JSONBody(Array(response.body))
            return SendResponse.outcome(response, messageID: json?.string("sid"), errorCode: json?.string("code") ?? json?.string("error_code"),
                                        optedOutCodes: Self.optedOutErrorCodes, credentialsHint: "TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN")
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

/// Never prints the auth token (or our number), whoever interpolates a configuration.
extension TwilioConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "TwilioConfiguration(account: \(accountSID.prefix(6))…, api: \(apiBaseURL), signatures: \(verifySignatures ? "checked" : "NOT CHECKED"))"
    }
    public var debugDescription: String { description }
}

extension Twilio: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "Twilio(\(configuration))" }
    public var debugDescription: String { description }
}
