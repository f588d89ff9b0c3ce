import ArgumentParser
import Foundation
import LanternCore
import LanternServer
import LanternStore
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Admin API tokens (kept in the local database; only a hash is stored).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it once.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Who it is for, e.g. a coordinator's first name.") var name: String
        @Option(help: "coordinator (broadcasts) or admin (also tokens).") var role: AdminRole = .coordinator

        func run() async throws {
            let db = try openLocal(common)
            do {
                let token = try await db.createAdminToken(name: name, role: role, now: Date())
                print(token)
                FileHandle.standardError.write(Data("Token for \(name) (\(role.rawValue)). It is shown only this once: store it safely.\n".utf8))
            } catch let e as AdminTokenError {
                throw ValidationError(e.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (names and roles, never the tokens).")
        @OptionGroup var common: CommonOptions
        func run() async throws {
            for t in try await openLocal(common).adminTokens() {
                print("\(t.name)\t\(t.role.rawValue)\tcreated \(t.createdAt.formatted(.iso8601))\(t.revokedAt.map { "\trevoked \($0.formatted(.iso8601))" } ?? "")")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by name.")
        @OptionGroup var common: CommonOptions
        @Argument var name: String
        func run() async throws {
            guard try await openLocal(common).revokeAdminToken(name: name, by: "lantern-cli", now: Date()) else {
                throw ValidationError("no live token named '\(name)'")
            }
            print("revoked \(name)")
        }
    }
}

extension AdminRole: ExpressibleByArgument {}

func openLocal(_ common: CommonOptions) throws -> AppDatabase {
    var config = try loadConfiguration()
    common.apply(to: &config)
    restrictFileModes()
    do { return try Lantern.openDatabase(config) } catch { throw ValidationError("\(error)") }
}

/// Where broadcast commands go: a running daemon's admin API (`--url`), or the local database.
struct AdminConnection: ParsableArguments {
    @OptionGroup var common: CommonOptions
    @Option(help: "A running Lantern's address, e.g. http://127.0.0.1:8080 (default: work on the local database).")
    var url: String?
    @Option(help: "Your admin token (or set LANTERN_ADMIN_TOKEN).")
    var token: String?
    @Flag(help: "Print the raw JSON.") var json = false

    var resolvedToken: String? { token ?? ProcessInfo.processInfo.environment["LANTERN_ADMIN_TOKEN"] }

    /// Calls the admin API, or does the same against the local database, returning the JSON.
    func call(_ operation: AdminOperation) async throws -> Data {
        guard let token = resolvedToken else { throw ValidationError("give --token or set LANTERN_ADMIN_TOKEN (create one with: lantern tokens create)") }
        if let url { return try await remote(operation, url: url, token: token) }
        var config = try loadConfiguration()
        common.apply(to: &config)
        restrictFileModes()
        let lantern: Lantern
        do {
            lantern = try Lantern.boot(configuration: config, logger: Logger(label: "lantern") { _ in SwiftLogNoOpLogHandler() })
        } catch { throw ValidationError("\(error)") }
        guard let identity = try await lantern.database.adminIdentity(forToken: token) else { throw ValidationError("401: that token is not valid") }
        let service = lantern.broadcasts
        let e = AdminJSON.encoder
        do {
            switch operation {
            case .preview(let r): return try e.encode(try await service.preview(r))
            case .send(let r): return try e.encode(try await service.send(r, by: identity))
            case .list: return try e.encode(try await service.list())
            case .status(let id): return try e.encode(try await service.status(id))
            case .approve(let id): return try e.encode(try await service.approve(id, by: identity))
            case .cancel(let id): return try e.encode(try await service.cancel(id, by: identity))
            case .kits(let all): return try e.encode(try await lantern.kits.queue(includeClosed: all))
            case .kit(let ref): return try e.encode(try await lantern.kits.show(ref, by: identity))
            case .markKit(let ref, let status, let reason):
                return try e.encode(try await lantern.kits.mark(ref, as: status, reason: reason, by: identity))
            case .replyToReport(let ref, let text):
                return try e.encode(["queued": try await lantern.database.replyToReport(ref, text: text, by: identity.name, now: Date())])
            case .forget(let number):
                // The same answer whether she ever texted or not (see the admin API).
                _ = try await lantern.database.forgetContact(number, by: identity.name, now: Date())
                return try e.encode(["erased": true])
            case .block(let number, let blocked):
                let changed = try await lantern.database.setBlocked(number, blocked, by: identity.name, now: Date())
                return try e.encode(["blocked": blocked, "changed": changed])
            case .audit(let limit):
                guard identity.role == .admin else { throw ValidationError("403: the audit log needs an admin token") }
                return try e.encode(try await lantern.database.auditLog(limit: limit).map {
                    AuditEntry(at: $0.at, actor: $0.actor, action: $0.action, subject: $0.subject)
                })
            }
        } catch let e as BroadcastRequestError {
            throw ValidationError(e.description)
        } catch let e as BroadcastError {
            throw ValidationError(e.description)
        } catch let e as KitError {
            throw ValidationError(e.description)
        } catch let e as ReportError {
            throw ValidationError(e.description)
        }
    }

    func remote(_ operation: AdminOperation, url: String, token: String) async throws -> Data {
        guard let endpoint = URL(string: url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + operation.path) else {
            throw ValidationError("--url is not a URL")
        }
        var request = URLRequest(url: endpoint, timeoutInterval: 30)
        request.httpMethod = operation.method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body = try operation.body() {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        let (data, response) = try await URLSession(configuration: .ephemeral).data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let message = (try? JSONDecoder().decode([String: String].self, from: data))?["error"] ?? String(decoding: data, as: UTF8.self)
            throw ValidationError("\(status): \(message)")
        }
        return data
    }
}

/// One thing the admin commands can do, as the admin API spells it.
enum AdminOperation {
    case preview(BroadcastRequest), send(BroadcastRequest), list, status(Int64), approve(Int64), cancel(Int64)
    case kits(all: Bool), kit(String), markKit(String, KitInfo.Status, KitCloseReason?)
    case replyToReport(String, String)
    case forget(PhoneNumber), block(PhoneNumber, Bool), audit(Int)

    var method: String {
        switch self {
        case .list, .status, .kits, .kit, .audit: "GET"
        default: "POST"
        }
    }

    var path: String {
        switch self {
        case .preview: "/admin/broadcasts/preview"
        case .send, .list: "/admin/broadcasts"
        case .status(let id): "/admin/broadcasts/\(id)"
        case .approve(let id): "/admin/broadcasts/\(id)/approve"
        case .cancel(let id): "/admin/broadcasts/\(id)/cancel"
        case .kits(let all): "/admin/kits\(all ? "?all=true" : "")"
        case .kit(let ref): "/admin/kits/\(ref)"
        case .markKit(let ref, let status, _): "/admin/kits/\(ref)/\(status.rawValue)"
        case .replyToReport(let ref, _): "/admin/reports/\(ref)/reply"
        case .forget: "/admin/contacts/forget"
        case .block(_, let blocked): blocked ? "/admin/contacts/block" : "/admin/contacts/unblock"
        case .audit(let limit): "/admin/audit?limit=\(limit)"
        }
    }

    func body() throws -> Data? {
        switch self {
        case .preview(let r), .send(let r): try AdminJSON.encoder.encode(r)
        case .markKit(_, _, let reason?): try AdminJSON.encoder.encode(["reason": reason.rawValue])
        case .replyToReport(_, let text): try AdminJSON.encoder.encode(["text": text])
        case .forget(let n), .block(let n, _): try AdminJSON.encoder.encode(["number": n.e164])
        default: nil
        }
    }
}

struct Broadcast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bad-batch alerts to subscribers: preview, send, status, cancel, approve.",
        subcommands: [Preview.self, Send.self, Status.self, Cancel.self, Approve.self])

    struct Content: ParsableArguments {
        @Option(help: "The alert's words (English).") var text: String?
        @Option(help: "The words for people who asked for discreet wording (no drug or naloxone names).") var discreetText: String?
        @Option(help: "A pre-written alert from locales/, e.g. nitazenes.") var template: String?
        @Option(help: "Areas, comma-separated: districts (BS5), area names, or all.") var areas: String
        @Flag(help: "The report is confirmed (otherwise it says 'Unconfirmed report').") var confirmed = false
        @Option(help: "Hours until it is stale and is no longer sent (default 6).") var expiresIn: Double?
        @Flag(help: "Wait for a second coordinator to approve before sending.") var requiresApproval = false
        @Flag(help: "Send the plain words to everyone, discreet subscribers too (their lock screens will show them).")
        var plainForEveryone = false

        var request: BroadcastRequest {
            let both = discreetText.map { d in text.map { [defaultLocale: $0, defaultLocale + BroadcastDraft.discreetSuffix: d] } } ?? nil
            return BroadcastRequest(text: both == nil ? text : nil, texts: both, template: template,
                                    areas: areas.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                                    expiresInHours: expiresIn, confirmed: confirmed, requiresApproval: requiresApproval ? true : nil,
                                    plainForEveryone: plainForEveryone ? true : nil)
        }
    }

    struct Preview: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Who would get it, how long it is, how long it takes, what it costs.")
        @OptionGroup var connection: AdminConnection
        @OptionGroup var content: Content
        func run() async throws {
            let data = try await connection.call(.preview(content.request))
            if connection.json { print(String(decoding: data, as: UTF8.self)); return }
            let p = try AdminJSON.decoder.decode(BroadcastPreview.self, from: data)
            print("Recipients: \(p.recipients) in \(p.areas.joined(separator: ", "))")
            for m in p.messages {
                print("[\(m.locale)] \(m.segments) segment(s), \(m.encoding), \(m.characters) characters, \(m.recipients) recipient(s)")
                if !m.nonGSMCharacters.isEmpty { print("  these characters make it UCS-2 (costlier): \(m.nonGSMCharacters.joined(separator: " "))") }
                print(m.text.split(separator: "\n", omittingEmptySubsequences: false).map { "  | " + $0 }.joined(separator: "\n"))
            }
            print(String(format: "Total: %d segments, about %.0f s to send, about %.2f %@", p.totalSegments, p.estimatedSeconds, p.estimatedCost, p.currency))
            print("Stops being sent at \(p.expiresAt.formatted(.iso8601))\(p.requiresApproval ? "; needs a second coordinator to approve" : "")")
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send an alert now (or put it up for approval).")
        @OptionGroup var connection: AdminConnection
        @OptionGroup var content: Content
        func run() async throws {
            let data = try await connection.call(.send(content.request))
            try show(data, json: connection.json)
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Progress of one broadcast, or list recent ones.")
        @OptionGroup var connection: AdminConnection
        @Argument var id: Int64?
        func run() async throws {
            guard let id else {
                let data = try await connection.call(.list)
                if connection.json { print(String(decoding: data, as: UTF8.self)); return }
                for b in try AdminJSON.decoder.decode([BroadcastSummary].self, from: data) { print(line(b)) }
                return
            }
            try show(try await connection.call(.status(id)), json: connection.json)
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop everything not yet sent.")
        @OptionGroup var connection: AdminConnection
        @Argument var id: Int64
        func run() async throws { try show(try await connection.call(.cancel(id)), json: connection.json) }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve another coordinator's broadcast so it goes out.")
        @OptionGroup var connection: AdminConnection
        @Argument var id: Int64
        func run() async throws { try show(try await connection.call(.approve(id)), json: connection.json) }
    }
}

func line(_ b: BroadcastSummary) -> String {
    let c = b.counts
    return "#\(b.id) \(b.status.rawValue) \(b.areas.joined(separator: ",")) by \(b.createdBy): \(b.recipients) recipients, "
        + "\(c.queued + c.sending) queued, \(c.sent) sent, \(c.delivered) delivered, \(c.failed + c.unknown) failed, \(c.skipped) skipped; "
        + "expires \(b.expiresAt.formatted(.iso8601))"
}

func show(_ data: Data, json: Bool) throws {
    if json { print(String(decoding: data, as: UTF8.self)); return }
    print(line(try AdminJSON.decoder.decode(BroadcastSummary.self, from: data)))
}

extension KitInfo.Status: ExpressibleByArgument {}
extension KitCloseReason: ExpressibleByArgument {}

struct Kits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Naloxone kit requests: the queue, one request (with its address), marking them sent, collected or cancelled.",
        subcommands: [List.self, Show.self, Mark.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open requests, oldest first (--all for closed ones too).")
        @OptionGroup var connection: AdminConnection
        @Flag(help: "Include closed requests.") var all = false
        func run() async throws {
            let data = try await connection.call(.kits(all: all))
            if connection.json { print(String(decoding: data, as: UTF8.self)); return }
            for k in try AdminJSON.decoder.decode([KitSummary].self, from: data) {
                print("\(k.ref)\t\(k.status.rawValue)\t\(k.kind)\t\(k.method)\(k.pickup.map { " (\($0))" } ?? "")\t\(k.createdAt.formatted(.iso8601))")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One request, with its address (this view is recorded in the audit log).")
        @OptionGroup var connection: AdminConnection
        @Argument var ref: String
        func run() async throws {
            let data = try await connection.call(.kit(ref))
            if connection.json { print(String(decoding: data, as: UTF8.self)); return }
            let k = try AdminJSON.decoder.decode(KitDetail.self, from: data)
            print("\(k.summary.ref) \(k.summary.status.rawValue): \(k.summary.kind), \(k.summary.method)\(k.summary.pickup.map { " from \($0)" } ?? "")")
            if let address = k.address { print(address) }
        }
    }

    struct Mark: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a request: its address is deleted and she is told.")
        @OptionGroup var connection: AdminConnection
        @Argument var ref: String
        @Argument(help: "sent, collected or cancelled") var status: KitInfo.Status
        @Option(help: "Why (posted, collected, person_asked, duplicate, no_stock, unreachable, other); no free text is kept.")
        var reason: KitCloseReason?
        func run() async throws {
            let data = try await connection.call(.markKit(ref, status, reason))
            if connection.json { print(String(decoding: data, as: UTF8.self)); return }
            let k = try AdminJSON.decoder.decode(KitSummary.self, from: data)
            print("\(k.ref) \(k.status.rawValue)")
        }
    }
}

struct Reports: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bad-batch reports.", subcommands: [Reply.self])

    struct Reply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answer the person who sent a report, by its reference (you never see her number).")
        @OptionGroup var connection: AdminConnection
        @Argument var ref: String
        @Argument var text: String
        func run() async throws {
            _ = try await connection.call(.replyToReport(ref, text))
            print("queued for \(ref)")
        }
    }
}

struct Contacts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Erase or block a person by number (the number is read from standard input when not given, so it stays out of shell history).",
        subcommands: [Forget.self, Block.self, Unblock.self])

    struct Number: ParsableArguments {
        @Argument(help: "The number, e.g. +447700900123 (omit to type it in).") var number: String?

        func resolve() throws -> PhoneNumber {
            var raw = number
            if raw == nil {
                FileHandle.standardError.write(Data("number: ".utf8))
                raw = readLine()
            }
            guard let n = raw.flatMap({ PhoneNumber($0.trimmingCharacters(in: .whitespaces)) }) else {
                throw ValidationError("that is not a phone number (use +44…)")
            }
            return n
        }
    }

    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Erase everything Lantern holds about a number, as if she had texted FORGET.")
        @OptionGroup var connection: AdminConnection
        @OptionGroup var number: Number
        func run() async throws {
            _ = try await connection.call(.forget(try number.resolve()))
            print("erased: Lantern holds nothing for this number now")
        }
    }

    struct Block: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop answering a number that abuses the service (STOP and FORGET still work for it).")
        @OptionGroup var connection: AdminConnection
        @OptionGroup var number: Number
        func run() async throws {
            _ = try await connection.call(.block(try number.resolve(), true))
            print("blocked")
        }
    }

    struct Unblock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answer a blocked number again.")
        @OptionGroup var connection: AdminConnection
        @OptionGroup var number: Number
        func run() async throws {
            _ = try await connection.call(.block(try number.resolve(), false))
            print("unblocked")
        }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Who did what and when (never what it said or whom it was about). Needs an admin token.")
    @OptionGroup var connection: AdminConnection
    @Option(help: "How many entries, newest first.") var limit = 100
    func run() async throws {
        let data = try await connection.call(.audit(limit))
        if connection.json { print(String(decoding: data, as: UTF8.self)); return }
        for r in try AdminJSON.decoder.decode([AuditEntry].self, from: data) {
            print("\(r.at.formatted(.iso8601))\t\(r.actor)\t\(r.action)\(r.subject.map { "\t\($0)" } ?? "")")
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The keys that protect numbers and addresses.", subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt every number, address and sealed text under a new data key, while Lantern keeps running.",
            discussion: """
                With a key file: makes a new data key, re-encrypts everything, waits for a running `lantern serve` \
                to pick the new key up (it re-reads the key file every 2 s), re-encrypts anything written meanwhile, \
                then deletes the old key. With keys in the environment: put the new key in LANTERN_DATA_KEY (and \
                LANTERN_KEY_VERSION), the old one in LANTERN_RETIRED_DATA_KEYS=version:base64, restart, then run this \
                to re-encrypt; afterwards remove LANTERN_RETIRED_DATA_KEYS.
                """)
        @OptionGroup var common: CommonOptions
        @Option(help: "Seconds to wait for a running server to pick up the new key.") var settle: Double = 3

        func run() async throws {
            var config = try loadConfiguration()
            common.apply(to: &config)
            restrictFileModes()
            let dir = config.dataDirectory
            let fromEnvironment = KeyFile.usesEnvironment()
            if !fromEnvironment {
                guard let old = try KeyFile.load(directory: dir) else {
                    throw ValidationError("no key file in \(dir.path): nothing to rotate")
                }
                try KeyFile.replace(old.rotated(), directory: dir)
            }
            let database: AppDatabase
            do { database = try Lantern.openDatabase(config) } catch { throw ValidationError("\(error)") }
            var counts = try await database.reencryptAll()
            if !fromEnvironment {
                // A running server may take a moment (longer when busy) to pick up the new key,
                // sealing what arrives meanwhile under the old one: go round until a pass finds
                // nothing left under it.
                for _ in 0..<20 {
                    try await Task.sleep(for: .seconds(settle))
                    let late = try await database.reencryptAll()
                    counts.resealed += late.resealed
                    counts.unreadable = late.unreadable
                    if late.resealed == 0 { break }
                }
            }
            try await database.checkpoint()
            let version = database.vault.keys.version
            if counts.unreadable > 0 {
                throw ValidationError("\(counts.unreadable) values could not be opened with any known key; retired keys kept. Re-encrypted \(counts.resealed).")
            }
            if !fromEnvironment {
                try KeyFile.replace(database.vault.keys.withoutRetired(), directory: dir)
                // One last pass (this process still holds the old key) for anything a lagging
                // server sealed under it just now.
                try await Task.sleep(for: .seconds(settle))
                counts.resealed += try await database.reencryptAll().resealed
            }
            try await database.recordAudit(actor: "lantern-cli", action: "keys.rotated", now: Date())
            print("data key version \(version): re-encrypted \(counts.resealed) values\(fromEnvironment ? "; now remove LANTERN_RETIRED_DATA_KEYS" : "; the old key is deleted")")
        }
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the database to PATH, while lantern serve keeps running.",
        discussion: """
            The copy never contains the keys: keep keys.json (or LANTERN_DATA_KEY/LANTERN_INDEX_KEY) \
            backed up separately; a backup is useless without them, and so is the key file without it.
            """)
    @OptionGroup var common: CommonOptions
    @Argument(help: "Where to write the backup (must not exist yet).") var path: String

    func run() async throws {
        var config = try loadConfiguration()
        common.apply(to: &config)
        restrictFileModes()
        let database: AppDatabase
        do { database = try Lantern.openDatabase(config) } catch { throw ValidationError("\(error)") }
        let target = URL(fileURLWithPath: path).standardizedFileURL.path
        do {
            let size = try await database.backup(to: target)
            try await database.recordAudit(actor: "lantern-cli", action: "database.backed_up", now: Date())
            print("backup written: \(target) (\(size / 1024) KiB, owner-only). The keys are not in it.")
        } catch let e as BackupError {
            throw ValidationError("\(e)")
        }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put a backup in place of the database (stop lantern serve first).",
        discussion: "Refused unless the keys in the data directory (or the environment) open the backup.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The backup file.") var backup: String
    @Flag(help: "Replace a database that is already there.") var replace = false

    func run() async throws {
        var config = try loadConfiguration()
        common.apply(to: &config)
        restrictFileModes()
        let dir = config.dataDirectory
        guard FileManager.default.fileExists(atPath: backup) else { throw ValidationError("no backup at \(backup)") }
        let keys: VaultKeys
        do {
            guard let loaded = try KeyFile.load(directory: dir) else {
                throw ValidationError("no keys: put the keys.json that belongs to this backup in \(dir.path) (mode 600), or set LANTERN_DATA_KEY/LANTERN_INDEX_KEY")
            }
            keys = loaded
        } catch let e as VaultError { throw ValidationError("\(e)") }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard let lock = DataDirectoryLock(directory: dir) else {
            throw ValidationError("lantern serve is running on \(dir.path): stop it first")
        }
        _ = lock
        if FileManager.default.fileExists(atPath: config.databasePath) && !replace {
            throw ValidationError("\(config.databasePath) already exists; add --replace to put the backup in its place")
        }
        do {
            try AppDatabase.restore(backup: backup, to: config.databasePath, vault: PIIVault(keys: keys))
        } catch let e as BackupError {
            throw ValidationError("\(e)")
        }
        let database: AppDatabase
        do { database = try Lantern.openDatabase(config) } catch { throw ValidationError("\(error)") }
        try await database.recordAudit(actor: "lantern-cli", action: "database.restored", now: Date())
        print("restored \(backup) to \(config.databasePath)")
    }
}
