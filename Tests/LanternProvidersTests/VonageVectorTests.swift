import Foundation
import LanternCore
import Testing
@testable import LanternProviders

@Suite struct VonageVectorTests {
    static let secret = "my_secret_key_for_testing"
    static let params: [(name: String, value: String)] = [
        ("message-timestamp", "2013-11-21 15:27:30"), ("messageId", "020000001B0FE827"), ("msisdn", "14843472194"),
        ("text", "Test again"), ("timestamp", "1385047698"), ("to", "13239877404"), ("type", "text"),
    ]

    @Test func theBaseStringIsSortedRawAndPrefixed() {
        #expect(VonageSignature.baseString(Self.params.reversed()) ==
                "&message-timestamp=2013-11-21 15:27:30&messageId=020000001B0FE827&msisdn=14843472194&text=Test again&timestamp=1385047698&to=13239877404&type=text")
    }

    @Test(arguments: [
        (VonageSignature.Method.md5hash, "d2e7b1dc968737c5998ad624e02f90b7"),
        (.md5, "DDEBD46008C2D4E93CCE578A332A52D5"),
        (.sha1, "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A"),
        (.sha256, "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330"),
        (.sha512, "E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481CD3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82"),
    ])
    func everyMethodsVector(method: VonageSignature.Method, expected: String) {
        #expect(VonageSignature.sign(Self.params, secret: Self.secret, method: method) == expected)
        // Checked case-insensitively, and any change to a value breaks it.
        #expect(VonageSignature.isValid(Self.params + [("sig", expected.lowercased())], secret: Self.secret, method: method))
        var tampered = Self.params
        tampered[3] = ("text", "Test again!")
        #expect(!VonageSignature.isValid(tampered + [("sig", expected)], secret: Self.secret, method: method))
        #expect(!VonageSignature.isValid(Self.params + [("sig", expected)], secret: "other", method: method))
    }

    @Test func valuesWithAmpersandsAndEqualsSigns() {
        let params: [(name: String, value: String)] = [
            ("keyword", "TEST"), ("message-timestamp", "2017-04-04 22:57:47"), ("messageId", "0B00000042AC53BD"), ("msisdn", "14843472194"),
            ("nonce", "929d6744-bd28-42c8-b6cf-31d5b4f43732"), ("text", "Test with & and ="), ("timestamp", "1491346667"),
            ("to", "12192259404"), ("type", "text"),
        ]
        #expect(VonageSignature.sign(params, secret: Self.secret, method: .md5hash) == "e06d9763e3fd0b9c31beb5fc2fcb011c")
    }

    /// The Messages API bearer: the published HS256 vector, then our own payload_hash and iat checks.
    @Test func messagesAPIJWT() async throws {
        let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM"
        let at = Date(timeIntervalSince1970: 1_697_634_680)
        // The published token's signature verifies; it carries no payload_hash, which we require.
        await #expect(throws: VonageSignature.JWTFailure.missingPayloadHash) {
            try await VonageSignature.verifyJWT(token, secret: "qwertyuiopasdfghjklzxcvbnm123456", body: [], now: at)
        }
        await #expect(throws: VonageSignature.JWTFailure.token(.badSignature)) {
            try await VonageSignature.verifyJWT(token, secret: "another-secret-of-thirty-two-bytes", body: [], now: at)
        }
        // A secret shorter than HS256's 32 bytes is refused by name (jwt-kit would assert on it).
        await #expect(throws: VonageSignature.JWTFailure.token(.secretTooShort("HS256", 32))) {
            try await VonageSignature.verifyJWT(token, secret: "asdf", body: [], now: at)
        }
        await #expect(throws: VonageSignature.JWTFailure.stale) {
            try await VonageSignature.verifyJWT(token, secret: "qwertyuiopasdfghjklzxcvbnm123456", body: [], now: at + 301)
        }
        let body = Array(#"{"message_uuid":"m1","from":"447700900123","to":"447700900999","text":"hi","channel":"sms"}"#.utf8)
        let signed = VonageTestJWT.make(secret: "s3cret-s3cret-s3cret-s3cret-s3cret", claims: ["iat": 1_697_634_680, "payload_hash": WebhookCrypto.sha256Hex(body)])
        try await VonageSignature.verifyJWT(signed, secret: "s3cret-s3cret-s3cret-s3cret-s3cret", body: body, now: at)
        await #expect(throws: VonageSignature.JWTFailure.payloadHash) {
            try await VonageSignature.verifyJWT(signed, secret: "s3cret-s3cret-s3cret-s3cret-s3cret", body: body + [32], now: at)
        }
        // A token without iat or payload_hash could be replayed with any body, at any time.
        let timeless = VonageTestJWT.make(secret: "s3cret-s3cret-s3cret-s3cret-s3cret", claims: ["payload_hash": WebhookCrypto.sha256Hex(body)])
        await #expect(throws: VonageSignature.JWTFailure.missingIAT) { try await VonageSignature.verifyJWT(timeless, secret: "s3cret-s3cret-s3cret-s3cret-s3cret", body: body, now: at) }
        let bodiless = VonageTestJWT.make(secret: "s3cret-s3cret-s3cret-s3cret-s3cret", claims: ["iat": 1_697_634_680])
        await #expect(throws: VonageSignature.JWTFailure.missingPayloadHash) { try await VonageSignature.verifyJWT(bodiless, secret: "s3cret-s3cret-s3cret-s3cret-s3cret", body: body, now: at) }
    }

    /// A correctly signed SMS API webhook whose `timestamp` is more than 5 minutes from our clock
    /// is refused: a captured request cannot be replayed later.
    @Test func aStaleSignedWebhookIsRefused() async throws {
        let signedAt = Date(timeIntervalSince1970: 1_700_000_000)
        var p: [(name: String, value: String)] = [("msisdn", "447700900123"), ("to", "447700900999"), ("messageId", "m1"), ("text", "hi"),
                                                  ("type", "text"), ("timestamp", "1700000000")]
        p.append(("sig", VonageSignature.sign(p, secret: Self.secret, method: .sha256)))
        let request = WebhookRequest(method: "POST", uri: "/webhooks/vonage", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                     body: Array(FormEncoding.encode(p.map { ($0.name, $0.value) }).utf8))
        func vonage(at t: Date) -> Vonage {
            Vonage(configuration: VonageConfiguration(apiKey: "k", apiSecret: "s", signatureSecret: Self.secret), transport: URLSessionTransport(),
                   now: { t })
        }
        #expect(try await vonage(at: signedAt + 299).inboundMessage(from: request).text == "hi")
        await #expect(throws: WebhookRejection.forbidden("timestamp is missing or stale")) { try await vonage(at: signedAt + 301).inboundMessage(from: request) }
    }

    @Test func longTextsArriveInPartsAndAreHandledOnceWhole() async throws {
        let clock = Date(timeIntervalSince1970: 1_700_000_000)
        let vonage = Vonage(configuration: VonageConfiguration(apiKey: "k", apiSecret: "s", signatureSecret: Self.secret),
                            transport: URLSessionTransport(), now: { clock })
        func part(_ n: Int, _ text: String) -> WebhookRequest {
            var p: [(name: String, value: String)] = [("msisdn", "447700900123"), ("to", "447700900999"), ("messageId", "m\(n)"),
                                                      ("text", text), ("type", "text"), ("timestamp", "1700000000"), ("concat", "true"),
                                                      ("concat-ref", "42"), ("concat-total", "3"), ("concat-part", "\(n)")]
            p.append(("sig", VonageSignature.sign(p, secret: Self.secret, method: .sha256)))
            return WebhookRequest(method: "GET", uri: "/webhooks/vonage?" + FormEncoding.encode(p), headers: [:], body: [])
        }
        await #expect(throws: WebhookRejection.ignored("part of a longer text; waiting for the rest")) { try await vonage.inboundMessage(from: part(3, "three")) }
        await #expect(throws: WebhookRejection.ignored("part of a longer text; waiting for the rest")) { try await vonage.inboundMessage(from: part(1, "one ")) }
        let whole = try await vonage.inboundMessage(from: part(2, "two "))
        #expect(whole.text == "one two three" && whole.from.e164 == "+447700900123" && whole.messageID.hasPrefix("concat-42-"))
    }
}

/// Builds HS256 tokens for tests (Lantern itself only verifies).
enum VonageTestJWT {
    static func make(secret: String, claims: [String: Any]) -> String {
        let header = WebhookCrypto.base64URLEncode(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = WebhookCrypto.base64URLEncode(try! JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]))
        let sig = WebhookCrypto.hmacSHA256(key: Data(secret.utf8), Data("\(header).\(payload)".utf8))
        return "\(header).\(payload).\(WebhookCrypto.base64URLEncode(sig))"
    }
}
