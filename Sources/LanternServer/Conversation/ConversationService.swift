import Foundation
import LanternCore
import LanternProviders
import LanternStore
import Logging
import Metrics

/// The use case "someone texted us": runs the engine on her state inside one store
/// transaction and wakes the outbox. The text exists only in this call's memory.
public struct ConversationService: Sendable {
    public let database: AppDatabase
    public let engine: FlowEngine
    let outboxWakeUp: OutboxWakeUp
    let commits: InboundCommitQueue
    let now: @Sendable () -> Date
    let logger: Logger

    public init(database: AppDatabase, engine: FlowEngine, policy: InboundPolicy = InboundPolicy(), outboxWakeUp: OutboxWakeUp,
                now: @escaping @Sendable () -> Date, logger: Logger) {
        self.database = database
        self.engine = engine
        self.outboxWakeUp = outboxWakeUp
        self.commits = InboundCommitQueue(database: database, policy: policy, now: now)
        self.now = now
        self.logger = logger
    }

    public func receive(_ message: InboundMessage) async throws -> InboundResult {
        let engine = self.engine
        let text = message.text
        let envelope = InboundEnvelope(provider: message.provider, messageID: message.messageID, from: message.from, to: message.to)
        let now = self.now
        let result = try await commits.handle(PendingInbound(envelope) { contact, conversation in
            engine.handle(text: text, contact: contact, conversation: conversation, now: now())
        })
        switch result {
        case .duplicate:
            Counter(label: "lantern_inbound_duplicates_total", dimensions: [("provider", message.provider)]).increment()
            logger.info("inbound duplicate ignored", metadata: ["provider": "\(message.provider)"])
        case .handled(let contact, let outcome, let queued):
            Counter(label: "lantern_inbound_messages_total",
                    dimensions: [("provider", message.provider), ("decision", outcome.decision.kind)]).increment()
            logger.info("inbound handled", metadata: [
                "contact": "\(contact.short)",
                "provider": "\(message.provider)",
                "decision": "\(outcome.decision)",
                "actions": "\(outcome.actions.map(\.rawValue).joined(separator: ","))",
                "replies": "\(queued.count)",
            ])
            if !queued.isEmpty { await outboxWakeUp.notify() }
        }
        return result
    }
}
