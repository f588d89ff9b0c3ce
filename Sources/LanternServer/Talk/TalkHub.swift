import Foundation
import ServiceLifecycle

/// Live TALK texts for console pages that are open right now, in memory only: a text relayed
/// while nobody watches is not kept for later, and a page shows only what arrived while it was
/// open. Nothing here is ever written anywhere.
public actor TalkHub {
    private var watchers: [String: [UUID: AsyncStream<String>.Continuation]] = [:]

    public init() {}

    /// A stream of lines for `ref` until `stop` is called (or the page goes away).
    public func watch(_ ref: String) -> (id: UUID, lines: AsyncStream<String>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(50))
        watchers[ref, default: [:]][id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.stop(ref, id) }
        }
        return (id, stream)
    }

    public func stop(_ ref: String, _ id: UUID) {
        watchers[ref]?[id]?.finish()
        watchers[ref]?[id] = nil
        if watchers[ref]?.isEmpty == true { watchers[ref] = nil }
    }

    /// Hands a line to every page watching `ref`; dropped if none is.
    public func publish(_ ref: String, _ line: String) {
        for c in watchers[ref]?.values ?? [:].values { c.yield(line) }
    }

    /// How many pages watch `ref` now (for tests and the page itself).
    public func watching(_ ref: String) -> Int { watchers[ref]?.count ?? 0 }

    /// Ends every open page's stream, so the server can finish its requests and stop.
    public func closeAll() {
        for c in watchers.values.flatMap(\.values) { c.finish() }
        watchers = [:]
    }
}

/// Closes the live TALK streams when the daemon shuts down: listed after the HTTP server, so it
/// stops first and the server is not left waiting on pages that never finish.
struct TalkHubService: Service, CustomStringConvertible {
    let hub: TalkHub
    var description: String { "TalkHub" }

    func run() async throws {
        try? await gracefulShutdown()
        await hub.closeAll()
    }
}
