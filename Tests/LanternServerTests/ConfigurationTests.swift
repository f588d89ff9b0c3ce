import Foundation
import LanternCore
import LanternStore
import LanternTesting
import Logging
import Testing
@testable import LanternServer

@Suite struct ConfigurationTests {
    @Test func runsWithNoSettingsAtAll() throws {
        let c = try LanternConfiguration.fromEnvironment([:])
        #expect(c.port == 8080)
        #expect(c.host == "127.0.0.1")
        #expect(c.dataDirectory.lastPathComponent == ".lantern")
        #expect(c.providers.twilio == nil)
        #expect(c.maxBodyBytes == 64 * 1024)
    }

    let twilio = ["TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "tok", "TWILIO_FROM_NUMBER": "+447700900999",
                  "LANTERN_PUBLIC_URL": "https://sms.example.org"]

    @Test func twilioNeedsItsPartsTogether() throws {
        let c = try LanternConfiguration.fromEnvironment(twilio)
        #expect(c.providers.twilio?.verifySignatures == true)
        #expect(c.providers.twilio?.publicBaseURL?.absoluteString == "https://sms.example.org")
        #expect(throws: ConfigurationError.self) { try LanternConfiguration.fromEnvironment(["TWILIO_ACCOUNT_SID": "AC1"]) }
        var noURL = twilio
        noURL["LANTERN_PUBLIC_URL"] = nil
        #expect(throws: ConfigurationError.self) { try LanternConfiguration.fromEnvironment(noURL) }
        var noSender = twilio
        noSender["TWILIO_FROM_NUMBER"] = nil
        #expect(throws: ConfigurationError.self) { try LanternConfiguration.fromEnvironment(noSender) }
    }

    @Test func eachProviderMayHaveItsOwnSendRate() throws {
        var env = twilio
        env["LANTERN_SEND_RATE"] = "2"
        env["LANTERN_TWILIO_SEND_RATE"] = "10"
        let c = try LanternConfiguration.fromEnvironment(env)
        #expect(c.sendRate == 2 && c.providerSendRates == ["twilio": 10])
        env["LANTERN_VONAGE_SEND_RATE"] = "fast"
        #expect(throws: ConfigurationError.invalid("LANTERN_VONAGE_SEND_RATE", "must be segments per second for each vonage number (0 for no limit)")) {
            try LanternConfiguration.fromEnvironment(env)
        }
    }

    @Test func signatureCheckingIsOffOnlyWhenSaidExplicitly() throws {
        var off = twilio
        off["LANTERN_TWILIO_SIGNATURE_CHECK"] = "off"
        #expect(try LanternConfiguration.fromEnvironment(off).providers.twilio?.verifySignatures == false)
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

    @Test func everyProviderNeedsItsPartsTogetherAndChecksByDefault() throws {
        let all = twilio.merging([
            "VONAGE_API_KEY": "k", "VONAGE_API_SECRET": "s", "VONAGE_SIGNATURE_SECRET": "sig", "VONAGE_FROM_NUMBER": "447700900991",
            "TELNYX_API_KEY": "KEY", "TELNYX_PUBLIC_KEY": "+7E99DXiiQXvceNX4nHm3Lbm5mqPWad5RhDr2ufuCik=", "TELNYX_FROM_NUMBER": "+447700900992",
            "PLIVO_AUTH_ID": "MA", "PLIVO_AUTH_TOKEN": "t", "PLIVO_FROM_NUMBER": "447700900993",
            "SINCH_SERVICE_PLAN_ID": "p", "SINCH_API_TOKEN": "t", "SINCH_WEBHOOK_SECRET": "w", "SINCH_FROM_NUMBER": "447700900994",
            "MESSAGEBIRD_ACCESS_KEY": "a", "MESSAGEBIRD_SIGNING_KEY": "36efdd1aace2e26cd490f0d951138253", "MESSAGEBIRD_ORIGINATOR": "447700900995",
        ]) { $1 }
        let c = try LanternConfiguration.fromEnvironment(all)
        #expect(c.providers.vonage?.verifySignatures == true && c.providers.vonage?.signatureMethod == .sha256)
        #expect(c.providers.telnyx?.verifySignatures == true && c.providers.plivo?.verifySignatures == true)
        #expect(c.providers.sinch?.apiBaseURL.absoluteString == "https://eu.sms.api.sinch.com")
        #expect(c.providers.messageBird?.verifySignatures == true)
        // Loop protection knows every number of ours.
        #expect(c.limits.ownNumbers.isSuperset(of: ["+447700900999", "+447700900991", "+447700900992", "+447700900993", "+447700900994", "+447700900995"]))
        // Half a provider is an error that names what is missing.
        #expect(throws: ConfigurationError.invalid("PLIVO_AUTH_TOKEN", "is required with PLIVO_AUTH_ID, PLIVO_FROM_NUMBER to use Plivo")) {
            try LanternConfiguration.fromEnvironment(all.merging(["PLIVO_AUTH_TOKEN": ""]) { $1 })
        }
        #expect(throws: ConfigurationError.self) { try LanternConfiguration.fromEnvironment(all.merging(["TELNYX_PUBLIC_KEY": "short"]) { $1 }) }
        #expect(throws: ConfigurationError.self) { try LanternConfiguration.fromEnvironment(all.merging(["VONAGE_SIGNATURE_METHOD": "crc32"]) { $1 }) }
        #expect(throws: ConfigurationError.self) { try LanternConfiguration.fromEnvironment(all.merging(["SINCH_WEBHOOK_SECRET": ""]) { $1 }) }
        // MessageBird's JWTs are HS256: a key under 32 bytes could never check them.
        #expect {
            try LanternConfiguration.fromEnvironment(all.merging(["MESSAGEBIRD_SIGNING_KEY": "short-key"]) { $1 })
        } throws: { "\($0)".contains("MESSAGEBIRD_SIGNING_KEY") && !"\($0)".contains("short-key") }
        #expect(throws: ConfigurationError.self) { try LanternConfiguration.fromEnvironment(all.merging(["LANTERN_PUBLIC_URL": ""]) { $1 }) }
        let off = try LanternConfiguration.fromEnvironment(all.merging(["LANTERN_SINCH_SIGNATURE_CHECK": "off", "SINCH_WEBHOOK_SECRET": ""]) { $1 })
        #expect(off.providers.sinch?.verifySignatures == false)
    }

    @Test func aConfigFileUnderTheEnvironmentOwnerOnly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("lantern.env").path
        try """
            # Lantern for the Bristol group
            export LANTERN_PORT=9090
            LANTERN_SEND_RATE = "2"
            LANTERN_CURRENCY='EUR'
            """.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        #expect(throws: ConfigurationError.self) { try LanternConfiguration.fromEnvironment(["LANTERN_CONFIG_FILE": path]) }
        chmod(path, 0o600)
        let c = try LanternConfiguration.fromEnvironment(["LANTERN_CONFIG_FILE": path, "LANTERN_PORT": "8181"])
        #expect(c.port == 8181)          // the environment wins
        #expect(c.sendRate == 2 && c.broadcasts.currency == "EUR")
        #expect(c.settingOrigins["LANTERN_PORT"] == .environment)
        #expect(c.settingOrigins["LANTERN_SEND_RATE"] == .file && c.settingOrigins["LANTERN_CURRENCY"] == .file)
        #expect(c.settingOrigins["LANTERN_HOST"] == .default)
        try "TWILIO_AUTH_TOKEN secret-without-equals\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        do {
            _ = try LanternConfiguration.fromEnvironment(["LANTERN_CONFIG_FILE": path])
            Issue.record("a malformed line was accepted")
        } catch {
            #expect(error.description.contains("lantern.env:1") && !error.description.contains("secret-without-equals"))
        }
    }

    /// The vault's keys work from the config file as from the environment (keys.json is then
    /// never made), and half of them is refused rather than quietly ignored.
    @Test func vaultKeysFromTheConfigFileAreUsedAndHalfOfThemIsRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // Keys as an operator's secret store would hold them: taken from a key file made elsewhere.
        let elsewhere = dir.url.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let keys = try KeyFile.loadOrCreate(directory: elsewhere, environment: [:])
        let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: elsewhere.appendingPathComponent(KeyFile.fileName))) as! [String: Any]
        let dataKey = stored["data_key"] as! String, indexKey = stored["index_key"] as! String
        let path = dir.url.appendingPathComponent("lantern.env").path
        try "LANTERN_DATA_KEY=\(dataKey)\nLANTERN_INDEX_KEY=\(indexKey)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        let data = dir.url.appendingPathComponent("data")
        var c = try LanternConfiguration.fromEnvironment(["LANTERN_CONFIG_FILE": path, "LANTERN_DATA_DIR": data.path])
        #expect(c.settingOrigins["LANTERN_DATA_KEY"] == .file)
        c.flowsDirectory = Repository.flows
        c.localesDirectory = Repository.locales
        let lantern = try Lantern.boot(configuration: c, logger: Logger(label: "t"))
        let her = PhoneNumber("+447700900123")!
        #expect(lantern.database.vault.contactKey(for: her) == PIIVault(keys: keys).contactKey(for: her))
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("keys.json").path))

        for half in [["LANTERN_DATA_KEY": dataKey], ["LANTERN_INDEX_KEY": indexKey]] {
            #expect {
                try LanternConfiguration.fromEnvironment(half)
            } throws: { error in
                let text = "\(error)"
                return text.contains("LANTERN_DATA_KEY") && text.contains("LANTERN_INDEX_KEY") && !text.contains(half.values.first!)
            }
        }
    }

    /// Values that used to start and misbehave later: refused at start, naming the setting and
    /// what it may be.
    @Test func outOfRangeAndFractionalLimitsAreRefusedAtStart() throws {
        let cases: [(String, String, String)] = [
            ("LANTERN_BROADCAST_DEFAULT_HOURS", "100", "must be a number of hours above 0 and at most 72: an alert may stay live for at most 72 hours"),
            ("LANTERN_KIT_LIMIT", "2.7", "must be a whole number from 1 to 100"),
            ("LANTERN_CONTACT_MESSAGES_PER_MINUTE", "0.5", "must be a whole number from 1 to 1000"),
            ("LANTERN_CONTACT_MESSAGES_PER_MINUTE", "0", "must be a whole number from 1 to 1000"),
            ("LANTERN_REPLY_SEGMENTS_PER_MINUTE", "12.5", "must be a whole number from 1 to 1000000"),
            ("LANTERN_MAX_CONNECTIONS", "1e3", "must be a whole number from 1 to 1000000"),
        ]
        for (name, value, why) in cases {
            var env = twilio
            env[name] = value
            #expect(throws: ConfigurationError.invalid(name, why), "\(name)=\(value)") { try LanternConfiguration.fromEnvironment(env) }
        }
        var fine = twilio
        fine["LANTERN_BROADCAST_DEFAULT_HOURS"] = "72"
        fine["LANTERN_KIT_LIMIT"] = "2"
        fine["LANTERN_CONTACT_MESSAGES_PER_MINUTE"] = "1"
        let c = try LanternConfiguration.fromEnvironment(fine)
        #expect(c.broadcasts.defaultExpiryHours == 72 && c.kits.limit == 2 && c.limits.messagesPerContactPerMinute == 1)
    }

    /// The README's settings tables and the settings the code reads cannot drift apart: every
    /// name the code reads is documented, and every documented name is read.
    @Test func everySettingTheCodeReadsIsInTheReadmeAndNoOther() throws {
        let pattern = #"(LANTERN|TWILIO|VONAGE|TELNYX|PLIVO|SINCH|MESSAGEBIRD)_[A-Z0-9_]*[A-Z0-9]"#
        func names(in text: String, quoted: String) throws -> Set<String> {
            let regex = try NSRegularExpression(pattern: quoted + pattern + quoted)
            return Set(regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { m in
                Range(m.range, in: text).map { String(text[$0]).trimmingCharacters(in: CharacterSet(charactersIn: quoted)) }
            })
        }
        var read: Set<String> = []
        let sources = Repository.root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        // The daemon's and the command line's settings (the test harness's own switches aside).
        for file in files where file.pathExtension == "swift" && !file.path.contains("/LanternTesting/") && !file.path.contains("/LanternBench/") {
            let code = try String(contentsOf: file, encoding: .utf8)
            read.formUnion(try names(in: code, quoted: "\""))
            // Names made per provider ("LANTERN_\\(provider)_SEND_RATE"), one for each.
            let perProvider = try NSRegularExpression(pattern: #""LANTERN_\\\(.*?\)(_[A-Z_]+)""#)
            for m in perProvider.matches(in: code, range: NSRange(code.startIndex..., in: code)) {
                guard let r = Range(m.range(at: 1), in: code) else { continue }
                for provider in ["TWILIO", "VONAGE", "TELNYX", "PLIVO", "SINCH", "MESSAGEBIRD"] { read.insert("LANTERN_" + provider + code[r]) }
            }
        }
        let readme = try String(contentsOf: Repository.root.appendingPathComponent("README.md"), encoding: .utf8)
        let tables = readme.split(separator: "\n").filter { $0.hasPrefix("|") }.joined(separator: "\n")
        var documented = try names(in: tables, quoted: "`")
        // "`LANTERN_<PROVIDER>_SEND_RATE`": one for each provider.
        let pattern2 = try NSRegularExpression(pattern: #"`LANTERN_<PROVIDER>(_[A-Z_]+)`"#)
        for m in pattern2.matches(in: tables, range: NSRange(tables.startIndex..., in: tables)) {
            guard let r = Range(m.range(at: 1), in: tables) else { continue }
            for provider in ["TWILIO", "VONAGE", "TELNYX", "PLIVO", "SINCH", "MESSAGEBIRD"] { documented.insert("LANTERN_" + provider + tables[r]) }
        }
        #expect(read.count > 60)
        #expect(read.subtracting(documented).isEmpty, "read by the code but not in the README's tables: \(read.subtracting(documented).sorted())")
        #expect(documented.subtracting(read).isEmpty, "in the README's tables but read nowhere: \(documented.subtracting(read).sorted())")
    }
}
