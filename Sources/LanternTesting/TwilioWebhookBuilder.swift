import Foundation
import LanternProviders

/// Builds webhooks exactly as Twilio sends them: form-encoded and signed with the auth token
/// over the public URL, using the published algorithm.
public struct TwilioWebhookBuilder: Sendable {
    public let publicBaseURL: String
    public let authToken: String
    public let accountSID: String

    public init(publicBaseURL: String, authToken: String, accountSID: String = "AC00000000000000000000000000000000") {
        self.publicBaseURL = publicBaseURL
        self.authToken = authToken
        self.accountSID = accountSID
    }

    public struct Signed: Sendable {
        public let path: String
        public let headers: [String: String]
        public let body: String

        public init(path: String, headers: [String: String], body: String) {
            self.path = path
            self.headers = headers
            self.body = body
        }
    }

    /// A message SID in Twilio's form (`SM` + 32 hex digits) for a readable test label; the same
    /// label always gives the same SID, and a real SID is kept as it is.
    public static func sid(_ label: String) -> String {
        let isReal = label.utf8.count == 34 && label.hasPrefix("SM") && label.dropFirst(2).allSatisfy(\.isHexDigit)
        return isReal ? label : "SM" + WebhookCrypto.sha256Hex(Data(label.utf8)).prefix(32)
    }

    public func inbound(sid label: String, from: String, to: String = "+447700900999", body: String) -> Signed {
        let sid = Self.sid(label)
        return sign(path: "/webhooks/twilio", params: [
            ("AccountSid", accountSID), ("ApiVersion", "2010-04-01"), ("Body", body), ("From", from),
            ("MessageSid", sid), ("NumMedia", "0"), ("NumSegments", "1"), ("SmsMessageSid", sid), ("SmsSid", sid),
            ("SmsStatus", "received"), ("To", to),
        ])
    }

    public func status(sid: String, status: String, errorCode: String? = nil, outboxID: Int64? = nil) -> Signed {
        var params = [("AccountSid", accountSID), ("MessageSid", sid), ("MessageStatus", status), ("SmsSid", sid), ("SmsStatus", status)]
        if let errorCode { params.append(("ErrorCode", errorCode)) }
        return sign(path: "/webhooks/twilio/status" + (outboxID.map { "?ref=\($0)" } ?? ""), params: params)
    }

    public func sign(path: String, params: [(String, String)]) -> Signed {
        let signature = TwilioSignature.compute(url: publicBaseURL + path, params: params.map { (name: $0.0, value: $0.1) },
                                                authToken: authToken)
        return Signed(path: path,
                      headers: ["Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature],
                      body: FormEncoding.encode(params))
    }
}
