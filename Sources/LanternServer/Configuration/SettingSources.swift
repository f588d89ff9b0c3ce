import Configuration
import Foundation
import Synchronization

/// Where Lantern's settings are read from, in order: the environment, then the owner-only config
/// file named by `LANTERN_CONFIG_FILE`, then Lantern's own default. Both sources sit behind one
/// swift-configuration `ConfigReader`, so they are read alike, secrets are marked as such for any
/// access log, and every read remembers which source answered (for `lantern config check`).
/// Our validation stays ours: values are read as text and checked by `LanternConfiguration`.
public struct SettingSources: Sendable {
    public enum Origin: String, Sendable, Codable {
        case environment, file, `default`
    }

    private let reader: ConfigReader
    private let recorder: OriginRecorder

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) {
        let secret: SecretsSpecifier<String, String> = .dynamic { name, _ in Self.isSecret(name) }
        var providers: [any ConfigProvider] = [EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: secret)]
        if let path = environment["LANTERN_CONFIG_FILE"], !path.isEmpty {
            let lines = try ConfigurationFile.read(path)
            var values: [AbsoluteConfigKey: ConfigValue] = [:]
            for (name, value) in lines {
                values[AbsoluteConfigKey(Self.components(name))] = ConfigValue(.string(value), isSecret: Self.isSecret(name))
            }
            providers.append(InMemoryProvider(name: Self.fileProviderName, values: values))
        }
        recorder = OriginRecorder()
        reader = ConfigReader(providers: providers, accessReporter: recorder)
    }

    /// The value of the setting `name` (e.g. `LANTERN_PORT`); nil when unset or empty.
    public func value(_ name: String) -> String? {
        guard let v = reader.string(forKey: ConfigKey(Self.components(name)), isSecret: Self.isSecret(name)), !v.isEmpty else { return nil }
        return v
    }

    /// Where each setting read so far came from.
    public var origins: [String: Origin] { recorder.origins }

    /// Settings whose values must never be printed or logged: credentials, keys, and the
    /// coordinators' and peers' phone numbers.
    public static func isSecret(_ name: String) -> Bool {
        ["TOKEN", "SECRET", "KEY", "PASSWORD", "NUMBERS"].contains { name.contains($0) }
    }

    static let fileProviderName = "lantern-config-file"

    /// `LANTERN_DATA_DIR` ⇄ ["lantern", "data", "dir"]: the environment provider joins a key's
    /// components with "_" and upper-cases them, so both sources agree on every name.
    static func components(_ name: String) -> [String] {
        name.lowercased().split(separator: "_", omittingEmptySubsequences: false).map(String.init)
    }
}

/// Notes, for each setting read, the first source that had it.
private final class OriginRecorder: AccessReporter, Sendable {
    private let seen = Mutex<[String: SettingSources.Origin]>([:])

    func report(_ event: AccessEvent) {
        let name = event.metadata.key.components.joined(separator: "_").uppercased()
        var origin = SettingSources.Origin.default
        for provider in event.providerResults {
            guard case .success(let lookup) = provider.result, lookup.value != nil else { continue }
            origin = provider.providerName.contains(SettingSources.fileProviderName) ? .file : .environment
            break
        }
        seen.withLock { $0[name] = origin }
    }

    var origins: [String: SettingSources.Origin] { seen.withLock { $0 } }
}
