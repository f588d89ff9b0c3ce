import Foundation
import GRDB
import LanternCore

/// Why a coordinator closed a request: a fixed list, so no free-text note is ever stored.
public enum KitCloseReason: String, Sendable, Codable, CaseIterable {
    case posted, collected, personAsked = "person_asked", duplicate, noStock = "no_stock", unreachable, other
}

/// A kit request as coordinators see it in the queue (no address).
public struct KitSummary: Sendable, Codable, Equatable {
    public let ref: String
    public let kind: String
    public let method: String
    public let pickup: String?
    public let status: KitInfo.Status
    public let reason: KitCloseReason?
    public let createdAt: Date
    public let hasAddress: Bool

    enum CodingKeys: String, CodingKey {
        case ref, kind, method, pickup, status, reason
        case createdAt = "created_at"
        case hasAddress = "has_address"
    }
}

/// One request with its address decrypted: only for a coordinator, and every view is audited.
public struct KitDetail: Sendable, Codable, Equatable {
    public let summary: KitSummary
    public let address: String?
}

public enum KitError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case notOpen(String, KitInfo.Status)
    case invalidStatus(String)

    public var description: String {
        switch self {
        case .notFound(let r): "no kit request \(r)"
        case .notOpen(let r, let s): "kit request \(r) is already \(s.rawValue)"
        case .invalidStatus(let s): "'\(s)' is not something a request can be marked: use sent, collected or cancelled"
        }
    }
}

extension AppDatabase {
    /// Her latest request, and how many she has made since `since` (cancelled ones don't count).
    static func kitState(_ db: Database, key: ContactKey, since: Double) throws -> (KitInfo?, Int) {
        let latest = try db.fetchRow("SELECT ref, status, method FROM kit_request WHERE contact_key = ? ORDER BY status = 'open' DESC, created_at DESC LIMIT 1", [key.hex])
            .flatMap { r in KitInfo.Status(rawValue: r["status"]).map { KitInfo(ref: r["ref"], status: $0, method: r["method"]) } }
        guard latest != nil else { return (nil, 0) }
        let n = try Int.fetchOne(db.cachedStatement(sql: """
            SELECT COUNT(*) FROM kit_request WHERE contact_key = ? AND created_at > ? AND status != 'cancelled'
            """), arguments: [key.hex, since]) ?? 0
        return (latest, n)
    }

    static func requestKit(_ db: Database, key: ContactKey, order: KitOrder, vault: PIIVault, now t: Double) throws {
        let address = try order.address.map { try vault.seal($0) }
        try db.run("""
            INSERT INTO kit_request (ref, contact_key, kind, method, pickup, address, key_version, status, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)
            """, [order.ref, key.hex, order.kind, order.method, order.pickup, address, vault.keys.version, day(t), day(t)])
    }

    /// The coordinators' queue: open requests first, oldest first.
    public func kitRequests(includeClosed: Bool = false, limit: Int = 200) async throws -> [KitSummary] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT ref, kind, method, pickup, status, reason, created_at, address IS NOT NULL AS has_address FROM kit_request
                \(includeClosed ? "" : "WHERE status = 'open'")
                ORDER BY status != 'open', created_at LIMIT ?
                """, arguments: [limit]).map(Self.kitSummary)
        }
    }

    static func kitSummary(_ r: Row) -> KitSummary {
        KitSummary(ref: r["ref"], kind: r["kind"], method: r["method"], pickup: r["pickup"],
                   status: KitInfo.Status(rawValue: r["status"]) ?? .open, reason: (r["reason"] as String?).flatMap(KitCloseReason.init),
                   createdAt: Date(timeIntervalSince1970: r["created_at"]), hasAddress: r["has_address"])
    }

    /// One request with its address decrypted. Records who looked, and when (never what).
    public func kitRequest(_ ref: String, viewer: String, now: Date) async throws -> KitDetail {
        let vault = self.vault
        return try await writer.write { db in
            guard let r = try Row.fetchOne(db, sql: """
                SELECT ref, kind, method, pickup, status, reason, created_at, address, address IS NOT NULL AS has_address
                FROM kit_request WHERE ref = ?
                """, arguments: [ref]) else { throw KitError.notFound(ref) }
            let address = try (r["address"] as Data?).map { try vault.open($0) }
            if address != nil {
                try Self.audit(db, actor: viewer, action: "kit.address_viewed", subject: ref, now: now.timeIntervalSince1970)
            }
            return KitDetail(summary: Self.kitSummary(r), address: address)
        }
    }

    /// Closes an open request: its address is deleted at once, and she is told (in her language,
    /// through `notification`) unless she has opted out since.
    public func markKit(_ ref: String, as status: KitInfo.Status, reason: KitCloseReason?, by actor: String, now: Date,
                        notification: @escaping @Sendable (_ language: String, _ wording: Wording?) -> String?) async throws -> KitSummary {
        guard [.sent, .collected, .cancelled].contains(status) else { throw KitError.invalidStatus(status.rawValue) }
        let t = now.timeIntervalSince1970
        let vault = self.vault
        return try await writer.write { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT status, contact_key FROM kit_request WHERE ref = ?", arguments: [ref]) else {
                throw KitError.notFound(ref)
            }
            let current = KitInfo.Status(rawValue: r["status"]) ?? .open
            guard current == .open else { throw KitError.notOpen(ref, current) }
            // Closed: where she collects from is no longer anyone's business.
            try db.execute(sql: "UPDATE kit_request SET status = ?, reason = ?, address = NULL, pickup = NULL, updated_at = ? WHERE ref = ?",
                           arguments: [status.rawValue, reason?.rawValue, Self.day(t), ref])
            try Self.audit(db, actor: actor, action: "kit.\(status.rawValue)", subject: ref, now: t)
            if let key = r["contact_key"] as String?,
               let c = try Row.fetchOne(db, sql: "SELECT number, language, wording, provider, sender, opted_out_at FROM contact WHERE key = ?", arguments: [key]),
               c["opted_out_at"] as Double? == nil,
               let text = notification(c["language"], (c["wording"] as String?).flatMap(Wording.init(rawValue:))) {
                _ = try Self.enqueue(db, contact: ContactKey(hex: key), provider: c["provider"] ?? "console", sender: c["sender"],
                                     recipient: c["number"], vault: vault, kind: .reply, text: text, now: t)
            }
            return Self.kitSummary(try Row.fetchOne(db, sql: """
                SELECT ref, kind, method, pickup, status, reason, created_at, address IS NOT NULL AS has_address FROM kit_request WHERE ref = ?
                """, arguments: [ref])!)
        }
    }

    /// Nothing is kept longer than fulfilment needs: open requests older than `addressLifetime`
    /// lose their address (and expire), and closed requests are deleted after it too.
    @discardableResult
    public func expireKits(addressLifetime: TimeInterval, now: Date) async throws -> (expired: Int, deleted: Int) {
        let cutoff = now.timeIntervalSince1970 - addressLifetime
        return try await writer.write { db in
            try db.execute(sql: """
                UPDATE kit_request SET status = 'expired', address = NULL, pickup = NULL, updated_at = ? WHERE status = 'open' AND created_at < ?
                """, arguments: [Self.day(now.timeIntervalSince1970), cutoff])
            let expired = db.changesCount
            try db.execute(sql: "DELETE FROM kit_request WHERE status != 'open' AND updated_at < ?", arguments: [cutoff])
            return (expired, db.changesCount)
        }
    }
}
