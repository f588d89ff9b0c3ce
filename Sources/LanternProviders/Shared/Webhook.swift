import Foundation
import LanternCore

/// A webhook exactly as it arrived: what signatures are computed over. Knows nothing of the
/// HTTP server that received it.
public struct WebhookRequest: Sendable {
    public let method: String
    /// Path and query as received (still percent-encoded), e.g. `/webhooks/twilio?x=1`.
    public let uri: String
    /// Header names lower-cased.
    public let headers: [String: String]
    public let body: [UInt8]

    public init(method: String, uri: String, headers: [String: String], body: [UInt8]) {
        self.method = method
        self.uri = uri
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.body = body
    }

    public var contentType: String? {
        // An empty or ";"-only header has no media type (found by fuzzing: indexing [0] crashed).
        headers["content-type"].map { value in
            let media = value.utf8.prefix { $0 != UInt8(ascii: ";") }
            let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            let trimmed = media.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
            return String(decoding: trimmed, as: UTF8.self).lowercased()
        }
    }

    /// The query string without the leading `?`, or nil.
    public var query: String? {
        guard let q = uri.firstIndex(of: "?") else { return nil }
        return String(uri[uri.index(after: q)...])
    }
}

/// Why a webhook was not processed. Each maps to a status code and a short message that
/// reveals nothing about the service's secrets or the message.
public enum WebhookRejection: Error, Equatable, CustomStringConvertible {
    /// Signature missing or wrong: 403.
    case forbidden(String)
    /// Not a content type this provider sends: 415.
    case unsupportedMediaType(String)
    /// Unparseable or missing fields: 400.
    case malformed(String)
    /// Valid, but nothing to do (e.g. a sender that is not a phone number): acknowledged with 2xx.
    case ignored(String)

    public var description: String {
        switch self {
        case .forbidden(let m), .unsupportedMediaType(let m), .malformed(let m), .ignored(let m): m
        }
    }
}

/// One text someone sent us. `text` lives only in memory, for the length of one request.
public struct InboundMessage: Sendable {
    public let provider: String
    public let messageID: String
    public let from: PhoneNumber
    public let to: String?
    public let text: String
    /// What only this exact request carries and a replay would repeat while changing the
    /// message id: Twilio's signature (it joins names and values without separators), Plivo's
    /// nonces (V2 signs no body). Deduplicated like the message id, across restarts.
    public let replayKeys: [String]

    public init(provider: String, messageID: String, from: PhoneNumber, to: String?, text: String, replayKeys: [String] = []) {
        self.provider = provider
        self.messageID = messageID
        self.from = from
        self.to = to
        self.text = text
        self.replayKeys = replayKeys
    }
}

/// What a provider's message id may look like: short, plain characters. Anything else is a
/// forgery or a re-split replay, refused before it reaches deduplication.
public enum MessageIDFormat {
    public static func isPlausible(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count)
            && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
    }
}

/// A provider's news about a text we sent.
public struct DeliveryReport: Sendable, Equatable {
    public let messageID: String
    /// Our outbox id, when we gave the provider one (settles sends whose outcome was unknown).
    public let outboxID: Int64?
    /// nil for intermediate states we don't track (queued, sending…).
    public let state: DeliveryState?
    public let errorCode: String?
    /// The provider says the recipient has opted out (Twilio 21610…).
    public let optedOut: Bool
    /// The provider says our account cannot send (blocked, out of credit): not her choice, so
    /// never an opt-out; sending through this provider pauses and the operator is told.
    public let accountProblem: Bool

    public init(messageID: String, outboxID: Int64?, state: DeliveryState?, errorCode: String?, optedOut: Bool, accountProblem: Bool = false) {
        self.messageID = messageID
        self.outboxID = outboxID
        self.state = state
        self.errorCode = errorCode
        self.optedOut = optedOut
        self.accountProblem = accountProblem
    }
}

/// What the provider wants back from a webhook (Twilio: an empty TwiML `<Response/>`).
public struct WebhookAcknowledgement: Sendable {
    public let contentType: String
    public let body: String
    public init(contentType: String, body: String) { self.contentType = contentType; self.body = body }
}

/// A text to send.
public struct OutboundSMS: Sendable {
    public let outboxID: Int64
    public let to: PhoneNumber
    /// Our number to send from (the one she texted), or nil for the provider's default sender.
    public let from: String?
    public let text: String

    public init(outboxID: Int64, to: PhoneNumber, from: String?, text: String) {
        self.outboxID = outboxID
        self.to = to
        self.from = from
        self.text = text
    }
}

/// How a send attempt ended, in the terms the outbox needs to decide what happens next.
public enum SendOutcome: Sendable, Equatable {
    case accepted(providerMessageID: String?)
    /// Temporary (429, 5xx, connection refused): safe to try again, after `retryAfter` if given.
    case retry(reason: String, retryAfter: TimeInterval?)
    /// Permanent: the provider will never take this one.
    case failed(errorCode: String, optedOut: Bool)
    /// It may or may not have been taken (timeout after sending) and resending is not safe.
    case ambiguous(reason: String)
    /// The account cannot send anything now (credentials refused, blocked, out of credit): the
    /// text waits, sending through this provider pauses, and the operator is alerted.
    case suspended(reason: String)
}

/// How an attempt to delete someone's messages at the provider ended.
public enum ErasureOutcome: Sendable, Equatable {
    case done(deleted: Int)
    /// Try again later (rate limit, outage, messages still in flight).
    case retry(reason: String)
    /// The provider offers no way to delete messages: its own retention settings apply.
    case unsupported
}

/// One SMS provider: parses and verifies its webhooks, and sends through its API.
/// Nothing outside an adapter knows which provider is in use.
public protocol SMSProvider: Sendable {
    /// Lower-case name, used in routes (`/webhooks/<name>`), the outbox and logs.
    var name: String { get }
    /// Whether a send that timed out can be retried without risk of a duplicate (idempotency key).
    var sendsAreIdempotent: Bool { get }
    /// Whether this provider receives webhooks at all (the console provider does not).
    var receivesWebhooks: Bool { get }
    var acknowledgement: WebhookAcknowledgement { get }
    /// Verifies the signature, then parses. Never returns an unverified message unless
    /// verification was explicitly turned off. (Async because jwt-kit's verification is.)
    func inboundMessage(from request: WebhookRequest) async throws(WebhookRejection) -> InboundMessage
    func deliveryReport(from request: WebhookRequest) async throws(WebhookRejection) -> DeliveryReport
    func send(_ message: OutboundSMS) async -> SendOutcome
    /// Deletes, at the provider, the messages to and from `number` (and those with `knownIDs`),
    /// after she erased herself: their records lead back to her number.
    func eraseMessages(of number: PhoneNumber, knownIDs: [String]) async -> ErasureOutcome
}

extension SMSProvider {
    public func eraseMessages(of number: PhoneNumber, knownIDs: [String]) async -> ErasureOutcome { .unsupported }
}
