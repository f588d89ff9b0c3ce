import Foundation
import Hummingbird
import LanternProviders
import LanternStore
import Logging
import Metrics

/// `/webhooks/<provider>` and `/webhooks/<provider>/status`. Verifies, dedupes, hands the text
/// to the conversation, and acknowledges at once; replies go out through the outbox.
struct WebhookRoutes: Sendable {
    let providers: [String: any SMSProvider]
    let conversations: ConversationService
    let pauses: ProviderPauses
    let maxBodyBytes: Int
    let now: @Sendable () -> Date
    let logger: Logger

    func register(on router: Router<LanternRequestContext>) {
        router.post("/webhooks/:provider") { request, context in
            try await self.inbound(request, context)
        }
        router.post("/webhooks/:provider/status") { request, context in
            try await self.status(request, context)
        }
        // Vonage's SMS API can call with GET; MessageBird sends delivery reports by GET.
        router.get("/webhooks/:provider") { request, context in
            try await self.inbound(request, context)
        }
        router.get("/webhooks/:provider/status") { request, context in
            try await self.status(request, context)
        }
    }

    /// Reads the raw request (the bytes signatures are computed over), refusing oversized bodies.
    func webhookRequest(_ request: Request, _ context: LanternRequestContext) async throws -> (any SMSProvider, WebhookRequest) {
        guard let name = context.parameters.get("provider"), let provider = providers[name], provider.receivesWebhooks else {
            throw PlainError(.notFound, "no provider is configured at this address")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw PlainError(.contentTooLarge, "body larger than \(maxBodyBytes) bytes")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw PlainError(.contentTooLarge, "body larger than \(maxBodyBytes) bytes")
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        return (provider, WebhookRequest(method: request.method.rawValue, uri: request.head.path ?? "/",
                                         headers: headers, body: Array(buffer: body)))
    }

    /// The one shape of every webhook: read, verify and parse (a rejection becomes its 4xx),
    /// store (a failure becomes 503 so the provider retries), acknowledge.
    func handle<Parsed>(_ request: Request, _ context: LanternRequestContext, kind: String,
                        parse: (any SMSProvider, WebhookRequest) async throws(WebhookRejection) -> Parsed,
                        store: (any SMSProvider, Parsed) async throws -> Void) async throws -> Response {
        let (provider, webhook) = try await webhookRequest(request, context)
        let parsed: Parsed
        do {
            parsed = try await parse(provider, webhook)
        } catch {
            return rejection(error, provider: provider, kind: kind)
        }
        do {
            try await store(provider, parsed)
        } catch {
            // Nothing about the message goes in the log; the provider will retry on 503.
            logger.error("webhook could not be stored", metadata: ["provider": "\(provider.name)", "kind": "\(kind)",
                                                                   "error": "\(type(of: error))"])
            throw PlainError(.serviceUnavailable, "temporarily unable to accept this webhook; please retry")
        }
        return acknowledge(provider)
    }

    func inbound(_ request: Request, _ context: LanternRequestContext) async throws -> Response {
        try await handle(request, context, kind: "inbound") { (provider, webhook) async throws(WebhookRejection) in
            try await provider.inboundMessage(from: webhook)
        } store: { _, message in
            _ = try await conversations.receive(message)
        }
    }

    func status(_ request: Request, _ context: LanternRequestContext) async throws -> Response {
        try await handle(request, context, kind: "status") { (provider, webhook) async throws(WebhookRejection) in
            try await provider.deliveryReport(from: webhook)
        } store: { provider, report in
            if report.accountProblem {
                pauses.pause(provider.name, reason: "a delivery report says the account is blocked or out of credit (code \(report.errorCode ?? "-"))",
                             now: now())
            }
            guard let state = report.state else { return }
            try await conversations.database.recordDelivery(
                provider: provider.name, providerMessageID: report.messageID, outboxID: report.outboxID,
                state: state, errorCode: report.errorCode, optedOut: report.optedOut, now: now())
            Counter(label: "lantern_delivery_reports_total", dimensions: [("provider", provider.name), ("state", state.rawValue)]).increment()
        }
    }

    func acknowledge(_ provider: any SMSProvider) -> Response {
        let ack = provider.acknowledgement
        return Response(status: .ok, headers: [.contentType: ack.contentType],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: ack.body)))
    }

    func rejection(_ error: WebhookRejection, provider: any SMSProvider, kind: String) -> Response {
        let status: HTTPResponse.Status
        switch error {
        case .forbidden: status = .forbidden
        case .unsupportedMediaType: status = .unsupportedMediaType
        case .malformed: status = .badRequest
        case .ignored:
            logger.notice("webhook ignored", metadata: ["provider": "\(provider.name)", "kind": "\(kind)", "reason": "\(error.description)"])
            return acknowledge(provider)
        }
        Counter(label: "lantern_webhooks_rejected_total", dimensions: [("provider", provider.name), ("status", "\(status.code)")]).increment()
        logger.warning("webhook rejected", metadata: ["provider": "\(provider.name)", "kind": "\(kind)",
                                                      "status": "\(status.code)", "reason": "\(error.description)"])
        return PlainError(status, error.description).response
    }
}

/// An error whose message is safe to show a caller: short, plain text, no internals.
struct PlainError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    var response: Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n")))
    }

    func response(from request: Request, context: some RequestContext) throws -> Response { response }
}
