import Foundation
import GRDB
import LanternCore

/// Who sent a text, to which of our numbers, through which provider. The text itself is
/// deliberately not here: it never reaches the store.
public struct InboundEnvelope: Sendable {
    public let provider: String
    public let messageID: String
    public let from: PhoneNumber
    /// Our number it came in on; replies go out from it.
    public let to: String?
    /// What else a replay would repeat (Twilio's signature, Plivo's nonces), deduplicated like the id.
    public let replayKeys: [String]

    public init(provider: String, messageID: String, from: PhoneNumber, to: String?, replayKeys: [String] = []) {
        self.provider = provider
        self.messageID = messageID
        self.from = from
        self.to = to
        self.replayKeys = replayKeys
    }
}

public enum InboundResult: Sendable, Equatable {
    /// The provider sent this message id before; nothing was done again.
    case duplicate
    case handled(contact: ContactKey, outcome: EngineOutcome, queued: [Int64])
    /// Not handled at all and nothing stored: a loop from our own number, or an auto-reply.
    case ignored(IgnoredInbound)
    /// A coordinator answered a report from her phone.
    case coordinatorReply(CoordinatorReplyOutcome)
}

/// Texts Lantern drops before they reach a conversation.
public enum IgnoredInbound: String, Sendable, Equatable {
    /// From one of the service's own numbers: answering would loop forever.
    case ownNumber = "own_number"
    /// "I'm driving…", "Automatic reply…": answering would ping-pong.
    case autoReply = "auto_reply"
}

/// One inbound text waiting to be handled: who sent it, and the engine call that decides
/// what to do (it holds the text in its closure; the store never sees the text itself).
public struct PendingInbound: Sendable {
    public let envelope: InboundEnvelope
    /// Her contact key when the caller already computed it (the rate limiter does), so the
    /// keyed hash is not computed twice per text.
    public let key: ContactKey?
    public let decide: @Sendable (ContactContext, ConversationState?) -> EngineOutcome

    public init(_ envelope: InboundEnvelope, key: ContactKey? = nil,
                decide: @escaping @Sendable (ContactContext, ConversationState?) -> EngineOutcome) {
        self.envelope = envelope
        self.key = key
        self.decide = decide
    }
}

extension AppDatabase {
    /// Handles one inbound text in one write transaction: dedupe on the provider's id, find or
    /// create the contact by keyed hash, run `decide` (the engine) on her state, then record the
    /// opt-out/erasure, the new conversation state and the replies to send.
    public func handleInbound(
        _ envelope: InboundEnvelope,
        now: Date,
        policy: InboundPolicy = InboundPolicy(),
        decide: @escaping @Sendable (ContactContext, ConversationState?) -> EngineOutcome
    ) async throws -> InboundResult {
        try await handleInbound([PendingInbound(envelope, decide: decide)], now: now, policy: policy)[0].get()
    }

    /// Handles several inbound texts in one transaction (group commit), each in its own
    /// savepoint: one failing does not undo the others, and texts from the same person are
    /// applied in order. Under load this is what lets one SQLite writer keep up.
    public func handleInbound(_ batch: [PendingInbound], now: Date, policy: InboundPolicy = InboundPolicy()) async throws -> [Result<InboundResult, any Error>] {
        struct Prepared: Sendable {
            let item: PendingInbound
            let key: ContactKey
            let sealed: Data
            let seen: [String]
        }
        let vault = self.vault
        // Hashing and sealing happen before the write lock is taken, not while others wait for it.
        let prepared = try batch.map {
            Prepared(item: $0, key: $0.key ?? vault.contactKey(for: $0.envelope.from), sealed: try vault.seal($0.envelope.from.e164),
                     seen: Self.dedupeKeys($0.envelope, vault: vault))
        }
        let t = now.timeIntervalSince1970
        return try await writer.write { db in
            prepared.map { p in
                Result {
                    var result: InboundResult = .duplicate
                    try db.inSavepoint {
                        result = try Self.handle(db, p.item, key: p.key, sealed: p.sealed, seen: p.seen, vault: vault, policy: policy, now: t)
                        return .commit
                    }
                    return result
                }
            }
        }
    }

    static func handle(_ db: Database, _ item: PendingInbound, key: ContactKey, sealed: Data, seen: [String], vault: PIIVault,
                       policy: InboundPolicy, now t: Double) throws -> InboundResult {
        let envelope = item.envelope
        let version = vault.keys.version
        guard try markSeen(db, seen, now: t) else { return .duplicate }

        // Everything the engine needs about her, in one statement.
        let row = try db.fetchRow("""
            SELECT language, opted_out_at, alerts_paused_until, wording,
                   (SELECT group_concat(area, ',') FROM (SELECT area FROM subscription WHERE contact_key = c.key ORDER BY created_at, area)) AS areas,
                   EXISTS (SELECT 1 FROM kit_request WHERE contact_key = c.key) AS has_kits,
                   EXISTS (SELECT 1 FROM report_ref WHERE contact_key = c.key AND expires_at > ?) AS has_report,
                   EXISTS (SELECT 1 FROM outbox WHERE contact_key = c.key AND kind = 'broadcast'
                           AND status IN ('sent', 'delivered') AND updated_at >= ?) AS recent_alert,
                   (SELECT ref FROM report_ref WHERE contact_key = c.key AND awaiting_answer = 1 AND expires_at > ?
                    ORDER BY expires_at DESC LIMIT 1) AS awaiting_ref
            FROM contact c WHERE key = ?
            """, [t, day(t) - 86400, t, key.hex])
        if row == nil {
            try db.run("""
                INSERT INTO contact (key, number, key_version, language, created_at, last_active_at, provider, sender)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [key.hex, sealed, version, defaultLocale, day(t), day(t), envelope.provider, envelope.to])
        } else {
            // To the day: it only feeds retention, and a copied database must not show when she texted.
            try db.run("UPDATE contact SET last_active_at = ?, provider = ?, sender = ? WHERE key = ?",
                       [day(t), envelope.provider, envelope.to, key.hex])
        }
        let subscriptions = AreaCodes.split(row?["areas"])
        let (kit, kitsInPeriod) = (row?["has_kits"] as Bool?) == true ? try kitState(db, key: key, since: t - policy.kitPeriod) : (nil, 0)
        var context = ContactContext(isOptedOut: row?["opted_out_at"] as Double? != nil,
                                     language: row?["language"] ?? defaultLocale, subscriptions: subscriptions,
                                     alertsPausedUntil: (row?["alerts_paused_until"] as Double?).map(Date.init(timeIntervalSince1970:)),
                                     kit: kit, kitLimitReached: kitsInPeriod >= policy.kitLimit, seed: policy.random(),
                                     isBlocked: try db.fetchRow("SELECT 1 FROM blocked_number WHERE contact_key = ?", [key.hex]) != nil,
                                     isNew: row == nil, wording: (row?["wording"] as String?).flatMap(Wording.init(rawValue:)),
                                     hasLiveReport: (row?["has_report"] as Bool?) == true)
        context.recentAlert = (row?["recent_alert"] as Bool?) == true
        context.awaitingReportAnswer = row?["awaiting_ref"]
        let conversation = try loadConversation(db, key: key, vault: vault)
        var outcome = item.decide(context, conversation)
        // A reference she is given must be hers alone: if it is taken, decide again with new
        // randomness (in this transaction, so no one else can take it meanwhile).
        var draws = 1
        while try referenceTaken(db, outcome), draws < 16 {
            context.seed = policy.random()
            outcome = item.decide(context, conversation)
            draws += 1
        }

        // Opt-out and erasure are recorded before anything is queued.
        for action in outcome.actions {
            switch action {
            case .optOut:
                try db.run("UPDATE contact SET opted_out_at = ? WHERE key = ?", [day(t), key.hex])
                try cancelQueued(db, key: key, now: t)
            case .optIn:
                try db.run("UPDATE contact SET opted_out_at = NULL WHERE key = ?", [key.hex])
            case .erase:
                try erase(db, key: key, vault: vault, now: t)
            case .subscribe:
                let areas = AreaCodes.split(outcome.variables["areas"])
                if areas.contains(AreaCodes.everywhere) {
                    try db.run("DELETE FROM subscription WHERE contact_key = ?", [key.hex])
                }
                for area in areas {
                    // Never more than one person may have, whatever the engine was given.
                    try db.run("""
                        INSERT OR IGNORE INTO subscription (contact_key, area, created_at)
                        SELECT ?, ?, ? WHERE (SELECT count(*) FROM subscription WHERE contact_key = ?) < ?
                        """, [key.hex, area, day(t), key.hex, AreaCodes.maxPerPerson])
                }
            case .unsubscribe:
                for area in AreaCodes.split(outcome.variables["areas"]) {
                    try db.run("DELETE FROM subscription WHERE contact_key = ? AND area = ?", [key.hex, area])
                }
            case .unsubscribeAll:
                try db.run("DELETE FROM subscription WHERE contact_key = ?", [key.hex])
                try db.run("""
                    UPDATE outbox SET status = 'cancelled', text = NULL, recipient = NULL, updated_at = ?
                    WHERE contact_key = ? AND status = 'queued' AND kind = 'broadcast'
                    """,
                           [t, key.hex])
            case .pause:
                let hours = Double(Int(outcome.variables["hours"] ?? "") ?? 0)
                try db.run("UPDATE contact SET alerts_paused_until = ? WHERE key = ?", [t + hours * 3600, key.hex])
            case .resume:
                try db.run("UPDATE contact SET alerts_paused_until = NULL WHERE key = ?", [key.hex])
            case .setLanguage:
                if let tag = outcome.variables["language"], tag.count <= 16, tag.allSatisfy({ $0.isLetter || $0 == "-" }) {
                    try db.run("UPDATE contact SET language = ? WHERE key = ?", [tag, key.hex])
                }
            case .plainWording, .discreetWording:
                try db.run("UPDATE contact SET wording = ? WHERE key = ?",
                           [(action == .plainWording ? Wording.plain : .discreet).rawValue, key.hex])
            case .requestKit:
                try requestKit(db, key: key, values: outcome.variables, vault: vault, now: t)
            case .cancelKit:
                try db.run("""
                    UPDATE kit_request SET status = 'cancelled', reason = 'person_asked', address = NULL, pickup = NULL, updated_at = ?
                    WHERE contact_key = ? AND status = 'open'
                    """, [day(t), key.hex])
            case .relayReport:
                try relayReport(db, key: key, envelope: envelope, values: outcome.variables, vault: vault, policy: policy, now: t)
            case .relayReportAnswer:
                try relayReportAnswer(db, key: key, envelope: envelope, values: outcome.variables, vault: vault, policy: policy, now: t)
            }
        }
        let erased = outcome.actions.contains(.erase)
        if !erased && (conversation != nil || outcome.conversation != nil) {
            try saveConversation(db, key: key, outcome.conversation, vault: vault)
        }
        var ids: [Int64] = []
        for reply in outcome.replies {
            ids.append(try enqueue(db, contact: erased ? nil : key, provider: envelope.provider,
                                   sender: envelope.to, recipient: sealed, vault: vault,
                                   kind: outcome.isUrgent ? .emergency : .reply, text: reply.text, now: t,
                                   notBefore: outcome.notBefore?.timeIntervalSince1970))
        }
        return .handled(contact: key, outcome: outcome, queued: ids)
    }

    /// What a message is deduplicated on: its id and any replay keys, each a keyed hash.
    static func dedupeKeys(_ envelope: InboundEnvelope, vault: PIIVault) -> [String] {
        ([envelope.messageID] + envelope.replayKeys).map { vault.dedupeKey(provider: envelope.provider, id: $0) }
    }

    /// Records the keys (to the day); false if any was seen before: a re-split replay keeps one
    /// of them and changes the other.
    static func markSeen(_ db: Database, _ keys: [String], now t: Double) throws -> Bool {
        var fresh = true
        for key in keys {
            try db.run("INSERT OR IGNORE INTO seen_message (id_hash, day) VALUES (?, ?)", [key, day(t)])
            fresh = fresh && db.changesCount > 0
        }
        return fresh
    }

    /// Whether the kit or report reference an outcome hands out already exists.
    static func referenceTaken(_ db: Database, _ outcome: EngineOutcome) throws -> Bool {
        guard let ref = outcome.variables["ref"] else { return false }
        if outcome.actions.contains(.requestKit), try db.fetchRow("SELECT 1 FROM kit_request WHERE ref = ?", [ref]) != nil { return true }
        if outcome.actions.contains(.relayReport), try db.fetchRow("SELECT 1 FROM report_ref WHERE ref = ?", [ref]) != nil { return true }
        return false
    }

    /// A conversation's saved answers are sealed like numbers: they can say what she asked about.
    static func loadConversation(_ db: Database, key: ContactKey, vault: PIIVault) throws -> ConversationState? {
        guard let row = try db.fetchRow("SELECT flow, state, expires_at, variables FROM conversation WHERE contact_key = ?",
                                         [key.hex]) else { return nil }
        let json = (row["variables"] as Data?).flatMap { try? vault.open($0) } ?? "{}"
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        // Where she is in a conversation is sealed with her answers; older rows kept it in the clear.
        if let flow = object["flow"] as? String, let state = object["state"] as? String {
            return ConversationState(flow: flow, state: state, expiresAt: Date(timeIntervalSince1970: row["expires_at"]),
                                     variables: object["variables"] as? [String: String] ?? [:])
        }
        return ConversationState(flow: row["flow"], state: row["state"],
                                 expiresAt: Date(timeIntervalSince1970: row["expires_at"]), variables: object as? [String: String] ?? [:])
    }

    static func saveConversation(_ db: Database, key: ContactKey, _ state: ConversationState?, vault: PIIVault) throws {
        guard let state else {
            try db.run("DELETE FROM conversation WHERE contact_key = ?", [key.hex])
            return
        }
        // The flow and state (e.g. "kit, waiting for an address") are sealed with her answers:
        // the clear columns say nothing.
        let whole: [String: Any] = ["flow": state.flow, "state": state.state, "variables": state.variables]
        let sealed = try vault.seal(String(decoding: try JSONSerialization.data(withJSONObject: whole), as: UTF8.self))
        try db.run("""
            INSERT INTO conversation (contact_key, flow, state, expires_at, variables) VALUES (?, '', '', ?, ?)
            ON CONFLICT(contact_key) DO UPDATE SET flow = '', state = '', expires_at = excluded.expires_at, variables = excluded.variables
            """, [key.hex, state.expiresAt.timeIntervalSince1970, sealed])
    }

    /// Everything about a contact, gone at once. Sent-message records stay only as anonymous
    /// counts (no contact key, no number, no text). Dedupe entries stay for their window: they
    /// are linked to no one, and they keep a replay of her old texts from undoing the erasure.
    static func erase(_ db: Database, key: ContactKey, vault: PIIVault, now: Double) throws {
        try queueProviderErasure(db, key: key, vault: vault, now: now)
        try db.run("DELETE FROM outbox WHERE contact_key = ? AND status IN ('queued', 'sending')", [key.hex])
        // The provider's ids go too: through the provider's API they lead back to her number.
        try db.run("UPDATE outbox SET contact_key = NULL, recipient = NULL, text = NULL, provider_message_id = NULL WHERE contact_key = ?",
                   [key.hex])
        try db.run("DELETE FROM contact WHERE key = ?", [key.hex]) // cascades to conversation
    }

    /// Opt-out wins: nothing queued for her goes out after she said STOP.
    static func cancelQueued(_ db: Database, key: ContactKey, now: Double) throws {
        try db.run("""
            UPDATE outbox SET status = 'cancelled', text = NULL, recipient = NULL, updated_at = ?
            WHERE contact_key = ? AND status = 'queued'
            """, [day(now), key.hex])
    }

    /// Queues one text. Its words are sealed at rest too (they can carry her answers or a report).
    static func enqueue(_ db: Database, contact: ContactKey?, provider: String, sender: String?, recipient: Data,
                        vault: PIIVault, kind: OutboxKind, text: String, now: Double, notBefore: Double? = nil) throws -> Int64 {
        let segments = SMSSegments.count(text).segments
        let keyVersion = vault.keys.version
        let sealedText = try vault.seal(text)
        try db.run("""
            INSERT INTO outbox (contact_key, provider, sender, recipient, key_version, kind, priority, text, segments,
                                status, attempts, next_attempt_at, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)
            """, [contact?.hex, provider, sender, recipient, keyVersion, kind.rawValue, kind.priority, sealedText,
                             segments, max(now, notBefore ?? now), day(now), day(now)])
        return db.lastInsertedRowID
    }
}

extension Database {
    /// Runs a statement prepared once per connection: the hot path never re-parses SQL.
    func run(_ sql: String, _ arguments: StatementArguments = []) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    func fetchRow(_ sql: String, _ arguments: StatementArguments = []) throws -> Row? {
        try Row.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }
}
