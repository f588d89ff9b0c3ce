import Foundation
import GRDB
import LanternCore

// Check-ins and buddies at rest: two contact keys per link, a check-in row whose place is
// sealed and goes with it, and counts by day. No message text, no number in the clear.

extension InboundTransaction {
    /// What the engine needs to know of her check-in and buddies, loaded only when she has any.
    func loadSpot(into context: inout ContactContext, flags row: Row?) throws {
        let key = item.key.hex
        if (row?["has_buddies"] as Bool?) == true {
            context.buddies = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT b.buddy_key, b.status, c.number FROM buddy b JOIN contact c ON c.key = b.buddy_key
                WHERE b.contact_key = ? AND b.status != 'declined' ORDER BY b.created_at, b.buddy_key
                """), arguments: [key]).map { r in
                let number = (r["number"] as Data?).flatMap { try? vault.open($0) } ?? ""
                return BuddyInfo(key: r["buddy_key"], ending: String(number.suffix(3)), confirmed: r["status"] == "confirmed")
            }
        }
        if (row?["invited"] as Bool?) == true {
            context.buddyInvites = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT c.key, c.language, c.wording, c.buddy_name FROM buddy b JOIN contact c ON c.key = b.contact_key
                WHERE b.buddy_key = ? AND b.status = 'asked' AND c.opted_out_at IS NULL
                """), arguments: [key]).map {
                BuddyInvite(from: AppDatabase.party($0), ending: String(envelope.from.e164.suffix(3)), name: AppDatabase.buddyName($0, vault))
            }
        }
        if (row?["is_buddy"] as Bool?) == true {
            context.buddyFor = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT c.key, c.language, c.wording, c.buddy_name FROM buddy b JOIN contact c ON c.key = b.contact_key
                WHERE b.buddy_key = ? AND b.status = 'confirmed' AND c.opted_out_at IS NULL
                """), arguments: [key]).map {
                BuddyInvite(from: AppDatabase.party($0), ending: String(envelope.from.e164.suffix(3)), name: AppDatabase.buddyName($0, vault))
            }
        }
        if (row?["checking_in"] as Bool?) == true,
           let r = try db.fetchRow("""
               SELECT k.status, k.due_at, c.buddy_name FROM check_in k JOIN contact c ON c.key = k.contact_key WHERE k.contact_key = ?
               """, [key]),
           let status = CheckInInfo.Status(rawValue: r["status"]) {
            let watchers = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT c.key, c.language, c.wording FROM check_in_watcher w JOIN contact c ON c.key = w.watcher_key
                WHERE w.owner_key = ? AND c.opted_out_at IS NULL
                """), arguments: [key]).map(AppDatabase.party)
            context.checkIn = CheckInInfo(status: status, dueAt: Date(timeIntervalSince1970: r["due_at"]), watchers: watchers,
                                          name: AppDatabase.buddyName(r, vault))
        }
        if (row?["watching"] as Bool?) == true {
            let owners = try String.fetchAll(db.cachedStatement(sql: "SELECT owner_key FROM check_in_watcher WHERE watcher_key = ?"),
                                             arguments: [key])
            context.watching = try owners.compactMap { owner in
                guard let o = try db.fetchRow("SELECT key, language, wording, buddy_name FROM contact WHERE key = ?", [owner]) else { return nil }
                let others = try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT c.key, c.language, c.wording FROM check_in_watcher w JOIN contact c ON c.key = w.watcher_key
                    WHERE w.owner_key = ? AND w.watcher_key != ? AND c.opted_out_at IS NULL
                    """), arguments: [owner, key]).map(AppDatabase.party)
                return WatchedCheckIn(owner: AppDatabase.party(o), others: others, ownerName: AppDatabase.buddyName(o, vault))
            }
        }
    }

    /// Asks a number to be her buddy, if it may be asked: see `BuddyAskResult`.
    public func askBuddy(_ ask: BuddyAsk) throws -> BuddyAskResult {
        let me = item.key.hex
        let buddy = vault.contactKey(for: ask.number).hex
        if buddy == me { return .ownNumber }
        if let status = try String.fetchOne(db.cachedStatement(sql: "SELECT status FROM buddy WHERE contact_key = ? AND buddy_key = ?"),
                                            arguments: [me, buddy]) {
            return status == "declined" ? .refused : .already
        }
        let links = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM buddy WHERE contact_key = ? AND status != 'declined'"),
                                     arguments: [me]) ?? 0
        if links >= BuddyAsk.maxPerPerson { return .full }
        let today = AppDatabase.day(t)
        let askedToday = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM buddy_ask WHERE buddy_key = ? AND day >= ?"),
                                          arguments: [buddy, today]) ?? 0
        let existing = try db.fetchRow("SELECT opted_out_at FROM contact WHERE key = ?", [buddy])
        let blocked = try db.fetchRow("SELECT 1 FROM blocked_number WHERE contact_key = ?", [buddy]) != nil
        if askedToday > 0 || (existing?["opted_out_at"] as Double?) != nil || blocked { return .refused }
        let thisWeek = try Int.fetchOne(db.cachedStatement(sql: """
            SELECT count(DISTINCT buddy_key) FROM buddy_ask WHERE asker_key = ? AND day >= ?
            """), arguments: [me, today - 6 * 86400]) ?? 0
        if thisWeek >= BuddyAsk.newNumbersPerWeek { return .weeklyLimit }

        let language = try String.fetchOne(db.cachedStatement(sql: "SELECT language FROM contact WHERE key = ?"), arguments: [me]) ?? defaultLocale
        if existing == nil {
            // Someone who never texted us: a record like anyone's (number sealed), in her language.
            try AppDatabase.insertContact(db, key: buddy, number: ask.number, language: language, provider: envelope.provider,
                                          sender: envelope.to, vault: vault, now: t)
        }
        // To the day, like every date Lantern keeps about a person.
        try db.run("INSERT INTO buddy (contact_key, buddy_key, status, created_at) VALUES (?, ?, 'asked', ?)", [me, buddy, today])
        // The name her buddies know her by (the latest she gave), sealed.
        try db.run("UPDATE contact SET buddy_name = ? WHERE key = ?", [try vault.seal(ask.name), me])
        try db.run("INSERT INTO buddy_ask (asker_key, buddy_key, day) VALUES (?, ?, ?)", [me, buddy, today])
        _ = try AppDatabase.enqueueNotice(db, Notice(to: buddy, key: FlowLibrary.buddyInviteNamedKey, text: ask.invitation), vault: vault, now: t)
        return .asked
    }

    /// Applies a check-in or buddy effect.
    func applySpot(_ effect: Effect) throws {
        let me = item.key.hex
        switch effect {
        case .startCheckIn(let start):
            let due = start.dueAt.timeIntervalSince1970
            let running = try db.fetchRow("SELECT 1 FROM check_in WHERE contact_key = ?", [me]) != nil
            try db.run("""
                INSERT INTO check_in (contact_key, status, due_at, next_at, place, key_version) VALUES (?, 'running', ?, ?, ?, ?)
                ON CONFLICT(contact_key) DO UPDATE SET status = 'running', due_at = excluded.due_at, next_at = excluded.next_at,
                    place = coalesce(excluded.place, check_in.place), key_version = excluded.key_version
                """, [me, due, due, try start.place.map { try vault.seal($0) }, vault.keys.version])
            try db.run("DELETE FROM check_in_watcher WHERE owner_key = ?", [me])
            if !running { try AppDatabase.countSpot(db, .started, now: t) }
        case .setCheckInPlace(let place):
            try db.run("UPDATE check_in SET place = ?, key_version = ? WHERE contact_key = ?", [try vault.seal(place), vault.keys.version, me])
        case .escalateCheckIn:
            // Her buddies and the on-call phone are asked at the timer's next tick, with her place.
            try db.run("UPDATE check_in SET status = ?, next_at = ? WHERE contact_key = ?", [CheckInInfo.Status.help.rawValue, t, me])
        case .endCheckIn(let how, let notices):
            try db.run("DELETE FROM check_in WHERE contact_key = ?", [me])
            if db.changesCount > 0 {
                try AppDatabase.countSpot(db, how, now: t)
                for notice in notices { _ = try AppDatabase.enqueueNotice(db, notice, vault: vault, now: t) }
            }
        case .checkedOn(let owner, let notices):
            // Only someone who was asked may close it, and only once (the first OK wins).
            try db.run("""
                DELETE FROM check_in WHERE contact_key = ?
                AND EXISTS (SELECT 1 FROM check_in_watcher WHERE owner_key = ? AND watcher_key = ?)
                """, [owner, owner, me])
            if db.changesCount > 0 {
                try AppDatabase.countSpot(db, .answeredByBuddy, now: t)
                for notice in notices { _ = try AppDatabase.enqueueNotice(db, notice, vault: vault, now: t) }
            }
        case .askBuddy:
            break // `askBuddy(_:)`: its result chooses her reply
        case .removeBuddy(let buddy):
            try db.run("DELETE FROM buddy WHERE contact_key = ? AND buddy_key = ? AND status != 'declined'", [me, buddy])
        case .answerBuddyInvites(let accept, let notices):
            try db.run("UPDATE buddy SET status = ? WHERE buddy_key = ? AND status = 'asked'", [accept ? "confirmed" : "declined", me])
            for notice in notices { _ = try AppDatabase.enqueueNotice(db, notice, vault: vault, now: t) }
        case .tell(let notices):
            for notice in notices { _ = try AppDatabase.enqueueNotice(db, notice, vault: vault, now: t) }
        default:
            break
        }
    }

    /// STOP ends her part in check-ins: her own timer and buddies go, and as a buddy she is
    /// never asked again by anyone who asked her.
    func endSpotOnOptOut() throws {
        let me = item.key.hex
        try db.run("DELETE FROM check_in WHERE contact_key = ?", [me])
        if db.changesCount > 0 { try AppDatabase.countSpot(db, .stopped, now: t) }
        try db.run("DELETE FROM buddy WHERE contact_key = ?", [me])
        try db.run("UPDATE buddy SET status = 'declined' WHERE buddy_key = ?", [me])
        try db.run("DELETE FROM check_in_watcher WHERE watcher_key = ?", [me])
    }
}

/// A check-in whose time has come: to ask her, to ask her buddies, to remind them, or to end.
public struct DueCheckIn: Sendable {
    public let owner: Party
    public let status: CheckInInfo.Status
    public let dueAt: Date
    /// When this step fell due (for how late it is taken).
    public let nextAt: Date
    /// Where she said she is (opened for this step only).
    public let place: String?
    /// Her buddies who said yes and have not opted out.
    public let buddies: [Party]
    /// The name they know her by, if she gave one (opened for this step only).
    public let name: String?
    /// Who was already asked (for the reminder).
    public let watchers: [Party]
}

/// One step of the check-in timer inside a write transaction: the named steps the check-in use
/// case takes, each applied mechanically.
public struct CheckInTransaction {
    let db: Database
    let vault: PIIVault
    public let now: Date
    var t: Double { now.timeIntervalSince1970 }

    /// Check-ins whose next step is due, oldest first.
    public func due(limit: Int) throws -> [DueCheckIn] {
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT k.contact_key, k.status, k.due_at, k.next_at, k.place, c.language, c.wording, c.buddy_name
            FROM check_in k JOIN contact c ON c.key = k.contact_key
            WHERE k.next_at <= ? ORDER BY k.next_at LIMIT ?
            """), arguments: [t, limit])
        return try rows.compactMap { r in
            let key: String = r["contact_key"]
            guard let status = CheckInInfo.Status(rawValue: r["status"]) else { return nil }
            let buddies = status == .due || status == .help ? try Row.fetchAll(db.cachedStatement(sql: """
                SELECT c.key, c.language, c.wording FROM buddy b JOIN contact c ON c.key = b.buddy_key
                WHERE b.contact_key = ? AND b.status = 'confirmed' AND c.opted_out_at IS NULL
                ORDER BY b.created_at
                """), arguments: [key]).map(AppDatabase.party) : []
            let watchers = status == .escalated || status == .help ? try Row.fetchAll(db.cachedStatement(sql: """
                SELECT c.key, c.language, c.wording FROM check_in_watcher w JOIN contact c ON c.key = w.watcher_key
                WHERE w.owner_key = ? AND c.opted_out_at IS NULL
                """), arguments: [key]).map(AppDatabase.party) : []
            let place = status == .running || status == .reminded ? nil : (r["place"] as Data?).flatMap { try? vault.open($0) }
            return DueCheckIn(owner: Party(key: key, language: r["language"], wording: (r["wording"] as String?).flatMap(Wording.init)),
                              status: status, dueAt: Date(timeIntervalSince1970: r["due_at"]),
                              nextAt: Date(timeIntervalSince1970: r["next_at"]), place: place,
                              buddies: buddies, name: AppDatabase.buddyName(r, vault), watchers: watchers)
        }
    }

    /// The service's on-call phones as people Lantern can text (a record each, number sealed),
    /// sending the way `owner` last texted.
    public func onCallParties(_ numbers: [PhoneNumber], owner: String) throws -> [Party] {
        let route = try db.fetchRow("SELECT provider, sender FROM contact WHERE key = ?", [owner])
        return try numbers.compactMap { number in
            let key = vault.contactKey(for: number).hex
            if let r = try db.fetchRow("SELECT key, language, wording, opted_out_at FROM contact WHERE key = ?", [key]) {
                return (r["opted_out_at"] as Double?) == nil ? AppDatabase.party(r) : nil
            }
            try AppDatabase.insertContact(db, key: key, number: number, language: defaultLocale, provider: route?["provider"],
                                          sender: route?["sender"], vault: vault, now: t)
            return Party(key: key)
        }
    }

    /// Queues a check-in text (ahead of replies and alerts, through PAUSE); nil if that person
    /// has opted out or is gone.
    @discardableResult
    public func send(_ notice: Notice) throws -> Int64? {
        try AppDatabase.enqueueNotice(db, notice, vault: vault, now: t)
    }

    /// Moves her check-in on to `status`, next due at `next`; `watchers` are recorded as asked.
    /// Only if it is still in the state it was read in (one writer, but a step is never done twice).
    public func advance(_ owner: String, from: CheckInInfo.Status, to status: CheckInInfo.Status, next: Date,
                        watchers: [Party] = [], dropPlace: Bool = false) throws -> Bool {
        try db.run("UPDATE check_in SET status = ?, next_at = ?\(dropPlace ? ", place = NULL" : "") WHERE contact_key = ? AND status = ?",
                   [status.rawValue, next.timeIntervalSince1970, owner, from.rawValue])
        guard db.changesCount > 0 else { return false }
        for w in watchers {
            try db.run("INSERT OR IGNORE INTO check_in_watcher (owner_key, watcher_key) VALUES (?, ?)", [owner, w.key])
        }
        if status == .escalated { try AppDatabase.countSpot(db, .escalated, now: t) }
        return true
    }

    /// Ends it: the row and its place are deleted.
    public func end(_ owner: String, from: CheckInInfo.Status, as how: CheckInEnd) throws -> Bool {
        try db.run("DELETE FROM check_in WHERE contact_key = ? AND status = ?", [owner, from.rawValue])
        guard db.changesCount > 0 else { return false }
        try AppDatabase.countSpot(db, how, now: t)
        return true
    }
}

/// What coordinators see of check-ins: counts, never who.
public struct SpotCounts: Sendable, Equatable, Codable {
    public var running: Int = 0
    public var started: Int = 0
    public var endedOK: Int = 0
    public var escalated: Int = 0
    public var answeredByBuddy: Int = 0
    public var unanswered: Int = 0
    public var stopped: Int = 0
    /// Buddy links agreed right now.
    public var buddies: Int = 0

    public init(running: Int = 0, started: Int = 0, endedOK: Int = 0, escalated: Int = 0, answeredByBuddy: Int = 0,
                unanswered: Int = 0, stopped: Int = 0, buddies: Int = 0) {
        self.running = running
        self.started = started
        self.endedOK = endedOK
        self.escalated = escalated
        self.answeredByBuddy = answeredByBuddy
        self.unanswered = unanswered
        self.stopped = stopped
        self.buddies = buddies
    }

    enum CodingKeys: String, CodingKey {
        case running, started, escalated, unanswered, stopped, buddies
        case endedOK = "ended_ok"
        case answeredByBuddy = "answered_by_buddy"
    }
}

/// Events counted per day (`spot_count`).
public enum SpotEvent: String, Sendable {
    case started, escalated
}

extension AppDatabase {
    /// Runs one step of the check-in timer in a write transaction.
    public func writeCheckIns<T: Sendable>(now: Date, _ body: @escaping @Sendable (CheckInTransaction) throws -> T) async throws -> T {
        let vault = self.vault
        return try await writer.write { db in try body(CheckInTransaction(db: db, vault: vault, now: now)) }
    }

    /// Where her check-in stands, and whether a place is kept with it (for tests and transcripts).
    public func checkInState(for number: PhoneNumber) async throws -> (status: String, hasPlace: Bool)? {
        let key = vault.contactKey(for: number).hex
        return try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT status, place IS NOT NULL AS has_place FROM check_in WHERE contact_key = ?", arguments: [key])
                .map { ($0["status"], $0["has_place"]) }
        }
    }

    /// When the next check-in step is due, if any.
    public func nextCheckInDue() async throws -> Date? {
        try await writer.read { db in
            try Double.fetchOne(db, sql: "SELECT min(next_at) FROM check_in").map(Date.init(timeIntervalSince1970:))
        }
    }

    /// Check-in counts since `since` (by day), and how many run now.
    public func spotCounts(since: Date) async throws -> SpotCounts {
        try await writer.read { db in
            var c = SpotCounts()
            c.running = try Int.fetchOne(db, sql: "SELECT count(*) FROM check_in") ?? 0
            c.buddies = try Int.fetchOne(db, sql: "SELECT count(*) FROM buddy WHERE status = 'confirmed'") ?? 0
            for row in try Row.fetchAll(db, sql: "SELECT event, sum(n) AS n FROM spot_count WHERE day >= ? GROUP BY event",
                                        arguments: [Self.day(since.timeIntervalSince1970)]) {
                let n: Int = row["n"]
                switch row["event"] as String {
                case SpotEvent.started.rawValue: c.started = n
                case SpotEvent.escalated.rawValue: c.escalated = n
                case CheckInEnd.ok.rawValue: c.endedOK = n
                case CheckInEnd.answeredByBuddy.rawValue: c.answeredByBuddy = n
                case CheckInEnd.unanswered.rawValue: c.unanswered = n
                case CheckInEnd.stopped.rawValue: c.stopped = n
                default: break
                }
            }
            return c
        }
    }

    static func countSpot(_ db: Database, _ event: SpotEvent, now: Double) throws {
        try countSpot(db, event.rawValue, now: now)
    }

    static func countSpot(_ db: Database, _ end: CheckInEnd, now: Double) throws {
        try countSpot(db, end.rawValue, now: now)
    }

    static func countSpot(_ db: Database, _ event: String, now: Double) throws {
        try db.run("""
            INSERT INTO spot_count (day, event, n) VALUES (?, ?, 1)
            ON CONFLICT(day, event) DO UPDATE SET n = n + 1
            """, [day(now), event])
    }

    /// A record for someone who never texted (a buddy, the on-call phone): number sealed, dates to the day.
    static func insertContact(_ db: Database, key: String, number: PhoneNumber, language: String, provider: String?, sender: String?,
                              vault: PIIVault, now: Double) throws {
        try db.run("""
            INSERT INTO contact (key, number, key_version, language, created_at, last_active_at, provider, sender)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [key, try vault.seal(number.e164), vault.keys.version, language, day(now), day(now), provider, sender])
    }

    /// The name her buddies know her by, opened from a row that selected `buddy_name`.
    static func buddyName(_ row: Row, _ vault: PIIVault) -> String? {
        (row["buddy_name"] as Data?).flatMap { try? vault.open($0) }
    }

    static func party(_ row: Row) -> Party {
        Party(key: row["key"], language: row["language"] ?? defaultLocale, wording: (row["wording"] as String?).flatMap(Wording.init))
    }

    /// Queues a text to someone by contact key (her buddy, the person a buddy checked on), the way
    /// they last texted or were texted; nil if they opted out or are gone.
    static func enqueueNotice(_ db: Database, _ notice: Notice, vault: PIIVault, now: Double) throws -> Int64? {
        guard let row = try db.fetchRow("SELECT number, provider, sender, opted_out_at FROM contact WHERE key = ?", [notice.to]),
              (row["opted_out_at"] as Double?) == nil, let provider = row["provider"] as String? else { return nil }
        return try enqueue(db, contact: ContactKey(hex: notice.to), provider: provider, sender: row["sender"], recipient: row["number"],
                           vault: vault, kind: .checkIn, text: notice.text, now: now)
    }
}
