import Foundation
import GRDB
import LanternCore

/// A console account as the console needs it: never the password hash or the code secret
/// beyond the one call that checks them.
public struct ConsoleAccount: Sendable, Equatable {
    public let name: String
    public let role: AdminRole
    /// The invite has not been accepted yet: no password, no sign-in.
    public let isPending: Bool
    public let lockedUntil: Date?
}

/// What signing in needs to check, read in one go.
public struct ConsoleCredentials: Sendable {
    public let account: ConsoleAccount
    public let passwordHash: String?
    /// Base32 secret for the authenticator app (opened from its seal), nil before enrolment.
    public let totpSecret: String?
    public let failures: Int
}

/// A signed-in browser.
public struct ConsoleSession: Sendable, Equatable {
    public let account: ConsoleAccount
    /// The token every form carries back (CSRF).
    public let csrf: String

    /// Who is acting, as the admin layer knows people (by name and role, like a token's holder).
    public var identity: AdminIdentity { AdminIdentity(name: account.name, role: account.role) }
}

public enum ConsoleAccountError: Error, Equatable, CustomStringConvertible {
    case invalidName(String)
    case nameTaken(String)
    case noSuchAccount(String)

    public var description: String {
        switch self {
        case .invalidName(let n): "'\(n)' is not a usable name: 1 to 40 letters, digits, '-', '_' or '.'"
        case .nameTaken(let n): "there is already a console account named '\(n)'"
        case .noSuchAccount(let n): "no console account named '\(n)'"
        }
    }
}

extension AppDatabase {
    /// Creates (or re-invites) an account and returns the one-time invite token. The code
    /// secret is made now, so the invite page shows the same one until it is accepted.
    public func inviteConsoleAccount(name: String, role: AdminRole, totpSecret: String, by actor: String,
                                     validFor: TimeInterval = 86_400, now: Date) async throws -> String {
        guard Self.isUsableName(name) else { throw ConsoleAccountError.invalidName(name) }
        let token = Self.randomToken(bytes: 32)
        let t = now.timeIntervalSince1970
        let sealed = try vault.seal(totpSecret)
        let version = vault.keys.version
        try await writer.write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT password_hash FROM console_account WHERE name = ?", arguments: [name]),
               (row["password_hash"] as String?) != nil {
                throw ConsoleAccountError.nameTaken(name)
            }
            try db.execute(sql: """
                INSERT INTO console_account (name, role, password_hash, totp_secret, key_version, invite_hash, invite_expires_at, created_at, created_by)
                VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET role = excluded.role, totp_secret = excluded.totp_secret, key_version = excluded.key_version,
                    invite_hash = excluded.invite_hash, invite_expires_at = excluded.invite_expires_at
                """, arguments: [name, role.rawValue, sealed, version, Self.sha256Hex(token), t + validFor, t, actor])
            try Self.audit(db, actor: actor, action: "console.invited", subject: name, now: t)
        }
        return token
    }

    /// The account an unexpired invite token belongs to, with its code secret; nil otherwise.
    public func consoleInvite(token: String, now: Date) async throws -> (account: ConsoleAccount, totpSecret: String)? {
        let hash = Self.sha256Hex(token)
        let vault = self.vault
        return try await writer.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT name, role, totp_secret, invite_hash FROM console_account WHERE invite_hash = ? AND invite_expires_at > ?
                """, arguments: [hash, now.timeIntervalSince1970]),
                ConstantTime.equals(row["invite_hash"] as String, hash),
                let role = AdminRole(rawValue: row["role"]), let sealed = row["totp_secret"] as Data? else { return nil }
            return (ConsoleAccount(name: row["name"], role: role, isPending: true, lockedUntil: nil), try vault.open(sealed))
        }
    }

    /// Accepts an invite: the password's bcrypt hash is kept, the invite can never be used again.
    /// False when the token is unknown, expired or already used.
    public func acceptConsoleInvite(token: String, passwordHash: String, now: Date) async throws -> Bool {
        let hash = Self.sha256Hex(token)
        let t = now.timeIntervalSince1970
        return try await writer.write { db in
            guard let name = try String.fetchOne(db, sql: "SELECT name FROM console_account WHERE invite_hash = ? AND invite_expires_at > ?",
                                                 arguments: [hash, t]) else { return false }
            try db.execute(sql: """
                UPDATE console_account SET password_hash = ?, invite_hash = NULL, invite_expires_at = NULL, failures = 0, locked_until = NULL
                WHERE name = ?
                """, arguments: [passwordHash, name])
            try Self.audit(db, actor: name, action: "console.invite_accepted", subject: nil, now: t)
            return true
        }
    }

    /// What signing in as `name` must be checked against; nil for no such account.
    public func consoleCredentials(name: String) async throws -> ConsoleCredentials? {
        let vault = self.vault
        return try await writer.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT name, role, password_hash, totp_secret, failures, locked_until FROM console_account WHERE name = ?
                """, arguments: [name]), let role = AdminRole(rawValue: row["role"]) else { return nil }
            let hash: String? = row["password_hash"]
            return ConsoleCredentials(
                account: ConsoleAccount(name: row["name"], role: role, isPending: hash == nil,
                                        lockedUntil: (row["locked_until"] as Double?).map(Date.init(timeIntervalSince1970:))),
                passwordHash: hash, totpSecret: try (row["totp_secret"] as Data?).map { try vault.open($0) }, failures: row["failures"])
        }
    }

    /// A failed sign-in: counted, and after `freeTries` the account locks for a time that doubles
    /// with each further failure (up to an hour). Recorded in the audit log.
    public func recordConsoleFailure(name: String, freeTries: Int = 5, now: Date) async throws {
        let t = now.timeIntervalSince1970
        try await writer.write { db in
            try db.execute(sql: "UPDATE console_account SET failures = failures + 1 WHERE name = ?", arguments: [name])
            if let failures = try Int.fetchOne(db, sql: "SELECT failures FROM console_account WHERE name = ?", arguments: [name]),
               failures >= freeTries {
                let minutes = min(60.0, pow(2.0, Double(failures - freeTries)))
                try db.execute(sql: "UPDATE console_account SET locked_until = ? WHERE name = ?", arguments: [t + minutes * 60, name])
            }
            try Self.audit(db, actor: name, action: "console.sign_in_failed", subject: nil, now: t)
        }
    }

    /// A successful sign-in: a new session (its cookie value is returned once), failures cleared.
    public func startConsoleSession(name: String, now: Date) async throws -> (cookie: String, session: ConsoleSession) {
        let cookie = Self.randomToken(bytes: 32)
        let csrf = Self.randomToken(bytes: 24)
        let t = now.timeIntervalSince1970
        let account: ConsoleAccount = try await writer.write { db in
            try db.execute(sql: "UPDATE console_account SET failures = 0, locked_until = NULL WHERE name = ?", arguments: [name])
            guard let row = try Row.fetchOne(db, sql: "SELECT role FROM console_account WHERE name = ?", arguments: [name]),
                  let role = AdminRole(rawValue: row["role"]) else { throw ConsoleAccountError.noSuchAccount(name) }
            try db.execute(sql: "INSERT INTO console_session (id_hash, name, csrf, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [Self.sha256Hex(cookie), name, csrf, t, t])
            try Self.audit(db, actor: name, action: "console.signed_in", subject: nil, now: t)
            return ConsoleAccount(name: name, role: role, isPending: false, lockedUntil: nil)
        }
        return (cookie, ConsoleSession(account: account, csrf: csrf))
    }

    /// The session behind a cookie, if it was active within `idle`; its last use moves on.
    /// An idle or unknown one is nil (and an idle one is deleted).
    public func consoleSession(cookie: String, idle: TimeInterval, now: Date) async throws -> ConsoleSession? {
        let hash = Self.sha256Hex(cookie)
        let t = now.timeIntervalSince1970
        return try await writer.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT s.id_hash, s.name, s.csrf, s.last_seen_at, a.role FROM console_session s
                JOIN console_account a ON a.name = s.name WHERE s.id_hash = ?
                """, arguments: [hash]), ConstantTime.equals(row["id_hash"] as String, hash),
                let role = AdminRole(rawValue: row["role"]) else { return nil }
            guard (row["last_seen_at"] as Double) + idle > t else {
                try db.execute(sql: "DELETE FROM console_session WHERE id_hash = ?", arguments: [hash])
                return nil
            }
            try db.execute(sql: "UPDATE console_session SET last_seen_at = ? WHERE id_hash = ?", arguments: [t, hash])
            return ConsoleSession(account: ConsoleAccount(name: row["name"], role: role, isPending: false, lockedUntil: nil), csrf: row["csrf"])
        }
    }

    /// Signs out this browser, or (`everywhere`) every browser of the same account.
    public func endConsoleSession(cookie: String, everywhere: Bool, now: Date) async throws {
        let hash = Self.sha256Hex(cookie)
        try await writer.write { db in
            guard let name = try String.fetchOne(db, sql: "SELECT name FROM console_session WHERE id_hash = ?", arguments: [hash]) else { return }
            if everywhere {
                try db.execute(sql: "DELETE FROM console_session WHERE name = ?", arguments: [name])
            } else {
                try db.execute(sql: "DELETE FROM console_session WHERE id_hash = ?", arguments: [hash])
            }
            try Self.audit(db, actor: name, action: everywhere ? "console.signed_out_everywhere" : "console.signed_out", subject: nil,
                           now: now.timeIntervalSince1970)
        }
    }

    /// Gives an account another role; its open sessions end, so the new role holds at once.
    public func setConsoleRole(name: String, role: AdminRole, by actor: String, now: Date) async throws {
        let t = now.timeIntervalSince1970
        try await writer.write { db in
            try db.execute(sql: "UPDATE console_account SET role = ? WHERE name = ?", arguments: [role.rawValue, name])
            guard db.changesCount == 1 else { throw ConsoleAccountError.noSuchAccount(name) }
            try db.execute(sql: "DELETE FROM console_session WHERE name = ?", arguments: [name])
            try Self.audit(db, actor: actor, action: "console.role.\(role.rawValue)", subject: name, now: t)
        }
    }

    /// Removes an account and signs it out everywhere.
    public func removeConsoleAccount(name: String, by actor: String, now: Date) async throws {
        let t = now.timeIntervalSince1970
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM console_session WHERE name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM console_account WHERE name = ?", arguments: [name])
            guard db.changesCount == 1 else { throw ConsoleAccountError.noSuchAccount(name) }
            try Self.audit(db, actor: actor, action: "console.removed", subject: name, now: t)
        }
    }

    /// Console accounts, for admins.
    public func consoleAccounts() async throws -> [ConsoleAccount] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT name, role, password_hash IS NULL AS pending, locked_until FROM console_account ORDER BY name")
                .compactMap { row in
                    AdminRole(rawValue: row["role"]).map {
                        ConsoleAccount(name: row["name"], role: $0, isPending: row["pending"],
                                       lockedUntil: (row["locked_until"] as Double?).map(Date.init(timeIntervalSince1970:)))
                    }
                }
        }
    }
}

/// How many of something there are in one area (subscribers, reports).
public struct AreaCount: Sendable, Equatable {
    public let area: String
    public let count: Int
    public init(area: String, count: Int) {
        self.area = area
        self.count = count
    }
}

/// The numbers on the console's first page: never who.
public struct ServiceCounts: Sendable, Equatable {
    public var repliesToday = 0
    public var alertsToday = 0
    /// Subscribers per area code, most first.
    public var subscribers: [AreaCount] = []
}

extension AppDatabase {
    /// Texts sent today (by the day they were queued) and subscribers per area.
    public func serviceCounts(now: Date) async throws -> ServiceCounts {
        let today = Self.day(now.timeIntervalSince1970)
        return try await writer.read { db in
            var c = ServiceCounts()
            for row in try Row.fetchAll(db, sql: """
                SELECT kind, count(*) AS n FROM outbox WHERE created_at >= ? AND status IN ('sent', 'delivered') GROUP BY kind
                """, arguments: [today]) {
                switch row["kind"] as String {
                case OutboxKind.broadcast.rawValue: c.alertsToday += row["n"] as Int
                default: c.repliesToday += row["n"] as Int
                }
            }
            c.subscribers = try Row.fetchAll(db, sql: """
                SELECT area, count(*) AS n FROM subscription GROUP BY area ORDER BY n DESC, area LIMIT 200
                """).map { AreaCount(area: $0["area"], count: $0["n"]) }
            return c
        }
    }
}
