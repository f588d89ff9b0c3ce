import Foundation
import Testing
@testable import LanternProviders
import LanternCore

/// Every Twilio vector in shared/providers.md (from twilio-python and twilio-node's own tests),
/// plus tampered variants that must fail.
@Suite struct TwilioSignatureTests {
    let token = "12345"
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    let params: [(name: String, value: String)] = [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"),
        ("From", "+14158675309"), ("To", "+18005551212"),
    ]

    @Test func urlAsGiven() {
        #expect(TwilioSignature.compute(url: url, params: params, authToken: token) == "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        #expect(TwilioSignature.isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url: url, params: params, authToken: token))
    }

    @Test func withDefaultPortEitherWay() {
        let withPort = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
        #expect(TwilioSignature.compute(url: withPort, params: params, authToken: token) == "kvajT1Ptam85bY51eRf/AJRuM3w=")
        // Twilio may have signed either form; we accept both whichever form we were configured with.
        #expect(TwilioSignature.isValid(signature: "kvajT1Ptam85bY51eRf/AJRuM3w=", url: url, params: params, authToken: token))
        #expect(TwilioSignature.isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url: withPort, params: params, authToken: token))
    }

    @Test func httpPorts() {
        let http80 = "http://mycompany.com:80/myapp.php?foo=1&bar=2"
        #expect(TwilioSignature.compute(url: http80, params: params, authToken: token) == "0ZXoZLH/DfblKGATFgpif+LLRf4=")
        #expect(TwilioSignature.isValid(signature: "0ZXoZLH/DfblKGATFgpif+LLRf4=", url: "http://mycompany.com/myapp.php?foo=1&bar=2",
                                        params: params, authToken: token))
        let http1234 = "http://mycompany.com:1234/myapp.php?foo=1&bar=2"
        #expect(TwilioSignature.compute(url: http1234, params: params, authToken: token) == "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=")
        #expect(TwilioSignature.isValid(signature: "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", url: http1234, params: params, authToken: token))
    }

    @Test func repeatedParametersSortedAndDeduplicated() {
        let dup: [(name: String, value: String)] = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"),
                                                    ("Digits", "1234"), ("Digits", "1234")]
        #expect(TwilioSignature.compute(url: url, params: dup, authToken: token) == "IK+Dwps556ElfBT0I3Rgjkr1wJU=")
    }

    /// The verifier every webhook goes through (key and URL variants prepared once) accepts
    /// exactly what the published vectors say, and nothing tampered.
    @Test func thePreparedVerifierAgreesWithThePublishedVectors() {
        let https = TwilioSignature.Verifier(publicBaseURL: "https://mycompany.com", authToken: token)
        let uri = "/myapp.php?foo=1&bar=2"
        #expect(https.isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", uri: uri, params: params))
        #expect(https.isValid(signature: "kvajT1Ptam85bY51eRf/AJRuM3w=", uri: uri, params: params))
        #expect(TwilioSignature.Verifier(publicBaseURL: "https://mycompany.com:443", authToken: token)
            .isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", uri: uri, params: params))
        #expect(TwilioSignature.Verifier(publicBaseURL: "http://mycompany.com", authToken: token)
            .isValid(signature: "0ZXoZLH/DfblKGATFgpif+LLRf4=", uri: uri, params: params))
        #expect(TwilioSignature.Verifier(publicBaseURL: "http://mycompany.com:1234", authToken: token)
            .isValid(signature: "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", uri: uri, params: params))
        let dup: [(name: String, value: String)] = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"),
                                                    ("Digits", "1234"), ("Digits", "1234")]
        #expect(https.isValid(signature: "IK+Dwps556ElfBT0I3Rgjkr1wJU=", uri: uri, params: dup))
        // Tampered: another value, another path, a truncated or empty signature, the wrong token.
        #expect(!https.isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", uri: uri, params: params.map { ($0.name, $0.value + "0") }))
        #expect(!https.isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", uri: "/myapp.php?foo=1&bar=3", params: params))
        #expect(!https.isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8", uri: uri, params: params))
        #expect(!https.isValid(signature: "", uri: uri, params: params))
        // Same bytes once decoded (the last character's two spare bits differ), but not the signature Twilio sent.
        #expect(!https.isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B9=", uri: uri, params: params))
        #expect(!TwilioSignature.Verifier(publicBaseURL: "https://mycompany.com", authToken: "12346")
            .isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", uri: uri, params: params))
    }

    @Test func jsonBodyWithBodySHA256() {
        let body = Array(#"{"property": "value", "boolean": true}"#.utf8)
        let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
        let signedURL = url + "&bodySHA256=" + hash
        #expect(TwilioSignature.compute(url: signedURL, params: [], authToken: token) == "a9nBmqA0ju/hNViExpshrM61xv4=")
        #expect(TwilioSignature.isValidJSON(signature: "a9nBmqA0ju/hNViExpshrM61xv4=", url: signedURL, body: body, authToken: token))
        // Same signature, body changed: the hash no longer matches.
        let tampered = Array(#"{"property": "value", "boolean": false}"#.utf8)
        #expect(!TwilioSignature.isValidJSON(signature: "a9nBmqA0ju/hNViExpshrM61xv4=", url: signedURL, body: tampered, authToken: token))
        // No bodySHA256 in the URL at all.
        #expect(!TwilioSignature.isValidJSON(signature: "a9nBmqA0ju/hNViExpshrM61xv4=", url: url, body: body, authToken: token))
    }

    @Test func emptyJSONBodyWithPort() {
        let body = Array("{}".utf8)
        let hash = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        let signedURL = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=" + hash
        #expect(TwilioSignature.isValidJSON(signature: "Ldidvp12m26NI7eqEvxnEpkd9Hc=", url: signedURL, body: body, authToken: token))
    }

    @Test func encodedApostropheInTheURL() {
        let u = url + "&Body=It%27s+amazing"
        #expect(TwilioSignature.compute(url: u, params: params, authToken: token) == "TfZzewPq8wqrGlMfyAud8+/IvJ0=")
    }

    @Test func derivedUKInboundVector() {
        let p: [(name: String, value: String)] = [
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"), ("Body", "Hello world & €5"), ("From", "+447700900123"),
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"), ("NumMedia", "0"), ("NumSegments", "1"),
            ("SmsSid", "SM0123456789abcdef0123456789abcdef"), ("To", "+447700900456"),
        ]
        #expect(TwilioSignature.compute(url: "https://bot.example.com/twilio/sms", params: p, authToken: "12345") == "UR5Nm5LXHoT5DeE4llWcf4M637E=")
    }

    @Test(arguments: [
        ("wrong token", "https://mycompany.com/myapp.php?foo=1&bar=2", "54321", "Digits", "1234"),
        ("changed param", "https://mycompany.com/myapp.php?foo=1&bar=2", "12345", "Digits", "9999"),
        ("changed URL", "https://mycompany.com/other.php?foo=1&bar=2", "12345", "Digits", "1234"),
        ("changed query", "https://mycompany.com/myapp.php?foo=2&bar=2", "12345", "Digits", "1234"),
        ("scheme downgraded", "http://mycompany.com/myapp.php?foo=1&bar=2", "12345", "Digits", "1234"),
    ])
    func tamperedVariantsFail(_ name: String, _ u: String, _ t: String, _ key: String, _ value: String) {
        var p = params.filter { $0.name != key }
        p.append((key, value))
        #expect(!TwilioSignature.isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url: u, params: p, authToken: t), "\(name)")
    }

    @Test func extraParameterFails() {
        // Twilio adds parameters without notice; every one received must be covered by the signature.
        var p = params
        p.append(("Injected", "1"))
        #expect(!TwilioSignature.isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url: url, params: p, authToken: token))
    }

    @Test func truncatedOrEmptySignatureFails() {
        #expect(!TwilioSignature.isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8", url: url, params: params, authToken: token))
        #expect(!TwilioSignature.isValid(signature: "", url: url, params: params, authToken: token))
    }
}

@Suite struct FormEncodingTests {
    @Test func decodesPlusPercentAndRepeats() throws {
        let pairs = try #require(FormEncoding.decode("Body=Hello+world+%26+%E2%82%AC5&From=%2B447700900123&D=1&D=2&Empty="))
        #expect(pairs.map(\.name) == ["Body", "From", "D", "D", "Empty"])
        #expect(pairs[0].value == "Hello world & €5")
        #expect(pairs[1].value == "+447700900123")
        #expect(pairs[4].value == "")
    }

    @Test(arguments: ["a=%ZZ", "a=%4", "a=%FF%FE"])
    func rejectsBrokenEncoding(_ body: String) {
        #expect(FormEncoding.decode(body) == nil)
    }

    @Test func roundTrips() throws {
        let pairs = [("Body", "It's 5 & €, naïve ☃"), ("To", "+447700900123")]
        let decoded = try #require(FormEncoding.decode(FormEncoding.encode(pairs)))
        #expect(decoded.map(\.name) == ["Body", "To"])
        #expect(decoded.map(\.value) == ["It's 5 & €, naïve ☃", "+447700900123"])
    }

    @Test func constantTimeEquality() {
        #expect(ConstantTime.equals("abc", "abc"))
        #expect(!ConstantTime.equals("abc", "abd"))
        #expect(!ConstantTime.equals("abc", "abcd"))
    }
}
