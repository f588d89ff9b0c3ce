import Foundation
import HummingbirdOTP
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
        try await withRunningLantern { lantern in
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

                // Broadcasts: someone else's waits for her approval.
                _ = try await lantern.lantern.lantern.desk.send(BroadcastRequest(text: "Strong batch about.", areas: ["BS5"], expiresInHours: 6,
                                                                                confirmed: true, requiresApproval: true),
                                                               by: AdminIdentity(name: "bob", role: .coordinator))
                try await browser.open(lantern.base.appendingPathComponent("console/broadcasts"))
                try await browser.screenshot(to: Self.screenshots.appendingPathComponent("broadcasts-1280.png"))
                try await browser.click("form[action$='/approve'] button")
                #expect(try await browser.waitForURL(containing: "done=").contains("approved"))

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
}
