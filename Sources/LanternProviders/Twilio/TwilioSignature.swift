import Crypto
import Foundation
import LanternCore

/// Twilio's `X-Twilio-Signature`: Base64(HMAC-SHA1(auth token, URL + sorted params)).
/// Mirrors twilio-python's RequestValidator, including its port variants.
public enum TwilioSignature {
    /// The string Twilio signs: the URL, then each parameter name (byte order) followed by each
    /// of its distinct values (sorted).
    public static func signedString(url: String, params: [(name: String, value: String)]) -> String {
        url + String(decoding: signedParameters(params), as: UTF8.self)
    }

    /// The parameters' part of what Twilio signs, as bytes.
    static func signedParameters(_ params: [(name: String, value: String)]) -> [UInt8] {
        let sorted = params.sorted { a, b in a.name == b.name ? bytewise(a.value, b.value) : bytewise(a.name, b.name) }
        var out: [UInt8] = []
        var previous: (name: String, value: String)?
        for p in sorted where previous.map({ $0.name != p.name || $0.value != p.value }) ?? true {
            out += p.name.utf8
            out += p.value.utf8
            previous = p
        }
        return out
    }

    public static func compute(url: String, params: [(name: String, value: String)], authToken: String) -> String {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(signedString(url: url, params: params).utf8),
                                                         using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// Valid if the signature matches the URL as given, with its default port added, or with its port removed.
    public static func isValid(signature: String, url: String, params: [(name: String, value: String)], authToken: String) -> Bool {
        Verifier(publicBaseURL: url, authToken: authToken).isValid(signature: signature, uri: "", params: params)
    }

    /// JSON webhooks: the URL carries `bodySHA256`, the signature covers the URL alone, and the
    /// body must hash to that value.
    public static func isValidJSON(signature: String, url: String, body: [UInt8], authToken: String) -> Bool {
        guard let query = url.split(separator: "?", maxSplits: 1).dropFirst().first,
              let pairs = FormEncoding.decode(String(query)),
              let claimed = pairs.first(where: { $0.name == "bodySHA256" })?.value else { return false }
        let actual = Data(SHA256.hash(data: body)).map { String(format: "%02x", $0) }.joined()
        let bodyOK = ConstantTime.equals(actual, claimed.lowercased())
        return isValid(signature: signature, url: url, params: [], authToken: authToken) && bodyOK
    }

    static func bytewise(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// The check made on every webhook, with what never changes worked out once: the key, and
    /// the public URL's variants (as given, with and without its port). Same rules as `isValid`.
    public struct Verifier: Sendable {
        /// One HMAC per URL variant, keyed and fed the variant already: a request adds only its own part.
        let started: [HMAC<Insecure.SHA1>]

        public init(publicBaseURL: String, authToken: String) {
            let key = SymmetricKey(data: Data(authToken.utf8))
            started = TwilioSignature.urlVariants(publicBaseURL).map { variant in
                var mac = HMAC<Insecure.SHA1>(key: key)
                mac.update(data: Array(variant.utf8))
                return mac
            }
        }

        /// `uri`: the request's path and query, as received (appended to the public URL).
        public func isValid(signature: String, uri: String, params: [(name: String, value: String)]) -> Bool {
            // Compared as text, as Twilio's own libraries do: decoding first would let a signature
            // with different (ignored) padding bits pass, and it is deduplicated as text.
            let claimed = Array(signature.utf8)
            let tail = Array(uri.utf8) + TwilioSignature.signedParameters(params)
            var ok = false
            for prefix in started {
                var mac = prefix
                mac.update(data: tail)
                // Every variant is computed: the time taken does not reveal which one matched.
                ok = ConstantTime.equals(Array(Data(mac.finalize()).base64EncodedString().utf8), claimed) || ok
            }
            return ok
        }
    }

    /// The URL as given, with the scheme's default port added, and with any port removed.
    static func urlVariants(_ url: String) -> [String] {
        guard let schemeEnd = url.range(of: "://") else { return [url] }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        let rest = afterScheme[authorityEnd...]
        let prefix = url[..<schemeEnd.upperBound]
        let userinfoEnd = authority.lastIndex(of: "@").map { authority.index(after: $0) } ?? authority.startIndex
        let hostPort = authority[userinfoEnd...]
        let userinfo = authority[..<userinfoEnd]
        var host = hostPort
        var hasPort = false
        if let colon = hostPort.lastIndex(of: ":"), !hostPort[colon...].contains("]") {
            host = hostPort[..<colon]
            hasPort = true
        }
        let withoutPort = prefix + userinfo + host + rest
        let defaultPort = scheme == "https" ? ":443" : scheme == "http" ? ":80" : ""
        let withPort = hasPort ? url : String(prefix + userinfo + host + defaultPort + rest)
        return Array(Set([url, String(withoutPort), withPort]))
    }
}
