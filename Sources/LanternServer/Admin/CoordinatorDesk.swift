import Foundation
import LanternCore
import LanternStore

/// Everything a coordinator or an admin can do, in one place: the admin API, the CLI (on the
/// local database) and the console all call these, so a rule — who may, what is recorded,
/// what is shown — is written once, whichever face asks.
public struct CoordinatorDesk: Sendable {
    public let broadcasts: BroadcastService
    public let kits: KitService
    let now: @Sendable () -> Date

    public init(broadcasts: BroadcastService, kits: KitService, now: @escaping @Sendable () -> Date) {
        self.broadcasts = broadcasts
        self.kits = kits
        self.now = now
    }

    var database: AppDatabase { broadcasts.database }

    // MARK: Broadcasts

    public func preview(_ request: BroadcastRequest) async throws -> BroadcastPreview { try await broadcasts.preview(request) }
    public func send(_ request: BroadcastRequest, by who: AdminIdentity) async throws -> BroadcastSummary { try await broadcasts.send(request, by: who) }
    public func broadcastList() async throws -> [BroadcastSummary] { try await broadcasts.list() }
    public func broadcast(_ id: Int64) async throws -> BroadcastSummary { try await broadcasts.status(id) }
    public func approve(_ id: Int64, by who: AdminIdentity) async throws -> BroadcastSummary { try await broadcasts.approve(id, by: who) }
    public func cancel(_ id: Int64, by who: AdminIdentity) async throws -> BroadcastSummary { try await broadcasts.cancel(id, by: who) }

    // MARK: Kits

    public func kitQueue(includeClosed: Bool) async throws -> [KitSummary] { try await kits.queue(includeClosed: includeClosed) }
    /// Opens one request with its address: recorded in the audit log.
    public func kit(_ ref: String, by who: AdminIdentity) async throws -> KitDetail { try await kits.show(ref, by: who) }
    public func markKit(_ ref: String, as status: KitInfo.Status, reason: KitCloseReason?, by who: AdminIdentity) async throws -> KitSummary {
        try await kits.mark(ref, as: status, reason: reason, by: who)
    }

    // MARK: Reports

    /// Queues a coordinator's answer to a reporter; returns the outbox id.
    public func replyToReport(_ ref: String, text: String, by who: AdminIdentity) async throws -> Int64 {
        try await database.replyToReport(ref, text: text, by: who.name, now: now())
    }

    /// References a coordinator can still answer (no words, no numbers).
    public func reportReferences() async throws -> [ReportReference] {
        try await database.liveReportReferences(now: now())
    }

    /// Reports per area and day over the last `days` (counts only: no words are kept).
    public func reportCounts(days: Int = 30) async throws -> [ReportCount] {
        let since = ISO8601DateFormatter.dayString(now().addingTimeInterval(-Double(days) * 86400))
        return try await database.reportCounts(since: since).map { ReportCount(day: $0.day, area: $0.area, count: $0.count) }
    }

    /// Check-ins over the last `days`, and how many run now: counts only, never who.
    public func spotCounts(days: Int = 7) async throws -> SpotCounts {
        try await database.spotCounts(since: now().addingTimeInterval(-Double(days - 1) * 86400))
    }

    // MARK: Contacts

    /// Erases everything about a number. Says nothing back: whether she ever texted must not
    /// be learnt from this, by anyone.
    public func forget(_ number: PhoneNumber, by who: AdminIdentity) async throws {
        _ = try await database.forgetContact(number, by: who.name, now: now())
    }

    /// Blocks or unblocks a number for abuse; true if that changed anything.
    public func setBlocked(_ number: PhoneNumber, _ blocked: Bool, by who: AdminIdentity) async throws -> Bool {
        try await database.setBlocked(number, blocked, by: who.name, now: now())
    }

    // MARK: Admin only

    public func auditLog(limit: Int, by who: AdminIdentity) async throws -> [AuditEntry] {
        try Self.requireAdmin(who, "the audit log")
        return try await database.auditLog(limit: min(max(limit, 1), 1000)).map {
            AuditEntry(at: $0.at, actor: $0.actor, action: $0.action, subject: $0.subject)
        }
    }

    public func tokens(by who: AdminIdentity) async throws -> [AdminTokenSummary] {
        try Self.requireAdmin(who, "tokens")
        return try await database.adminTokens()
    }

    /// A new token, shown once.
    public func createToken(name: String, role: AdminRole, by who: AdminIdentity) async throws -> String {
        try Self.requireAdmin(who, "tokens")
        return try await database.createAdminToken(name: name, role: role, by: who.name, now: now())
    }

    public func revokeToken(name: String, by who: AdminIdentity) async throws {
        try Self.requireAdmin(who, "tokens")
        guard try await database.revokeAdminToken(name: name, by: who.name, now: now()) else { throw DeskError.noSuchToken(name) }
    }

    public func consoleAccounts(by who: AdminIdentity) async throws -> [ConsoleAccount] {
        try Self.requireAdmin(who, "console accounts")
        return try await database.consoleAccounts()
    }

    /// A one-time invite token for a new (or not yet enrolled) console account.
    public func inviteCoordinator(name: String, role: AdminRole, validFor: TimeInterval, by who: AdminIdentity) async throws -> String {
        try Self.requireAdmin(who, "console accounts")
        return try await database.inviteConsoleAccount(name: name, role: role, totpSecret: ConsoleAccess.newSecret(), by: who.name,
                                                       validFor: validFor, now: now())
    }

    /// Another role for someone else (never oneself: an admin cannot lock the last admin out by accident).
    public func setRole(of name: String, to role: AdminRole, by who: AdminIdentity) async throws {
        try Self.requireAdmin(who, "console accounts")
        guard name != who.name else { throw DeskError.notYourself }
        try await database.setConsoleRole(name: name, role: role, by: who.name, now: now())
    }

    public func removeCoordinator(_ name: String, by who: AdminIdentity) async throws {
        try Self.requireAdmin(who, "console accounts")
        guard name != who.name else { throw DeskError.notYourself }
        try await database.removeConsoleAccount(name: name, by: who.name, now: now())
    }

    static func requireAdmin(_ who: AdminIdentity, _ what: String) throws(DeskError) {
        guard who.role == .admin else { throw .needsAdmin(what) }
    }
}

/// Why the desk refused, in words a coordinator can act on.
public enum DeskError: Error, Equatable, CustomStringConvertible {
    case needsAdmin(String)
    case noSuchToken(String)
    case notYourself

    public var description: String {
        switch self {
        case .notYourself: "another admin must change or remove your own account"
        case .needsAdmin(let what): "\(what) needs an admin token"
        case .noSuchToken(let name): "no live token named '\(name)'"
        }
    }
}

/// Reports in one area on one day.
public struct ReportCount: Codable, Sendable {
    public let day: String
    public let area: String
    public let count: Int
}
