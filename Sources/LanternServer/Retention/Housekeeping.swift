import Foundation
import LanternStore
import Logging
import Metrics
import ServiceLifecycle

/// The retention janitor: kit addresses past their time, expired report references, idle
/// conversations and contacts, old dedupe ids and finished texts' recipients.
public struct Housekeeping: Service, CustomStringConvertible {
    let database: AppDatabase
    let kits: KitSettings
    let retention: RetentionSettings
    let now: @Sendable () -> Date
    let logger: Logger
    let tick: Duration
    /// TALK threads nobody has written in for the quiet period close (she and the peer are told).
    let talk: TalkSettings
    let talkWords: TalkWords?

    public var description: String { "Housekeeping" }

    public init(database: AppDatabase, kits: KitSettings, retention: RetentionSettings = RetentionSettings(),
                talk: TalkSettings = TalkSettings(), talkWords: TalkWords? = nil,
                now: @escaping @Sendable () -> Date, logger: Logger, tick: Duration = .seconds(60)) {
        self.talk = talk
        self.talkWords = talkWords
        self.database = database
        self.retention = retention
        self.kits = kits
        self.now = now
        self.logger = logger
        self.tick = tick
    }

    public func run() async throws {
        await PeriodicLoop.run(every: tick, logger: logger, failure: "housekeeping failed; will try again") { try await runOnce() }
    }

    @discardableResult
    public func runOnce() async throws -> RetentionCounts {
        let k = try await database.expireKits(addressLifetime: kits.addressLifetime, now: now())
        try await database.expireReportReferences(now: now())
        if k.expired + k.deleted > 0 {
            logger.info("kit requests expired", metadata: ["addresses_deleted": "\(k.expired)", "requests_deleted": "\(k.deleted)"])
        }
        if let talkWords, !talk.peerNumbers.isEmpty {
            let closed = try await database.closeQuietTalks(quiet: Double(talk.quietHours) * 3600, peers: talk.peers, words: talkWords, now: now())
            if closed > 0 { logger.info("quiet TALK threads closed", metadata: ["threads": "\(closed)"]) }
        }
        let swept = try await database.sweep(retention, now: now())
        let removed: [(String, Int)] = [
            ("conversations", swept.conversations), ("contacts", swept.contacts), ("seen_webhooks", swept.seenWebhooks),
            ("sent_history", swept.sentHistory), ("kit_addresses", k.expired), ("kit_requests", k.deleted),
        ]
        for (what, n) in removed where n > 0 {
            Counter(label: "lantern_retention_removed_total", dimensions: [("what", what)]).increment(by: n)
        }
        if swept.total > 0 {
            logger.info("retention sweep", metadata: removed.reduce(into: Logger.Metadata()) { $0[$1.0] = "\($1.1)" })
        }
        return swept
    }
}

/// Re-reads the vault keys every couple of seconds, off the request path, so a `lantern keys
/// rotate` run beside this server is followed within moments.
public struct KeyWatcher: Service, CustomStringConvertible {
    let vault: PIIVault
    public var description: String { "KeyWatcher" }

    public func run() async throws {
        let idle = OutboxWakeUp()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await idle.idle(upTo: PIIVault.refreshInterval)
            vault.refreshKeys()
        }
    }
}
