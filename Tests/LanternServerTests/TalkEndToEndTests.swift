import Foundation
import LanternCore
import LanternServer
import LanternStore
import LanternTesting
import Testing

/// TALK through the running daemon: signed webhooks in, the fake provider out, a real SQLite file.
/// Every text either side sends (and both numbers) joins the harness's end-of-test scan of the
/// database, its WAL and the logs: relayed, never kept.
@Suite struct TalkEndToEndTests {
    static let peer = "+447700900801"
    static let otherPeer = "+447700900802"

    static func ref(in text: String?) -> String? {
        guard let text, let r = text.range(of: #"T-[0-9A-Z]{6}"#, options: .regularExpression) else { return nil }
        return String(text[r])
    }

    @Test func herWordsReachThePeersAndTheFirstAnswerReachesHerWithNeitherNumberAndNothingKept() async throws {
        let herWords = "canary-\(UUID().uuidString.prefix(8)) i used last night and im scared"
        let peerWords = "canary-\(UUID().uuidString.prefix(8)) you did the right thing texting"
        try await withRunningLantern(canaries: [herWords, peerWords],
                                     configure: { $0.talk.peerNumbers = [PhoneNumber(Self.peer)!, PhoneNumber(Self.otherPeer)!] }) { lantern in
            _ = try await lantern.text("can i talk to someone")
            #expect(await lantern.sent(to: LanternHarness.her).first?.contains("won't see your number") == true)
            let ref = try #require(Self.ref(in: await lantern.sent(to: Self.peer).first))
            #expect(Self.ref(in: await lantern.sent(to: Self.otherPeer).first) == ref)

            // Her words go to both peers, under the reference, without her number.
            _ = try await lantern.text(herWords)
            let relayed = await lantern.sent(to: Self.peer, count: 2).last
            #expect(relayed == "\(ref): \(herWords)")
            #expect(await lantern.sent(to: Self.otherPeer, count: 2).last == "\(ref): \(herWords)")

            // The first peer to answer takes it: she gets exactly those words from the service's
            // number; the other peer is told. A replayed webhook is processed once.
            let answer = lantern.provider.inbound(id: "peer-answer-1", from: Self.peer, text: "\(ref) \(peerWords)")
            #expect(try await lantern.post(answer).status == 200)
            #expect(try await lantern.post(answer).status == 200)
            #expect(await lantern.sent(to: LanternHarness.her, count: 2).last == peerWords)
            #expect(await lantern.sent(to: Self.otherPeer, count: 3).last?.contains("with another peer") == true)
            _ = try await lantern.text("\(ref) I can help too", from: Self.otherPeer)
            #expect(await lantern.sent(to: Self.otherPeer, count: 4).last?.contains("your text was not sent") == true)

            // Now only the peer who answered gets her words.
            _ = try await lantern.text("thank you so much for answering me")
            #expect(await lantern.sent(to: Self.peer, count: 3).last?.contains("thank you so much") == true)
            _ = try await lantern.text("bye")
            #expect(await lantern.sent(to: Self.peer, count: 4).last == "\(ref) has ended: she closed the chat.")
            try await lantern.settled()
            #expect(try await lantern.allSent(to: LanternHarness.her).filter { $0 == peerWords }.count == 1)
            #expect(try await lantern.allSent(to: Self.otherPeer).filter { $0.contains("thank you so much") }.isEmpty)
            // Coordinators see counts only.
            let counts = try await lantern.db.talkCounts(since: "2000-01-01")
            #expect(counts["opened"] == 1 && counts["relayed_in"] == 2 && counts["relayed_out"] == 1 && counts["closed"] == 1 && counts["open"] == 0)
            // Nothing either side wrote is at rest once relayed (the harness scans again at the end).
            #expect(try await lantern.atRest(herWords).isEmpty)
            #expect(try await lantern.atRest(peerWords).isEmpty)
        }
    }

    @Test func aThreadHasADailyLimitAndAPeersBlockStopsTheNumberStartingAnother() async throws {
        try await withRunningLantern(configure: {
            $0.talk.peerNumbers = [PhoneNumber(Self.peer)!]
            $0.talk.perThreadPerDay = 2
        }) { lantern in
            _ = try await lantern.text("TALK")
            let ref = try #require(Self.ref(in: await lantern.sent(to: Self.peer).first))
            for n in 1...4 { _ = try await lantern.text("message number \(n) for the peer") }
            // Two relayed, one notice to her, nothing more.
            let toHer = await lantern.sent(to: LanternHarness.her, count: 2)
            #expect(toHer.last?.contains("a lot of messages today") == true)
            try await lantern.settled()
            #expect(try await lantern.allSent(to: Self.peer).filter { $0.hasPrefix("\(ref): message number") }.count == 2)
            #expect(try await lantern.allSent(to: LanternHarness.her).count == 2)

            _ = try await lantern.text("\(ref) BLOCK", from: Self.peer)
            #expect(await lantern.sent(to: LanternHarness.her, count: 3).last?.contains("closed this chat") == true)
            _ = try await lantern.text("TALK")
            #expect(await lantern.sent(to: LanternHarness.her, count: 4).last?.contains("nobody to talk to") == true)
            // The block is in the audit log by reference, never by number.
            let audit = try await lantern.db.auditLog(limit: 10)
            #expect(audit.contains { $0.action == "talk.blocked" && $0.subject == ref })
        }
    }
}
