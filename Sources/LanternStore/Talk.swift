import Foundation
import GRDB
import LanternCore

/// Who answers TALK, and how much one thread or one peer may send in a day.
public struct TalkPeers: Sendable {
    /// The on-duty peers' phones (`LANTERN_PEER_NUMBERS`).
    public var numbers: [PhoneNumber]
    /// Her texts relayed per thread per day; past it, one notice and the rest wait for tomorrow.
    public var perThreadPerDay: Int
    /// A peer's answers per day, over all threads.
    public var perPeerPerDay: Int
    /// A peer's BLOCK keeps that number from starting a chat for this long.
    public var blockFor: TimeInterval

    public init(numbers: [PhoneNumber] = [], perThreadPerDay: Int = 60, perPeerPerDay: Int = 300, blockFor: TimeInterval = 30 * 86400) {
        self.numbers = numbers
        self.perThreadPerDay = perThreadPerDay
        self.perPeerPerDay = perPeerPerDay
        self.blockFor = blockFor
    }
}

/// What a peer's text did.
public enum PeerReplyOutcome: Sendable, Equatable, CustomStringConvertible {
    case duplicate
    /// Her words reached her (and the thread is now this peer's, if it was nobody's).
    case sent(String)
    case closed(String)
    case blocked(String)
    /// Another peer has the thread: not sent.
    case takenByAnother(String)
    /// No open thread with that reference: not sent.
    case unknown(String)
    /// Past the per-peer limit for today: not sent.
    case overLimit(String)
    case empty(String)

    public var description: String {
        switch self {
        case .duplicate: "duplicate"
        case .sent: "sent"
        case .closed: "closed"
        case .blocked: "blocked"
        case .takenByAnother: "taken_by_another"
        case .unknown: "unknown_reference"
        case .overLimit: "over_limit"
        case .empty: "empty"
        }
    }
}

/// An open TALK thread, as the console lists it: never whose.
public struct OpenTalk: Sendable, Equatable {
    public let ref: String
    public let taken: Bool
    /// The console account that took it, when it was taken there.
    public let takenInConsoleBy: String?
    public let lastAt: Date
}

/// What a peer asked for in "T-4KQ2MP …".
public enum PeerCommand: Sendable, Equatable {
    case answer(String)
    case close
    case block
}

/// The words TALK sends on its own (to her in her language, to peers in the service's), supplied
/// by the server so the store never reads the catalogue.
public struct TalkWords: Sendable {
    /// A text to her: key, her language, her wording.
    public let toHer: @Sendable (String, String, Wording?) -> String
    /// A text to a peer about the thread `ref`.
    public let toPeer: @Sendable (String, String) -> String

    public init(toHer: @escaping @Sendable (String, String, Wording?) -> String, toPeer: @escaping @Sendable (String, String) -> String) {
        self.toHer = toHer
        self.toPeer = toPeer
    }
}

extension InboundTransaction {
    func applyTalk(_ effect: Effect) throws {
        let peers = policy.talk
        switch effect {
        case .openTalk(let ref, let notice):
            try db.run("INSERT INTO talk_thread (ref, contact_key, last_at, relay_day) VALUES (?, ?, ?, ?)",
                       [ref, item.key.hex, t, AppDatabase.day(t)])
            try AppDatabase.countTalk(db, "opened", now: t)
            for number in peers.numbers { try relay(notice, to: number) }
        case .relayToPeer(let r):
            guard let thread = try db.fetchRow("SELECT peer_key, relay_day, relayed_today FROM talk_thread WHERE ref = ? AND contact_key = ?",
                                               [r.ref, item.key.hex]) else { return }
            let today = AppDatabase.day(t)
            let sent: Int = (thread["relay_day"] as Double?) == today ? thread["relayed_today"] : 0
            if sent >= peers.perThreadPerDay {
                // Said once, the first time she goes over; the rest wait for tomorrow.
                if sent == peers.perThreadPerDay, !r.limitNotice.isEmpty {
                    _ = try AppDatabase.enqueue(db, contact: item.key, provider: envelope.provider, sender: envelope.to,
                                                recipient: item.sealedNumber, vault: vault, kind: .reply, text: r.limitNotice, now: t)
                    try db.run("UPDATE talk_thread SET relayed_today = ? WHERE ref = ?", [sent + 1, r.ref])
                }
                return
            }
            for number in recipients(peerKey: thread["peer_key"]) { try relay(r.text, to: number) }
            try db.run("UPDATE talk_thread SET last_at = ?, relay_day = ?, relayed_today = ? WHERE ref = ?", [t, today, sent + 1, r.ref])
            try AppDatabase.countTalk(db, "relayed_in", now: t)
        case .closeTalk(let c):
            guard let thread = try db.fetchRow("SELECT peer_key FROM talk_thread WHERE ref = ? AND contact_key = ?", [c.ref, item.key.hex]) else { return }
            for number in recipients(peerKey: thread["peer_key"]) { try relay(c.peerNotice, to: number) }
            try db.run("DELETE FROM talk_thread WHERE ref = ?", [c.ref])
            try AppDatabase.countTalk(db, "closed", now: t)
        default:
            break
        }
    }

    func recipients(peerKey: String?) -> [PhoneNumber] { AppDatabase.talkRecipients(peerKey: peerKey, peers: policy.talk, vault: vault) }

    func relay(_ text: String, to number: PhoneNumber) throws {
        _ = try AppDatabase.enqueue(db, contact: nil, provider: envelope.provider, sender: envelope.to, recipient: try vault.seal(number.e164),
                                    vault: vault, kind: .relay, text: text, now: t)
    }
}

extension AppDatabase {
    /// The peer who took the thread, or every peer while nobody has (or if that peer is no longer
    /// on the list, or took it in the console: the phones still get her words).
    static func talkRecipients(peerKey: String?, peers: TalkPeers, vault: PIIVault) -> [PhoneNumber] {
        guard let peerKey else { return peers.numbers }
        let taker = peers.numbers.filter { vault.contactKey(for: $0).hex == peerKey }
        return taker.isEmpty ? peers.numbers : taker
    }

    static func countTalk(_ db: Database, _ event: String, now t: Double) throws {
        try db.execute(sql: "INSERT INTO talk_count (day, event, n) VALUES (?, ?, 1) ON CONFLICT(day, event) DO UPDATE SET n = n + 1",
                       arguments: [ISO8601DateFormatter.day.string(from: Date(timeIntervalSince1970: t)), event])
    }

    /// A peer answered from her phone ("T-4KQ2MP words", "T-4KQ2MP END", "T-4KQ2MP BLOCK"), in
    /// one transaction, processed once per provider message id. The peer hears back only when
    /// something went wrong or the thread closed. Nothing the peer wrote is kept beyond the
    /// sealed text to her.
    public func peerReply(_ envelope: InboundEnvelope, ref: String, command: PeerCommand, peers: TalkPeers, words: TalkWords,
                          now: Date) async throws -> PeerReplyOutcome {
        let t = now.timeIntervalSince1970
        let vault = self.vault
        let peerKey = vault.contactKey(for: envelope.from).hex
        let sealedPeer = try vault.seal(envelope.from.e164)
        let seen = Self.dedupeKeys(envelope, vault: vault)
        return try await writer.write { db in
            guard try Self.markSeen(db, seen, now: t) else { return .duplicate }
            return try Self.answerThread(db, ref: ref, peerKey: peerKey, command: command, peers: peers, words: words, vault: vault,
                                         provider: envelope.provider, sender: envelope.to, actor: "peer-sms", now: t) { key in
                _ = try Self.enqueue(db, contact: nil, provider: envelope.provider, sender: envelope.to, recipient: sealedPeer,
                                     vault: vault, kind: .relay, text: words.toPeer(key, ref), now: t)
            }
        }
    }

    /// A coordinator answered from the console: the same as a peer's text, the console account
    /// standing for the phone (what went wrong is shown on the page, not texted).
    public func consolePeerReply(ref: String, account: String, command: PeerCommand, peers: TalkPeers, words: TalkWords,
                                 now: Date) async throws -> PeerReplyOutcome {
        let t = now.timeIntervalSince1970
        let vault = self.vault
        return try await writer.write { db in
            try Self.answerThread(db, ref: ref, peerKey: "console:" + account, command: command, peers: peers, words: words, vault: vault,
                                  provider: nil, sender: nil, actor: account, now: t) { _ in }
        }
    }

    /// Open threads, newest activity first: references and state only.
    public func openTalks() async throws -> [OpenTalk] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT ref, peer_key, last_at FROM talk_thread ORDER BY last_at DESC LIMIT 200").map { row in
                let peer: String? = row["peer_key"]
                return OpenTalk(ref: row["ref"], taken: peer != nil,
                                takenInConsoleBy: peer.flatMap { $0.hasPrefix("console:") ? String($0.dropFirst(8)) : nil },
                                lastAt: Date(timeIntervalSince1970: row["last_at"]))
            }
        }
    }

    /// The first peer to answer takes the thread and the others are told; END or BLOCK closes it
    /// and she is told.
    static func answerThread(_ db: Database, ref: String, peerKey: String, command: PeerCommand, peers: TalkPeers, words: TalkWords,
                             vault: PIIVault, provider: String?, sender: String?, actor: String, now t: Double,
                             tellPeer: (String) throws -> Void) throws -> PeerReplyOutcome {
        guard let thread = try Row.fetchOne(db, sql: """
            SELECT t.contact_key, t.peer_key, c.number, c.provider, c.sender, c.language, c.wording
            FROM talk_thread t JOIN contact c ON c.key = t.contact_key WHERE t.ref = ? AND c.opted_out_at IS NULL
            """, arguments: [ref]) else {
            try tellPeer(FlowLibrary.talkPeerUnknownKey)
            return .unknown(ref)
        }
        let taker: String? = thread["peer_key"]
        if let taker, taker != peerKey {
            try tellPeer(FlowLibrary.talkPeerAlreadyTakenKey)
            return .takenByAnother(ref)
        }
        let her = ContactKey(hex: thread["contact_key"])
        let herProvider: String = thread["provider"] ?? provider ?? "console"
        func tellHer(_ text: String) throws {
            _ = try enqueue(db, contact: her, provider: herProvider, sender: thread["sender"],
                            recipient: thread["number"], vault: vault, kind: .reply, text: text, now: t)
        }
        let language: String = thread["language"] ?? defaultLocale
        let wording = (thread["wording"] as String?).flatMap(Wording.init(rawValue:))
        switch command {
        case .close, .block:
            try tellHer(words.toHer(FlowLibrary.talkEndedByPeerKey, language, wording))
            try db.execute(sql: "DELETE FROM talk_thread WHERE ref = ?", arguments: [ref])
            try countTalk(db, "closed", now: t)
            if command == .block {
                try db.execute(sql: "INSERT INTO talk_block (contact_key, until) VALUES (?, ?) ON CONFLICT(contact_key) DO UPDATE SET until = excluded.until",
                               arguments: [her.hex, t + peers.blockFor])
                try audit(db, actor: actor, action: "talk.blocked", subject: ref, now: t)
                try tellPeer(FlowLibrary.talkPeerBlockedKey)
                return .blocked(ref)
            }
            try tellPeer(FlowLibrary.talkPeerClosedKey)
            return .closed(ref)
        case .answer(let text):
            let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !body.isEmpty else { return .empty(ref) }
            let day = Self.day(t)
            let sentToday = try Int.fetchOne(db, sql: "SELECT n FROM talk_peer_day WHERE peer_key = ? AND day = ?", arguments: [peerKey, day]) ?? 0
            guard sentToday < peers.perPeerPerDay else {
                try tellPeer(FlowLibrary.talkPeerTooManyKey)
                return .overLimit(ref)
            }
            try db.execute(sql: """
                INSERT INTO talk_peer_day (peer_key, day, n) VALUES (?, ?, 1) ON CONFLICT(peer_key, day) DO UPDATE SET n = n + 1
                """, arguments: [peerKey, day])
            if taker == nil {
                // First to answer takes it; the others are told they needn't.
                try db.execute(sql: "UPDATE talk_thread SET peer_key = ? WHERE ref = ?", arguments: [peerKey, ref])
                for other in peers.numbers where vault.contactKey(for: other).hex != peerKey {
                    _ = try enqueue(db, contact: nil, provider: herProvider, sender: sender ?? thread["sender"], recipient: try vault.seal(other.e164),
                                    vault: vault, kind: .relay, text: words.toPeer(FlowLibrary.talkPeerTakenKey, ref), now: t)
                }
            }
            try tellHer(String(body.prefix(1_000)))
            try db.execute(sql: "UPDATE talk_thread SET last_at = ? WHERE ref = ?", arguments: [t, ref])
            try countTalk(db, "relayed_out", now: t)
            return .sent(ref)
        }
    }

    /// Closes threads nobody has written in for `quiet`: she and the peer(s) are told. Returns how many closed.
    public func closeQuietTalks(quiet: TimeInterval, peers: TalkPeers, words: TalkWords, now: Date) async throws -> Int {
        let t = now.timeIntervalSince1970
        let vault = self.vault
        return try await writer.write { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT t.ref, t.peer_key, c.key, c.number, c.provider, c.sender, c.language, c.wording, c.opted_out_at IS NULL AS reachable
                FROM talk_thread t JOIN contact c ON c.key = t.contact_key WHERE t.last_at <= ? LIMIT 500
                """, arguments: [t - quiet])
            for row in rows {
                let ref: String = row["ref"]
                let provider: String = row["provider"] ?? "console"
                if row["reachable"] as Bool {
                    _ = try Self.enqueue(db, contact: ContactKey(hex: row["key"]), provider: provider, sender: row["sender"], recipient: row["number"],
                                         vault: vault, kind: .reply,
                                         text: words.toHer(FlowLibrary.talkClosedQuietKey, row["language"] ?? defaultLocale,
                                                           (row["wording"] as String?).flatMap(Wording.init(rawValue:))), now: t)
                }
                for number in Self.talkRecipients(peerKey: row["peer_key"], peers: peers, vault: vault) {
                    _ = try Self.enqueue(db, contact: nil, provider: provider, sender: row["sender"], recipient: try vault.seal(number.e164),
                                         vault: vault, kind: .relay, text: words.toPeer(FlowLibrary.talkPeerClosedQuietKey, ref), now: t)
                }
                try db.execute(sql: "DELETE FROM talk_thread WHERE ref = ?", arguments: [ref])
                try Self.countTalk(db, "closed", now: t)
            }
            return rows.count
        }
    }

    /// TALK over the last days, counts only.
    public func talkCounts(since day: String) async throws -> [String: Int] {
        try await writer.read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT event, sum(n) AS n FROM talk_count WHERE day >= ? GROUP BY event", arguments: [day]) {
                out[row["event"]] = row["n"]
            }
            out["open"] = try Int.fetchOne(db, sql: "SELECT count(*) FROM talk_thread") ?? 0
            return out
        }
    }
}
