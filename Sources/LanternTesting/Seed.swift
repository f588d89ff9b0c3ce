import Foundation
import LanternCore
import LanternServer
import LanternStore

/// Synthetic subscribers for load and crash tests. Beyond the 1,000 reserved UK drama numbers
/// they use +999, a country code the ITU has never assigned: these can be nobody's number.
public enum Seed {
    /// The calling code of synthetic numbers (unassigned, so never a real phone); test and
    /// benchmark configurations allow it beside 44.
    public static let syntheticCountryCode = "999"

    public static func syntheticNumber(_ i: Int) -> PhoneNumber {
        PhoneNumber("+99900" + String(format: "%07d", i))!
    }

    /// Subscribes `count` synthetic contacts to `areas` through the store's own inbound path,
    /// as if each had texted ALERTS and YES. Returns their numbers.
    @discardableResult
    public static func subscribers(_ count: Int, areas: String, database: AppDatabase, provider: String,
                                   sender: String? = "+447700900999", startingAt first: Int = 0, now: Date = Date()) async throws -> [PhoneNumber] {
        try await throughInbound(count, idPrefix: "seed", database: database, provider: provider, sender: sender, startingAt: first, now: now,
                                 decision: .keyword(flow: "alerts", keyword: "ALERTS")) { _ in [.subscribe(AreaCodes.split(areas))] }
    }

    /// Starts `count` check-ins for synthetic contacts through the store's own inbound path, as
    /// if each had texted SPOT; check-in `i` falls due at `due(i)`.
    @discardableResult
    public static func checkIns(_ count: Int, due: @escaping @Sendable (Int) -> Date, database: AppDatabase, provider: String,
                                startingAt first: Int = 0, now: Date = Date()) async throws -> [PhoneNumber] {
        try await throughInbound(count, idPrefix: "seed-spot", database: database, provider: provider, sender: "+447700900999",
                                 startingAt: first, now: now, decision: .keyword(flow: "spot", keyword: "SPOT")) { i in
            [.startCheckIn(CheckInStart(dueAt: due(i), place: nil))]
        }
    }

    /// One report per reference from synthetic contacts in `area`, through the store's own
    /// inbound path, as if each had finished REPORT; nothing of what she said is involved.
    @discardableResult
    public static func reports(_ refs: [String], area: String, database: AppDatabase, provider: String,
                               startingAt first: Int = 5_000, now: Date = Date()) async throws -> [PhoneNumber] {
        try await throughInbound(refs.count, idPrefix: "seed-report", database: database, provider: provider, sender: "+447700900999",
                                 startingAt: first, now: now, decision: .keyword(flow: "report", keyword: "REPORT")) { i in
            [.relayReport(Report(ref: refs[i], areas: [area], areaName: area, happened: "unexpected effects", when: "today",
                                 description: "", relayText: "Report \(refs[i]) in \(area)"))]
        }
    }

    /// Synthetic contact `i` (from `first`) applies `effects(i)`, a thousand to a group commit.
    static func throughInbound(_ count: Int, idPrefix: String, database: AppDatabase, provider: String, sender: String?, startingAt first: Int,
                               now: Date, decision: Decision, effects: @escaping @Sendable (Int) -> [Effect]) async throws -> [PhoneNumber] {
        let numbers = (first..<(first + count)).map(syntheticNumber)
        for chunk in stride(from: 0, to: numbers.count, by: 1_000) {
            let batch = numbers[chunk..<min(chunk + 1_000, numbers.count)].enumerated().map { i, n in
                let index = chunk + i
                return PendingInbound(InboundEnvelope(provider: provider, messageID: "\(idPrefix)-\(first + index)", from: n, to: sender)) { _, _ in
                    EngineOutcome(replies: [], effects: effects(index), conversation: nil, decision: decision)
                }
            }
            for result in try await database.handleInbound(batch, now: now) { _ = try result.get() }
        }
        return numbers
    }
}
