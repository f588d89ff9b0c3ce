import Foundation
import LanternStore
import LanternTesting
import Testing

/// Starting with keys that do not belong to the database must be refused, never quietly turn
/// every subscriber into a stranger.
extension CommandLineTests {
    @Test func startingWithMissingOrForeignKeysIsRefusedAndTheDataSurvives() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let data = dir.url.appendingPathComponent("data")
        var r = try await run(["chat", "--data-dir", data.path], stdin: "ALERTS BS5\nYES\n")
        #expect(r.status == 0, "\(r.stderr)")
        // `chat` keeps its own database in <data-dir>/chat; `serve` is pointed straight at it.
        let served = data.appendingPathComponent("chat")
        let keyFile = served.appendingPathComponent("keys.json")
        let saved = try Data(contentsOf: keyFile)

        // 1. The key file deleted: no new keys are written, nothing starts.
        try FileManager.default.removeItem(at: keyFile)
        r = try await run(["serve", "--data-dir", served.path, "--port", "0"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("holds data but its keys are missing") && r.stderr.contains("Restore keys.json"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: keyFile.path), "new keys were written for a database with data")

        // 2. Another install's key file copied in.
        let other = dir.url.appendingPathComponent("other")
        #expect(try await run(["chat", "--data-dir", other.path], stdin: "HELP\n").status == 0)
        try FileManager.default.copyItem(at: other.appendingPathComponent("chat/keys.json"), to: keyFile)
        r = try await run(["serve", "--data-dir", served.path, "--port", "0"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("the keys do not open the database") && r.stderr.contains("keys.json"), "\(r.stderr)")

        // 3. Secrets in the environment that are not this database's.
        try FileManager.default.removeItem(at: keyFile)
        let env = ["LANTERN_DATA_KEY": Data(repeating: 1, count: 32).base64EncodedString(),
                   "LANTERN_INDEX_KEY": Data(repeating: 2, count: 32).base64EncodedString()]
        r = try await run(["chat", "--data-dir", data.path], stdin: "MY ALERTS\n", environment: env)
        #expect(r.status != 0)
        #expect(r.stderr.contains("LANTERN_DATA_KEY/LANTERN_INDEX_KEY"), "\(r.stderr)")

        // The right keys back: she is still signed up, and there is still one of her.
        _ = FileManager.default.createFile(atPath: keyFile.path, contents: saved, attributes: [.posixPermissions: 0o600])
        r = try await run(["chat", "--data-dir", data.path], stdin: "MY ALERTS\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("BS5"), "\(r.stdout)")
    }
}
