import Foundation
import LanternStore

/// Group commit for inbound texts. When a write is already under way, texts that arrive
/// meanwhile wait and then go to the database together in the next transaction; when idle, a
/// text goes at once. One SQLite writer then keeps up with many concurrent webhooks without
/// adding latency to a lone one.
actor InboundCommitQueue {
    private let database: AppDatabase
    private let policy: InboundPolicy
    private let now: @Sendable () -> Date
    private let maxBatch: Int
    private var pending: [(item: PendingInbound, prepared: PreparedInbound, reply: CheckedContinuation<InboundResult, any Error>)] = []
    private var writing = false

    init(database: AppDatabase, policy: InboundPolicy, now: @escaping @Sendable () -> Date, maxBatch: Int = 256) {
        self.database = database
        self.policy = policy
        self.now = now
        self.maxBatch = maxBatch
    }

    /// `prepared`: her hashes and sealed number, worked out by the caller (on its own thread,
    /// in parallel with others) so the one writer spends no time on them.
    func handle(_ item: PendingInbound, prepared: PreparedInbound) async throws -> InboundResult {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((item, prepared, continuation))
            if !writing {
                writing = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            do {
                let items = batch.map(\.item), policy = self.policy
                let results = try await database.writeInbound(batch.map(\.prepared), now: now(), policy: policy) { tx, i in
                    try InboundTurn.run(tx, items[i], policy: policy)
                }
                for (entry, result) in zip(batch, results) { entry.reply.resume(with: result) }
            } catch {
                for entry in batch { entry.reply.resume(throwing: error) }
            }
        }
        writing = false
    }
}
