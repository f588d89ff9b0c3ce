import Foundation
import LanternCore
import LanternProviders
import LanternServer
import LanternStore
import LanternTesting
import Logging
import Testing

/// Each provider, and each number it sends from, is paced at its own rate: a slow route never
/// holds back a fast one, and nothing over a route's rate is lost (it waits its turn).
@Suite struct SendPacingTests {
    @Test func aSlowRouteNeverHoldsBackAFastOneAndNothingIsLost() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.url.appendingPathComponent("t.sqlite").path, vault: PIIVault(keys: .generate()))
        // Ten replies each through: Twilio from one number, Twilio from another, and Vonage.
        let routes = [("twilio", "+447700900991"), ("twilio", "+447700900992"), ("vonage", "+447700900993")]
        for (r, (provider, number)) in routes.enumerated() {
            for i in 0..<10 {
                let from = PhoneNumber("+4477009001\(r)\(i)")!
                _ = try await db.handleInbound(InboundEnvelope(provider: provider, messageID: "M\(r)-\(i)", from: from, to: number), now: Date()) { _, _ in
                    EngineOutcome(replies: [Reply(key: "k", text: "hi")], effects: [], conversation: nil, decision: .fallback(flow: "menu", timedOut: false))
                }
            }
        }
        let sent = RecordingProvider.Log()
        // Twilio numbers 1 segment a second each; Vonage fast.
        let sender = OutboxSender(database: db, providers: ["twilio": RecordingProvider(name: "twilio", log: sent), "vonage": RecordingProvider(name: "vonage", log: sent)],
                                  pacer: SendPacer(rate: 1, rates: ["vonage": 1_000]), retry: RetryPolicy(), maxConcurrent: 8,
                                  wakeUp: OutboxWakeUp(), logger: Logger(label: "t"))
        let started = ContinuousClock.now
        while await sent.count(route: "vonage|+447700900993") < 10, ContinuousClock.now - started < .seconds(20) {
            try await sender.sendBatch()
        }
        let took = ContinuousClock.now - started
        // Vonage's ten went at its own pace, while Twilio's numbers were still paying back.
        #expect(await sent.count(route: "vonage|+447700900993") == 10)
        let first = await sent.count(route: "twilio|+447700900991"), second = await sent.count(route: "twilio|+447700900992")
        // Each Twilio number has its own bucket: both sent, and neither more than its rate allows.
        let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
        let allowance = 1 + Int(seconds + 1)
        #expect(first >= 1 && second >= 1)
        #expect(first <= allowance && second <= allowance, "\(first), \(second) in \(took)")
        // One shared 1/s bucket could have let out at most one more than a text a second in that
        // time, however long a loaded machine made it take; separate buckets let out far more.
        #expect(Double(10 + first + second) > seconds + 2, "\(10 + first + second) sent in \(took)")
        // What waited is still queued, with no attempt used.
        let counts = try await db.outboxCounts()
        #expect(counts[.queued] == 20 - first - second, "\(counts)")
        #expect(counts[.failed] == nil || counts[.failed] == 0)
    }
}
