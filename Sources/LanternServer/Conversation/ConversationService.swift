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
    /// Wakes the check-in timer when her words ask her buddies at once ("help" during a check-in).
    let checkInWakeUp: OutboxWakeUp
    let commits: InboundCommitQueue
    let limits: InboundLimits
    let allowedCountryCodes: Set<String>
    /// On-duty coordinators' phones: a text from one that starts with a report reference is her
    /// answer to that report, not a conversation.
    let coordinatorNumbers: Set<String>
    /// The peers' phones: a text from one that starts with a TALK reference is her answer in that thread.
    let peers: TalkPeers
    let peerNumbers: Set<String>
    /// Console pages watching a TALK thread get its texts live (in memory only).
    public let talkHub: TalkHub
    let replyBudget: ReplyBudget
    /// A FORGET with nothing left to erase is answered at most once an hour per number.
    let emptyForgets = SharedRateWindow(limit: 1, window: 3600)
    /// While a number is over its per-minute limit, one STOP or FORGET confirmation gets through.
    let vitalWhileLimited = SharedRateWindow(limit: 1, window: 60)
    let ownNumbers: Set<String>
    let now: @Sendable () -> Date
    let logger: Logger

    public init(database: AppDatabase, engine: FlowEngine, policy: InboundPolicy = InboundPolicy(), limits: LimitSettings = LimitSettings(),
                outboxWakeUp: OutboxWakeUp, checkInWakeUp: OutboxWakeUp = OutboxWakeUp(), talkHub: TalkHub = TalkHub(),
                now: @escaping @Sendable () -> Date, logger: Logger) {
        self.checkInWakeUp = checkInWakeUp
        self.talkHub = talkHub
        self.limits = InboundLimits(limits)
        self.allowedCountryCodes = limits.allowedCountryCodes
        self.coordinatorNumbers = Set(policy.coordinatorNumbers.map(\.e164))
        self.peers = policy.talk
        self.peerNumbers = Set(policy.talk.numbers.map(\.e164))
        self.replyBudget = ReplyBudget(segmentsPerMinute: limits.replySegmentsPerMinute, maxWait: limits.replyMaxWait)
        self.ownNumbers = limits.ownNumbers
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
        if let ignored = ignoredReason(message) {
            Counter(label: "lantern_limited_total", dimensions: [("limit", ignored.rawValue)]).increment()
            logger.notice("inbound ignored", metadata: ["provider": "\(message.provider)", "reason": "\(ignored.rawValue)"])
            return .ignored(ignored)
        }
        let envelope = InboundEnvelope(provider: message.provider, messageID: message.messageID, from: message.from, to: message.to,
                                       replayKeys: message.replayKeys)
        if coordinatorNumbers.contains(message.from.e164), let (ref, answer) = Self.reportAnswer(text) {
            let library = engine.library
            let result = try await database.coordinatorReply(envelope, ref: ref, text: answer,
                                                             acknowledge: { Self.acknowledgement($0, library: library) }, now: now())
            if result != .duplicate { await outboxWakeUp.notify() }
            Counter(label: "lantern_report_replies_total", dimensions: [("via", "sms")]).increment()
            logger.info("coordinator answered a report by text", metadata: ["outcome": "\(result)"])
            return .coordinatorReply(result)
        }
        if peerNumbers.contains(message.from.e164), let (ref, command) = Self.peerCommand(text) {
            let result = try await database.peerReply(envelope, ref: ref, command: command, peers: peers,
                                                      words: Self.talkWords(engine.library), now: now())
            if result != .duplicate { await outboxWakeUp.notify() }
            if case .sent(let ref) = result, case .answer(let words) = command {
                await talkHub.publish(ref, "Peer: " + words.trimmingCharacters(in: .whitespacesAndNewlines))
            } else if case .closed(let ref) = result {
                await talkHub.publish(ref, "A peer closed this chat.")
            } else if case .blocked(let ref) = result {
                await talkHub.publish(ref, "A peer closed this chat and blocked the number.")
            }
            Counter(label: "lantern_talk_peer_texts_total", dimensions: [("outcome", result.description)]).increment()
            logger.info("a peer answered a TALK thread", metadata: ["outcome": "\(result)"])
            return .peerReply(result)
        }
        let now = self.now
        let key = database.vault.contactKey(for: message.from)
        let verdict = await limits.admit(contact: key.hex, now: now())
        let budget = replyBudget, emptyForgets = self.emptyForgets, vitalWhileLimited = self.vitalWhileLimited
        let allowedCountries = allowedCountryCodes, ownNumbers = self.ownNumbers
        let countryAllowed = message.from.isIn(countryCodes: allowedCountryCodes)
        let prepared = try database.prepare(envelope, key: key)
        let result = try await commits.handle(PendingInbound(envelope, key: key) { contact, conversation, seed in
            let time = now()
            var outcome = engine.handle(text: text, contact: contact, conversation: conversation, now: time, seed: seed)
            if contact.isBlocked { return outcome.limited(by: .blocked, keeping: conversation, notice: nil) }
            // Outside the countries the service texts: what she asked is done (STOP, FORGET),
            // nothing is sent back.
            if !countryAllowed {
                outcome.replies = []
                return outcome
            }
            // A buddy must be someone Lantern may text: in the countries it texts, and not itself.
            outcome = outcome.refusingBuddies { !$0.isIn(countryCodes: allowedCountries) || ownNumbers.contains($0.e164) }
            let vital = outcome.effects.contains(where: \.isVital)
            if let verdict {
                let notice = verdict.notify
                    ? Reply(key: FlowLibrary.slowDownKey, text: engine.library.render(FlowLibrary.slowDownKey, locale: contact.language))
                    : nil
                outcome = outcome.limited(by: verdict.limit, keeping: conversation, notice: notice,
                                          vitalReplies: vital && vitalWhileLimited.allow(key.hex, now: time))
            }
            // Erasing a number we had never seen (or already erased) is done, but said at most
            // once an hour: repeated FORGETs must not buy a reply each.
            if outcome.erases && contact.isNew && !outcome.replies.isEmpty && !emptyForgets.allow(key.hex, now: time) {
                outcome.replies = []
            }
            guard !outcome.isUrgent, !outcome.replies.isEmpty else { return outcome }
            // A buddy's invitation costs like a reply, and is held by the same service-wide limit.
            let segments = (outcome.replies.map(\.text) + outcome.invitations).reduce(0) { $0 + SMSSegments.count($1).segments }
            guard let when = budget.book(segments: segments, now: time) else {
                return outcome.limited(by: .globalRate, keeping: conversation, notice: nil)
            }
            if when > time { outcome.notBefore = when }
            return outcome
        }, prepared: prepared)
        switch result {
        case .ignored, .coordinatorReply, .peerReply: break
        case .duplicate:
            Counter(label: "lantern_inbound_duplicates_total", dimensions: [("provider", message.provider)]).increment()
            logger.info("inbound duplicate ignored", metadata: ["provider": "\(message.provider)"])
        case .handled(let contact, let outcome, let queued):
            if case .limited(let limit) = outcome.decision {
                Counter(label: "lantern_limited_total", dimensions: [("limit", limit.rawValue)]).increment()
                if limit == .globalRate {
                    logger.warning("replies given up: the service-wide reply limit is full for longer than a reply may wait",
                                   metadata: ["contact": "\(contact.short)", "limit": "\(limit.rawValue)",
                                              "max_wait_seconds": "\(Int(replyBudget.maxWait))"])
                }
            } else if let after = outcome.notBefore {
                Counter(label: "lantern_limited_total", dimensions: [("limit", "global_rate_wait")]).increment()
                logger.notice("replies held by the service-wide reply limit", metadata: [
                    "contact": "\(contact.short)", "limit": "global_rate",
                    "wait_seconds": "\(Int(after.timeIntervalSince(now()).rounded(.up)))"])
            }
            if !countryAllowed {
                Counter(label: "lantern_limited_total", dimensions: [("limit", "country")]).increment()
                logger.notice("not answered: the number is outside the countries this service texts", metadata: [
                    "contact": "\(contact.short)", "limit": "country"])
            }
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
            for effect in outcome.effects {
                switch effect {
                case .relayToPeer(let r): await talkHub.publish(r.ref, r.text)
                case .closeTalk(let c): await talkHub.publish(c.ref, c.peerNotice)
                case .escalateCheckIn: await checkInWakeUp.notify()
                default: break
                }
            }
        }
        return result
    }

    /// "R-PM63 Was that today?" → ("R-PM63", "Was that today?"); nil unless it starts with a
    /// report reference (R, a dash or space or nothing, six or four characters).
    static func reportAnswer(_ text: String) -> (String, String)? { referenced(text, prefix: "R") }

    /// "R-PM63WX words" or "R PM63WX words": the reference as typed, and the words after it.
    static func referenced(_ text: String, prefix: String) -> (String, String)? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let words = trimmed.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        guard let first = words.first else { return nil }
        if ReferenceCode.parse(first, prefix: prefix) != nil {
            return (first, String(trimmed.dropFirst(first.count)))
        }
        if words.count >= 2, first.uppercased() == prefix, ReferenceCode.parse(prefix + words[1], prefix: prefix) != nil {
            return (prefix + words[1], words.count > 2 ? words[2] : "")
        }
        return nil
    }

    /// A peer's text in a thread: "T-4KQ2MP words", or "T-4KQ2MP END" / "BLOCK" on their own.
    static func peerCommand(_ text: String) -> (String, PeerCommand)? {
        guard let (raw, rest) = referenced(text, prefix: "T"), let ref = ReferenceCode.parse(raw, prefix: "T") else { return nil }
        let word = KeywordText.words(rest).joined(separator: " ")
        switch word {
        case "END", "CLOSE", "BYE": return (ref, .close)
        case "BLOCK": return (ref, .block)
        default: return (ref, .answer(rest))
        }
    }

    /// TALK's own texts: to her in her language and wording, to peers in the service's language.
    static func talkWords(_ library: FlowLibrary) -> TalkWords {
        TalkWords(toHer: { key, language, wording in
            library.render(key, locale: language, discreet: (wording ?? library.defaultWording) == .discreet)
        }, toPeer: { key, ref in library.render(key, locale: defaultLocale, values: ["ref": ref]) })
    }

    /// What a coordinator hears back, in the service's own language (like the relayed report).
    static func acknowledgement(_ outcome: CoordinatorReplyOutcome, library: FlowLibrary) -> String {
        let (key, values): (String, [String: String]) = switch outcome {
        case .sent(let ref): (FlowLibrary.coordinatorSentKey, ["ref": ref])
        case .unknownReference(let ref): (FlowLibrary.coordinatorUnknownKey, ["ref": ref])
        case .empty(let ref): (FlowLibrary.coordinatorEmptyKey, ["ref": ref])
        case .tooLong(let ref, let n): (FlowLibrary.coordinatorTooLongKey, ["ref": ref, "segments": String(n)])
        case .duplicate: ("", [:])
        }
        return key.isEmpty ? "" : library.render(key, locale: defaultLocale, values: values)
    }

    /// Texts not to answer at all: from our own number (a loop) or an automatic reply (ping-pong).
    func ignoredReason(_ message: InboundMessage) -> IgnoredInbound? {
        if ownNumbers.contains(message.from.e164) || message.to.flatMap({ PhoneNumber($0) })?.e164 == message.from.e164 {
            return .ownNumber
        }
        return AutoReply.looksAutomatic(message.text) ? .autoReply : nil
    }
}

extension EngineOutcome {
    /// Asking a number Lantern may not text is refused, with the words for a refusal.
    func refusingBuddies(_ refused: (PhoneNumber) -> Bool) -> EngineOutcome {
        var out = self
        for effect in effects {
            guard case .askBuddy(let ask) = effect, refused(ask.number), let no = ask.replies[.refused] else { continue }
            out.effects.removeAll { $0 == effect }
            out.replies = out.replies.map { $0.key == BuddyAsk.replyKey ? no : $0 }
        }
        return out
    }

    /// The invitations these effects send to would-be buddies.
    var invitations: [String] {
        effects.compactMap { if case .askBuddy(let ask) = $0 { ask.invitation } else { nil } }
    }
}
