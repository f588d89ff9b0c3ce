import ArgumentParser
import Foundation
import LanternCore
import LanternProviders
import LanternServer
import LanternStore
import LanternTesting
import Logging

/// Where a webhook's time goes, piece by piece, in this process.
struct Components: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Per-component costs: engine, signature check, store transaction.")
    @Option var count = 20_000

    func run() async throws {
        let (library, _) = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).loadAndCheck()
        let engine = FlowEngine(library: library)
        let texts = ["MENU", "NALOXONE", "1", "help", "what is this", "privacy", "nalaxone please", "he is not breathing"]
        let clock = ContinuousClock()
        func report(_ name: String, _ n: Int, _ d: Duration) {
            let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            print(String(format: "%-28@ %9.0f /s  (%.1f µs each)", name as NSString, Double(n) / s, s / Double(n) * 1e6))
        }
        var d = clock.measure {
            for i in 0..<count { _ = engine.handle(text: texts[i % texts.count], contact: ContactContext(), conversation: nil, now: Date()) }
        }
        report("engine.handle", count, d)

        let builder = TwilioWebhookBuilder(publicBaseURL: "https://bench.example.org", authToken: "t")
        let twilio = Twilio(configuration: TwilioConfiguration(accountSID: "AC", authToken: "t", fromNumber: "+447700900999",
                                                               publicBaseURL: URL(string: "https://bench.example.org")!),
                            transport: URLSessionTransport())
        let reqs = (0..<1000).map { i in
            let s = builder.inbound(sid: "SM\(i)", from: "+447700900123", body: "MENU")
            return WebhookRequest(method: "POST", uri: s.path, headers: s.headers, body: Array(s.body.utf8))
        }
        d = clock.measure { for i in 0..<count { _ = try? twilio.inboundMessage(from: reqs[i % reqs.count]) } }
        report("twilio verify+parse", count, d)

        let dir = try TemporaryDirectory(prefix: "lantern-bench")
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.url.appendingPathComponent("b.sqlite").path, vault: PIIVault(keys: .generate()))
        let start = clock.now
        for i in 0..<count {
            let env = InboundEnvelope(provider: "twilio", messageID: "SM\(i)", from: PhoneNumber("+447700900" + String(format: "%03d", i % 1000))!, to: nil)
            _ = try await db.handleInbound(env, now: Date()) { c, conv in
                engine.handle(text: texts[i % texts.count], contact: c, conversation: conv, now: Date())
            }
        }
        report("store.handleInbound (serial)", count, start.duration(to: clock.now))

        let start2 = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<16 {
                group.addTask {
                    for i in stride(from: w, to: count, by: 16) {
                        let env = InboundEnvelope(provider: "twilio", messageID: "C\(i)", from: PhoneNumber("+447700900" + String(format: "%03d", i % 1000))!, to: nil)
                        _ = try await db.handleInbound(env, now: Date()) { c, conv in
                            engine.handle(text: texts[i % texts.count], contact: c, conversation: conv, now: Date())
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        report("store.handleInbound (x16)", count, start2.duration(to: clock.now))
    }
}
