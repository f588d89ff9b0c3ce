import ArgumentParser
import Foundation
import LanternCore
import LanternServer
import LanternStore
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif


struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the database to PATH, while lantern serve keeps running.",
        discussion: """
            The copy never contains the keys: keep keys.json (or LANTERN_DATA_KEY/LANTERN_INDEX_KEY) \
            backed up separately; a backup is useless without them, and so is the key file without it.
            """)
    @OptionGroup var common: CommonOptions
    @Argument(help: "Where to write the backup (must not exist yet).") var path: String

    func run() async throws {
        var config = try loadConfiguration()
        common.apply(to: &config)
        restrictFileModes()
        let database: AppDatabase
        do { database = try Lantern.openDatabase(config) } catch { throw ValidationError("\(error)") }
        let target = URL(fileURLWithPath: path).standardizedFileURL.path
        do {
            let size = try await database.backup(to: target)
            try await database.recordAudit(actor: "lantern-cli", action: "database.backed_up", now: Date())
            print("backup written: \(target) (\(size / 1024) KiB, owner-only). The keys are not in it.")
        } catch let e as BackupError {
            throw ValidationError("\(e)")
        }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put a backup in place of the database (stop lantern serve first).",
        discussion: "Refused unless the keys in the data directory (or the environment) open the backup.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The backup file.") var backup: String
    @Flag(help: "Replace a database that is already there.") var replace = false

    func run() async throws {
        var config = try loadConfiguration()
        common.apply(to: &config)
        restrictFileModes()
        let dir = config.dataDirectory
        guard FileManager.default.fileExists(atPath: backup) else { throw ValidationError("no backup at \(backup)") }
        let keys: VaultKeys
        do {
            guard let loaded = try KeyFile.load(directory: dir, environment: config.keySettings) else {
                throw ValidationError("no keys: put the keys.json that belongs to this backup in \(dir.path) (mode 600), or set LANTERN_DATA_KEY/LANTERN_INDEX_KEY")
            }
            keys = loaded
        } catch let e as VaultError { throw ValidationError("\(e)") }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard let lock = DataDirectoryLock(directory: dir) else {
            throw ValidationError("lantern serve is running on \(dir.path): stop it first")
        }
        _ = lock
        if FileManager.default.fileExists(atPath: config.databasePath) && !replace {
            throw ValidationError("\(config.databasePath) already exists; add --replace to put the backup in its place")
        }
        do {
            try AppDatabase.restore(backup: backup, to: config.databasePath, vault: PIIVault(keys: keys))
        } catch let e as BackupError {
            throw ValidationError("\(e)")
        }
        let database: AppDatabase
        do { database = try Lantern.openDatabase(config) } catch { throw ValidationError("\(error)") }
        try await database.recordAudit(actor: "lantern-cli", action: "database.restored", now: Date())
        print("restored \(backup) to \(config.databasePath)")
    }
}
