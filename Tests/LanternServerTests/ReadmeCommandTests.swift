import Foundation
import LanternTesting
import Testing

/// Every `lantern …` command shown in the README's shell blocks is run, as written, against a
/// temporary data directory, in the README's order: the README cannot promise a command that
/// fails. The few that need a running daemon (`serve`, and `curl` to it) are named here, with the
/// tests that run them.
extension CommandLineTests {
    /// Commands that start or talk to a running daemon, and where they are exercised instead.
    static let needsADaemon: [String: String] = [
        "serve": "StartAndStopTests, CrashTests and the end-to-end suites start the daemon",
        "curl": "the end-to-end suites post webhooks to the running daemon",
    ]

    /// The README's shell commands, in order, without prompts' prefixes or trailing comments.
    static func readmeCommands() throws -> [[String]] {
        let readme = try String(contentsOf: Repository.root.appendingPathComponent("README.md"), encoding: .utf8)
        var inShell = false, inBlock = false
        var commands: [[String]] = []
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if inBlock { inBlock = false; inShell = false } else { inBlock = true; inShell = ["sh", "bash", "console", ""].contains(line.dropFirst(3).trimmingCharacters(in: .whitespaces)) }
                continue
            }
            guard inShell else { continue }
            var text = line.trimmingCharacters(in: .whitespaces)
            for prefix in ["swift run ", ".build/debug/", "sudo -u lantern /opt/lantern/", "/opt/lantern/"] where text.hasPrefix(prefix) {
                text.removeFirst(prefix.count)
            }
            guard text.hasPrefix("lantern ") || text.hasPrefix("curl ") else { continue }
            commands.append(shellWords(text))
        }
        return commands
    }

    /// Words as a shell splits them (double and single quotes), up to a `#` comment.
    static func shellWords(_ line: String) -> [String] {
        var words: [String] = [], current = "", quote: Character?, started = false
        for c in line {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
                started = true
            } else if c == "#" && !started && current.isEmpty {
                break
            } else if c == " " {
                if started { words.append(current); current = ""; started = false }
            } else {
                current.append(c)
                started = true
            }
        }
        if started { words.append(current) }
        return words
    }

    @Test func everyCommandInTheReadmeRunsAsWritten() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var env = ["LANTERN_DATA_DIR": dir.path]
        // Two tokens of the test's own: an admin to run the README's commands, and another
        // coordinator whose alerts wait for approval (nobody approves their own).
        let admin = try await run(["tokens", "create", "--name", "readme", "--role", "admin"], environment: env)
        let bob = try await run(["tokens", "create", "--name", "bob"], environment: env)
        #expect(admin.status == 0 && bob.status == 0, "\(admin.stderr)\(bob.stderr)")
        for _ in 1...4 {
            let waiting = try await run(["broadcast", "send", "--areas", "BS5", "--text", "Test alert", "--confirmed", "--requires-approval"],
                                        environment: env.merging(["LANTERN_ADMIN_TOKEN": bob.stdout.trimmingCharacters(in: .whitespacesAndNewlines)]) { _, b in b })
            #expect(waiting.status == 0, "\(waiting.stderr)")
        }
        // A kit request and a report, made by text, for the README's kit and report commands
        // (chat keeps a database of its own, in chat/ under the data directory: those commands
        // run there, with an admin token made there).
        let chatEnv = ["LANTERN_DATA_DIR": dir.url.appendingPathComponent("chat").path]
        let chat = try await run(["chat"], stdin: "KIT\n1\n2\nFlat 1, 2 Example Street, Bristol BS5 6AA\nREPORT\nBS5\n1\n1\nBrown powder, very strong\n",
                                 environment: env)
        #expect(chat.status == 0, "\(chat.stderr)")
        func ref(_ prefix: String) -> String? {
            chat.stdout.range(of: prefix + #"-[0-9A-Z]{6}"#, options: .regularExpression).map { String(chat.stdout[$0]) }
        }
        let kit = try #require(ref("K"), "\(chat.stdout)")
        let report = try #require(ref("R"), "\(chat.stdout)")
        env["LANTERN_ADMIN_TOKEN"] = admin.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let chatAdmin = try await run(["tokens", "create", "--name", "readme", "--role", "admin"], environment: chatEnv)
        #expect(chatAdmin.status == 0, "\(chatAdmin.stderr)")
        let kitsAndReports = chatEnv.merging(["LANTERN_ADMIN_TOKEN": chatAdmin.stdout.trimmingCharacters(in: .whitespacesAndNewlines)]) { _, b in b }

        // Translators' commands work on a copy of the locales, their files in the data directory.
        let locales = dir.url.appendingPathComponent("locales")
        try FileManager.default.copyItem(at: Repository.locales, to: locales)
        let translating = env.merging(["LANTERN_LOCALES_DIR": locales.path]) { _, b in b }

        let commands = try Self.readmeCommands()
        #expect(commands.count >= 15, "the README's shell blocks were not read: \(commands)")
        var ran: [String] = []
        for words in commands {
            let name = words[0] == "curl" ? "curl" : words.dropFirst().first ?? ""
            if Self.needsADaemon[name] != nil { continue }
            let arguments = Array(words.dropFirst()).map { $0 == "K-7Q4M2X" ? kit : $0 == "R-3KD9WP" ? report : $0.hasSuffix(".po") ? dir.url.appendingPathComponent($0).path : $0 }
            let here = ["kits", "reports"].contains(arguments.first ?? "") ? kitsAndReports : arguments.first == "locales" ? translating : env
            let r = try await run(arguments, stdin: arguments.first == "chat" ? "help\n" : nil, environment: here)
            #expect(r.status == 0, "lantern \(arguments.joined(separator: " ")) failed: \(r.stderr)")
            ran.append(arguments.prefix(2).joined(separator: " "))
        }
        // The ones an operator meets first are among them.
        for expected in ["flows check", "config check", "tokens create", "broadcast preview", "kits show", "reports reply", "keys rotate", "chat",
                         "locales export", "locales import"] {
            #expect(ran.contains { $0.hasPrefix(expected) }, "\(expected) is no longer in the README")
        }
    }
}
