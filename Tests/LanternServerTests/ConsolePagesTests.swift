import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LanternCore
import LanternProviders
import LanternServer
import LanternStore
import LanternTesting
import Testing

/// The console's working pages on the router: composing an alert with its preview, approvals,
/// one broadcast and cancelling it, reports, the admin pages, and who may open and post what.
extension ConsoleRouterTests {
    func get(_ client: any TestClientProtocol, _ uri: String, cookie: String? = nil) async throws -> (HTTPResponse.Status, String, HTTPFields) {
        try await client.execute(uri: uri, method: .get, headers: cookie.map { [.cookie: $0] } ?? [:]) { r in
            (r.status, String(buffer: r.body), r.headers)
        }
    }

    func post(_ client: any TestClientProtocol, _ uri: String, cookie: String?, _ fields: [(String, String)]) async throws -> (HTTPResponse.Status, String, HTTPFields) {
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: Self.formHeaders + (cookie.map { [.cookie: $0] } ?? [:]),
                                        body: ByteBuffer(string: body)) { r in (r.status, String(buffer: r.body), r.headers) }
    }

    /// Signs `name` in with `role` and returns her cookie and form token.
    func session(_ c: Console, _ client: any TestClientProtocol, name: String, role: AdminRole = .coordinator) async throws -> (cookie: String, csrf: String) {
        let secret = try await enrol(c, client, name: name, role: role)
        let cookie = try await signIn(c, client, name: name, secret: secret)
        let (_, page, _) = try await get(client, "/console", cookie: cookie)
        return (cookie, try #require(csrf(in: page)))
    }

    @Test func anAlertIsComposedPreviewedInEveryLanguageAndVariantAndSubmittedForApproval() async throws {
        try await withConsole { c, client in
            try await Seed.subscribers(3, areas: "BS5", database: c.lantern.database, provider: "twilio", now: c.clock.now)
            let alice = try await session(c, client, name: "alice")
            let (status, form, _) = try await get(client, "/console/alerts/new", cookie: alice.cookie)
            #expect(status == .ok)
            #expect(form.contains("Bristol") && form.contains("All areas") && form.contains("nitazenes"))
            #expect(form.contains("(3 subscribed)"))  // Bristol includes BS5
            #expect(form.contains("/console/console.js"))

            var fields: [(String, String)] = [("csrf", alice.csrf), ("area", "@bristol"), ("districts", "BS6"), ("words", "own"),
                                              ("text.en-GB", "Strong brown going round"), ("text.en-GB~discreet", "Something strong going round"),
                                              ("text.pl", "Mocny towar krąży"), ("confirmed", "yes"), ("hours", "6")]
            // Preview: exactly what each language and variant gets, the character that forces
            // UCS-2, what it costs and how long it takes.
            let (ps, preview, _) = try await post(client, "/console/alerts/new", cookie: alice.cookie, fields + [("action", "preview")])
            #expect(ps == .ok)
            #expect(preview.contains("Confirmed: Strong brown going round"))
            #expect(preview.contains("Something strong going round"))
            #expect(preview.contains("Reply STOP to end"))
            #expect(preview.contains("UCS-2") && preview.contains("because of “ą”"))
            #expect(preview.contains("£"))
            #expect(preview.contains("Time to send"))
            #expect(preview.contains("discreet"))
            // The form comes back as it was typed.
            #expect(preview.contains(">Mocny towar krąży</textarea>"))
            #expect(preview.contains("value=\"BS6\""))
            #expect(preview.contains("value=\"@bristol\" checked"))

            // The live preview is the same part of the page on its own.
            let (ls, live, _) = try await post(client, "/console/alerts/preview", cookie: alice.cookie, fields)
            #expect(ls == .ok)
            #expect(live.hasPrefix("<div id=\"preview\"") && !live.contains("<html") && live.contains("Strong brown going round"))

            // Something missing: said plainly, and nothing typed is lost.
            let noChoice = fields.filter { $0.0 != "confirmed" }
            let (ms, missing, _) = try await post(client, "/console/alerts/new", cookie: alice.cookie, noChoice + [("action", "send")])
            #expect(ms == .badRequest)
            #expect(missing.contains("Say whether it is confirmed"))
            #expect(missing.contains(">Strong brown going round</textarea>"))
            // The preview does not wait for that choice: it shows "unconfirmed" and says so.
            let (us, unchosen, _) = try await post(client, "/console/alerts/preview", cookie: alice.cookie, noChoice)
            #expect(us == .ok && unchosen.contains("Unconfirmed report: Strong brown going round") && unchosen.contains("Say whether it is confirmed"))

            // Drug words with no discreet version would show on discreet lock screens: warned in
            // the preview, refused on send until fixed.
            let plainOnly = fields.filter { $0.0 != "text.en-GB~discreet" }.map { $0.0 == "text.en-GB" ? ($0.0, "Heroin with nitazenes in BS5") : $0 }
            let (_, warned, _) = try await post(client, "/console/alerts/new", cookie: alice.cookie, plainOnly + [("action", "preview")])
            #expect(warned.contains("lock screens"))
            let (rs, refused, _) = try await post(client, "/console/alerts/new", cookie: alice.cookie, plainOnly + [("action", "send")])
            #expect(rs == .badRequest)
            #expect(refused.contains("Add discreet words for English"))
            #expect(try await c.lantern.desk.broadcastList().isEmpty)

            // Submitted for approval: it waits, with exactly the words previewed.
            let (ss, _, headers) = try await post(client, "/console/alerts/new", cookie: alice.cookie, fields + [("action", "submit")])
            #expect(ss == .seeOther)
            let location = try #require(headers[.location])
            #expect(location.hasSuffix("?created=waiting"))
            let made = try #require(try await c.lantern.desk.broadcastList().first)
            #expect(made.status == .awaitingApproval && made.createdBy == "alice" && made.confirmed)
            #expect(made.texts["pl"]?.contains("Mocny towar krąży") == true)
            #expect(made.texts["en-GB~discreet"]?.contains("Something strong going round") == true)
            let (_, detail, _) = try await get(client, location, cookie: alice.cookie)
            #expect(detail.contains("waits for a second coordinator"))

            // "Warn this area" pre-fills the form.
            let (_, warn, _) = try await get(client, "/console/alerts/new?area=G31", cookie: alice.cookie)
            #expect(warn.contains("value=\"G31\""))
        }
    }

    @Test func aSecondCoordinatorApprovesOrRejectsWithThePreviewAndCancellingAsksFirst() async throws {
        try await withConsole { c, client in
            let alice = try await session(c, client, name: "alice")
            let bob = AdminIdentity(name: "bob", role: .coordinator)
            let first = try await c.lantern.desk.send(BroadcastRequest(text: "Strong batch about.", areas: ["BS5"], expiresInHours: 6,
                                                                       confirmed: true, requiresApproval: true), by: bob)
            let second = try await c.lantern.desk.send(BroadcastRequest(text: "Another one.", areas: ["BS5"], expiresInHours: 6,
                                                                        confirmed: false, requiresApproval: true), by: bob)
            let hers = try await c.lantern.desk.send(BroadcastRequest(text: "Her own.", areas: ["BS5"], expiresInHours: 6,
                                                                      confirmed: true, requiresApproval: true), by: AdminIdentity(name: "alice", role: .coordinator))
            let (_, page, _) = try await get(client, "/console/approvals", cookie: alice.cookie)
            #expect(page.contains("Confirmed: Strong batch about.") && page.contains("Unconfirmed report: Another one."))
            #expect(page.contains("/console/broadcasts/\(first.id)/approve") && page.contains("/console/broadcasts/\(second.id)/reject"))
            #expect(!page.contains("/console/broadcasts/\(hers.id)/approve"))
            #expect(page.contains("another coordinator must approve it"))
            // Without the token, or with a wrong one: refused, nothing changes.
            #expect(try await post(client, "/console/broadcasts/\(first.id)/approve", cookie: alice.cookie, []).0 == .forbidden)
            #expect(try await post(client, "/console/broadcasts/\(first.id)/approve", cookie: alice.cookie, [("csrf", "nope")]).0 == .forbidden)
            #expect(try await c.lantern.desk.broadcast(first.id).status == .awaitingApproval)

            let (a, _, ah) = try await post(client, "/console/broadcasts/\(first.id)/approve", cookie: alice.cookie, [("csrf", alice.csrf)])
            #expect(a == .seeOther && ah[.location]?.hasPrefix("/console/approvals?done=\(first.id)") == true)
            #expect(try await c.lantern.desk.broadcast(first.id).approvedBy == "alice")
            let (r, _, _) = try await post(client, "/console/broadcasts/\(second.id)/reject", cookie: alice.cookie, [("csrf", alice.csrf)])
            #expect(r == .seeOther)
            #expect(try await c.lantern.desk.broadcast(second.id).status == .cancelled)
            // Her own, posted anyway: the admin layer refuses, and says why.
            let (o, own, _) = try await post(client, "/console/broadcasts/\(hers.id)/approve", cookie: alice.cookie, [("csrf", alice.csrf)])
            #expect(o == .conflict && own.contains("different coordinator"))

            // Cancelling asks first, then cancels.
            let (_, ask, _) = try await get(client, "/console/broadcasts/\(hers.id)/cancel", cookie: alice.cookie)
            #expect(ask.contains("Cancel broadcast \(hers.id)?") && ask.contains("Yes, cancel it"))
            #expect(try await c.lantern.desk.broadcast(hers.id).status == .awaitingApproval)
            let (cs, _, ch) = try await post(client, "/console/broadcasts/\(hers.id)/cancel", cookie: alice.cookie, [("csrf", alice.csrf)])
            #expect(cs == .seeOther && ch[.location]?.hasPrefix("/console/broadcasts?done=\(hers.id)") == true)
            #expect(try await c.lantern.desk.broadcast(hers.id).cancelledBy == "alice")
            // An ended one has nothing to cancel; an unknown one is a 404.
            let (_, ended, _) = try await get(client, "/console/broadcasts/\(hers.id)/cancel", cookie: alice.cookie)
            #expect(ended.contains("nothing to cancel"))
            #expect(try await get(client, "/console/broadcasts/99999", cookie: alice.cookie).0 == .notFound)
            // One broadcast's page shows its progress, counted by state.
            let (_, one, _) = try await get(client, "/console/broadcasts/\(first.id)", cookie: alice.cookie)
            #expect(one.contains("Approved by") && one.contains("alice") && one.contains("delivered") && one.contains("skipped"))
        }
    }

    @Test func reportsShowCountsAndReferencesOnlyAndAReporterIsAnsweredByReference() async throws {
        try await withConsole { c, client in
            try await Seed.reports(["R-4KQ2MP", "R-7HX3AB"], area: "BS5", database: c.lantern.database, provider: "twilio", now: c.clock.now)
            let alice = try await session(c, client, name: "alice")
            let (status, page, _) = try await get(client, "/console/reports", cookie: alice.cookie)
            #expect(status == .ok)
            #expect(page.contains("R-4KQ2MP") && page.contains("R-7HX3AB"))
            #expect(page.contains("<td>BS5</td><td>2</td><td>2</td>"))
            #expect(page.contains("/console/alerts/new?area=BS5"))
            #expect(!page.contains("+999"))
            // A reply by reference is queued for her, and recorded as answered by alice.
            let (rs, _, rh) = try await post(client, "/console/reports/reply", cookie: alice.cookie,
                                              [("csrf", alice.csrf), ("ref", "r-4kq2mp"), ("text", "Thank you. Was it from the usual place?")])
            #expect(rs == .seeOther && rh[.location] == "/console/reports?sent=R-4KQ2MP")
            let (_, after, _) = try await get(client, "/console/reports", cookie: alice.cookie)
            #expect(after.contains("you asked her something"))
            // An unknown reference: said, and the words come back.
            let (us, unknown, _) = try await post(client, "/console/reports/reply", cookie: alice.cookie,
                                                  [("csrf", alice.csrf), ("ref", "R-ZZZZZZ"), ("text", "Hello there")])
            #expect(us == .badRequest && unknown.contains("No live report") && unknown.contains(">Hello there</textarea>"))
        }
    }

    @Test func adminsManageAccountsTokensAndSeeTheAuditLogAndFlowsCheck() async throws {
        try await withConsole { c, client in
            let admin = try await session(c, client, name: "ada", role: .admin)
            let (_, index, _) = try await get(client, "/console/admin", cookie: admin.cookie)
            #expect(index.contains("/console/admin/accounts") && index.contains("/console/admin/audit"))
            // An invite made here is a working link, shown once.
            let (is_, invited, _) = try await post(client, "/console/admin/accounts", cookie: admin.cookie,
                                                   [("csrf", admin.csrf), ("name", "carol"), ("role", "coordinator")])
            #expect(is_ == .ok)
            let link = try #require(invited.range(of: "/console/invite/").map { String(invited[$0.lowerBound...].prefix { $0 != "<" }) })
            #expect(try await get(client, link).0 == .ok)
            let (bad, badName, _) = try await post(client, "/console/admin/accounts", cookie: admin.cookie,
                                                   [("csrf", admin.csrf), ("name", "no spaces please"), ("role", "admin")])
            #expect(bad == .badRequest && badName.contains("not a usable name") && badName.contains("value=\"no spaces please\""))
            // Roles change (and her sessions end); an admin cannot demote or remove herself.
            let bob = try await session(c, client, name: "bob")
            let (_, promoted, _) = try await post(client, "/console/admin/accounts/bob/role", cookie: admin.cookie, [("csrf", admin.csrf), ("role", "admin")])
            #expect(promoted.contains("bob is now an admin"))
            #expect(try await get(client, "/console", cookie: bob.cookie).0 == .seeOther)
            let (selfChange, _, _) = try await post(client, "/console/admin/accounts/ada/role", cookie: admin.cookie, [("csrf", admin.csrf), ("role", "coordinator")])
            #expect(selfChange == .conflict)
            let (_, ask, _) = try await get(client, "/console/admin/accounts/carol/remove", cookie: admin.cookie)
            #expect(ask.contains("Remove carol?") && ask.contains("action=\"/console/admin/accounts/carol/remove\""))
            let (_, removed, _) = try await post(client, "/console/admin/accounts/carol/remove", cookie: admin.cookie, [("csrf", admin.csrf)])
            #expect(removed.contains("carol can no longer sign in"))
            #expect(try await get(client, link).0 == .notFound)
            // A token is shown once, then only its name; revoked, it stops working.
            let (_, made, _) = try await post(client, "/console/admin/tokens", cookie: admin.cookie, [("csrf", admin.csrf), ("name", "rota-script"), ("role", "coordinator")])
            let token = try #require(made.range(of: "lnt_").map { String(made[$0.lowerBound...].prefix { $0 != "<" }) })
            let (_, list, _) = try await get(client, "/console/admin/tokens", cookie: admin.cookie)
            #expect(list.contains("rota-script") && !list.contains(token))
            #expect(try await c.lantern.database.adminIdentity(forToken: token) != nil)
            #expect(try await get(client, "/console/admin/tokens/rota-script/revoke", cookie: admin.cookie).1.contains("Revoke the token"))
            let (_, revoked, _) = try await post(client, "/console/admin/tokens/rota-script/revoke", cookie: admin.cookie, [("csrf", admin.csrf)])
            #expect(revoked.contains("no longer works"))
            #expect(try await c.lantern.database.adminIdentity(forToken: token) == nil)
            // The audit log: who and what, never a number.
            let (_, audit, _) = try await get(client, "/console/admin/audit", cookie: admin.cookie)
            #expect(audit.contains("console.invited") && audit.contains("console.removed") && audit.contains("<td>ada</td>"))
            let (_, flows, _) = try await get(client, "/console/admin/flows", cookie: admin.cookie)
            #expect(flows.contains("0 errors, 7 warnings") && flows.contains("not yet reviewed by a native speaker"))
        }
    }

    @Test func everyPageAndFormEnforcesSessionsRolesAndTokens() async throws {
        try await withConsole { c, client in
            let coordinator = try await session(c, client, name: "alice")
            let admin = try await session(c, client, name: "ada", role: .admin)
            let b = try await c.lantern.desk.send(BroadcastRequest(text: "x", areas: ["BS5"], expiresInHours: 6, confirmed: true, requiresApproval: true),
                                                  by: AdminIdentity(name: "bob", role: .coordinator))
            let everyone = ["/console", "/console/alerts/new", "/console/approvals", "/console/broadcasts", "/console/broadcasts/\(b.id)",
                            "/console/broadcasts/\(b.id)/cancel", "/console/kits", "/console/reports"]
            let adminOnly = ["/console/admin", "/console/admin/accounts", "/console/admin/tokens", "/console/admin/audit", "/console/admin/flows",
                             "/console/admin/accounts/alice/remove", "/console/admin/tokens/t1/revoke"]
            for page in everyone + adminOnly {
                let (out, _, h) = try await get(client, page)
                #expect(out == .seeOther && h[.location] == "/console/sign-in", "signed out: \(page)")
                let (asCoordinator, body, ch) = try await get(client, page, cookie: coordinator.cookie)
                #expect(asCoordinator == (adminOnly.contains(page) ? .forbidden : .ok), "coordinator: \(page)")
                #expect(ch[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'self'") == true)
                #expect(ch[HTTPField.Name("X-Frame-Options")!] == "DENY")
                if adminOnly.contains(page) { #expect(body.contains("Only an admin")) }
                #expect(try await get(client, page, cookie: admin.cookie).0 == .ok, "admin: \(page)")
            }
            let forms: [(String, [(String, String)])] = [
                ("/console/alerts/new", [("action", "preview")]), ("/console/alerts/preview", []),
                ("/console/broadcasts/\(b.id)/approve", []), ("/console/broadcasts/\(b.id)/reject", []), ("/console/broadcasts/\(b.id)/cancel", []),
                ("/console/reports/reply", [("ref", "R-4KQ2MP"), ("text", "hi")]),
                ("/console/admin/accounts", [("name", "eve"), ("role", "admin")]), ("/console/admin/accounts/alice/role", [("role", "admin")]),
                ("/console/admin/accounts/alice/remove", []), ("/console/admin/tokens", [("name", "t1"), ("role", "admin")]),
                ("/console/admin/tokens/t1/revoke", []),
            ]
            for (uri, fields) in forms {
                #expect(try await post(client, uri, cookie: nil, fields + [("csrf", coordinator.csrf)]).0 == .seeOther, "signed out: \(uri)")
                #expect(try await post(client, uri, cookie: coordinator.cookie, fields).0 == .forbidden, "no token: \(uri)")
                #expect(try await post(client, uri, cookie: coordinator.cookie, fields + [("csrf", admin.csrf)]).0 == .forbidden, "another's token: \(uri)")
                if uri.hasPrefix("/console/admin") {
                    #expect(try await post(client, uri, cookie: coordinator.cookie, fields + [("csrf", coordinator.csrf)]).0 == .forbidden,
                            "coordinator: \(uri)")
                }
            }
            // Nothing above changed anything a coordinator may not change.
            #expect(try await c.lantern.desk.broadcast(b.id).status == .awaitingApproval)
            #expect(try await c.lantern.database.consoleAccounts().map(\.name) == ["ada", "alice"])
            #expect(try await c.lantern.database.adminTokens().isEmpty)
            // A session idle past 30 minutes is over: every page sends her to sign in.
            c.clock.advance(by: 31 * 60)
            for page in everyone { #expect(try await get(client, page, cookie: coordinator.cookie).0 == .seeOther, "expired: \(page)") }
        }
    }

    @Test func aCoordinatorAnswersATalkChatFromTheConsoleAndSeesHerTextsOnlyLive() async throws {
        let peer = PhoneNumber("+447700900801")!
        try await withConsole(configure: { $0.talk.peerNumbers = [peer] }) { c, client in
            let her = PhoneNumber("+447700900123")!
            func text(_ body: String, from: PhoneNumber = her) async throws {
                _ = try await c.lantern.conversations.receive(InboundMessage(provider: "twilio", messageID: UUID().uuidString, from: from,
                                                                             to: "+447700900999", text: body))
            }
            try await text("TALK")
            let ref = try #require(try await c.lantern.database.openTalks().first?.ref)
            let alice = try await session(c, client, name: "alice")
            let (status, list, _) = try await get(client, "/console/talk", cookie: alice.cookie)
            #expect(status == .ok && list.contains(ref) && list.contains("waiting for a peer") && !list.contains("7700900123"))
            let (_, page, _) = try await get(client, "/console/talk/\(ref)", cookie: alice.cookie)
            #expect(page.contains("data-ref=\"\(ref)\"") && page.contains("Nobody has answered yet"))

            // A page watching the chat gets her words as they are relayed; nothing is kept for later.
            let (_, lines) = await c.lantern.conversations.talkHub.watch(ref)
            var live = lines.makeAsyncIterator()
            try await text("is anyone there, i feel awful")
            #expect(await live.next() == "\(ref): is anyone there, i feel awful")

            // Her answer from the console takes the chat; a phone peer's later answer is not sent.
            let (s1, _, h1) = try await post(client, "/console/talk/\(ref)", cookie: alice.cookie,
                                             [("csrf", alice.csrf), ("action", "answer"), ("text", "I'm here, love. What's happened?")])
            #expect(s1 == .seeOther && h1[.location]?.hasPrefix("/console/talk/\(ref)?said=Sent") == true)
            #expect(await live.next() == "alice: I'm here, love. What's happened?")
            #expect(try await c.lantern.database.openTalks().first?.takenInConsoleBy == "alice")
            try await text("\(ref) hi it's Jo", from: peer)
            #expect(try await c.lantern.database.talkCounts(since: "2000-01-01")["relayed_out"] == 1)
            let (_, bob, _) = try await get(client, "/console/talk/\(ref)", cookie: alice.cookie)
            #expect(bob.contains("You have this chat."))
            // Ending it from the console: she is told, the chat is gone.
            let (s2, _, h2) = try await post(client, "/console/talk/\(ref)", cookie: alice.cookie, [("csrf", alice.csrf), ("action", "end")])
            #expect(s2 == .seeOther && h2[.location] == "/console/talk")
            #expect(try await c.lantern.database.openTalks().isEmpty)
            #expect(try await get(client, "/console/talk/\(ref)", cookie: alice.cookie).0 == .notFound)
            // Signed out: no list, no live texts.
            #expect(try await get(client, "/console/talk").0 == .seeOther)
            #expect(try await get(client, "/console/talk/\(ref)/events").0 == .unauthorized)
        }
    }
}
