import Foundation
import LanternCore
import LanternTesting
import Testing
@testable import LanternProviders

/// Plivo sends V3 and V2 signatures side by side; V2 covers only the URL and a nonce.
@Suite struct PlivoReplayTests {
    static let token = "plivo-token"
    static let url = "https://sms.example.org/webhooks/plivo"

    func plivo(acceptV2Only: Bool = false, nonces: NonceCache = NonceCache()) -> Plivo {
        var c = PlivoConfiguration(authID: "MA0123", authToken: Self.token, fromNumber: "+447700900999",
                                   publicBaseURL: URL(string: "https://sms.example.org")!)
        c.acceptV2Only = acceptV2Only
        return Plivo(configuration: c, transport: URLSessionTransport(), nonces: nonces)
    }

    func params(_ id: String, _ text: String) -> [(name: String, value: String)] {
        [("From", "447700900123"), ("To", "447700900999"), ("Text", text), ("Type", "sms"), ("MessageUUID", id)]
    }

    /// As Plivo sends it: both signatures, each with its own nonce.
    func both(_ params: [(name: String, value: String)], v3Nonce: String = UUID().uuidString, v2Nonce: String = UUID().uuidString) -> WebhookRequest {
        WebhookRequest(method: "POST", uri: "/webhooks/plivo", headers: [
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Plivo-Signature-V3": PlivoSignature.v3(method: "POST", url: Self.url, params: params, nonce: v3Nonce, authToken: Self.token),
            "X-Plivo-Signature-V3-Nonce": v3Nonce,
            "X-Plivo-Signature-V2": PlivoSignature.v2(url: Self.url, nonce: v2Nonce, authToken: Self.token),
            "X-Plivo-Signature-V2-Nonce": v2Nonce,
        ], body: Array(FormEncoding.encode(params.map { ($0.name, $0.value) }).utf8))
    }

    func v2Only(_ from: WebhookRequest, body params: [(name: String, value: String)]) -> WebhookRequest {
        WebhookRequest(method: "POST", uri: from.uri, headers: [
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Plivo-Signature-V2": from.headers["x-plivo-signature-v2"]!, "X-Plivo-Signature-V2-Nonce": from.headers["x-plivo-signature-v2-nonce"]!,
        ], body: Array(FormEncoding.encode(params.map { ($0.name, $0.value) }).utf8))
    }

    @Test func aLeakedV2HeaderCannotCarryAnotherText() async throws {
        let plivo = plivo()
        let genuine = both(params("3a1b2c3d-0000-4000-8000-000000000001", "ALERTS BS5"))
        let message = try await plivo.inboundMessage(from: genuine)
        #expect(message.text == "ALERTS BS5")
        #expect(message.replayKeys.count == 2)   // both nonces are kept for dedupe across restarts
        // The captured V2 header on a body of the attacker's choosing.
        let injected = v2Only(genuine, body: params("3a1b2c3d-0000-4000-8000-000000000002", "STOP"))
        await #expect(throws: WebhookRejection.self) { try await plivo.inboundMessage(from: injected) }
        // Even where V2 alone is allowed, its nonce was spent by the genuine request.
        let lenient = self.plivo(acceptV2Only: true, nonces: plivo.nonces)
        await #expect(throws: WebhookRejection.forbidden("a signature nonce was already used (replay)")) { try await lenient.inboundMessage(from: injected) }
    }

    @Test func v2AloneIsRefusedUnlessConfiguredAndThenEachNonceOnce() async throws {
        let fresh = both(params("3a1b2c3d-0000-4000-8000-000000000003", "HELP"))
        let v2 = v2Only(fresh, body: params("3a1b2c3d-0000-4000-8000-000000000003", "HELP"))
        await #expect {
            try await plivo().inboundMessage(from: v2)
        } throws: { error in
            "\(error)".contains("PLIVO_ACCEPT_V2_SIGNATURES")
        }
        let lenient = plivo(acceptV2Only: true)
        #expect(try await lenient.inboundMessage(from: v2).text == "HELP")
        await #expect(throws: WebhookRejection.self) { try await lenient.inboundMessage(from: v2) }
    }
}

@Suite struct SinchAccountCodesTests {
    @Test func code413IsTheAccountNotAnOptOut() async throws {
        let sinch = Sinch(configuration: SinchConfiguration(servicePlanID: "plan1", apiToken: "t", webhookSecret: "s", fromNumber: "+447700900999"),
                          transport: URLSessionTransport())
        func report(status: String, code: Int) async throws -> DeliveryReport {
            let body = #"{"type":"recipient_delivery_report_sms","batch_id":"01JHFFHQ0P99JPPNQPJDV7JTBP","recipient":"447700900123","status":"\#(status)","code":\#(code),"client_reference":"7","at":"2026-01-01T00:00:00Z"}"#
            let nonce = "n\(code)\(status)", ts = "\(Int(Date().timeIntervalSince1970))"
            return try await sinch.deliveryReport(from: WebhookRequest(method: "POST", uri: "/webhooks/sinch/status", headers: [
                "Content-Type": "application/json", "x-sinch-webhook-signature": Sinch.signature(body: Array(body.utf8), nonce: nonce, timestamp: ts, secret: "s"),
                "x-sinch-webhook-signature-nonce": nonce, "x-sinch-webhook-signature-timestamp": ts, "x-sinch-webhook-signature-algorithm": "HmacSHA256",
            ], body: Array(body.utf8)))
        }
        let blocked = try await report(status: "Failed", code: 413)
        #expect(!blocked.optedOut && blocked.accountProblem)
        let deletedBlocked = try await report(status: "Deleted", code: 413)
        #expect(!deletedBlocked.optedOut && deletedBlocked.accountProblem)
        let stopped = try await report(status: "Deleted", code: 402)
        #expect(stopped.optedOut && !stopped.accountProblem)
    }
}
