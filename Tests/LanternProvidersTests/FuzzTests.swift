import Foundation
import LanternCore
import LanternTesting
import PropertyBased
import Testing
@testable import LanternProviders

/// Property-based fuzzing of everything that reads bytes from the internet: the form and JSON
/// webhook parsers and the signature verifiers. Bounded (a few thousand cases per property) so
/// CI stays fast; a crash found here becomes a named regression test below.
@Suite struct WebhookFuzzTests {
    static let token = "fuzz-auth-token"
    let builder = TwilioWebhookBuilder(publicBaseURL: "https://sms.example.org", authToken: Self.token)

    func twilio(verify: Bool) -> Twilio {
        Twilio(configuration: TwilioConfiguration(accountSID: "AC00000000000000000000000000000000", authToken: Self.token, fromNumber: "+447700900999",
                                                  publicBaseURL: URL(string: "https://sms.example.org/")!, verifySignatures: verify),
               transport: URLSessionTransport())
    }

    /// Bytes that look like what arrives: mostly form/JSON punctuation, percent escapes and
    /// UTF-8 fragments, sometimes anything at all.
    static let webhookBytes = Gen.oneOf(
        Gen<UInt8>.value(in: 0...255).array(of: 0...400),
        Gen<UInt8?>.element(of: Array("Body=From=To=MessageSid=%+&=%2%ZZ%E2%82{}[]\":,\\u00e9\u{0}".utf8)).map { $0! }.array(of: 0...400)
    )

    static let contentTypes = Gen<String?>.element(of: [
        "application/x-www-form-urlencoded", "application/json", "application/x-www-form-urlencoded; charset=utf-8",
        "text/plain", "", "multipart/form-data; boundary=x",
    ]).map { $0! }

    @Test func formDecodingNeverCrashesAndRoundTrips() async {
        await propertyCheck(count: 3000 * fuzzScale, input: Self.webhookBytes) { bytes in
            guard let pairs = FormEncoding.decode(bytes) else { return }
            let again = FormEncoding.decode(FormEncoding.encode(pairs.map { ($0.name, $0.value) }))
            #expect(again?.map(\.name) == pairs.map(\.name))
            #expect(again?.map(\.value) == pairs.map(\.value))
        }
    }

    @Test func anyBodyIsParsedOrRejectedNeverCrashes() async {
        await propertyCheck(count: 3000 * fuzzScale, input: Self.webhookBytes, Self.contentTypes, Gen.bool) { bytes, type, verify in
            let request = WebhookRequest(method: "POST", uri: "/webhooks/twilio",
                                         headers: ["Content-Type": type, "X-Twilio-Signature": "AAAA"], body: bytes)
            do throws(WebhookRejection) {
                let m = try await twilio(verify: verify).inboundMessage(from: request)
                // Only with the check off can random bytes ever get through.
                #expect(!verify)
                #expect(!m.messageID.isEmpty)
            } catch {
                // A rejection says what was wrong, for the 4xx body.
                #expect(!error.description.isEmpty)
            }
            _ = try? await twilio(verify: verify).deliveryReport(from: request)
        }
    }

    @Test func noRandomSignatureEverVerifies() async {
        let params = [(name: "Body", value: "hi"), (name: "From", value: "+447700900123")]
        await propertyCheck(count: 3000 * fuzzScale, input: Gen<UInt8>.value(in: 0...255).array(of: 0...40)) { raw in
            let signature = Data(raw).base64EncodedString()
            #expect(!TwilioSignature.isValid(signature: signature, url: "https://sms.example.org/webhooks/twilio",
                                             params: params, authToken: Self.token))
            #expect(!TwilioSignature.isValidJSON(signature: signature, url: "https://sms.example.org/webhooks/twilio?bodySHA256=00",
                                                 body: raw, authToken: Self.token))
        }
    }

    /// Any signed text verifies and parses back exactly; changing one byte of its body, or of
    /// its signature, makes it forbidden.
    @Test func signedTextsVerifyAndAnyTamperingIsForbidden() async {
        // Any scalar from space up to emoji, skipping the surrogate gap (not characters).
        let text = Gen.oneOf(Gen.character(in: " "..."\u{D7FF}"), Gen.character(in: "\u{E000}"..."\u{1F64F}")).string(of: 1...80)
        await propertyCheck(count: 1000 * fuzzScale, input: text, Gen.int(in: 0...10_000)) { body, position in
            let signed = builder.inbound(sid: "SM\(position)", from: "+447700900123", body: body)
            let request = WebhookRequest(method: "POST", uri: signed.path, headers: signed.headers, body: Array(signed.body.utf8))
            #expect((try? await twilio(verify: true).inboundMessage(from: request))?.text == body)

            var tampered = Array(signed.body.utf8)
            let i = position % tampered.count
            tampered[i] = tampered[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let bad = WebhookRequest(method: "POST", uri: signed.path, headers: signed.headers, body: tampered)
            await #expect(throws: WebhookRejection.self) { try await twilio(verify: true).inboundMessage(from: bad) }

            var headers = signed.headers
            var sig = Array(headers["X-Twilio-Signature"]!)
            sig[position % sig.count] = sig[position % sig.count] == "x" ? "y" : "x"
            headers["X-Twilio-Signature"] = String(sig)
            let forged = WebhookRequest(method: "POST", uri: signed.path, headers: headers, body: Array(signed.body.utf8))
            await #expect(throws: WebhookRejection.self) { try await twilio(verify: true).inboundMessage(from: forged) }
        }
    }

    /// Found by `anyBodyIsParsedOrRejectedNeverCrashes`: an empty Content-Type (or one that is
    /// only parameters) crashed the parser, so one request could take the daemon down.
    @Test(arguments: ["", ";", " ; charset=utf-8"])
    func regressionEmptyContentTypeIsRejectedNotACrash(type: String) async {
        let request = WebhookRequest(method: "POST", uri: "/webhooks/twilio", headers: ["Content-Type": type], body: Array("Body=hi".utf8))
        await #expect(throws: WebhookRejection.self) { try await twilio(verify: true).inboundMessage(from: request) }
    }

    @Test func urlVariantsNeverCrashOnOddURLs() async {
        let url = Gen<Character?>.element(of: Array("https://sms.example.org:443/[]@:?#%")).map { $0! }.string(of: 0...60)
        await propertyCheck(count: 2000 * fuzzScale, input: url) { u in
            #expect(TwilioSignature.urlVariants(u).contains(u))
        }
    }
}

/// `LANTERN_FUZZ_SCALE=100 swift test --filter Fuzz` runs a hundred times as many cases;
/// CI runs the default, a few seconds' worth. Each run draws new inputs (its seed is printed
/// on failure, so a case can be replayed).
let fuzzScale = Int(ProcessInfo.processInfo.environment["LANTERN_FUZZ_SCALE"] ?? "") ?? 1

/// Every provider's parser takes anything the internet sends without crashing, and never lets
/// an unsigned request through.
@Suite struct AllProvidersFuzzTests {
    static let headerSets: [[String: String]] = [
        ["Content-Type": "application/json"], ["Content-Type": "application/x-www-form-urlencoded"], [:],
        ["Content-Type": "application/json", "Authorization": "Bearer a.b.c", "telnyx-signature-ed25519": "AAAA", "telnyx-timestamp": "1"],
        ["Content-Type": "application/json", "x-sinch-webhook-signature": "x", "x-sinch-webhook-signature-nonce": "n",
         "x-sinch-webhook-signature-timestamp": "abc"],
        ["Content-Type": "application/x-www-form-urlencoded", "X-Plivo-Signature-V3": ",,,", "X-Plivo-Signature-V3-Nonce": ""],
        ["MessageBird-Signature-JWT": "eyJhbGciOiJub25lIn0.e30."], ["messagebird-signature": "x", "messagebird-request-timestamp": "-1"],
    ]

    @Test(arguments: ProviderHarness.allCases)
    func randomRequestsAreRejectedNeverCrash(_ harness: ProviderHarness) async {
        let adapter = harness.adapter()
        await propertyCheck(count: 500 * fuzzScale, input: WebhookFuzzTests.webhookBytes, Gen<Int>.int(in: 0...7), Gen.bool) { body, h, get in
            let request = WebhookRequest(method: get ? "GET" : "POST", uri: "/webhooks/\(harness.name)?" + String(decoding: body.prefix(60), as: UTF8.self),
                                         headers: Self.headerSets[h], body: body)
            #expect((try? await adapter.inboundMessage(from: request)) == nil, "an unsigned request got through")
            _ = try? await adapter.deliveryReport(from: request)
        }
    }
}
