import Foundation
import LanternCore
import LanternProviders
import LanternStore
import LanternTesting
import Testing

/// An account problem is the service's, not hers: nobody is opted out, nothing is lost, the
/// operator is told.
extension AbuseAndHardeningTests {
    @Test func anAccountTheProviderRefusesPausesSendingAndLosesNothing() async throws {
        try await withRunningLantern(clock: TestClock(Date())) { env in
            await env.fake.script([.status(401, body: #"{"code": 20003, "message": "Authenticate"}"#)])
            try await env.text("help")
            #expect(try await env.db.waitForOutbox { $0[.queued] == 1 })
            try await env.text("naloxone", from: Self.other)
            try await Task.sleep(for: .milliseconds(500))
            // One refused attempt, then no more while paused: the second reply was never tried.
            #expect(await env.fake.requests().count == 1)
            #expect(try await env.db.outboxCounts()[.queued] == 2)
            #expect(env.logs.text.contains("error") && env.logs.text.contains("sending paused"))
            let ready = try await env.api("GET", "/readyz")
            #expect(ready.status == 200 && ready.body.contains("sending through twilio is paused"), "\(ready.body)")
            #expect(try await env.db.contact(for: PhoneNumber(Self.her)!)?.isOptedOut == false)

            // Five minutes on, the operator has fixed it: both go out, once each.
            env.clock.advance(by: 301)
            #expect(try await env.db.waitForOutbox { $0[.sent] == 2 })
            let accepted = await env.fake.requests().filter(\.wasAccepted)
            #expect(accepted.filter { $0.form["To"] == Self.her }.count == 1)
            #expect(accepted.filter { $0.form["To"] == Self.other }.count == 1)
            let after = try await env.api("GET", "/readyz")
            #expect(!after.body.contains("paused"))
        }
    }
}
