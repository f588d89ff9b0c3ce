import Foundation
import LanternCore
import LanternProviders
import LanternStore
import LanternTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `lantern backup` while texts keep arriving, then `lantern restore`, as an operator would.
extension CommandLineTests {
    /// `lantern serve` on a free port in `data`; returns the process and its address.
    func startServe(data: URL, log: URL) async throws -> (ChildProcess, URL) {
        let p = try ChildProcess(Self.binary, ["serve", "--data-dir", data.path, "--port", "0"],
                                 environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TWILIO_") && !$0.key.hasPrefix("LANTERN_") },
                                 directory: Repository.root, error: .file(log))
        for _ in 0..<400 {
            try await Task.sleep(for: .milliseconds(50))
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("listening") && $0.contains("address=127.0.0.1:") }),
               let r = line.range(of: "address=127.0.0.1:"), let port = Int(line[r.upperBound...].prefix { $0.isNumber }) {
                return (p, URL(string: "http://127.0.0.1:\(port)")!)
            }
        }
        p.terminate()
        throw CancellationError()
    }

    func stop(_ p: ChildProcess) async {
        p.signal(SIGTERM)
        for _ in 0..<200 where p.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
    }

    @Test func aBackupTakenUnderLoadRestoresOnlyWithItsKeys() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let data = dir.url.appendingPathComponent("data")
        let (server, base) = try await startServe(data: data, log: dir.url.appendingPathComponent("serve.log"))
        let client = TestHTTPClient()
        func text(_ n: Int, _ body: String) async throws {
            _ = try await client.request("POST", base.appendingPathComponent("webhooks/console"),
                                         headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                         body: FormEncoding.encode([("From", String(format: "+447700900%03d", n)), ("Body", body)]))
        }
        for n in 0..<40 { try await text(n, "ALERTS BS5"); try await text(n, "YES") }
        // Texts keep coming while the backup is taken.
        let load = Task { for n in 40..<140 { try await text(n, n.isMultiple(of: 2) ? "ALERTS M14" : "YES") } }
        let backupPath = dir.url.appendingPathComponent("lantern-backup.sqlite").path
        let made = try await run(["backup", backupPath, "--data-dir", data.path])
        try await load.value
        await stop(server)
        #expect(made.status == 0 && made.stdout.contains("The keys are not in it"), "\(made.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: backupPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // Never over an existing file.
        #expect(try await run(["backup", backupPath, "--data-dir", data.path]).stderr.contains("already exists"))
        // The keys are not in it.
        let keyFile = try Data(contentsOf: data.appendingPathComponent("keys.json"))
        let keys = try JSONSerialization.jsonObject(with: keyFile) as! [String: Any]
        let backupBytes = try Data(contentsOf: URL(fileURLWithPath: backupPath))
        for name in ["data_key", "index_key"] {
            let key = try #require(keys[name] as? String)
            #expect(backupBytes.range(of: Data(key.utf8)) == nil && backupBytes.range(of: Data(base64Encoded: key)!) == nil)
        }

        // Restored on a fresh machine with the wrong keys: refused, nothing written.
        let fresh = dir.url.appendingPathComponent("fresh")
        #expect(try await run(["chat", "--data-dir", fresh.path], stdin: "HELP\n").status == 0)   // makes fresh/chat/keys.json
        let other = fresh.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.copyItem(at: fresh.appendingPathComponent("chat/keys.json"), to: other.appendingPathComponent("keys.json"))
        var r = try await run(["restore", backupPath, "--data-dir", other.path])
        #expect(r.status != 0 && r.stderr.contains("do not open the backup"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: other.appendingPathComponent("lantern.sqlite").path))

        // With its own keys: restored, and everyone subscribed before the backup began is there.
        let restored = dir.url.appendingPathComponent("restored")
        try FileManager.default.createDirectory(at: restored, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = FileManager.default.createFile(atPath: restored.appendingPathComponent("keys.json").path, contents: keyFile,
                                           attributes: [.posixPermissions: 0o600])
        r = try await run(["restore", backupPath, "--data-dir", restored.path])
        #expect(r.status == 0, "\(r.stderr)")
        let db = try AppDatabase.open(path: restored.appendingPathComponent("lantern.sqlite").path,
                                      vault: PIIVault(keys: try #require(try KeyFile.load(directory: restored, environment: [:]))))
        for n in 0..<40 {
            #expect(try await db.contact(for: PhoneNumber(String(format: "+447700900%03d", n))!)?.subscriptions == ["BS5"])
        }
        // A second restore over it needs --replace, and never while a server runs there.
        #expect(try await run(["restore", backupPath, "--data-dir", restored.path]).stderr.contains("--replace"))
        let (running, _) = try await startServe(data: restored, log: dir.url.appendingPathComponent("serve2.log"))
        r = try await run(["restore", backupPath, "--replace", "--data-dir", restored.path])
        await stop(running)
        #expect(r.status != 0 && r.stderr.contains("stop it first"), "\(r.stderr)")
    }
}
