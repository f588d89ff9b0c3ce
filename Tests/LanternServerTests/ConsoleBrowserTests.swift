import Foundation
import HummingbirdBcrypt
import HummingbirdOTP
import LanternCore
import LanternServer
import LanternStore
import LanternTesting
import Testing

/// The console in a real browser: headless Chromium driven through chromedriver's WebDriver API,
/// against the running daemon on loopback. Screenshots go to `.build/console-screenshots/` for a
/// person to look at. CI installs Chromium and sets LANTERN_BROWSER_TESTS=required, so there these
/// tests can never be skipped.
@Suite(.serialized, .enabled(if: WebDriver.isInstalled || ProcessInfo.processInfo.environment["LANTERN_BROWSER_TESTS"] == "required",
                             "install Debian's chromium and chromium-driver to run the browser tests"))
struct ConsoleBrowserTests {
    static let screenshots = Repository.root.appendingPathComponent(".build/console-screenshots")

    static func code(_ secret: String) -> String { String(format: "%06d", TOTP(secret: secret).compute(date: Date())) }

    @Test func aCoordinatorIsInvitedSetsUpHerAppSignsInAndSeesTodayOnALaptopAndAPhone() async throws {
        // Her address is shown once on purpose, then deleted when the kit is marked sent: the
        // harness scans the database, its WAL and the logs for it afterwards.
        try await withRunningLantern(canaries: ["12 Example Street"]) { lantern in
            let secret = ConsoleAccess.newSecret()
            let token = try await lantern.db.inviteConsoleAccount(name: "alice", role: .coordinator, totpSecret: secret, by: "test", now: Date())
            let browser = try await WebDriver(width: 1280, height: 900, log: lantern.dir.url.appendingPathComponent("chromedriver.log"))
            do {
                // The invite: she chooses a password and adds Lantern to her authenticator app.
                try await browser.open(lantern.base.appendingPathComponent("console/invite/\(token)"))
                #expect(try await browser.text("h1") == "Welcome, alice")
                let key = try await browser.text(".secret")
                #expect(key.replacingOccurrences(of: " ", with: "").count == 32)
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("invite-1280.png"))
                try await browser.type("correct horse battery", into: "#password")
                try await browser.type("correct horse battery", into: "#confirm")
                try await browser.type(Self.code(secret), into: "#code")
                try await browser.click("button[type=submit]")
                #expect(try await browser.waitForURL(endingIn: "/console/sign-in?welcome=1").hasSuffix("/console/sign-in?welcome=1"))
                #expect(try await browser.text(".notice").contains("Your account is ready"))

                // A wrong code first: told plainly, her name still in the form.
                try await browser.type("alice", into: "#name")
                try await browser.type("correct horse battery", into: "#password")
                try await browser.type("000000", into: "#code")
                try await browser.click("button[type=submit]")
                try await browser.waitForURL(endingIn: "/console/sign-in")
                #expect(try await browser.text(".error").contains("Name, password or code not right"))
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("sign-in-error-1280.png"))

                try await browser.type("correct horse battery", into: "#password")
                try await browser.type(Self.code(secret), into: "#code")
                try await browser.click("button[type=submit]")
                #expect(try await browser.waitForURL(endingIn: "/console").hasSuffix("/console"))
                #expect(try await browser.text("h1") == "Today")
                #expect(try await browser.text(".who") == "alice (coordinator)")
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("today-1280.png"))

                // A kit request: the queue without its address; opened, the address and a banner; marked sent.
                _ = try await lantern.text("KIT")
                for answer in ["1", "2", "Flat 3, 12 Example Street, Bristol BS5 6AA"] { _ = try await lantern.text(answer) }
                _ = await lantern.sent(to: LanternHarness.her, count: 4)
                try await browser.open(lantern.base.appendingPathComponent("console/kits"))
                #expect(!(try await browser.text()).contains("Example Street"))
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("kits-1280.png"))
                try await browser.click("td a")
                try await browser.waitForURL(containing: "/console/kits/K-")
                #expect(try await browser.text(".address").contains("12 Example Street"))
                #expect(try await browser.text(".banner").contains("recorded in the audit log"))
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("kit-1280.png"))
                try await browser.click("form.card button[type=submit]")
                #expect(try await browser.waitForURL(containing: "/console/kits?marked=K-").contains("marked=K-"))
                #expect(try await browser.text(".notice").contains("is marked"))

                // On a 360-pixel phone: nothing sideways.
                try await browser.setWindow(width: 360, height: 780)
                try await browser.open(lantern.base.appendingPathComponent("console"))
                #expect(try await browser.scrollWidth() <= 360)
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("today-360.png"))

                // Signing out ends it: the console asks her to sign in again.
                try await browser.click(".bar button.link")
                #expect(try await browser.waitForURL(endingIn: "/console/sign-in").hasSuffix("/console/sign-in"))
                try await browser.open(lantern.base.appendingPathComponent("console"))
                #expect(try await browser.waitForURL(endingIn: "/console/sign-in").hasSuffix("/console/sign-in"))
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("sign-in-360.png"))
            } catch {
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }

    /// An account with a password and code secret, as if she had used her invite.
    static func account(_ name: String, role: AdminRole = .coordinator, db: AppDatabase) async throws -> String {
        let secret = ConsoleAccess.newSecret()
        let token = try await db.inviteConsoleAccount(name: name, role: role, totpSecret: secret, by: "test", now: Date())
        #expect(try await db.acceptConsoleInvite(token: token, passwordHash: Bcrypt.hash("correct horse battery", cost: 4), now: Date()))
        return secret
    }

    static func signIn(_ browser: WebDriver, base: URL, name: String, secret: String) async throws {
        try await browser.open(base.appendingPathComponent("console/sign-in"))
        try await browser.type(name, into: "#name")
        try await browser.type("correct horse battery", into: "#password")
        try await browser.type(code(secret), into: "#code")
        try await browser.click("button[type=submit]")
        #expect(try await browser.waitForURL(endingIn: "/console").hasSuffix("/console"))
    }

    /// Waits (bounded) until `check` holds; records an issue if it never does.
    static func eventually(_ what: String, within seconds: TimeInterval = 20, _ check: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? await check()) == true { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func anAlertIsComposedPreviewedApprovedBySomeoneElseAndSentWhileAnotherIsCancelled() async throws {
        try await withRunningLantern { lantern in
            let db = lantern.db
            let subscribers = try await Seed.subscribers(3, areas: "BS5", database: db, provider: "twilio")
            let alice = try await Self.account("alice", db: db)
            let bob = try await Self.account("bob", role: .admin, db: db)
            let browser = try await WebDriver(width: 1280, height: 900, log: lantern.dir.url.appendingPathComponent("chromedriver.log"))
            do {
                // Alice writes an alert in English with discreet words and in Polish; the preview
                // follows what she types (the page's one script), naming the character that
                // forces UCS-2.
                try await Self.signIn(browser, base: lantern.base, name: "alice", secret: alice)
                try await browser.open(lantern.base.appendingPathComponent("console/alerts/new"))
                try await browser.click("input[value='@bristol']")
                try await browser.type("Strong brown going round in Easton. Start low, go slow, carry naloxone.", into: "#text-en-GB")
                try await browser.type("Something much stronger than usual is going round. Start low, go slow.", into: "#discreet-en-GB")
                try await browser.click("details summary")
                try await browser.type("Bardzo mocny towar krąży. Zacznij od małej dawki.", into: "#text-pl")
                try await browser.click("input[name=confirmed][value=yes]")
                try await Self.eventually("the live preview") { try await browser.text("#preview").contains("UCS-2") }
                let preview = try await browser.text("#preview")
                #expect(preview.contains("Confirmed: Strong brown going round in Easton"))
                #expect(preview.contains("Something much stronger than usual"))
                #expect(preview.contains("because of"))
                #expect(preview.contains("Recipients") && preview.contains("£"))
                try await browser.screenshotOfWholePage(to: Self.screenshots.appendingPathComponent("alert-new-1280.png"))
                try await browser.click("button[value=submit]")
                let page = try await browser.waitForURL(containing: "created=waiting")
                let id = try #require(page.split(separator: "/").last.flatMap { Int64($0.prefix { $0.isNumber }) })
                #expect(try await browser.text(".notice").contains("second coordinator"))

                // A second one from a prepared alert, then cancelled: asked first, then gone.
                try await browser.open(lantern.base.appendingPathComponent("console/alerts/new"))
                try await browser.type("BS5", into: "#districts")
                try await browser.click("input[name=words][value=template]")
                try await browser.click("input[name=confirmed][value=no]")
                try await browser.click("button[value=submit]")
                let other = try await browser.waitForURL(containing: "created=waiting")
                #expect(other != page)
                try await browser.click("a.button.danger")
                try await browser.waitForURL(endingIn: "/cancel")
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("cancel-1280.png"))
                try await browser.click("form.card button")
                #expect(try await browser.waitForURL(containing: "done=").contains("cancelled"))
                try await browser.click(".bar button.link")
                try await browser.waitForURL(endingIn: "/console/sign-in")

                // Bob, on a phone, approves hers with the preview in front of him, and watches it go out.
                try await browser.setWindow(width: 360, height: 780)
                try await Self.signIn(browser, base: lantern.base, name: "bob", secret: bob)
                try await browser.open(lantern.base.appendingPathComponent("console/approvals"))
                #expect(try await browser.text("#b\(id)").contains("Bardzo mocny towar"))
                #expect(try await browser.scrollWidth() <= 360)
                try await browser.screenshotOfWholePage(to: Self.screenshots.appendingPathComponent("approvals-360.png"))
                try await browser.click("#b\(id) form[action$='/approve'] button")
                try await browser.waitForURL(containing: "done=")
                try await browser.open(lantern.base.appendingPathComponent("console/broadcasts/\(id)"))
                // The page reloads itself while it sends; it ends "completed".
                try await Self.eventually("the broadcast to complete", within: 30) { try await browser.text("#status") == "completed" }
                #expect(try await browser.scrollWidth() <= 360)
                try await browser.screenshotOfWholePage(to: Self.screenshots.appendingPathComponent("broadcast-360.png"))
                let sent = await lantern.fake.waitForRequests(3).filter { r in subscribers.contains { $0.e164 == r.form["To"] } }
                #expect(sent.count == 3)
                #expect(sent.allSatisfy { ($0.form["Body"] ?? "").hasPrefix("Confirmed: ") })
                try await browser.setWindow(width: 1280, height: 900)
                try await browser.open(lantern.base.appendingPathComponent("console/broadcasts"))
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("broadcasts-1280.png"))
                // Reports (counts and references only) and, for an admin, the accounts page.
                try await Seed.reports(["R-4KQ2MP"], area: "BS5", database: db, provider: "twilio")
                try await browser.open(lantern.base.appendingPathComponent("console/reports"))
                #expect(try await browser.text("main").contains("R-4KQ2MP"))
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("reports-1280.png"))
                try await browser.open(lantern.base.appendingPathComponent("console/admin/accounts"))
                #expect(try await browser.text("main").contains("alice"))
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("accounts-1280.png"))
            } catch {
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }

    @Test func aChatShowsHerTextsLiveAndTheAnswerReachesHerPhone() async throws {
        let peer = "+447700900801"
        try await withRunningLantern(configure: { $0.talk.peerNumbers = [PhoneNumber(peer)!] }) { lantern in
            let alice = try await Self.account("alice", db: lantern.db)
            _ = try await lantern.text("TALK")
            let ref = try #require(await lantern.sent(to: peer).first.flatMap { t in t.range(of: #"T-[0-9A-Z]{6}"#, options: .regularExpression).map { String(t[$0]) } })
            let browser = try await WebDriver(width: 1280, height: 900, log: lantern.dir.url.appendingPathComponent("chromedriver.log"))
            do {
                try await Self.signIn(browser, base: lantern.base, name: "alice", secret: alice)
                try await browser.open(lantern.base.appendingPathComponent("console/talk"))
                #expect(try await browser.text("main").contains(ref))
                try await browser.click("td a")
                try await browser.waitForURL(containing: "/console/talk/T-")
                // Her next text shows on the open page as it is relayed (and is stored nowhere).
                try await Task.sleep(for: .milliseconds(500))
                _ = try await lantern.text("is anyone there tonight, i feel awful")
                try await Self.eventually("her text on the page") { try await browser.text("#live").contains("is anyone there tonight") }
                try await browser.type("I'm here. What's happened?", into: "#text")
                try await browser.click("button[value=answer]")
                try await Self.eventually("the answer on the page") { try await browser.text("#live").contains("alice: I'm here") }
                #expect(await lantern.sent(to: LanternHarness.her, count: 2).last == "I'm here. What's happened?")
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("talk-1280.png"))
                try await browser.setWindow(width: 360, height: 780)
                #expect(try await browser.scrollWidth() <= 360)
            } catch {
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }
}
