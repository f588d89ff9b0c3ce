import Foundation
import LanternServer
import LanternTesting
import Logging
import Testing

/// The end-to-end harness's scan is what every end-to-end test leans on to prove nothing she
/// sent is kept: it must fail a test that leaves a body, a canary or a number behind.
@Suite struct HarnessTests {
    @Test func aCanaryLeftInTheDataDirectoryFailsTheTest() async throws {
        await #expect(throws: CanaryLeak.self) {
            try await withRunningLantern { env in
                let secret = env.canary()
                try Data("stray \(secret) bytes".utf8).write(to: env.dir.url.appendingPathComponent("stray.tmp"))
            }
        }
    }

    @Test func aBodySheSentFoundInTheLogsFailsTheTest() async throws {
        let body = "is the brown round here strong"
        await #expect(throws: CanaryLeak.self) {
            try await withRunningLantern { env in
                try await env.text(body)
                env.logs.logger().info("handled \(body)")
            }
        }
    }

    @Test func aNumberInTheLogsFailsTheTestEvenOneThatNeverTexted() async throws {
        let error = await #expect(throws: CanaryLeak.self) {
            try await withRunningLantern { env in
                env.logs.logger().info("sending", metadata: ["to": "+447700900321"])
            }
        }
        #expect(error?.found.contains { $0.hasPrefix("a number in the logs") } == true)
    }

    @Test func aCleanRunPassesAndSeesWhatWasSent() async throws {
        let sent = try await withRunningLantern { env in
            try await env.text("naloxone \(env.canary())")
            return await env.sent(to: LanternHarness.her)
        }
        #expect(sent.count == 1 && sent[0].contains("spray or jab"))
    }
}
