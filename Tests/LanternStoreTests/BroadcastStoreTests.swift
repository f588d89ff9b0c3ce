import Foundation
import GRDB
import LanternCore
import LanternTesting
import Testing
@testable import LanternStore

@Suite struct BroadcastStoreTests {
    func withDatabase(_ body: (AppDatabase) async throws -> Void) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await body(try AppDatabase.open(path: dir.url.appendingPathComponent("b.sqlite").path, vault: PIIVault(keys: .generate())))
    }

    func draft(reach: Set<String>?, expires: TimeInterval = 3600, approval: Bool = false) -> BroadcastDraft {
        BroadcastDraft(areas: ["BS5"], reach: reach, texts: ["en-GB": "Alert\nReply STOP to end"], confirmed: true,
                       requiresApproval: approval, expiresAt: Date().addingTimeInterval(expires), createdBy: "alice")
    }

    @Test func fanOutIsBatchedResumableAndNeverDuplicates() async throws {
        try await withDatabase { db in
            try await Seed.subscribers(50, areas: "BS5", database: db, provider: "twilio")
            try await Seed.subscribers(10, areas: "M14", database: db, provider: "twilio", startingAt: 100)
            let id = try await db.createBroadcast(draft(reach: ["BS5", "*"]), now: Date())
            var batches = 0
            while try await db.fanOutNextBatch(size: 7, defaultProvider: "twilio", now: Date()) { batches += 1 }
            #expect(batches == 8 + 1)          // 50 in batches of 7, then the step that marks it sending
            // Run the whole fan-out again from the start, as a crash-and-replay would: nothing doubles.
            try await db.writer.write { try $0.execute(sql: "UPDATE broadcast SET status = 'fanning_out', fanout_cursor = ''") }
            while try await db.fanOutNextBatch(size: 7, defaultProvider: "twilio", now: Date()) {}
            let s = try #require(try await db.broadcast(id))
            #expect(s.counts.queued == 50)
            #expect(s.status == .sending)
        }
    }

    @Test func expiryStopsTheRestAndClearsTheWords() async throws {
        try await withDatabase { db in
            try await Seed.subscribers(20, areas: "BS5", database: db, provider: "twilio")
            let id = try await db.createBroadcast(draft(reach: ["BS5"], expires: 60), now: Date())
            while try await db.fanOutNextBatch(size: 100, defaultProvider: "twilio", now: Date()) {}
            let claimed = try await db.claimDue(limit: 5, now: Date())
            #expect(claimed.count == 5 && claimed.allSatisfy { $0.text == "Alert\nReply STOP to end" })
            for c in claimed { try await db.markAccepted(id: c.id, providerMessageID: "SM\(c.id)", now: Date()) }
            // An hour later: nothing more may be claimed, and settling expires the rest.
            let later = Date().addingTimeInterval(3600)
            #expect(try await db.claimDue(limit: 50, now: later).isEmpty)
            let settled = try await db.settleBroadcasts(now: later)
            #expect(settled.expired == 1)
            let s = try #require(try await db.broadcast(id))
            #expect(s.status == .expired && s.counts.sent == 5 && s.counts.skipped == 15 && s.texts.isEmpty)
        }
    }

    @Test func awaitingApprovalSendsNothingAndCountsByLanguage() async throws {
        try await withDatabase { db in
            try await Seed.subscribers(3, areas: "*", database: db, provider: "twilio")
            #expect(try await db.recipientCounts(reach: ["BS5", "*"], locales: ["en-GB"], now: Date()) == ["en-GB": 3])
            #expect(try await db.recipientCounts(reach: ["M14"], locales: ["en-GB"], now: Date()).isEmpty)
            let id = try await db.createBroadcast(draft(reach: nil, approval: true), now: Date())
            #expect(try await !db.fanOutNextBatch(size: 10, defaultProvider: "twilio", now: Date()))
            await #expect(throws: BroadcastError.approverIsCreator) { try await db.approveBroadcast(id, by: "alice", now: Date()) }
            try await db.approveBroadcast(id, by: "bola", now: Date())
            while try await db.fanOutNextBatch(size: 10, defaultProvider: "twilio", now: Date()) {}
            #expect(try await db.broadcast(id)?.counts.queued == 3)
            await #expect(throws: BroadcastError.notAwaitingApproval(.sending)) { try await db.approveBroadcast(id, by: "bola", now: Date()) }
        }
    }
}
