import Hummingbird
import LanternStore

/// Per-request context: Hummingbird's core, plus who is calling once the admin API has
/// checked their token.
public struct LanternRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: AdminIdentity?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
    }
}
