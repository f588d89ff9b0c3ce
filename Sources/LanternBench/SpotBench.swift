import ArgumentParser
import Foundation
import LanternServer
import LanternStore
import LanternTesting
import Logging

/// Thousands of check-ins falling due in the same minute: each must be asked "Are you OK?"
/// within seconds of its time. Real clock, real SQLite file, the timer stepping every second as
/// the daemon's does; a step counts as fired when its text is in the outbox (sending is the
/// outbox's own benchmark).
struct SpotBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spot",
                                                    abstract: "Check-ins due in one minute: how late each fires (target: all within 5 s).")

    @Option(help: "Check-ins falling due.") var count = 10_000
    @Option(help: "Seconds their due times are spread over.") var window = 60.0

    func run() async throws {
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let dir = try TemporaryDirectory(prefix: "lantern-spot-bench")
        defer { dir.remove() }
        let lantern = try Lantern.boot(configuration: testConfiguration(directory: dir.url, fakeAPI: nil, sendRate: 0), logger: quiet)
        print("Lantern check-in benchmark: \(ProcessInfo.processInfo.activeProcessorCount) cores")
        let clock = ContinuousClock()
        var t0 = clock.now
        // Due from 10 s from now, spread evenly over the window.
        let start = Date().addingTimeInterval(10 + Double(count) / 5_000)
        let (count, window) = (self.count, self.window)
        try await Seed.checkIns(count, due: { start.addingTimeInterval(window * Double($0) / Double(count)) },
                                database: lantern.database, provider: "twilio")
        print(String(format: "started %d check-ins in %.1f s, due over %.0f s", count, (clock.now - t0).seconds, window))

        var lateness: [TimeInterval] = []
        t0 = clock.now
        let deadline = start.addingTimeInterval(window + 60)
        // The timer's own loop: a step each second.
        while lateness.count < count && Date() < deadline {
            lateness += try await lantern.checkIns.runOnce()
            try await Task.sleep(for: .seconds(1))
        }
        lateness.sort()
        func p(_ q: Double) -> Double { lateness.isEmpty ? .nan : lateness[min(lateness.count - 1, Int(Double(lateness.count) * q))] }
        print(String(format: "fired %d of %d; lateness p50 %.2f s, p99 %.2f s, max %.2f s (target: all within 5 s)",
                     lateness.count, count, p(0.5), p(0.99), lateness.last ?? .nan))
        let queued = try await lantern.database.outboxCounts()
        print("outbox: \(queued)")
    }
}
