import Foundation
import GRDB
import LanternCore
import Logging

/// Lantern's database. Each public method is one transaction; SQL never leaves this module,
/// so the store can later run on PostgreSQL without touching anything else.
public struct AppDatabase: Sendable {
    let writer: any DatabaseWriter
    public let vault: PIIVault

    /// Opens (creating if needed) the SQLite file in WAL mode and runs migrations.
    public static func open(path: String, vault: PIIVault) throws -> AppDatabase {
        var config = Configuration()
        config.prepareDatabase { db in
            // Overwrite deleted content (cleared texts, erased contacts) instead of leaving it in free pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA journal_size_limit = 4194304")
            try db.execute(sql: "PRAGMA cache_size = -16000")
            // Savepoint and sort scratch stays in memory: never in a temp file on disk (it holds
            // pages of sealed texts), and no file write for every page a text's savepoint touches.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        config.busyMode = .timeout(10)
        let pool = try DatabasePool(path: path, configuration: config)
        let db = AppDatabase(writer: pool, vault: vault)
        try Self.migrator.migrate(pool)
        try pool.write { db in
            try Self.checkKeys(db, vault: vault, path: path)
            try Self.carryOverDedupe(db, vault: vault)
        }
        return db
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: contacts, conversations, dedupe, outbox") { db in
            try db.execute(sql: """
                CREATE TABLE contact (
                    key TEXT PRIMARY KEY NOT NULL,
                    number BLOB NOT NULL,
                    key_version INTEGER NOT NULL,
                    language TEXT NOT NULL DEFAULT 'en-GB',
                    opted_out_at DOUBLE,
                    created_at DOUBLE NOT NULL,
                    last_active_at DOUBLE NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE conversation (
                    contact_key TEXT PRIMARY KEY NOT NULL REFERENCES contact(key) ON DELETE CASCADE,
                    flow TEXT NOT NULL,
                    state TEXT NOT NULL,
                    expires_at DOUBLE NOT NULL,
                    variables TEXT NOT NULL DEFAULT '{}'
                ) WITHOUT ROWID;
                CREATE TABLE seen_webhook (
                    provider TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    contact_key TEXT,
                    seen_at DOUBLE NOT NULL,
                    PRIMARY KEY (provider, message_id)
                ) WITHOUT ROWID;
                CREATE INDEX seen_webhook_seen_at ON seen_webhook(seen_at);
                CREATE INDEX seen_webhook_contact ON seen_webhook(contact_key);
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    contact_key TEXT,
                    provider TEXT NOT NULL,
                    sender TEXT,
                    recipient BLOB,
                    key_version INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    text TEXT,
                    segments INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at DOUBLE NOT NULL,
                    created_at DOUBLE NOT NULL,
                    updated_at DOUBLE NOT NULL,
                    provider_message_id TEXT,
                    error_code TEXT
                );
                -- The sender's only way in: kept small (queued rows only) and never shadowed by a
                -- plain status index, which would make every claim scan the whole queue.
                CREATE INDEX outbox_due ON outbox(priority, next_attempt_at) WHERE status = 'queued';
                CREATE INDEX outbox_contact ON outbox(contact_key);
                CREATE UNIQUE INDEX outbox_provider_message ON outbox(provider, provider_message_id)
                    WHERE provider_message_id IS NOT NULL;
                """)
        }
        m.registerMigration("v2: alert subscriptions, broadcasts, admin tokens, audit") { db in
            try db.execute(sql: """
                ALTER TABLE contact ADD COLUMN alerts_paused_until DOUBLE;
                -- The provider and our number she last texted: alerts go out the same way.
                ALTER TABLE contact ADD COLUMN provider TEXT;
                ALTER TABLE contact ADD COLUMN sender TEXT;
                CREATE TABLE subscription (
                    contact_key TEXT NOT NULL REFERENCES contact(key) ON DELETE CASCADE,
                    area TEXT NOT NULL,
                    created_at DOUBLE NOT NULL,
                    PRIMARY KEY (contact_key, area)
                ) WITHOUT ROWID;
                CREATE INDEX subscription_area ON subscription(area, contact_key);
                CREATE TABLE broadcast (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    status TEXT NOT NULL,
                    areas TEXT NOT NULL,
                    -- Subscription codes this alert reaches ('*': every subscriber), fixed at creation.
                    reach TEXT NOT NULL,
                    confirmed INTEGER NOT NULL,
                    requires_approval INTEGER NOT NULL,
                    created_by TEXT NOT NULL,
                    approved_by TEXT,
                    cancelled_by TEXT,
                    created_at DOUBLE NOT NULL,
                    expires_at DOUBLE NOT NULL,
                    approved_at DOUBLE,
                    finished_at DOUBLE,
                    fanout_cursor TEXT NOT NULL DEFAULT '',
                    recipients INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX broadcast_status ON broadcast(status);
                CREATE TABLE broadcast_text (
                    broadcast_id INTEGER NOT NULL REFERENCES broadcast(id) ON DELETE CASCADE,
                    locale TEXT NOT NULL,
                    text TEXT,
                    segments INTEGER NOT NULL,
                    PRIMARY KEY (broadcast_id, locale)
                ) WITHOUT ROWID;
                ALTER TABLE outbox ADD COLUMN broadcast_id INTEGER REFERENCES broadcast(id);
                ALTER TABLE outbox ADD COLUMN locale TEXT;
                CREATE UNIQUE INDEX outbox_broadcast_contact ON outbox(broadcast_id, contact_key) WHERE broadcast_id IS NOT NULL;
                CREATE INDEX outbox_broadcast_pending ON outbox(broadcast_id) WHERE status IN ('queued', 'sending');
                CREATE TABLE admin_token (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    role TEXT NOT NULL,
                    secret_hash TEXT NOT NULL,
                    created_at DOUBLE NOT NULL,
                    revoked_at DOUBLE,
                    last_used_at DOUBLE
                ) WITHOUT ROWID;
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at DOUBLE NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    subject TEXT
                );
                """)
        }
        m.registerMigration("v3: kit requests, report references and counts, relay queue") { db in
            try db.execute(sql: """
                CREATE TABLE kit_request (
                    ref TEXT PRIMARY KEY NOT NULL,
                    contact_key TEXT REFERENCES contact(key) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    method TEXT NOT NULL,
                    pickup TEXT,
                    -- AES-GCM under the data key; deleted when fulfilled, cancelled or expired.
                    address BLOB,
                    key_version INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    reason TEXT,
                    created_at DOUBLE NOT NULL,
                    updated_at DOUBLE NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX kit_request_contact ON kit_request(contact_key, created_at);
                CREATE INDEX kit_request_status ON kit_request(status, created_at);
                CREATE TABLE report_ref (
                    ref TEXT PRIMARY KEY NOT NULL,
                    contact_key TEXT NOT NULL REFERENCES contact(key) ON DELETE CASCADE,
                    expires_at DOUBLE NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX report_ref_contact ON report_ref(contact_key);
                CREATE TABLE report_count (
                    day TEXT NOT NULL,
                    area TEXT NOT NULL,
                    n INTEGER NOT NULL,
                    PRIMARY KEY (day, area)
                ) WITHOUT ROWID;
                CREATE TABLE relay_queue (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    payload BLOB NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at DOUBLE NOT NULL,
                    created_at DOUBLE NOT NULL
                );
                """)
        }
        m.registerMigration("v4: broadcast progress index usable by the planner") { db in
            // The partial index must name `broadcast_id IS NOT NULL` for SQLite to use it when
            // settling broadcasts; without it each settle scanned the whole outbox.
            try db.execute(sql: """
                DROP INDEX outbox_broadcast_pending;
                CREATE INDEX outbox_broadcast_pending ON outbox(broadcast_id)
                    WHERE status IN ('queued', 'sending') AND broadcast_id IS NOT NULL;
                """)
        }
        m.registerMigration("v5: blocked numbers") { db in
            // Kept apart from `contact` so that FORGET cannot lift a block.
            try db.execute(sql: """
                CREATE TABLE blocked_number (
                    contact_key TEXT PRIMARY KEY NOT NULL,
                    created_at DOUBLE NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v6: wording preference") { db in
            // NULL: the service's default (discreet unless the service says otherwise).
            try db.execute(sql: "ALTER TABLE contact ADD COLUMN wording TEXT")
        }
        m.registerMigration("v7: key check value") { db in
            // One row: an HMAC under the index key and a value sealed under the data key. Only
            // the keys that wrote this database reproduce them (see KeyCheck.swift).
            try db.execute(sql: """
                CREATE TABLE key_check (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    index_mac TEXT NOT NULL,
                    data_box BLOB NOT NULL
                );
                """)
        }
        m.registerMigration("v8: when a claimed text was handed to the provider") { db in
            // NULL while a text is claimed but not yet given to the HTTP client: after a crash
            // such a text certainly never reached the provider and is simply sent again.
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN handed_at DOUBLE")
        }
        m.registerMigration("v9: dedupe by keyed hash, linked to no one") { db in
            // Replaces seen_webhook (provider, message id, contact, time): a dedupe entry is now a
            // keyed hash of the provider's id with the day it was seen, so it survives FORGET (a
            // replay cannot undo an erasure) and says nothing about who texted when.
            // Old entries are carried over by `AppDatabase.open`, which holds the key.
            try db.execute(sql: """
                CREATE TABLE seen_message (
                    id_hash TEXT PRIMARY KEY NOT NULL,
                    day DOUBLE NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX seen_message_day ON seen_message(day);
                """)
        }
        m.registerMigration("v10: erasure at the provider") { db in
            // After FORGET: her number and the provider's ids of her messages, sealed, until the
            // provider has deleted them; then the row goes too.
            try db.execute(sql: """
                CREATE TABLE provider_erasure (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    provider TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at DOUBLE NOT NULL
                );
                """)
        }
        m.registerMigration("v11: a coordinator's question awaiting her answer") { db in
            try db.execute(sql: "ALTER TABLE report_ref ADD COLUMN awaiting_answer INTEGER NOT NULL DEFAULT 0")
        }
        m.registerMigration("v12: a person's recent alerts, found without scanning her replies") { db in
            // "Did an alert reach her lately?" is asked on every inbound text (FlowEngine step 8).
            try db.execute(sql: "CREATE INDEX outbox_contact_alerts ON outbox(contact_key, updated_at) WHERE kind = 'broadcast'")
        }
        m.registerMigration("v13: only alerts that went out are in her recent-alerts index") { db in
            // Queued alert copies stay out of it, so writing a 100,000-strong broadcast to the
            // outbox maintains one index fewer; a copy enters it when it is sent. The condition
            // is word for word the one `loadContact` asks, so SQLite still uses it.
            try db.execute(sql: """
                DROP INDEX outbox_contact_alerts;
                CREATE INDEX outbox_contact_alerts ON outbox(contact_key, updated_at)
                    WHERE kind = 'broadcast' AND status IN ('sent', 'delivered');
                """)
        }
        m.registerMigration("v14: check-ins and buddies") { db in
            try db.execute(sql: """
                -- Her buddies: two contact keys and whether the buddy said yes. A 'declined' row
                -- stays so that she never asks that number again.
                CREATE TABLE buddy (
                    contact_key TEXT NOT NULL REFERENCES contact(key) ON DELETE CASCADE,
                    buddy_key TEXT NOT NULL REFERENCES contact(key) ON DELETE CASCADE,
                    status TEXT NOT NULL,
                    created_at DOUBLE NOT NULL,
                    PRIMARY KEY (contact_key, buddy_key)
                ) WITHOUT ROWID;
                CREATE INDEX buddy_by_buddy ON buddy(buddy_key, status);
                -- Who was asked when (to the day): a number is asked at most once a day, a
                -- person asks at most 3 new numbers a week. Pruned after 8 days.
                CREATE TABLE buddy_ask (
                    asker_key TEXT NOT NULL REFERENCES contact(key) ON DELETE CASCADE,
                    buddy_key TEXT NOT NULL,
                    day DOUBLE NOT NULL
                );
                CREATE INDEX buddy_ask_asker ON buddy_ask(asker_key, day);
                CREATE INDEX buddy_ask_buddy ON buddy_ask(buddy_key, day);
                -- One running check-in per person; the place is sealed and goes with the row.
                CREATE TABLE check_in (
                    contact_key TEXT PRIMARY KEY NOT NULL REFERENCES contact(key) ON DELETE CASCADE,
                    status TEXT NOT NULL,
                    due_at DOUBLE NOT NULL,
                    next_at DOUBLE NOT NULL,
                    place BLOB,
                    key_version INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX check_in_next ON check_in(next_at);
                -- Who was asked to check on her, once she did not answer.
                CREATE TABLE check_in_watcher (
                    owner_key TEXT NOT NULL REFERENCES check_in(contact_key) ON DELETE CASCADE,
                    watcher_key TEXT NOT NULL REFERENCES contact(key) ON DELETE CASCADE,
                    PRIMARY KEY (owner_key, watcher_key)
                ) WITHOUT ROWID;
                CREATE INDEX check_in_watcher_by ON check_in_watcher(watcher_key);
                -- Counts only, by day: what coordinators see of check-ins.
                CREATE TABLE spot_count (
                    day DOUBLE NOT NULL,
                    event TEXT NOT NULL,
                    n INTEGER NOT NULL,
                    PRIMARY KEY (day, event)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v15: coordinator console accounts and sessions") { db in
            try db.execute(sql: """
                -- A coordinator or admin who signs in to the console. The password is a bcrypt
                -- hash; the one-time-code secret is sealed like a number; an invite is a hash.
                CREATE TABLE console_account (
                    name TEXT PRIMARY KEY NOT NULL,
                    role TEXT NOT NULL,
                    password_hash TEXT,
                    totp_secret BLOB,
                    key_version INTEGER NOT NULL,
                    invite_hash TEXT,
                    invite_expires_at DOUBLE,
                    failures INTEGER NOT NULL DEFAULT 0,
                    locked_until DOUBLE,
                    created_at DOUBLE NOT NULL,
                    created_by TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE UNIQUE INDEX console_account_invite ON console_account(invite_hash) WHERE invite_hash IS NOT NULL;
                -- A signed-in browser: the hash of its cookie, and its form token.
                CREATE TABLE console_session (
                    id_hash TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL REFERENCES console_account(name) ON DELETE CASCADE,
                    csrf TEXT NOT NULL,
                    created_at DOUBLE NOT NULL,
                    last_seen_at DOUBLE NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX console_session_name ON console_session(name);
                """)
        }
        m.registerMigration("v16: TALK threads between a mum and a peer") { db in
            try db.execute(sql: """
                -- An open chat: its reference, whose it is, and the peer who took it (a keyed hash of
                -- the peer's phone, never the number). No words: every text is relayed through the
                -- outbox, sealed, and cleared once sent. Gone when it closes or she is erased.
                CREATE TABLE talk_thread (
                    ref TEXT PRIMARY KEY NOT NULL,
                    contact_key TEXT NOT NULL UNIQUE REFERENCES contact(key) ON DELETE CASCADE,
                    peer_key TEXT,
                    last_at DOUBLE NOT NULL,
                    relay_day DOUBLE NOT NULL,
                    relayed_today INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                -- A peer closed a thread and blocked the number from starting another, until then.
                -- Outlives FORGET, like a coordinator's block.
                CREATE TABLE talk_block (
                    contact_key TEXT PRIMARY KEY NOT NULL,
                    until DOUBLE NOT NULL
                ) WITHOUT ROWID;
                -- What each peer sent today, for the per-peer limit (keyed hash, to the day).
                CREATE TABLE talk_peer_day (
                    peer_key TEXT NOT NULL,
                    day DOUBLE NOT NULL,
                    n INTEGER NOT NULL,
                    PRIMARY KEY (peer_key, day)
                ) WITHOUT ROWID;
                -- Counts only, per day: opened, relayed_in, relayed_out, closed.
                CREATE TABLE talk_count (
                    day TEXT NOT NULL,
                    event TEXT NOT NULL,
                    n INTEGER NOT NULL,
                    PRIMARY KEY (day, event)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v17: the name her buddies know her by") { db in
            // Sealed like her number: it goes only into the texts her buddies get.
            try db.execute(sql: "ALTER TABLE contact ADD COLUMN buddy_name BLOB")
        }
        return m
    }

    /// Moves dedupe entries from before v9 into `seen_message`, then drops the old table.
    static func carryOverDedupe(_ db: Database, vault: PIIVault) throws {
        guard try db.tableExists("seen_webhook") else { return }
        for row in try Row.fetchAll(db, sql: "SELECT provider, message_id, seen_at FROM seen_webhook") {
            try db.execute(sql: "INSERT OR IGNORE INTO seen_message (id_hash, day) VALUES (?, ?)",
                           arguments: [vault.dedupeKey(provider: row["provider"], id: row["message_id"]), Self.day(row["seen_at"])])
        }
        try db.execute(sql: "DROP TABLE seen_webhook")
    }

    /// The start of the UTC day `t` falls in: times kept only for retention are kept to the day.
    static func day(_ t: Double) -> Double { (t / 86400).rounded(.down) * 86400 }

    /// Whether the database answers (for `/readyz`).
    public func ping() async -> Bool {
        (try? await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    /// Makes the WAL's contents part of the main file and truncates it, so old page images
    /// (e.g. of cleared outbound texts) do not linger in the WAL file.
    public func checkpoint() async throws {
        try await writer.writeWithoutTransaction { db in
            _ = try db.checkpoint(.truncate)
        }
    }

    public var path: String { writer.path }
}

/// Outbox priorities: a reply to someone who just texted always goes before a broadcast.
public enum OutboxKind: String, Sendable {
    /// Emergency steps and crisis lines: ahead of every other text, including other replies
    /// and a running broadcast.
    case emergency
    /// A check-in's texts ("Are you OK?", her buddies asked to check on her): ahead of replies
    /// and alerts, through PAUSE and the reply limits.
    case checkIn = "check_in"
    case reply
    /// A report passed on to a coordinator's phone.
    case relay
    case broadcast

    var priority: Int {
        switch self {
        case .emergency: -10
        case .checkIn: -5
        case .reply, .relay: 0
        case .broadcast: 10
        }
    }
}

/// Lifecycle of one outbound text.
public enum OutboxStatus: String, Sendable, CaseIterable {
    case queued, sending, sent, delivered, failed, unknown, cancelled, expired
}
