import Foundation
import LanternCore
import LanternServer
import LanternStore
import LanternTesting
import Testing

/// The promise "we keep nothing you send us", checked end to end: every flow Lantern ships is
/// driven over signed webhooks with unique canary words, addresses and numbers, and afterwards
/// the data directory (database, WAL, shared memory, key file, anything else) and every log
/// line at trace level are searched for each canary as UTF-8, UTF-16, percent/form-encoded and
/// Base64. Add every new flow here.
@Suite struct PrivacyTests {
    static let mum = "+447700900171"
    static let friend = "+447700900172"
    static let coordinator = "+447700900179"

    @Test func nothingAPersonSendsIsKeptAnywhereAcrossEveryFlow() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let logs = LogCapture()
        let fake = try await FakeSMSAPI.start()
        var config = testConfiguration(directory: dir.url, fakeAPI: fake.baseURL)
        config.reports.coordinatorNumbers = [PhoneNumber(Self.coordinator)!]
        config.logLevel = .trace
        let clock = TestClock(Date())
        let lantern = try await RunningLantern.start(configuration: config, logger: logs.logger(level: .trace), now: clock.nowFunction)
        let token = try await lantern.database.createAdminToken(name: "sam", role: .coordinator, now: Date())
        let builder = TwilioWebhookBuilder(publicBaseURL: "https://sms.example.org", authToken: "test-auth-token")
        let client = TestHTTPClient()

        var canaries: [String] = []
        func canary(_ label: String) -> String {
            let c = "cnry\(label)\(UUID().uuidString.prefix(6).lowercased())"
            canaries.append(c)
            return c
        }
        var sent = 0
        func text(_ body: String, from: String = PrivacyTests.mum) async throws {
            sent += 1
            clock.advance(by: 10) // a person's typing pace, under the per-minute limit
            let r = try await client.post(lantern.baseURL, builder.inbound(sid: "SMprivacy\(sent)", from: from, to: "+447700900999", body: body))
            #expect(r.status == 200, "\(body): \(r.status)")
        }

        // Information: menu, help, privacy, naloxone and its submenu, the emergency steps.
        try await text("hello \(canary("hello"))")
        try await text("help \(canary("help"))")
        try await text("privacy \(canary("privacy"))")
        try await text("naloxone \(canary("nal"))")
        try await text("2")
        try await text("1")
        try await text("my mate is not breathing \(canary("emerg"))")
        // The emergency follow-up in her own words, a poisoned child, and both crises.
        try await text("i dont have any naloxone \(canary("follow"))")
        try await text("she woke up \(canary("woke"))")
        try await text("my kid drank my methadone \(canary("child"))")
        try await text("i want to die \(canary("crisis"))")
        try await text("he hits me \(canary("abuse"))")
        try await text("menu")
        // Alerts: subscribe, look, pause, resume, leave.
        try await text("alerts BS5")
        try await text("yes")
        try await text("my alerts \(canary("myal"))")
        try await text("3")
        try await text("24")
        try await text("resume")
        try await text("alerts off")
        // A kit by post (the address is the canary), its status, cancelled.
        let street = "\(canary("street")) Street"
        try await text("kit")
        try await text("1")
        try await text("2")
        try await text("Flat 2, 7 \(street), Bristol BS5 6AA")
        try await text("kit status")
        try await text("kit cancel")
        // A kit to collect, for a friend, marked collected by a coordinator.
        try await text("free kit", from: Self.friend)
        try await text("3", from: Self.friend)
        try await text("1", from: Self.friend)
        try await text("bs5", from: Self.friend)
        try await text("1", from: Self.friend)
        let queue = try await client.request("GET", lantern.baseURL.appendingPathComponent("admin/kits"),
                                              headers: ["Authorization": "Bearer \(token)"])
        let kits = try AdminJSON.decoder.decode([KitSummary].self, from: Data(queue.body.utf8))
        for kit in kits where kit.status == .open {
            _ = try await client.request("POST", lantern.baseURL.appendingPathComponent("admin/kits/\(kit.ref)/collected"),
                                         headers: ["Authorization": "Bearer \(token)"])
        }
        // A report with free text, relayed to the coordinator's phone.
        let report = canary("report")
        try await text("report")
        try await text("Canary Street \(canary("street"))")   // a place name: asked for the district, never kept
        try await text("bs5")
        try await text("2")
        try await text("1")
        try await text("Sold as heroin, \(report) in a blue bag")
        // Languages and wording: LANG (with stray words), Polish help, back to English, PLAIN, DISCREET.
        try await text("lang \(canary("lang"))")
        try await text("2")
        try await text("pomoc \(canary("pomoc"))")
        try await text("english")
        try await text("plain")
        try await text("naloxone \(canary("plain"))")
        try await text("discreet")
        // Opting out and back in, then erasure.
        try await text("stop")
        try await text("start")
        try await text("forget")
        try await text("forget", from: Self.friend)

        // Everything was answered (the relay reached the coordinator) before we look.
        let relayed = await fake.waitForRequests(sent).contains { $0.form["To"] == Self.coordinator && ($0.form["Body"] ?? "").contains(report) }
        #expect(relayed, "the report never reached the coordinator")
        try await lantern.database.waitUntilOutboxIdle()
        #expect(try await lantern.database.contact(for: PhoneNumber(Self.mum)!) == nil)
        #expect(try await lantern.database.contact(for: PhoneNumber(Self.friend)!) == nil)

        // While running (WAL and shared memory present) and after a clean stop.
        let numbers = [Self.mum, Self.friend, "07700900171", "7700900172", "7700 900171"]
        func scan(_ when: String) {
            for secret in canaries + numbers {
                #expect(CanaryScan.files(in: dir.url, containing: secret).isEmpty, "\(when): '\(secret)' at rest")
                #expect(CanaryScan.text(logs.text, containing: secret).isEmpty, "\(when): '\(secret)' in the logs")
            }
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.url.path)
        #expect(files.contains("lantern.sqlite-wal") && files.contains("lantern.sqlite-shm"), "\(files)")
        scan("running")
        try await lantern.stop()
        await fake.stop()
        scan("stopped")
        #expect(logs.all.count > 50, "trace logging was on, so there must be plenty of lines to search")
        #expect(logs.all.contains { $0.hasPrefix("trace") || $0.hasPrefix("debug") })
    }
}
