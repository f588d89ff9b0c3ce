import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Held by `lantern serve` for as long as it runs, so that a restore (or a second server)
/// never swaps the database out from under it. The kernel lets go if the process dies.
public final class DataDirectoryLock: Sendable {
    let descriptor: Int32

    /// Nil when another process holds it.
    public init?(directory: URL) {
        let fd = open(directory.appendingPathComponent("lantern.lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        descriptor = fd
    }

    deinit { close(descriptor) }
}
