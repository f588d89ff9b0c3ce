import Foundation
import GRDB

/// What a re-encryption pass found.
public struct ReencryptionCounts: Sendable, Equatable {
    /// Values that were sealed under an older data key and now are under the current one.
    public var resealed = 0
    /// Values already under the current key.
    public var current = 0
    /// Values no known key opens (they stay as they are, and are reported).
    public var unreadable = 0
    public init() {}
}

extension AppDatabase {
    /// Every sealed column, with the key that finds its row and, where the table has one, the
    /// column recording which key version sealed it.
    static let sealedColumns: [(table: String, key: String, column: String, version: String?)] = [
        ("contact", "key", "number", "key_version"),
        ("contact", "key", "buddy_name", nil),
        ("conversation", "contact_key", "variables", nil),
        ("outbox", "id", "recipient", "key_version"),
        ("outbox", "id", "text", nil),
        ("kit_request", "ref", "address", "key_version"),
        ("check_in", "contact_key", "place", "key_version"),
        ("console_account", "name", "totp_secret", "key_version"),
        ("relay_queue", "id", "payload", nil),
        ("key_check", "id", "data_box", nil),
        ("provider_erasure", "id", "payload", nil),
    ]

    /// Re-seals everything not yet under the current data key, a few hundred rows per
    /// transaction so a running server keeps answering between them.
    public func reencryptAll(batchSize: Int = 500) async throws -> ReencryptionCounts {
        var counts = ReencryptionCounts()
        let vault = self.vault
        for column in Self.sealedColumns {
            var cursor: DatabaseValue = .null
            while true {
                let after = cursor
                let (next, done, batch) = try await writer.write { db -> (DatabaseValue, Bool, ReencryptionCounts) in
                    var counts = ReencryptionCounts()
                    let current = vault.keys.version
                    let rows = try Row.fetchAll(db, sql: """
                        SELECT \(column.key) AS k, \(column.column) AS v FROM \(column.table)
                        WHERE \(column.column) IS NOT NULL AND (? IS NULL OR \(column.key) > ?)
                        ORDER BY \(column.key) LIMIT ?
                        """, arguments: [after, after, batchSize])
                    for row in rows {
                        let sealed: Data = row["v"]
                        guard let (text, version) = try? vault.openReportingVersion(sealed) else {
                            counts.unreadable += 1
                            continue
                        }
                        guard version != current else { counts.current += 1; continue }
                        let versionSet = column.version.map { ", \($0) = \(current)" } ?? ""
                        try db.execute(sql: "UPDATE \(column.table) SET \(column.column) = ?\(versionSet) WHERE \(column.key) = ?",
                                       arguments: [try vault.seal(text), row["k"] as DatabaseValue])
                        counts.resealed += 1
                    }
                    return ((rows.last?["k"] as DatabaseValue?) ?? after, rows.count < batchSize, counts)
                }
                counts.resealed += batch.resealed
                counts.current += batch.current
                counts.unreadable += batch.unreadable
                cursor = next
                if done { break }
            }
        }
        return counts
    }
}

extension AppDatabase {
    /// Every sealed number, as stored (for checks that a copy reveals nothing, and rotation tests).
    public func sealedNumbers() async throws -> [Data] {
        try await writer.read { db in try Data.fetchAll(db, sql: "SELECT number FROM contact") }
    }
}

extension AppDatabase {
    /// Records an operator action done outside the admin API (e.g. a key rotation).
    public func recordAudit(actor: String, action: String, now: Date) async throws {
        try await writer.write { db in try Self.audit(db, actor: actor, action: action, subject: nil, now: now.timeIntervalSince1970) }
    }
}
