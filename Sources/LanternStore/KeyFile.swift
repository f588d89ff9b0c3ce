import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the vault keys live: `LANTERN_DATA_KEY` / `LANTERN_INDEX_KEY` in the environment when
/// set (for deployments with a secret store), otherwise a file beside the database created
/// readable by its owner only on first run.
public enum KeyFile {
    public static let fileName = "keys.json"

    struct Stored: Codable {
        var version: Int
        var data_key: String
        var index_key: String
    }

    /// Loads keys from the environment or the key file in `directory`, creating the file if neither exists.
    public static func loadOrCreate(directory: URL, environment: [String: String] = ProcessInfo.processInfo.environment) throws(VaultError) -> VaultKeys {
        if let d = environment["LANTERN_DATA_KEY"], let i = environment["LANTERN_INDEX_KEY"] {
            return try decode(Stored(version: Int(environment["LANTERN_KEY_VERSION"] ?? "1") ?? 1, data_key: d, index_key: i),
                              source: "LANTERN_DATA_KEY/LANTERN_INDEX_KEY")
        }
        let path = directory.appendingPathComponent(fileName).path
        if FileManager.default.fileExists(atPath: path) {
            return try read(path: path)
        }
        let keys = VaultKeys.generate()
        try write(keys, path: path)
        return keys
    }

    static func read(path: String) throws(VaultError) -> VaultKeys {
        var st = stat()
        guard stat(path, &st) == 0 else { throw .keyFileUnreadable(path: path, reason: String(cString: strerror(errno))) }
        if st.st_mode & 0o077 != 0 {
            throw .keyFileInsecure(path: path, mode: String(st.st_mode & 0o777, radix: 8))
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .keyFileUnreadable(path: path, reason: "\(error.localizedDescription)")
        }
        guard let stored = try? JSONDecoder().decode(Stored.self, from: data) else { throw .keyMaterialInvalid(source: path) }
        return try decode(stored, source: path)
    }

    static func decode(_ stored: Stored, source: String) throws(VaultError) -> VaultKeys {
        guard let d = Data(base64Encoded: stored.data_key), d.count == 32,
              let i = Data(base64Encoded: stored.index_key), i.count == 32, d != i else {
            throw .keyMaterialInvalid(source: source)
        }
        return VaultKeys(version: stored.version, data: SymmetricKey(data: d), index: SymmetricKey(data: i))
    }

    /// Writes the key file with mode 0600 from the moment it exists (never world-readable, not even briefly).
    public static func write(_ keys: VaultKeys, path: String) throws(VaultError) {
        let stored = Stored(version: keys.version,
                            data_key: keys.data.withUnsafeBytes { Data($0).base64EncodedString() },
                            index_key: keys.index.withUnsafeBytes { Data($0).base64EncodedString() })
        guard let json = try? JSONEncoder().encode(stored) else { throw .keyMaterialInvalid(source: path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw .keyFileUnreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let written = json.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == json.count, fsync(fd) == 0 else {
            throw .keyFileUnreadable(path: path, reason: "short write")
        }
    }
}
