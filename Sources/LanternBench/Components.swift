import ArgumentParser
import Crypto
import Foundation
import Synchronization
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
    @Option(help: "Run only the engine part (for profiling).") var only: String?

    func run() async throws {
        let (library, _) = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).loadAndCheck()
        let engine = FlowEngine(library: library)
        let texts = ["MENU", "NALOXONE", "1", "help", "what is this", "privacy", "nalaxone please", "he is not breathing"]
        let clock = ContinuousClock()
        func report(_ name: String, _ n: Int, _ d: Duration) {
            let s = d.seconds
            print(String(format: "%-28@ %9.0f /s  (%.1f µs each)", name as NSString, Double(n) / s, s / Double(n) * 1e6))
        }
        var d = clock.measure {
            for i in 0..<count { _ = engine.handle(text: texts[i % texts.count], contact: ContactContext(), conversation: nil, now: Date()) }
        }
        report("engine.handle", count, d)
        if only == "engine" { return }
        if only == "store" { try await storeOnly(engine: engine, texts: texts, report: report); return }

        // The emergency recogniser runs first on every text: its cost over the labelled corpus
        // (every language, emergencies and everyday texts alike), and over a long text.
        let corpus = try EmergencyCorpus().texts.map(\.text)
        let recogniser = library.recogniser
        var found = 0
        d = clock.measure {
            for i in 0..<max(count, corpus.count * 20) where recogniser.recognise(corpus[i % corpus.count]).isEmergency { found += 1 }
        }
        report("recogniser (corpus, \(corpus.count) texts)", max(count, corpus.count * 20), d)
        print("  (\(found) of those passes found an emergency: the calls were not optimised away)")
        let long = String(repeating: "so i was at my mates house and we were talking about the weekend ", count: 10)
        d = clock.measure { for _ in 0..<2_000 { _ = recogniser.recognise(long) } }
        report("recogniser (640-char text)", 2_000, d)

        // Twilio first on its own (well-formed, signed, accepted webhooks), then every provider.
        let twilioHarness = ProviderHarness.twilio
        // The concrete adapter: Twilio's check is synchronous (only the JWT providers' is not).
        guard let twilio = twilioHarness.adapter() as? Twilio else { throw ValidationError("the Twilio harness did not build a Twilio adapter") }
        let reqs = (0..<1000).map { i in
            let w = twilioHarness.inbound(id: "bench-\(i)", from: "+447700900123", text: "MENU")
            return WebhookRequest(method: w.method, uri: w.path, headers: w.headers, body: Array(w.body.utf8))
        }
        var accepted = 0
        d = clock.measure { for i in 0..<count where (try? twilio.inboundMessage(from: reqs[i % reqs.count])) != nil { accepted += 1 } }
        report("twilio verify+parse", count, d)
        if accepted != count { print("  \(count - accepted) of \(count) were rejected: the figure above is not valid") }
        if only == "twilio" { return }

        // Every provider's verify+parse, on webhooks signed with its real algorithm.
        for harness in ProviderHarness.allCases {
            let adapter = harness.adapter()
            let n = min(count, 10_000)
            // Unique ids and nonces for each (Plivo refuses a nonce it has seen).
            let requests = (0..<n).map { i in
                let w = harness.inbound(id: "bench-\(i)", from: "+447700900123", text: "MENU")
                return WebhookRequest(method: w.method, uri: w.path, headers: w.headers, body: Array(w.body.utf8))
            }
            var failures = 0
            let took = await clock.measure { for r in requests where (try? await adapter.inboundMessage(from: r)) == nil { failures += 1 } }
            report("\(harness) verify+parse", n, took)
            if failures > 0 {
                let why: String
                do { _ = try await adapter.inboundMessage(from: requests[0]); why = "" } catch { why = "\(error)" }
                print("  \(failures) of \(n) were rejected (\(why)): the figure above is not valid")
            }
        }

        if ProcessInfo.processInfo.environment["BENCH_PIECES"] == "1" {
            let key = Curve25519.Signing.PrivateKey()
            let msg = Data(repeating: 65, count: 300)
            let sig = try key.signature(for: msg)
            let pub = key.publicKey
            report("ed25519 verify", 5000, clock.measure { for _ in 0..<5000 { _ = pub.isValidSignature(sig, for: msg) } })
            let json = Data(#"{"iss":"MessageBird","nbf":1625479200,"exp":1625479260,"jti":"x","url_hash":"abc"}"#.utf8)
            report("JSONSerialization small", 5000, clock.measure { for _ in 0..<5000 { _ = try? JSONSerialization.jsonObject(with: json) } })
            report("sha256 hex", 5000, clock.measure { for _ in 0..<5000 { _ = WebhookCrypto.sha256Hex(msg) } })
            report("hmac sha256", 5000, clock.measure { for _ in 0..<5000 { _ = WebhookCrypto.hmacSHA256(key: Data("k".utf8), msg) } })
        }

        try await storeOnly(engine: engine, texts: texts, report: report)
    }

    func storeOnly(engine: FlowEngine, texts: [String], report: (String, Int, Duration) -> Void) async throws {
        let clock = ContinuousClock()
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

        // As the server runs it: texts that arrive while a write is under way go in the next
        // transaction together (group commit), here 64 at a time. The engine's own time is
        // subtracted: this is what the store costs per text.
        let decided = (0..<count).map { i in engine.handle(text: texts[i % texts.count], contact: ContactContext(), conversation: nil, now: Date()) }
        let start3 = clock.now
        for chunk in stride(from: 0, to: count, by: 64) {
            let batch = (chunk..<min(chunk + 64, count)).map { i in
                PendingInbound(InboundEnvelope(provider: "twilio", messageID: "G\(i)", from: PhoneNumber("+447700900" + String(format: "%03d", i % 1000))!,
                                               to: "+447700900999")) { _, _ in decided[i] }
            }
            for r in try await db.handleInbound(batch, now: Date()) { _ = try r.get() }
        }
        report("store (group commit of 64)", count, start3.duration(to: clock.now))

        // The same, step by step, to see where a text's time goes.
        let steps = Mutex<[String: Duration]>([:])
        var prepareTime = Duration.zero
        let start4 = clock.now
        for chunk in stride(from: 0, to: count, by: 64) {
            let range = chunk..<min(chunk + 64, count)
            var prepared: [PreparedInbound] = []
            prepareTime += try clock.measure {
                prepared = try range.map { i in
                    try db.prepare(InboundEnvelope(provider: "twilio", messageID: "S\(i)", from: PhoneNumber("+447700900" + String(format: "%03d", i % 1000))!,
                                                   to: "+447700900999"))
                }
            }
            let before = clock.now
            _ = try await db.writeInbound(prepared, now: Date(), policy: InboundPolicy()) { tx, j in
                if j == 0 { steps.withLock { $0["(closure started)", default: .zero] += before.duration(to: ContinuousClock.now) } }
                let c = ContinuousClock()
                var local: [(String, Duration)] = []
                var t = c.now
                func lap(_ name: String) { let n = c.now; local.append((name, n - t)); t = n }
                _ = try tx.markSeen(); lap("markSeen")
                let (_, conversation) = try tx.loadContact(); lap("loadContact")
                let outcome = decided[range.lowerBound + j]
                for e in outcome.effects { try tx.apply(e) }; lap("effects")
                if conversation != nil || outcome.conversation != nil { try tx.saveConversation(outcome.conversation) }; lap("saveConversation")
                _ = try tx.enqueue(outcome.replies, kind: .reply, notBefore: nil, erased: false); lap("enqueue")
                steps.withLock { s in for (k, d) in local { s[k, default: .zero] += d } }
                if j == range.count - 1 { steps.withLock { $0["(last text done)", default: .zero] += before.duration(to: ContinuousClock.now) } }
            }
            steps.withLock { $0["(write returned)", default: .zero] += before.duration(to: clock.now) }
        }
        let total = start4.duration(to: clock.now)
        report("store steps, whole", count, total)
        report("  prepare (hash, seal)", count, prepareTime)
        for (k, d) in steps.withLock({ $0 }).sorted(by: { $0.key < $1.key }) { report("  " + k, count, d) }
    }
}
