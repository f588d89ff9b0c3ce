import Foundation
import LanternCore
import LanternProviders

/// A provider that accepts every send and remembers it (no HTTP): for tests of the outbox
/// sender's own rules (pacing, the country guard) rather than of a provider.
public struct RecordingProvider: SMSProvider {
    /// What was sent, in order: the provider, our number it went from, and to whom.
    public actor Log {
        public struct Send: Sendable, Equatable {
            public let provider: String
            public let from: String?
            public let to: String
            /// `provider|from`, as the outbox names a route.
            public var route: String { provider + "|" + (from ?? "") }
        }
        public private(set) var sends: [Send] = []
        public init() {}
        func add(_ s: Send) { sends.append(s) }
        public var numbers: [String] { sends.map(\.to) }
        public func count(route: String) -> Int { sends.filter { $0.route == route }.count }
    }

    public let name: String
    public let sendsAreIdempotent = false
    public let receivesWebhooks = true
    public let acknowledgement = WebhookAcknowledgement(contentType: "text/plain", body: "")
    public let log: Log

    public init(name: String = "twilio", log: Log) {
        self.name = name
        self.log = log
    }

    public func inboundMessage(from request: WebhookRequest) throws(WebhookRejection) -> InboundMessage { throw .ignored("") }
    public func deliveryReport(from request: WebhookRequest) throws(WebhookRejection) -> DeliveryReport { throw .ignored("") }
    public func send(_ message: OutboundSMS) async -> SendOutcome {
        await log.add(Log.Send(provider: name, from: message.from, to: message.to.e164))
        return .accepted(providerMessageID: "SM\(message.outboxID)")
    }
}
