import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// Why a backup or restore was refused.
public enum BackupError: Error, Equatable, CustomStringConvertible {
    case exists(String)
    case notALanternBackup(String)
    case keysDoNotOpen(String)
    case failed(String, String)

    public var description: String {
        switch self {
        case .exists(let p): "\(p) already exists; choose a new file name (a backup never overwrites anything)"
        case .notALanternBackup(let p): "\(p) is not a Lantern database backup"
        case .keysDoNotOpen(let p): "the keys at hand do not open the backup \(p): it was made with other keys. Put the keys.json (or LANTERN_DATA_KEY/LANTERN_INDEX_KEY) that belong to it in place first. Nothing was changed."
        case .failed(let p, let why): "could not write \(p): \(why)"
        }
    }
}

extension AppDatabase {
    /// A consistent copy of the whole database, taken while the server keeps running (SQLite's
    /// `VACUUM INTO` reads one snapshot and writes a compact file without free pages, so nothing
    /// deleted lingers in it). The keys are never in it: they live beside the database, and a
    /// backup is useless without them. Written owner-only, never over an existing file.
    public func backup(to path: String) async throws -> Int64 {
        guard !FileManager.default.fileExists(atPath: path) else { throw BackupError.exists(path) }
        let temporary = path + ".partial"
        unlink(temporary)
        let previous = umask(0o077)
        defer { umask(previous) }
        do {
            // Outside a transaction (VACUUM cannot run in one), on a reader: writers carry on meanwhile.
            try await writer.unsafeRead { db in try db.execute(sql: "VACUUM INTO ?", arguments: [temporary]) }
        } catch {
            unlink(temporary)
            throw BackupError.failed(path, "\(error)")
        }
        chmod(temporary, 0o600)
        guard link(temporary, path) == 0 else {   // never replaces a file that appeared meanwhile
            let why = String(cString: strerror(errno))
            unlink(temporary)
            throw errno == EEXIST ? BackupError.exists(path) : BackupError.failed(path, why)
        }
        unlink(temporary)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
        return size
    }

    /// Whether `vault`'s keys open the database file at `path` (a backup): its check value, or
    /// for a database from before check values, one of its contacts.
    public static func verifyKeys(ofBackup path: String, vault: PIIVault) throws {
        var config = Configuration()
        config.readonly = true
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: path, configuration: config) } catch { throw BackupError.notALanternBackup(path) }
        try queue.read { db in
            guard try db.tableExists("contact") else { throw BackupError.notALanternBackup(path) }
            do { try checkKeys(db, vault: vault, path: path, writing: false) } catch is KeyCheckError {
                throw BackupError.keysDoNotOpen(path)
            }
        }
    }
}

extension AppDatabase {
    /// Puts a verified backup in place of the database at `path` (the server must be stopped).
    /// The old file and its WAL are removed only once the copy is complete.
    public static func restore(backup: String, to path: String, vault: PIIVault) throws {
        try verifyKeys(ofBackup: backup, vault: vault)
        let temporary = path + ".restoring"
        unlink(temporary)
        do {
            try FileManager.default.copyItem(atPath: backup, toPath: temporary)
        } catch {
            throw BackupError.failed(path, "\(error.localizedDescription)")
        }
        chmod(temporary, 0o600)
        let fd = Glibc.open(temporary, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        for suffix in ["-wal", "-shm"] { unlink(path + suffix) }
        guard rename(temporary, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            throw BackupError.failed(path, why)
        }
    }
}
