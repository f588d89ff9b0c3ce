import Foundation
import Hummingbird
import LanternProviders
import Logging
import ServiceLifecycle

/// A provider's send API, for real: an HTTP server on 127.0.0.1 that records every request
/// and answers as scripted (accept, 429, 500, or hang past the client's timeout).
public final class FakeSMSAPI: Sendable {
    public enum Reply: Sendable {
        /// 201 with a fresh message id, as Twilio does.
        case accept
        case status(Int, body: String = "{}", retryAfter: String? = nil)
        /// Wait this long, then accept (the client will usually have timed out).
        case hang(Duration)
    }

    public struct Recorded: Sendable {
        public let method: String
        public let path: String
        public let headers: [String: String]
        public let body: String
        /// The status the fake answered with (201 for accepted).
        public var answered: Int = 0
        public var wasAccepted: Bool { (200..<300).contains(answered) }
        /// Header names are lower-cased.
        /// Form fields, decoded.
        public var form: [String: String] {
            Dictionary((FormEncoding.decode(body) ?? []).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        /// A JSON body's top-level strings (arrays of one string unwrapped, as recipients are sent).
        public var json: [String: String] {
            guard let o = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] else { return [:] }
            var out: [String: String] = [:]
            for (k, v) in o {
                if let s = v as? String { out[k] = s } else if let a = v as? [String], let first = a.first { out[k] = first }
            }
            return out
        }
    }

    actor State {
        var recorded: [Recorded] = []
        var script: [Reply] = []
        var accepted = 0
        var delay: Duration = .zero
        var holdAfter: Int?
        var holding = false
        /// Message ids deleted (Twilio's DELETE …/Messages/{sid}.json), and ones that refuse deletion for now.
        var deleted: [String] = []
        var undeletable: Set<String> = []
        /// Messages as Twilio would list them: what was sent, plus texts "received" from people.
        var received: [(sid: String, from: String)] = []

        func messages(to: String?, from: String?) -> [String] {
            var out: [String] = []
            for (i, r) in recorded.enumerated() where r.wasAccepted && to != nil && r.form["To"] == to {
                out.append("SM" + String(format: "%032d", i + 1))
            }
            if let from { out += received.filter { $0.from == from }.map(\.sid) }
            return out.filter { !deleted.contains($0) }
        }
        func delete(_ sid: String) -> Bool {
            guard !undeletable.contains(sid) else { return false }
            deleted.append(sid)
            return true
        }
        func setUndeletable(_ s: Set<String>) { undeletable = s }
        func addReceived(_ sid: String, from: String) { received.append((sid, from)) }

        func record(_ r: Recorded) -> (Reply, Int, Duration) {
            var r = r
            let reply = script.isEmpty ? .accept : script.removeFirst()
            switch reply {
            case .accept, .hang: r.answered = 201
            case .status(let code, _, _): r.answered = code
            }
            recorded.append(r)
            if let n = holdAfter, recorded.count >= n { holding = true }
            if case .accept = reply { accepted += 1 }
            if case .hang = reply { accepted += 1 }
            return (reply, recorded.count, delay)
        }
        func setScript(_ s: [Reply]) { script = s }
        func setHold(after n: Int?) { holdAfter = n; if n == nil { holding = false } }
        func isHolding() -> Bool { holding }
        func setDelay(_ d: Duration) { delay = d }
    }

    let state: State
    let group: ServiceGroup
    let task: Task<Void, any Error>
    public let baseURL: URL

    private init(state: State, group: ServiceGroup, task: Task<Void, any Error>, baseURL: URL) {
        self.state = state
        self.group = group
        self.task = task
        self.baseURL = baseURL
    }

    /// What the fake answers to an accepted send: status and body, given the send's number (1, 2…).
    /// Twilio's shape by default; each provider's harness gives its own.
    public typealias Acceptance = @Sendable (Int) -> (status: Int, body: String)

    public static let twilioAcceptance: Acceptance = { n in
        (201, "{\"sid\":\"SM\(String(format: "%032d", n))\",\"status\":\"queued\",\"num_segments\":\"1\"}")
    }

    /// Starts the fake on a free loopback port.
    public static func start(logger: Logger = Logger(label: "fake-sms-api"), acceptance: @escaping Acceptance = twilioAcceptance) async throws -> FakeSMSAPI {
        let state = State()
        let router = Router(context: BasicRequestContext.self)
        router.on("**", method: .post) { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for f in request.headers { headers[f.name.canonicalName.lowercased()] = f.value }
            let (reply, n, delay) = await state.record(Recorded(method: request.method.rawValue, path: request.uri.path,
                                                                headers: headers, body: String(buffer: body)))
            if delay > .zero { try await Task.sleep(for: delay) }
            // A held request has reached the provider but gets no answer until released:
            // what a crash in the middle of a send looks like from our side.
            while await state.isHolding() { try await Task.sleep(for: .milliseconds(20)) }
            switch reply {
            case .accept:
                return Self.accepted(n, acceptance)
            case .status(let code, let body, let retryAfter):
                var fields = HTTPFields()
                fields[.contentType] = "application/json"
                if let retryAfter { fields[.retryAfter] = retryAfter }
                return Response(status: .init(code: code), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
            case .hang(let d):
                try await Task.sleep(for: d)
                return Self.accepted(n, acceptance)
            }
        }
        // Twilio's message list and delete, for erasure at the provider.
        router.get("**") { request, _ -> Response in
            let query = request.uri.queryParameters
            let sids = await state.messages(to: query["To"].map(String.init), from: query["From"].map(String.init))
            let body = try JSONSerialization.data(withJSONObject: ["messages": sids.map { ["sid": $0] }, "next_page_uri": NSNull()])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.delete("**") { request, _ -> Response in
            let sid = String(request.uri.path.split(separator: "/").last ?? "").replacingOccurrences(of: ".json", with: "")
            return Response(status: await state.delete(sid) ? .noContent : .conflict)
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
                              logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var it = ports.makeAsyncIterator()
        guard let port = await it.next() else { throw CancellationError() }
        return FakeSMSAPI(state: state, group: group, task: task, baseURL: URL(string: "http://127.0.0.1:\(port)")!)
    }

    static func accepted(_ n: Int, _ acceptance: Acceptance) -> Response {
        let (status, body) = acceptance(n)
        return Response(status: .init(code: status), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Message ids deleted through the API.
    public func deletedMessages() async -> [String] { await state.deleted }
    /// Messages that refuse deletion (as Twilio does while one is still being sent).
    public func refuseDeletion(of sids: Set<String>) async { await state.setUndeletable(sids) }
    /// A text someone sent us, as the provider's message list would show it.
    public func received(_ sid: String, from: String) async { await state.addReceived(sid, from: from) }

    /// The next requests get these replies, in order; after that, `.accept`.
    public func script(_ replies: [Reply]) async { await state.setScript(replies) }
    /// From the `n`th request on, accept requests but answer none of them until `release()`.
    public func hold(after n: Int) async { await state.setHold(after: n) }
    public func release() async { await state.setHold(after: nil) }
    /// Slows every reply (a slow provider).
    public func setDelay(_ d: Duration) async { await state.setDelay(d) }
    public func requests() async -> [Recorded] { await state.recorded }
    public func acceptedCount() async -> Int { await state.accepted }

    /// Waits until at least `count` requests arrived, or the timeout passes.
    @discardableResult
    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(10)) async -> [Recorded] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            let r = await requests()
            if r.count >= count { return r }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await requests()
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
