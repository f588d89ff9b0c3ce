import Foundation
import LanternCore
import LanternProviders
import LanternStore
import LanternTesting
import Testing

/// Captured, correctly signed webhooks sent again in every way an attacker could.
extension EndToEndTests {
    @Test func aTwilioRequestReSplitToANewMessageSidIsNotANewMessage() async throws {
        let secret = canary()
        try await withRunningLantern(canaries: [secret]) { env in
            let sid = TwilioWebhookBuilder.sid("SM-captured")
            let original = env.builder.inbound(sid: sid, from: Self.her, body: "menu \(secret)")
            #expect(try await env.post(original).status == 200)
            await env.fake.waitForRequests(1)
            // Twilio signs names and values with no separators: moving "NumMedia" into the
            // MessageSid value keeps the signature valid.
            let resplit = original.body
                .replacingOccurrences(of: "MessageSid=\(sid)&NumMedia=0", with: "MessageSid=\(sid)NumMedia0")
            #expect(resplit != original.body)
            let forged = TwilioWebhookBuilder.Signed(path: original.path, headers: original.headers, body: resplit)
            let r = try await env.post(forged)
            #expect(r.status == 400, "\(r.status) \(r.body)")
            #expect(r.body.contains("MessageSid does not have the form Twilio gives it"))
            // A re-split that keeps every value's shape is still the same signature: handled once.
            let sameShape = original.body.replacingOccurrences(of: "&SmsStatus=received&To=", with: "&SmsStatus=receive&dTo=")
            if sameShape != original.body {
                _ = try await env.post(TwilioWebhookBuilder.Signed(path: original.path, headers: original.headers, body: sameShape))
            }
            try await env.settled()
            #expect(await env.fake.requests().count == 1, "a replay was answered")
        }
    }

    @Test func herEarlierTextsReplayedAfterForgetDoNotBringHerBack() async throws {
        try await withRunningLantern { env in
            let alerts = env.builder.inbound(sid: "SM-alerts", from: Self.her, body: "ALERTS BS5")
            let yes = env.builder.inbound(sid: "SM-yes", from: Self.her, body: "YES")
            #expect(try await env.post(alerts).status == 200)
            #expect(try await env.post(yes).status == 200)
            #expect(try await env.lantern.database.contact(for: PhoneNumber(Self.her)!)?.subscriptions == ["BS5"])
            #expect(try await env.post(env.builder.inbound(sid: "SM-forget", from: Self.her, body: "FORGET")).status == 200)
            #expect(try await env.lantern.database.contact(for: PhoneNumber(Self.her)!) == nil)
            try await env.lantern.database.waitUntilOutboxIdle()
            let answered = await env.fake.requests().count
            #expect(try await env.post(alerts).status == 200)
            #expect(try await env.post(yes).status == 200)
            try await env.settled()
            #expect(try await env.lantern.database.contact(for: PhoneNumber(Self.her)!) == nil, "a replay re-created her")
            #expect(await env.fake.requests().count == answered)
        }
    }
}
