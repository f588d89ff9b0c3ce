import Foundation
import LanternCore
import LanternProviders
import LanternServer
import LanternStore
import Synchronization

/// One daemon for one end-to-end test: a real SQLite file in a temporary directory, real HTTP on
/// a loopback port, a fake provider API that records what it is sent, and webhooks signed with
/// the provider's own algorithm. When the test's body returns, the daemon is stopped and
/// everything at rest (the database, its WAL, the key file) and every captured log line is
/// scanned: no number that texted, no body she sent (of 12 characters or more, and every
/// `canary()`), no provider secret and no admin token may be found. A find throws
/// `CanaryLeak`, which fails the test.
///
/// ```swift
/// try await withRunningLantern { lantern in
///     let secret = lantern.canary()
///     try await lantern.text("naloxone \(secret)", from: "+447700900123")
///     #expect(await lantern.sent(to: "+447700900123", count: 1).first?.contains("spray") == true)
/// }
/// ```
public func withRunningLantern<T>(provider: ProviderHarness = .twilio, clock: TestClock? = nil, typingPace: TimeInterval = 0,
                                  directory: TemporaryDirectory? = nil, canaries: [String] = [], reportWebhook: Bool = false,
                                  firstSendNumber: Int = 1,
                                  configure: (inout LanternConfiguration) -> Void = { _ in },
                                  _ body: (LanternHarness) async throws -> T) async throws -> T {
    let dir = try directory ?? TemporaryDirectory()
    defer { if directory == nil { dir.remove() } }
    let logs = LogCapture()
    // A second run on the same directory numbers its sends on from the first: a provider never
    // hands out the same message id twice.
    let acceptance = provider.acceptance
    let fake = try await FakeSMSAPI.start(acceptance: { acceptance($0 + firstSendNumber - 1) })
    let reports = reportWebhook ? try await FakeSMSAPI.start() : nil
    func stopFakes() async {
        await fake.stop()
        await reports?.stop()
    }
    var config = testConfiguration(directory: dir.url, fakeAPI: provider == .twilio ? fake.baseURL : nil,
                                   authToken: ProviderHarness.secret, publicBaseURL: ProviderHarness.publicBase)
    if provider != .twilio { provider.configure(&config, fakeAPI: fake.baseURL) }
    if let reports {
        config.reports.webhookURL = reports.baseURL.appendingPathComponent("reports")
        config.reports.webhookSecret = LanternHarness.reportWebhookSecret
    }
    config.limits.ownNumbers.insert(ProviderHarness.ours)
    configure(&config)
    var now: @Sendable () -> Date = { Date() }
    if let clock { now = clock.nowFunction }
    let running: RunningLantern
    do {
        running = try await RunningLantern.start(configuration: config, logger: logs.logger(), now: now)
    } catch {
        await stopFakes()
        throw error
    }
    let harness: LanternHarness
    do {
        // A directory carried over from an earlier run already has them: issue them afresh.
        let db = running.database
        for name in ["alice", "root"] { _ = try await db.revokeAdminToken(name: name, by: "test", now: Date()) }
        harness = LanternHarness(lantern: running, fake: fake, reports: reports, logs: logs, dir: dir, provider: provider, clockOrNil: clock, typingPace: typingPace,
                                 coordinator: try await db.createAdminToken(name: "alice", role: .coordinator, now: Date()),
                                 admin: try await db.createAdminToken(name: "root", role: .admin, now: Date()))
    } catch {
        try? await running.stop()
        await stopFakes()
        throw error
    }
    harness.secrets.add(token: harness.coordinator)
    harness.secrets.add(token: harness.admin)
    for c in canaries { harness.mustNotBeKept(c) }
    let result: T
    do {
        result = try await body(harness)
    } catch {
        try? await running.stop()
        await stopFakes()
        throw error
    }
    try await running.stop()
    await stopFakes()
    try await running.database.checkpoint()
    let leaks = try await onThreadOfItsOwn { harness.leaks() }
    if !leaks.isEmpty { throw CanaryLeak(found: leaks) }
    return result
}

/// What a test does to a running daemon, as the people around it would: texts, API calls, waits.
public struct LanternHarness: Sendable {
    public let lantern: RunningLantern
    /// The provider's send API: every text Lantern sent, as the provider received it.
    public let fake: FakeSMSAPI
    /// The coordinators' report webhook, when the test asked for one (`reportWebhook: true`).
    public let reports: FakeSMSAPI?
    public let logs: LogCapture
    public let dir: TemporaryDirectory
    public let provider: ProviderHarness
    let clockOrNil: TestClock?
    let typingPace: TimeInterval
    /// Bearer tokens made for every run: a coordinator ("alice") and an admin ("root").
    public let coordinator: String
    public let admin: String
    public let client = TestHTTPClient()
    /// Twilio webhooks signed with the test account's token.
    public var builder: TwilioWebhookBuilder { Self.twilio }
    fileprivate let secrets = Secrets()

    public static let ours = ProviderHarness.ours
    public static let reportWebhookSecret = "report-webhook-secret-0123456789"
    /// Who texts when a test does not say.
    public static let her = "+447700900123"
    /// The test account's secret (Twilio's auth token, the other providers' signing secrets).
    public static let providerSecret = ProviderHarness.secret
    /// Signs Twilio webhooks as the test account, for a test that builds one before the daemon runs.
    public static let twilio = TwilioWebhookBuilder(publicBaseURL: ProviderHarness.publicBase, authToken: ProviderHarness.secret)

    public var base: URL { lantern.baseURL }
    public var db: AppDatabase { lantern.database }

    /// The hand-moved clock the daemon reads (the test must have passed one).
    public var clock: TestClock {
        guard let clockOrNil else { preconditionFailure("withRunningLantern(clock:) was not given a clock") }
        return clockOrNil
    }

    /// A fresh secret to put in a text; the end-of-test scan proves it is nowhere at rest.
    public func canary() -> String {
        let c = "canary-\(UUID().uuidString.prefix(8).lowercased())"
        secrets.add(canary: c)
        return c
    }

    /// Marks a string (a number, a body, an address) that must be nowhere at rest or in the logs.
    public func mustNotBeKept(_ secret: String) { secrets.add(canary: secret) }

    /// She texts the service, through the configured provider, signed; a fresh message id each time.
    @discardableResult
    public func text(_ body: String, from: String = LanternHarness.her, to: String = LanternHarness.ours) async throws -> TestHTTPClient.Response {
        if let clockOrNil, typingPace > 0 { clockOrNil.advance(by: typingPace) }
        if from != Self.ours { secrets.add(canary: from) }
        if body.trimmingCharacters(in: .whitespaces).count >= 12 { secrets.add(canary: body) }
        let r = try await post(provider.inbound(id: "in-\(UUID().uuidString.prefix(13))", from: from, to: to, text: body))
        guard r.status == 200 else { throw HarnessError.unexpectedAnswer(status: r.status, body: r.body) }
        return r
    }

    /// Posts a webhook as the provider would; its sender and body join the end-of-test scan.
    public func post(_ w: SignedWebhook) async throws -> TestHTTPClient.Response {
        secrets.note(webhook: w)
        return try await client.send(base, w)
    }

    public func post(_ s: TwilioWebhookBuilder.Signed) async throws -> TestHTTPClient.Response {
        try await post(SignedWebhook(method: "POST", path: s.path, headers: s.headers, body: s.body))
    }

    /// A bearer token for the admin API; it joins the log scan.
    public func token(_ name: String, role: AdminRole = .coordinator) async throws -> String {
        let t = try await db.createAdminToken(name: name, role: role, now: Date())
        secrets.add(token: t)
        return t
    }

    /// Calls the admin API as the coordinator unless another token is given (on `base`, or the
    /// webhook listener).
    public func api(_ method: String, _ path: String, json: String? = nil, token: String? = nil, on root: URL? = nil) async throws -> TestHTTPClient.Response {
        let token = token ?? coordinator
        return try await client.request(method, URL(string: (root ?? base).absoluteString + path)!,
                                        headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"], body: json)
    }

    /// What the provider was asked to send to `number`, waiting (bounded) until there are `count`.
    public func sent(to number: String, count: Int = 1, timeout: Duration = .seconds(5)) async -> [String] {
        let clock = ContinuousClock(), deadline = clock.now.advanced(by: timeout)
        while true {
            let mine = await fake.requests().map(provider.sent).filter { $0.to == number }.map(\.text)
            if mine.count >= count || clock.now >= deadline { return mine }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The `n`th text (from 1) sent to `number`, waiting (bounded) for it.
    public func nth(_ n: Int, sentTo number: String) async -> String? {
        let mine = await sent(to: number, count: n)
        return mine.count >= n ? mine[n - 1] : nil
    }

    /// Every text sent to `number`, once nothing more is waiting to go.
    public func allSent(to number: String) async throws -> [String] {
        try await db.waitUntilOutboxIdle()
        return await fake.requests().map(provider.sent).filter { $0.to == number }.map(\.text)
    }

    /// Waits (bounded) until the outbox reaches a state; records an issue if it never does.
    public func waitForOutbox(_ what: String, timeout: Duration = .seconds(10), _ condition: ([OutboxStatus: Int]) -> Bool) async throws {
        if try await db.waitForOutbox(timeout: timeout, condition) { return }
        throw HarnessError.timedOut(what, outbox: try await db.outboxCounts())
    }

    /// Waits (bounded) until nothing is queued or being sent. A webhook is answered only once
    /// its effects and replies are committed, so after this nothing more is coming from the
    /// texts already posted: "nothing else was sent" can be checked without a sleep.
    public func settled(timeout: Duration = .seconds(10)) async throws {
        if try await db.waitUntilOutboxIdle(timeout: timeout) { return }
        throw HarnessError.timedOut("the outbox to empty", outbox: try await db.outboxCounts())
    }

    /// Files under the data directory holding `secret`, right now (after a checkpoint).
    public func atRest(_ secret: String) async throws -> [String] {
        try await db.checkpoint()
        return CanaryScan.files(in: dir.url, containing: secret)
    }

    /// What the end-of-test scan would find if it ran now, while the daemon runs (its WAL and
    /// shared memory present, nothing checkpointed).
    public func leaksSoFar() -> [String] { leaks() }

    /// Everything the scan found where it must not be.
    func leaks() -> [String] {
        var found: [String] = []
        let (kept, tokens) = secrets.snapshot()
        let logText = logs.text
        if logs.all.isEmpty { found.append("no log line was captured, so the log scan proves nothing") }
        let secrets = kept.sorted()
        found += CanaryScan.finds(in: dir.url, secrets: secrets).map { "'\($0.secret)' at rest: \($0.place) (\($0.encoding))" }
        found += CanaryScan.finds(in: logText, secrets: secrets).map { "'\($0.secret)' in the logs (\($0.encoding))" }
        for token in tokens where !CanaryScan.text(logText, containing: String(token.split(separator: "_").last ?? "")).isEmpty {
            found.append("an admin token in the logs")
        }
        if !CanaryScan.text(logText, containing: ProviderHarness.secret).isEmpty { found.append("the provider's secret in the logs") }
        for line in logs.all where line.replacingOccurrences(of: "447700900999", with: "").contains("447700900") {
            found.append("a number in the logs: \(line.prefix(160))")
        }
        return found
    }
}

/// Strings a test put into play that must not outlive it.
private final class Secrets: Sendable {
    private let state = Mutex<(kept: Set<String>, tokens: [String])>(([], []))

    func add(canary: String) { state.withLock { _ = $0.kept.insert(canary) } }
    func add(token: String) { state.withLock { $0.tokens.append(token) } }

    /// Every number in a webhook other than the service's own (in any provider's shape).
    func note(webhook w: SignedWebhook) {
        if let body = FormEncoding.decode(Array(w.body.utf8))?.first(where: { $0.name == "Body" })?.value,
           body.trimmingCharacters(in: .whitespaces).count >= 12 {
            add(canary: body)
        }
        let bytes = Array(w.body.utf8), prefix = Array("447700900".utf8), ours = String(ProviderHarness.ours.dropFirst())
        var i = 0
        while i + 12 <= bytes.count {
            if bytes[i..<i + 9].elementsEqual(prefix), bytes[i + 9..<i + 12].allSatisfy({ (48...57).contains($0) }) {
                let n = String(decoding: bytes[i..<i + 12], as: UTF8.self)
                if n != ours { state.withLock { _ = $0.kept.insert("+" + n) } }
                i += 12
            } else { i += 1 }
        }
    }

    func snapshot() -> (Set<String>, [String]) { state.withLock { ($0.kept, $0.tokens) } }
}

/// The end-of-test scan found something where it must not be.
public struct CanaryLeak: Error, CustomStringConvertible {
    public let found: [String]
    public var description: String { "found at rest or in the logs:\n" + found.joined(separator: "\n") }
}

public enum HarnessError: Error, CustomStringConvertible {
    case unexpectedAnswer(status: Int, body: String)
    case timedOut(String, outbox: [OutboxStatus: Int])
    public var description: String {
        switch self {
        case .unexpectedAnswer(let status, let body): "the webhook was answered \(status): \(body)"
        case .timedOut(let what, let outbox): "timed out waiting for \(what); outbox: \(outbox)"
        }
    }
}
