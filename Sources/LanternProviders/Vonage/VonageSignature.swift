import Crypto
import Foundation
import JWTKit
import LanternCore

/// Vonage's two webhook signatures: the SMS API's `sig` parameter (one of five methods chosen
/// in the dashboard) and the Messages API's HS256 JWT bearer with a `payload_hash` claim.
public enum VonageSignature {
    public enum Method: String, Sendable, CaseIterable {
        case md5hash, md5, sha1, sha256, sha512
    }

    /// `&k1=v1&k2=v2…` over every parameter but `sig`, sorted by name, with `&` and `=` in
    /// values replaced by `_`.
    public static func baseString(_ params: [(name: String, value: String)]) -> String {
        let sorted = params.filter { $0.name != "sig" }.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        return sorted.map { "&\($0.name)=" + $0.value.replacingOccurrences(of: "&", with: "_").replacingOccurrences(of: "=", with: "_") }.joined()
    }

    public static func sign(_ params: [(name: String, value: String)], secret: String, method: Method) -> String {
        let base = Data(baseString(params).utf8)
        let key = SymmetricKey(data: Data(secret.utf8))
        switch method {
        case .md5hash: return WebhookCrypto.hex(Crypto.Insecure.MD5.hash(data: base + Data(secret.utf8)))
        case .md5: return WebhookCrypto.hex(HMAC<Crypto.Insecure.MD5>.authenticationCode(for: base, using: key), uppercase: true)
        case .sha1: return WebhookCrypto.hex(HMAC<Crypto.Insecure.SHA1>.authenticationCode(for: base, using: key), uppercase: true)
        case .sha256: return WebhookCrypto.hex(HMAC<SHA256>.authenticationCode(for: base, using: key), uppercase: true)
        case .sha512: return WebhookCrypto.hex(HMAC<SHA512>.authenticationCode(for: base, using: key), uppercase: true)
        }
    }

    public static func isValid(_ params: [(name: String, value: String)], secret: String, method: Method) -> Bool {
        guard let sig = params.first(where: { $0.name == "sig" })?.value else { return false }
        return WebhookCrypto.matches(sig, sign(params, secret: secret, method: method), caseInsensitive: true)
    }

    public enum JWTFailure: Error, Equatable, CustomStringConvertible {
        case token(JWTVerifier.Failure), stale, payloadHash, missingIAT, missingPayloadHash
        public var description: String {
            switch self {
            case .token(let f): f.description
            case .stale: "token iat is outside the allowed window"
            case .payloadHash: "token payload_hash does not match the body"
            case .missingIAT: "token has no iat claim"
            case .missingPayloadHash: "token has no payload_hash claim"
            }
        }
    }

    /// The Messages API's bearer token: HS256 under the signature secret, `iat` within
    /// `tolerance` of now, and `payload_hash` the SHA-256 of the raw body. Both claims are
    /// required (as Vonage's SDKs check them): without them a captured token could carry any
    /// body, at any time.
    public static func verifyJWT(_ token: String, secret: String, body: [UInt8], now: Date, tolerance: TimeInterval = 300) async throws(JWTFailure) {
        let claims: Claims
        do { claims = try await JWTVerifier.verify(token, secret: secret, as: Claims.self) } catch { throw .token(error) }
        guard let iat = claims.iat?.value.timeIntervalSince1970 else { throw .missingIAT }
        guard abs(now.timeIntervalSince1970 - iat) <= tolerance else { throw .stale }
        guard let hash = claims.payloadHash else { throw .missingPayloadHash }
        guard ConstantTime.equals(hash.lowercased(), WebhookCrypto.sha256Hex(body)) else { throw .payloadHash }
    }

    /// What a Messages API webhook's token claims (Vonage adds more; only these are checked).
    struct Claims: ClockCheckedClaims {
        let iat: IssuedAtClaim?
        let payloadHash: String?
        enum CodingKeys: String, CodingKey {
            case iat
            case payloadHash = "payload_hash"
        }
    }
}
