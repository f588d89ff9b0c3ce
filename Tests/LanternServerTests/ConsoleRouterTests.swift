import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdOTP
import HummingbirdTesting
import LanternCore
import LanternServer
import LanternStore
import LanternTesting
import Logging
import Testing

/// The console's sign-in, on the router itself: an invite that works once, bcrypt and a code from
/// an authenticator app, lock-out, sessions that end, and a token on every form.
@Suite struct ConsoleRouterTests {
    struct Console {
        let lantern: Lantern
        let clock: TestClock
        let dir: TemporaryDirectory
    }

    func withConsole(twoFactor: Bool = true, configure: (inout LanternConfiguration) -> Void = { _ in },
                     _ body: @escaping @Sendable (Console, any TestClientProtocol) async throws -> Void) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var config = testConfiguration(directory: dir.url)
        config.adminPort = nil
        config.console.twoFactor = twoFactor
        configure(&config)
        let clock = TestClock(Date())
        let lantern = try Lantern.boot(configuration: config, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() },
                                       now: clock.nowFunction)
        try await lantern.application().test(.router) { client in try await body(Console(lantern: lantern, clock: clock, dir: dir), client) }
    }

    static func form(_ fields: [String: String]) -> ByteBuffer {
        ByteBuffer(string: fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            .joined(separator: "&"))
    }
    static let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// The code an authenticator app would show now, from the key the invite page showed.
    static func code(secret: String, at date: Date) -> String { String(format: "%06d", TOTP(secret: secret).compute(date: date)) }

    /// Invites `name`, accepts the invite as she would, and returns her code secret.
    func enrol(_ c: Console, _ client: any TestClientProtocol, name: String = "alice", role: AdminRole = .coordinator,
               password: String = "correct horse battery") async throws -> String {
        let secret = ConsoleAccess.newSecret()
        let token = try await c.lantern.database.inviteConsoleAccount(name: name, role: role, totpSecret: secret, by: "test", now: c.clock.now)
        try await client.execute(uri: "/console/invite/\(token)", method: .get) { r in
            #expect(r.status == .ok)
            let page = String(buffer: r.body)
            #expect(page.contains("Welcome, \(name)"))
            #expect(page.contains("otpauth://totp/Lantern"))
        }
        try await client.execute(uri: "/console/invite/\(token)", method: .post, headers: Self.formHeaders,
                                 body: Self.form(["password": password, "confirm": password, "code": Self.code(secret: secret, at: c.clock.now)])) { r in
            #expect(r.status == .seeOther)
            #expect(r.headers[.location] == "/console/sign-in?welcome=1")
        }
        return secret
    }

    /// Signs in and returns the session cookie ("lantern_console=…").
    func signIn(_ c: Console, _ client: any TestClientProtocol, name: String = "alice", password: String = "correct horse battery",
                secret: String) async throws -> String {
        try await client.execute(uri: "/console/sign-in", method: .post, headers: Self.formHeaders,
                                 body: Self.form(["name": name, "password": password, "code": Self.code(secret: secret, at: c.clock.now)])) { r in
            #expect(r.status == .seeOther)
            let cookie = try #require(r.headers[.setCookie])
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            #expect(cookie.contains("Path=/console"))
            return String(cookie.split(separator: ";")[0])
        }
    }

    func csrf(in page: String) -> String? {
        guard let r = page.range(of: "name=\"csrf\" value=\"") else { return nil }
        return String(page[r.upperBound...].prefix { $0 != "\"" })
    }

    @Test func anInviteWorksOnceThenSignInNeedsPasswordAndCode() async throws {
        try await withConsole { c, client in
            let secret = ConsoleAccess.newSecret()
            let token = try await c.lantern.database.inviteConsoleAccount(name: "alice", role: .coordinator, totpSecret: secret, by: "test",
                                                                          now: c.clock.now)
            // A short password, two that differ, a wrong code: refused, each saying why.
            for (fields, why) in [(["password": "short", "confirm": "short", "code": "000000"], "at least 12"),
                                  (["password": "correct horse battery", "confirm": "correct horse battery!", "code": "000000"], "not the same"),
                                  (["password": "correct horse battery", "confirm": "correct horse battery", "code": "12"], "That code doesn")] {
                try await client.execute(uri: "/console/invite/\(token)", method: .post, headers: Self.formHeaders, body: Self.form(fields)) { r in
                    #expect(r.status == .badRequest)
                    #expect(String(buffer: r.body).contains(why))
                }
            }
            try await client.execute(uri: "/console/invite/\(token)", method: .post, headers: Self.formHeaders,
                                     body: Self.form(["password": "correct horse battery", "confirm": "correct horse battery",
                                                      "code": Self.code(secret: secret, at: c.clock.now)])) { r in
                #expect(r.status == .seeOther)
            }
            // Once only.
            try await client.execute(uri: "/console/invite/\(token)", method: .get) { r in
                #expect(r.status == .notFound)
                #expect(String(buffer: r.body).contains("no longer works"))
            }
            // Without a session, the console sends her to sign in.
            try await client.execute(uri: "/console", method: .get) { r in
                #expect(r.status == .seeOther)
                #expect(r.headers[.location] == "/console/sign-in")
            }
            // A wrong password, a wrong code, an unknown name: the same answer, and the form keeps her name.
            for (name, password, code) in [("alice", "wrong password here", Self.code(secret: secret, at: c.clock.now)),
                                           ("alice", "correct horse battery", "123456"), ("mallory", "correct horse battery", "123456")] {
                try await client.execute(uri: "/console/sign-in", method: .post, headers: Self.formHeaders,
                                         body: Self.form(["name": name, "password": password, "code": code])) { r in
                    #expect(r.status == .unauthorized)
                    let page = String(buffer: r.body)
                    #expect(page.contains("Name, password or code not right."))
                    #expect(page.contains("value=\"\(name)\""))
                    #expect(!page.contains(password))
                    #expect(r.headers[.setCookie] == nil)
                }
            }
            let cookie = try await signIn(c, client, secret: secret)
            try await client.execute(uri: "/console", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .ok)
                let page = String(buffer: r.body)
                #expect(page.contains("<h1>Today</h1>"))
                #expect(page.contains("alice (coordinator)"))
                #expect(r.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'self'") == true)
                #expect(r.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(r.headers[.cacheControl] == "no-store")
            }
            // Every sign-in, and every failure, is in the audit log: who and what, never a password.
            let audit = try await c.lantern.database.auditLog(limit: 50).map(\.action)
            #expect(audit.contains("console.signed_in"))
            #expect(audit.filter { $0 == "console.sign_in_failed" }.count == 2)
            #expect(audit.contains("console.invite_accepted"))
        }
    }

    @Test func repeatedFailuresLockTheAccountForLongerEachTime() async throws {
        try await withConsole { c, client in
            let secret = try await enrol(c, client)
            for _ in 0..<5 {
                try await client.execute(uri: "/console/sign-in", method: .post, headers: Self.formHeaders,
                                         body: Self.form(["name": "alice", "password": "not the password", "code": "000000"])) { r in
                    #expect(r.status == .unauthorized)
                }
            }
            // Locked: even the right password and code wait.
            try await client.execute(uri: "/console/sign-in", method: .post, headers: Self.formHeaders,
                                     body: Self.form(["name": "alice", "password": "correct horse battery",
                                                      "code": Self.code(secret: secret, at: c.clock.now)])) { r in
                #expect(r.status == .tooManyRequests)
                #expect(String(buffer: r.body).contains("locked for 1 more minute"))
            }
            c.clock.advance(by: 61)
            _ = try await signIn(c, client, secret: secret)
        }
    }

    @Test func formsNeedTheSessionsTokenAndSessionsEndWhenIdleOrSignedOut() async throws {
        try await withConsole { c, client in
            let secret = try await enrol(c, client)
            let cookie = try await signIn(c, client, secret: secret)
            let page = try await client.execute(uri: "/console", method: .get, headers: [.cookie: cookie]) { String(buffer: $0.body) }
            let token = try #require(csrf(in: page))
            // Without the form's token, or with another, signing out is refused.
            for fields in [[:], ["csrf": "forged"]] {
                try await client.execute(uri: "/console/sign-out", method: .post, headers: Self.formHeaders + [.cookie: cookie],
                                         body: Self.form(fields)) { r in
                    #expect(r.status == .forbidden)
                    #expect(String(buffer: r.body).contains("did not come from the console"))
                }
            }
            // A form posted from another site is refused before anything else.
            try await client.execute(uri: "/console/sign-in", method: .post,
                                     headers: Self.formHeaders + [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"],
                                     body: Self.form(["name": "alice", "password": "x", "code": "1"])) { r in
                #expect(r.status == .forbidden)
            }
            // Idle for more than 30 minutes: signed out.
            c.clock.advance(by: 31 * 60)
            try await client.execute(uri: "/console", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .seeOther)
            }
            // Sign out everywhere ends every browser's session.
            let first = try await signIn(c, client, secret: secret)
            c.clock.advance(by: 31)   // the next code
            let second = try await signIn(c, client, secret: secret)
            let secondPage = try await client.execute(uri: "/console", method: .get, headers: [.cookie: second]) { String(buffer: $0.body) }
            try await client.execute(uri: "/console/sign-out-everywhere", method: .post, headers: Self.formHeaders + [.cookie: second],
                                     body: Self.form(["csrf": try #require(csrf(in: secondPage))])) { r in
                #expect(r.status == .seeOther)
                #expect(r.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
            for cookie in [first, second] {
                try await client.execute(uri: "/console", method: .get, headers: [.cookie: cookie]) { r in #expect(r.status == .seeOther) }
            }
            _ = token
        }
    }

    @Test func withTwoFactorOffThePasswordIsEnough() async throws {
        try await withConsole(twoFactor: false) { c, client in
            let token = try await c.lantern.database.inviteConsoleAccount(name: "bo", role: .admin, totpSecret: ConsoleAccess.newSecret(),
                                                                          by: "test", now: c.clock.now)
            try await client.execute(uri: "/console/invite/\(token)", method: .get) { r in
                #expect(!String(buffer: r.body).contains("otpauth://"))
            }
            try await client.execute(uri: "/console/invite/\(token)", method: .post, headers: Self.formHeaders,
                                     body: Self.form(["password": "a long enough password", "confirm": "a long enough password"])) { r in
                #expect(r.status == .seeOther)
            }
            try await client.execute(uri: "/console/sign-in", method: .post, headers: Self.formHeaders,
                                     body: Self.form(["name": "bo", "password": "a long enough password"])) { r in
                #expect(r.status == .seeOther)
                #expect(r.headers[.setCookie] != nil)
            }
        }
    }
    @Test func theKitQueueHidesAddressesUntilOneIsOpenedAndMarkingNeedsTheFormsToken() async throws {
        try await withConsole { c, client in
            // A kit request by post, as she would make it by text.
            let address = "Flat 3, 12 Example Street, Bristol BS5 6AA"
            _ = try await c.lantern.database.handleInbound(
                InboundEnvelope(provider: "console", messageID: "kit-1", from: PhoneNumber("+447700900123")!, to: nil), now: c.clock.now
            ) { _, _ in
                EngineOutcome(replies: [], effects: [.requestKit(KitOrder(ref: "K-ABCDEF", kind: "spray", method: "post", address: address))],
                              conversation: nil, decision: .keyword(flow: "kit", keyword: "KIT"))
            }
            let secret = try await enrol(c, client)
            let cookie = try await signIn(c, client, secret: secret)
            // Signed out: sent to sign in, nothing shown.
            try await client.execute(uri: "/console/kits/K-ABCDEF", method: .get) { r in
                #expect(r.status == .seeOther)
                #expect(!String(buffer: r.body).contains("Example Street"))
            }
            try await client.execute(uri: "/console/kits", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .ok)
                let page = String(buffer: r.body)
                #expect(page.contains("K-ABCDEF"))
                #expect(!page.contains("Example Street"))
            }
            let before = try await c.lantern.database.auditLog(limit: 50).count
            let page = try await client.execute(uri: "/console/kits/K-ABCDEF", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.cacheControl] == "no-store")
                return String(buffer: r.body)
            }
            #expect(page.contains("Flat 3, 12 Example Street"))
            #expect(page.contains("recorded in the audit log"))
            #expect(try await c.lantern.database.auditLog(limit: 50).count == before + 1)
            // Marking needs the page's token.
            try await client.execute(uri: "/console/kits/K-ABCDEF/mark", method: .post, headers: Self.formHeaders + [.cookie: cookie],
                                     body: Self.form(["status": "sent"])) { r in #expect(r.status == .forbidden) }
            let token = try #require(csrf(in: page))
            try await client.execute(uri: "/console/kits/K-ABCDEF/mark", method: .post, headers: Self.formHeaders + [.cookie: cookie],
                                     body: Self.form(["status": "sent", "csrf": token])) { r in
                #expect(r.status == .seeOther)
                #expect(r.headers[.location] == "/console/kits?marked=K-ABCDEF")
            }
            // Sent: out of the queue, and its address gone for good.
            try await client.execute(uri: "/console/kits", method: .get, headers: [.cookie: cookie]) { r in
                #expect(String(buffer: r.body).contains("No open kit requests"))
            }
            try await client.execute(uri: "/console/kits/K-ABCDEF", method: .get, headers: [.cookie: cookie]) { r in
                #expect(!String(buffer: r.body).contains("Example Street"))
            }
        }
    }
}

extension HTTPFields {
    static func + (a: HTTPFields, b: HTTPFields) -> HTTPFields {
        var out = a
        out.append(contentsOf: b)
        return out
    }
}
