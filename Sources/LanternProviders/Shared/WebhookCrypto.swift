import Crypto
import Foundation
import JWTKit
import LanternCore

/// The few cryptographic steps providers' signature schemes are built from, in one place.
public enum WebhookCrypto {
    public static func hmacSHA256(key: some ContiguousBytes, _ message: some DataProtocol) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    public static func sha256Hex(_ data: some DataProtocol) -> String { hex(SHA256.hash(data: data)) }

    public static func hex(_ bytes: some Sequence<UInt8>, uppercase: Bool = false) -> String {
        let digits = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Base64 without padding, `-` and `_` (JWTs), decoded.
    public static func base64URLDecode(_ s: some StringProtocol) -> Data? {
        // Byte by byte: Foundation's string replacing is slow on Linux, and this runs per webhook.
        var bytes = [UInt8]()
        bytes.reserveCapacity(s.utf8.count + 3)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "-"): bytes.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): bytes.append(UInt8(ascii: "/"))
            default: bytes.append(b)
            }
        }
        while bytes.count % 4 != 0 { bytes.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(bytes))
    }

    public static func base64URLEncode(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Compares a received Base64 or hex signature with the expected one, in constant time.
    public static func matches(_ received: String, _ expected: String, caseInsensitive: Bool = false) -> Bool {
        caseInsensitive ? ConstantTime.equals(received.lowercased(), expected.lowercased()) : ConstantTime.equals(received, expected)
    }
}

/// JSON Web Tokens signed with a shared secret (HS256/384/512), as Vonage and MessageBird sign
/// webhooks, checked with jwt-kit into typed claims. Only verification: Lantern never issues them.
public enum JWTVerifier {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed, unsupportedAlgorithm(String), badSignature, secretTooShort(String, Int)
        public var description: String {
            switch self {
            case .malformed: "token is not a JWT"
            case .unsupportedAlgorithm(let a): "token algorithm \(a) is not accepted"
            case .badSignature: "token signature does not match"
            case .secretTooShort(let a, let n): "the configured secret is too short for \(a) (at least \(n) bytes; RFC 7518 3.2)"
            }
        }
    }

    /// Each algorithm's digest and the shortest key it may use (RFC 7518 3.2: the hash's size;
    /// jwt-kit asserts it, and will require it).
    static let digests: [String: (digest: DigestAlgorithm, minimumKeyBytes: Int)] = [
        "HS256": (.sha256, 32), "HS384": (.sha384, 48), "HS512": (.sha512, 64),
    ]

    /// The claims of a token whose signature checks out under `secret` with one of the
    /// `allowed` algorithms. The algorithm is the one the header names (jwt-kit would pick a key
    /// by `kid`, which these providers do not send), so `alg: none` is refused by name.
    public static func verify<Claims: JWTPayload>(_ token: String, secret: String, allowed: Set<String> = ["HS256"],
                                                  as _: Claims.Type) async throws(Failure) -> Claims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = WebhookCrypto.base64URLDecode(parts[0]),
              let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else { throw .malformed }
        let alg = header["alg"] as? String ?? "none"
        guard allowed.contains(alg), let algorithm = digests[alg] else { throw .unsupportedAlgorithm(alg) }
        guard secret.utf8.count >= algorithm.minimumKeyBytes else { throw .secretTooShort(alg, algorithm.minimumKeyBytes) }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: algorithm.digest)
        do {
            return try await keys.verify(token, as: Claims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw .badSignature
        } catch {
            throw .malformed
        }
    }
}

/// Claims checked by the caller against the service's own clock (which tests move), not by
/// jwt-kit against the wall clock.
public protocol ClockCheckedClaims: JWTPayload {}

extension ClockCheckedClaims {
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A webhook's JSON body, parsed once, with typed lookups by path ("data.payload.text").
public struct JSONBody {
    let object: [String: Any]

    public init(_ bytes: [UInt8]) throws(WebhookRejection) {
        guard let o = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw .malformed("body is not a JSON object")
        }
        object = o
    }

    public func value(_ path: String) -> Any? {
        var current: Any? = object
        for key in path.split(separator: ".") {
            if let array = current as? [Any], let i = Int(key) {
                current = i < array.count ? array[i] : nil
            } else {
                current = (current as? [String: Any])?[String(key)]
            }
        }
        return current
    }

    /// A string, or a number written as one.
    public func string(_ path: String) -> String? {
        switch value(path) {
        case let s as String: s
        case let n as NSNumber: n.stringValue
        default: nil
        }
    }
}

/// How a provider's answer to a send maps to what the outbox does next. The same rules for
/// every provider: 2xx accepted, 429 and 5xx retried, bad credentials retried slowly (nothing is
/// lost while an operator fixes them), anything else failed with the provider's code.
public enum SendResponse {
    public static func outcome(_ response: HTTPResponseData, messageID: String?, errorCode: String?,
                               optedOutCodes: Set<String>, credentialsHint: String) -> SendOutcome {
        switch response.status {
        case 200..<300:
            return .accepted(providerMessageID: messageID)
        case 429:
            return .retry(reason: "HTTP 429", retryAfter: response.headers["retry-after"].flatMap(TimeInterval.init))
        case 500..<600:
            return .retry(reason: "HTTP \(response.status)", retryAfter: nil)
        case 401 where !(errorCode.map(optedOutCodes.contains) ?? false), 402, 403 where !(errorCode.map(optedOutCodes.contains) ?? false):
            return .suspended(reason: "HTTP \(response.status): the account was refused (check \(credentialsHint), and the account's credit)")
        default:
            let code = errorCode ?? "http-\(response.status)"
            return .failed(errorCode: code, optedOut: optedOutCodes.contains(code))
        }
    }

    /// The whole send for providers that answer in JSON: exchange, then read the message id and
    /// error code at the given paths (e.g. `data.id`, `errors.0.code`).
    public static func sendJSON(_ transport: any HTTPTransport, _ request: HTTPRequestSpec, messageIDPath: String, errorCodePath: String,
                                optedOutCodes: Set<String>, credentialsHint: String) async -> SendOutcome {
        switch await exchange(transport, request) {
        case .failure(let f): return f.outcome
        case .success(let response):
            let json = try? JSONBody(Array(response.body))
            return outcome(response, messageID: json?.string(messageIDPath), errorCode: json?.string(errorCodePath),
                           optedOutCodes: optedOutCodes, credentialsHint: credentialsHint)
        }
    }

    /// Sends through the transport and maps a transport failure the usual way.
    public static func exchange(_ transport: any HTTPTransport, _ request: HTTPRequestSpec) async -> Result<HTTPResponseData, SendOutcomeFailure> {
        do {
            return .success(try await transport.send(request))
        } catch {
            switch error {
            case .notSent(let why): return .failure(SendOutcomeFailure(outcome: .retry(reason: why, retryAfter: nil)))
            case .ambiguous(let why): return .failure(SendOutcomeFailure(outcome: .ambiguous(reason: why)))
            }
        }
    }
}

public struct SendOutcomeFailure: Error {
    public let outcome: SendOutcome
}

extension WebhookRequest {
    /// The URL the provider called, from the configured public base URL (never the socket:
    /// proxies change scheme and port).
    func publicURL(base: URL?) -> String? {
        base.map { $0.absoluteString.trimmingSuffix("/") + uri }
    }

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}
