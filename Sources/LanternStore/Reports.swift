import Foundation
import GRDB
import LanternCore

public enum ReportError: Error, Equatable, CustomStringConvertible {
    case unknownReference(String)
    case emptyReply
    case replyTooLong(segments: Int)

    public var description: String {
        switch self {
        case .unknownReference(let r): "no live report \(r) (references expire, and FORGET removes them)"
        case .emptyReply: "the reply has no words"
        case .replyTooLong(let n): "the reply would be \(n) SMS segments; at most \(MessageTemplate.segmentCeiling) (shorten it)"
        }
    }
}

/// A report a coordinator can still answer by its reference.
public struct ReportReference: Sendable, Equatable {
    public let ref: String
    public let expiresAt: Date
    /// A coordinator asked her something and her answer has not come yet.
    public let awaitingAnswer: Bool
}

/// A report waiting to go to the coordinators' webhook, decrypted just for sending.
public struct QueuedRelay: Sendable, Equatable {
    public let id: Int64
    public let payload: Data
    public let attempts: Int
}

extension AppDatabase {
    /// Passes a report on at once and keeps none of it: the relay texts and the webhook payload
    /// are sealed until sent, then deleted. What stays is a count per area and day, and a
    /// reference that lets a coordinator answer without ever seeing her number.
    static func relayReport(_ db: Database, key: ContactKey, envelope: InboundEnvelope, report: Report,
                            vault: PIIVault, policy: InboundPolicy, now t: Double) throws {
        // Never REPLACE: that would hand another woman's reference (and a coordinator's answer) to her.
        try db.run("INSERT INTO report_ref (ref, contact_key, expires_at) VALUES (?, ?, ?)",
                   [report.ref, key.hex, t + policy.reportReferenceLifetime])
        let day = ISO8601DateFormatter.day.string(from: Date(timeIntervalSince1970: t))
        for area in report.areas {
            try db.run("INSERT INTO report_count (day, area, n) VALUES (?, ?, 1) ON CONFLICT(day, area) DO UPDATE SET n = n + 1", [day, area])
        }
        try passToCoordinators(db, text: report.relayText, payload: [
            "type": "report", "ref": report.ref, "area": AreaCodes.join(report.areas), "area_name": report.areaName,
            "happened": report.happened, "when": report.when, "description": report.description,
        ], envelope: envelope, vault: vault, policy: policy, now: t)
    }

    /// Her answer to a coordinator's question goes to the coordinators (their phones and the
    /// webhook), sealed until sent; the question is then settled.
    static func relayReportAnswer(_ db: Database, key: ContactKey, envelope: InboundEnvelope, answer: ReportAnswer,
                                  vault: PIIVault, policy: InboundPolicy, now t: Double) throws {
        try db.run("UPDATE report_ref SET awaiting_answer = 0 WHERE ref = ? AND contact_key = ?", [answer.ref, key.hex])
        try passToCoordinators(db, text: answer.relayText, payload: ["type": "report_answer", "ref": answer.ref, "answer": answer.answer],
                               envelope: envelope, vault: vault, policy: policy, now: t)
    }

    /// An SMS to each on-duty coordinator phone and, if configured, the signed webhook: sealed
    /// until sent, then gone.
    static func passToCoordinators(_ db: Database, text: String, payload: [String: String], envelope: InboundEnvelope,
                                   vault: PIIVault, policy: InboundPolicy, now t: Double) throws {
        for number in policy.coordinatorNumbers {
            _ = try enqueue(db, contact: nil, provider: envelope.provider, sender: envelope.to, recipient: try vault.seal(number.e164),
                            vault: vault, kind: .relay, text: text, now: t)
        }
        guard policy.reportWebhook else { return }
        var payload = payload
        payload["received_at"] = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: t))
        let json = String(decoding: try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]), as: UTF8.self)
        try db.run("INSERT INTO relay_queue (payload, next_attempt_at, created_at) VALUES (?, ?, ?)", [try vault.seal(json), t, t])
    }

    /// A coordinator answers a report by its reference; the text goes to the reporter.
    public func replyToReport(_ rawRef: String, text: String, by actor: String, now: Date) async throws -> Int64 {
        guard let ref = ReferenceCode.parse(rawRef, prefix: "R") else { throw ReportError.unknownReference(rawRef) }
        let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw ReportError.emptyReply }
        let segments = SMSSegments.count(body).segments
        guard segments <= MessageTemplate.segmentCeiling else { throw ReportError.replyTooLong(segments: segments) }
        let t = now.timeIntervalSince1970
        let vault = self.vault
        return try await writer.write { db in
            try Self.enqueueReportReply(db, ref: ref, body: body, actor: actor, vault: vault, now: t)
        }
    }

    static func enqueueReportReply(_ db: Database, ref: String, body: String, actor: String, vault: PIIVault, now t: Double) throws -> Int64 {
        guard let r = try Row.fetchOne(db, sql: """
            SELECT c.key, c.number, c.provider, c.sender FROM report_ref r JOIN contact c ON c.key = r.contact_key
            WHERE r.ref = ? AND r.expires_at > ? AND c.opted_out_at IS NULL
            """, arguments: [ref, t]) else { throw ReportError.unknownReference(ref) }
        try Self.audit(db, actor: actor, action: "report.replied", subject: ref, now: t)
        // Her next text that is no keyword is her answer, relayed back (see FlowEngine).
        try db.run("UPDATE report_ref SET awaiting_answer = 1 WHERE ref = ?", [ref])
        return try Self.enqueue(db, contact: ContactKey(hex: r["key"]), provider: r["provider"] ?? "console", sender: r["sender"],
                                recipient: r["number"], vault: vault, kind: .reply, text: body, now: t)
    }

    /// A coordinator answered a report from her phone ("R-PM63 Was that today?"): the answer goes
    /// to the reporter and the coordinator hears back, in one transaction, processed once per
    /// provider message id. Nothing the coordinator typed is kept beyond the sealed reply.
    public func coordinatorReply(_ envelope: InboundEnvelope, ref rawRef: String, text: String,
                                 acknowledge: @escaping @Sendable (CoordinatorReplyOutcome) -> String,
                                 now: Date) async throws -> CoordinatorReplyOutcome {
        let t = now.timeIntervalSince1970
        let vault = self.vault
        let coordinator = vault.contactKey(for: envelope.from)
        let sealedCoordinator = try vault.seal(envelope.from.e164)
        let seen = Self.dedupeKeys(envelope, vault: vault)
        return try await writer.write { db in
            guard try Self.markSeen(db, seen, now: t) else { return .duplicate }
            let outcome: CoordinatorReplyOutcome
            let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if let ref = ReferenceCode.parse(rawRef, prefix: "R") {
                let segments = SMSSegments.count(body).segments
                if body.isEmpty {
                    outcome = .empty(ref)
                } else if segments > MessageTemplate.segmentCeiling {
                    outcome = .tooLong(ref, segments: segments)
                } else {
                    do {
                        _ = try Self.enqueueReportReply(db, ref: ref, body: body, actor: "coordinator-sms:\(coordinator.short)", vault: vault, now: t)
                        outcome = .sent(ref)
                    } catch ReportError.unknownReference {
                        outcome = .unknownReference(ref)
                    }
                }
            } else {
                outcome = .unknownReference(rawRef)
            }
            _ = try Self.enqueue(db, contact: nil, provider: envelope.provider, sender: envelope.to, recipient: sealedCoordinator,
                                 vault: vault, kind: .relay, text: acknowledge(outcome), now: t)
            return outcome
        }
    }

    /// References coordinators can still answer, newest first: the reference and when it
    /// lapses, never whose it is or what she said.
    public func liveReportReferences(now: Date, limit: Int = 50) async throws -> [ReportReference] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.ref, r.expires_at, r.awaiting_answer FROM report_ref r JOIN contact c ON c.key = r.contact_key
                WHERE r.expires_at > ? AND c.opted_out_at IS NULL ORDER BY r.expires_at DESC LIMIT ?
                """, arguments: [now.timeIntervalSince1970, limit])
                .map { ReportReference(ref: $0["ref"], expiresAt: Date(timeIntervalSince1970: $0["expires_at"]), awaitingAnswer: $0["awaiting_answer"]) }
        }
    }

    /// Reports per area per day: the only thing kept about reports.
    public func reportCounts(since day: String) async throws -> [(day: String, area: String, count: Int)] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT day, area, n FROM report_count WHERE day >= ? ORDER BY day, area", arguments: [day])
                .map { ($0["day"], $0["area"], $0["n"]) }
        }
    }

    public func expireReportReferences(now: Date) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM report_ref WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
        }
    }

    /// Webhook relays due now, opened for sending.
    public func dueRelays(limit: Int, now: Date) async throws -> [QueuedRelay] {
        let vault = self.vault
        return try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, payload, attempts FROM relay_queue WHERE next_attempt_at <= ? ORDER BY id LIMIT ?",
                             arguments: [now.timeIntervalSince1970, limit]).compactMap { r in
                guard let json = try? vault.open(r["payload"]) else { return nil }
                return QueuedRelay(id: r["id"], payload: Data(json.utf8), attempts: r["attempts"])
            }
        }
    }

    /// Delivered (or given up on): the report's words are gone.
    public func finishRelay(_ id: Int64) async throws {
        try await writer.write { db in try db.execute(sql: "DELETE FROM relay_queue WHERE id = ?", arguments: [id]) }
    }

    public func retryRelay(_ id: Int64, at: Date) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE relay_queue SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                           arguments: [at.timeIntervalSince1970, id])
        }
    }
}

extension ISO8601DateFormatter {
    /// "2026-11-25", in UTC.
    static var day: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withFullDate]
        return f
    }
}

/// How a coordinator's texted answer to a report ended.
public enum CoordinatorReplyOutcome: Sendable, Equatable {
    case sent(String)
    case unknownReference(String)
    case empty(String)
    case tooLong(String, segments: Int)
    /// The provider sent this text before: nothing was done again.
    case duplicate
}
