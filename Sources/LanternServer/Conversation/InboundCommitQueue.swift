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
    private var pending: [(item: PendingInbound, reply: CheckedContinuation<InboundResult, any Error>)] = []
    private var writing = false

    init(database: AppDatabase, policy: InboundPolicy, now: @escaping @Sendable () -> Date, maxBatch: Int = 256) {
        self.database = database
        self.policy = policy
        self.now = now
        self.maxBatch = maxBatch
    }

    func handle(_ item: PendingInbound) async throws -> InboundResult {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((item, continuation))
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
                let results = try await database.handleInbound(batch.map(\.item), now: now(), policy: policy)
                for (entry, result) in zip(batch, results) { entry.reply.resume(with: result) }
            } catch {
                for entry in batch { entry.reply.resume(throwing: error) }
            }
        }
        writing = false
    }
}
