import ArgumentParser
import Foundation
import LanternCore
import LanternProviders
import LanternServer
import LanternStore
import LanternTesting
import Logging

/// Broadcast fan-out and sending: enqueue time for a large list, raw send throughput with the
/// rate limit off, and how exactly the pacer holds a configured rate.
struct BroadcastBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "broadcast",
                                                    abstract: "Enqueue time, send throughput and pacing accuracy for broadcasts.")

    @Option(help: "Subscribers in the list.") var subscribers = 100_000
    @Option(help: "Texts to send in the throughput phase.") var sendCount = 20_000
    @Option(help: "Concurrent sends in the throughput phase.") var concurrency = 32
    @Option(help: "Seconds to measure each pacing rate over (after a 2 s settle).") var pacingSeconds = 10.0

    func run() async throws {
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let fake = try await FakeSMSAPI.start(logger: quiet)
        let dir = try TemporaryDirectory(prefix: "lantern-bench")
        defer { dir.remove() }
        var config = testConfiguration(directory: dir.url, fakeAPI: fake.baseURL, sendRate: 0)
        config.maxConcurrentSends = concurrency
        let lantern = try Lantern.boot(configuration: config, logger: quiet)
        let db = lantern.database
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double { d.seconds }

        print("Lantern broadcast benchmark: \(ProcessInfo.processInfo.activeProcessorCount) cores")
        var t0 = clock.now
        try await Seed.subscribers(subscribers, areas: "BS5", database: db, provider: "twilio")
        print(String(format: "seeded %d subscribers in %.1f s", subscribers, seconds(t0.duration(to: clock.now))))

        let alice = AdminIdentity(name: "bench", role: .coordinator)
        let request = BroadcastRequest(text: "Benchmark alert: strong batch going round.", areas: ["BS5"], expiresInHours: 6, confirmed: true)
        t0 = clock.now
        let first = try await lantern.broadcasts.send(request, by: alice)
        try await lantern.broadcastRunner.runOnce()
        let enqueue = seconds(t0.duration(to: clock.now))
        let queued = try await db.broadcast(first.id)?.counts.queued ?? 0
        print(String(format: "enqueue: %d recipients written to the outbox in %.2f s (target < 5 s)", queued, enqueue))

        // Throughput, rate limit off.
        let sender = OutboxSender(database: db, providers: lantern.providers, pacer: SendPacer(rate: 0), retry: config.retry,
                                  maxConcurrent: concurrency, wakeUp: OutboxWakeUp(), logger: quiet)
        t0 = clock.now
        var sent = 0
        while sent < sendCount { sent += try await sender.sendBatch() }
        let throughput = Double(sent) / seconds(t0.duration(to: clock.now))
        print(String(format: "send throughput (no rate limit, %d concurrent): %d texts at %.0f msg/s (target >= 2,000)", concurrency, sent, throughput))
        _ = try await lantern.broadcasts.cancel(first.id, by: alice)

        // The same number of bare POSTs through URLSession alone (no store, no signing): the
        // ceiling the sender runs under, since outbound HTTP must stay on URLSession (libcurl).
        let transport = URLSessionTransport()
        let url = fake.baseURL.appendingPathComponent("2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json")
        let body = Data("To=%2B447700900123&From=%2B447700900999&Body=Benchmark".utf8)
        t0 = clock.now
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<sendCount {
                if i >= concurrency { await group.next() }
                group.addTask {
                    _ = try? await transport.send(HTTPRequestSpec(method: "POST", url: url, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                                  body: body))
                }
            }
        }
        let ceiling = Double(sendCount) / seconds(t0.duration(to: clock.now))
        print(String(format: "URLSession alone (%d concurrent, same fake): %.0f requests/s: the sender's ceiling here", concurrency, ceiling))

        for rate in [10.0, 100.0] {
            let second = try await lantern.broadcasts.send(request, by: alice)
            try await lantern.broadcastRunner.runOnce()
            let paced = OutboxSender(database: db, providers: lantern.providers, pacer: SendPacer(rate: rate), retry: config.retry,
                                     maxConcurrent: 8, wakeUp: OutboxWakeUp(), logger: quiet)
            let task = Task { try await paced.run() }
            try await Task.sleep(for: .seconds(2))
            let startCount = await fake.requests().count
            let start = clock.now
            try await Task.sleep(for: .seconds(pacingSeconds))
            let n = await fake.requests().count - startCount
            let measured = Double(n) / seconds(start.duration(to: clock.now))
            task.cancel()
            _ = try? await task.value
            _ = try await lantern.broadcasts.cancel(second.id, by: alice)
            print(String(format: "pacing at %.0f msg/s: measured %.2f msg/s over %.0f s (%+.1f%%; target within 5%%)",
                         rate, measured, pacingSeconds, (measured / rate - 1) * 100))
        }
        await fake.stop()
    }
}
