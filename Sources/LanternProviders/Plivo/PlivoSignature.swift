import Foundation
import LanternCore
import Synchronization

/// Plivo's webhook signatures. V2: HMAC-SHA256 over the URL (no query) and a nonce. V3: over
/// the URL, its sorted query and the sorted parameters, then the nonce.
public enum PlivoSignature {
    public static func v2(url: String, nonce: String, authToken: String) -> String {
        let base = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        return WebhookCrypto.hmacSHA256(key: Data(authToken.utf8), Data((base + nonce).utf8)).base64EncodedString()
    }

    public static func v3(method: String, url: String, params: [(name: String, value: String)], nonce: String, authToken: String) -> String {
        let parts = url.split(separator: "?", maxSplits: 1)
        let base = String(parts[0])
        let query = parts.count > 1 ? (FormEncoding.decode(String(parts[1])) ?? []) : []
        func sortedPairs(_ pairs: [(name: String, value: String)]) -> [(String, String)] {
            var byName: [String: [String]] = [:]
            for p in pairs { byName[p.name, default: []].append(p.value) }
            return byName.keys.sorted().flatMap { k in byName[k]!.sorted().map { (k, $0) } }
        }
        var signed = base
        if method.uppercased() == "GET" {
            let all = sortedPairs(query + params)
            if !all.isEmpty { signed += "?" + all.map { "\($0.0)=\($0.1)" }.joined(separator: "&") }
        } else {
            if !query.isEmpty {
                signed += "?" + sortedPairs(query).map { "\($0.0)=\($0.1)" }.joined(separator: "&") + "."
            } else if !params.isEmpty {
                signed += "?"
            }
            signed += sortedPairs(params).map { $0.0 + $0.1 }.joined()
        }
        return WebhookCrypto.hmacSHA256(key: Data(authToken.utf8), Data((signed + "." + nonce).utf8)).base64EncodedString()
    }
}

/// Nonces seen recently: Plivo signs no timestamp, so a captured request could otherwise be
/// replayed. Kept in memory (a nonce is not personal data) for `lifetime`, at most `capacity`.
public final class NonceCache: Sendable {
    private let seen = Mutex<[String: Date]>([:])
    let lifetime: TimeInterval
    let capacity: Int

    public init(lifetime: TimeInterval = 86_400, capacity: Int = 100_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// True the first time a nonce is offered (within its lifetime), false on a replay.
    public func admit(_ nonce: String, now: Date) -> Bool {
        seen.withLock { seen in
            if seen.count >= capacity {
                seen = seen.filter { now.timeIntervalSince($0.value) < lifetime }
                if seen.count >= capacity, let oldest = seen.min(by: { $0.value < $1.value }) { seen[oldest.key] = nil }
            }
            if let at = seen[nonce], now.timeIntervalSince(at) < lifetime { return false }
            seen[nonce] = now
            return true
        }
    }
}
