import Foundation
import LanternCore

/// The provider used when no SMS account is configured: replies are printed, with the number
/// masked, so the whole system can be tried without an account or a phone. Its webhook
/// (`POST /webhooks/console` with `From` and `Body`) lets you text it with curl.
public struct ConsoleProvider: SMSProvider {
    public let name = "console"
    public var sendsAreIdempotent: Bool { true }
    public var receivesWebhooks: Bool { true }
    public var acknowledgement: WebhookAcknowledgement { WebhookAcknowledgement(contentType: "text/plain", body: "ok\n") }
    let write: @Sendable (String) -> Void

    /// Writes unbuffered, so replies show at once even when stdout is a file or a pipe.
    public static let standardOutput: @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }

    public init(write: @escaping @Sendable (String) -> Void = ConsoleProvider.standardOutput) {
        self.write = write
    }

    public func inboundMessage(from request: WebhookRequest) throws(WebhookRejection) -> InboundMessage {
        guard request.contentType == "application/x-www-form-urlencoded" else {
            throw .unsupportedMediaType("expected application/x-www-form-urlencoded")
        }
        guard let params = FormEncoding.decode(request.body) else { throw .malformed("body is not valid form encoding") }
        func field(_ name: String) -> String? { params.first(where: { $0.name == name })?.value }
        guard let raw = field("From"), let from = PhoneNumber(raw) else { throw .malformed("From must be a phone number") }
        let id = field("MessageSid") ?? UUID().uuidString
        return InboundMessage(provider: name, messageID: id, from: from, to: field("To"), text: field("Body") ?? "")
    }

    public func deliveryReport(from request: WebhookRequest) throws(WebhookRejection) -> DeliveryReport {
        throw .malformed("the console provider sends no delivery reports")
    }

    public func send(_ message: OutboundSMS) async -> SendOutcome {
        write("[console] to \(message.to.masked):\n\(message.text)\n")
        return .accepted(providerMessageID: "console-\(message.outboxID)")
    }
}
