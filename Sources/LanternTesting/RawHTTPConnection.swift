import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bare TCP connection for attack tests: bytes as slowly as we like, from a chosen loopback
/// source address (127.0.0.2 is another client as far as the server can tell).
public final class RawHTTPConnection: Sendable {
    let fd: Int32

    public init(port: Int, from source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var local = Self.address(source, port: 0)
            _ = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        var remote = Self.address("127.0.0.1", port: port)
        let ok = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    static func address(_ ip: String, port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, ip, &a.sin_addr)
        return a
    }

    /// False once the server has closed the connection.
    @discardableResult
    public func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// What the server sent until it closed or `timeout` passed. Waits on a thread of its own,
    /// never on one the server under test needs to answer.
    public func readUntilClosed(timeout: TimeInterval = 5) async -> (text: String, closed: Bool) {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.readBlocking(timeout: timeout)) }.start()
        }
    }

    func readBlocking(timeout: TimeInterval) -> (text: String, closed: Bool) {
        var t = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - floor(timeout)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, socklen_t(MemoryLayout<timeval>.size))
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { out += buffer[..<n]; continue }
            return (String(decoding: out, as: UTF8.self), n == 0 || (n < 0 && errno == ECONNRESET))
        }
    }

    /// One response, read until its Content-Length is in (for servers that keep the connection
    /// open whatever the request said), or until closed or `timeout`.
    func readResponse(timeout: TimeInterval) async -> String {
        await withCheckedContinuation { continuation in
            Thread {
                var t = timeval(tv_sec: Int(timeout), tv_usec: 0)
                setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &t, socklen_t(MemoryLayout<timeval>.size))
                var out = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = recv(self.fd, &buffer, buffer.count, 0)
                    guard n > 0 else { break }
                    out += buffer[..<n]
                    if let end = Self.complete(out), out.count >= end { break }
                }
                continuation.resume(returning: String(decoding: out, as: UTF8.self))
            }.start()
        }
    }

    /// How long the whole response is, once its headers are in and give a Content-Length.
    static func complete(_ bytes: [UInt8]) -> Int? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let i = bytes.indices.dropLast(3).first(where: { bytes[$0..<($0 + 4)].elementsEqual(separator) }) else { return nil }
        let head = String(decoding: bytes[..<i], as: UTF8.self).lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
              let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) else { return nil }
        return i + 4 + length
    }

    /// One whole request, as a provider would send it; the response text.
    public func request(_ method: String, _ path: String, headers: [String: String], body: String, timeout: TimeInterval = 5) async -> String {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        send(head + "\r\n" + body)
        return await readResponse(timeout: timeout)
    }

    deinit { close(fd) }
}

/// A loopback port that refuses every connection for as long as this lives: bound (so no other
/// test's server can be given it) but never listening. For "the request certainly never arrived".
public final class RefusingPort: Sendable {
    public let port: Int
    private let fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard fd >= 0, bound == 0, named == 0 else { close(fd); throw POSIXError(.EADDRNOTAVAIL) }
        self.fd = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    public var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    deinit { close(fd) }
}
