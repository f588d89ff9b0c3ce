import Foundation
import GRDB
import LanternCore

/// One text claimed for sending, with its number decrypted for just this attempt.
public struct OutboxMessage: Sendable, Equatable {
    public let id: Int64
    public let contact: ContactKey?
    public let provider: String
    public let sender: String?
    public let to: PhoneNumber
    public let text: String
    public let segments: Int
    public let attempts: Int
    public let kind: OutboxKind
}

/// How one send attempt ended, for `recordSends`.
public struct SendRecord: Sendable, Equatable {
    public enum Result: Sendable, Equatable {
        case accepted(providerMessageID: String?)
        case retry(at: Date, reason: String?)
        case failed(errorCode: String?, optedOut: Bool)
        case unknown(reason: String)
        /// Not attempted after all (its provider is paused): back in the queue, no attempt counted.
        case held(until: Date, reason: String)
    }
    public let id: Int64
    public let result: Result
    public init(id: Int64, result: Result) {
        self.id = id
        self.result = result
    }
}

extension AppDatabase {
    /// Claims up to `limit` due texts (replies before broadcasts, oldest first) and marks them
    /// `sending`, so a crash after this point is seen at restart. Broadcasts to anyone opted out
    /// are never claimed.
    /// `excludingRoutes`: `provider|sender` pairs (sender empty for the provider's default
    /// number) that may not send now because they are over their rate.
    public func claimDue(limit: Int, now: Date, excludingProviders paused: Set<String> = [],
                        excludingRoutes resting: Set<String> = []) async throws -> [OutboxMessage] {
        let t = now.timeIntervalSince1970
        let skip = paused.sorted().joined(separator: ",")
        let skipRoutes = resting.sorted().joined(separator: ",")
        struct Claimed: Sendable {
            let id: Int64, contactKey: String?, provider: String, sender: String?, recipient: Data?, text: String?
            let segments: Int, attempts: Int, kind: String
        }
        let vault = self.vault
        let rows: [Claimed] = try await writer.write { db in
            // Broadcast rows are claimed only while their broadcast is live and unexpired, and
            // never for anyone who has since opted out or paused alerts.
            let claimed = try ClaimedOutboxRow.fetchAll(db.cachedStatement(sql: """
                UPDATE outbox SET status = 'sending', updated_at = :now
                WHERE id IN (
                    SELECT o.id FROM outbox o
                    LEFT JOIN contact c ON c.key = o.contact_key
                    LEFT JOIN broadcast b ON b.id = o.broadcast_id
                    WHERE o.status = 'queued' AND o.next_attempt_at <= :now
                      AND (:skip = '' OR instr(',' || :skip || ',', ',' || o.provider || ',') = 0)
                      AND (:routes = '' OR instr(',' || :routes || ',', ',' || o.provider || '|' || coalesce(o.sender, '') || ',') = 0)
                      AND (o.broadcast_id IS NULL OR (
                            b.status = 'sending' AND b.expires_at > :now AND c.opted_out_at IS NULL
                            AND (c.alerts_paused_until IS NULL OR c.alerts_paused_until <= :now)))
                    ORDER BY o.priority, o.next_attempt_at
                    LIMIT :limit)
                RETURNING id, contact_key, provider, sender, recipient, text, segments, attempts, kind, broadcast_id, locale
                """), arguments: ["now": t, "limit": limit, "skip": skip, "routes": skipRoutes])
            var texts: [String: String] = [:]
            return try claimed.map { row in
                var text: String? = row.text.flatMap { try? vault.open($0) }
                if let bid = row.broadcastId {
                    let locale = row.locale ?? defaultLocale
                    let cacheKey = "\(bid)/\(locale)"
                    if texts[cacheKey] == nil {
                        texts[cacheKey] = try String.fetchOne(db.cachedStatement(sql: """
                            SELECT text FROM broadcast_text WHERE broadcast_id = ? AND locale IN (?, 'en-GB')
                            ORDER BY locale = 'en-GB' LIMIT 1
                            """), arguments: [bid, locale])
                    }
                    text = texts[cacheKey]
                }
                return Claimed(id: row.id, contactKey: row.contactKey, provider: row.provider, sender: row.sender,
                               recipient: row.recipient, text: text, segments: row.segments, attempts: row.attempts, kind: row.kind)
            }
        }
        var out: [OutboxMessage] = []
        for row in rows {
            guard let sealed = row.recipient, let text = row.text,
                  let number = (try? vault.open(sealed)).flatMap({ PhoneNumber($0) }) else {
                try await markFailed(id: row.id, errorCode: "lantern:unreadable", optedOut: false, now: now)
                continue
            }
            out.append(OutboxMessage(id: row.id, contact: row.contactKey.map(ContactKey.init(hex:)), provider: row.provider,
                                     sender: row.sender, to: number, text: text, segments: row.segments,
                                     attempts: row.attempts, kind: OutboxKind(rawValue: row.kind) ?? .reply))
        }
        return out.sorted { ($0.kind.priority, $0.id) < ($1.kind.priority, $1.id) }
    }

    /// Records that these texts are about to be given to the provider's HTTP client. Until then
    /// a crash leaves them certainly unsent; from then on they may have reached the provider.
    public func markHanded(_ ids: [Int64], now: Date) async throws {
        guard !ids.isEmpty else { return }
        let t = now.timeIntervalSince1970
        try await writer.write { db in
            for id in ids { try db.run("UPDATE outbox SET handed_at = ? WHERE id = ? AND status = 'sending'", [t, id]) }
        }
    }

    /// The provider took it: keep its id for status callbacks, forget the words and the number.
    public func markAccepted(id: Int64, providerMessageID: String?, now: Date) async throws {
        try await recordSends([SendRecord(id: id, result: .accepted(providerMessageID: providerMessageID))], now: now)
    }

    /// A temporary failure (429, 5xx, no connection): try again at `retryAt`.
    public func markRetry(id: Int64, retryAt: Date, errorCode: String?, now: Date) async throws {
        try await recordSends([SendRecord(id: id, result: .retry(at: retryAt, reason: errorCode))], now: now)
    }

    /// A permanent failure. If the provider says she opted out (e.g. Twilio 21610), she is
    /// marked opted out too and nothing else queued for her goes out.
    public func markFailed(id: Int64, errorCode: String?, optedOut: Bool, now: Date) async throws {
        try await recordSends([SendRecord(id: id, result: .failed(errorCode: errorCode, optedOut: optedOut))], now: now)
    }

    /// The attempt may or may not have reached the provider and it has no idempotency key:
    /// resending could text her twice, so the row is parked as `unknown` (a later status
    /// callback can still settle it).
    public func markUnknown(id: Int64, reason: String, now: Date) async throws {
        try await recordSends([SendRecord(id: id, result: .unknown(reason: reason))], now: now)
    }

    /// Records how a batch of send attempts ended, in one transaction.
    public func recordSends(_ records: [SendRecord], now: Date) async throws {
        // Finished texts keep only the day (for retention): not when each went to whom.
        let t = Self.day(now.timeIntervalSince1970)
        try await writer.write { db in
            for r in records {
                switch r.result {
                case .accepted(let providerMessageID):
                    // A reply to someone who has just erased herself keeps no provider id: it
                    // would lead back to her number.
                    try db.run("""
                        UPDATE outbox SET status = 'sent', text = NULL, recipient = NULL,
                            provider_message_id = CASE WHEN contact_key IS NULL AND kind IN ('reply', 'emergency', 'check_in') THEN NULL ELSE ? END,
                            attempts = attempts + 1, updated_at = ?, handed_at = NULL
                        WHERE id = ? AND status IN ('sending', 'unknown')
                        """, [providerMessageID, t, r.id])
                case .retry(let at, let reason):
                    try db.run("""
                        UPDATE outbox SET status = 'queued', attempts = attempts + 1, next_attempt_at = ?, error_code = ?, updated_at = ?,
                            handed_at = NULL
                        WHERE id = ? AND status = 'sending'
                        """, [at.timeIntervalSince1970, reason, t, r.id])
                case .failed(let code, let optedOut):
                    try db.run("""
                        UPDATE outbox SET status = 'failed', text = NULL, recipient = NULL, error_code = ?,
                            attempts = attempts + 1, updated_at = ?, handed_at = NULL
                        WHERE id = ?
                        """, [code, t, r.id])
                    if optedOut, let key = try String.fetchOne(db.cachedStatement(sql: "SELECT contact_key FROM outbox WHERE id = ?"), arguments: [r.id]) {
                        try Self.recordOptOut(db, key: ContactKey(hex: key), now: t)
                    }
                case .held(let until, let reason):
                    try db.run("""
                        UPDATE outbox SET status = 'queued', next_attempt_at = ?, error_code = ?, updated_at = ?, handed_at = NULL
                        WHERE id = ? AND status = 'sending'
                        """, [until.timeIntervalSince1970, reason, t, r.id])
                case .unknown(let reason):
                    try db.run("""
                        UPDATE outbox SET status = 'unknown', text = NULL, recipient = NULL, error_code = ?,
                            attempts = attempts + 1, updated_at = ?, handed_at = NULL
                        WHERE id = ? AND status = 'sending'
                        """, [reason, t, r.id])
                }
            }
        }
    }

    /// At start-up: rows left `sending` by a crash are sent again when they never reached the
    /// HTTP client, or where the provider deduplicates sends (idempotency key); only a text that
    /// may have reached a provider without one is parked as `unknown`. Returns (requeued, parked).
    @discardableResult
    public func recoverInterruptedSends(idempotentProviders: Set<String>, now: Date) async throws -> (requeued: Int, unknown: Int) {
        let t = now.timeIntervalSince1970
        return try await writer.write { db in
            let list = Array(idempotentProviders)
            try db.run("UPDATE outbox SET status = 'queued', updated_at = ? WHERE status = 'sending' AND handed_at IS NULL", [t])
            var requeued = db.changesCount
            if !list.isEmpty {
                try db.execute(literal: "UPDATE outbox SET status = 'queued', handed_at = NULL, updated_at = \(t) WHERE status = 'sending' AND provider IN \(list)")
                requeued += db.changesCount
            }
            try db.run("""
                UPDATE outbox SET status = 'unknown', text = NULL, recipient = NULL, error_code = 'lantern:interrupted', updated_at = ?
                WHERE status = 'sending'
                """, [t])
            return (requeued, db.changesCount)
        }
    }

    /// Applies a provider's status callback. Callbacks can arrive out of order, so a final
    /// state (delivered/failed) is never overwritten by an earlier one.
    /// `outboxID` settles rows whose send outcome was unknown. Returns whether a row matched.
    @discardableResult
    public func recordDelivery(provider: String, providerMessageID: String, outboxID: Int64?, state: DeliveryState,
                               errorCode: String?, optedOut: Bool, now: Date) async throws -> Bool {
        let t = Self.day(now.timeIntervalSince1970)
        return try await writer.write { db in
            var row = try SQLRequest<OutboxStateRow>(literal: """
                SELECT id, status, contact_key FROM outbox WHERE provider = \(provider) AND provider_message_id = \(providerMessageID)
                """).fetchOne(db)
            if row == nil, let outboxID {
                row = try SQLRequest<OutboxStateRow>(literal: """
                    SELECT id, status, contact_key FROM outbox WHERE id = \(outboxID) AND provider = \(provider) AND provider_message_id IS NULL
                    """).fetchOne(db)
            }
            guard let row else { return false }
            let id = row.id
            let current = DeliveryState(rawValue: row.status)
            if current == nil || state.rank >= current!.rank {
                try db.run("""
                    UPDATE outbox SET status = ?, provider_message_id = ?, error_code = COALESCE(?, error_code),
                        text = NULL, recipient = NULL, updated_at = ?
                    WHERE id = ?
                    """, [state.rawValue, providerMessageID, errorCode, t, id])
            }
            if optedOut, let key = row.contactKey {
                try Self.recordOptOut(db, key: ContactKey(hex: key), now: t)
            }
            return true
        }
    }

    static func recordOptOut(_ db: Database, key: ContactKey, now: Double) throws {
        try db.run("UPDATE contact SET opted_out_at = COALESCE(opted_out_at, ?) WHERE key = ?", [now, key.hex])
        try cancelQueued(db, key: key, now: now)
    }

    /// How many outbox rows are in each state (for metrics and tests).
    public func outboxCounts() async throws -> [OutboxStatus: Int] {
        try await writer.read { db in
            var out: [OutboxStatus: Int] = [:]
            for row in try StatusCount.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status") {
                if let s = OutboxStatus(rawValue: row.status) { out[s] = row.n }
            }
            return out
        }
    }

    /// When the next queued text becomes due, so the sender can sleep until then.
    public func nextDueDate() async throws -> Date? {
        try await writer.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'queued'")
                .map(Date.init(timeIntervalSince1970:))
        }
    }
}

/// What the store knows about one contact, for the admin side and tests. No number.
public struct ContactSummary: Sendable, Equatable {
    public let key: ContactKey
    public let isOptedOut: Bool
    public let language: String
    public let conversation: ConversationState?
    public let subscriptions: [String]
    public let alertsPausedUntil: Date?
}

extension AppDatabase {
    public func contact(for number: PhoneNumber) async throws -> ContactSummary? {
        let key = vault.contactKey(for: number)
        return try await writer.read { db -> ContactSummary? in
            guard let row = try SQLRequest<ContactRow>(literal: "SELECT opted_out_at, language, alerts_paused_until FROM contact WHERE key = \(key.hex)").fetchOne(db) else {
                return nil
            }
            return ContactSummary(key: key, isOptedOut: row.optedOutAt != nil, language: row.language,
                                  conversation: try Self.loadConversation(db, key: key, vault: vault),
                                  subscriptions: try String.fetchAll(db, sql: "SELECT area FROM subscription WHERE contact_key = ? ORDER BY area",
                                                                     arguments: [key.hex]),
                                  alertsPausedUntil: row.alertsPausedUntil)
        }
    }

}
