import Foundation
import LanternTesting
import Testing

/// Slow-body clients (a byte every few hundred milliseconds) must not starve webhooks.
extension AbuseAndHardeningTests {
    @Test func slowClientsAreCutOffAndCannotStarveAnEmergency() async throws {
        try await withLantern({ $0.requestDeadline = 1; $0.maxConnectionsPerAddress = 5; $0.maxConnections = 50 }) { env in
            let port = try #require(env.lantern.baseURL.port)
            let started = ContinuousClock.now
            // Five slow clients from one address: headers, then a trickle of body.
            let slow = try (0..<5).map { _ in try RawHTTPConnection(port: port) }
            for c in slow { c.send("POST /webhooks/twilio HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 400\r\n\r\nA") }
            try await Task.sleep(for: .milliseconds(200))
            // A sixth from that address is refused at once, not left hanging.
            let excess = try RawHTTPConnection(port: port)
            excess.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let refused = excess.readUntilClosed(timeout: 3)
            #expect(refused.closed && !refused.text.contains("200"), "\(refused.text)")
            #expect(ContinuousClock.now - started < .seconds(1), "refusing took \(ContinuousClock.now - started)")

            // Meanwhile an emergency from elsewhere is answered at once.
            let webhook = env.builder.inbound(sid: "SM-slow-\(UUID())", from: Self.other, body: "she isnt breathing")
            let answer = try RawHTTPConnection(port: port, from: "127.0.0.2").request("POST", webhook.path, headers: webhook.headers, body: webhook.body)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(200))")

            // The slow ones keep trickling, and are cut off at the deadline.
            for _ in 0..<4 {
                try await Task.sleep(for: .milliseconds(300))
                for c in slow { c.send("B") }
            }
            for c in slow { #expect(c.readUntilClosed(timeout: 3).closed) }
            #expect(ContinuousClock.now - started < .seconds(5))
            // Their slots are free again.
            let after = try RawHTTPConnection(port: port).request("GET", "/healthz", headers: [:], body: "")
            #expect(after.hasPrefix("HTTP/1.1 200"), "\(after.prefix(200))")
            #expect(try await env.textsTo(Self.other).count >= 1)
        }
    }
}
