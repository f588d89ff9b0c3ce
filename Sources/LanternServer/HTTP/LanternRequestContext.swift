import Hummingbird
import LanternStore

/// Per-request context: Hummingbird's core, plus who is calling once the admin API has
/// checked their token.
public struct LanternRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: AdminIdentity?
    /// The caller's IP address, for backing off failed logins (never a mum's: providers call
    /// the webhooks, coordinators the admin API).
    public let clientAddress: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
