import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A program started with `posix_spawn`, for tests and the benchmark that run the real binary.
///
/// Not Foundation's `Process`: on Linux with Swift 6.3.1 its `run()` over-reads `/proc/self/fd`
/// and crashes the whole test process now and then (swift-corelibs-foundation#5472, fixed after
/// 6.3.1). Here the child's output goes to a file, nowhere, or a pipe the caller reads.
public final class ChildProcess: Sendable {
    public enum Output: Sendable {
        case discard
        case file(URL)
        case pipe
    }

    public let pid: pid_t
    /// The write end of the child's standard input, when asked for.
    public let standardInput: Int32?
    /// The read ends of the child's output, for `.pipe`.
    public let standardOutput: Int32?
    public let standardError: Int32?
    private let status = Mutex<Int32?>(nil)
    /// Our ends still open: each is closed exactly once (a second close could hit a descriptor
    /// the number has since been given to, such as a database file).
    private let open = Mutex<Set<Int32>>([])

    public struct SpawnFailed: Error, CustomStringConvertible {
        public let program: String
        public let code: Int32
        public var description: String { "could not start \(program): \(String(cString: strerror(code)))" }
    }

    /// Starts `executable` with exactly `environment`, in `directory`.
    public init(_ executable: URL, _ arguments: [String], environment: [String: String], directory: URL? = nil,
                input: Bool = false, output: Output = .discard, error: Output = .discard) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [Int32?] = [nil, nil, nil]
        var childEnds: [Int32] = []
        func pipePair() -> (read: Int32, write: Int32) {
            var fds: [Int32] = [0, 0]
            // Close-on-exec from birth, so no other child spawned meanwhile holds an end open.
            _ = Self.pipe2(&fds, O_CLOEXEC)
            return (fds[0], fds[1])
        }
        if input {
            let p = pipePair()
            posix_spawn_file_actions_adddup2(&actions, p.read, 0)
            parentEnds[0] = p.write
            childEnds.append(p.read)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        for (fd, how) in [(Int32(1), output), (Int32(2), error)] {
            switch how {
            case .discard: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .file(let url): posix_spawn_file_actions_addopen(&actions, fd, url.path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            case .pipe:
                let p = pipePair()
                posix_spawn_file_actions_adddup2(&actions, p.write, fd)
                parentEnds[Int(fd)] = p.read
                childEnds.append(p.write)
            }
        }
        if let directory, let chdir = Self.addChdir {
            _ = directory.path.withCString { chdir(&actions, $0) }
        }
        // As a shell would start it: no signal blocked, every signal at its default (the test
        // process ignores SIGPIPE and its threads may block others; a child must not inherit that).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = [executable.path] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let code = Self.withCStrings(argv) { a in
            Self.withCStrings(envp) { e in posix_spawn(&pid, executable.path, &actions, &attributes, a, e) }
        }
        for fd in childEnds { close(fd) }
        guard code == 0 else {
            for case let fd? in parentEnds { close(fd) }
            throw SpawnFailed(program: executable.lastPathComponent, code: code)
        }
        self.pid = pid
        (standardInput, standardOutput, standardError) = (parentEnds[0], parentEnds[1], parentEnds[2])
        open.withLock { $0 = Set(parentEnds.compactMap { $0 }) }
    }

    deinit {
        for fd in open.withLock({ $0 }) { close(fd) }
    }

    private func closeOnce(_ fd: Int32) {
        if open.withLock({ $0.remove(fd) }) != nil { close(fd) }
    }

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+), which Swift's Glibc module hides.
    private static let addChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()

    /// glibc's `pipe2`, also hidden from Swift.
    private static let pipe2: @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32 = {
        unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2")!, to: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32).self)
    }()

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Writes `data` to the child's standard input and closes it.
    public func finishInput(_ data: Data = Data()) {
        guard let fd = standardInput else { return }
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        closeOnce(fd)
    }

    /// Reads both piped outputs to their end (together, so a full pipe never stalls the child).
    public func readOutputs() -> (stdout: Data, stderr: Data) {
        var out = Data(), err = Data()
        var reading = [standardOutput, standardError].compactMap { $0 }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !reading.isEmpty {
            var fds = reading.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), -1) > 0 else { if errno == EINTR { continue } else { break } }
            for p in fds where p.revents != 0 {
                let n = read(p.fd, &buffer, buffer.count)
                if n <= 0 { reading.removeAll { $0 == p.fd }; continue }
                if p.fd == standardOutput { out.append(contentsOf: buffer[0..<n]) } else { err.append(contentsOf: buffer[0..<n]) }
            }
        }
        return (out, err)
    }

    /// The first chunk the child writes to its piped standard output (e.g. a "PORT n" line).
    public func readSomeOutput() -> Data {
        guard let fd = standardOutput else { return Data() }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &buffer, buffer.count)
        return n > 0 ? Data(buffer[0..<n]) : Data()
    }

    public func signal(_ sig: Int32) {
        if status.withLock({ $0 == nil }) { _ = kill(pid, sig) }
    }

    /// Blocks until the child exits; its exit code, or 128 + the signal that ended it.
    @discardableResult
    public func wait() -> Int32 {
        if let s = status.withLock({ $0 }) { return s }
        var raw: Int32 = 0
        var r: pid_t
        repeat { r = waitpid(pid, &raw, 0) } while r < 0 && errno == EINTR
        return status.withLock { s in
            if r == pid { s = Self.code(raw) }
            return s ?? -1
        }
    }

    public var isRunning: Bool {
        status.withLock { s in
            guard s == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
            s = Self.code(raw)
            return false
        }
    }

    private static func code(_ raw: Int32) -> Int32 { (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f) }

    /// Stops it as an operator would (SIGTERM), and waits.
    public func terminate() {
        signal(SIGTERM)
        wait()
    }
}
