import Foundation
import LanternCore
import LanternProviders

/// The SMS accounts Lantern talks to: one registry for all six. Any number of them can be set
/// at once; each text is answered through the provider and number it came in on.
public struct ProviderSettings: Sendable {
    public var twilio: TwilioConfiguration?
    public var vonage: VonageConfiguration?
    public var telnyx: TelnyxConfiguration?
    public var plivo: PlivoConfiguration?
    public var sinch: SinchConfiguration?
    public var messageBird: MessageBirdConfiguration?
    public init() {}

    /// Every provider's route name (`/webhooks/<name>`, `LANTERN_<NAME>_…`).
    public static let names = ["twilio", "vonage", "telnyx", "plivo", "sinch", "messagebird"]

    /// The numbers we send from, for loop protection.
    var ownNumbers: [String] {
        [twilio?.fromNumber, vonage?.fromNumber, telnyx?.fromNumber, plivo?.fromNumber, sinch?.fromNumber, messageBird?.originator].compactMap { $0 }
    }

    /// Reads `TWILIO_*`, `VONAGE_*`, `TELNYX_*`, `PLIVO_*`, `SINCH_*` and `MESSAGEBIRD_*`. A provider is on
    /// when its credentials are set; its webhook check is on unless `LANTERN_<NAME>_SIGNATURE_CHECK=off`.
    static func read(from sources: SettingSources, publicBaseURL: URL?) throws(ConfigurationError) -> ProviderSettings {
        func value(_ name: String) -> String? { sources.value(name) }
        func url(_ name: String, _ fallback: String) throws(ConfigurationError) -> URL {
            guard let raw = value(name) else { return URL(string: fallback)! }
            guard let u = URL(string: raw), u.scheme != nil else { throw .invalid(name, "must be a URL") }
            return u
        }
        func check(_ provider: String) throws(ConfigurationError) -> Bool {
            let name = "LANTERN_\(provider)_SIGNATURE_CHECK"
            switch value(name)?.lowercased() {
            case nil, "on": return true
            case "off": return false
            default: throw .invalid(name, "must be on or off")
            }
        }
        /// All of a provider's required settings, or none of them.
        func required(_ names: [String], for provider: String) throws(ConfigurationError) -> [String]? {
            let present = names.compactMap(value)
            if present.isEmpty { return nil }
            guard present.count == names.count else {
                throw .invalid(names.first { value($0) == nil }!, "is required with \(names.filter { value($0) != nil }.joined(separator: ", ")) to use \(provider)")
            }
            return present
        }
        func needsPublicURL(_ provider: String, verify: Bool) throws(ConfigurationError) {
            if verify && publicBaseURL == nil {
                throw .invalid("LANTERN_PUBLIC_URL", "is required with \(provider): its signatures cover the public URL it calls")
            }
        }
        var s = ProviderSettings()
        if let t = try required(["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"], for: "Twilio") {
            let verify = try check("TWILIO")
            if verify && publicBaseURL == nil {
                throw .invalid("LANTERN_PUBLIC_URL", "is required with Twilio: signatures are computed over the public URL Twilio calls (e.g. https://sms.example.org)")
            }
            guard value("TWILIO_FROM_NUMBER") != nil || value("TWILIO_MESSAGING_SERVICE_SID") != nil else {
                throw .invalid("TWILIO_FROM_NUMBER", "or TWILIO_MESSAGING_SERVICE_SID is required to send with Twilio")
            }
            s.twilio = TwilioConfiguration(accountSID: t[0], authToken: t[1], fromNumber: value("TWILIO_FROM_NUMBER"),
                                           messagingServiceSID: value("TWILIO_MESSAGING_SERVICE_SID"),
                                           apiBaseURL: try url("TWILIO_API_BASE_URL", "https://api.twilio.com"),
                                           publicBaseURL: publicBaseURL, verifySignatures: verify)
        }
        if let v = try required(["VONAGE_API_KEY", "VONAGE_API_SECRET", "VONAGE_SIGNATURE_SECRET"], for: "Vonage") {
            let method = try value("VONAGE_SIGNATURE_METHOD").map { raw throws(ConfigurationError) in
                guard let m = VonageSignature.Method(rawValue: raw.lowercased()) else {
                    throw .invalid("VONAGE_SIGNATURE_METHOD", "must be md5hash, md5, sha1, sha256 or sha512 (as set in the Vonage dashboard)")
                }
                return m
            } ?? .sha256
            s.vonage = VonageConfiguration(apiKey: v[0], apiSecret: v[1], signatureSecret: v[2], signatureMethod: method,
                                           fromNumber: value("VONAGE_FROM_NUMBER"), apiBaseURL: try url("VONAGE_API_BASE_URL", "https://rest.nexmo.com"),
                                           publicBaseURL: publicBaseURL, verifySignatures: try check("VONAGE"))
        }
        if let t = try required(["TELNYX_API_KEY", "TELNYX_PUBLIC_KEY"], for: "Telnyx") {
            guard let key = Data(base64Encoded: t[1]), key.count == 32 else {
                throw .invalid("TELNYX_PUBLIC_KEY", "must be the Base64 public key from the Telnyx portal (32 bytes)")
            }
            guard value("TELNYX_FROM_NUMBER") != nil || value("TELNYX_MESSAGING_PROFILE_ID") != nil else {
                throw .invalid("TELNYX_FROM_NUMBER", "or TELNYX_MESSAGING_PROFILE_ID is required to send with Telnyx")
            }
            s.telnyx = TelnyxConfiguration(apiKey: t[0], publicKey: t[1], fromNumber: value("TELNYX_FROM_NUMBER"),
                                           messagingProfileID: value("TELNYX_MESSAGING_PROFILE_ID"),
                                           apiBaseURL: try url("TELNYX_API_BASE_URL", "https://api.telnyx.com"),
                                           publicBaseURL: publicBaseURL, verifySignatures: try check("TELNYX"))
        }
        if let p = try required(["PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_FROM_NUMBER"], for: "Plivo") {
            let verify = try check("PLIVO")
            try needsPublicURL("Plivo", verify: verify)
            s.plivo = PlivoConfiguration(authID: p[0], authToken: p[1], fromNumber: p[2], apiBaseURL: try url("PLIVO_API_BASE_URL", "https://api.plivo.com"),
                                         publicBaseURL: publicBaseURL, verifySignatures: verify)
            switch value("PLIVO_ACCEPT_V2_SIGNATURES")?.lowercased() {
            case nil, "off": break
            case "on": s.plivo?.acceptV2Only = true
            default: throw .invalid("PLIVO_ACCEPT_V2_SIGNATURES", "must be on or off")
            }
        }
        if let c = try required(["SINCH_SERVICE_PLAN_ID", "SINCH_API_TOKEN", "SINCH_FROM_NUMBER"], for: "Sinch") {
            let verify = try check("SINCH")
            if verify && value("SINCH_WEBHOOK_SECRET") == nil {
                throw .invalid("SINCH_WEBHOOK_SECRET", "is required to check Sinch callbacks (ask Sinch to sign them; or LANTERN_SINCH_SIGNATURE_CHECK=off)")
            }
            let region = value("SINCH_REGION") ?? "eu"
            guard ["us", "eu", "au", "br", "ca"].contains(region) else { throw .invalid("SINCH_REGION", "must be us, eu, au, br or ca") }
            s.sinch = SinchConfiguration(servicePlanID: c[0], apiToken: c[1], webhookSecret: value("SINCH_WEBHOOK_SECRET"), fromNumber: c[2],
                                         apiBaseURL: try url("SINCH_API_BASE_URL", "https://\(region).sms.api.sinch.com"),
                                         publicBaseURL: publicBaseURL, verifySignatures: verify)
        }
        if let m = try required(["MESSAGEBIRD_ACCESS_KEY", "MESSAGEBIRD_SIGNING_KEY", "MESSAGEBIRD_ORIGINATOR"], for: "MessageBird") {
            let verify = try check("MESSAGEBIRD")
            try needsPublicURL("MessageBird", verify: verify)
            // Its webhooks are HS256 JWTs, whose key must be at least the hash's 32 bytes
            // (RFC 7518 3.2); MessageBird's own keys are longer.
            if verify && m[1].utf8.count < 32 {
                throw .invalid("MESSAGEBIRD_SIGNING_KEY", "is shorter than 32 bytes, too short to check MessageBird's HS256 signatures: copy the whole signing key from the dashboard")
            }
            s.messageBird = MessageBirdConfiguration(accessKey: m[0], signingKey: m[1], originator: m[2],
                                                     apiBaseURL: try url("MESSAGEBIRD_API_BASE_URL", "https://rest.messagebird.com"),
                                                     publicBaseURL: publicBaseURL, verifySignatures: verify)
        }
        return s
    }

    /// Fills in the public URL (signatures and callback URLs use it) where a provider has none.
    func withPublicBaseURL(_ url: URL?) -> ProviderSettings {
        var s = self
        if twilio?.publicBaseURL == nil { s.twilio?.publicBaseURL = url }
        if vonage?.publicBaseURL == nil { s.vonage?.publicBaseURL = url }
        if telnyx?.publicBaseURL == nil { s.telnyx?.publicBaseURL = url }
        if plivo?.publicBaseURL == nil { s.plivo?.publicBaseURL = url }
        if sinch?.publicBaseURL == nil { s.sinch?.publicBaseURL = url }
        if messageBird?.publicBaseURL == nil { s.messageBird?.publicBaseURL = url }
        return s
    }

    /// One adapter per configured account, by route name.
    func providers(transport: any HTTPTransport, now: @escaping @Sendable () -> Date) -> [any SMSProvider] {
        var list: [any SMSProvider] = []
        if let c = twilio { list.append(Twilio(configuration: c, transport: transport)) }
        if let c = vonage { list.append(Vonage(configuration: c, transport: transport, now: now)) }
        if let c = telnyx { list.append(Telnyx(configuration: c, transport: transport, now: now)) }
        if let c = plivo { list.append(Plivo(configuration: c, transport: transport, now: now)) }
        if let c = sinch { list.append(Sinch(configuration: c, transport: transport, now: now)) }
        if let c = messageBird { list.append(MessageBird(configuration: c, transport: transport, now: now)) }
        return list
    }

    /// Providers whose webhook check an operator turned off, for a loud warning at start.
    var unchecked: [String] {
        [twilio.map { ("twilio", $0.verifySignatures) }, vonage.map { ("vonage", $0.verifySignatures) }, telnyx.map { ("telnyx", $0.verifySignatures) },
         plivo.map { ("plivo", $0.verifySignatures) }, sinch.map { ("sinch", $0.verifySignatures) },
         messageBird.map { ("messagebird", $0.verifySignatures) }].compactMap { $0 }.filter { !$0.1 }.map(\.0)
    }
}
