import Foundation
import LanternCore
import LanternTesting
import Testing
import LanternServer
@testable import LanternStore

@Suite struct VaultAndKeyFileTests {
    @Test func keyFileIsCreatedOwnerOnlyAndReloaded() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let first = try KeyFile.loadOrCreate(directory: dir.url, environment: [:])
        let attrs = try FileManager.default.attributesOfItem(atPath: dir.url.appendingPathComponent("keys.json").path)
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        let again = try KeyFile.loadOrCreate(directory: dir.url, environment: [:])
        let n = PhoneNumber("+447700900123")!
        #expect(PIIVault(keys: first).contactKey(for: n) == PIIVault(keys: again).contactKey(for: n))
    }

    @Test func aWorldReadableKeyFileIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try KeyFile.loadOrCreate(directory: dir.url, environment: [:])
        let path = dir.url.appendingPathComponent("keys.json").path
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: VaultError.keyFileInsecure(path: path, mode: "644")) { try KeyFile.loadOrCreate(directory: dir.url, environment: [:]) }
    }

    @Test func keysFromTheEnvironmentWinAndAreValidated() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let d = Data(repeating: 1, count: 32).base64EncodedString(), i = Data(repeating: 2, count: 32).base64EncodedString()
        _ = try KeyFile.loadOrCreate(directory: dir.url, environment: ["LANTERN_DATA_KEY": d, "LANTERN_INDEX_KEY": i])
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("keys.json").path))
        #expect(throws: VaultError.keyMaterialInvalid(source: "LANTERN_DATA_KEY/LANTERN_INDEX_KEY")) {
            try KeyFile.loadOrCreate(directory: dir.url, environment: ["LANTERN_DATA_KEY": "short", "LANTERN_INDEX_KEY": i])
        }
    }

    @Test func sealedNumbersOpenOnlyWithTheirKey() throws {
        let a = PIIVault(keys: .generate()), b = PIIVault(keys: .generate())
        let sealed = try a.seal("+447700900123")
        #expect(try a.open(sealed) == "+447700900123")
        #expect(throws: VaultError.ciphertextInvalid) { try b.open(sealed) }
        #expect(a.contactKey(for: PhoneNumber("+447700900123")!) != b.contactKey(for: PhoneNumber("+447700900123")!))
        #expect(try a.seal("+447700900123") != sealed)   // fresh nonce every time
    }
}

@Suite struct StoreTests {
    let clock = TestClock()

    func withDatabase(_ body: (AppDatabase, TemporaryDirectory) async throws -> Void) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.url.appendingPathComponent("test.sqlite").path, vault: PIIVault(keys: .generate()))
        try await body(db, dir)
    }

    func reply(_ text: String, effects: [Effect] = [], conversation: ConversationState? = nil) -> @Sendable (ContactContext, ConversationState?) -> EngineOutcome {
        { _, _ in EngineOutcome(replies: [Reply(key: "k", text: text)], effects: effects, conversation: conversation, decision: .fallback(flow: "menu", timedOut: false)) }
    }

    let number = PhoneNumber("+447700900123")!

    @Test func theSameProviderMessageIsHandledOnce() async throws {
        try await withDatabase { db, _ in
            let env = InboundEnvelope(provider: "twilio", messageID: "SM1", from: number, to: "+447700900999")
            guard case .handled = try await db.handleInbound(env, now: clock.now, decide: reply("hi")) else { Issue.record("first not handled"); return }
            #expect(try await db.handleInbound(env, now: clock.now, decide: reply("hi")) == .duplicate)
            #expect(try await db.outboxCounts()[.queued] == 1)
        }
    }

    @Test func numbersAreNeverStoredInPlainText() async throws {
        try await withDatabase { db, dir in
            for i in 0..<20 {
                let n = PhoneNumber("+4477009001\(String(format: "%02d", i))")!
                _ = try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: "SM\(i)", from: n, to: nil),
                                               now: clock.now, decide: reply("hello"))
            }
            for i in 0..<20 {
                #expect(CanaryScan.files(in: dir.url, containing: "+4477009001\(String(format: "%02d", i))").isEmpty)
                #expect(CanaryScan.files(in: dir.url, containing: "7700900 1\(String(format: "%02d", i))").isEmpty)
            }
            #expect(try await db.contact(for: number) == nil)
            #expect(try await db.contact(for: PhoneNumber("+447700900105")!) != nil)
        }
    }

    @Test func aCopyOfTheDatabaseWithoutItsKeysRevealsNoNumber() async throws {
        try await withDatabase { db, dir in
            _ = try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: "SM1", from: number, to: nil),
                                           now: clock.now, decide: reply("hello"))
            try await db.checkpoint()
            let path = dir.url.appendingPathComponent("test.sqlite").path
            // Other keys are refused outright (they would orphan everyone)...
            #expect(throws: KeyCheckError.keysDoNotOpen(database: path)) {
                try AppDatabase.open(path: path, vault: PIIVault(keys: .generate()))
            }
            // ...and the file itself holds no number in any readable form.
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(bytes.range(of: Data(number.e164.utf8)) == nil && bytes.range(of: Data("7700900".utf8)) == nil)
            #expect(try await db.contact(for: number) != nil)
        }
    }

    @Test func aReplayWithANewIdButTheSameSignatureOrNonceIsADuplicate() async throws {
        try await withDatabase { db, dir in
            let first = InboundEnvelope(provider: "plivo", messageID: "id-1", from: number, to: nil, replayKeys: ["nonce:n1", "nonce:n2"])
            #expect(try await db.handleInbound(first, now: clock.now, decide: reply("hi")) != .duplicate)
            // Reopened (a restart): the V2 nonce alone, on a forged id, is still spent.
            let reopened = try AppDatabase.open(path: dir.url.appendingPathComponent("test.sqlite").path, vault: db.vault)
            let forged = InboundEnvelope(provider: "plivo", messageID: "id-2", from: number, to: nil, replayKeys: ["nonce:n2"])
            #expect(try await reopened.handleInbound(forged, now: clock.now, decide: reply("hi")) == .duplicate)
            // Another provider's ids never collide with these.
            let other = InboundEnvelope(provider: "twilio", messageID: "id-1", from: number, to: nil)
            #expect(try await reopened.handleInbound(other, now: clock.now, decide: reply("hi")) != .duplicate)
        }
    }

    @Test func optOutCancelsEverythingQueuedForHer() async throws {
        try await withDatabase { db, _ in
            _ = try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: "SM1", from: number, to: nil),
                                           now: clock.now, decide: reply("first"))
            _ = try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: "SM2", from: number, to: nil),
                                           now: clock.now, decide: reply("You won't get more texts", effects: [.optOut]))
            let counts = try await db.outboxCounts()
            #expect(counts[.cancelled] == 1)
            #expect(counts[.queued] == 1)                                // only the confirmation
            let claimed = try await db.claimDue(limit: 10, now: clock.now)
            #expect(claimed.map(\.text) == ["You won't get more texts"])
            #expect(try await db.contact(for: number)?.isOptedOut == true)
        }
    }

    @Test func eraseRemovesTheContactButStillConfirms() async throws {
        try await withDatabase { db, dir in
            let waiting = ConversationState(flow: "naloxone", state: "info", expiresAt: clock.now.addingTimeInterval(60))
            _ = try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: "SM1", from: number, to: nil),
                                           now: clock.now, decide: reply("menu", conversation: waiting))
            #expect(try await db.contact(for: number)?.conversation == waiting)
            _ = try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: "SM2", from: number, to: nil),
                                           now: clock.now, decide: reply("Deleted.", effects: [.erase]))
            #expect(try await db.contact(for: number) == nil)
            let claimed = try await db.claimDue(limit: 10, now: clock.now)
            #expect(claimed.map(\.text) == ["Deleted."])
            #expect(claimed.first?.to == number)
            #expect(claimed.first?.contact == nil)
            try await db.markAccepted(id: claimed[0].id, providerMessageID: "SMx", now: clock.now)
            try await db.checkpoint()
            let key = db.vault.contactKey(for: number).hex
            #expect(CanaryScan.files(in: dir.url, containing: key).isEmpty)
            #expect(CanaryScan.files(in: dir.url, containing: "Deleted.").isEmpty)
        }
    }

    @Test func acceptedTextsAreClearedAndCrashedSendsAreNotResentBlindly() async throws {
        try await withDatabase { db, _ in
            for i in 1...4 {
                _ = try await db.handleInbound(InboundEnvelope(provider: i == 3 ? "telnyx" : "twilio", messageID: "SM\(i)", from: number, to: nil),
                                               now: clock.now, decide: reply("reply \(i)"))
            }
            let claimed = try await db.claimDue(limit: 10, now: clock.now)
            #expect(claimed.count == 4)
            try await db.markHanded(claimed.prefix(3).map(\.id), now: clock.now)
            try await db.markAccepted(id: claimed[0].id, providerMessageID: "SMa", now: clock.now)
            // Crash here: rows 2 (twilio, no idempotency key) and 3 (an idempotent provider) were handed to the
            // HTTP client but not confirmed; row 4 was claimed and never handed.
            let r = try await db.recoverInterruptedSends(idempotentProviders: ["telnyx"], now: clock.now)
            #expect(r.requeued == 2 && r.unknown == 1)
            let again = try await db.claimDue(limit: 10, now: clock.now)
            #expect(again.map(\.text) == ["reply 3", "reply 4"])   // only row 2 may have reached twilio
            let counts = try await db.outboxCounts()
            #expect(counts[.sent] == 1 && counts[.unknown] == 1 && counts[.sending] == 2)
        }
    }

    @Test func statusCallbacksNeverGoBackwardsAndSettleUnknowns() async throws {
        try await withDatabase { db, _ in
            _ = try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: "SM1", from: number, to: nil),
                                           now: clock.now, decide: reply("hi"))
            _ = try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: "SM2", from: number, to: nil),
                                           now: clock.now, decide: reply("hi again"))
            let claimed = try await db.claimDue(limit: 10, now: clock.now)
            try await db.markAccepted(id: claimed[0].id, providerMessageID: "SMa", now: clock.now)
            try await db.markUnknown(id: claimed[1].id, reason: "timeout", now: clock.now)
            #expect(try await db.recordDelivery(provider: "twilio", providerMessageID: "SMa", outboxID: nil, state: .delivered,
                                                errorCode: nil, optedOut: false, now: clock.now))
            try await db.recordDelivery(provider: "twilio", providerMessageID: "SMa", outboxID: nil, state: .sent,
                                        errorCode: nil, optedOut: false, now: clock.now)
            #expect(try await db.outboxCounts()[.delivered] == 1)
            // The unknown one did reach Twilio: its callback carries our ref.
            #expect(try await db.recordDelivery(provider: "twilio", providerMessageID: "SMb", outboxID: claimed[1].id, state: .sent,
                                                errorCode: nil, optedOut: false, now: clock.now))
            #expect(try await db.outboxCounts()[.unknown] == nil)
            // A callback saying she opted out marks her so.
            try await db.recordDelivery(provider: "twilio", providerMessageID: "SMb", outboxID: nil, state: .failed,
                                        errorCode: "21610", optedOut: true, now: clock.now)
            #expect(try await db.contact(for: number)?.isOptedOut == true)
            #expect(try await !db.recordDelivery(provider: "twilio", providerMessageID: "SMzzz", outboxID: nil, state: .sent,
                                                 errorCode: nil, optedOut: false, now: clock.now))
        }
    }
}

@Suite struct GroupCommitTests {
    @Test func aBatchAppliesInOrderAndDedupesWithinItself() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.url.appendingPathComponent("t.sqlite").path, vault: PIIVault(keys: .generate()))
        let her = PhoneNumber("+447700900123")!, other = PhoneNumber("+447700900124")!
        func item(_ id: String, _ n: PhoneNumber, optOut: Bool = false) -> PendingInbound {
            PendingInbound(InboundEnvelope(provider: "twilio", messageID: id, from: n, to: nil)) { context, _ in
                EngineOutcome(replies: context.isOptedOut ? [] : [Reply(key: "k", text: "to \(id)")], effects: optOut ? [.optOut] : [],
                              conversation: nil, decision: .fallback(flow: "menu", timedOut: false))
            }
        }
        let results = try await db.handleInbound([item("A", her), item("B", her, optOut: true), item("A", her), item("C", her),
                                                  item("D", other)], now: Date())
        let outcomes = try results.map { try $0.get() }
        #expect(outcomes[2] == .duplicate)
        // C saw B's opt-out, because items apply in order inside the one transaction.
        guard case .handled(_, let c, _) = outcomes[3] else { Issue.record("C not handled"); return }
        #expect(c.replies.isEmpty)
        guard case .handled(_, let d, _) = outcomes[4] else { Issue.record("D not handled"); return }
        #expect(d.replies.map(\.text) == ["to D"])
        let counts = try await db.outboxCounts()
        #expect(counts[.cancelled] == 1)              // A's reply, cancelled by B's STOP
        #expect(counts[.queued] == 2)                 // B's confirmation and D's reply
    }
}
