import Crypto
import Foundation
import JWTKit
import LanternCore

/// MessageBird's two webhook signatures: the `MessageBird-Signature-JWT` header (a JWT over the
/// URL and body hashes) and the newer Bird platform's `messagebird-signature` HMAC.
public enum MessageBirdSignature {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case token(JWTVerifier.Failure)
        case issuer, notYetValid, expired, missingJTI, urlHash, payloadHash, payloadMissing, payloadUnexpected, missingLifetime
        public var description: String {
            switch self {
            case .token(let f): f.description
            case .issuer: "claim iss is not MessageBird"
            case .notYetValid: "claim nbf is in the future"
            case .expired: "claim exp is in the past"
            case .missingJTI: "claim jti is missing"
            case .urlHash: "claim url_hash does not match the URL called"
            case .payloadHash: "claim payload_hash does not match the body"
            case .payloadMissing: "claim payload_hash is set but the body is empty"
            case .payloadUnexpected: "claim payload_hash is not set but there is a body"
            case .missingLifetime: "claims nbf and exp are required"
            }
        }
    }

    /// Checks a `MessageBird-Signature-JWT` for the full URL called and the raw body, at `now`
    /// (1 s of clock skew allowed, as MessageBird's own SDKs do). Returns the `jti` for dedupe.
    @discardableResult
    public static func verifyJWT(_ token: String, signingKey: String, url: String, body: [UInt8], now: Date) async throws(Failure) -> String {
        let claims: Claims
        do { claims = try await JWTVerifier.verify(token, secret: signingKey, allowed: ["HS256", "HS384", "HS512"], as: Claims.self) } catch {
            throw .token(error)
        }
        guard claims.iss?.value == "MessageBird" else { throw .issuer }
        let t = now.timeIntervalSince1970, skew = 1.0
        // Required, as MessageBird's SDKs require them: a token without them would be valid forever.
        guard let nbf = claims.nbf?.value.timeIntervalSince1970, let exp = claims.exp?.value.timeIntervalSince1970 else {
            throw .missingLifetime
        }
        if t + skew < nbf { throw .notYetValid }
        if t - skew >= exp { throw .expired }
        guard let jti = claims.jti?.value, !jti.isEmpty else { throw .missingJTI }
        guard let urlHash = claims.urlHash, ConstantTime.equals(urlHash, WebhookCrypto.sha256Hex(Data(url.utf8))) else {
            throw .urlHash
        }
        switch (claims.payloadHash, body.isEmpty) {
        case (nil, true): break
        case (nil, false): throw .payloadUnexpected
        case (.some, true): throw .payloadMissing
        case (let hash?, false): guard ConstantTime.equals(hash, WebhookCrypto.sha256Hex(body)) else { throw .payloadHash }
        }
        return jti
    }

    /// The claims of a `MessageBird-Signature-JWT`.
    struct Claims: ClockCheckedClaims {
        let iss: IssuerClaim?
        let nbf: NotBeforeClaim?
        let exp: ExpirationClaim?
        let jti: IDClaim?
        let urlHash: String?
        let payloadHash: String?
        enum CodingKeys: String, CodingKey {
            case iss, nbf, exp, jti
            case urlHash = "url_hash"
            case payloadHash = "payload_hash"
        }
    }

    /// Bird platform: Base64(HMAC-SHA256(key, timestamp \n url \n sha256(body) as raw bytes)).
    public static func hmac(timestamp: String, url: String, body: [UInt8], signingKey: String) -> String {
        let message = Data("\(timestamp)\n\(url)\n".utf8) + Data(SHA256.hash(data: body))
        return WebhookCrypto.hmacSHA256(key: Data(signingKey.utf8), message).base64EncodedString()
    }
}
