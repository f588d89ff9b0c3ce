import ArgumentParser
import Foundation
import LanternCore
import LanternServer
import LanternStore
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif


/// Where broadcast commands go: a running daemon's admin API (`--url`), or the local database.
struct AdminConnection: ParsableArguments {
    @OptionGroup var common: CommonOptions
    @Option(help: "A running Lantern's address, e.g. http://127.0.0.1:8080 (default: work on the local database).")
    var url: String?
    @Option(help: "Your admin token (or set LANTERN_ADMIN_TOKEN, in the environment or the config file).")
    var token: String?
    @Flag(help: "Print the raw JSON.") var json = false

    /// `--token`, else `LANTERN_ADMIN_TOKEN` from the environment or the config file.
    func resolvedToken() throws -> String? {
        if let token { return token }
        do { return try SettingSources().value("LANTERN_ADMIN_TOKEN") } catch { throw ValidationError("configuration: \(error)") }
    }

    /// Calls the admin API, or does the same against the local database, returning the JSON.
    func call(_ operation: AdminOperation) async throws -> Data {
        guard let token = try resolvedToken() else { throw ValidationError("give --token or set LANTERN_ADMIN_TOKEN (create one with: lantern tokens create)") }
        if let url { return try await remote(operation, url: url, token: token) }
        var config = try loadConfiguration()
        common.apply(to: &config)
        restrictFileModes()
        let lantern: Lantern
        do {
            lantern = try Lantern.boot(configuration: config, logger: Logger(label: "lantern") { _ in SwiftLogNoOpLogHandler() })
        } catch { throw ValidationError("\(error)") }
        guard let identity = try await lantern.database.adminIdentity(forToken: token) else { throw ValidationError("401: that token is not valid") }
        let desk = lantern.desk
        let e = AdminJSON.encoder
        do {
            switch operation {
            case .preview(let r): return try e.encode(try await desk.preview(r))
            case .send(let r): return try e.encode(try await desk.send(r, by: identity))
            case .list: return try e.encode(try await desk.broadcastList())
            case .status(let id): return try e.encode(try await desk.broadcast(id))
            case .approve(let id): return try e.encode(try await desk.approve(id, by: identity))
            case .cancel(let id): return try e.encode(try await desk.cancel(id, by: identity))
            case .kits(let all): return try e.encode(try await desk.kitQueue(includeClosed: all))
            case .kit(let ref): return try e.encode(try await desk.kit(ref, by: identity))
            case .markKit(let ref, let status, let reason): return try e.encode(try await desk.markKit(ref, as: status, reason: reason, by: identity))
            case .replyToReport(let ref, let text): return try e.encode(["queued": try await desk.replyToReport(ref, text: text, by: identity)])
            case .spotCounts(let days): return try e.encode(try await desk.spotCounts(days: days))
            case .forget(let number):
                // The same answer whether she ever texted or not (see the admin API).
                try await desk.forget(number, by: identity)
                return try e.encode(["erased": true])
            case .block(let number, let blocked):
                return try e.encode(["blocked": blocked, "changed": try await desk.setBlocked(number, blocked, by: identity)])
            case .audit(let limit): return try e.encode(try await desk.auditLog(limit: limit, by: identity))
            }
        } catch let e as DeskError {
            if case .needsAdmin = e { throw ValidationError("403: \(e.description)") }
            throw ValidationError(e.description)
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
    case spotCounts(days: Int)

    var method: String {
        switch self {
        case .list, .status, .kits, .kit, .audit, .spotCounts: "GET"
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
        case .spotCounts(let days): "/admin/spot/counts?days=\(days)"
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
