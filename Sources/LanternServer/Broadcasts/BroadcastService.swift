import Foundation
import LanternCore
import LanternStore
import Logging

/// What a coordinator asks for: words (plain, per language, or a pre-written template),
/// where, how long it stays worth sending, and whether it is confirmed.
public struct BroadcastRequest: Sendable, Codable {
    public var text: String?
    public var texts: [String: String]?
    public var template: String?
    public var areas: [String]
    public var expiresAt: Date?
    public var expiresInHours: Double?
    public var confirmed: Bool
    public var requiresApproval: Bool?
    /// The coordinator's explicit choice to send words that give away what the alert is about
    /// to everyone, discreet subscribers too (whose lock screens will show them).
    public var plainForEveryone: Bool?

    public init(text: String? = nil, texts: [String: String]? = nil, template: String? = nil, areas: [String],
                expiresAt: Date? = nil, expiresInHours: Double? = nil, confirmed: Bool, requiresApproval: Bool? = nil,
                plainForEveryone: Bool? = nil) {
        self.plainForEveryone = plainForEveryone
        self.text = text
        self.texts = texts
        self.template = template
        self.areas = areas
        self.expiresAt = expiresAt
        self.expiresInHours = expiresInHours
        self.confirmed = confirmed
        self.requiresApproval = requiresApproval
    }

    enum CodingKeys: String, CodingKey {
        case text, texts, template, areas, confirmed
        case expiresAt = "expires_at"
        case expiresInHours = "expires_in_hours"
        case requiresApproval = "requires_approval"
        case plainForEveryone = "plain_for_everyone"
    }
}

/// What sending would mean, before anything is sent.
public struct BroadcastPreview: Sendable, Codable, Equatable {
    public struct Message: Sendable, Codable, Equatable {
        public let locale: String
        public let text: String
        public let encoding: String
        public let characters: Int
        public let segments: Int
        /// Characters that forced UCS-2, so they can be replaced.
        public let nonGSMCharacters: [String]
        public let recipients: Int

        enum CodingKeys: String, CodingKey {
            case locale, text, encoding, characters, segments, recipients
            case nonGSMCharacters = "non_gsm_characters"
        }
    }

    public let recipients: Int
    public let areas: [String]
    public let messages: [Message]
    public let totalSegments: Int
    public let estimatedSeconds: Double
    public let estimatedCost: Double
    public let currency: String
    public let expiresAt: Date
    public let requiresApproval: Bool
    /// What the coordinator should know before sending (e.g. words that would show on a
    /// discreet subscriber's lock screen).
    public let warnings: [String]
    /// The same warnings as data, for a face that words them its own way (the console).
    public var giveaways: [BroadcastRequestError] = []

    enum CodingKeys: String, CodingKey {
        case recipients, areas, messages, currency, warnings
        case totalSegments = "total_segments"
        case estimatedSeconds = "estimated_seconds"
        case estimatedCost = "estimated_cost"
        case expiresAt = "expires_at"
        case requiresApproval = "requires_approval"
    }
}

public enum BroadcastRequestError: Error, Equatable, CustomStringConvertible {
    case noText
    case tooManyTexts
    case unknownTemplate(String)
    case unknownLocale(String)
    case noAreas
    case unknownArea(String)
    case expiryInPast
    case expiryTooFar(hours: Int)
    /// Counted in SMS segments as sent (with the confirmed/unconfirmed mark and the opt-out
    /// line), not in characters: what each subscriber's text costs.
    case tooLong(locale: String, segments: Int)
    /// Words that give it away, with discreet subscribers to reach and no discreet version.
    case givesItAway(locale: String, words: [String])

    public var description: String {
        switch self {
        case .noText: "give the alert's words: 'text', 'texts' (per language, with en-GB) or 'template'"
        case .tooManyTexts: "give only one of 'text', 'texts' or 'template'"
        case .unknownTemplate(let t): "no alert template '\(t)'"
        case .unknownLocale(let l): "no language '\(l)' in locales/"
        case .noAreas: "give at least one area (a postcode district like BS5, an area name, or \"all\")"
        case .unknownArea(let a): "'\(a)' is not a postcode district or an area this service defines"
        case .expiryInPast: "expires_at must be in the future: a stale warning is never sent"
        case .expiryTooFar(let h): "an alert may stay live for at most \(h) hours"
        case .givesItAway(let l, let w): "the alert in \(l) names \(w.joined(separator: ", ")), which would show on the lock screens of people who asked for discreet wording: add a discreet version (texts: {\"\(l)~discreet\": \"…\"}), use a template, or set plain_for_everyone: true"
        case .tooLong(let l, let n): "the alert in \(l) would be \(n) SMS segments with its opt-out line; at most \(MessageTemplate.segmentCeiling) (shorten it)"
        }
    }
}

/// The coordinator's side of alerts: preview, send, approve, cancel, progress. Used by the
/// admin API and by the CLI against a local database alike.
public struct BroadcastService: Sendable {
    public let database: AppDatabase
    public let library: FlowLibrary
    public let settings: BroadcastSettings
    let wakeUp: BroadcastWakeUp
    let now: @Sendable () -> Date
    let logger: Logger

    public init(database: AppDatabase, library: FlowLibrary, settings: BroadcastSettings, wakeUp: BroadcastWakeUp,
                now: @escaping @Sendable () -> Date, logger: Logger) {
        self.database = database
        self.library = library
        self.settings = settings
        self.wakeUp = wakeUp
        self.now = now
        self.logger = logger
    }

    struct Resolved {
        let codes: [String]
        let texts: [String: String]
        let expiresAt: Date
        let requiresApproval: Bool
        /// Plain words that would reach discreet subscribers (refused on send unless plain for everyone).
        let giveaways: [(locale: String, words: [String])]
    }

    func resolve(_ request: BroadcastRequest) throws(BroadcastRequestError) -> Resolved {
        let given = [request.text != nil, request.texts != nil, request.template != nil].filter { $0 }.count
        guard given > 0 else { throw .noText }
        guard given == 1 else { throw .tooManyTexts }
        guard !request.areas.isEmpty else { throw .noAreas }
        var codes: [String] = []
        for area in request.areas {
            guard let parsed = AreaCodes.parse(KeywordText.words(area), areas: library.areas, everywhereWords: library.answers.everywhere.union(AreaCodes.allWord)) else { throw .unknownArea(area) }
            codes += parsed.filter { !codes.contains($0) }
        }
        if codes.contains(AreaCodes.everywhere) { codes = [AreaCodes.everywhere] }

        var bodies: [String: String] = [:]
        if let text = request.text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            bodies[defaultLocale] = text
        } else if let texts = request.texts {
            for (locale, text) in texts {
                // "en-GB~discreet": the words discreet subscribers of that language get.
                let language = BroadcastDraft.split(locale).language
                guard library.catalogues[language] != nil else { throw .unknownLocale(locale) }
                let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !t.isEmpty { bodies[locale] = t }
            }
        } else if let template = request.template {
            let key = template.hasPrefix(FlowLibrary.alertTemplatePrefix) ? template : FlowLibrary.alertTemplatePrefix + template
            guard library.catalogues[defaultLocale]?.messages[key] != nil else { throw .unknownTemplate(template) }
            for (locale, catalogue) in library.catalogues where catalogue.messages[key] != nil {
                let values = ["areas": library.describe(areas: codes, locale: locale)]
                bodies[locale] = library.render(key, locale: locale, values: values)
                // Discreet subscribers get the template's discreet wording, where it has one.
                if catalogue.messages[key + FlowLibrary.discreetSuffix] != nil {
                    bodies[locale + BroadcastDraft.discreetSuffix] = library.render(key, locale: locale, values: values, discreet: true)
                }
            }
        }
        // Everyone whose language has no words of its own gets English.
        guard bodies[defaultLocale] != nil else { throw .noText }
        let texts = Dictionary(uniqueKeysWithValues: bodies.map { key, body in
            let locale = BroadcastDraft.split(key).language
            return (key, library.alertText(body: body, confirmed: request.confirmed, locale: locale))
        })

        for (key, text) in texts.sorted(by: { $0.key < $1.key }) {
            let n = SMSSegments.count(text).segments
            if n > MessageTemplate.segmentCeiling { throw .tooLong(locale: key, segments: n) }
        }
        let t = now()
        let expiresAt = request.expiresAt ?? t.addingTimeInterval((request.expiresInHours ?? settings.defaultExpiryHours) * 3600)
        guard expiresAt > t else { throw .expiryInPast }
        guard expiresAt.timeIntervalSince(t) <= settings.maxExpiryHours * 3600 else { throw .expiryTooFar(hours: Int(settings.maxExpiryHours)) }
        // Plain words discreet subscribers would get (no discreet version of that language):
        // named now, refused at send unless the coordinator chose plain for everyone.
        var giveaways: [(locale: String, words: [String])] = []
        if request.plainForEveryone != true {
            for (locale, body) in bodies.sorted(by: { $0.key < $1.key }) where !locale.hasSuffix(BroadcastDraft.discreetSuffix)
                && bodies[locale + BroadcastDraft.discreetSuffix] == nil {
                let words = library.telltales(in: body, locale: locale)
                if !words.isEmpty { giveaways.append((locale, words)) }
            }
        }
        return Resolved(codes: codes, texts: texts, expiresAt: expiresAt,
                        requiresApproval: settings.approvalRequired || (request.requiresApproval ?? false), giveaways: giveaways)
    }

    public func preview(_ request: BroadcastRequest) async throws -> BroadcastPreview {
        let r = try resolve(request)
        let reach = AreaCodes.reach(of: r.codes, areas: library.areas)
        let counts = try await database.recipientCounts(reach: reach, locales: Set(r.texts.keys), defaultWording: library.defaultWording, now: now())
        var messages: [BroadcastPreview.Message] = []
        var total = 0
        // English first (everyone without words of her own gets it), then the others.
        for locale in r.texts.keys.sorted(by: { ($0 == defaultLocale ? "" : $0) < ($1 == defaultLocale ? "" : $1) }) {
            let text = r.texts[locale]!
            let c = SMSSegments.count(text)
            let n = counts[locale] ?? 0
            total += c.segments * n
            messages.append(.init(locale: locale, text: text, encoding: c.encoding.rawValue, characters: c.units, segments: c.segments,
                                  nonGSMCharacters: Array(Set(c.nonGSMCharacters)).map(String.init).sorted(), recipients: n))
        }
        let recipients = counts.values.reduce(0, +)
        return BroadcastPreview(recipients: recipients, areas: r.codes.map { library.describe(areas: [$0], locale: defaultLocale) },
                                messages: messages, totalSegments: total,
                                estimatedSeconds: settings.sendRate > 0 ? Double(total) / settings.sendRate : 0,
                                estimatedCost: (Double(total) * settings.pricePerSegment * 100).rounded() / 100,
                                currency: settings.currency, expiresAt: r.expiresAt, requiresApproval: r.requiresApproval,
                                warnings: r.giveaways.map { BroadcastRequestError.givesItAway(locale: $0.locale, words: $0.words).description },
                                giveaways: r.giveaways.map { .givesItAway(locale: $0.locale, words: $0.words) })
    }

    /// Creates the broadcast; it starts going out at once unless it waits for a second coordinator.
    public func send(_ request: BroadcastRequest, by coordinator: AdminIdentity) async throws -> BroadcastSummary {
        let r = try resolve(request)
        if let leak = r.giveaways.first { throw BroadcastRequestError.givesItAway(locale: leak.locale, words: leak.words) }
        let id = try await database.createBroadcast(BroadcastDraft(
            areas: r.codes, reach: AreaCodes.reach(of: r.codes, areas: library.areas), texts: r.texts, confirmed: request.confirmed,
            requiresApproval: r.requiresApproval, expiresAt: r.expiresAt, createdBy: coordinator.name), now: now())
        logger.notice("broadcast created", metadata: ["broadcast": "\(id)", "by": "\(coordinator.name)", "areas": "\(r.codes.joined(separator: ","))",
                                                      "awaiting_approval": "\(r.requiresApproval)"])
        await wakeUp.notify()
        return try await status(id)
    }

    public func approve(_ id: Int64, by coordinator: AdminIdentity) async throws -> BroadcastSummary {
        try await database.approveBroadcast(id, by: coordinator.name, now: now())
        logger.notice("broadcast approved", metadata: ["broadcast": "\(id)", "by": "\(coordinator.name)"])
        await wakeUp.notify()
        return try await status(id)
    }

    public func cancel(_ id: Int64, by coordinator: AdminIdentity) async throws -> BroadcastSummary {
        try await database.cancelBroadcast(id, by: coordinator.name, now: now())
        logger.notice("broadcast cancelled", metadata: ["broadcast": "\(id)", "by": "\(coordinator.name)"])
        return try await status(id)
    }

    public func status(_ id: Int64) async throws -> BroadcastSummary {
        guard let summary = try await database.broadcast(id) else { throw BroadcastError.notFound(id) }
        return summary
    }

    public func list() async throws -> [BroadcastSummary] { try await database.broadcasts() }
}

/// Broadcast policy, from configuration.
public struct BroadcastSettings: Sendable {
    public var approvalRequired: Bool
    public var defaultExpiryHours: Double
    public var maxExpiryHours: Double
    public var pricePerSegment: Double
    public var currency: String
    /// The outbox's rate, for the time estimate.
    public var sendRate: Double

    public init(approvalRequired: Bool = false, defaultExpiryHours: Double = 6, maxExpiryHours: Double = 72,
                pricePerSegment: Double = 0.04, currency: String = "GBP", sendRate: Double = 1) {
        self.approvalRequired = approvalRequired
        self.defaultExpiryHours = defaultExpiryHours
        self.maxExpiryHours = maxExpiryHours
        self.pricePerSegment = pricePerSegment
        self.currency = currency
        self.sendRate = sendRate
    }
}
