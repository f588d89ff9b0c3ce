import Foundation
import LanternCore
import LanternStore
import Metrics

/// One inbound text waiting to be handled: who sent it, and the decision to make on her state
/// (the engine, with the service's limits around it). The text lives only in that closure.
public struct PendingInbound: Sendable {
    public let envelope: InboundEnvelope
    /// Her contact key when the caller already computed it (the rate limiter does), so the
    /// keyed hash is not computed twice per text.
    public let key: ContactKey?
    /// Her context, her conversation and this text's randomness → what to say and do.
    public let decide: @Sendable (ContactContext, ConversationState?, UInt64) -> EngineOutcome

    public init(_ envelope: InboundEnvelope, key: ContactKey? = nil,
                decide: @escaping @Sendable (ContactContext, ConversationState?, UInt64) -> EngineOutcome) {
        self.envelope = envelope
        self.key = key
        self.decide = decide
    }

    /// For decisions that hand out no reference, and so need no randomness.
    public init(_ envelope: InboundEnvelope, key: ContactKey? = nil,
                decide: @escaping @Sendable (ContactContext, ConversationState?) -> EngineOutcome) {
        self.init(envelope, key: key) { context, conversation, _ in decide(context, conversation) }
    }
}

/// The use case "someone texted us", inside one write transaction: every step in order, the
/// store doing only what it is told.
enum InboundTurn {
    static func run(_ tx: InboundTransaction, _ item: PendingInbound, policy: InboundPolicy) throws -> InboundResult {
        // 1. A webhook the provider retried, or a replay: done already.
        guard try tx.markSeen() else { return .duplicate }
        // 2. Who she is to us, and where she was.
        let (context, conversation) = try tx.loadContact()
        // 3. Decide. A reference she is given must be hers alone: if it is taken, decide again
        //    with new randomness (inside this transaction, so no one can take it meanwhile).
        var outcome = item.decide(context, conversation, policy.random())
        var draws = 1
        while try tx.referenceTaken(outcome.effects), draws < 16 {
            outcome = item.decide(context, conversation, policy.random())
            draws += 1
        }
        // 4. What changes, in the engine's order: an opt-out or erasure before anything is queued.
        for effect in outcome.effects {
            if case .askBuddy(let ask) = effect {
                // Whether the number may be asked is the store's to say; her reply follows it.
                let result = try tx.askBuddy(ask)
                if let reply = ask.replies[result] {
                    outcome.replies = outcome.replies.map { $0.key == BuddyAsk.replyKey ? reply : $0 }
                }
                outcome.variables["buddy_result"] = result.rawValue
            } else {
                try tx.apply(effect)
            }
            if let event = SpotMetrics.event(effect, checkInWasRunning: context.checkIn != nil) { SpotMetrics.count(event) }
        }
        // 5. Where she is now, unless she is gone.
        if !outcome.erases && (conversation != nil || outcome.conversation != nil) {
            try tx.saveConversation(outcome.conversation)
        }
        // 6. What to send back.
        let queued = try tx.enqueue(outcome.replies, kind: outcome.isUrgent ? .emergency : .reply,
                                    notBefore: outcome.notBefore, erased: outcome.erases)
        return .handled(contact: tx.key, outcome: outcome, queued: queued)
    }
}

extension AppDatabase {
    /// Handles several inbound texts in one group commit (see `writeInbound`).
    public func handleInbound(_ batch: [PendingInbound], now: Date, policy: InboundPolicy = InboundPolicy()) async throws
        -> [Result<InboundResult, any Error>] {
        let prepared = try batch.map { try prepare($0.envelope, key: $0.key) }
        return try await writeInbound(prepared, now: now, policy: policy) { tx, i in try InboundTurn.run(tx, batch[i], policy: policy) }
    }

    /// Handles one inbound text in its own transaction.
    public func handleInbound(_ envelope: InboundEnvelope, now: Date, policy: InboundPolicy = InboundPolicy(),
                              decide: @escaping @Sendable (ContactContext, ConversationState?) -> EngineOutcome) async throws -> InboundResult {
        try await handleInbound([PendingInbound(envelope, decide: decide)], now: now, policy: policy)[0].get()
    }

    /// As above, for decisions that hand out references (and so take the text's randomness).
    public func handleInbound(_ envelope: InboundEnvelope, now: Date, policy: InboundPolicy = InboundPolicy(),
                              decideWithSeed decide: @escaping @Sendable (ContactContext, ConversationState?, UInt64) -> EngineOutcome)
        async throws -> InboundResult {
        try await handleInbound([PendingInbound(envelope, decide: decide)], now: now, policy: policy)[0].get()
    }
}

/// What `/metrics` shows of check-ins: counts by event, never who.
enum SpotMetrics {
    static func count(_ event: String) {
        Counter(label: "lantern_spot_checkins_total", dimensions: [("event", event)]).increment()
    }

    static func event(_ effect: Effect, checkInWasRunning: Bool) -> String? {
        switch effect {
        case .startCheckIn: checkInWasRunning ? nil : "started"
        case .endCheckIn(let how, _): checkInWasRunning ? how.rawValue : nil
        case .checkedOn: CheckInEnd.answeredByBuddy.rawValue
        default: nil
        }
    }
}
