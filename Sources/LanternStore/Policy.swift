import Foundation
import LanternCore

/// The service's rules the store applies while handling a text: kit limits, how long report
/// references last, and where reports go. Set from configuration.
public struct InboundPolicy: Sendable {
    /// At most this many kit requests per contact in `kitPeriod` (cancelled ones don't count).
    public var kitLimit: Int
    public var kitPeriod: TimeInterval
    /// How long a coordinator can still reply to a report through its reference.
    public var reportReferenceLifetime: TimeInterval
    /// On-duty coordinator phones that get each report by SMS.
    public var coordinatorNumbers: [PhoneNumber]
    /// Whether reports are also queued for the signed webhook.
    public var reportWebhook: Bool
    /// Randomness handed to the engine for reference codes (injectable so tests are reproducible).
    public var random: @Sendable () -> UInt64
    /// The peers TALK relays to, and its limits.
    public var talk = TalkPeers()

    public init(kitLimit: Int = 3, kitPeriod: TimeInterval = 30 * 86400, reportReferenceLifetime: TimeInterval = 7 * 86400,
                coordinatorNumbers: [PhoneNumber] = [], reportWebhook: Bool = false,
                random: @escaping @Sendable () -> UInt64 = { UInt64.random(in: .min ... .max) }) {
        self.kitLimit = kitLimit
        self.kitPeriod = kitPeriod
        self.reportReferenceLifetime = reportReferenceLifetime
        self.coordinatorNumbers = coordinatorNumbers
        self.reportWebhook = reportWebhook
        self.random = random
    }
}
