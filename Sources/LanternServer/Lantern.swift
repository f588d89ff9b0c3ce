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

/// One running Lantern: the database, the flows, the providers, and the services that use
/// them. `lantern serve`, `lantern chat`, the tests and the benchmark all build it the same way.
public struct Lantern: Sendable {
    public let configuration: LanternConfiguration
    public let database: AppDatabase
    public let library: FlowLibrary
    public let providers: [String: any SMSProvider]
    public let conversations: ConversationService
    public let sender: OutboxSender
    public let broadcasts: BroadcastService
    public let broadcastRunner: BroadcastRunner
    public let kits: KitService
    /// What coordinators and admins can do, for every face (API, CLI, console).
    public var desk: CoordinatorDesk { CoordinatorDesk(broadcasts: broadcasts, kits: kits, now: now) }
    public let housekeeping: Housekeeping
    /// The check-in timer (SPOT).
    public let checkIns: CheckInRunner
    let reportRelay: ReportRelay?
    public let flowWarnings: [FlowDiagnostic]
    let metrics: PrometheusCollectorRegistry?
    let adminRateLimit: AdminRateLimit
    /// Shared by both listeners: guessing on one does not reset the count on the other.
    let authenticationFailures = AuthenticationFailures()
    /// The console's templates, parsed once at start (a broken one stops the daemon from starting).
    let consolePages: ConsolePages
    let logger: Logger
    let now: @Sendable () -> Date

    /// Prepares everything and refuses to start on anything unsafe or broken (flow errors,
    /// an unreadable key file), saying what to fix.
    public static func boot(
        configuration: LanternConfiguration,
        logger: Logger,
        metrics: PrometheusCollectorRegistry? = nil,
        transport: any HTTPTransport = URLSessionTransport(),
        console: @escaping @Sendable (String) -> Void = ConsoleProvider.standardOutput,
        now: @escaping @Sendable () -> Date = { Date() },
        random: @escaping @Sendable () -> UInt64 = { UInt64.random(in: .min ... .max) }
    ) throws(BootError) -> Lantern {
        let files = FlowFiles(flowsDirectory: configuration.flowsDirectory, localesDirectory: configuration.localesDirectory)
        let (library, diagnostics) = files.loadAndCheck()
        let errors = diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else { throw .flows(errors) }

        let database = try openDatabase(configuration)

        var providers: [String: any SMSProvider] = [:]
        let registry = configuration.providers.withPublicBaseURL(configuration.publicBaseURL)
        for provider in registry.providers(transport: transport, now: now) { providers[provider.name] = provider }
        for name in registry.unchecked {
            logger.critical("\(name.uppercased()) SIGNATURE CHECK IS OFF: anyone who finds /webhooks/\(name) can send texts as anyone. Never run like this in production (unset LANTERN_\(name.uppercased())_SIGNATURE_CHECK).")
        }
        if providers.isEmpty {
            // The console provider checks no signature: anyone who can reach it can text as anyone.
            guard Loopback.contains(configuration.host) else { throw .unsafe("no SMS provider is configured, so Lantern would use the console provider, which checks no signature; it answers only on 127.0.0.1 or localhost, not on \(configuration.host). Configure a provider (e.g. TWILIO_ACCOUNT_SID…) or set LANTERN_HOST=127.0.0.1") }
            providers["console"] = ConsoleProvider(write: console)
        }
        let plan = configuration.listenerPlan
        if configuration.adminPort == nil && !plan.adminOnWebhookListener {
            logger.notice("the admin API and metrics are not served on \(configuration.host):\(configuration.port), which faces the network: give them their own private listener (LANTERN_ADMIN_HOST=127.0.0.1 LANTERN_ADMIN_PORT=8081), or set LANTERN_ADMIN_ON_PUBLIC_LISTENER=on")
        }

        let wakeUp = OutboxWakeUp()
        let engine = FlowEngine(library: library, relayAlertReplies: configuration.reports.relayAlertReplies,
                                spot: configuration.spot.policy,
                                talk: TalkPolicy(hasPeers: !configuration.talk.peerNumbers.isEmpty, hours: library.talkHours))
        let reports = configuration.reports
        var policy = InboundPolicy(
            kitLimit: configuration.kits.limit, kitPeriod: configuration.kits.limitPeriod,
            reportReferenceLifetime: reports.referenceLifetime, coordinatorNumbers: reports.coordinatorNumbers,
            reportWebhook: reports.webhookURL != nil, random: random)
        policy.talk = configuration.talk.peers
        if library.flows.contains(where: { $0.states.values.contains { $0.actions.contains(.relayReport) } }) && !reports.hasChannel {
            logger.warning("REPORT is offered but no coordinator channel is set: reports are counted and then dropped. Set LANTERN_COORDINATOR_NUMBERS and/or LANTERN_REPORT_WEBHOOK_URL.")
        }
        let checkInWakeUp = OutboxWakeUp()
        let conversations = ConversationService(database: database, engine: engine, policy: policy, limits: configuration.limits,
                                                outboxWakeUp: wakeUp, checkInWakeUp: checkInWakeUp, now: now,
                                                logger: logger)
        let sender = OutboxSender(database: database, providers: providers, pacer: SendPacer(rate: configuration.sendRate, rates: configuration.providerSendRates),
                                  retry: configuration.retry, maxConcurrent: configuration.maxConcurrentSends,
                                  wakeUp: wakeUp, pauses: ProviderPauses(logger: logger),
                                  allowedCountryCodes: configuration.limits.allowedCountryCodes, now: now, logger: logger)
        let broadcastWakeUp = BroadcastWakeUp()
        var settings = configuration.broadcasts
        settings.sendRate = configuration.sendRate
        let broadcasts = BroadcastService(database: database, library: library, settings: settings, wakeUp: broadcastWakeUp,
                                          now: now, logger: logger)
        let runner = BroadcastRunner(database: database, defaultProvider: providers.keys.sorted().first ?? "console",
                                     defaultWording: library.defaultWording,
                                     wakeUp: broadcastWakeUp, outboxWakeUp: wakeUp, now: now, logger: logger)
        let relay = reports.webhookURL.map { url in
            ReportRelay(database: database, url: url, secret: reports.webhookSecret ?? "", transport: transport,
                        retry: configuration.retry, now: now, logger: logger)
        }
        return Lantern(configuration: configuration, database: database, library: library, providers: providers,
                       conversations: conversations, sender: sender, broadcasts: broadcasts, broadcastRunner: runner,
                       kits: KitService(database: database, library: library, now: now, logger: logger),
                       housekeeping: Housekeeping(database: database, kits: configuration.kits, retention: configuration.retention,
                                                  talk: configuration.talk, talkWords: ConversationService.talkWords(library),
                                                                now: now, logger: logger),
                       checkIns: CheckInRunner(database: database, library: library, settings: configuration.spot,
                                               outboxWakeUp: wakeUp, now: now, logger: logger, wakeUp: checkInWakeUp),
                       reportRelay: relay,
                       flowWarnings: diagnostics.filter { $0.severity == .warning }, metrics: metrics,
                       adminRateLimit: AdminRateLimit(perMinute: configuration.limits.adminRequestsPerMinute),
                       consolePages: try Self.pages(), logger: logger, now: now)
    }

    /// The console's templates: shipped inside the binary, so one that will not parse is a build fault.
    static func pages() throws(BootError) -> ConsolePages {
        do { return try ConsolePages.load() } catch { throw .consoleTemplates("\(type(of: error))") }
    }

    /// The data directory (created owner-only), its keys (generated on first run) and the database.
    public static func openDatabase(_ configuration: LanternConfiguration) throws(BootError) -> AppDatabase {
        let dir = configuration.dataDirectory
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw .dataDirectory(dir.path, "\(error.localizedDescription)")
        }
        var st = stat()
        if stat(dir.path, &st) == 0, st.st_mode & 0o022 != 0 {
            // Anyone who can write here can swap the database or the keys.
            throw .dataDirectory(dir.path, "it has mode \(String(st.st_mode & 0o777, radix: 8)), so other users can write to it "
                                 + "and replace the database or its keys. Make it the service's own: chmod 700 \(dir.path)")
        }
        var loaded: VaultKeys?
        let keySettings = configuration.keySettings
        do { loaded = try KeyFile.load(directory: dir, environment: keySettings) } catch { throw .keys(error) }
        if loaded == nil {
            // New keys only ever for an empty database: for one with data they would orphan everyone.
            guard !AppDatabase.holdsData(path: configuration.databasePath) else {
                throw .keysMissing(database: configuration.databasePath,
                                   keyFile: dir.appendingPathComponent(KeyFile.fileName).path)
            }
            do { loaded = try KeyFile.loadOrCreate(directory: dir, environment: keySettings) } catch { throw .keys(error) }
        }
        guard let keys = loaded else { throw .keys(.keyMaterialInvalid(source: dir.path)) }
        do {
            // Follows a `lantern keys rotate` run beside this process by re-reading the keys.
            let vault = PIIVault(keys: keys, reload: { try KeyFile.load(directory: dir, environment: keySettings) ?? keys })
            return try AppDatabase.open(path: configuration.databasePath, vault: vault)
        } catch let error as KeyCheckError {
            throw .wrongKeys(error, source: KeyFile.usesEnvironment(keySettings) ? "LANTERN_DATA_KEY/LANTERN_INDEX_KEY"
                                                                      : dir.appendingPathComponent(KeyFile.fileName).path)
        } catch {
            throw .database(configuration.databasePath, "\(error)")
        }
    }

    /// Everything that runs, in start order. On shutdown the HTTP server stops taking
    /// webhooks first, then the sender finishes what it has in flight.
    public func services(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
                         onAdminRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> [any Service] {
        var list: [any Service] = [sender, broadcastRunner, housekeeping, checkIns, KeyWatcher(vault: database.vault),
                                   ProviderErasureRunner(database: database, providers: providers, now: now, logger: logger)]
            + (reportRelay.map { [$0] } ?? [])
        if let admin = adminApplication(onServerRunning: onAdminRunning) { list.append(admin) }
        list.append(application(onServerRunning: onServerRunning))
        list.append(TalkHubService(hub: conversations.talkHub))
        return list
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully. A listener that cannot open
    /// (port in use, no permission) stops everything at once with `ServeError.cannotListen`.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let group = ServiceGroup(configuration: .init(services: services(onServerRunning: onServerRunning).map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as IOError {
            var addresses = [(configuration.host, configuration.port)]
            if let admin = configuration.adminPort { addresses.append((configuration.adminHost ?? "127.0.0.1", admin)) }
            // Which listener failed: the one we cannot bind now (the other has been closed again).
            let failed = addresses.first { !ListenProbe.canBind(host: $0.0, port: $0.1) } ?? addresses[0]
            let serveError = ServeError.cannotListen(host: failed.0, port: failed.1, errno: error.errnoCode)
            logger.critical("\(serveError)")
            throw serveError
        }
    }
}

extension Lantern {
    /// Runs Swift concurrency on the HTTP server's own threads, saving a thread hand-off per
    /// webhook (Hummingbird's advice for servers). Call once, first thing in `main`.
    public static func shareThreadsWithTheServer() {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}

/// Why `serve` stopped before it could answer anything.
public enum ServeError: Error, CustomStringConvertible {
    case cannotListen(host: String, port: Int, errno: Int32)

    public var description: String {
        switch self {
        case .cannotListen(let host, let port, let code) where code == EADDRINUSE:
            "port \(port) is in use on \(host): is another lantern (or another program) already listening there? "
                + "Stop it, or choose another port with --port / LANTERN_PORT."
        case .cannotListen(let host, let port, let code) where code == EACCES:
            "cannot listen on \(host):\(port): permission denied (ports below 1024 need privileges; use a higher port behind a proxy)"
        case .cannotListen(let host, let port, let code):
            "cannot listen on \(host):\(port): \(String(cString: strerror(code)))"
        }
    }
}

/// Free space where the database lives, for `/readyz`.
enum DiskSpace {
    static func available(at path: String) -> Int64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }
}

/// Tries to bind an address and lets it go again: says which listener could not open.
enum ListenProbe {
    static func canBind(host: String, port: Int) -> Bool {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return true }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        return bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0
    }
}

public enum BootError: Error, CustomStringConvertible {
    case flows([FlowDiagnostic])
    case dataDirectory(String, String)
    case keys(VaultError)
    /// The database holds data but its keys are gone.
    case keysMissing(database: String, keyFile: String)
    /// The keys at hand are not the ones that wrote the database.
    case wrongKeys(KeyCheckError, source: String)
    case database(String, String)
    /// A combination of settings that would expose people (said in full).
    case unsafe(String)
    /// The console's templates, built into the binary, would not parse (a fault in this build).
    case consoleTemplates(String)

    public var description: String {
        switch self {
        case .flows(let d): "the flows have errors; fix them (lantern flows check shows them all):\n" + d.map(\.description).joined(separator: "\n")
        case .dataDirectory(let p, let why): "cannot create data directory \(p): \(why)"
        case .keys(let e): "\(e)"
        case .keysMissing(let database, let keyFile):
            "the database \(database) holds data but its keys are missing: there is no \(keyFile) and "
                + "LANTERN_DATA_KEY/LANTERN_INDEX_KEY are not set. Restore keys.json from your backup (or set the two "
                + "variables). Lantern makes new keys only for an empty database; without the old ones nobody in it can be reached."
        case .wrongKeys(let e, let source): "\(e) (keys read from \(source))"
        case .unsafe(let why): why
        case .consoleTemplates(let why): "the console's page templates in this build would not load (\(why)); rebuild from a clean checkout"
        case .database(let p, let why): "cannot open database \(p): \(why)"
        }
    }
}
