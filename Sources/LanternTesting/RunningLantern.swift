import Foundation
import LanternCore
import LanternProviders
import LanternServer
import LanternStore
import Logging
import Prometheus
import ServiceLifecycle
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A whole Lantern daemon on a free loopback port, with a real SQLite file, for end-to-end
/// tests and the benchmark.
public struct RunningLantern: Sendable {
    public let lantern: Lantern
    public let baseURL: URL
    /// The admin listener's address, when the configuration gives the admin API its own.
    public let adminURL: URL?
    let group: ServiceGroup
    let task: Task<Void, any Error>

    public static func start(configuration: LanternConfiguration, logger: Logger,
                             transport: any HTTPTransport = URLSessionTransport(),
                             console: @escaping @Sendable (String) -> Void = { _ in },
                             metrics: PrometheusCollectorRegistry? = nil,
                             now: @escaping @Sendable () -> Date = { Date() }) async throws -> RunningLantern {
        var config = configuration
        config.host = "127.0.0.1"
        config.port = 0
        if config.adminPort != nil {
            config.adminHost = "127.0.0.1"
            config.adminPort = 0
        }
        // Booting is synchronous work (SQLite, migrations, flows and their keyword index): done on
        // a thread of its own, so dozens of tests starting at once never hold up the few shared
        // threads every test server answers on.
        let settled = config
        let lantern = try await onThreadOfItsOwn {
            try Lantern.boot(configuration: settled, logger: logger, metrics: metrics, transport: transport, console: console, now: now)
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let (adminPorts, adminContinuation) = AsyncStream.makeStream(of: Int.self)
        let services = lantern.services(onServerRunning: { port in continuation.yield(port) },
                                        onAdminRunning: { port in adminContinuation.yield(port) })
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
        let task = Task { try await group.run() }
        var it = ports.makeAsyncIterator()
        guard let port = await it.next() else { throw CancellationError() }
        var adminURL: URL?
        if config.adminPort != nil {
            var a = adminPorts.makeAsyncIterator()
            guard let adminPort = await a.next() else { throw CancellationError() }
            adminURL = URL(string: "http://127.0.0.1:\(adminPort)")!
        }
        return RunningLantern(lantern: lantern, baseURL: URL(string: "http://127.0.0.1:\(port)")!, adminURL: adminURL, group: group, task: task)
    }

    /// Graceful shutdown, as on SIGTERM: stop taking webhooks, finish in-flight sends.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    public var database: AppDatabase { lantern.database }
}

/// A test configuration: everything in `directory`, the shipped flows, Twilio pointed at a fake.
public func testConfiguration(directory: URL, fakeAPI: URL? = nil, authToken: String = "test-auth-token",
                              publicBaseURL: String = "https://sms.example.org", sendRate: Double = 0,
                              requestTimeout: TimeInterval = 10) -> LanternConfiguration {
    var c = LanternConfiguration(dataDirectory: directory, flowsDirectory: Repository.flows, localesDirectory: Repository.locales,
                                 publicBaseURL: URL(string: publicBaseURL), sendRate: sendRate,
                                 retry: RetryPolicy(baseDelay: 0.05, maxDelay: 0.5, maxAttempts: 6))
    c.limits.allowedCountryCodes = ["44", Seed.syntheticCountryCode]
    // bcrypt at its lowest: tests are about what the console does, and share two cores.
    c.console.bcryptCost = 4
    if let fakeAPI {
        c.providers.twilio = TwilioConfiguration(accountSID: "AC00000000000000000000000000000000", authToken: authToken,
                                       fromNumber: "+447700900999", apiBaseURL: fakeAPI,
                                       publicBaseURL: URL(string: publicBaseURL), requestTimeout: requestTimeout)
    }
    return c
}

/// A small HTTP client for tests, over URLSession.
public struct TestHTTPClient: Sendable {
    public struct Response: Sendable {
        public let status: Int
        public let body: String
        public let headers: [String: String]
    }

    let session = URLSession(configuration: .ephemeral)
    public init() {}

    public func request(_ method: String, _ url: URL, headers: [String: String] = [:], body: String? = nil) async throws -> Response {
        var r = URLRequest(url: url, timeoutInterval: 10)
        r.httpMethod = method
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        r.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await session.data(for: r)
        let http = response as! HTTPURLResponse
        var h: [String: String] = [:]
        for (k, v) in http.allHeaderFields { if let k = k as? String, let v = v as? String { h[k.lowercased()] = v } }
        return Response(status: http.statusCode, body: String(decoding: data, as: UTF8.self), headers: h)
    }

    public func post(_ base: URL, _ signed: TwilioWebhookBuilder.Signed) async throws -> Response {
        try await request("POST", URL(string: base.absoluteString + signed.path)!, headers: signed.headers, body: signed.body)
    }
}

/// Runs blocking work on a new thread and awaits it, leaving Swift's shared threads free.
public func onThreadOfItsOwn<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
