import Foundation
import LanternCore
import LanternProviders
import LanternServer
import LanternStore
import LanternTesting
import Testing

/// Several accounts at once, and each provider's own send rules.
@Suite struct MultiProviderTests {
    @Test func twoProvidersAtOnceEachConversationAnsweredThroughItsOwn() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let twilioAPI = try await FakeSMSAPI.start(acceptance: ProviderHarness.twilio.acceptance)
        let telnyxAPI = try await FakeSMSAPI.start(acceptance: ProviderHarness.telnyx.acceptance)
        var config = testConfiguration(directory: dir.url)
        ProviderHarness.telnyx.configure(&config, fakeAPI: telnyxAPI.baseURL)
        let telnyx = config.providers.telnyx
        ProviderHarness.twilio.configure(&config, fakeAPI: twilioAPI.baseURL)
        config.providers.telnyx = telnyx
        let lantern = try await RunningLantern.start(configuration: config, logger: LogCapture().logger())
        #expect(lantern.lantern.providers.keys.sorted() == ["telnyx", "twilio"])
        let client = TestHTTPClient()
        // Two people on two numbers of ours, one per provider.
        _ = try await client.send(lantern.baseURL, ProviderHarness.twilio.inbound(id: "SMa", from: "+447700900141", to: "+447700900991", text: "alerts BS5"))
        _ = try await client.send(lantern.baseURL, ProviderHarness.telnyx.inbound(id: "tx-a", from: "+447700900142", to: "+447700900992", text: "alerts BS5"))
        _ = try await client.send(lantern.baseURL, ProviderHarness.twilio.inbound(id: "SMb", from: "+447700900141", to: "+447700900991", text: "yes"))
        _ = try await client.send(lantern.baseURL, ProviderHarness.telnyx.inbound(id: "tx-b", from: "+447700900142", to: "+447700900992", text: "yes"))
        let viaTwilio = await twilioAPI.waitForRequests(2).map { ($0.form["To"], $0.form["From"]) }
        let viaTelnyx = await telnyxAPI.waitForRequests(2).map { ($0.json["to"], $0.json["from"]) }
        #expect(viaTwilio.count == 2 && viaTwilio.allSatisfy { $0.0 == "+447700900141" && $0.1 == "+447700900991" })
        #expect(viaTelnyx.count == 2 && viaTelnyx.allSatisfy { $0.0 == "+447700900142" && $0.1 == "+447700900992" })

        // A broadcast reaches each subscriber through the provider and number she used.
        let token = try await lantern.database.createAdminToken(name: "sam", role: .coordinator, now: Date())
        let r = try await client.request("POST", lantern.baseURL.appendingPathComponent("admin/broadcasts"),
                                         headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                                         body: #"{"areas": ["BS5"], "text": "Strong batch about.", "confirmed": true}"#)
        #expect(r.status == 201, "\(r.body)")
        let alertsTwilio = await twilioAPI.waitForRequests(3).dropFirst(2).map { ($0.form["To"], $0.form["From"]) }
        let alertsTelnyx = await telnyxAPI.waitForRequests(3).dropFirst(2).map { ($0.json["to"], $0.json["from"]) }
        #expect(alertsTwilio.count == 1 && alertsTwilio.first?.0 == "+447700900141" && alertsTwilio.first?.1 == "+447700900991")
        #expect(alertsTelnyx.count == 1 && alertsTelnyx.first?.0 == "+447700900142" && alertsTelnyx.first?.1 == "+447700900992")
        try await lantern.stop()
        await twilioAPI.stop()
        await telnyxAPI.stop()
    }

    /// Telnyx takes an Idempotency-Key, so a send that timed out is sent again with the same
    /// key (Telnyx then sends it at most once); Twilio has none, so it is parked instead.
    @Test func aTimedOutTelnyxSendIsRetriedWithTheSameKey() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let api = try await FakeSMSAPI.start(acceptance: ProviderHarness.telnyx.acceptance)
        await api.script([.hang(.seconds(3))])
        var config = testConfiguration(directory: dir.url)
        ProviderHarness.telnyx.configure(&config, fakeAPI: api.baseURL)
        config.providers.telnyx?.requestTimeout = 0.5
        let lantern = try await RunningLantern.start(configuration: config, logger: LogCapture().logger())
        _ = try await TestHTTPClient().send(lantern.baseURL, ProviderHarness.telnyx.inbound(id: "tx-1", from: "+447700900143", text: "help"))
        let seen = await api.waitForRequests(2, timeout: .seconds(15))
        #expect(seen.count == 2)
        #expect(Set(seen.compactMap { $0.headers["idempotency-key"] }).count == 1, "both attempts carry the same key")
        try await lantern.database.waitForOutbox { ($0[.sent] ?? 0) >= 1 }
        #expect(try await lantern.database.outboxCounts()[.sent] == 1)
        try await lantern.stop()
        await api.stop()
    }

    /// Each provider's answer to a send: throttling is retried, an opted-out refusal marks her
    /// opted out, bad credentials wait for an operator.
    @Test(arguments: [
        (ProviderHarness.twilio, FakeSMSAPI.Reply.status(400, body: #"{"code": 21610, "message": "unsubscribed"}"#), true),
        (.telnyx, .status(400, body: #"{"errors": [{"code": "40300", "title": "Blocked due to STOP message"}]}"#), true),
        (.vonage, .status(200, body: #"{"message-count":"1","messages":[{"status":"7","error-text":"barred"}]}"#), true),
        (.sinch, .status(400, body: #"{"code": "syntax_invalid_parameter_format", "text": "bad"}"#), false),
    ])
    func aRefusedSendIsMappedTheProvidersWay(provider: ProviderHarness, refusal: FakeSMSAPI.Reply, optsOut: Bool) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let api = try await FakeSMSAPI.start(acceptance: provider.acceptance)
        // First a throttle (Vonage says it in the body, everyone else with 429), then the refusal.
        let throttle: FakeSMSAPI.Reply = provider == .vonage
            ? .status(200, body: #"{"message-count":"1","messages":[{"status":"1","error-text":"Throughput Rate Exceeded"}]}"#)
            : .status(429, body: "{}", retryAfter: "0")
        await api.script([throttle, refusal])
        var config = testConfiguration(directory: dir.url)
        provider.configure(&config, fakeAPI: api.baseURL)
        let lantern = try await RunningLantern.start(configuration: config, logger: LogCapture().logger())
        _ = try await TestHTTPClient().send(lantern.baseURL, provider.inbound(id: "in-r", from: "+447700900144", text: "help"))
        #expect(await api.waitForRequests(2, timeout: .seconds(15)).count == 2)
        try await lantern.database.waitForOutbox { ($0[.failed] ?? 0) >= 1 }
        #expect(try await lantern.database.outboxCounts()[.failed] == 1)
        #expect(try await lantern.database.contact(for: PhoneNumber("+447700900144")!)?.isOptedOut == optsOut)
        try await lantern.stop()
        await api.stop()
    }
}
