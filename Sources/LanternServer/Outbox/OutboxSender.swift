import Foundation
import LanternCore
import LanternProviders
import LanternStore
import Logging
import Metrics
import ServiceLifecycle

/// Sends what the outbox holds, at the provider's rate, retrying what may be retried.
/// Each text is claimed, sent and marked in steps that survive a crash: after a restart a text
/// claimed but not confirmed is resent only where the provider deduplicates, never blindly.
public struct OutboxSender: Service {
    let database: AppDatabase
    let providers: [String: any SMSProvider]
    let pacer: SendPacer
    let retry: RetryPolicy
    let maxConcurrent: Int
    let wakeUp: OutboxWakeUp
    public let pauses: ProviderPauses
    let allowedCountryCodes: Set<String>
    let now: @Sendable () -> Date
    let random: @Sendable () -> Double
    let logger: Logger
    /// How often to look for retries that have become due when nothing wakes the sender.
    let idlePoll: Duration

    public init(database: AppDatabase, providers: [String: any SMSProvider], pacer: SendPacer, retry: RetryPolicy,
                maxConcurrent: Int, wakeUp: OutboxWakeUp, pauses: ProviderPauses? = nil, allowedCountryCodes: Set<String> = ["*"],
                now: @escaping @Sendable () -> Date = { Date() },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, logger: Logger,
                idlePoll: Duration = .seconds(1)) {
        self.database = database
        self.providers = providers
        self.pacer = pacer
        self.retry = retry
        self.maxConcurrent = maxConcurrent
        self.wakeUp = wakeUp
        self.pauses = pauses ?? ProviderPauses(logger: logger)
        self.allowedCountryCodes = allowedCountryCodes
        self.now = now
        self.random = random
        self.logger = logger
        self.idlePoll = idlePoll
    }

    public func run() async throws {
        let idempotent = Set(providers.values.filter(\.sendsAreIdempotent).map(\.name))
        let recovered = try await database.recoverInterruptedSends(idempotentProviders: idempotent, now: now())
        if recovered.requeued + recovered.unknown > 0 {
            logger.warning("recovered sends interrupted by a crash", metadata: [
                "requeued": "\(recovered.requeued)", "unknown": "\(recovered.unknown)"])
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let sent: Int
            do {
                sent = try await sendBatch()
            } catch is CancellationError {
                break
            } catch {
                // A database hiccup must not stop all sending; what was claimed is recovered at restart.
                logger.error("outbox batch failed; retrying shortly", metadata: ["error": "\(type(of: error))"])
                sent = 0
            }
            if sent == 0 { await wakeUp.idle(upTo: idlePoll) }
        }
        logger.info("outbox sender stopped")
    }

    /// Claims what the rate allows now and sends it. Returns how many were attempted.
    /// In-flight sends always finish (and are recorded) even during shutdown.
    @discardableResult
    public func sendBatch() async throws -> Int {
        let paused = Set(pauses.active(at: now()).keys)
        // Every route over its rate (the usual case with one number and a backlog): wait for the
        // first to pay back. Not cut short by new texts: each would only be claimed and put
        // back, a write the inbound path waits behind. (A route that has never sent waits at
        // most this long.)
        if await pacer.allResting(), let wait = await pacer.soonestReady() {
            try await Task.sleep(for: min(wait, .seconds(1)))
        }
        let resting = await pacer.resting()
        let claimed = try await database.claimDue(limit: await pacer.allowance(upTo: maxConcurrent), now: now(), excludingProviders: paused,
                                                  excludingRoutes: Set(resting.map(\.description)))
        guard !claimed.isEmpty else { return 0 }
        // Each text takes its cost from its own route; one whose route has run out goes back to
        // the queue for when it has paid back (no attempt used).
        var batch: [OutboxMessage] = []
        var held: [SendRecord] = []
        for message in claimed {
            let route = SendRoute(provider: message.provider, sender: message.sender)
            if await pacer.take(route, segments: message.segments) {
                batch.append(message)
            } else {
                let wait = await pacer.wait(for: route)
                held.append(SendRecord(id: message.id, result: .held(until: now().addingTimeInterval(wait.seconds), reason: "lantern:paced")))
            }
        }
        if !held.isEmpty { try await database.recordSends(held, now: now()) }
        guard !batch.isEmpty else { return 0 }
        // Different people in parallel; one person's texts one after another, in the order
        // they were queued, so two quick replies never arrive the wrong way round.
        let byRecipient = Dictionary(grouping: batch, by: \.to).values.map { $0.sorted { $0.id < $1.id } }
        // Each text is recorded as handed to the provider just before it is: the first of each
        // person's in one write, later ones (which wait for the first) one by one.
        try await database.markHanded(byRecipient.map { $0[0].id }, now: now())
        let records = await withTaskGroup(of: [SendRecord].self) { group in
            for messages in byRecipient {
                group.addTask {
                    var out: [SendRecord] = []
                    for (n, message) in messages.enumerated() {
                        if let pause = self.pauses.active(at: self.now())[message.provider] {
                            // Its provider was paused while this one waited its turn.
                            out.append(SendRecord(id: message.id, result: .held(until: pause.until, reason: "lantern:provider-paused")))
                            continue
                        }
                        if n > 0 {
                            do { try await self.database.markHanded([message.id], now: self.now()) } catch {
                                // Not recorded as handed, so not sent now: it goes back in the queue.
                                out.append(SendRecord(id: message.id, result: .retry(at: self.now(), reason: "lantern:not-handed")))
                                continue
                            }
                        }
                        out.append(await self.deliver(message))
                    }
                    return out
                }
            }
            var out: [SendRecord] = []
            for await r in group { out += r }
            return out
        }
        // In-flight sends always finish and are recorded, even during shutdown.
        try await database.recordSends(records, now: now())
        return batch.count
    }

    /// Sends one text and decides what its outcome means (not yet recorded).
    func deliver(_ message: OutboxMessage) async -> SendRecord {
        let meta: Logger.Metadata = ["outbox": "\(message.id)", "contact": "\(message.contact?.short ?? "-")",
                                     "provider": "\(message.provider)", "attempt": "\(message.attempts + 1)"]
        guard let provider = providers[message.provider] else {
            // Its provider was removed from the configuration: keep it queued until it returns.
            logger.error("no provider configured for a queued text", metadata: meta)
            return SendRecord(id: message.id, result: .retry(at: now().addingTimeInterval(retry.maxDelay), reason: "lantern:provider-not-configured"))
        }
        guard message.to.isIn(countryCodes: allowedCountryCodes) else {
            // Whatever queued it (an alert to someone who signed up from abroad, a relay to a
            // foreign coordinator number): the service does not pay for texts abroad.
            count("country_not_allowed", provider.name)
            logger.warning("not sent: the number is outside the countries this service texts", metadata: meta)
            return SendRecord(id: message.id, result: .failed(errorCode: "lantern:country-not-allowed", optedOut: false))
        }
        let outcome = await provider.send(OutboundSMS(outboxID: message.id, to: message.to, from: message.sender, text: message.text))
        switch outcome {
        case .accepted(let id):
            pauses.clear(provider.name)
            count("sent", provider.name)
            logger.debug("sent", metadata: meta)
            return SendRecord(id: message.id, result: .accepted(providerMessageID: id))
        case .failed(let code, let optedOut):
            count(optedOut ? "opted_out" : "failed", provider.name)
            logger.warning("send failed permanently", metadata: meta.merging(["error": "\(code)", "opted_out": "\(optedOut)"]) { a, _ in a })
            return SendRecord(id: message.id, result: .failed(errorCode: code, optedOut: optedOut))
        case .retry(let reason, let after):
            return retryRecord(message, reason: reason, retryAfter: after, provider: provider.name, meta: meta)
        case .suspended(let reason):
            let until = pauses.pause(provider.name, reason: reason, now: now())
            count("held", provider.name)
            return SendRecord(id: message.id, result: .held(until: until, reason: "lantern:provider-paused"))
        case .ambiguous(let reason):
            if provider.sendsAreIdempotent {
                return retryRecord(message, reason: reason, retryAfter: nil, provider: provider.name, meta: meta)
            }
            count("unknown", provider.name)
            logger.warning("send outcome unknown; not resent to avoid a duplicate", metadata: meta.merging(["reason": "\(reason)"]) { a, _ in a })
            return SendRecord(id: message.id, result: .unknown(reason: "lantern:ambiguous"))
        }
    }

    func retryRecord(_ message: OutboxMessage, reason: String, retryAfter: TimeInterval?, provider: String,
                     meta: Logger.Metadata) -> SendRecord {
        let attempt = message.attempts + 1
        if attempt >= retry.maxAttempts {
            count("failed", provider)
            logger.error("send gave up after retries", metadata: meta.merging(["reason": "\(reason)"]) { a, _ in a })
            return SendRecord(id: message.id, result: .failed(errorCode: "lantern:gave-up", optedOut: false))
        }
        let delay = retry.delay(afterAttempt: attempt, retryAfter: retryAfter, random: random())
        count("retried", provider)
        logger.notice("send will be retried", metadata: meta.merging(["reason": "\(reason)", "in_seconds": "\(Int(delay.rounded()))"]) { a, _ in a })
        return SendRecord(id: message.id, result: .retry(at: now().addingTimeInterval(delay), reason: reason))
    }

    func count(_ result: String, _ provider: String) {
        Counter(label: "lantern_outbox_sends_total", dimensions: [("provider", provider), ("result", result)]).increment()
    }
}

/// Services are described in ServiceLifecycle's logs: say what they are, never what they hold
/// (provider credentials, keys).
extension OutboxSender: CustomStringConvertible {
    public var description: String { "OutboxSender" }
}
