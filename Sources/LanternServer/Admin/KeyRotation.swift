import Foundation
import LanternStore

/// Rotating the data key while Lantern keeps running: a use case of its own, so the CLI only
/// asks for it and says what happened.
public struct KeyRotation: Sendable {
    public let configuration: LanternConfiguration
    /// How long to wait for a running server to pick up a new key file (it re-reads it every 2 s).
    public let settle: Duration

    public init(configuration: LanternConfiguration, settle: Duration = .seconds(3)) {
        self.configuration = configuration
        self.settle = settle
    }

    public struct Outcome: Sendable {
        public let version: Int
        public let resealed: Int
        /// The keys came from the environment: the operator removes LANTERN_RETIRED_DATA_KEYS.
        public let fromEnvironment: Bool
    }

    public enum Failure: Error, CustomStringConvertible {
        case noKeyFile(String)
        case unreadable(count: Int, resealed: Int)

        public var description: String {
            switch self {
            case .noKeyFile(let dir): "no key file in \(dir): nothing to rotate"
            case .unreadable(let n, let resealed): "\(n) values could not be opened with any known key; retired keys kept. Re-encrypted \(resealed)."
            }
        }
    }

    /// With a key file: a new data key, everything re-encrypted, a wait for a running server to
    /// take the new key up, another pass for anything written meanwhile, then the old key
    /// deleted. With keys in the environment: re-encrypts under the key the environment gives.
    public func run(by actor: String) async throws -> Outcome {
        let dir = configuration.dataDirectory
        let fromEnvironment = KeyFile.usesEnvironment(configuration.keySettings)
        if !fromEnvironment {
            guard let old = try KeyFile.load(directory: dir, environment: configuration.keySettings) else { throw Failure.noKeyFile(dir.path) }
            try KeyFile.replace(old.rotated(), directory: dir)
        }
        let database = try Lantern.openDatabase(configuration)
        var counts = try await database.reencryptAll()
        if !fromEnvironment {
            // A running server may take a moment (longer when busy) to pick up the new key,
            // sealing what arrives meanwhile under the old one: go round until a pass finds
            // nothing left under it.
            for _ in 0..<20 {
                try await Task.sleep(for: settle)
                let late = try await database.reencryptAll()
                counts.resealed += late.resealed
                counts.unreadable = late.unreadable
                if late.resealed == 0 { break }
            }
        }
        try await database.checkpoint()
        if counts.unreadable > 0 { throw Failure.unreadable(count: counts.unreadable, resealed: counts.resealed) }
        if !fromEnvironment {
            try KeyFile.replace(database.vault.keys.withoutRetired(), directory: dir)
            // One last pass (this process still holds the old key) for anything a lagging
            // server sealed under it just now.
            try await Task.sleep(for: settle)
            counts.resealed += try await database.reencryptAll().resealed
        }
        try await database.recordAudit(actor: actor, action: "keys.rotated", now: Date())
        return Outcome(version: database.vault.keys.version, resealed: counts.resealed, fromEnvironment: fromEnvironment)
    }
}
