import Foundation
import LanternCore
import LanternProviders
import LanternServer
import Logging
import LanternStore
import LanternTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` in the middle of a broadcast: the real binary, a real database, a fake Twilio.
/// One at a time: each runs two real daemons and a fake provider, which on two cores is as much
/// as the rest of the suite's timing tests can share the machine with.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: lanternBinary.path), "build the lantern binary first: swift build"))
struct CrashTests {
    final class Daemon {
        let process: ChildProcess
        let log: URL

        init(dataDir: URL, fake: URL, name: String) throws {
            log = dataDir.deletingLastPathComponent().appendingPathComponent("\(name).log")
            var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TWILIO_") && !$0.key.hasPrefix("LANTERN_") }
            env.merge(["TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000", "TWILIO_AUTH_TOKEN": "crash-test-token",
                       "TWILIO_FROM_NUMBER": "+447700900999", "TWILIO_API_BASE_URL": fake.absoluteString,
                       "LANTERN_PUBLIC_URL": "https://sms.example.org", "LANTERN_SEND_RATE": "0",
                       "LANTERN_ALLOWED_COUNTRY_CODES": "44,\(Seed.syntheticCountryCode)",
                       "LANTERN_MAX_CONCURRENT_SENDS": "8"]) { _, new in new }
            process = try ChildProcess(lanternBinary, ["serve", "--data-dir", dataDir.path, "--port", "0"], environment: env,
                                       directory: Repository.root, error: .file(log))
        }

        func waitForPort() async throws -> URL {
            for _ in 0..<300 {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                if let line = text.split(separator: "\n").first(where: { $0.contains("listening") && $0.contains("address=127.0.0.1:") }),
                   let r = line.range(of: "address=127.0.0.1:"), let port = Int(line[r.upperBound...].prefix { $0.isNumber }) {
                    return URL(string: "http://127.0.0.1:\(port)")!
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            struct DidNotStart: Error { let log: String }
            throw DidNotStart(log: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
        }

        func kill9() {
            process.signal(SIGKILL)
            process.wait()
        }

        func stop() {
            if process.isRunning { process.terminate() }
        }
    }

    @Test func aBroadcastSurvivesKillNineWithNoDuplicatesAndNoOneMissed() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let dataDir = dir.url.appendingPathComponent("data")
        var config = LanternConfiguration(dataDirectory: dataDir)
        config.flowsDirectory = Repository.flows
        let count = 2_000
        let token: String
        do {
            let db = try Lantern.openDatabase(config)
            try await Seed.subscribers(count, areas: "BS5", database: db, provider: "twilio")
            token = try await db.createAdminToken(name: "alice", role: .coordinator, now: Date())
        }

        let fake = try await FakeSMSAPI.start()
        await fake.setDelay(.milliseconds(5))
        await fake.hold(after: 600)
        let first = try Daemon(dataDir: dataDir, fake: fake.baseURL, name: "first")
        defer { first.stop() }
        let base = try await first.waitForPort()
        let client = TestHTTPClient()
        let created = try await client.request("POST", base.appendingPathComponent("admin/broadcasts"),
                                               headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                                               body: #"{"text": "Crash test.", "areas": ["BS5"], "confirmed": true}"#)
        #expect(created.status == 201, "\(created.body)")

        // Wait until sends are in flight at the provider and nothing more is arriving, then kill.
        var last = -1
        for _ in 0..<200 {
            try await Task.sleep(for: .milliseconds(100))
            let n = await fake.requests().count
            if n >= 600 && n == last { break }
            last = n
        }
        let beforeKill = await fake.requests().count
        #expect(beforeKill >= 600 && beforeKill < count, "killed at \(beforeKill)")
        first.kill9()
        await fake.release()

        let second = try Daemon(dataDir: dataDir, fake: fake.baseURL, name: "second")
        defer { second.stop() }
        let base2 = try await second.waitForPort()
        var status = ""
        for _ in 0..<300 {
            let r = try await client.request("GET", base2.appendingPathComponent("admin/broadcasts/1"), headers: ["Authorization": "Bearer \(token)"])
            if r.body.contains("\"completed\"") { status = r.body; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status.contains("\"completed\""), "broadcast did not complete after restart")
        second.stop()

        var perRecipient: [String: Int] = [:]
        for r in await fake.requests() { perRecipient[r.form["To"] ?? "?", default: 0] += 1 }
        await fake.stop()
        #expect(perRecipient.count == count, "\(count - perRecipient.count) subscribers got nothing")
        let duplicates = perRecipient.filter { $0.value > 1 }
        #expect(duplicates.isEmpty, "\(duplicates.count) subscribers got more than one")

        let db = try Lantern.openDatabase(config)
        let summary = try #require(try await db.broadcast(1))
        // Sends in flight at the kill reached the provider but were never confirmed: they are
        // parked as unknown (Twilio has no idempotency key), not sent again.
        #expect(summary.counts.sent + summary.counts.unknown == count)
        #expect(summary.counts.unknown > 0 && summary.counts.unknown <= 8)
    }

    /// Check-ins that fell due while the daemon was down fire at start; `kill -9` while their
    /// "Are you OK?" texts are queued (between due and send) or held at the provider (between
    /// send and record) still leaves every one of them sent exactly once.
    @Test func dueCheckInsSurviveKillNineAndFireExactlyOnce() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let dataDir = dir.url.appendingPathComponent("data")
        var config = LanternConfiguration(dataDirectory: dataDir)
        config.flowsDirectory = Repository.flows
        config.localesDirectory = Repository.locales
        let mums = (0..<40).map { PhoneNumber(String(format: "+4477009002%02d", $0))! }
        do {
            // Ten minutes ago, forty mums each signed up a buddy and asked for SPOT 5.
            let then = Date().addingTimeInterval(-600)
            let lantern = try Lantern.boot(configuration: config, logger: Logger(label: "seed") { _ in SwiftLogNoOpLogHandler() },
                                           console: { _ in }, now: { then })
            for (i, mum) in mums.enumerated() {
                let buddy = PhoneNumber(String(format: "+4477009003%02d", i))!
                for (n, (from, text)) in [(mum, "BUDDY \(buddy.e164)"), (mum, "Jo"), (buddy, "YES"), (mum, "SPOT 5")].enumerated() {
                    _ = try await lantern.conversations.receive(InboundMessage(provider: "twilio", messageID: "seed-\(i)-\(n)",
                                                                               from: from, to: "+447700900999", text: text))
                }
                #expect(try await lantern.database.checkInState(for: mum)?.status == "running")
            }
        }

        let fake = try await FakeSMSAPI.start()
        await fake.setDelay(.milliseconds(5))
        // Queued first (oldest check-in texts first): 80 buddy invitations and answers, then the
        // 40 "Are you OK?"s. The first daemon's sends stall at the provider after 100 have
        // arrived: some asks are through, up to 8 are held there, the rest are still queued.
        await fake.hold(after: 100)
        let first = try Daemon(dataDir: dataDir, fake: fake.baseURL, name: "first")
        defer { first.stop() }
        _ = try await first.waitForPort()
        var last = -1
        for _ in 0..<200 {
            try await Task.sleep(for: .milliseconds(100))
            let n = await fake.requests().count
            if n >= 100 && n == last { break }
            last = n
        }
        func asked() async -> [String: Int] {
            var out: [String: Int] = [:]
            for r in await fake.requests() where r.form["Body"] == "Are you OK? Reply OK if you are, or HELP if not." { out[r.form["To"] ?? "?", default: 0] += 1 }
            return out
        }
        let beforeKill = await asked().count
        #expect(beforeKill > 0 && beforeKill < mums.count, "killed with \(beforeKill) of \(mums.count) asked")
        first.kill9()
        await fake.release()

        let second = try Daemon(dataDir: dataDir, fake: fake.baseURL, name: "second")
        defer { second.stop() }
        _ = try await second.waitForPort()
        for _ in 0..<300 where await asked().count < mums.count {
            try await Task.sleep(for: .milliseconds(100))
        }
        // A second and more: nothing more may come.
        try await Task.sleep(for: .seconds(2))
        second.stop()
        let perMum = await asked()
        await fake.stop()
        #expect(perMum.count == mums.count, "\(mums.count - perMum.count) mums were never asked")
        #expect(perMum.values.allSatisfy { $0 == 1 }, "asked twice: \(perMum.filter { $0.value > 1 }.count)")
        let log = (try? String(contentsOf: first.log, encoding: .utf8)) ?? ""
        #expect(log.contains("check-in step taken late"))
    }
}
