import Crypto
import Foundation
import LanternCore

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
    /// AES-256-GCM key for numbers (and later addresses) at rest.
    public let data: SymmetricKey
    /// HMAC-SHA256 key for lookups by number.
    public let index: SymmetricKey

    public init(version: Int, data: SymmetricKey, index: SymmetricKey) {
        self.version = version
        self.data = data
        self.index = index
    }

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

/// Encrypts and hashes personal data (numbers now; addresses later). The only place that
/// holds key material.
public struct PIIVault: Sendable {
    public let keys: VaultKeys

    public init(keys: VaultKeys) { self.keys = keys }

    public func contactKey(for number: PhoneNumber) -> ContactKey {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(number.e164.utf8), using: keys.index)
        return ContactKey(hex: mac.hexString)
    }

    public func seal(_ plaintext: String) throws -> Data {
        // Unwrapping `combined` cannot fail with the default 12-byte nonce.
        guard let combined = try AES.GCM.seal(Data(plaintext.utf8), using: keys.data).combined else {
            throw VaultError.ciphertextInvalid
        }
        return combined
    }

    public func open(_ ciphertext: Data) throws(VaultError) -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: ciphertext)
            let data = try AES.GCM.open(box, using: keys.data)
            guard let s = String(data: data, encoding: .utf8) else { throw VaultError.ciphertextInvalid }
            return s
        } catch {
            throw VaultError.ciphertextInvalid
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
