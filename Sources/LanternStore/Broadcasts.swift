import Foundation
import GRDB
import LanternCore

public enum BroadcastStatus: String, Sendable, Codable {
    case awaitingApproval = "awaiting_approval"
    /// Recipients are being written to the outbox, in batches.
    case fanningOut = "fanning_out"
    case sending
    case completed
    case cancelled
    case expired

    public var isFinished: Bool { self == .completed || self == .cancelled || self == .expired }
}

/// An alert as a coordinator wrote it, ready to store. `texts` are final, per language
/// (confirmed/unconfirmed marker and the opt-out line already included).
public struct BroadcastDraft: Sendable {
    /// A `texts` key ending in this holds a language's discreet wording ("pl~discreet").
    public static let discreetSuffix = "~discreet"

    /// "pl~discreet" → ("pl", true); "pl" → ("pl", false).
    public static func split(_ key: String) -> (language: String, discreet: Bool) {
        key.hasSuffix(discreetSuffix) ? (String(key.dropLast(discreetSuffix.count)), true) : (key, false)
    }
    public var areas: [String]
    /// Subscription codes it reaches; nil for every subscriber.
    public var reach: Set<String>?
    public var texts: [String: String]
    public var confirmed: Bool
    public var requiresApproval: Bool
    public var expiresAt: Date
    public var createdBy: String

    public init(areas: [String], reach: Set<String>?, texts: [String: String], confirmed: Bool, requiresApproval: Bool,
                expiresAt: Date, createdBy: String) {
        self.areas = areas
        self.reach = reach
        self.texts = texts
        self.confirmed = confirmed
        self.requiresApproval = requiresApproval
        self.expiresAt = expiresAt
        self.createdBy = createdBy
    }
}

/// What happened to each recipient's copy. `skipped`: cancelled, expired, or she opted out.
public struct BroadcastCounts: Sendable, Codable, Equatable {
    public var queued = 0
    public var sending = 0
    public var sent = 0
    public var delivered = 0
    public var failed = 0
    public var unknown = 0
    public var skipped = 0
}

public struct BroadcastSummary: Sendable, Codable, Equatable {
    public let id: Int64
    public let status: BroadcastStatus
    public let areas: [String]
    public let confirmed: Bool
    public let requiresApproval: Bool
    public let createdBy: String
    public let approvedBy: String?
    public let cancelledBy: String?
    public let createdAt: Date
    public let expiresAt: Date
    public let finishedAt: Date?
    public let recipients: Int
    public let counts: BroadcastCounts
    /// The words, per language, while the broadcast is live; cleared once it has ended.
    public let texts: [String: String]

    enum CodingKeys: String, CodingKey {
        case id, status, areas, confirmed, recipients, counts, texts
        case requiresApproval = "requires_approval"
        case createdBy = "created_by"
        case approvedBy = "approved_by"
        case cancelledBy = "cancelled_by"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case finishedAt = "finished_at"
    }
}

public enum BroadcastError: Error, Equatable, CustomStringConvertible {
    case notFound(Int64)
    case notAwaitingApproval(BroadcastStatus)
    case approverIsCreator
    case alreadyFinished(BroadcastStatus)

    public var description: String {
        switch self {
        case .notFound(let id): "no broadcast \(id)"
        case .notAwaitingApproval(let s): "broadcast is \(s.rawValue), not awaiting approval"
        case .approverIsCreator: "a broadcast must be approved by a different coordinator from the one who wrote it"
        case .alreadyFinished(let s): "broadcast is already \(s.rawValue)"
        }
    }
}

extension AppDatabase {
    /// Who an alert may go to at time `t`: subscribed to an area it reaches, not opted out, not
    /// paused. A condition on `contact c`, with its values bound.
    static func eligibility(reach: String, at t: Double) -> SQL {
        let base: SQL = "c.opted_out_at IS NULL AND (c.alerts_paused_until IS NULL OR c.alerts_paused_until <= \(t))"
        if reach == AreaCodes.everywhere {
            return base + " AND EXISTS (SELECT 1 FROM subscription s WHERE s.contact_key = c.key)"
        }
        return base + " AND EXISTS (SELECT 1 FROM subscription s WHERE s.contact_key = c.key AND s.area IN \(AreaCodes.split(reach)))"
    }

    static func reachString(_ reach: Set<String>?) -> String {
        reach.map { AreaCodes.join($0.sorted()) } ?? AreaCodes.everywhere
    }

    /// How many people an alert would reach now, by the language they would get it in.
    /// Recipients per text variant, each counted under the one she will actually get (as the
    /// fan-out chooses: her language's discreet words if she gets discreet wording, else her
    /// language's, else English).
    public func recipientCounts(reach: Set<String>?, locales: Set<String>, defaultWording: Wording = .discreet,
                                now: Date) async throws -> [String: Int] {
        let eligible = Self.eligibility(reach: Self.reachString(reach), at: now.timeIntervalSince1970)
        struct Group: StoredRow { let language: String, wording: String, n: Int }
        return try await writer.read { db in
            var out: [String: Int] = [:]
            let wording = defaultWording.rawValue
            let rows = try SQLRequest<Group>(literal: """
                SELECT c.language AS language, COALESCE(c.wording, \(wording)) AS wording, COUNT(*) AS n FROM contact c
                WHERE \(eligible) GROUP BY c.language, COALESCE(c.wording, \(wording))
                """).fetchAll(db)
            for row in rows {
                let discreet = row.wording == Wording.discreet.rawValue
                let variant = discreet && locales.contains(row.language + BroadcastDraft.discreetSuffix) ? row.language + BroadcastDraft.discreetSuffix
                    : locales.contains(row.language) ? row.language : defaultLocale
                out[variant, default: 0] += row.n
            }
            return out
        }
    }

    /// Stores a new broadcast. It starts fanning out at once unless it needs approval.
    public func createBroadcast(_ draft: BroadcastDraft, now: Date) async throws -> Int64 {
        let t = now.timeIntervalSince1970
        return try await writer.write { db in
            let status: BroadcastStatus = draft.requiresApproval ? .awaitingApproval : .fanningOut
            try db.execute(sql: """
                INSERT INTO broadcast (status, areas, reach, confirmed, requires_approval, created_by, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [status.rawValue, AreaCodes.join(draft.areas), Self.reachString(draft.reach), draft.confirmed,
                                 draft.requiresApproval, draft.createdBy, t, draft.expiresAt.timeIntervalSince1970])
            let id = db.lastInsertedRowID
            for (locale, text) in draft.texts {
                try db.execute(sql: "INSERT INTO broadcast_text (broadcast_id, locale, text, segments) VALUES (?, ?, ?, ?)",
                               arguments: [id, locale, text, SMSSegments.count(text).segments])
            }
            try Self.audit(db, actor: draft.createdBy, action: "broadcast.created", subject: "\(id)", now: t)
            return id
        }
    }

    public func approveBroadcast(_ id: Int64, by approver: String, now: Date) async throws {
        let t = now.timeIntervalSince1970
        try await writer.write { db in
            let (status, createdBy) = try Self.broadcastState(db, id)
            guard status == .awaitingApproval else { throw BroadcastError.notAwaitingApproval(status) }
            guard createdBy != approver else { throw BroadcastError.approverIsCreator }
            try db.execute(sql: "UPDATE broadcast SET status = 'fanning_out', approved_by = ?, approved_at = ? WHERE id = ?",
                           arguments: [approver, t, id])
            try Self.audit(db, actor: approver, action: "broadcast.approved", subject: "\(id)", now: t)
        }
    }

    /// Stops everything not yet sent and clears the words. Texts already handed to the provider
    /// cannot be recalled.
    public func cancelBroadcast(_ id: Int64, by actor: String, now: Date) async throws {
        let t = now.timeIntervalSince1970
        try await writer.write { db in
            let (status, _) = try Self.broadcastState(db, id)
            guard !status.isFinished else { throw BroadcastError.alreadyFinished(status) }
            try db.execute(sql: "UPDATE broadcast SET status = 'cancelled', cancelled_by = ?, finished_at = ? WHERE id = ?",
                           arguments: [actor, t, id])
            try db.execute(sql: "UPDATE outbox SET status = 'cancelled', recipient = NULL, updated_at = ? WHERE broadcast_id = ? AND status = 'queued'",
                           arguments: [t, id])
            try db.execute(sql: "UPDATE broadcast_text SET text = NULL WHERE broadcast_id = ?", arguments: [id])
            try Self.audit(db, actor: actor, action: "broadcast.cancelled", subject: "\(id)", now: t)
        }
    }

    static func broadcastState(_ db: Database, _ id: Int64) throws -> (BroadcastStatus, String) {
        guard let row = try Row.fetchOne(db, sql: "SELECT status, created_by FROM broadcast WHERE id = ?", arguments: [id]),
              let status = BroadcastStatus(rawValue: row["status"]) else { throw BroadcastError.notFound(id) }
        return (status, row["created_by"])
    }

    /// Writes the next batch of one fanning-out broadcast's recipients to the outbox (one
    /// row each, idempotent per broadcast and contact, resumable after a crash). Returns false
    /// when there was nothing to do.
    public func fanOutNextBatch(size: Int, defaultProvider: String, defaultWording: Wording = .discreet, now: Date) async throws -> Bool {
        let t = now.timeIntervalSince1970
        return try await writer.write { db in
            guard let b = try Row.fetchOne(db, sql: """
                SELECT id, reach, fanout_cursor, expires_at FROM broadcast WHERE status = 'fanning_out' ORDER BY id LIMIT 1
                """) else { return false }
            let id: Int64 = b["id"]
            let cursor: String = b["fanout_cursor"]
            if (b["expires_at"] as Double) <= t { return try Self.expire(db, id, now: t) || true }
            let eligible = Self.eligibility(reach: b["reach"], at: t)
            let keys = try SQLRequest<String>(literal: "SELECT c.key FROM contact c WHERE c.key > \(cursor) AND \(eligible) ORDER BY c.key LIMIT \(size)").fetchAll(db)
            guard let last = keys.last else {
                try db.execute(sql: "UPDATE broadcast SET status = 'sending' WHERE id = ?", arguments: [id])
                return true
            }
            let discreet = BroadcastDraft.discreetSuffix, wording = defaultWording.rawValue
            try db.execute(literal: """
                INSERT OR IGNORE INTO outbox (contact_key, provider, sender, recipient, key_version, kind, priority, text, segments,
                                              status, attempts, next_attempt_at, created_at, updated_at, broadcast_id, locale)
                SELECT c.key, COALESCE(c.provider, \(defaultProvider)), c.sender, c.number, c.key_version, 'broadcast', 10, NULL,
                       COALESCE(btd.segments, bt.segments, bt0.segments), 'queued', 0, \(t), \(t), \(t), \(id),
                       COALESCE(btd.locale, bt.locale, 'en-GB')
                FROM contact c
                JOIN broadcast_text bt0 ON bt0.broadcast_id = \(id) AND bt0.locale = 'en-GB'
                LEFT JOIN broadcast_text bt ON bt.broadcast_id = \(id) AND bt.locale = c.language
                -- Her language's discreet wording, when she has (or the service defaults to) discreet.
                LEFT JOIN broadcast_text btd ON btd.broadcast_id = \(id) AND btd.locale = c.language || \(discreet)
                    AND COALESCE(c.wording, \(wording)) = 'discreet'
                WHERE c.key > \(cursor) AND c.key <= \(last) AND \(eligible)
                """)
            let added = db.changesCount
            try db.execute(sql: "UPDATE broadcast SET fanout_cursor = ?, recipients = recipients + ? WHERE id = ?",
                           arguments: [last, added, id])
            return true
        }
    }

    /// Ends broadcasts whose time is up (nothing more goes out; queued copies become `expired`)
    /// and completes those with nothing left to send. Both clear the words.
    @discardableResult
    public func settleBroadcasts(now: Date) async throws -> (completed: Int, expired: Int) {
        let t = now.timeIntervalSince1970
        return try await writer.write { db in
            var expired = 0, completed = 0
            let stale = try Int64.fetchAll(db, sql: """
                SELECT id FROM broadcast WHERE status IN ('awaiting_approval', 'fanning_out', 'sending') AND expires_at <= ?
                """, arguments: [t])
            for id in stale where try Self.expire(db, id, now: t) { expired += 1 }
            let done = try Int64.fetchAll(db, sql: """
                SELECT b.id FROM broadcast b WHERE b.status = 'sending'
                AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.broadcast_id = b.id AND o.status IN ('queued', 'sending') AND o.broadcast_id IS NOT NULL)
                """)
            for id in done {
                try db.execute(sql: "UPDATE broadcast SET status = 'completed', finished_at = ? WHERE id = ?", arguments: [t, id])
                try db.execute(sql: "UPDATE broadcast_text SET text = NULL WHERE broadcast_id = ?", arguments: [id])
                completed += 1
            }
            return (completed, expired)
        }
    }

    static func expire(_ db: Database, _ id: Int64, now t: Double) throws -> Bool {
        try db.execute(sql: "UPDATE broadcast SET status = 'expired', finished_at = ? WHERE id = ? AND status IN ('awaiting_approval', 'fanning_out', 'sending')",
                       arguments: [t, id])
        guard db.changesCount > 0 else { return false }
        try db.execute(sql: "UPDATE outbox SET status = 'expired', recipient = NULL, updated_at = ? WHERE broadcast_id = ? AND status = 'queued'",
                       arguments: [t, id])
        try db.execute(sql: "UPDATE broadcast_text SET text = NULL WHERE broadcast_id = ?", arguments: [id])
        return true
    }

    public func broadcast(_ id: Int64) async throws -> BroadcastSummary? {
        try await writer.read { db in try Self.summary(db, id) }
    }

    public func broadcasts(limit: Int = 50) async throws -> [BroadcastSummary] {
        try await writer.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM broadcast ORDER BY id DESC LIMIT ?", arguments: [limit]).compactMap { try Self.summary(db, $0) }
        }
    }

    static func summary(_ db: Database, _ id: Int64) throws -> BroadcastSummary? {
        guard let r = try BroadcastRow.fetchOne(db, key: id) else { return nil }
        var counts = BroadcastCounts()
        for row in try SQLRequest<StatusCount>(literal: "SELECT status, COUNT(*) AS n FROM outbox WHERE broadcast_id = \(id) GROUP BY status").fetchAll(db) {
            let n = row.n
            switch OutboxStatus(rawValue: row.status) {
            case .queued: counts.queued += n
            case .sending: counts.sending += n
            case .sent: counts.sent += n
            case .delivered: counts.delivered += n
            case .failed: counts.failed += n
            case .unknown: counts.unknown += n
            case .cancelled, .expired, nil: counts.skipped += n
            }
        }
        var texts: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT locale, text FROM broadcast_text WHERE broadcast_id = ? AND text IS NOT NULL", arguments: [id]) {
            texts[row["locale"]] = row["text"]
        }
        return BroadcastSummary(id: id, status: BroadcastStatus(rawValue: r.status) ?? .cancelled, areas: AreaCodes.split(r.areas),
                                confirmed: r.confirmed, requiresApproval: r.requiresApproval, createdBy: r.createdBy,
                                approvedBy: r.approvedBy, cancelledBy: r.cancelledBy, createdAt: r.createdAt,
                                expiresAt: r.expiresAt, finishedAt: r.finishedAt, recipients: r.recipients,
                                counts: counts, texts: texts)
    }

    static func audit(_ db: Database, actor: String, action: String, subject: String?, now: Double) throws {
        try db.execute(sql: "INSERT INTO audit (at, actor, action, subject) VALUES (?, ?, ?, ?)", arguments: [now, actor, action, subject])
    }

    /// Who did what and when (never with what it said).
    public func auditLog(limit: Int = 100) async throws -> [(at: Date, actor: String, action: String, subject: String?)] {
        try await writer.read { db in
            try AuditRow.order(AuditRow.Columns.id.desc).limit(limit).fetchAll(db).map { ($0.at, $0.actor, $0.action, $0.subject) }
        }
    }
}
