import Foundation
import GRDB
import LanternCore

/// Messages to delete at a provider after someone erased herself: her number and the ids
/// Lantern knew, sealed, kept only until the provider confirms.
public struct ProviderErasureRequest: Sendable, Equatable {
    public let id: Int64
    public let provider: String
    public let number: PhoneNumber
    public let messageIDs: [String]
    public let attempts: Int
}

extension AppDatabase {
    /// Queues her erasure at every provider she was texted through (in the erasing transaction).
    static func queueProviderErasure(_ db: Database, key: ContactKey, vault: PIIVault, now: Double) throws {
        guard let contact = try db.fetchRow("SELECT number, provider FROM contact WHERE key = ?", [key.hex]) else { return }
        var ids: [String: [String]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT provider, provider_message_id FROM outbox WHERE contact_key = ? AND provider_message_id IS NOT NULL",
                                    arguments: [key.hex]) {
            ids[row["provider"], default: []].append(row["provider_message_id"])
        }
        if let provider = contact["provider"] as String?, ids[provider] == nil { ids[provider] = [] }
        // Sealed as a whole under the current key (and re-sealed by a rotation like everything else).
        guard let number = try? vault.open(contact["number"]) else { return }
        for (provider, list) in ids {
            let payload = try JSONSerialization.data(withJSONObject: ["number": number, "ids": list])
            // Ten minutes on: the confirmation of her erasure has been delivered by then (a
            // provider cannot delete a message still being sent), so it goes too.
            try db.run("INSERT INTO provider_erasure (provider, payload, next_attempt_at) VALUES (?, ?, ?)",
                       [provider, try vault.seal(String(decoding: payload, as: UTF8.self)), now + 600])
        }
    }

    /// Erasures due now, opened for this attempt only.
    public func dueProviderErasures(limit: Int, now: Date) async throws -> [ProviderErasureRequest] {
        let vault = self.vault
        let rows = try await writer.read { db in
            try SQLRequest<ProviderErasureRow>(literal: """
                SELECT id, provider, payload, attempts FROM provider_erasure WHERE next_attempt_at <= \(now.timeIntervalSince1970)
                ORDER BY next_attempt_at LIMIT \(limit)
                """).fetchAll(db)
        }
        return rows.compactMap { row in
            guard let json = try? vault.open(row.payload),
                  let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                  let number = (object["number"] as? String).flatMap({ PhoneNumber($0) }) else { return nil }
            return ProviderErasureRequest(id: row.id, provider: row.provider, number: number,
                                          messageIDs: object["ids"] as? [String] ?? [], attempts: row.attempts)
        }
    }

    /// Done (or impossible at this provider): nothing about her is left here.
    public func finishProviderErasure(_ id: Int64) async throws {
        try await writer.write { db in try db.run("DELETE FROM provider_erasure WHERE id = ?", [id]) }
    }

    public func retryProviderErasure(_ id: Int64, at: Date) async throws {
        try await writer.write { db in
            try db.run("UPDATE provider_erasure SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?", [at.timeIntervalSince1970, id])
        }
    }

    /// How many erasures still wait for a provider (for tests and `/metrics`).
    public func pendingProviderErasures() async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM provider_erasure") ?? 0 }
    }
}

extension AppDatabase {
    /// Every provider message id still held (for tests that check nothing leads back to her).
    public func providerMessageIDs() async throws -> [String] {
        try await writer.read { db in try String.fetchAll(db, sql: "SELECT provider_message_id FROM outbox WHERE provider_message_id IS NOT NULL") }
    }
}
