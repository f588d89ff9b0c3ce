import Foundation
import LanternCore
import LanternServer
import LanternStore
import LanternTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `lantern` binary, as an operator or coordinator would run it. It sits next to the
/// test bundle once built (the README's test command builds it first).
let lanternBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("lantern")

@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: lanternBinary.path), "build the lantern binary first: swift build"))
struct CommandLineTests {
    static let binary = lanternBinary

    struct Finished {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs the binary on a thread of its own: waiting for a process must never block one of
    /// the few threads every other test (and every test server) shares.
    func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], directory: URL = Repository.root) async throws -> Finished {
        try await onThreadOfItsOwn { try Self.runBlocking(arguments, stdin: stdin, environment: environment, directory: directory) }
    }

    /// Any program, waited for on a thread of its own.
    static func runProgram(_ path: String, _ arguments: [String]) async throws -> Finished {
        try await onThreadOfItsOwn {
            try Self.runBlocking(arguments, stdin: nil, environment: [:], directory: Repository.root, executable: URL(fileURLWithPath: path))
        }
    }

    static func runBlocking(_ arguments: [String], stdin: String?, environment: [String: String], directory: URL,
                            executable: URL = binary) throws -> Finished {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TWILIO_") && !$0.key.hasPrefix("LANTERN_") }
        env.merge(environment) { _, new in new }
        let p = try ChildProcess(executable, arguments, environment: env, directory: directory, input: true, output: .pipe, error: .pipe)
        p.finishInput(Data((stdin ?? "").utf8))
        let (o, e) = p.readOutputs()
        let status = p.wait()
        return Finished(status: status, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func chatAnswersInTheTerminalWhateverProvidersAreConfigured() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let vonage = ["VONAGE_API_KEY": "k", "VONAGE_API_SECRET": "s", "VONAGE_SIGNATURE_SECRET": "sig", "VONAGE_FROM_NUMBER": "447700900991",
                      "LANTERN_PUBLIC_URL": "https://sms.example.org", "LANTERN_HOST": "0.0.0.0"]
        let r = try await run(["chat", "--data-dir", dir.path], stdin: "help\n", environment: vonage)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("< A free, private text line"), "\(r.stdout)")
    }

    @Test func flowsCheckPassesOnTheShippedFlows() async throws {
        let r = try await run(["flows", "check"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("0 error(s)"))
    }

    @Test func flowsCheckFailsWithFileAndLine() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let flows = dir.url.appendingPathComponent("flows")
        try FileManager.default.createDirectory(at: flows, withIntermediateDirectories: true)
        try "flow: broken\nstart: a\nstates:\n  a:\n    say: nope\n".write(to: flows.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        let r = try await run(["flows", "check", "--flows", flows.path, "--locales", Repository.locales.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("broken.yaml:4: error: state 'a' uses message 'nope'"), "\(r.stdout)")
    }

    @Test func flowsRecogniseShowsWhatMatchedAndWhatCancelledIt() async throws {
        var r = try await run(["flows", "recognise", "she isnt breathing"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("sign of overdose") && r.stdout.contains("=> overdose (en-GB)"), "\(r.stdout)")
        r = try await run(["flows", "recognise", "is this an emergency line"])
        #expect(r.stdout.contains("(cancelled)") && r.stdout.contains("=> not an emergency"), "\(r.stdout)")
        r = try await run(["flows", "recognise", "nie oddycha"])
        #expect(r.stdout.contains("=> overdose (pl)"), "\(r.stdout)")
    }

    @Test func chatRunsTheFlowsInTheTerminal() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let r = try await run(["chat", "--data-dir", dir.path, "--from", "+447700900321"], stdin: "naloxone\n2\nstop\nmenu\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("< There are 2 kinds in the UK. Reply:"))
        #expect(r.stdout.contains("< OK, you won't get any more texts"))
        #expect(r.stdout.contains("+4477•••••321"))
        #expect(!r.stdout.contains("+447700900321"))
        // Chat keeps its own database, apart from any real one.
        #expect(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("chat/lantern.sqlite").path))
    }

    /// Urdu runs right to left: the simulator wraps each such line in a right-to-left isolate so
    /// a terminal shows it in order, while left-to-right lines are printed as they are.
    @Test func chatShowsRightToLeftTextInOrder() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let r = try await run(["chat", "--data-dir", dir.path], stdin: "اردو\nenglish\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("< \u{2067}\u{200F}ٹھیک ہے، میں اردو میں جواب دوں گی۔"), "\(r.stdout)")
        #expect(r.stdout.contains("< OK, I'll answer in English."))
        #expect(!r.stdout.contains("\u{2067}OK"))
    }

    @Test func serveRunsWithNoConfigurationAndStopsCleanlyOnSIGTERM() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let errLog = dir.url.appendingPathComponent("stderr.log"), outLog = dir.url.appendingPathComponent("stdout.log")
        let p = try ChildProcess(Self.binary, ["serve", "--data-dir", dir.path, "--port", "0"],
                                 environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TWILIO_") && !$0.key.hasPrefix("LANTERN_") },
                                 directory: Repository.root, output: .file(outLog), error: .file(errLog))
        defer { if p.isRunning { p.terminate() } }

        var port: Int?
        for _ in 0..<200 where port == nil {
            try await Task.sleep(for: .milliseconds(50))
            let log = (try? String(contentsOf: errLog, encoding: .utf8)) ?? ""
            if let line = log.split(separator: "\n").first(where: { $0.contains("address=127.0.0.1:") && $0.contains("listening") }),
               let range = line.range(of: "address=127.0.0.1:") {
                port = Int(line[range.upperBound...].prefix { $0.isNumber })
            }
        }
        let base = try #require(port.map { URL(string: "http://127.0.0.1:\($0)")! }, "server did not report its port")
        let client = TestHTTPClient()
        #expect(try await client.request("GET", base.appendingPathComponent("readyz")).status == 200)
        let r = try await client.request("POST", base.appendingPathComponent("webhooks/console"),
                                         headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                         body: "From=%2B447700900555&Body=naloxone")
        #expect(r.status == 200)
        var printed = ""
        for _ in 0..<100 where !printed.contains("Naloxone reverses") {
            try await Task.sleep(for: .milliseconds(50))
            printed = (try? String(contentsOf: outLog, encoding: .utf8)) ?? ""
        }
        #expect(printed.contains("[console] to +4477•••••555"))
        #expect(!printed.contains("+447700900555"))

        let metrics = try await client.request("GET", base.appendingPathComponent("metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("lantern_inbound_messages_total"), "\(metrics.body)")
        #expect(metrics.body.contains("lantern_outbox_sends_total"))

        p.signal(SIGTERM)
        for _ in 0..<200 where p.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!p.isRunning, "did not stop within 10 s of SIGTERM")
        #expect(p.wait() == 0)

        for file in ["keys.json", "lantern.sqlite"] {
            let mode = try FileManager.default.attributesOfItem(atPath: dir.url.appendingPathComponent(file).path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) mode \(String(mode ?? 0, radix: 8))")
        }
        let logs = try String(contentsOf: errLog, encoding: .utf8)
        #expect(!logs.contains("+447700900555") && !logs.lowercased().contains("body=naloxone"))
    }

    /// A coordinator's token and the data directory can live in the owner-only config file.
    @Test func theAdminTokenAndDataDirectoryComeFromTheConfigFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let data = dir.url.appendingPathComponent("data")
        let created = try await run(["tokens", "create", "--data-dir", data.path, "--name", "alice"])
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(created.status == 0 && token.hasPrefix("lnt_"), "\(created.stderr)")
        let file = dir.url.appendingPathComponent("lantern.env").path
        try "LANTERN_DATA_DIR=\(data.path)\nLANTERN_ADMIN_TOKEN=\(token)\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        let r = try await run(["broadcast", "status"], environment: ["LANTERN_CONFIG_FILE": file])
        #expect(r.status == 0, "\(r.stderr)")
        let without = try await run(["broadcast", "status", "--data-dir", data.path])
        #expect(without.status != 0 && without.stderr.contains("LANTERN_ADMIN_TOKEN"))
    }

    /// An operator checks the settings before restarting a live service: each with where it came
    /// from, secrets hidden, and exit 1 on a problem, naming the setting.
    @Test func configCheckShowsWhereEachSettingCameFromAndRefusesABadOne() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.url.appendingPathComponent("lantern.env").path
        try "LANTERN_PORT=8181\nTWILIO_AUTH_TOKEN=file-secret-canary\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        let env = ["LANTERN_CONFIG_FILE": file, "LANTERN_DATA_DIR": dir.path, "TWILIO_ACCOUNT_SID": "AC1",
                   "TWILIO_FROM_NUMBER": "+447700900999", "LANTERN_PUBLIC_URL": "https://sms.example.org"]
        let ok = try await run(["config", "check"], environment: env)
        #expect(ok.status == 0, "\(ok.stderr)")
        let lines = ok.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("LANTERN_PORT ") && $0.contains("8181") && $0.hasSuffix("[file]") })
        #expect(lines.contains { $0.hasPrefix("TWILIO_AUTH_TOKEN ") && $0.contains("(set, hidden)") && $0.hasSuffix("[file]") })
        #expect(lines.contains { $0.hasPrefix("TWILIO_ACCOUNT_SID ") && $0.hasSuffix("[environment]") })
        #expect(lines.contains { $0.hasPrefix("LANTERN_KIT_LIMIT ") && $0.contains("(default)") })
        #expect(!ok.stdout.contains("file-secret-canary"))
        #expect(ok.stdout.contains("settings: ok; flows:") && ok.stdout.contains(" 0 error(s)"))

        var bad = env
        bad["LANTERN_KIT_LIMIT"] = "2.7"
        let refused = try await run(["config", "check"], environment: bad)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("LANTERN_KIT_LIMIT") && refused.stderr.contains("whole number from 1 to 100"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("file-secret-canary"))
    }

    @Test func tokensAndBroadcastsFromTheCommandLine() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var r = try await run(["tokens", "create", "--data-dir", dir.path, "--name", "alice"])
        #expect(r.status == 0, "\(r.stderr)")
        let token = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("lnt_"))
        #expect(r.stderr.contains("shown only this once"))
        r = try await run(["tokens", "create", "--data-dir", dir.path, "--name", "alice"])
        #expect(r.status != 0 && r.stderr.contains("already exists"))
        r = try await run(["tokens", "list", "--data-dir", dir.path])
        #expect(r.stdout.contains("alice\tcoordinator") && !r.stdout.contains(token))

        // Two subscribers, straight into the local database.
        var config = LanternConfiguration(dataDirectory: dir.url)
        config.flowsDirectory = Repository.flows
        try await Seed.subscribers(2, areas: "BS5", database: try Lantern.openDatabase(config), provider: "twilio")

        r = try await run(["broadcast", "preview", "--data-dir", dir.path, "--token", token, "--areas", "BS5", "--text", "Strong batch about."])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Recipients: 2 in BS5"))
        #expect(r.stdout.contains("| Unconfirmed report: Strong batch about."))
        #expect(r.stdout.contains("Total: 2 segments"))
        r = try await run(["broadcast", "send", "--data-dir", dir.path, "--token", "lnt_nope_nope", "--areas", "BS5", "--text", "x"])
        #expect(r.status != 0 && r.stderr.contains("not valid"))
        r = try await run(["broadcast", "send", "--data-dir", dir.path, "--token", token, "--areas", "BS5", "--text", "Strong batch about.",
                     "--confirmed", "--requires-approval"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("#1 awaiting_approval BS5 by alice"))
        r = try await run(["broadcast", "approve", "1", "--data-dir", dir.path, "--token", token])
        #expect(r.status != 0 && r.stderr.contains("different coordinator"))
        r = try await run(["broadcast", "cancel", "1", "--data-dir", dir.path, "--token", token])
        #expect(r.stdout.hasPrefix("#1 cancelled"))
        r = try await run(["broadcast", "status", "--data-dir", dir.path, "--token", token])
        #expect(r.stdout.contains("#1 cancelled"))
        r = try await run(["tokens", "revoke", "alice", "--data-dir", dir.path])
        #expect(r.status == 0)
        r = try await run(["broadcast", "status", "1", "--data-dir", dir.path, "--token", token])
        #expect(r.status != 0)
    }

    @Test func kitsAndReportsFromTheCommandLine() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var config = LanternConfiguration(dataDirectory: dir.url)
        config.flowsDirectory = Repository.flows
        let db = try Lantern.openDatabase(config)
        let token = try await db.createAdminToken(name: "alice", role: .coordinator, now: Date())
        // A request as the KIT flow would make it.
        _ = try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: "k1", from: PhoneNumber("+447700900141")!, to: nil),
                                       now: Date()) { _, _ in
            EngineOutcome(replies: [], effects: [.requestKit(KitOrder(ref: "K-TEST", kind: "spray", method: "post",
                                                                       address: "1 Test Road, Bristol BS5 6AA"))],
                          conversation: nil, decision: .keyword(flow: "kit", keyword: "KIT"))
        }
        var r = try await run(["kits", "list", "--data-dir", dir.path, "--token", token])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("K-TEST\topen\tspray\tpost") && !r.stdout.contains("Test Road"))
        r = try await run(["kits", "show", "k-test", "--data-dir", dir.path, "--token", token])
        #expect(r.stdout.contains("1 Test Road, Bristol BS5 6AA"), "\(r.stdout)\(r.stderr)")
        r = try await run(["kits", "mark", "K-TEST", "sent", "--reason", "posted", "--data-dir", dir.path, "--token", token])
        #expect(r.stdout.contains("K-TEST sent"), "\(r.stderr)")
        r = try await run(["kits", "show", "K-TEST", "--data-dir", dir.path, "--token", token])
        #expect(!r.stdout.contains("Test Road"))
        r = try await run(["kits", "mark", "K-TEST", "sent", "--data-dir", dir.path, "--token", token])
        #expect(r.status != 0 && r.stderr.contains("already sent"))
        r = try await run(["reports", "reply", "R-ZZZZ", "hello", "--data-dir", dir.path, "--token", token])
        #expect(r.status != 0 && r.stderr.contains("no live report R-ZZZZ"))
    }

    /// `lantern keys rotate` beside a running daemon: texts keep being answered during it, no
    /// subscriber is lost, and afterwards nothing opens under the old key (which is gone).
    @Test func keysRotateWhileLanternKeepsRunning() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSMSAPI.start()
        let lantern = try await RunningLantern.start(configuration: testConfiguration(directory: dir.url, fakeAPI: fake.baseURL),
                                                     logger: LogCapture().logger(level: .info))
        let oldKeys = try #require(try KeyFile.load(directory: dir.url, environment: [:]))
        try await Seed.subscribers(500, areas: "BS5", database: lantern.database, provider: "twilio")
        let builder = TwilioWebhookBuilder(publicBaseURL: "https://sms.example.org", authToken: "test-auth-token")
        let client = TestHTTPClient()

        let rotation = Task.detached { try await self.run(["keys", "rotate", "--data-dir", dir.path, "--settle", "3"]) }
        // Texts while it runs: each is answered (numbers sealed under whichever key is current).
        for i in 0..<20 {
            let r = try await client.post(lantern.baseURL, builder.inbound(sid: "SMrot\(i)", from: "+4477009002\(String(format: "%02d", i))", body: "alerts BS5"))
            #expect(r.status == 200)
            try await Task.sleep(for: .milliseconds(150))
        }
        let r = try await rotation.value
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("data key version 2") && r.stdout.contains("the old key is deleted"), "\(r.stdout)")
        let newKeys = try #require(try KeyFile.load(directory: dir.url, environment: [:]))
        #expect(newKeys.version == 2 && newKeys.retired.isEmpty)

        // The running daemon answered all twenty, and still reaches every subscriber.
        let answered = await fake.waitForRequests(20)
        #expect(Set(answered.compactMap { $0.form["To"] }).count == 20)
        let token = try await lantern.database.createAdminToken(name: "sam", role: .coordinator, now: Date())
        let preview = try await client.request("POST", lantern.baseURL.appendingPathComponent("admin/broadcasts/preview"),
                                               headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                                               body: #"{"areas": ["BS5"], "text": "Test alert", "confirmed": false}"#)
        #expect(preview.body.contains("\"recipients\" : 500"), "\(preview.body)")
        #expect(try await lantern.database.auditLog().contains { $0.actor == "lantern-cli" && $0.action == "keys.rotated" })
        try await lantern.stop()
        await fake.stop()

        // Reopened with only the new key, every number opens; with only the old key, none does.
        let reopened = try AppDatabase.open(path: dir.url.appendingPathComponent("lantern.sqlite").path, vault: PIIVault(keys: newKeys))
        // The old key alone is refused at the door...
        #expect(throws: KeyCheckError.self) {
            try AppDatabase.open(path: dir.url.appendingPathComponent("lantern.sqlite").path, vault: PIIVault(keys: oldKeys.withoutRetired()))
        }
        // ...and could not open a single number anyway.
        let stale = PIIVault(keys: oldKeys.withoutRetired())
        let numbers = try await reopened.sealedNumbers()
        #expect(numbers.count == 520)
        for blob in numbers {
            #expect((try? reopened.vault.open(blob)) != nil)
            #expect((try? stale.open(blob)) == nil)
        }
    }

    @Test func contactsForgetAndAuditFromTheCommandLineKeepNumbersOutOfShellHistory() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var config = LanternConfiguration(dataDirectory: dir.url)
        config.flowsDirectory = Repository.flows
        let db = try Lantern.openDatabase(config)
        let sam = try await db.createAdminToken(name: "sam", role: .coordinator, now: Date())
        let root = try await db.createAdminToken(name: "root", role: .admin, now: Date())
        try await Seed.subscribers(1, areas: "BS5", database: db, provider: "twilio")
        let number = Seed.syntheticNumber(0).e164
        // The number typed at the prompt, not given as an argument.
        var r = try await run(["contacts", "forget", "--data-dir", dir.path, "--token", sam], stdin: number + "\n")
        #expect(r.status == 0 && r.stdout.contains("erased"), "\(r.stderr)")
        #expect(try await db.contact(for: Seed.syntheticNumber(0)) == nil)
        // Again, or for a number that never texted: the same answer, so it reveals nothing.
        let again = try await run(["contacts", "forget", number, "--data-dir", dir.path, "--token", sam])
        let never = try await run(["contacts", "forget", "+447700900177", "--data-dir", dir.path, "--token", sam])
        #expect(again.status == 0 && again.stdout == r.stdout && never.stdout == r.stdout && never.status == 0, "\(again.stderr)")
        r = try await run(["contacts", "block", "+447700900188", "--data-dir", dir.path, "--token", sam])
        #expect(r.status == 0 && r.stdout.contains("blocked"))
        r = try await run(["audit", "--data-dir", dir.path, "--token", sam])
        #expect(r.status != 0 && r.stderr.contains("admin token"))
        r = try await run(["audit", "--data-dir", dir.path, "--token", root])
        #expect(r.stdout.contains("sam\tcontact.blocked") && r.stdout.contains("sam\tcontact.erased"), "\(r.stdout)")
        #expect(!r.stdout.contains("7700900188") && !r.stdout.contains(number))
    }

    @Test func serveRefusesUnsafeTwilioSettings() async throws {
        let r = try await run(["serve", "--port", "0"], environment: ["TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "secret-value",
                                                                  "TWILIO_FROM_NUMBER": "+447700900999"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("LANTERN_PUBLIC_URL is required with Twilio"))
        #expect(!r.stderr.contains("secret-value"))
    }
}
