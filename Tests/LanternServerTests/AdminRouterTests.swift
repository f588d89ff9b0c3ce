import Foundation
import Hummingbird
import HummingbirdTesting
import LanternServer
import LanternStore
import LanternTesting
import Logging
import Testing

/// Who may call what on /admin, checked on the router itself (no sockets): the bearer token
/// through hummingbird-auth, the admin role through its role policy, errors as JSON.
@Suite struct AdminRouterTests {
    @Test func tokensAndRolesAreCheckedOnEveryAdminRoute() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var config = testConfiguration(directory: dir.url)
        config.adminPort = nil
        let lantern = try Lantern.boot(configuration: config, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        let admin = try await lantern.database.createAdminToken(name: "ada", role: .admin, now: Date())
        let coordinator = try await lantern.database.createAdminToken(name: "cy", role: .coordinator, now: Date())
        @Sendable func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

        try await lantern.application().test(.router) { client in
            // No token, a wrong one, another scheme: 401 with a Bearer challenge and words that say what to do.
            for headers: HTTPFields in [[:], bearer("lnt_wrong"), [.authorization: "Basic YTpi"]] {
                try await client.execute(uri: "/admin/broadcasts", method: .get, headers: headers) { r in
                    #expect(r.status == .unauthorized)
                    #expect(r.headers[.wwwAuthenticate] == "Bearer")
                    #expect(String(buffer: r.body).contains("a valid admin token is required"))
                }
            }
            // A coordinator may work with broadcasts, but not tokens or the audit log.
            try await client.execute(uri: "/admin/whoami", method: .get, headers: bearer(coordinator)) { r in
                #expect(r.status == .ok && String(buffer: r.body).contains("\"coordinator\""))
            }
            try await client.execute(uri: "/admin/broadcasts", method: .get, headers: bearer(coordinator)) { r in #expect(r.status == .ok) }
            for (method, uri) in [(HTTPRequest.Method.get, "/admin/tokens"), (.get, "/admin/audit"), (.delete, "/admin/tokens/ada")] {
                try await client.execute(uri: uri, method: method, headers: bearer(coordinator)) { r in
                    #expect(r.status == .forbidden, "\(uri)")
                    #expect(String(buffer: r.body).contains("needs an admin token"))
                }
            }
            // An admin may do both.
            try await client.execute(uri: "/admin/tokens", method: .get, headers: bearer(admin)) { r in
                #expect(r.status == .ok && String(buffer: r.body).contains("\"cy\""))
            }
            try await client.execute(uri: "/admin/audit", method: .get, headers: bearer(admin)) { r in #expect(r.status == .ok) }
            // Domain errors come back as statuses with the reason.
            try await client.execute(uri: "/admin/broadcasts/999", method: .get, headers: bearer(admin)) { r in
                #expect(r.status == .notFound)
            }
            try await client.execute(uri: "/admin/tokens/nobody", method: .delete, headers: bearer(admin)) { r in
                #expect(r.status == .notFound && String(buffer: r.body).contains("no live token named 'nobody'"))
            }
            // A value from a fixed list that isn't on it: the refusal says which would do.
            try await client.execute(uri: "/admin/tokens", method: .post, headers: bearer(admin) + [.contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"name": "rota", "role": "boss"}"#)) { r in
                #expect(r.status == .badRequest && String(buffer: r.body).contains("field 'role' must be one of: coordinator, admin"))
            }
            // A token made over the API is recorded as made by the admin who made it.
            try await client.execute(uri: "/admin/tokens", method: .post, headers: bearer(admin) + [.contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"name": "rota", "role": "coordinator"}"#)) { r in
                #expect(r.status == .created || r.status == .ok, "\(String(buffer: r.body))")
            }
            #expect(try await lantern.database.auditLog(limit: 20).contains { $0.actor == "ada" && $0.action == "token.created" && $0.subject == "rota" })
        }
    }
}
