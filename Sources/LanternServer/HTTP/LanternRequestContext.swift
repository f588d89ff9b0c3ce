import Hummingbird
import HummingbirdAuth
import LanternStore

/// Per-request context: Hummingbird's core, plus who is calling once the admin API has
/// checked their token (hummingbird-auth's authenticated identity).
public struct LanternRequestContext: AuthRequestContext {
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

/// Admins can do everything coordinators can, and manage tokens and read the audit log.
extension AdminIdentity: RoleProviding {
    public var roles: Set<AdminRole> { role == .admin ? [.admin, .coordinator] : [.coordinator] }
}
