import Foundation
import Hummingbird
import LanternTesting
import Logging
import ServiceLifecycle
import Testing
@testable import LanternServer

/// An error nobody planned for must reach the client as a bare 500: its description (which
/// could hold a number or a path) only in the log, by type.
@Suite struct ErrorResponseTests {
    struct Leaky: Error, CustomStringConvertible {
        var description: String { "failed for +447700900123 at /var/lib/lantern/lantern.sqlite" }
    }

    @Test func unexpectedErrorsAreBare500sWithSecurityHeaders() async throws {
        let logs = LogCapture()
        let router = Router(context: LanternRequestContext.self)
        router.add(middleware: SecurityHeaders(logger: logs.logger()))
        router.get("/boom") { _, _ -> String in throw Leaky() }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logs.logger())
        let group = ServiceGroup(configuration: .init(services: [app], logger: logs.logger()))
        let task = Task { try await group.run() }
        var it = ports.makeAsyncIterator()
        let port = try #require(await it.next())
        let r = try await TestHTTPClient().request("GET", URL(string: "http://127.0.0.1:\(port)/boom")!)
        await group.triggerGracefulShutdown()
        try await task.value
        #expect(r.status == 500)
        #expect(r.body == "internal error; the server log has the details\n")
        #expect(r.headers["x-content-type-options"] == "nosniff")
        #expect(!r.body.contains("7700900123") && !logs.text.contains("7700900123"))
        #expect(logs.text.contains("Leaky"))
    }
}
