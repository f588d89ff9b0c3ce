import Foundation
import LanternTesting
import Testing

/// Slow-body clients (a byte every few hundred milliseconds) must not starve webhooks.
extension AbuseAndHardeningTests {
    @Test func slowClientsAreCutOffAndCannotStarveAnEmergency() async throws {
        try await withRunningLantern(clock: TestClock(Date()), configure: { $0.requestDeadline = 3; $0.maxConnectionsPerAddress = 5; $0.maxConnections = 50 }) { env in
            let port = try #require(env.lantern.baseURL.port)
            let started = ContinuousClock.now
            // Five slow clients from one address: headers, then a trickle of body.
            let slow = try (0..<5).map { _ in try RawHTTPConnection(port: port) }
            for c in slow { c.send("POST /webhooks/twilio HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 400\r\n\r\nA") }
            try await Task.sleep(for: .milliseconds(200))
            // A sixth from that address is refused at once, not left hanging.
            let excess = try RawHTTPConnection(port: port)
            excess.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            // (Closed with no answer, though it sent a whole request; bounds are generous because
            // the test suite runs in parallel on two cores.)
            let refused = await excess.readUntilClosed(timeout: 10)
            #expect(refused.closed && !refused.text.contains("200"), "\(refused.text)")

            // Meanwhile an emergency from elsewhere is answered at once.
            let webhook = env.builder.inbound(sid: "SM-slow-\(UUID())", from: Self.other, body: "she isnt breathing")
            let answer = try await RawHTTPConnection(port: port, from: "127.0.0.2").request("POST", webhook.path, headers: webhook.headers, body: webhook.body)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(200))")

            // The slow ones keep trickling, and are cut off at the deadline (3 s: long enough that
            // none is cut off before the sixth is refused, even on a loaded machine).
            for _ in 0..<4 {
                try await Task.sleep(for: .milliseconds(300))
                for c in slow { c.send("B") }
            }
            // (Generous again: under a full parallel run the timer that cuts them off can be late.)
            for c in slow { #expect(await c.readUntilClosed(timeout: 20).closed) }
            #expect(ContinuousClock.now - started < .seconds(40))
            // Their slots are free again.
            let after = try await RawHTTPConnection(port: port).request("GET", "/healthz", headers: [:], body: "")
            #expect(after.hasPrefix("HTTP/1.1 200"), "\(after.prefix(200))")
            #expect(try await env.allSent(to: Self.other).count >= 1)
        }
    }
}

extension AbuseAndHardeningTests {
    @Test func guessingAdminTokensIsCountedLoggedAndBackedOff() async throws {
        try await withRunningLantern(clock: TestClock(Date())) { env in
            var statuses: [Int] = []
            for n in 0..<40 { statuses.append(try await env.api("GET", "/admin/whoami", token: "lnt_guess\(n)").status) }
            #expect(statuses.prefix(10).allSatisfy { $0 == 401 })
            #expect(statuses.dropFirst(10).allSatisfy { $0 == 429 }, "\(statuses)")
            // Even the right token waits out the minute from that address.
            let blocked = try await env.api("GET", "/admin/broadcasts")
            #expect(blocked.status == 429 && blocked.headers["retry-after"] != nil)
            #expect(env.logs.text.contains("admin authentication failed"))
            #expect(!env.logs.text.contains("lnt_guess"), "a guessed token is in the log")
            env.clock.advance(by: 61)
            #expect(try await env.api("GET", "/admin/broadcasts").status == 200)
        }
    }
}
