import Foundation
import Logging
import Metrics
import Synchronization

/// Providers whose account cannot send right now (credentials refused, blocked, out of credit).
/// While one is paused its texts wait in the queue instead of failing one by one, and the
/// operator sees it in the log (error), the metric `lantern_provider_paused` and `/readyz`.
/// Shared by the sender, the status webhooks and the health check, hence a lock.
public final class ProviderPauses: Sendable {
    public struct Pause: Sendable, Equatable {
        public let until: Date
        public let reason: String
    }
    private let paused = Mutex<[String: Pause]>([:])
    /// How long a pause lasts before sending is tried again.
    public let duration: TimeInterval
    let logger: Logger

    public init(duration: TimeInterval = 300, logger: Logger) {
        self.duration = duration
        self.logger = logger
    }

    /// Pauses `provider` from `now`; logs and counts only when it was not paused already.
    @discardableResult
    public func pause(_ provider: String, reason: String, now: Date) -> Date {
        let until = now.addingTimeInterval(duration)
        let fresh = paused.withLock { p -> Bool in
            let wasPaused = (p[provider]?.until ?? .distantPast) > now
            p[provider] = Pause(until: until, reason: reason)
            return !wasPaused
        }
        if fresh {
            logger.error("sending paused: the provider refuses this account; texts wait in the queue until it is fixed",
                         metadata: ["provider": "\(provider)", "reason": "\(reason)", "retry_in_seconds": "\(Int(duration))"])
            Counter(label: "lantern_provider_pauses_total", dimensions: [("provider", provider)]).increment()
        }
        Gauge(label: "lantern_provider_paused", dimensions: [("provider", provider)]).record(1)
        return until
    }

    /// A send went through: the provider works again.
    public func clear(_ provider: String) {
        let was = paused.withLock { $0.removeValue(forKey: provider) }
        guard was != nil else { return }
        logger.notice("sending resumed", metadata: ["provider": "\(provider)"])
        Gauge(label: "lantern_provider_paused", dimensions: [("provider", provider)]).record(0)
    }

    /// Providers not to send through at `now`.
    public func active(at now: Date) -> [String: Pause] {
        paused.withLock { $0.filter { $0.value.until > now } }
    }

    /// Everything paused, expired or not (for `/readyz`: a pause stays news until a send works).
    public var all: [String: Pause] { paused.withLock { $0 } }
}
