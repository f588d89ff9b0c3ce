import Crypto
import Foundation
import LanternProviders
import LanternStore
import Logging
import Metrics
import ServiceLifecycle

/// Posts reports to the coordinators' webhook, signed with HMAC-SHA256 over the exact body
/// (`X-Lantern-Signature: sha256=<hex>`), retrying with backoff, then deletes them.
public struct ReportRelay: Service, CustomStringConvertible {
    let database: AppDatabase
    let url: URL
    let secret: String
    let transport: any HTTPTransport
    let retry: RetryPolicy
    let now: @Sendable () -> Date
    let logger: Logger
    let tick: Duration

    public var description: String { "ReportRelay" }

    public init(database: AppDatabase, url: URL, secret: String, transport: any HTTPTransport, retry: RetryPolicy,
                now: @escaping @Sendable () -> Date, logger: Logger, tick: Duration = .milliseconds(500)) {
        self.database = database
        self.url = url
        self.secret = secret
        self.transport = transport
        self.retry = retry
        self.now = now
        self.logger = logger
        self.tick = tick
    }

    /// The signature a receiver should compute over the raw body to check a report came from us.
    public static func signature(body: Data, secret: String) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    public func run() async throws {
        await PeriodicLoop.run(every: tick, logger: logger, failure: "report relay step failed") { try await sendDue() }
    }

    public func sendDue() async throws {
        for relay in try await database.dueRelays(limit: 20, now: now()) {
            let request = HTTPRequestSpec(method: "POST", url: url, headers: [
                ("Content-Type", "application/json"),
                ("X-Lantern-Signature", Self.signature(body: relay.payload, secret: secret)),
            ], body: relay.payload, timeout: 10)
            var delivered = false
            do {
                let response = try await transport.send(request)
                delivered = (200..<300).contains(response.status)
            } catch {}
            if delivered || relay.attempts + 1 >= retry.maxAttempts {
                try await database.finishRelay(relay.id)
                if !delivered { logger.error("report webhook gave up after retries; the report is dropped", metadata: ["relay": "\(relay.id)"]) }
            } else {
                let delay = retry.delay(afterAttempt: relay.attempts + 1, retryAfter: nil, random: Double.random(in: 0..<1))
                try await database.retryRelay(relay.id, at: now().addingTimeInterval(delay))
                logger.notice("report webhook will be retried", metadata: ["relay": "\(relay.id)", "in_seconds": "\(Int(delay))"])
            }
        }
    }
}
