import Foundation
import LanternServer
import LanternStore
import LanternTesting
import Logging
import Testing

/// An operator's mistakes at start must fail at once and say why; nothing may hold up a stop.
extension CommandLineTests {
    @Test func servingOnAPortInUseFailsAtOnceAndSaysSo() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try await FakeSMSAPI.start()    // something already listening
        defer { Task { await fake.stop() } }
        let port = try #require(fake.baseURL.port)
        let started = ContinuousClock.now
        let r = try run(["serve", "--data-dir", dir.path, "--port", "\(port)"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("port \(port) is in use"), "\(r.stderr)")
        #expect(ContinuousClock.now - started < .seconds(10), "took \(ContinuousClock.now - started) to give up")
    }
}

@Suite struct ServicesStopPromptlyTests {
    @Test func everyBackgroundServiceStopsWhenCancelled() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let lantern = try Lantern.boot(configuration: testConfiguration(directory: dir.url), logger: Logger(label: "t"))
        // Everything but the HTTP listeners: their loops wait a minute between rounds.
        for service in lantern.services().dropLast() {
            let task = Task { try await service.run() }
            try await Task.sleep(for: .milliseconds(100))
            let asked = ContinuousClock.now
            task.cancel()
            _ = try? await task.value
            #expect(ContinuousClock.now - asked < .seconds(2), "\(service) took \(ContinuousClock.now - asked) to stop")
        }
    }
}
