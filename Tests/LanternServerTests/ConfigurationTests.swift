import Foundation
import Testing
@testable import LanternServer

@Suite struct ConfigurationTests {
    @Test func runsWithNoSettingsAtAll() throws {
        let c = try LanternConfiguration.fromEnvironment([:])
        #expect(c.port == 8080)
        #expect(c.host == "127.0.0.1")
        #expect(c.dataDirectory.lastPathComponent == ".lantern")
        #expect(c.twilio == nil)
        #expect(c.maxBodyBytes == 64 * 1024)
    }

    let twilio = ["TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "tok", "TWILIO_FROM_NUMBER": "+447700900999",
                  "LANTERN_PUBLIC_URL": "https://sms.example.org"]

    @Test func twilioNeedsItsPartsTogether() throws {
        let c = try LanternConfiguration.fromEnvironment(twilio)
        #expect(c.twilio?.verifySignatures == true)
        #expect(c.twilio?.publicBaseURL?.absoluteString == "https://sms.example.org")
        #expect(throws: ConfigurationError.self) { try LanternConfiguration.fromEnvironment(["TWILIO_ACCOUNT_SID": "AC1"]) }
        var noURL = twilio
        noURL["LANTERN_PUBLIC_URL"] = nil
        #expect(throws: ConfigurationError.self) { try LanternConfiguration.fromEnvironment(noURL) }
        var noSender = twilio
        noSender["TWILIO_FROM_NUMBER"] = nil
        #expect(throws: ConfigurationError.self) { try LanternConfiguration.fromEnvironment(noSender) }
    }

    @Test func signatureCheckingIsOffOnlyWhenSaidExplicitly() throws {
        var off = twilio
        off["LANTERN_TWILIO_SIGNATURE_CHECK"] = "off"
        #expect(try LanternConfiguration.fromEnvironment(off).twilio?.verifySignatures == false)
        off["LANTERN_TWILIO_SIGNATURE_CHECK"] = "false"
        #expect(throws: ConfigurationError.invalid("LANTERN_TWILIO_SIGNATURE_CHECK", "must be on or off")) {
            try LanternConfiguration.fromEnvironment(off)
        }
    }

    @Test(arguments: [("LANTERN_PORT", "eighty"), ("LANTERN_PORT", "70000"), ("LANTERN_SEND_RATE", "-1"),
                      ("LANTERN_PUBLIC_URL", "sms.example.org"), ("LANTERN_LOG_LEVEL", "loud"),
                      ("LANTERN_MAX_CONCURRENT_SENDS", "0")])
    func badValuesAreRefusedByName(_ name: String, _ value: String) {
        do {
            _ = try LanternConfiguration.fromEnvironment([name: value])
            Issue.record("\(name)=\(value) was accepted")
        } catch {
            #expect("\(error)".hasPrefix(name))
        }
    }

    @Test func backoffGrowsWithJitterAndHonoursRetryAfter() {
        let p = RetryPolicy(baseDelay: 2, maxDelay: 600, maxAttempts: 10)
        #expect(p.delay(afterAttempt: 1, retryAfter: nil, random: 0) == 1)
        #expect(p.delay(afterAttempt: 1, retryAfter: nil, random: 1) == 2)
        #expect(p.delay(afterAttempt: 4, retryAfter: nil, random: 1) == 16)
        #expect(p.delay(afterAttempt: 30, retryAfter: nil, random: 1) == 600)
        #expect(p.delay(afterAttempt: 1, retryAfter: 30, random: 0) == 30)
        #expect(p.delay(afterAttempt: 1, retryAfter: 99_999, random: 0) == 600)
    }
}
