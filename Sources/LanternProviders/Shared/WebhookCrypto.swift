import Crypto
import Foundation
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
/// webhooks. Only verification: Lantern never issues them.
public enum JWTVerifier {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed, unsupportedAlgorithm(String), badSignature
        public var description: String {
            switch self {
            case .malformed: "token is not a JWT"
            case .unsupportedAlgorithm(let a): "token algorithm \(a) is not accepted"
            case .badSignature: "token signature does not match"
            }
        }
    }

    /// The claims of a token whose signature checks out under `secret`.
    public static func verify(_ token: String, secret: some ContiguousBytes, allowed: Set<String> = ["HS256"]) throws(Failure) -> [String: Any] {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = WebhookCrypto.base64URLDecode(parts[0]),
              let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any],
              let claimsData = WebhookCrypto.base64URLDecode(parts[1]),
              let claims = (try? JSONSerialization.jsonObject(with: claimsData)) as? [String: Any],
              let signature = WebhookCrypto.base64URLDecode(parts[2]) else { throw .malformed }
        let alg = header["alg"] as? String ?? "none"
        guard allowed.contains(alg) else { throw .unsupportedAlgorithm(alg) }
        let signed = Data((parts[0] + "." + parts[1]).utf8)
        let key = SymmetricKey(data: secret)
        let expected: Data
        switch alg {
        case "HS256": expected = Data(HMAC<SHA256>.authenticationCode(for: signed, using: key))
        case "HS384": expected = Data(HMAC<SHA384>.authenticationCode(for: signed, using: key))
        case "HS512": expected = Data(HMAC<SHA512>.authenticationCode(for: signed, using: key))
        default: throw .unsupportedAlgorithm(alg)
        }
        guard ConstantTime.equals(expected, signature) else { throw .badSignature }
        return claims
    }
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
