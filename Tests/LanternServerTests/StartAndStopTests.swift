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
        let r = try await run(["serve", "--data-dir", dir.path, "--port", "\(port)"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("port \(port) is in use"), "\(r.stderr)")
        // It used to hang about a minute (deaf to SIGTERM); the bound leaves room for a debug
        // binary starting up while the whole suite runs on two cores.
        #expect(ContinuousClock.now - started < .seconds(30), "took \(ContinuousClock.now - started) to give up")
    }
}

@Suite struct ServicesStopPromptlyTests {
    @Test func everyBackgroundServiceStopsWhenCancelled() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let lantern = try Lantern.boot(configuration: testConfiguration(directory: dir.url), logger: Logger(label: "t"))
        // Everything but the HTTP listeners (by name: the live TALK streams are listed after them).
        for service in lantern.services() where !String(describing: service).contains("Application") {
            let task = Task { try await service.run() }
            try await Task.sleep(for: .milliseconds(100))
            let asked = ContinuousClock.now
            task.cancel()
            _ = try? await task.value
            // Alone each stops in milliseconds; while the whole suite keeps both cores' task
            // threads busy, a stop has been seen to take 21 s. The bound still catches a loop
            // deaf to cancellation (housekeeping would wait out its 60 s tick).
            #expect(ContinuousClock.now - asked < .seconds(45), "\(service) took \(ContinuousClock.now - asked) to stop")
        }
    }
}

@Suite struct OperatorMistakesTests {
    @Test func readyzSaysNotReadyWhenTheDiskIsNearlyFull() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var config = testConfiguration(directory: dir.url)
        let client = TestHTTPClient()
        let lantern = try await RunningLantern.start(configuration: config, logger: Logger(label: "t"))
        #expect(try await client.request("GET", lantern.baseURL.appendingPathComponent("readyz")).status == 200)
        try await lantern.stop()
        // No test can fill a real disk safely; asking for more free space than any disk has is the same to /readyz.
        config.minFreeDiskBytes = .max
        let full = try await RunningLantern.start(configuration: config, logger: Logger(label: "t"))
        let r = try await client.request("GET", full.baseURL.appendingPathComponent("readyz"))
        #expect(r.status == 503)
        #expect(r.body.contains("disk nearly full"), "\(r.body)")
        try await full.stop()
    }

    @Test func aDataDirectoryOthersCanWriteToIsRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let data = dir.url.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        chmod(data.path, 0o777)   // whatever the umask said
        #expect {
            try Lantern.boot(configuration: testConfiguration(directory: data), logger: Logger(label: "t"))
        } throws: { error in
            "\(error)".contains("has mode 777") && "\(error)".contains("chmod 700")
        }
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("keys.json").path))
        chmod(data.path, 0o700)
        _ = try Lantern.boot(configuration: testConfiguration(directory: data), logger: Logger(label: "t"))
    }
}
