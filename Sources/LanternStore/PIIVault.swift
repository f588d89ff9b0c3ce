import Crypto
import Foundation
import LanternCore
import Synchronization

/// A contact's identity in the database and in logs: HMAC-SHA256 of her number under the
/// index key. It finds her again when she texts, but cannot be turned back into a number.
public struct ContactKey: Sendable, Hashable, CustomStringConvertible {
    public let hex: String
    public init(hex: String) { self.hex = hex }
    /// The first 8 hex digits: enough to follow one person through the logs, useless for anything else.
    public var short: String { String(hex.prefix(8)) }
    public var description: String { short }
}

/// The two secrets that protect numbers and addresses. Kept outside the database, so a copy of
/// the database alone reveals no one.
public struct VaultKeys: Sendable {
    public let version: Int
    /// AES-256-GCM key for numbers, addresses and everything else personal at rest.
    public let data: SymmetricKey
    /// HMAC-SHA256 key for lookups by number.
    public let index: SymmetricKey
    /// Earlier data keys, still able to read what was sealed before a rotation finished.
    public let retired: [Int: SymmetricKey]

    public init(version: Int, data: SymmetricKey, index: SymmetricKey, retired: [Int: SymmetricKey] = [:]) {
        self.version = version
        self.data = data
        self.index = index
        self.retired = retired
    }

    /// A new current data key; the old one is kept (retired) until everything is re-sealed.
    public func rotated() -> VaultKeys {
        var retired = self.retired
        retired[version] = data
        return VaultKeys(version: (retired.keys.max() ?? version) + 1, data: SymmetricKey(size: .bits256), index: index, retired: retired)
    }

    public func withoutRetired() -> VaultKeys { VaultKeys(version: version, data: data, index: index) }

    public static func generate(version: Int = 1) -> VaultKeys {
        VaultKeys(version: version, data: SymmetricKey(size: .bits256), index: SymmetricKey(size: .bits256))
    }
}

public enum VaultError: Error, Equatable, CustomStringConvertible {
    case keyFileUnreadable(path: String, reason: String)
    case keyFileInsecure(path: String, mode: String)
    case keyMaterialInvalid(source: String)
    case ciphertextInvalid

    public var description: String {
        switch self {
        case .keyFileUnreadable(let p, let r): "cannot read key file \(p): \(r)"
        case .keyFileInsecure(let p, let m): "key file \(p) has mode \(m); it must be readable by its owner only (chmod 600)"
        case .keyMaterialInvalid(let s): "key material in \(s) is not two base64-encoded 32-byte keys"
        case .ciphertextInvalid: "a stored number could not be decrypted (wrong data key?)"
        }
    }
}

/// Encrypts and hashes personal data. The only place that holds key material.
public struct PIIVault: Sendable {
    let ring: KeyRing

    /// `reload`, when given, re-reads the keys from where they live: a running server then
    /// follows a `lantern keys rotate` done beside it, without a restart.
    public init(keys: VaultKeys, reload: (@Sendable () throws -> VaultKeys)? = nil) {
        ring = KeyRing(keys, reload: reload)
    }

    public var keys: VaultKeys { ring.current() }

    /// How often a running server re-reads its keys, to follow a rotation done beside it.
    public static let refreshInterval: Duration = .seconds(2)

    /// Re-reads the keys from their source (a no-op without one). Called by the key watcher.
    public func refreshKeys() { ring.reloadNow() }

    public func contactKey(for number: PhoneNumber) -> ContactKey {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(number.e164.utf8), using: keys.index)
        return ContactKey(hex: mac.hexString)
    }

    /// A provider's message id as kept for deduplication: keyed, so a copied database cannot be
    /// matched against the provider's records.
    public func dedupeKey(provider: String, id: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("\(provider)\u{0}\(id)".utf8), using: keys.index).hexString
    }

    public func seal(_ plaintext: String) throws -> Data {
        // Unwrapping `combined` cannot fail with the default 12-byte nonce.
        guard let combined = try AES.GCM.seal(Data(plaintext.utf8), using: keys.data).combined else {
            throw VaultError.ciphertextInvalid
        }
        return combined
    }

    public func open(_ ciphertext: Data) throws(VaultError) -> String {
        try openReportingVersion(ciphertext).text
    }

    /// Opens with the current key, then retired ones (re-reading the keys once if none fits, in
    /// case a rotation happened beside us). Says which key version fitted.
    public func openReportingVersion(_ ciphertext: Data) throws(VaultError) -> (text: String, version: Int) {
        guard let box = try? AES.GCM.SealedBox(combined: ciphertext) else { throw .ciphertextInvalid }
        for attempt in 0..<2 {
            let keys = attempt == 0 ? self.keys : ring.reloadNow()
            for (version, key) in [(keys.version, keys.data)] + keys.retired.sorted(by: { $0.key > $1.key }).map({ ($0.key, $0.value) }) {
                if let data = try? AES.GCM.open(box, using: key) {
                    guard let s = String(data: data, encoding: .utf8) else { throw .ciphertextInvalid }
                    return (s, version)
                }
            }
        }
        throw .ciphertextInvalid
    }
}

/// The keys in use, shared by every copy of a vault. A running server re-reads them every couple
/// of seconds (`PIIVault.refreshKeys`, off the request path) so that all writers move to a new
/// data key soon after a rotation.
final class KeyRing: Sendable {
    private struct State {
        var keys: VaultKeys
    }
    private let state: Mutex<State>
    private let reload: (@Sendable () throws -> VaultKeys)?
    init(_ keys: VaultKeys, reload: (@Sendable () throws -> VaultKeys)?) {
        state = Mutex(State(keys: keys))
        self.reload = reload
    }

    /// The keys in use. Never touches the disk: re-reading is the key watcher's job (and
    /// happens at once when a ciphertext no known key opens).
    func current() -> VaultKeys { state.withLock { $0.keys } }

    /// Re-reads the keys; keeps the ones it has if the source cannot be read or changed its
    /// index key (which would orphan every contact).
    @discardableResult
    func reloadNow() -> VaultKeys {
        let fresh = try? reload?()
        return state.withLock { s in
            if let fresh, fresh.index == s.keys.index, fresh.version >= s.keys.version { s.keys = fresh }
            return s.keys
        }
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension HashedAuthenticationCode {
    var hexString: String { self.withUnsafeBytes { Array($0).hexString } }
}

/// Key material never appears in any description.
extension VaultKeys: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "VaultKeys(version: \(version))" }
    public var debugDescription: String { description }
}

extension PIIVault: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "PIIVault(\(keys))" }
    public var debugDescription: String { description }
}

extension AppDatabase: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "AppDatabase" }
    public var debugDescription: String { description }
}
