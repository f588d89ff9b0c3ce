import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

public struct HTTPRequestSpec: Sendable {
    public var method: String
    public var url: URL
    public var headers: [(String, String)]
    public var body: Data?
    public var timeout: TimeInterval

    public init(method: String, url: URL, headers: [(String, String)] = [], body: Data? = nil, timeout: TimeInterval = 15) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

extension HTTPRequestSpec {
    /// A JSON POST with the given auth headers (keys sorted, so the same message is the same bytes).
    static func postJSON(_ url: URL, _ object: [String: Any], headers: [(String, String)], timeout: TimeInterval) -> HTTPRequestSpec {
        HTTPRequestSpec(method: "POST", url: url, headers: headers + [("Content-Type", "application/json")],
                        body: try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), timeout: timeout)
    }
}

public struct HTTPResponseData: Sendable {
    public let status: Int
    /// Header names lower-cased.
    public let headers: [String: String]
    public let body: Data
    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Why an HTTP exchange produced no response, split by what it means for a retry.
public enum TransportError: Error, Equatable {
    /// The request certainly did not reach the server (refused, no route, DNS): safe to retry.
    case notSent(String)
    /// It may have reached the server (timed out, connection dropped): a retry could duplicate.
    case ambiguous(String)
}

/// Outbound HTTP, behind a protocol so tests can point adapters at a real loopback server.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequestSpec) async throws(TransportError) -> HTTPResponseData
}

/// Foundation's URLSession (libcurl on Linux).
public struct URLSessionTransport: HTTPTransport {
    let session: URLSession

    /// One session for the whole process: on Linux every URLSession keeps threads of its own,
    /// and many of them at once (as many transports in one test run) stall each other's
    /// requests for seconds. Sharing one (ephemeral: no cookies, no cache) avoids that; its
    /// connections per host are raised from 6 so that many senders sharing it never queue
    /// behind one another's slow requests.
    public static let sharedSession: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: configuration)
    }()

    public init(session: URLSession = URLSessionTransport.sharedSession) {
        self.session = session
    }

    public func send(_ spec: HTTPRequestSpec) async throws(TransportError) -> HTTPResponseData {
        var request = URLRequest(url: spec.url, timeoutInterval: spec.timeout)
        request.httpMethod = spec.method
        for (name, value) in spec.headers { request.addValue(value, forHTTPHeaderField: name) }
        request.httpBody = spec.body
        do {
            let (data, response) = try await withDeadline(seconds: spec.timeout) { [session, request] in
                try await session.data(for: request)
            }
            guard let http = response as? HTTPURLResponse else { throw TransportError.ambiguous("not an HTTP response") }
            var headers: [String: String] = [:]
            for (k, v) in http.allHeaderFields {
                if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v }
            }
            return HTTPResponseData(status: http.statusCode, headers: headers, body: data)
        } catch let error as TransportError {
            throw error
        } catch is DeadlineExceeded {
            throw .ambiguous("no response within \(Int(spec.timeout)) s")
        } catch let error as URLError {
            switch error.code {
            case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet, .badURL,
                 .unsupportedURL, .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
                 .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
                throw .notSent("URLError \(error.code.rawValue)")
            default:
                throw .ambiguous("URLError \(error.code.rawValue)")
            }
        } catch {
            throw .ambiguous(String(describing: type(of: error)))
        }
    }
}

struct DeadlineExceeded: Error {}

/// Runs `work`, giving up after `seconds`: URLSession's own timeout is an idle timeout on
/// Linux, so a server that trickles (or accepts and never answers) needs a hard deadline.
func withDeadline<T: Sendable>(seconds: TimeInterval, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw DeadlineExceeded()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw DeadlineExceeded() }
        return first
    }
}
