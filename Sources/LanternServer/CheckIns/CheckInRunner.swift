import Foundation
import LanternCore
import LanternStore
import Logging
import Metrics
import ServiceLifecycle

/// The check-in timer: every second, each check-in whose time has come takes its next step in
/// the same transaction as the texts it queues, so a crash or a restart can neither lose a step
/// nor take it twice. Steps: ask her → ask her buddies → remind them once → stop.
public struct CheckInRunner: Service, CustomStringConvertible {
    let database: AppDatabase
    let library: FlowLibrary
    let settings: SpotSettings
    let outboxWakeUp: OutboxWakeUp
    /// Woken when she asks for help, so her buddies are asked at once rather than at the next tick.
    let wakeUp: OutboxWakeUp
    let now: @Sendable () -> Date
    let logger: Logger
    let tick: Duration
    /// Check-ins stepped per transaction: a thousand due at once never hold the writer for long.
    static let batch = 500

    public var description: String { "CheckInRunner" }

    public init(database: AppDatabase, library: FlowLibrary, settings: SpotSettings, outboxWakeUp: OutboxWakeUp,
                now: @escaping @Sendable () -> Date, logger: Logger, tick: Duration = .seconds(1), wakeUp: OutboxWakeUp = OutboxWakeUp()) {
        self.wakeUp = wakeUp
        self.database = database
        self.library = library
        self.settings = settings
        self.outboxWakeUp = outboxWakeUp
        self.now = now
        self.logger = logger
        self.tick = tick
    }

    public func run() async throws {
        await PeriodicLoop.run(every: tick, wakeUp: wakeUp, logger: logger, failure: "check-in step failed; retrying in a second") {
            try await runOnce()
        }
    }

    /// Takes every step that is due now; returns how late each was (seconds after it fell due).
    @discardableResult
    public func runOnce() async throws -> [TimeInterval] {
        var taken: [TimeInterval] = []
        while true {
            let steps = try await stepBatch()
            taken += steps.map { $0.at.timeIntervalSince($0.due) }
            for step in steps {
                Counter(label: "lantern_spot_steps_total", dimensions: [("step", step.name)]).increment()
                if step.name == "escalated" || step.name == "helped" { SpotMetrics.count("escalated") }
                if step.name.hasPrefix("ended_unanswered") || step.name == "nobody_to_tell" { SpotMetrics.count(CheckInEnd.unanswered.rawValue) }
                let lateness = step.at.timeIntervalSince(step.due)
                if lateness > 5 {
                    // After a restart or a stall: it went at once, and how late is on record.
                    logger.notice("check-in step taken late", metadata: ["contact": "\(step.owner.prefix(8))", "step": "\(step.name)",
                                                                        "late_seconds": "\(Int(lateness))"])
                } else {
                    logger.info("check-in step", metadata: ["contact": "\(step.owner.prefix(8))", "step": "\(step.name)"])
                }
            }
            if steps.isEmpty { break }
            await outboxWakeUp.notify()
            if steps.count < Self.batch { break }
        }
        return taken
    }

    struct Step: Sendable {
        let owner: String
        let name: String
        let due: Date
        let at: Date
    }

    func stepBatch() async throws -> [Step] {
        let time = now()
        // Most seconds nothing is due: a read says so without taking the writer.
        guard let next = try await database.nextCheckInDue(), next <= time else { return [] }
        let settings = self.settings
        let library = self.library
        return try await database.writeCheckIns(now: time) { tx in
            try tx.due(limit: Self.batch).compactMap { checkIn in try Self.step(checkIn, tx: tx, settings: settings, library: library) }
        }
    }

    /// One check-in's next step, with its texts.
    static func step(_ c: DueCheckIn, tx: CheckInTransaction, settings: SpotSettings, library: FlowLibrary) throws -> Step? {
        let now = tx.now
        let owner = c.owner.key
        /// Words for someone asked to check on her: the name they know her by and her place
        /// (or that she didn't say where), the place shortened if need be so the whole text (and
        /// its "call 999") fits the three-segment ceiling in their language.
        func watcherText(_ key: String, to party: Party) -> Notice {
            let name = c.name ?? library.render(FlowLibrary.spotUnnamedKey, locale: party.language)
            guard let place = c.place else {
                return library.notice(key, to: party, values: ["name": name,
                                                               "place": library.render(FlowLibrary.spotWatchNowhereKey, locale: party.language)])
            }
            var shown = place
            var notice = library.notice(key, to: party, values: ["name": name, "place": shown])
            while SMSSegments.count(notice.text).segments > MessageTemplate.segmentCeiling, shown.count > 12 {
                shown = String(shown.prefix(shown.count - 8)) + "..."
                notice = library.notice(key, to: party, values: ["name": name, "place": shown])
            }
            return notice
        }
        let grace = TimeInterval(settings.graceMinutes * 60)
        let window = TimeInterval(settings.reminderMinutes * 60)
        switch c.status {
        case .running:
            // Her time is up: ask her. The grace window runs from when she is asked.
            guard try tx.advance(owner, from: .running, to: .due, next: now.addingTimeInterval(grace)) else { return nil }
            try tx.send(library.notice(FlowLibrary.spotDueKey, to: c.owner))
            return Step(owner: owner, name: "asked", due: c.nextAt, at: now)
        case .due, .help:
            // No answer, or she asked for help: her buddies who said yes, and the on-call phone,
            // are asked to check on her (anyone asked before, again).
            let onCall = try tx.onCallParties(settings.onCallNumbers, owner: owner)
            var watchers: [Party] = []
            for p in c.buddies + onCall + c.watchers where !watchers.contains(where: { $0.key == p.key }) { watchers.append(p) }
            guard !watchers.isEmpty else {
                // Nobody left to tell (buddies removed or opted out since, no on-call phone): it ends.
                guard try tx.end(owner, from: c.status, as: .unanswered) else { return nil }
                return Step(owner: owner, name: "nobody_to_tell", due: c.nextAt, at: now)
            }
            guard try tx.advance(owner, from: c.status, to: .escalated, next: now.addingTimeInterval(window), watchers: watchers) else { return nil }
            let key = c.status == .help ? FlowLibrary.spotWatchHelpKey : FlowLibrary.spotWatchCheckKey
            for w in watchers { try tx.send(watcherText(key, to: w)) }
            // She was told when she asked for help; after silence she hears who was asked.
            if c.status == .due {
                let told = c.buddies.isEmpty ? FlowLibrary.spotToldOnCallKey : FlowLibrary.spotToldBuddiesKey
                try tx.send(library.notice(told, to: c.owner))
            }
            return Step(owner: owner, name: c.status == .help ? "helped" : "escalated", due: c.nextAt, at: now)
        case .escalated:
            // Nobody answered: one reminder, then one last window.
            guard try tx.advance(owner, from: .escalated, to: .reminded, next: now.addingTimeInterval(window)) else { return nil }
            for w in c.watchers { try tx.send(watcherText(FlowLibrary.spotWatchReminderKey, to: w)) }
            return Step(owner: owner, name: "reminded", due: c.nextAt, at: now)
        case .reminded:
            // Never loops: it ends, and the place is deleted with it.
            guard try tx.end(owner, from: .reminded, as: .unanswered) else { return nil }
            return Step(owner: owner, name: "ended_unanswered", due: c.nextAt, at: now)
        }
    }
}
