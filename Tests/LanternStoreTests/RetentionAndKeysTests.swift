import Crypto
import Foundation
import GRDB
import LanternCore
import LanternTesting
import Synchronization
import Testing
import LanternServer
@testable import LanternStore

/// Retention, erasure by number, blocking, and key rotation, on a real SQLite file.
@Suite struct RetentionAndKeysTests {
    let clock = TestClock()
    let her = PhoneNumber("+447700900123")!
    let other = PhoneNumber("+447700900124")!

    func outcome(_ effects: [Effect] = [], conversation: ConversationState? = nil,
                 reply: String = "ok") -> @Sendable (ContactContext, ConversationState?) -> EngineOutcome {
        { _, _ in
            EngineOutcome(replies: [Reply(key: "k", text: reply)], effects: effects, conversation: conversation,
                          decision: .fallback(flow: "menu", timedOut: false))
        }
    }

    func text(_ db: AppDatabase, _ from: PhoneNumber, _ id: String, at: Date? = nil,
              _ decide: @escaping @Sendable (ContactContext, ConversationState?) -> EngineOutcome) async throws -> InboundResult {
        try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: id, from: from, to: "+447700900999"),
                                   now: at ?? clock.now, decide: decide)
    }

    func count(_ db: AppDatabase, _ sql: String) async throws -> Int {
        try await db.writer.read { try Int.fetchOne($0, sql: sql) ?? 0 }
    }

    @Test func theJanitorDropsWhatIsPastItsTimeAndKeepsSubscribers() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.url.appendingPathComponent("t.sqlite").path, vault: PIIVault(keys: .generate()))
        let waiting = ConversationState(flow: "kit", state: "ask_address", expiresAt: clock.now.addingTimeInterval(1800), variables: ["kind": "spray"])
        _ = try await text(db, her, "SM1", outcome(conversation: waiting))
        _ = try await text(db, other, "SM2", outcome([.subscribe(["BS5"])]))
        let sent = try await db.claimDue(limit: 10, now: clock.now)
        try await db.recordSends(sent.map { SendRecord(id: $0.id, result: .accepted(providerMessageID: "SMout\($0.id)")) }, now: clock.now)

        // An hour on: nothing is past its time yet.
        clock.advance(by: 3600)
        #expect(try await db.sweep(RetentionSettings(), now: clock.now) == RetentionCounts())

        // Two days on: the abandoned conversation and nothing else.
        clock.advance(by: 2 * 86400)
        var swept = try await db.sweep(RetentionSettings(), now: clock.now)
        #expect(swept.conversations == 1 && swept.seenWebhooks == 0 && swept.contacts == 0 && swept.sentHistory == 0)
        #expect(try await count(db, "SELECT count(*) FROM conversation") == 0)
        // Dedupe entries are kept to the day, so they go once their whole day is past the 48 h window.
        clock.advance(by: 86400)
        swept = try await db.sweep(RetentionSettings(), now: clock.now)
        #expect(swept.seenWebhooks == 2 && swept.contacts == 0 && swept.sentHistory == 0)
        // A provider retry after that is past any provider's retry window; it is handled as new.

        // Thirty-one days on: no record is left of whom Lantern answered when.
        clock.advance(by: 28 * 86400)
        swept = try await db.sweep(RetentionSettings(), now: clock.now)
        #expect(swept.sentHistory == 2)
        #expect(try await count(db, "SELECT count(*) FROM outbox") == 0)

        // Ninety-one days on: she (no alerts, silent) is erased; the subscriber stays.
        clock.advance(by: 60 * 86400)
        swept = try await db.sweep(RetentionSettings(), now: clock.now)
        #expect(swept.contacts == 1)
        #expect(try await db.contact(for: her) == nil)
        #expect(try await db.contact(for: other)?.subscriptions == ["BS5"])
    }

    @Test func aCoordinatorErasesANumberEverywhereAndTheAuditSaysWhoNotWhom() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.url.appendingPathComponent("t.sqlite").path, vault: PIIVault(keys: .generate()))
        let waiting = ConversationState(flow: "kit", state: "x", expiresAt: clock.now.addingTimeInterval(600))
        _ = try await text(db, her, "SM1", outcome([.subscribe(["BS5"])], conversation: waiting))
        _ = try await text(db, her, "SM2", outcome([.requestKit(KitOrder(ref: "K-2345", kind: "spray", method: "post",
                                                                                    address: "1 Canary Street BS5 6AA"))]))
        #expect(try await db.forgetContact(her, by: "sam", now: clock.now))
        #expect(try await db.contact(for: her) == nil)
        for table in ["conversation", "subscription", "kit_request", "outbox WHERE status = 'queued'"] {
            #expect(try await count(db, "SELECT count(*) FROM \(table)") == 0, "\(table)")
        }
        // Her earlier texts replayed after the erasure are still recognised, and re-create nothing.
        #expect(try await text(db, her, "SM1", outcome([.subscribe(["BS5"])], conversation: waiting)) == .duplicate)
        #expect(try await db.contact(for: her) == nil)
        let audit = try await db.auditLog()
        #expect(audit.first?.actor == "sam" && audit.first?.action == "contact.erased" && audit.first?.subject == nil)
        #expect(try await db.forgetContact(her, by: "sam", now: clock.now) == false)   // nothing left to erase
        try await db.checkpoint()
        #expect(CanaryScan.files(in: dir.url, containing: "Canary Street").isEmpty)
    }

    @Test func aBlockOutlivesForgetAndOnlyAnUnblockLiftsIt() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.url.appendingPathComponent("t.sqlite").path, vault: PIIVault(keys: .generate()))
        let seen = Mutex<[Bool]>([])
        let record: @Sendable (ContactContext, ConversationState?) -> EngineOutcome = { contact, _ in
            seen.withLock { $0.append(contact.isBlocked) }
            return EngineOutcome(replies: [], effects: [], conversation: nil, decision: .fallback(flow: "menu", timedOut: false))
        }
        #expect(try await db.setBlocked(her, true, by: "sam", now: clock.now))
        #expect(try await db.setBlocked(her, true, by: "sam", now: clock.now) == false)
        _ = try await text(db, her, "SM1", record)
        _ = try await text(db, her, "SM2", outcome([.erase]))
        _ = try await text(db, her, "SM3", record)
        _ = try await text(db, other, "SM4", record)
        #expect(try await db.setBlocked(her, false, by: "sam", now: clock.now))
        _ = try await text(db, her, "SM5", record)
        #expect(seen.withLock { $0 } == [true, true, false, false])
        #expect(try await db.auditLog().map(\.action).prefix(2) == ["contact.unblocked", "contact.blocked"])
    }

    /// The rotation promise: every number, address and sealed text readable after, none under
    /// the old key, not one subscriber lost.
    @Test func rotationReSealsEverythingUnderTheNewKeyAndLosesNoOne() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.url.appendingPathComponent("t.sqlite").path
        let old = try KeyFile.loadOrCreate(directory: dir.url, environment: [:])
        let before = try AppDatabase.open(path: path, vault: PIIVault(keys: old))
        try await Seed.subscribers(300, areas: "BS5", database: before, provider: "twilio")
        _ = try await text(before, her, "SM1", outcome([.requestKit(KitOrder(ref: "K-2345", kind: "spray", method: "post", address: "1 Rotation Road BS5 6AA"))],
                                conversation: ConversationState(flow: "kit", state: "x",
                                expiresAt: clock.now.addingTimeInterval(600), variables: ["kind": "spray"])))
        let subscribersBefore = try await count(before, "SELECT count(*) FROM subscription")

        try KeyFile.replace(old.rotated(), directory: dir.url)
        let db = try AppDatabase.open(path: path, vault: PIIVault(keys: try #require(try KeyFile.load(directory: dir.url, environment: [:]))))
        #expect(db.vault.keys.version == 2)
        let counts = try await db.reencryptAll(batchSize: 64)
        #expect(counts.unreadable == 0)
        #expect(counts.resealed == 301 + 1 + 1 + 2 + 1)   // numbers, her address, her conversation, her queued reply's number and words, the key check
        #expect(try await db.reencryptAll() == { var c = ReencryptionCounts(); c.current = 306; return c }())
        try KeyFile.replace(db.vault.keys.withoutRetired(), directory: dir.url)

        // Only the new key now: everything opens, nothing opens under the old one.
        let after = try AppDatabase.open(path: path, vault: PIIVault(keys: try #require(try KeyFile.load(directory: dir.url, environment: [:]))))
        #expect(after.vault.keys.retired.isEmpty)
        #expect(try await count(after, "SELECT count(*) FROM subscription") == subscribersBefore)
        let blobs = try await after.writer.read { db in
            try Data.fetchAll(db, sql: "SELECT number FROM contact UNION ALL SELECT address FROM kit_request UNION ALL SELECT variables FROM conversation UNION ALL SELECT recipient FROM outbox UNION ALL SELECT text FROM outbox")
        }
        #expect(blobs.count == 305)
        let oldOnly = PIIVault(keys: old)
        for blob in blobs {
            #expect(throws: VaultError.ciphertextInvalid) { try oldOnly.open(blob) }
            _ = try after.vault.open(blob)
        }
        #expect(try await after.contact(for: Seed.syntheticNumber(299))?.subscriptions == ["BS5"])
        #expect(try await after.kitRequest("K-2345", viewer: "test", now: clock.now).address == "1 Rotation Road BS5 6AA")
        #expect(try await after.contact(for: her)?.conversation?.variables == ["kind": "spray"])
        #expect(try await after.writer.read { try Int.fetchOne($0, sql: "SELECT min(key_version) FROM contact") } == 2)
    }

    @Test func aServerFollowsARotationDoneBesideIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let old = try KeyFile.loadOrCreate(directory: dir.url, environment: [:])
        let server = PIIVault(keys: old, reload: { try KeyFile.load(directory: dir.url, environment: [:]) ?? old })
        let rotated = old.rotated()
        try KeyFile.replace(rotated, directory: dir.url)
        // Something sealed by the rotation opens at once (an unknown key triggers a re-read)…
        let sealedByRotation = try PIIVault(keys: rotated).seal("+447700900123")
        #expect(try server.openReportingVersion(sealedByRotation) == ("+447700900123", 2))
        // …and from then on the server seals under the new key.
        #expect(server.keys.version == 2)
        #expect(try PIIVault(keys: rotated.withoutRetired()).open(try server.seal("x")) == "x")
        // A key file whose index key changed would orphan every contact: it is not taken.
        try KeyFile.replace(VaultKeys.generate(version: 9), directory: dir.url)
        #expect(server.ring.reloadNow().version == 2)
    }

    @Test func retiredKeysSurviveTheKeyFileAndTheEnvironment() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rotated = VaultKeys.generate().rotated().rotated()
        try KeyFile.replace(rotated, directory: dir.url)
        let loaded = try #require(try KeyFile.load(directory: dir.url, environment: [:]))
        #expect(loaded.version == 3 && Set(loaded.retired.keys) == [1, 2])
        let mode = try FileManager.default.attributesOfItem(atPath: dir.url.appendingPathComponent("keys.json").path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        func b64(_ k: SymmetricKey) -> String { k.withUnsafeBytes { Data($0).base64EncodedString() } }
        let env = ["LANTERN_DATA_KEY": b64(rotated.data), "LANTERN_INDEX_KEY": b64(rotated.index), "LANTERN_KEY_VERSION": "3",
                   "LANTERN_RETIRED_DATA_KEYS": "1:\(b64(rotated.retired[1]!)),2:\(b64(rotated.retired[2]!))"]
        let fromEnv = try #require(try KeyFile.load(directory: dir.url, environment: env))
        let sealedUnderOne = try PIIVault(keys: VaultKeys(version: 1, data: rotated.retired[1]!, index: rotated.index)).seal("hi")
        #expect(try PIIVault(keys: fromEnv).openReportingVersion(sealedUnderOne) == ("hi", 1))
        #expect(throws: VaultError.self) { try KeyFile.load(directory: dir.url, environment: env.merging(["LANTERN_RETIRED_DATA_KEYS": "nonsense"]) { $1 }) }
    }

    @Test func aDatabaseFromBeforeKeyChecksIsCheckedAgainstItsContacts() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.url.appendingPathComponent("t.sqlite").path
        let keys = VaultKeys.generate()
        do {
            let db = try AppDatabase.open(path: path, vault: PIIVault(keys: keys))
            _ = try await text(db, her, "SM1", outcome())
            // As a database written before the check value existed would be.
            try await db.writer.write { try $0.execute(sql: "DELETE FROM key_check") }
        }
        #expect(AppDatabase.holdsData(path: path))
        #expect(throws: KeyCheckError.keysDoNotOpen(database: path)) { try AppDatabase.open(path: path, vault: PIIVault(keys: .generate())) }
        let reopened = try AppDatabase.open(path: path, vault: PIIVault(keys: keys))
        #expect(try await count(reopened, "SELECT count(*) FROM key_check") == 1)
        #expect(try await reopened.contact(for: her) != nil)
        // An index key alone that differs is caught too (the data key would still open everything).
        #expect(throws: KeyCheckError.self) {
            try AppDatabase.open(path: path, vault: PIIVault(keys: VaultKeys(version: 1, data: keys.data, index: SymmetricKey(size: .bits256))))
        }
        let empty = dir.url.appendingPathComponent("empty.sqlite").path
        #expect(!AppDatabase.holdsData(path: empty))
        _ = try AppDatabase.open(path: empty, vault: PIIVault(keys: .generate()))
        #expect(AppDatabase.holdsData(path: empty), "a database with a key check value must never get new keys")
    }

    @Test func aReferenceAlreadyGivenOutIsNeverGivenAgain() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.url.appendingPathComponent("t.sqlite").path, vault: PIIVault(keys: .generate()))
        // Randomness that repeats itself: each person's first draw is the previous person's.
        let same: UInt64 = 7 << 32 | 7
        let other: UInt64 = 8 << 32 | 8, third: UInt64 = 9 << 32 | 9
        let draws = Mutex<[UInt64]>([same, same, same, same, other, same, same, third])
        let next = Mutex<UInt64>(100)
        let policy = InboundPolicy(random: {
            if let d = draws.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return d }
            return next.withLock { n in n += 1; return n << 32 | n }
        })
        @Sendable func asking(_ action: FlowAction, _ prefix: String) -> @Sendable (ContactContext, ConversationState?, UInt64) -> EngineOutcome {
            { _, _, seed in
                let ref = ReferenceCode.make(prefix: prefix, seed: seed, shift: prefix == "R" ? 32 : 0)
                let effect: Effect = action == .requestKit
                    ? .requestKit(KitOrder(ref: ref, kind: "spray", method: "collect", pickup: "Hub"))
                    : .relayReport(Report(ref: ref, areas: ["BS5"], areaName: "BS5", happened: "x", when: "today", description: "y", relayText: "r"))
                return EngineOutcome(replies: [Reply(key: "k", text: "Your reference is \(ref)")], effects: [effect], conversation: nil,
                                     decision: .fallback(flow: "kit", timedOut: false), variables: ["ref": ref])
            }
        }
        var refs: [String] = []
        for (n, (action, prefix)) in [(FlowAction.requestKit, "K"), (.requestKit, "K"), (.relayReport, "R"), (.relayReport, "R")].enumerated() {
            let result = try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: "SM\(n)", from: PhoneNumber("+44770090013\(n)")!, to: nil),
                                                    now: clock.now, policy: policy, decideWithSeed: asking(action, prefix))
            guard case .handled(_, let outcome, _) = result else { Issue.record("not handled: \(result)"); continue }
            refs.append(try #require(outcome.variables["ref"]))
            #expect(outcome.replies.first?.text.hasSuffix(outcome.variables["ref"]!) == true)
        }
        #expect(Set(refs).count == 4, "\(refs)")
        #expect(refs.allSatisfy { $0.count == 2 + ReferenceCode.length })
        #expect(try await count(db, "SELECT count(*) FROM kit_request") == 2)
        #expect(try await count(db, "SELECT count(*) FROM report_ref") == 2)
    }

    /// A copied database shows only what the service needs, and times only to the day.
    @Test func aCopiedDatabaseShowsDaysNotMomentsAndNoConversationPosition() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.url.appendingPathComponent("t.sqlite").path, vault: PIIVault(keys: .generate()))
        let afternoon = Date(timeIntervalSince1970: 1_800_000_000 + 13 * 3600 + 1234)   // not on a day boundary
        let waiting = ConversationState(flow: "kit", state: "ask_address", expiresAt: afternoon.addingTimeInterval(1800), variables: ["kind": "spray"])
        _ = try await text(db, her, "SM1", at: afternoon, outcome([.subscribe(["BS5"])], conversation: waiting))
        _ = try await text(db, other, "SM2", at: afternoon, outcome([.requestKit(KitOrder(ref: "K-2345AB", kind: "spray", method: "collect",
                                                                                              pickup: "Example needle exchange"))]))
        let sent = try await db.claimDue(limit: 10, now: afternoon)
        try await db.recordSends(sent.map { SendRecord(id: $0.id, result: .accepted(providerMessageID: "SMout\($0.id)")) }, now: afternoon)
        _ = try await db.markKit("K-2345AB", as: .collected, reason: .collected, by: "sam", now: afternoon) { _, _ in nil }

        for (table, columns) in [("contact", ["created_at", "last_active_at"]), ("subscription", ["created_at"]),
                                 ("kit_request", ["created_at", "updated_at"]), ("outbox", ["created_at", "updated_at"]),
                                 ("seen_message", ["day"])] {
            for column in columns {
                #expect(try await count(db, "SELECT count(*) FROM \(table) WHERE CAST(\(column) AS INTEGER) % 86400 != 0") == 0, "\(table).\(column)")
            }
        }
        #expect(try await count(db, "SELECT count(*) FROM outbox WHERE handed_at IS NOT NULL") == 0)
        // Where she is in a conversation is sealed with her answers.
        #expect(try await count(db, "SELECT count(*) FROM conversation WHERE flow != '' OR state != ''") == 0)
        #expect(try await db.writer.read { try Self.loadConversationPublic($0, her, db) } == waiting)
        // A closed kit keeps no pickup point.
        #expect(try await count(db, "SELECT count(*) FROM kit_request WHERE pickup IS NOT NULL") == 0)
    }

    static func loadConversationPublic(_ d: Database, _ number: PhoneNumber, _ db: AppDatabase) throws -> ConversationState? {
        try AppDatabase.loadConversation(d, key: db.vault.contactKey(for: number), vault: db.vault)
    }
}
