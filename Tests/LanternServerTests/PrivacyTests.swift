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
        // She types at a person's pace (10 s a text) on a clock the test moves; logging at trace.
        let logs = try await withRunningLantern(clock: TestClock(Date()), typingPace: 10, configure: {
            $0.reports.coordinatorNumbers = [PhoneNumber(Self.coordinator)!]
            $0.logLevel = .trace
        }) { env in
            func canary(_ label: String) -> String {
                let c = "cnry\(label)\(UUID().uuidString.prefix(6).lowercased())"
                env.mustNotBeKept(c)
                return c
            }
            var sent = 0
            func text(_ body: String, from: String = PrivacyTests.mum) async throws {
                sent += 1
                try await env.text(body, from: from)
            }
            for number in [Self.mum, Self.friend, "07700900171", "7700900172", "7700 900171"] { env.mustNotBeKept(number) }

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
            let queue = try await env.api("GET", "/admin/kits")
            let kits = try AdminJSON.decoder.decode([KitSummary].self, from: Data(queue.body.utf8))
            for kit in kits where kit.status == .open {
                _ = try await env.api("POST", "/admin/kits/\(kit.ref)/collected")
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
            let relayed = await env.fake.waitForRequests(sent).contains { $0.form["To"] == Self.coordinator && ($0.form["Body"] ?? "").contains(report) }
            #expect(relayed, "the report never reached the coordinator")
            try await env.settled()
            #expect(try await env.db.contact(for: PhoneNumber(Self.mum)!) == nil)
            #expect(try await env.db.contact(for: PhoneNumber(Self.friend)!) == nil)

            // While running, with the WAL and shared memory present (the harness scans again after a clean stop).
            let files = try FileManager.default.contentsOfDirectory(atPath: env.dir.url.path)
            #expect(files.contains("lantern.sqlite-wal") && files.contains("lantern.sqlite-shm"), "\(files)")
            #expect(env.leaksSoFar().isEmpty, "while running: \(env.leaksSoFar())")
            return env.logs
        }
        #expect(logs.all.count > 50, "trace logging was on, so there must be plenty of lines to search")
        #expect(logs.all.contains { $0.hasPrefix("trace") || $0.hasPrefix("debug") })
    }
}
