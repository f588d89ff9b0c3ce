import Crypto
import Foundation
import GRDB
import LanternCore

/// What a token may do. Coordinators run broadcasts; admins also manage tokens.
public enum AdminRole: String, Sendable, Codable, CaseIterable {
    case coordinator
    case admin
}

/// The person behind a request to the admin API, by the name their token was given.
public struct AdminIdentity: Sendable, Equatable {
    public let name: String
    public let role: AdminRole
    public init(name: String, role: AdminRole) {
        self.name = name
        self.role = role
    }
}

public struct AdminTokenSummary: Sendable, Codable, Equatable {
    public let name: String
    public let role: AdminRole
    public let createdAt: Date
    public let revokedAt: Date?

    enum CodingKeys: String, CodingKey {
        case name, role
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }
}

public enum AdminTokenError: Error, Equatable, CustomStringConvertible {
    case nameTaken(String)
    case invalidName(String)

    public var description: String {
        switch self {
        case .nameTaken(let n): "a token named '\(n)' already exists (revoke it first, or choose another name)"
        case .invalidName(let n): "'\(n)' is not a usable name: use 1-40 letters, digits, '-', '_' or '.'"
        }
    }
}

/// Bearer tokens for the admin API: `lnt_<id>_<secret>`. Only a SHA-256 of the secret is
/// stored, so the database cannot be used to act as anyone; the token is shown once.
extension AppDatabase {
    /// `actor`: who made it, for the audit log (an admin's name, or the command line).
    public func createAdminToken(name: String, role: AdminRole, by actor: String = "lantern", now: Date) async throws -> String {
        guard Self.isUsableName(name) else { throw AdminTokenError.invalidName(name) }
        let id = Self.randomToken(bytes: 6)
        let secret = Self.randomToken(bytes: 32)
        let hash = Self.sha256Hex(secret)
        try await writer.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM admin_token WHERE name = ? AND revoked_at IS NULL", arguments: [name]) == true {
                throw AdminTokenError.nameTaken(name)
            }
            try db.execute(sql: "DELETE FROM admin_token WHERE name = ? AND revoked_at IS NOT NULL", arguments: [name])
            try db.execute(sql: "INSERT INTO admin_token (id, name, role, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, name, role.rawValue, hash, now.timeIntervalSince1970])
            try Self.audit(db, actor: actor, action: "token.created", subject: name, now: now.timeIntervalSince1970)
        }
        return "lnt_\(id)_\(secret)"
    }

    /// The identity a presented token belongs to, or nil (unknown, malformed or revoked).
    /// The secret is compared in constant time.
    public func adminIdentity(forToken token: String) async throws -> AdminIdentity? {
        let parts = token.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "lnt", parts[1].count <= 16 else { return nil }
        let id = String(parts[1]), presented = Self.sha256Hex(String(parts[2]))
        let row = try await writer.read { db in
            try AdminTokenRow.filter(AdminTokenRow.Columns.id == id && AdminTokenRow.Columns.revokedAt == nil).fetchOne(db)
        }
        guard let row, ConstantTime.equals(row.secretHash, presented), let role = AdminRole(rawValue: row.role) else { return nil }
        return AdminIdentity(name: row.name, role: role)
    }

    public func adminTokens() async throws -> [AdminTokenSummary] {
        try await writer.read { db in
            try AdminTokenRow.order(AdminTokenRow.Columns.name).fetchAll(db).map {
                AdminTokenSummary(name: $0.name, role: AdminRole(rawValue: $0.role) ?? .coordinator, createdAt: $0.createdAt, revokedAt: $0.revokedAt)
            }
        }
    }

    /// Returns whether a live token had that name.
    @discardableResult
    public func revokeAdminToken(name: String, by actor: String, now: Date) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "UPDATE admin_token SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                           arguments: [now.timeIntervalSince1970, name])
            let changed = db.changesCount > 0
            if changed { try Self.audit(db, actor: actor, action: "token.revoked", subject: name, now: now.timeIntervalSince1970) }
            return changed
        }
    }

    /// A name for a token or a console account: 1 to 40 letters, digits, '-', '_' or '.' (it
    /// shows in the audit log and in URLs as it is).
    static func isUsableName(_ name: String) -> Bool {
        (1...40).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    static func randomToken(bytes: Int) -> String {
        let key = SymmetricKey(size: SymmetricKeySize(bitCount: bytes * 8))
        return key.withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: "=", with: "")
    }

    static func sha256Hex(_ s: String) -> String { Array(SHA256.hash(data: Data(s.utf8))).hexString }
}
