import Foundation
import GRDB

/// A row read as a Swift value: columns in snake_case, times stored as seconds since 1970.
protocol StoredRow: FetchableRecord, Decodable {}

extension StoredRow {
    static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    static var databaseDateDecodingStrategy: DatabaseDateDecodingStrategy { .timeIntervalSince1970 }
}

/// An outbox row as the sender claims it: sealed recipient and words, or a broadcast's locale.
struct ClaimedOutboxRow: StoredRow {
    let id: Int64
    let contactKey: String?
    let provider: String
    let sender: String?
    let recipient: Data?
    let text: Data?
    let segments: Int
    let attempts: Int
    let kind: String
    let broadcastId: Int64?
    let locale: String?
}

/// What a delivery report needs of the row it settles.
struct OutboxStateRow: StoredRow {
    let id: Int64
    let status: String
    let contactKey: String?
}

/// `SELECT status, COUNT(*) AS n … GROUP BY status`.
struct StatusCount: StoredRow {
    let status: String
    let n: Int
}

/// The parts of a contact the admin side may see (no number).
struct ContactRow: StoredRow {
    let optedOutAt: Date?
    let language: String
    let alertsPausedUntil: Date?
}

struct AdminTokenRow: StoredRow, TableRecord {
    static let databaseTableName = "admin_token"
    enum Columns {
        static let id = Column("id")
        static let name = Column("name")
        static let revokedAt = Column("revoked_at")
    }
    let name: String
    let role: String
    let secretHash: String
    let createdAt: Date
    let revokedAt: Date?
}

struct AuditRow: StoredRow, TableRecord {
    static let databaseTableName = "audit"
    enum Columns {
        static let id = Column("id")
    }
    let at: Date
    let actor: String
    let action: String
    let subject: String?
}

struct BroadcastRow: StoredRow, TableRecord {
    static let databaseTableName = "broadcast"
    enum Columns {
        static let id = Column("id")
        static let status = Column("status")
    }
    let id: Int64
    let status: String
    let areas: String
    let confirmed: Bool
    let requiresApproval: Bool
    let createdBy: String
    let approvedBy: String?
    let cancelledBy: String?
    let createdAt: Date
    let expiresAt: Date
    let finishedAt: Date?
    let recipients: Int
}

struct ProviderErasureRow: StoredRow {
    let id: Int64
    let provider: String
    let payload: Data
    let attempts: Int
}
