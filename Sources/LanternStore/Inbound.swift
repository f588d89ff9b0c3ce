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
    /// A peer answered in a TALK thread from her phone.
    case peerReply(PeerReplyOutcome)
}

/// Texts Lantern drops before they reach a conversation.
public enum IgnoredInbound: String, Sendable, Equatable {
    /// From one of the service's own numbers: answering would loop forever.
    case ownNumber = "own_number"
    /// "I'm driving…", "Automatic reply…": answering would ping-pong.
    case autoReply = "auto_reply"
}

/// An inbound text's keyed hashes and sealed number, worked out before the write lock is
/// taken (not while others wait for it).
public struct PreparedInbound: Sendable {
    public let envelope: InboundEnvelope
    public let key: ContactKey
    let sealedNumber: Data
    let seenKeys: [String]
}

/// One inbound text's part of a write transaction: the named steps the conversation use case
/// takes, in order, each applied mechanically. It never calls back into the engine.
public struct InboundTransaction {
    let db: Database
    let vault: PIIVault
    let policy: InboundPolicy
    let item: PreparedInbound
    let t: Double

    public var key: ContactKey { item.key }
    var envelope: InboundEnvelope { item.envelope }

    /// Records the message id and replay keys (to the day); false if any was seen before: a
    /// re-split replay keeps one of them and changes the other.
    public func markSeen() throws -> Bool {
        try AppDatabase.markSeen(db, item.seenKeys, now: t)
    }

    /// Everything the engine needs about her (in one statement), her conversation, and her
    /// contact row touched (created on her first text, its last-active day moved on).
    public func loadContact() throws -> (context: ContactContext, conversation: ConversationState?) {
        let key = item.key
        // A block outlives FORGET, so it is looked up by key whether or not she has a record.
        let found = try db.fetchRow("""
            SELECT c.key IS NOT NULL AS known, language, opted_out_at, alerts_paused_until, wording,
                   c.last_active_at, c.provider, c.sender,
                   (SELECT group_concat(area, ',') FROM (SELECT area FROM subscription WHERE contact_key = q.k ORDER BY created_at, area)) AS areas,
                   EXISTS (SELECT 1 FROM kit_request WHERE contact_key = q.k) AS has_kits,
                   EXISTS (SELECT 1 FROM report_ref WHERE contact_key = q.k AND expires_at > ?) AS has_report,
                   EXISTS (SELECT 1 FROM outbox WHERE contact_key = q.k AND kind = 'broadcast'
                           AND status IN ('sent', 'delivered') AND updated_at >= ?) AS recent_alert,
                   (SELECT ref FROM report_ref WHERE contact_key = q.k AND awaiting_answer = 1 AND expires_at > ?
                    ORDER BY expires_at DESC LIMIT 1) AS awaiting_ref,
                   EXISTS (SELECT 1 FROM blocked_number WHERE contact_key = q.k) AS blocked,
                   EXISTS (SELECT 1 FROM buddy WHERE contact_key = q.k) AS has_buddies,
                   EXISTS (SELECT 1 FROM buddy WHERE buddy_key = q.k AND status = 'asked') AS invited,
                   EXISTS (SELECT 1 FROM buddy WHERE buddy_key = q.k AND status = 'confirmed') AS is_buddy,
                   EXISTS (SELECT 1 FROM check_in WHERE contact_key = q.k) AS checking_in,
                   EXISTS (SELECT 1 FROM check_in_watcher WHERE watcher_key = q.k) AS watching,
                   (SELECT ref || (CASE WHEN peer_key IS NULL THEN '' ELSE '+' END) FROM talk_thread WHERE contact_key = q.k) AS talk,
                   EXISTS (SELECT 1 FROM talk_block WHERE contact_key = q.k AND until > ?) AS talk_blocked
            FROM (SELECT ? AS k) q LEFT JOIN contact c ON c.key = q.k
            """, [t, AppDatabase.day(t) - 86400, t, t, key.hex])
        let blocked = (found?["blocked"] as Bool?) == true
        let row = (found?["known"] as Bool?) == true ? found : nil
        if row == nil {
            try db.run("""
                INSERT INTO contact (key, number, key_version, language, created_at, last_active_at, provider, sender)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [key.hex, item.sealedNumber, vault.keys.version, defaultLocale, AppDatabase.day(t), AppDatabase.day(t), envelope.provider, envelope.to])
        } else if let row, row["last_active_at"] as Double? != AppDatabase.day(t) || row["provider"] as String? != envelope.provider
                    || row["sender"] as String? != envelope.to {
            // To the day: it only feeds retention, and a copied database must not show when she
            // texted. Written only when something changed: most texts leave her row as it was.
            try db.run("UPDATE contact SET last_active_at = ?, provider = ?, sender = ? WHERE key = ?",
                       [AppDatabase.day(t), envelope.provider, envelope.to, key.hex])
        }
        let (kit, kitsInPeriod) = (row?["has_kits"] as Bool?) == true
            ? try AppDatabase.kitState(db, key: key, since: t - policy.kitPeriod) : (nil, 0)
        var context = ContactContext(isOptedOut: row?["opted_out_at"] as Double? != nil,
                                     language: row?["language"] ?? defaultLocale, subscriptions: AreaCodes.split(row?["areas"]),
                                     alertsPausedUntil: (row?["alerts_paused_until"] as Double?).map(Date.init(timeIntervalSince1970:)),
                                     kit: kit, kitLimitReached: kitsInPeriod >= policy.kitLimit,
                                     isBlocked: blocked,
                                     isNew: row == nil, wording: (row?["wording"] as String?).flatMap(Wording.init(rawValue:)),
                                     hasLiveReport: (row?["has_report"] as Bool?) == true)
        context.recentAlert = (row?["recent_alert"] as Bool?) == true
        context.awaitingReportAnswer = row?["awaiting_ref"]
        if row != nil { try loadSpot(into: &context, flags: row) }
        if let talk = row?["talk"] as String? { context.talk = TalkInfo(ref: String(talk.prefix { $0 != "+" }), taken: talk.hasSuffix("+")) }
        context.talkBlocked = (found?["talk_blocked"] as Bool?) == true
        return (context, try AppDatabase.loadConversation(db, key: key, vault: vault))
    }

    /// Whether the kit or report reference these effects hand out already exists.
    public func referenceTaken(_ effects: [Effect]) throws -> Bool {
        guard let (ref, kind) = effects.newReference else { return false }
        let table = kind == .requestKit ? "kit_request" : "report_ref"
        return try db.fetchRow("SELECT 1 FROM \(table) WHERE ref = ?", [ref]) != nil
    }

    /// Applies one effect: one statement or named store function per case.
    public func apply(_ effect: Effect) throws {
        let key = item.key.hex
        switch effect {
        case .optOut:
            try db.run("UPDATE contact SET opted_out_at = ? WHERE key = ?", [AppDatabase.day(t), key])
            try AppDatabase.cancelQueued(db, key: item.key, now: t)
            try endSpotOnOptOut()
        case .optIn:
            try db.run("UPDATE contact SET opted_out_at = NULL WHERE key = ?", [key])
        case .erase:
            try AppDatabase.erase(db, key: item.key, vault: vault, now: t)
        case .subscribe(let areas):
            if areas.contains(AreaCodes.everywhere) {
                try db.run("DELETE FROM subscription WHERE contact_key = ?", [key])
            }
            for area in areas {
                // Never more than one person may have, whatever the engine was given.
                try db.run("""
                    INSERT OR IGNORE INTO subscription (contact_key, area, created_at)
                    SELECT ?, ?, ? WHERE (SELECT count(*) FROM subscription WHERE contact_key = ?) < ?
                    """, [key, area, AppDatabase.day(t), key, AreaCodes.maxPerPerson])
            }
        case .unsubscribe(let areas):
            for area in areas {
                try db.run("DELETE FROM subscription WHERE contact_key = ? AND area = ?", [key, area])
            }
        case .unsubscribeAll:
            try db.run("DELETE FROM subscription WHERE contact_key = ?", [key])
            try db.run("""
                UPDATE outbox SET status = 'cancelled', text = NULL, recipient = NULL, updated_at = ?
                WHERE contact_key = ? AND status = 'queued' AND kind = 'broadcast'
                """, [t, key])
        case .pause(let until):
            try db.run("UPDATE contact SET alerts_paused_until = ? WHERE key = ?", [until.timeIntervalSince1970, key])
        case .resume:
            try db.run("UPDATE contact SET alerts_paused_until = NULL WHERE key = ?", [key])
        case .setLanguage(let tag):
            guard tag.count <= 16, tag.allSatisfy({ $0.isLetter || $0 == "-" }) else { return }
            try db.run("UPDATE contact SET language = ? WHERE key = ?", [tag, key])
        case .setWording(let wording):
            try db.run("UPDATE contact SET wording = ? WHERE key = ?", [wording.rawValue, key])
        case .requestKit(let order):
            try AppDatabase.requestKit(db, key: item.key, order: order, vault: vault, now: t)
        case .cancelKit:
            try db.run("""
                UPDATE kit_request SET status = 'cancelled', reason = 'person_asked', address = NULL, pickup = NULL, updated_at = ?
                WHERE contact_key = ? AND status = 'open'
                """, [AppDatabase.day(t), key])
        case .relayReport(let report):
            try AppDatabase.relayReport(db, key: item.key, envelope: envelope, report: report, vault: vault, policy: policy, now: t)
        case .relayReportAnswer(let answer):
            try AppDatabase.relayReportAnswer(db, key: item.key, envelope: envelope, answer: answer, vault: vault, policy: policy, now: t)
        case .startCheckIn, .setCheckInPlace, .endCheckIn, .escalateCheckIn, .checkedOn, .askBuddy, .removeBuddy, .answerBuddyInvites, .tell:
            try applySpot(effect)
        case .openTalk, .relayToPeer, .closeTalk:
            try applyTalk(effect)
        }
    }

    /// Keeps where she is in a conversation (sealed), or forgets it when it ended.
    public func saveConversation(_ state: ConversationState?) throws {
        try AppDatabase.saveConversation(db, key: item.key, state, vault: vault)
    }

    /// Queues the replies to her number (sealed, like every text). After an erasure they are
    /// linked to no one.
    public func enqueue(_ replies: [Reply], kind: OutboxKind, notBefore: Date?, erased: Bool) throws -> [Int64] {
        try replies.map { reply in
            try AppDatabase.enqueue(db, contact: erased ? nil : item.key, provider: envelope.provider, sender: envelope.to,
                                    recipient: item.sealedNumber, vault: vault, kind: kind, text: reply.text, now: t,
                                    notBefore: notBefore?.timeIntervalSince1970)
        }
    }
}

extension AppDatabase {
    /// Hashes and seals for one inbound text, outside any transaction. `key`: her contact key
    /// when the caller already computed it (the rate limiter does).
    public func prepare(_ envelope: InboundEnvelope, key: ContactKey? = nil) throws -> PreparedInbound {
        PreparedInbound(envelope: envelope, key: key ?? vault.contactKey(for: envelope.from),
                        sealedNumber: try vault.seal(envelope.from.e164), seenKeys: Self.dedupeKeys(envelope, vault: vault))
    }

    /// Runs `body` for each inbound text in one write transaction (group commit), each in its own
    /// savepoint: one failing does not undo the others, and texts from the same person are
    /// handled in order. Under load this is what lets one SQLite writer keep up.
    public func writeInbound<T: Sendable>(_ items: [PreparedInbound], now: Date, policy: InboundPolicy,
                                          _ body: @escaping @Sendable (InboundTransaction, Int) throws -> T) async throws -> [Result<T, any Error>] {
        let vault = self.vault
        let t = now.timeIntervalSince1970
        return try await writer.write { db in
            items.indices.map { i in
                Result {
                    var result: T?
                    try db.inSavepoint {
                        result = try body(InboundTransaction(db: db, vault: vault, policy: policy, item: items[i], t: t), i)
                        return .commit
                    }
                    return result!
                }
            }
        }
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

    /// A conversation's saved answers are sealed like numbers: they can say what she asked about.
    static func loadConversation(_ db: Database, key: ContactKey, vault: PIIVault) throws -> ConversationState? {
        guard let row = try db.fetchRow("SELECT flow, state, expires_at, variables FROM conversation WHERE contact_key = ?",
                                         [key.hex]) else { return nil }
        let json = Data(((row["variables"] as Data?).flatMap { try? vault.open($0) } ?? "{}").utf8)
        let expiresAt = Date(timeIntervalSince1970: row["expires_at"])
        // Where she is in a conversation is sealed with her answers; older rows kept it in the clear.
        if let sealed = try? JSONDecoder().decode(SealedConversation.self, from: json) {
            return ConversationState(flow: sealed.flow, state: sealed.state, expiresAt: expiresAt, variables: sealed.variables ?? [:])
        }
        return ConversationState(flow: row["flow"], state: row["state"], expiresAt: expiresAt,
                                 variables: (try? JSONDecoder().decode([String: String].self, from: json)) ?? [:])
    }

    static func saveConversation(_ db: Database, key: ContactKey, _ state: ConversationState?, vault: PIIVault) throws {
        guard let state else {
            try db.run("DELETE FROM conversation WHERE contact_key = ?", [key.hex])
            return
        }
        // The flow and state (e.g. "kit, waiting for an address") are sealed with her answers:
        // the clear columns say nothing.
        let whole = SealedConversation(flow: state.flow, state: state.state, variables: state.variables)
        let sealed = try vault.seal(String(decoding: try JSONEncoder().encode(whole), as: UTF8.self))
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
        // Asked as a buddy: the record of when goes too (her links and check-ins go with her row).
        try db.run("DELETE FROM buddy_ask WHERE buddy_key = ?", [key.hex])
        try db.run("DELETE FROM contact WHERE key = ?", [key.hex]) // cascades to conversation, buddies, check-ins
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

/// What is sealed of a conversation: where she is and her validated answers, together.
struct SealedConversation: Codable {
    let flow: String
    let state: String
    let variables: [String: String]?
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
