import Foundation
import LanternServer
import LanternStore
import LanternTesting
import Logging
import Prometheus
import LanternCore
import Testing

/// Settings that would expose people are refused at start, saying what to do instead.
@Suite struct UnsafeSettingsTests {
    @Test func theUnsignedConsoleProviderAnswersOnlyOnLoopback() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var config = testConfiguration(directory: dir.url)
        config.host = "0.0.0.0"
        #expect {
            try Lantern.boot(configuration: config, logger: Logger(label: "t"))
        } throws: { error in
            "\(error)".contains("console provider") && "\(error)".contains("127.0.0.1")
        }
        for host in ["127.0.0.1", "localhost", "::1"] {
            config.host = host
            _ = try Lantern.boot(configuration: config, logger: Logger(label: "t"))
        }
    }

    @Test func aPublicURLMustBeHTTPSExceptOnThisMachine() throws {
        #expect {
            try LanternConfiguration.fromEnvironment(["LANTERN_PUBLIC_URL": "http://sms.example.org"])
        } throws: { "\($0)".contains("must be https://") }
        #expect(try LanternConfiguration.fromEnvironment(["LANTERN_PUBLIC_URL": "https://sms.example.org"]).publicBaseURL != nil)
        #expect(try LanternConfiguration.fromEnvironment(["LANTERN_PUBLIC_URL": "http://127.0.0.1:8080"]).publicBaseURL != nil)
        #expect(try LanternConfiguration.fromEnvironment(["LANTERN_PUBLIC_URL": "http://localhost:8080"]).publicBaseURL != nil)
    }

    @Test func adminAndMetricsStayOffAListenerThatFacesTheNetwork() throws {
        var c = LanternConfiguration()
        #expect(c.listenerPlan.adminOnWebhookListener && !c.listenerPlan.metricsNeedTokenOnWebhookListener)
        c.host = "0.0.0.0"
        #expect(c.listenerPlan.adminOnWebhookListener == false)
        c.adminOnPublicListener = true
        #expect(c.listenerPlan.adminOnWebhookListener && c.listenerPlan.metricsNeedTokenOnWebhookListener)
        c.adminOnPublicListener = false
        c.adminPort = 8081
        #expect(!c.listenerPlan.adminOnWebhookListener && !c.listenerPlan.metricsNeedTokenOnAdminListener)
        c.adminHost = "10.0.0.5"
        #expect(c.listenerPlan.metricsNeedTokenOnAdminListener)
        let fromEnv = try LanternConfiguration.fromEnvironment(["LANTERN_HOST": "0.0.0.0", "LANTERN_ADMIN_ON_PUBLIC_LISTENER": "on"])
        #expect(fromEnv.listenerPlan.adminOnWebhookListener)
    }

    @Test func metricsWithATokenRequiredRefuseAnyoneWithoutOne() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var config = testConfiguration(directory: dir.url)
        config.metricsNeedToken = true
        let lantern = try await RunningLantern.start(configuration: config, logger: Logger(label: "t"), metrics: PrometheusCollectorRegistry())
        let client = TestHTTPClient()
        let url = lantern.baseURL.appendingPathComponent("metrics")
        #expect(try await client.request("GET", url).status == 401)
        #expect(try await client.request("GET", url, headers: ["Authorization": "Bearer lnt_wrong"]).status == 401)
        let token = try await lantern.database.createAdminToken(name: "prometheus", role: .coordinator, now: Date())
        #expect(try await client.request("GET", url, headers: ["Authorization": "Bearer \(token)"]).status == 200)
        try await lantern.stop()
    }
}

extension AbuseAndHardeningTests {
    @Test func numbersAbroadAreNeverTextedWhateverTheProviderAllows() async throws {
        try await withRunningLantern(clock: TestClock(Date())) { env in
            // An SMS-pumping run from premium numbers abroad: nothing goes back.
            for n in 0..<5 { try await env.text("HELP", from: "+88213000000\(n)") }
            try await env.text("she isnt breathing", from: "+12025550123")
            try await env.text("HELP")
            #expect(try await env.db.waitForOutbox { ($0[.sent] ?? 0) >= 1 })
            let sentTo = Set(await env.fake.requests().compactMap { $0.form["To"] })
            #expect(sentTo == [Self.her], "\(sentTo)")
            #expect(env.logs.text.contains("outside the countries this service texts"))
            // STOP from abroad is still honoured (silently).
            try await env.text("STOP", from: "+12025550123")
            #expect(try await env.db.contact(for: PhoneNumber("+12025550123")!)?.isOptedOut == true)
        }
    }
}
