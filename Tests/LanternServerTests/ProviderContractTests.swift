import Foundation
import LanternCore
import LanternServer
import LanternStore
import LanternTesting
import Testing

/// The same contract for every provider, end to end over loopback with a fake of its send API:
/// a signed text is answered through that provider; a retry is handled once; a forged or
/// tampered one is refused; delivery reports settle the outbox; an opted-out report stops
/// everything for her; and the text she sent is nowhere at rest or in the logs.
@Suite struct ProviderContractTests {
    static let her = LanternHarness.her

    @Test(arguments: ProviderHarness.allCases)
    func aSignedTextIsAnsweredOnceThroughItsOwnProvider(_ provider: ProviderHarness) async throws {
        let canary = "canary\(UUID().uuidString.prefix(6).lowercased())"
        try await withRunningLantern(provider: provider, canaries: [canary]) { env in
            #expect(env.lantern.lantern.providers.keys.sorted() == [provider.name], "nothing outside the adapter should know another provider")
            let text = provider.inbound(id: "in-1-\(canary.suffix(6))", from: Self.her, text: "naloxone \(canary)")
            let r = try await env.post(text)
            #expect(r.status == 200, "\(r.status) \(r.body)")
            let sent = await env.sent(to: Self.her, count: 1)
            #expect(sent.count == 1 && sent.first?.contains("spray or jab") == true, "\(sent)")
            #expect(await env.fake.requests().allSatisfy(provider.isAuthenticated))
            // The provider retries the same message (signed afresh, as a retry is): handled once.
            let retry = try await env.post(provider.inbound(id: "in-1-\(canary.suffix(6))", from: Self.her, text: "naloxone \(canary)"))
            #expect(retry.status == 200)
            try await env.settled()
            #expect(await env.sent(to: Self.her, count: 1).count == 1)
            #expect(try await env.db.contact(for: PhoneNumber(Self.her)!) != nil)
        }
    }

    @Test(arguments: ProviderHarness.allCases)
    func forgedTamperedAndUnsignedWebhooksAreRefused(_ provider: ProviderHarness) async throws {
        try await withRunningLantern(provider: provider) { env in
            #expect(env.lantern.lantern.providers.keys.sorted() == [provider.name], "nothing outside the adapter should know another provider")
            let good = provider.inbound(id: "in-forged", from: Self.her, text: "help")
            // The text changed after signing (in the body, or in the query of a GET webhook).
            let tampered = SignedWebhook(method: good.method, path: good.path.replacingOccurrences(of: "help", with: "STOP"),
                                         headers: good.headers, body: good.body.replacingOccurrences(of: "help", with: "STOP"))
            let refusedTampered = try await env.post(tampered)
            #expect(refusedTampered.status == 403, "\(refusedTampered.body)")
            let refusedUnsigned = try await env.post(provider.unsigned(good))
            #expect(refusedUnsigned.status == 403, "\(refusedUnsigned.body)")
            // Nothing was processed; the genuine one still is.
            let contact = try await env.db.contact(for: PhoneNumber(Self.her)!)
            #expect(contact == nil)
            let accepted = try await env.post(good)
            #expect(accepted.status == 200)
            #expect(await env.sent(to: Self.her, count: 1).count == 1)
        }
    }

    @Test(arguments: ProviderHarness.allCases)
    func deliveryReportsSettleTheOutboxAndOptOutsStopHer(_ provider: ProviderHarness) async throws {
        try await withRunningLantern(provider: provider) { env in
            #expect(env.lantern.lantern.providers.keys.sorted() == [provider.name], "nothing outside the adapter should know another provider")
            _ = try await env.post(provider.inbound(id: "in-a", from: Self.her, text: "help"))
            _ = await env.sent(to: Self.her, count: 1)
            try await env.db.waitForOutbox { ($0[.sent] ?? 0) >= 1 }
            let delivered = try await env.post(provider.status(messageID: provider.messageID(1), outboxID: 1, delivered: true))
            #expect(delivered.status == 200, "\(delivered.body)")
            #expect(try await env.db.outboxCounts()[.delivered] == 1)

            guard provider.reportsOptOuts else { return }
            _ = try await env.post(provider.inbound(id: "in-b", from: Self.her, text: "menu"))
            _ = await env.sent(to: Self.her, count: 2)
            try await env.db.waitForOutbox { ($0[.sent] ?? 0) >= 1 }
            let refused = try await env.post(provider.status(messageID: provider.messageID(2), outboxID: 2, delivered: false, optedOut: true))
            #expect(refused.status == 200, "\(refused.body)")
            #expect(try await env.db.contact(for: PhoneNumber(Self.her)!)?.isOptedOut == true)
        }
    }

    /// Plivo signs no timestamp: an exact copy of a signed request is refused by its nonce.
    @Test func aPlivoReplayIsRefusedByItsNonce() async throws {
        try await withRunningLantern(provider: .plivo) { env in
            #expect(env.lantern.lantern.providers.keys.sorted() == [ProviderHarness.plivo.name], "nothing outside the adapter should know another provider")
            let once = ProviderHarness.plivo.inbound(id: "in-replay", from: Self.her, text: "help")
            let first = try await env.post(once)
            #expect(first.status == 200)
            let replayed = try await env.post(once)
            #expect(replayed.status == 403 && replayed.body.contains("replay"), "\(replayed.body)")
        }
    }
}
