import Foundation
import LanternCore
import LanternServer
import LanternStore
import LanternTesting
import Logging
import Testing

/// FORGET reaches the provider too: her messages' records there lead back to her number.
extension AbuseAndHardeningTests {
    @Test func forgetDeletesHerMessagesAtTwilioRetryingUntilDone() async throws {
        try await withRunningLantern(clock: TestClock(Date())) { env in
            try await env.text("naloxone")
            try await env.text("HELP")
            _ = try await env.allSent(to: Self.her)
            let incoming = TwilioWebhookBuilder.sid("her-first-text")
            await env.fake.received(incoming, from: Self.her)
            try await env.text("FORGET")
            _ = try await env.allSent(to: Self.her)

            // Nothing here leads to her any more: not even the provider's ids of her texts.
            let ids = try await env.db.providerMessageIDs()
            #expect(ids.isEmpty, "\(ids)")
            #expect(try await env.db.pendingProviderErasures() == 1)

            let runner = ProviderErasureRunner(database: env.db, providers: env.lantern.lantern.providers,
                                               now: env.clock.nowFunction, logger: Logger(label: "t"))
            // Not at once: FORGET's own confirmation must be delivered (and so deletable) first.
            #expect(try await runner.runOnce() == 0)
            env.clock.advance(by: 601)
            // Twilio refuses while a message is still being sent: tried again later, nothing lost.
            await env.fake.refuseDeletion(of: [incoming])
            #expect(try await runner.runOnce() == 0)
            #expect(try await env.db.pendingProviderErasures() == 1)
            await env.fake.refuseDeletion(of: [])
            #expect(try await runner.runOnce() == 0, "retried before its time")
            env.clock.advance(by: 61)
            #expect(try await runner.runOnce() == 1)
            let deleted = Set(await env.fake.deletedMessages())
            #expect(deleted.contains(incoming))
            #expect(deleted.count >= 4, "\(deleted)")   // her two answers, FORGET's confirmation and her own text
            #expect(try await env.db.pendingProviderErasures() == 0)
        }
    }
}
