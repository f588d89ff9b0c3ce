import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A load generator for the benchmark: plain blocking HTTP/1.1 keep-alive connections to
/// 127.0.0.1, one thread each, so the measuring side costs as little CPU as possible.
public struct LoopbackLoad: Sendable {
    public struct Result: Sendable {
        public var completed = 0
        public var failed = 0
        public var statusCounts: [Int: Int] = [:]
        /// Latency of each request in microseconds (from its scheduled time when paced).
        public var latencies: [Double] = []
        public var seconds: Double = 0

        public var requestsPerSecond: Double { Double(completed) / seconds }
        public func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let sorted = latencies.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        }
    }

    public let port: Int
    public let connections: Int

    public init(port: Int, connections: Int) {
        self.port = port
        self.connections = connections
    }

    /// Sends every request once, spread over the connections. With `rate` (requests/s) it
    /// paces an open loop and measures latency from each request's scheduled time, so a stall
    /// is not hidden by the client waiting (no coordinated omission).
    public func run(_ requests: [[UInt8]], rate: Double? = nil) -> Result {
        let shared = Mutex(Result())
        let done = DispatchGroup()
        let start = DispatchTime.now().uptimeNanoseconds
        let chunks = (0..<connections).map { c in stride(from: c, to: requests.count, by: connections).map { $0 } }
        for chunk in chunks {
            done.enter()
            let thread = Thread {
                var local = Result()
                local.latencies.reserveCapacity(chunk.count)
                var conn = Connection(port: port)
                for index in chunk {
                    var scheduled = DispatchTime.now().uptimeNanoseconds
                    if let rate {
                        scheduled = start + UInt64(Double(index) / rate * 1e9)
                        let now = DispatchTime.now().uptimeNanoseconds
                        if scheduled > now { usleep(UInt32((scheduled - now) / 1000)) }
                    }
                    if let status = conn.exchange(requests[index]) {
                        local.completed += 1
                        local.statusCounts[status, default: 0] += 1
                        local.latencies.append(Double(DispatchTime.now().uptimeNanoseconds - scheduled) / 1000)
                    } else {
                        local.failed += 1
                        conn = Connection(port: port)
                    }
                }
                conn.close()
                let finished = local
                shared.withLock { r in
                    r.completed += finished.completed
                    r.failed += finished.failed
                    r.latencies += finished.latencies
                    for (k, v) in finished.statusCounts { r.statusCounts[k, default: 0] += v }
                }
                done.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        done.wait()
        var result = shared.withLock { $0 }
        result.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return result
    }

    /// An HTTP/1.1 request with a body, ready to write.
    public static func post(path: String, port: Int, headers: [String: String], body: String) -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: \(body.utf8.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        return Array((head + "\r\n" + body).utf8)
    }
}

/// One keep-alive connection with blocking reads and writes.
struct Connection {
    var fd: Int32
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if ok != 0 { Glibc.close(fd); fd = -1 }
    }

    /// Writes one request and reads one response; returns its status, or nil on any failure.
    mutating func exchange(_ request: [UInt8]) -> Int? {
        guard fd >= 0 else { return nil }
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return nil }
            sent += n
        }
        var received: [UInt8] = []
        var headerEnd: Int?
        var contentLength = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            received += buffer[0..<n]
            if headerEnd == nil, let end = Self.find(received, [13, 10, 13, 10]) {
                headerEnd = end + 4
                let head = String(decoding: received[0..<end], as: UTF8.self).lowercased()
                if let r = head.range(of: "content-length:") {
                    contentLength = Int(head[r.upperBound...].prefix { $0 != "\r" }.trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let h = headerEnd, received.count >= h + contentLength {
                let statusLine = String(decoding: received.prefix(12), as: UTF8.self)
                return Int(statusLine.dropFirst(9).prefix(3))
            }
        }
    }

    static func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    func close() { if fd >= 0 { Glibc.close(fd) } }
}
