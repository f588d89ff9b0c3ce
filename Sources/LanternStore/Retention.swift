import Foundation
import GRDB
import LanternCore

/// How long things are kept when nobody deletes them. Each has a default that errs on the side
/// of keeping less.
public struct RetentionSettings: Sendable, Equatable {
    /// A conversation nobody has answered in this long is dropped (its timeout usually ends it sooner).
    public var conversationIdle: TimeInterval = 24 * 3600
    /// A contact with no alerts, no open kit request and no live report reference, who has not
    /// texted in this long, is erased as if she had sent FORGET.
    public var contactIdle: TimeInterval = 90 * 86400
    /// Provider message ids kept for deduplication (providers retry for hours, not days).
    public var seenWebhooks: TimeInterval = 48 * 3600
    /// Finished outbound texts stay linked to their contact this long (delivery callbacks,
    /// "was she answered?"); after it a reply's record is deleted and a broadcast's is made
    /// anonymous, so nothing says who was in touch when.
    public var sentHistory: TimeInterval = 30 * 86400

    public init() {}
}

/// What one retention sweep removed, for the metrics and the log.
public struct RetentionCounts: Sendable, Equatable {
    public var conversations = 0
    public var contacts = 0
    public var seenWebhooks = 0
    public var sentHistory = 0
    public init() {}
    public var total: Int { conversations + contacts + seenWebhooks + sentHistory }
}

extension AppDatabase {
    /// Drops everything past its time in one transaction per kind, so a sweep never holds
    /// the writer for long.
    public func sweep(_ settings: RetentionSettings, now: Date) async throws -> RetentionCounts {
        let t = now.timeIntervalSince1970
        var counts = RetentionCounts()
        counts.conversations = try await writer.write { db in
            try db.execute(sql: """
                DELETE FROM conversation WHERE expires_at <= ?
                OR contact_key IN (SELECT key FROM contact WHERE last_active_at < ?)
                """, arguments: [t - settings.conversationIdle, t - settings.conversationIdle])
            return db.changesCount
        }
        counts.contacts = try await writer.write { db in
            let idle = try String.fetchAll(db, sql: """
                SELECT key FROM contact c WHERE last_active_at < ?
                AND NOT EXISTS (SELECT 1 FROM subscription s WHERE s.contact_key = c.key)
                AND NOT EXISTS (SELECT 1 FROM kit_request k WHERE k.contact_key = c.key AND k.status = 'open')
                AND NOT EXISTS (SELECT 1 FROM report_ref r WHERE r.contact_key = c.key AND r.expires_at > ?)
                AND NOT EXISTS (SELECT 1 FROM check_in k WHERE k.contact_key = c.key)
                AND NOT EXISTS (SELECT 1 FROM buddy b WHERE b.contact_key = c.key)
                AND NOT EXISTS (SELECT 1 FROM buddy b WHERE b.buddy_key = c.key AND b.status = 'confirmed')
                LIMIT 5000
                """, arguments: [t - settings.contactIdle, t])
            for key in idle { try Self.erase(db, key: ContactKey(hex: key), vault: vault, now: t) }
            return idle.count
        }
        counts.seenWebhooks = try await writer.write { db in
            // Kept to the day: an entry goes once its whole day is older than the window.
            try db.execute(sql: "DELETE FROM seen_message WHERE day < ?", arguments: [t - settings.seenWebhooks - 86400])
            let seen = db.changesCount
            // Buddy requests count against the daily and weekly limits only; one never answered
            // lapses after a week (she can ask someone else, or the same number again).
            try db.execute(sql: "DELETE FROM buddy_ask WHERE day < ?", arguments: [t - 8 * 86400])
            try db.execute(sql: "DELETE FROM buddy WHERE status = 'asked' AND created_at < ?", arguments: [t - 7 * 86400])
            return seen
        }
        counts.sentHistory = try await writer.write { db in
            let cutoff = t - settings.sentHistory
            try db.execute(sql: """
                DELETE FROM outbox WHERE broadcast_id IS NULL AND status NOT IN ('queued', 'sending') AND updated_at < ?
                """, arguments: [cutoff])
            let deleted = db.changesCount
            // Broadcast rows keep the alert's delivery counts, without saying who got it.
            try db.execute(sql: """
                UPDATE outbox SET contact_key = NULL, recipient = NULL, text = NULL
                WHERE broadcast_id IS NOT NULL AND contact_key IS NOT NULL AND status NOT IN ('queued', 'sending') AND updated_at < ?
                """, arguments: [cutoff])
            return deleted + db.changesCount
        }
        return counts
    }

    /// Erases a contact by number on a coordinator's word, as FORGET would. Returns false when
    /// Lantern holds nothing for that number. The audit says who and when, not whom.
    public func forgetContact(_ number: PhoneNumber, by actor: String, now: Date) async throws -> Bool {
        let key = vault.contactKey(for: number)
        let t = now.timeIntervalSince1970
        return try await writer.write { db in
            let known = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM contact WHERE key = ?)", arguments: [key.hex]) ?? false
            guard known else { return false }
            try Self.erase(db, key: key, vault: vault, now: t)
            try Self.audit(db, actor: actor, action: "contact.erased", subject: nil, now: t)
            return true
        }
    }

    /// Blocks (or unblocks) a number that abuses the service: its texts get no reply, though
    /// STOP and FORGET still work. Returns whether anything changed.
    public func setBlocked(_ number: PhoneNumber, _ blocked: Bool, by actor: String, now: Date) async throws -> Bool {
        let key = vault.contactKey(for: number)
        let t = now.timeIntervalSince1970
        return try await writer.write { db in
            if blocked {
                try db.execute(sql: "INSERT OR IGNORE INTO blocked_number (contact_key, created_at) VALUES (?, ?)", arguments: [key.hex, t])
            } else {
                try db.execute(sql: "DELETE FROM blocked_number WHERE contact_key = ?", arguments: [key.hex])
            }
            let changed = db.changesCount > 0
            if changed {
                try Self.audit(db, actor: actor, action: blocked ? "contact.blocked" : "contact.unblocked", subject: nil, now: t)
            }
            return changed
        }
    }

    public func blockedCount() async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM blocked_number") ?? 0 }
    }
}
