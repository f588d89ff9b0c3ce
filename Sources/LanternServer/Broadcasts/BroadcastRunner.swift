import Foundation
import LanternCore
import LanternStore
import Logging
import ServiceLifecycle

/// Wakes the runner when a broadcast is created or approved.
public typealias BroadcastWakeUp = OutboxWakeUp

/// Moves broadcasts along: writes recipients to the outbox in batches (resuming after a crash
/// where it stopped), completes those with nothing left to send, and expires stale ones so a
/// warning is never sent late. Its batches are short transactions, so webhooks keep flowing.
public struct BroadcastRunner: Service {
    let database: AppDatabase
    let defaultProvider: String
    let defaultWording: Wording
    let batchSize: Int
    let wakeUp: BroadcastWakeUp
    let outboxWakeUp: OutboxWakeUp
    let now: @Sendable () -> Date
    let logger: Logger
    let tick: Duration

    public init(database: AppDatabase, defaultProvider: String, defaultWording: Wording = .discreet, batchSize: Int = 2_000,
                wakeUp: BroadcastWakeUp, outboxWakeUp: OutboxWakeUp, now: @escaping @Sendable () -> Date, logger: Logger,
                tick: Duration = .seconds(1)) {
        self.database = database
        self.defaultWording = defaultWording
        self.defaultProvider = defaultProvider
        self.batchSize = batchSize
        self.wakeUp = wakeUp
        self.outboxWakeUp = outboxWakeUp
        self.now = now
        self.logger = logger
        self.tick = tick
    }

    public func run() async throws {
        await PeriodicLoop.run(every: tick, wakeUp: wakeUp, logger: logger, failure: "broadcast step failed; retrying shortly") {
            try await runOnce()
        }
    }

    /// One pass: all pending fan-out (batch by batch), then settle.
    public func runOnce() async throws {
        var wrote = false
        while !Task.isShuttingDownGracefully, try await database.fanOutNextBatch(size: batchSize, defaultProvider: defaultProvider, defaultWording: defaultWording, now: now()) {
            wrote = true
            await outboxWakeUp.notify()
        }
        let settled = try await database.settleBroadcasts(now: now())
        if settled.completed + settled.expired > 0 {
            logger.info("broadcasts settled", metadata: ["completed": "\(settled.completed)", "expired": "\(settled.expired)"])
        }
        if wrote { await outboxWakeUp.notify() }
    }
}

extension BroadcastRunner: CustomStringConvertible {
    public var description: String { "BroadcastRunner" }
}
