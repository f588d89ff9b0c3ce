import Foundation
import LanternProviders
import LanternStore
import Logging
import Metrics
import ServiceLifecycle

/// After FORGET, deletes her messages at the provider too (where its API allows), retrying
/// with backoff until the provider confirms; where it cannot, the request is dropped and the
/// provider's own retention applies (the README says which is which).
public struct ProviderErasureRunner: Service, CustomStringConvertible {
    let database: AppDatabase
    let providers: [String: any SMSProvider]
    let now: @Sendable () -> Date
    let logger: Logger
    let tick: Duration
    let wakeUp: OutboxWakeUp

    public var description: String { "ProviderErasureRunner" }

    public init(database: AppDatabase, providers: [String: any SMSProvider], wakeUp: OutboxWakeUp = OutboxWakeUp(),
                now: @escaping @Sendable () -> Date, logger: Logger, tick: Duration = .seconds(30)) {
        self.database = database
        self.providers = providers
        self.wakeUp = wakeUp
        self.now = now
        self.logger = logger
        self.tick = tick
    }

    public func run() async throws {
        await PeriodicLoop.run(every: tick, wakeUp: wakeUp, logger: logger, failure: "erasure at the provider failed; will try again") {
            _ = try await runOnce()
        }
    }

    /// One pass over what is due. Returns how many were finished.
    @discardableResult
    public func runOnce() async throws -> Int {
        var finished = 0
        for request in try await database.dueProviderErasures(limit: 20, now: now()) {
            guard let provider = providers[request.provider] else {
                // Its provider is no longer configured: keep it until it is.
                try await database.retryProviderErasure(request.id, at: now().addingTimeInterval(3600))
                continue
            }
            switch await provider.eraseMessages(of: request.number, knownIDs: request.messageIDs) {
            case .done(let deleted):
                try await database.finishProviderErasure(request.id)
                finished += 1
                Counter(label: "lantern_provider_erasures_total", dimensions: [("provider", provider.name), ("result", "done")]).increment()
                logger.info("messages deleted at the provider after an erasure", metadata: ["provider": "\(provider.name)", "deleted": "\(deleted)"])
            case .unsupported:
                try await database.finishProviderErasure(request.id)
                finished += 1
                Counter(label: "lantern_provider_erasures_total", dimensions: [("provider", provider.name), ("result", "unsupported")]).increment()
            case .retry(let reason):
                let delay = min(3600, 30 * pow(2, Double(min(request.attempts, 10))))
                try await database.retryProviderErasure(request.id, at: now().addingTimeInterval(delay))
                Counter(label: "lantern_provider_erasures_total", dimensions: [("provider", provider.name), ("result", "retry")]).increment()
                logger.notice("erasure at the provider will be retried", metadata: [
                    "provider": "\(provider.name)", "reason": "\(reason)", "in_seconds": "\(Int(delay))"])
            }
        }
        return finished
    }
}
