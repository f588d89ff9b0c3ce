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
        /// Data keys from before a rotation, by version, until everything is re-sealed.
        var retired_data_keys: [String: String]?
    }

    /// The settings that can hold the keys instead of the key file.
    public static let settingNames = ["LANTERN_DATA_KEY", "LANTERN_INDEX_KEY", "LANTERN_RETIRED_DATA_KEYS", "LANTERN_KEY_VERSION"]

    /// Whether the keys come from settings (a secret store) rather than the key file. Callers
    /// pass `LanternConfiguration.keySettings`, so the config file counts as well as the
    /// environment.
    public static func usesEnvironment(_ environment: [String: String]) -> Bool {
        environment["LANTERN_DATA_KEY"] != nil && environment["LANTERN_INDEX_KEY"] != nil
    }

    /// Loads keys from the environment or the key file in `directory`, creating the file if neither exists.
    public static func loadOrCreate(directory: URL, environment: [String: String]) throws(VaultError) -> VaultKeys {
        if let keys = try load(directory: directory, environment: environment) { return keys }
        let keys = VaultKeys.generate()
        try write(keys, path: directory.appendingPathComponent(fileName).path)
        return keys
    }

    /// Loads keys from the environment or the key file; nil when there are none yet.
    public static func load(directory: URL, environment: [String: String]) throws(VaultError) -> VaultKeys? {
        if let d = environment["LANTERN_DATA_KEY"], let i = environment["LANTERN_INDEX_KEY"] {
            var retired: [String: String] = [:]
            for pair in (environment["LANTERN_RETIRED_DATA_KEYS"] ?? "").split(separator: ",") {
                let parts = pair.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { throw .keyMaterialInvalid(source: "LANTERN_RETIRED_DATA_KEYS (version:base64,…)") }
                retired[String(parts[0])] = String(parts[1])
            }
            return try decode(Stored(version: Int(environment["LANTERN_KEY_VERSION"] ?? "1") ?? 1, data_key: d, index_key: i,
                                     retired_data_keys: retired),
                              source: "LANTERN_DATA_KEY/LANTERN_INDEX_KEY")
        }
        let path = directory.appendingPathComponent(fileName).path
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try read(path: path)
    }

    /// Replaces the key file (atomically, never readable by others) with `keys`.
    public static func replace(_ keys: VaultKeys, directory: URL) throws(VaultError) {
        let path = directory.appendingPathComponent(fileName).path
        let temporary = path + ".new"
        unlink(temporary)
        try write(keys, path: temporary)
        guard rename(temporary, path) == 0 else {
            throw .keyFileUnreadable(path: path, reason: String(cString: strerror(errno)))
        }
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
        var retired: [Int: SymmetricKey] = [:]
        for (v, k) in stored.retired_data_keys ?? [:] {
            guard let version = Int(v), version != stored.version, let key = Data(base64Encoded: k), key.count == 32 else {
                throw .keyMaterialInvalid(source: source)
            }
            retired[version] = SymmetricKey(data: key)
        }
        return VaultKeys(version: stored.version, data: SymmetricKey(data: d), index: SymmetricKey(data: i), retired: retired)
    }

    /// Writes the key file with mode 0600 from the moment it exists (never world-readable, not even briefly).
    public static func write(_ keys: VaultKeys, path: String) throws(VaultError) {
        func base64(_ key: SymmetricKey) -> String { key.withUnsafeBytes { Data($0).base64EncodedString() } }
        let stored = Stored(version: keys.version, data_key: base64(keys.data), index_key: base64(keys.index),
                            retired_data_keys: keys.retired.isEmpty ? nil
                                : Dictionary(uniqueKeysWithValues: keys.retired.map { ("\($0.key)", base64($0.value)) }))
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
