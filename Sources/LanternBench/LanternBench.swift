import ArgumentParser
import Foundation
import LanternCore
import LanternServer
import LanternTesting
import Logging
#if canImport(Glibc)
import Glibc
#endif

@main
struct LanternBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "LanternBench",
        abstract: "Lantern's benchmarks. Run with -c release.",
        subcommands: [Webhooks.self, BroadcastBench.self, Components.self, SpotBench.self, ServeChild.self]
    )
}

/// Signed Twilio webhooks against a real `lantern serve` (this binary, as a child process, so
/// its memory is measured alone) on loopback, with replies going to a fake Twilio API.
struct Webhooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Webhook throughput, latency at a fixed rate, and server memory.")

    @Option(help: "Requests in the throughput phase.") var requests = 50_000
    @Option(help: "Concurrent keep-alive connections.") var connections = 16
    @Option(help: "Rate (requests/s) for the latency phase.") var rate = 1_000.0
    @Option(help: "Seconds of the latency phase.") var seconds = 10.0
    @Option(help: "Outbound send rate the server uses (segments/s).") var sendRate = 100.0
    @Option(help: "Which provider's webhooks: \(ProviderHarness.allCases.map(\.rawValue).joined(separator: ", ")).")
    var provider = "twilio"

    func run() async throws {
        guard let harness = ProviderHarness(rawValue: provider) else { throw ValidationError("unknown provider \(provider)") }
        let fake = try await FakeSMSAPI.start(logger: Logger(label: "fake") { _ in SwiftLogNoOpLogHandler() }, acceptance: harness.acceptance)
        let dir = try TemporaryDirectory(prefix: "lantern-bench")
        defer { dir.remove() }
        let token = "bench-auth-token"
        let child = try ChildProcess(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath(),
                                     ["serve-child", "--data-dir", dir.path, "--fake", fake.baseURL.absoluteString, "--token", token,
                                      "--send-rate", String(sendRate), "--provider", provider],
                                     environment: ProcessInfo.processInfo.environment, output: .pipe)
        defer { if child.isRunning { child.signal(SIGTERM) } }
        guard let line = String(data: child.readSomeOutput(), encoding: .utf8),
              let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "PORT ", with: "")) else {
            throw ValidationError("the server did not start")
        }
        let bodies = ["MENU", "NALOXONE", "1", "help", "what is this", "privacy"]
        func make(_ n: Int, prefix: String) -> [[UInt8]] {
            (0..<n).map { i in
                let s = harness.inbound(id: "SM\(prefix)\(String(format: "%030d", i))",
                                        from: "+447700900" + String(format: "%03d", i % 1000), text: bodies[i % bodies.count])
                return LoopbackLoad.post(path: s.path, port: port, headers: s.headers, body: s.body)
            }
        }
        print("Lantern webhook benchmark (\(provider)): \(ProcessInfo.processInfo.activeProcessorCount) cores, \(connections) connections, send rate \(Int(sendRate))/s")
        let load = LoopbackLoad(port: port, connections: connections)
        _ = load.run(make(2_000, prefix: "W"))      // warm-up

        let burst = load.run(make(requests, prefix: "T"))
        print(String(format: "throughput: %d requests in %.2f s = %.0f webhooks/s (p50 %.2f ms, p99 %.2f ms), %d failed, statuses %@",
                     burst.completed, burst.seconds, burst.requestsPerSecond, burst.percentile(0.5) / 1000,
                     burst.percentile(0.99) / 1000, burst.failed, "\(burst.statusCounts)"))

        let paced = load.run(make(Int(rate * seconds), prefix: "P"), rate: rate)
        print(String(format: "at %.0f/s for %.0f s: p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d failed, statuses %@",
                     rate, seconds, paced.percentile(0.5) / 1000, paced.percentile(0.99) / 1000,
                     (paced.latencies.max() ?? 0) / 1000, paced.failed, "\(paced.statusCounts)"))

        let status = (try? String(contentsOfFile: "/proc/\(child.pid)/status", encoding: .utf8)) ?? ""
        func kib(_ field: String) -> Int {
            status.split(separator: "\n").first { $0.hasPrefix(field) }.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        }
        print(String(format: "server memory: peak RSS %.1f MiB, RSS now %.1f MiB", Double(kib("VmHWM:")) / 1024, Double(kib("VmRSS:")) / 1024))
        let sent = await fake.requests().count
        print("replies sent to the fake provider during the run: \(sent) (paced at \(Int(sendRate))/s; the rest wait in the outbox)")
        child.terminate()
        await fake.stop()
    }
}

/// The server side of the benchmark: the same `Lantern` that `lantern serve` runs.
struct ServeChild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve-child", shouldDisplay: false)
    @Option var dataDir: String
    @Option var fake: String
    @Option var token: String
    @Option var sendRate: Double
    @Option var provider = "twilio"

    func run() async throws {
        umask(0o077)
        Lantern.shareThreadsWithTheServer()
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = .info
            return h
        }
        var config = testConfiguration(directory: URL(fileURLWithPath: dataDir), sendRate: sendRate)
        ProviderHarness(rawValue: provider)?.configure(&config, fakeAPI: URL(string: fake)!)
        config.port = 0
        config.retry = RetryPolicy()
        // Measure the whole path for every webhook: at thousands per second from 1,000 numbers
        // the abuse limits would otherwise answer most of them with silence.
        config.limits.messagesPerContactPerMinute = 1_000_000
        config.limits.allowedCountryCodes = ["44", Seed.syntheticCountryCode]
        config.limits.replySegmentsPerMinute = 1_000_000_000
        let lantern = try Lantern.boot(configuration: config, logger: Logger(label: "lantern"))
        try await lantern.run { port in
            FileHandle.standardOutput.write(Data("PORT \(port)\n".utf8))
        }
    }
}
