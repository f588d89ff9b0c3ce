import Foundation
import LanternCore
import LanternProviders
import LanternStore
import Logging

/// Every setting Lantern has. Each has a safe default, so `lantern serve` runs with none.
/// Read from `LANTERN_*` / `TWILIO_*` environment variables; secrets never appear in logs.
public struct LanternConfiguration: Sendable {
    public var dataDirectory: URL
    public var host: String
    public var port: Int
    public var flowsDirectory: URL
    public var localesDirectory: URL
    /// The address providers reach us on (e.g. `https://sms.example.org`); signatures are over it.
    public var publicBaseURL: URL?
    /// Vonage, Telnyx, Plivo, Sinch and MessageBird accounts, alongside or instead of Twilio.
    public var providers: ProviderSettings = ProviderSettings()
    /// Segments per second each sending number may send (the provider's rate); 0 means no limit.
    public var sendRate: Double
    /// Per provider, where it differs from `sendRate` (`LANTERN_<PROVIDER>_SEND_RATE`).
    public var providerSendRates: [String: Double] = [:]
    public var maxConcurrentSends: Int
    /// Largest webhook body accepted; anything bigger is refused with 413.
    public var maxBodyBytes: Int
    public var retry: RetryPolicy
    public var logLevel: Logger.Level
    public var broadcasts: BroadcastSettings
    public var kits: KitSettings
    public var reports: ReportSettings
    public var spot = SpotSettings()
    public var talk = TalkSettings()
    public var console = ConsoleSettings()
    public var limits: LimitSettings
    public var retention: RetentionSettings
    /// Where the admin API and metrics listen, when not beside the webhooks (e.g. 127.0.0.1:8081
    /// while webhooks face the internet). Nil: same listener as the webhooks.
    public var adminHost: String?
    public var adminPort: Int?
    /// Serve the admin API and metrics beside the webhooks even when those face the network.
    /// Off by default: give them `adminHost`/`adminPort` instead.
    public var adminOnPublicListener = false
    /// Whether `/metrics` needs an admin token; nil: only where it is reachable from the network.
    public var metricsNeedToken: Bool?
    /// A connection that sends nothing for this long is closed (slow-loris protection).
    public var idleTimeout: TimeInterval
    /// A whole request (headers and body) must arrive within this many seconds, however slowly
    /// it trickles (slow-body protection).
    public var requestDeadline: TimeInterval = 10
    /// Open connections per listener, and per client address; beyond them new ones are closed at once.
    public var maxConnections: Int = 1024
    public var maxConnectionsPerAddress: Int = 64
    /// `/readyz` says not ready when the data directory's disk has less free space than this:
    /// SQLite cannot record a text (or an opt-out) on a full disk.
    public var minFreeDiskBytes: Int64 = 64 * 1024 * 1024
    /// The vault's keys when they come from settings (`LANTERN_DATA_KEY`, `LANTERN_INDEX_KEY`, …)
    /// rather than `keys.json`.
    public var keySettings: [String: String] = [:]
    /// Where each setting read came from: the environment, the config file, or the default.
    public var settingOrigins: [String: SettingSources.Origin] = [:]

    public static let databaseFileName = "lantern.sqlite"

    public init(dataDirectory: URL = URL(fileURLWithPath: ".lantern"), host: String = "127.0.0.1", port: Int = 8080,
                flowsDirectory: URL = URL(fileURLWithPath: "flows"), localesDirectory: URL = URL(fileURLWithPath: "locales"),
                publicBaseURL: URL? = nil, sendRate: Double = 1,
                maxConcurrentSends: Int = 8, maxBodyBytes: Int = 64 * 1024, retry: RetryPolicy = RetryPolicy(),
                logLevel: Logger.Level = .info, broadcasts: BroadcastSettings = BroadcastSettings(),
                kits: KitSettings = KitSettings(), reports: ReportSettings = ReportSettings(),
                limits: LimitSettings = LimitSettings(), retention: RetentionSettings = RetentionSettings(),
                adminHost: String? = nil, adminPort: Int? = nil, idleTimeout: TimeInterval = 30) {
        self.limits = limits
        self.retention = retention
        self.adminHost = adminHost
        self.adminPort = adminPort
        self.idleTimeout = idleTimeout
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.flowsDirectory = flowsDirectory
        self.localesDirectory = localesDirectory
        self.publicBaseURL = publicBaseURL
        self.sendRate = sendRate
        self.maxConcurrentSends = maxConcurrentSends
        self.maxBodyBytes = maxBodyBytes
        self.retry = retry
        self.logLevel = logLevel
        self.broadcasts = broadcasts
        self.kits = kits
        self.reports = reports
    }

    public var databasePath: String { dataDirectory.appendingPathComponent(Self.databaseFileName).path }

    /// Where the admin API and metrics are served, and whether metrics need a token there.
    /// Where a coordinator's browser reaches the console: the admin listener when there is one,
    /// else the public URL when the console is served beside the webhooks there, else this host.
    public var consoleBaseURL: String {
        if let adminPort { return "http://\(adminHost ?? "127.0.0.1"):\(adminPort)" }
        if let publicBaseURL, !Loopback.contains(host) || adminOnPublicListener {
            return publicBaseURL.absoluteString.hasSuffix("/") ? String(publicBaseURL.absoluteString.dropLast()) : publicBaseURL.absoluteString
        }
        return "http://\(host):\(port)"
    }

    public var listenerPlan: ListenerPlan {
        let publicFacing = !Loopback.contains(host)
        return ListenerPlan(adminOnWebhookListener: adminPort == nil && (!publicFacing || adminOnPublicListener),
                            metricsNeedTokenOnWebhookListener: metricsNeedToken ?? publicFacing,
                            metricsNeedTokenOnAdminListener: metricsNeedToken ?? !Loopback.contains(adminHost ?? "127.0.0.1"))
    }


    /// Reads the environment, and the config file it names (`LANTERN_CONFIG_FILE`) beneath it.
    /// Refuses settings that would silently run unsafely.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> LanternConfiguration {
        try read(from: SettingSources(environment: env))
    }

    /// Reads every setting from `sources`, checking each; the first problem is thrown.
    public static func read(from sources: SettingSources) throws(ConfigurationError) -> LanternConfiguration {
        var c = LanternConfiguration()
        func nonEmpty(_ name: String) -> String? { sources.value(name) }
        if let v = nonEmpty("LANTERN_DATA_DIR") { c.dataDirectory = URL(fileURLWithPath: v) }
        if let v = nonEmpty("LANTERN_HOST") { c.host = v }
        if let v = nonEmpty("LANTERN_PORT") {
            guard let p = Int(v), (0...65535).contains(p) else { throw .invalid("LANTERN_PORT", "must be a port number") }
            c.port = p
        }
        if let v = nonEmpty("LANTERN_ADMIN_HOST") { c.adminHost = v }
        if let v = nonEmpty("LANTERN_ADMIN_PORT") {
            guard let p = Int(v), (0...65535).contains(p) else { throw .invalid("LANTERN_ADMIN_PORT", "must be a port number") }
            c.adminPort = p
        }
        switch nonEmpty("LANTERN_METRICS_TOKEN")?.lowercased() {
        case nil: break
        case "required": c.metricsNeedToken = true
        case "off": c.metricsNeedToken = false
        default: throw .invalid("LANTERN_METRICS_TOKEN", "must be required or off")
        }
        switch nonEmpty("LANTERN_ADMIN_ON_PUBLIC_LISTENER")?.lowercased() {
        case nil, "off": break
        case "on": c.adminOnPublicListener = true
        default: throw .invalid("LANTERN_ADMIN_ON_PUBLIC_LISTENER", "must be on or off")
        }
        if c.adminHost != nil && c.adminPort == nil {
            throw .invalid("LANTERN_ADMIN_PORT", "is required with LANTERN_ADMIN_HOST (the admin API needs its own port)")
        }
        if let v = nonEmpty("LANTERN_FLOWS_DIR") { c.flowsDirectory = URL(fileURLWithPath: v) }
        if let v = nonEmpty("LANTERN_LOCALES_DIR") { c.localesDirectory = URL(fileURLWithPath: v) }
        if let v = nonEmpty("LANTERN_PUBLIC_URL") {
            guard let u = URL(string: v), let scheme = u.scheme, ["http", "https"].contains(scheme), let host = u.host else {
                throw .invalid("LANTERN_PUBLIC_URL", "must be an http(s) URL such as https://sms.example.org")
            }
            // Texts and signatures would cross the internet in the clear.
            guard scheme == "https" || Loopback.contains(host) else {
                throw .invalid("LANTERN_PUBLIC_URL", "must be https:// (put TLS in front, e.g. Caddy); plain http is allowed only for 127.0.0.1 or localhost")
            }
            c.publicBaseURL = u
        }
        if let v = nonEmpty("LANTERN_SEND_RATE") {
            guard let r = Double(v), r >= 0 else { throw .invalid("LANTERN_SEND_RATE", "must be segments per second (0 for no limit)") }
            c.sendRate = r
        }
        for provider in ProviderSettings.names {
            let name = "LANTERN_\(provider.uppercased())_SEND_RATE"
            guard let v = nonEmpty(name) else { continue }
            guard let r = Double(v), r >= 0, r.isFinite else { throw .invalid(name, "must be segments per second for each \(provider) number (0 for no limit)") }
            c.providerSendRates[provider] = r
        }
        if let v = nonEmpty("LANTERN_MAX_CONCURRENT_SENDS") {
            guard let n = Int(v), n > 0 else { throw .invalid("LANTERN_MAX_CONCURRENT_SENDS", "must be a positive whole number") }
            c.maxConcurrentSends = n
        }
        if let v = nonEmpty("LANTERN_LOG_LEVEL") {
            guard let l = Logger.Level(rawValue: v.lowercased()) else { throw .invalid("LANTERN_LOG_LEVEL", "must be trace, debug, info, notice, warning, error or critical") }
            c.logLevel = l
        }

        if let v = nonEmpty("LANTERN_BROADCAST_APPROVAL") {
            switch v.lowercased() {
            case "required": c.broadcasts.approvalRequired = true
            case "optional": c.broadcasts.approvalRequired = false
            default: throw .invalid("LANTERN_BROADCAST_APPROVAL", "must be required or optional")
            }
        }
        func wholeNumber(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
            guard let v = nonEmpty(name) else { return nil }
            guard let n = Int(v), range.contains(n) else {
                throw .invalid(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }
        if let v = nonEmpty("LANTERN_BROADCAST_DEFAULT_HOURS") {
            let most = Int(c.broadcasts.maxExpiryHours)
            guard let h = Double(v), h > 0, h <= c.broadcasts.maxExpiryHours else {
                throw .invalid("LANTERN_BROADCAST_DEFAULT_HOURS", "must be a number of hours above 0 and at most \(most): an alert may stay live for at most \(most) hours")
            }
            c.broadcasts.defaultExpiryHours = h
        }
        if let v = nonEmpty("LANTERN_PRICE_PER_SEGMENT") {
            guard let p = Double(v), p >= 0 else { throw .invalid("LANTERN_PRICE_PER_SEGMENT", "must be a price such as 0.04") }
            c.broadcasts.pricePerSegment = p
        }
        if let v = nonEmpty("LANTERN_CURRENCY") { c.broadcasts.currency = v }
        func positive(_ name: String) throws(ConfigurationError) -> Double? {
            guard let v = nonEmpty(name) else { return nil }
            guard let d = Double(v), d > 0 else { throw .invalid(name, "must be a positive number") }
            return d
        }
        if let d = try positive("LANTERN_KIT_ADDRESS_DAYS") { c.kits.addressLifetime = d * 86400 }
        if let n = try wholeNumber("LANTERN_KIT_LIMIT", in: 1...100) { c.kits.limit = n }
        if let d = try positive("LANTERN_KIT_LIMIT_DAYS") { c.kits.limitPeriod = d * 86400 }
        if let n = try wholeNumber("LANTERN_CONTACT_MESSAGES_PER_MINUTE", in: 1...1000) { c.limits.messagesPerContactPerMinute = n }
        if nonEmpty("LANTERN_REPLIES_PER_MINUTE") != nil {
            throw .invalid("LANTERN_REPLIES_PER_MINUTE", "was renamed LANTERN_REPLY_SEGMENTS_PER_MINUTE: the limit now counts SMS segments (what the provider bills)")
        }
        if let n = try wholeNumber("LANTERN_REPLY_SEGMENTS_PER_MINUTE", in: 1...1_000_000) { c.limits.replySegmentsPerMinute = n }
        if let d = try positive("LANTERN_REPLY_MAX_WAIT") { c.limits.replyMaxWait = d }
        if let n = try wholeNumber("LANTERN_ADMIN_REQUESTS_PER_MINUTE", in: 1...1_000_000) { c.limits.adminRequestsPerMinute = n }
        if let v = nonEmpty("LANTERN_ALLOWED_COUNTRY_CODES") {
            let codes = Set(v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "+")) })
            guard !codes.isEmpty, codes.allSatisfy({ $0 == "*" || (!$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber)) }) else {
                throw .invalid("LANTERN_ALLOWED_COUNTRY_CODES", "must be calling codes separated by commas, e.g. 44,353 (or * for any)")
            }
            c.limits.allowedCountryCodes = codes
        }
        if let v = nonEmpty("LANTERN_OWN_NUMBERS") {
            for raw in v.split(separator: ",") {
                guard let n = PhoneNumber(String(raw)) else { throw .invalid("LANTERN_OWN_NUMBERS", "must be phone numbers separated by commas") }
                c.limits.ownNumbers.insert(n.e164)
            }
        }
        if let d = try positive("LANTERN_CONVERSATION_IDLE_HOURS") { c.retention.conversationIdle = d * 3600 }
        if let d = try positive("LANTERN_CONTACT_IDLE_DAYS") { c.retention.contactIdle = d * 86400 }
        if let d = try positive("LANTERN_SEEN_WEBHOOK_HOURS") { c.retention.seenWebhooks = d * 3600 }
        if let d = try positive("LANTERN_SENT_HISTORY_DAYS") { c.retention.sentHistory = d * 86400 }
        if let d = try positive("LANTERN_IDLE_TIMEOUT_SECONDS") { c.idleTimeout = d }
        if let d = try positive("LANTERN_REQUEST_DEADLINE_SECONDS") { c.requestDeadline = d }
        if let n = try wholeNumber("LANTERN_MAX_CONNECTIONS", in: 1...1_000_000) { c.maxConnections = n }
        if let n = try wholeNumber("LANTERN_MAX_CONNECTIONS_PER_ADDRESS", in: 1...1_000_000) { c.maxConnectionsPerAddress = n }
        if let d = try positive("LANTERN_MIN_FREE_DISK_MB") { c.minFreeDiskBytes = Int64(d * 1024 * 1024) }
        if let d = try positive("LANTERN_REPORT_REF_DAYS") { c.reports.referenceLifetime = d * 86400 }
        switch nonEmpty("LANTERN_RELAY_ALERT_REPLIES")?.lowercased() {
        case nil, "off": break
        case "on": c.reports.relayAlertReplies = true
        default: throw .invalid("LANTERN_RELAY_ALERT_REPLIES", "must be on or off")
        }
        if let v = nonEmpty("LANTERN_COORDINATOR_NUMBERS") {
            var numbers: [PhoneNumber] = []
            for raw in v.split(separator: ",") {
                guard let n = PhoneNumber(String(raw)) else { throw .invalid("LANTERN_COORDINATOR_NUMBERS", "must be phone numbers separated by commas") }
                numbers.append(n)
            }
            c.reports.coordinatorNumbers = numbers
        }
        switch nonEmpty("LANTERN_CONSOLE_2FA")?.lowercased() {
        case nil, "on": break
        case "off": c.console.twoFactor = false
        default: throw .invalid("LANTERN_CONSOLE_2FA", "must be on or off")
        }
        if let v = nonEmpty("LANTERN_PEER_NUMBERS") {
            var numbers: [PhoneNumber] = []
            for raw in v.split(separator: ",") {
                guard let n = PhoneNumber(String(raw)) else { throw .invalid("LANTERN_PEER_NUMBERS", "must be phone numbers separated by commas") }
                numbers.append(n)
            }
            c.talk.peerNumbers = numbers
        }
        if let n = try wholeNumber("LANTERN_TALK_QUIET_HOURS", in: 1...168) { c.talk.quietHours = n }
        if let n = try wholeNumber("LANTERN_TALK_PER_DAY", in: 1...1000) { c.talk.perThreadPerDay = n }
        if let n = try wholeNumber("LANTERN_SPOT_GRACE_MINUTES", in: 1...30) { c.spot.graceMinutes = n }
        if let n = try wholeNumber("LANTERN_SPOT_REMINDER_MINUTES", in: 1...60) { c.spot.reminderMinutes = n }
        if let v = nonEmpty("LANTERN_SPOT_ONCALL_NUMBERS") {
            var numbers: [PhoneNumber] = []
            for raw in v.split(separator: ",") {
                guard let n = PhoneNumber(String(raw)) else { throw .invalid("LANTERN_SPOT_ONCALL_NUMBERS", "must be phone numbers separated by commas") }
                numbers.append(n)
            }
            c.spot.onCallNumbers = numbers
        }
        if let v = nonEmpty("LANTERN_REPORT_WEBHOOK_URL") {
            guard let u = URL(string: v), u.scheme == "https" || u.scheme == "http" else {
                throw .invalid("LANTERN_REPORT_WEBHOOK_URL", "must be an http(s) URL")
            }
            guard let secret = nonEmpty("LANTERN_REPORT_WEBHOOK_SECRET"), secret.count >= 16 else {
                throw .invalid("LANTERN_REPORT_WEBHOOK_SECRET", "is required with LANTERN_REPORT_WEBHOOK_URL (at least 16 characters) to sign each report")
            }
            c.reports.webhookURL = u
            c.reports.webhookSecret = secret
        }

        c.providers = try ProviderSettings.read(from: sources, publicBaseURL: c.publicBaseURL)
        for raw in c.providers.ownNumbers {
            if let n = PhoneNumber(international: raw) { c.limits.ownNumbers.insert(n.e164) }
        }
        // The vault's keys, from the environment or the config file alike; both or neither.
        for name in KeyFile.settingNames { if let v = nonEmpty(name) { c.keySettings[name] = v } }
        switch (c.keySettings["LANTERN_DATA_KEY"], c.keySettings["LANTERN_INDEX_KEY"]) {
        case (nil, nil), (_?, _?): break
        case (nil, _?): throw .invalid("LANTERN_DATA_KEY", "is required with LANTERN_INDEX_KEY (set both, or neither to use keys.json)")
        case (_?, nil): throw .invalid("LANTERN_INDEX_KEY", "is required with LANTERN_DATA_KEY (set both, or neither to use keys.json)")
        }
        c.settingOrigins = sources.origins
        return c
    }
}

/// Kit requests: nothing kept longer than fulfilment needs.
public struct KitSettings: Sendable {
    /// An open request's address is deleted after this long even if nobody acted (default 14 days).
    public var addressLifetime: TimeInterval = 14 * 86400
    public var limit: Int = 3
    public var limitPeriod: TimeInterval = 30 * 86400
    public init() {}
}

/// Abuse and cost control. Every limit lets STOP and FORGET through.
public struct LimitSettings: Sendable {
    /// Texts one number may send per minute before replies pause (she is told once).
    public var messagesPerContactPerMinute: Int = 10
    /// Reply segments the whole service sends per minute at most (an SMS-pumping brake);
    /// replies over it wait for a later minute.
    public var replySegmentsPerMinute: Int = 600
    /// How long a reply may wait for room under that limit before it is given up (and logged).
    public var replyMaxWait: TimeInterval = 600
    /// Requests per minute one admin token may make.
    public var adminRequestsPerMinute: Int = 120
    /// Countries (calling codes) Lantern texts at all, whatever the provider would allow: an
    /// SMS-pumping brake. "*" for any.
    public var allowedCountryCodes: Set<String> = ["44"]
    /// The service's own numbers (E.164): texts from them are loops and are dropped.
    public var ownNumbers: Set<String> = []
    public init() {}
}

/// The coordinator console in the browser.
public struct ConsoleSettings: Sendable {
    /// A one-time code from an authenticator app as well as the password (`LANTERN_CONSOLE_2FA`).
    public var twoFactor = true
    /// A session unused for this long is signed out.
    public var idleTimeout: TimeInterval = 30 * 60
    /// How long an invite link works.
    public var inviteLifetime: TimeInterval = 24 * 3600
    /// bcrypt's work factor for new passwords: 12 takes about a quarter of a second here. Tests
    /// lower it; a stored hash carries its own factor, so checking always uses the one it was made with.
    public var bcryptCost: UInt8 = 12
    public init() {}
}

/// How check-ins run: who else is told when she doesn't answer, and how long each wait is.
public struct SpotSettings: Sendable {
    /// The service's own on-call phones, told (with her buddies) when a check-in goes unanswered.
    public var onCallNumbers: [PhoneNumber] = []
    /// How long she has to answer "Are you OK?" before her buddies are told.
    public var graceMinutes = 3
    /// How long after her buddies are told before one reminder, and again before it stops.
    public var reminderMinutes = 5
    public init() {}

    public var policy: SpotPolicy { SpotPolicy(hasOnCall: !onCallNumbers.isEmpty, graceMinutes: graceMinutes) }
}

/// TALK: the peers' phones and the thread's limits.
public struct TalkSettings: Sendable {
    /// On-duty peers' phones: her TALK texts go to them, and they answer with the thread's reference.
    public var peerNumbers: [PhoneNumber] = []
    /// A thread nobody has written in for this long closes (she and the peer are told).
    public var quietHours = 24
    /// Her texts relayed per thread per day.
    public var perThreadPerDay = 60
    public init() {}

    public var peers: TalkPeers { TalkPeers(numbers: peerNumbers, perThreadPerDay: perThreadPerDay) }
}

/// Where reports go, and how long a coordinator can answer one.
public struct ReportSettings: Sendable {
    public var coordinatorNumbers: [PhoneNumber] = []
    public var webhookURL: URL?
    public var webhookSecret: String?
    public var referenceLifetime: TimeInterval = 7 * 86400
    /// Pass replies to an alert ("is it in the brown?") to the coordinators as reports they can answer.
    public var relayAlertReplies = false
    public init() {}

    public var hasChannel: Bool { !coordinatorNumbers.isEmpty || webhookURL != nil }
}

public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalid(String, String)
    public var description: String {
        switch self {
        case .invalid(let name, let why): "\(name) \(why)"
        }
    }
}

/// How failed sends are retried: exponential backoff with full jitter, so a provider outage
/// does not turn into a thundering herd when it recovers.
public struct RetryPolicy: Sendable {
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval
    public var maxAttempts: Int

    public init(baseDelay: TimeInterval = 2, maxDelay: TimeInterval = 600, maxAttempts: Int = 12) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
    }

    /// Delay before attempt `attempt + 1`, given a random number in 0..<1.
    public func delay(afterAttempt attempt: Int, retryAfter: TimeInterval?, random: Double) -> TimeInterval {
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(max(0, attempt - 1))))
        let jittered = ceiling / 2 + ceiling / 2 * random
        return max(jittered, min(retryAfter ?? 0, maxDelay))
    }
}

/// The admin API and metrics stay off a listener that faces the network unless asked for, and
/// metrics there need a token: they are not for anyone who finds the address.
public struct ListenerPlan: Sendable, Equatable {
    public let adminOnWebhookListener: Bool
    public let metricsNeedTokenOnWebhookListener: Bool
    public let metricsNeedTokenOnAdminListener: Bool
}

/// Addresses only this machine can reach.
public enum Loopback {
    public static func contains(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }
}
