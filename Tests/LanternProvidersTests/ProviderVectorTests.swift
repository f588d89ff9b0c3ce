import Crypto
import Foundation
import LanternCore
import Testing
@testable import LanternProviders

/// Every published vector in providers.md, plus tampered and stale variants.
@Suite struct TelnyxVectorTests {
    static let publicKey = "+7E99DXiiQXvceNX4nHm3Lbm5mqPWad5RhDr2ufuCik="
    static let payload = #"{"data":{"event_type":"message.received","id":"test-123"}}"#
    static let signature = "tMXRZyBL2gkwrgKp6CTDXTO/K+DVq0ZKEFB3tSdfBwqZGC3K/Hr7TCW+jY7RdWrAiKXEckI3tsHEpdz7lS/MDA=="
    static let at = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func thePublishedVectorVerifies() {
        #expect(Telnyx.isValid(signature: Self.signature, timestamp: "1700000000", body: Array(Self.payload.utf8), publicKey: Self.publicKey, now: Self.at))
    }

    @Test func tamperedStaleAndForeignSignaturesFail() {
        let body = Array(Self.payload.utf8)
        #expect(!Telnyx.isValid(signature: Self.signature, timestamp: "1700000000", body: Array(Self.payload.replacingOccurrences(of: "123", with: "124").utf8),
                                publicKey: Self.publicKey, now: Self.at))
        #expect(!Telnyx.isValid(signature: Self.signature, timestamp: "1700000001", body: body, publicKey: Self.publicKey, now: Self.at))
        // ±300 s around the signed time, and not a second more.
        #expect(Telnyx.isValid(signature: Self.signature, timestamp: "1700000000", body: body, publicKey: Self.publicKey, now: Self.at + 300))
        #expect(!Telnyx.isValid(signature: Self.signature, timestamp: "1700000000", body: body, publicKey: Self.publicKey, now: Self.at + 301))
        #expect(!Telnyx.isValid(signature: Self.signature, timestamp: "1700000000", body: body, publicKey: Self.publicKey, now: Self.at - 301))
        let other = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
        #expect(!Telnyx.isValid(signature: Self.signature, timestamp: "1700000000", body: body, publicKey: other, now: Self.at))
        #expect(!Telnyx.isValid(signature: "not base64", timestamp: "1700000000", body: body, publicKey: Self.publicKey, now: Self.at))
    }

    @Test func theSecretKeyInTheVectorSignsWhatWeVerify() throws {
        let secret = Data(base64Encoded: "p68GNpDl9oAQohBiK0MEOFIjxnoFnz0uGGeJqxQ5PSb7sT30NeKJBe9x41ficebctubmao9Zp3lGEOva5+4KKQ==")!
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: secret.prefix(32))
        #expect(key.publicKey.rawRepresentation.base64EncodedString() == Self.publicKey)
        // Ed25519 is deterministic: the same key and message give the published signature.
        let sig = try key.signature(for: Data("1700000000|\(Self.payload)".utf8))
        #expect(sig.base64EncodedString() == Self.signature)
    }
}

@Suite struct SinchVectorTests {
    static let body = #"{"at":"2025-01-13T09:22:40.914Z","batch_id":"01JHFFHQ0P99JPPNQPJDV7JTBP","client_reference":"a client reference","code":0,"operator_status_at":"2025-01-13T09:22:00Z","recipient":"33662162466","status":"Delivered","type":"recipient_delivery_report_sms"}"#

    @Test func thePublishedVectorMatchesAndTamperingDoesNot() {
        #expect(Sinch.signature(body: Array(Self.body.utf8), nonce: "01JHFFHWYY7HSS4FWTMDTQEK8V", timestamp: "1736760161",
                                secret: "SMSWebhooksSecret") == "ZoHei66PPN/kZjw7hFVfGhJOnml3iGNCMWoyQVcE5o0=")
        #expect(Sinch.signature(body: Array(Self.body.replacingOccurrences(of: "Delivered", with: "Failed").utf8),
                                nonce: "01JHFFHWYY7HSS4FWTMDTQEK8V", timestamp: "1736760161",
                                secret: "SMSWebhooksSecret") != "ZoHei66PPN/kZjw7hFVfGhJOnml3iGNCMWoyQVcE5o0=")
    }

    @Test func theVectorParsesAsADeliveryReportAtItsTimeButNotLater() async throws {
        func sinch(at t: TimeInterval) -> Sinch {
            Sinch(configuration: SinchConfiguration(servicePlanID: "p", apiToken: "t", webhookSecret: "SMSWebhooksSecret"),
                  transport: URLSessionTransport(), now: { Date(timeIntervalSince1970: t) })
        }
        let request = WebhookRequest(method: "POST", uri: "/webhooks/sinch/status",
                                     headers: ["Content-Type": "application/json",
                                               "x-sinch-webhook-signature": "ZoHei66PPN/kZjw7hFVfGhJOnml3iGNCMWoyQVcE5o0=",
                                               "x-sinch-webhook-signature-nonce": "01JHFFHWYY7HSS4FWTMDTQEK8V",
                                               "x-sinch-webhook-signature-timestamp": "1736760161",
                                               "x-sinch-webhook-signature-algorithm": "HmacSHA256"],
                                     body: Array(Self.body.utf8))
        let report = try await sinch(at: 1_736_760_200).deliveryReport(from: request)
        #expect(report.messageID == "01JHFFHQ0P99JPPNQPJDV7JTBP" && report.state == .delivered && !report.optedOut)
        await #expect(throws: WebhookRejection.forbidden("x-sinch-webhook-signature-timestamp is stale")) {
            try await sinch(at: 1_736_760_161 + 301).deliveryReport(from: request)
        }
    }
}

@Suite struct PlivoVectorTests {
    static let token = "Y2Q2ZDgxZmY5YWRiOTI5YmQ1Njg0MTAxZWIyOTc4"
    static let nonce = "31627761595286130198"
    static let uuid = "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36"
    static var params: [(name: String, value: String)] {
        [("Direction", "outbound"), ("From", "19792014278"), ("ALegUUID", uuid), ("CallStatus", "in-progress"), ("BillRate", "0.002"),
         ("ParentAuthID", "MANWVLYTK4ZWU1YTY4QA"), ("To", "sip:PlivoSignature382029104058171078704104@phone-qa.voice.plivodev.com"),
         ("ALegRequestUUID", uuid), ("CallUUID", uuid), ("RequestUUID", uuid),
         ("SIP-H-To", "<sip:PlivoSignature382029104058171078704104@52.9.11.55;transport=udp>;tag=1"),
         ("SessionStart", "2020-04-08 11:34:33.238707"), ("Event", "StartApp")]
    }
    static let withQuery = "https://plivobin.non-prod.plivops.com/api/v1/validate_signature03.xml/?a=b&c=d"
    static let withoutQuery = "https://plivobin.non-prod.plivops.com/api/v1/validate_signature03.xml"

    @Test(arguments: [
        ("POST", withQuery, "k7Pusd4OxCIjR5IfA9iedDNu/h/gbdYqdzG/MiYtd1c="),
        ("GET", withQuery, "UBq8jAtd32wR8EK9VgxbBn4n5rpI/l1H9iN4WfSEHFQ="),
        ("POST", withoutQuery, "iAjE5QqI37mbkYe4w3jTMudqEzbDufdqi7sYwTu64e0="),
        ("GET", withoutQuery, "i/MQsaQSAd6fiKhOh2qeeeLHZ9faldADSb3/7+Akfbc="),
    ])
    func v3Vectors(method: String, url: String, expected: String) {
        #expect(PlivoSignature.v3(method: method, url: url, params: Self.params, nonce: Self.nonce, authToken: Self.token) == expected)
        #expect(PlivoSignature.v3(method: method, url: url, params: Self.params, nonce: "1", authToken: Self.token) != expected)
        #expect(PlivoSignature.v3(method: method, url: url, params: Self.params.dropLast().map { $0 }, nonce: Self.nonce, authToken: Self.token) != expected)
    }

    @Test func v2Vector() {
        #expect(PlivoSignature.v2(url: "https://answer.url", nonce: "12345", authToken: "my_auth_token") == "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=")
        #expect(PlivoSignature.v2(url: "https://answer.url?x=1", nonce: "12345", authToken: "my_auth_token") == "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=")
        #expect(PlivoSignature.v2(url: "https://answer.url", nonce: "12346", authToken: "my_auth_token") != "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=")
    }

    @Test func aNonceIsAcceptedOnceWithinItsLifetime() {
        let cache = NonceCache(lifetime: 60, capacity: 3)
        let t = Date(timeIntervalSince1970: 1_000)
        #expect(cache.admit("a", now: t))
        #expect(!cache.admit("a", now: t + 30))
        #expect(cache.admit("a", now: t + 61))
        for n in ["b", "c", "d", "e"] { #expect(cache.admit(n, now: t + 62)) }   // over capacity: the oldest goes, nothing crashes
    }
}
