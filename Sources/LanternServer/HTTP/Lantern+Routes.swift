import Foundation
import Hummingbird
import LanternCore
import LanternProviders
import LanternStore
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif


/// The HTTP faces of a built Lantern: which routes each listener serves.
extension Lantern {
    /// The HTTP side: webhooks and health, plus the admin API and metrics unless those have a
    /// listener of their own (`adminHost`/`adminPort`).
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: LanternRequestContext.self)
        router.add(middleware: SecurityHeaders(logger: logger))
        WebhookRoutes(providers: providers, conversations: conversations, pauses: sender.pauses, maxBodyBytes: configuration.maxBodyBytes,
                      now: now, logger: logger).register(on: router)
        addHealth(to: router)
        let plan = configuration.listenerPlan
        if plan.adminOnWebhookListener {
            addAdmin(to: router, metricsNeedToken: plan.metricsNeedTokenOnWebhookListener)
            addConsole(to: router)
        }
        return makeApplication(router, host: configuration.host, port: configuration.port, onServerRunning: onServerRunning)
    }

    /// The admin API, metrics and health on their own address, when configured.
    public func adminApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> (some ApplicationProtocol)? {
        guard let port = configuration.adminPort else { return nil as Application<RouterResponder<LanternRequestContext>>? }
        let router = Router(context: LanternRequestContext.self)
        router.add(middleware: SecurityHeaders(logger: logger))
        addHealth(to: router)
        addAdmin(to: router, metricsNeedToken: configuration.listenerPlan.metricsNeedTokenOnAdminListener)
        addConsole(to: router)
        return makeApplication(router, host: configuration.adminHost ?? "127.0.0.1", port: port, onServerRunning: onServerRunning)
    }

    func makeApplication(_ router: Router<LanternRequestContext>, host: String, port: Int,
                         onServerRunning: @escaping @Sendable (Int) async -> Void) -> Application<RouterResponder<LanternRequestContext>> {
        let connections = ConnectionCount(maxTotal: configuration.maxConnections, maxPerAddress: configuration.maxConnectionsPerAddress)
        let deadline = TimeAmount.milliseconds(Int64(configuration.requestDeadline * 1000))
        let logger = self.logger
        return Application(router: router,
                    server: .http1(configuration: .init(
                        additionalChannelHandlers: [ConnectionGuard(connections: connections, deadline: deadline, logger: logger)],
                        idleTimeout: .milliseconds(Int64(configuration.idleTimeout * 1000)))),
                    configuration: .init(address: .hostname(host, port: port), serverName: nil),
                    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
                    logger: logger)
    }

    func addAdmin(to router: Router<LanternRequestContext>, metricsNeedToken: Bool) {
        AdminRoutes(desk: desk, rateLimit: adminRateLimit, failures: authenticationFailures,
                    maxBodyBytes: configuration.maxBodyBytes,
                    now: now, logger: logger).register(on: router)
        if let metrics {
            let database = self.database
            router.get("/metrics") { request, _ -> Response in
                if metricsNeedToken {
                    guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
                          try await database.adminIdentity(forToken: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)) != nil else {
                        return PlainError(.unauthorized, "metrics on this address need an admin token (Authorization: Bearer lnt_…)").response
                    }
                }
                return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                         body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
            }
        }
    }

    /// The coordinator console, wherever the admin API is served.
    func addConsole(to router: Router<LanternRequestContext>) {
        ConsoleRoutes(access: ConsoleAccess(database: database, settings: configuration.console, now: now), desk: desk, database: database,
                      pages: consolePages, settings: configuration.console, baseURL: configuration.consoleBaseURL,
                      secureCookies: configuration.publicBaseURL?.scheme == "https",
                      failures: authenticationFailures, talkHub: conversations.talkHub, talkPeers: configuration.talk.peers,
                      outboxWakeUp: conversations.outboxWakeUp, now: now, logger: logger).register(on: router)
    }

    func addHealth(to router: Router<LanternRequestContext>) {
        let database = self.database
        let flowsLoaded = !library.flows.isEmpty
        let dataDirectory = configuration.dataDirectory.path, minFree = configuration.minFreeDiskBytes
        let pauses = sender.pauses
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            var problems: [String] = []
            if !flowsLoaded { problems.append("no flows loaded") }
            if await !database.ping() { problems.append("database unavailable") }
            if let free = DiskSpace.available(at: dataDirectory), free < minFree {
                problems.append("disk nearly full (\(free / 1_048_576) MB free where the database lives; texts cannot be recorded)")
            }
            guard problems.isEmpty else {
                return PlainError(.serviceUnavailable, "not ready: " + problems.joined(separator: "; ")).response
            }
            // A paused provider does not make the service unready: texts still come in, STOP is
            // still honoured and replies wait. It is said, for whoever watches.
            let paused = pauses.all.sorted { $0.key < $1.key }
            if !paused.isEmpty {
                let detail = paused.map { "sending through \($0.key) is paused: \($0.value.reason)" }.joined(separator: "\n")
                return Response(status: .ok, headers: [.contentType: "text/plain"],
                                body: .init(byteBuffer: ByteBuffer(string: "ready (degraded)\n\(detail)\n")))
            }
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
        }
    }
}
