import Foundation

/// Every flow and every language Lantern speaks, loaded once and shared read-only.
public final class FlowLibrary: Sendable {
    public let flows: [Flow]
    public let catalogues: [String: Catalogue]
    /// Areas the service names (besides postcode districts).
    public let areas: [NamedArea]
    public let pickupPoints: [PickupPoint]
    /// How plainly the service speaks to someone who has not said (DISCREET or PLAIN).
    public let defaultWording: Wording
    /// The districts and named areas the service works in (`covers:` in service.yaml); nil: everywhere.
    public let covers: [String]?
    /// When peers are on duty for TALK (`talk:` in service.yaml).
    public let talkHours: TalkHours
    /// What KIT offers (`supplies:` in service.yaml); empty: naloxone only, by kind.
    public let supplies: [Supply]
    /// What emergency and crisis flows say (worked out once).
    let safetyCriticalKeys: Set<String>
    let flowsByID: [String: Flow]
    /// Every flow's keywords, grouped the ways the engine looks them up.
    let keywords: KeywordIndex
    /// Per language, the keys whose plain text contains a tell-tale word.
    let giveaways: [String: Set<String>]
    /// Every language's emergency words, compiled once.
    public let recogniser: EmergencyRecogniser
    /// Every language's yes, no, "don't know" and "everywhere".
    public let answers: AnswerVocabulary

    /// The suffix of a message's discreet variant.
    public static let discreetSuffix = ".discreet"
    /// A second text for a message in a language that needs more room than three segments give.
    public static let continuationSuffix = ".continued"

    /// Keys the engine itself uses, beyond those flows name.
    public static let invalidChoiceKey = "common.invalid_choice"
    public static let invalidAnswerKey = "common.invalid_answer"
    public static let everywhereKey = "areas.everywhere"
    public static let andKey = "areas.and"
    public static let alertConfirmedKey = "alert.confirmed"
    public static let alertUnconfirmedKey = "alert.unconfirmed"
    public static let alertOptOutKey = "alert.optout"
    /// Prefix of pre-written alerts a coordinator can send by key (they may use `{areas}`).
    public static let alertTemplatePrefix = "alert.template."

    /// Messages Lantern itself uses (not named by any flow), with the placeholders each may use.
    public static let kitNotifyPrefix = "kit.notify."
    /// Said when a request is closed because the service has run out.
    public static let kitNoStockKey = "kit.notify.no_stock"
    public static let reportRelayKey = "report.relay"
    /// Said, in the new language, when she picks one.
    public static let languageSetKey = "language.set"
    /// Said once when someone texts faster than the per-minute limit.
    public static let slowDownKey = "limits.slow_down"
    /// Thanks for answering a coordinator's question about her report; and what the coordinators
    /// get (in the service's language, like the report itself).
    public static let reportAnswerThanksKey = "report.answer_thanks"
    public static let reportAnswerRelayKey = "report.answer_relay"
    /// What a coordinator hears back after answering a report by text.
    public static let coordinatorSentKey = "report.coordinator.sent"
    public static let coordinatorUnknownKey = "report.coordinator.unknown"
    public static let coordinatorEmptyKey = "report.coordinator.empty"
    public static let coordinatorTooLongKey = "report.coordinator.too_long"
    /// Messages only coordinators read: kept in the service's own language, never translated.
    public static let coordinatorOnlyKeys: Set<String> = [reportRelayKey, reportAnswerRelayKey, coordinatorSentKey,
                                                          coordinatorUnknownKey, coordinatorEmptyKey, coordinatorTooLongKey,
                                                          talkPeerNewKey, talkPeerRelayKey, talkPeerEndedKey, talkPeerEmergencyKey,
                                                          talkPeerTakenKey, talkPeerAlreadyTakenKey, talkPeerUnknownKey, talkPeerClosedKey,
                                                          talkPeerBlockedKey, talkPeerClosedQuietKey, talkPeerTooManyKey]
    /// The answer to a text we don't understand just after an alert reached her.
    public static let alertReplyKey = "alert.reply"
    /// Said when someone asks for alerts in more areas than one person may have.
    public static let tooManyAreasKey = "alerts.too_many_areas"

    /// TALK: what she is told when her chat ends or she reaches the day's limit, and what the
    /// peers' phones get (in the service's language, like reports).
    public static let talkEndedKey = "talk.ended"
    public static let talkEndedByPeerKey = "talk.ended_by_peer"
    public static let talkClosedQuietKey = "talk.closed_quiet"
    public static let talkLimitKey = "talk.limit"
    public static let talkPeerNewKey = "talk.peer.new"
    public static let talkPeerRelayKey = "talk.peer.relay"
    public static let talkPeerEndedKey = "talk.peer.ended_by_her"
    public static let talkPeerEmergencyKey = "talk.peer.emergency"
    public static let talkPeerTakenKey = "talk.peer.taken"
    public static let talkPeerAlreadyTakenKey = "talk.peer.already_taken"
    public static let talkPeerUnknownKey = "talk.peer.unknown"
    public static let talkPeerClosedKey = "talk.peer.closed"
    public static let talkPeerBlockedKey = "talk.peer.blocked"
    public static let talkPeerClosedQuietKey = "talk.peer.closed_quiet"
    public static let talkPeerTooManyKey = "talk.peer.too_many"

    /// The check-in flow and the buddy flow, which the engine answers for while a check-in runs.
    public static let spotFlow = "spot"
    public static let buddyFlow = "buddy"
    /// "MORE 10" moves a running check-in on (in the languages' own words too).
    public static let spotMoreWords: Set<String> = ["MORE", "WIECEJ", "MAI", "MAIS", "MAS", "MWY"]
    /// Check-in words Lantern says itself: to her while it runs, and to her buddies.
    public static let spotDueKey = "spot.due"
    public static let spotStoppedKey = "spot.stopped"
    public static let spotGladKey = "spot.glad"
    public static let spotGladToldKey = "spot.glad_told"
    public static let spotToldBuddiesKey = "spot.told_buddies"
    /// The same words when only the service's on-call phones were asked (she has no buddy).
    public static let spotToldOnCallKey = "spot.told_on_call"
    public static let spotGladToldOnCallKey = "spot.glad_told.on_call"
    public static let spotOwnerCheckedOnByOnCallKey = "spot.checked_on.on_call"
    public static let spotOwnerCheckedOnKey = "spot.checked_on"
    public static let spotWatchCheckKey = "spot.watch.check"
    public static let spotWatchReminderKey = "spot.watch.reminder"
    /// Her text asked for help: her buddies (and the on-call phone) are asked at once.
    public static let spotWatchHelpKey = "spot.watch.help"
    public static let spotWatchNowhereKey = "spot.watch.nowhere"
    public static let spotUnnamedKey = "spot.unnamed"
    public static let spotWatchOwnerAnsweredKey = "spot.watch.owner_answered"
    public static let spotWatchOtherCantKey = "spot.watch.other_cant"
    public static let spotWatchCantThanksKey = "spot.watch.cant_thanks"
    public static let spotWatchWhoKey = "spot.watch.who"
    public static let spotBuddyCantKey = "spot.buddy_cant"
    public static let spotStillRunningKey = "spot.still_running"
    public static let spotMoreKey = "spot.more"
    public static let spotReplyOKKey = "spot.reply_ok"
    public static let spotHelpNowKey = "spot.help_now"
    public static let spotHelpNowOnCallKey = "spot.help_now.on_call"
    public static let spotHelpNowAloneKey = "spot.help_now.alone"
    public static let buddyWhoKey = "buddy.who"
    /// The honest answer about police and social services, reachable outside an emergency.
    public static let policeFlow = "police"
    public static let emergencyMaybeKey = "emergency.maybe"
    public static let spotWatchOwnerOKKey = "spot.watch.owner_ok"
    public static let spotWatchSomeoneElseKey = "spot.watch.someone_else"
    public static let spotWatchThanksKey = "spot.watch.thanks"
    public static let spotWatchHowToCloseKey = "spot.watch.how_to_close"
    /// What a number she asks to be her buddy is sent, and what it and she hear after.
    public static let buddyInviteNamedKey = "buddy.invite_named"
    public static let buddyInviteAgreedKey = "buddy.invite.agreed"
    public static let buddyInviteDeclinedKey = "buddy.invite.declined"
    public static let buddyOwnerAgreedKey = "buddy.agreed"
    public static let buddyOwnerDeclinedKey = "buddy.declined"
    public static let buddyOwnerLeftKey = "buddy.left"
    public static let buddyAgreedKey = "buddies.agreed"
    public static let buddyWaitingKey = "buddies.waiting"
    public static let buddyResultPrefix = "buddy.result."

    public static let systemMessages: [String: Set<String>] = {
        var m: [String: Set<String>] = [
            invalidChoiceKey: [], invalidAnswerKey: [], everywhereKey: [], andKey: [],
            alertConfirmedKey: ["text"], alertUnconfirmedKey: ["text"], alertOptOutKey: [],
            reportRelayKey: ["ref", "area", "happened", "when", "description"],
            slowDownKey: [], languageSetKey: [], tooManyAreasKey: ["max"], alertReplyKey: [], reportAnswerThanksKey: ["ref"], reportAnswerRelayKey: ["ref", "answer"],
            coordinatorSentKey: ["ref"], coordinatorUnknownKey: ["ref"], coordinatorEmptyKey: ["ref"], coordinatorTooLongKey: ["ref", "segments"],
        ]
        for s in KitInfo.Status.allCases { m[kitStatePrefix + s.rawValue] = [] }
        // What she is told when a coordinator marks her request.
        for s in [KitInfo.Status.sent, .collected, .cancelled] { m[kitNotifyPrefix + s.rawValue] = ["kit_ref"] }
        m[kitNoStockKey] = ["kit_ref"]
        for key in [spotDueKey, spotStoppedKey, spotGladKey, spotGladToldKey, spotToldBuddiesKey, spotOwnerCheckedOnKey,
                    spotWatchThanksKey, buddyInviteAgreedKey, buddyInviteDeclinedKey, buddyAgreedKey, buddyWaitingKey,
                    spotWatchNowhereKey, spotUnnamedKey, spotBuddyCantKey, spotReplyOKKey, spotHelpNowKey, spotHelpNowOnCallKey,
                    spotHelpNowAloneKey, emergencyMaybeKey, spotToldOnCallKey, spotGladToldOnCallKey, spotOwnerCheckedOnByOnCallKey] {
            m[key] = []
        }
        for key in [spotWatchCheckKey, spotWatchReminderKey, spotWatchHelpKey] { m[key] = ["name", "place"] }
        for key in [spotWatchOwnerOKKey, spotWatchSomeoneElseKey, spotWatchHowToCloseKey, spotWatchOwnerAnsweredKey, spotWatchOtherCantKey,
                    spotWatchCantThanksKey, spotWatchWhoKey, buddyWhoKey, buddyInviteNamedKey] { m[key] = ["name"] }
        for key in [spotStillRunningKey, spotMoreKey] { m[key] = ["due_time"] }
        m[buddyOwnerAgreedKey] = ["ending"]
        m[buddyOwnerDeclinedKey] = ["ending"]
        m[buddyOwnerLeftKey] = ["ending"]
        for result in BuddyAskResult.allCases where result != .asked { m[buddyResultPrefix + result.rawValue] = ["ending"] }
        for key in [talkEndedKey, talkEndedByPeerKey, talkClosedQuietKey, talkLimitKey] { m[key] = [] }
        for key in [talkPeerNewKey, talkPeerEndedKey, talkPeerEmergencyKey, talkPeerTakenKey, talkPeerAlreadyTakenKey, talkPeerUnknownKey,
                    talkPeerClosedKey, talkPeerBlockedKey, talkPeerClosedQuietKey, talkPeerTooManyKey] { m[key] = ["ref"] }
        m[talkPeerRelayKey] = ["ref", "text"]
        return m
    }()
    public static var engineKeys: Set<String> { Set(systemMessages.keys) }

    /// Placeholders the engine fills from what it knows about the person, in any message.
    public static let builtinPlaceholders: Set<String> = ["my_areas", "kit_ref", "kit_status", "languages", "paused_until", "covered",
                                                          "due_time", "buddies", "ending", "grace", "talk_ref", "reply_hours", "back_at", "supplies"]

    /// Languages in the order LANG lists them: English first, then by tag (worked out once).
    public let languages: [Catalogue]
    /// The numbered list of languages, each in its own words.
    public let languageList: String
    /// A language's own name as typed words ("POLSKI", "CYMRAEG") → its tag.
    let languageBySelector: [[String]: String]

    /// English first, then by tag: the order LANG lists languages and the recogniser tries them.
    static func inOrder(_ catalogues: some Sequence<Catalogue>) -> [Catalogue] {
        catalogues.sorted { ($0.locale == defaultLocale ? "" : $0.locale) < ($1.locale == defaultLocale ? "" : $1.locale) }
    }

    /// The language a message selects when it is just a language's name (POLSKI, CYMRAEG).
    public func selectedLanguage(_ words: [String]) -> String? {
        guard !words.isEmpty else { return nil }
        return languageBySelector[words]
    }
    /// Placeholders filled from a saved `area`, in flows that save one.
    public static let areaPlaceholders: Set<String> = ["pickup_points"]
    /// Words for a kit's state: `kit.state.open`, `kit.state.sent`…
    public static let kitStatePrefix = "kit.state."

    public init(flows: [Flow], catalogues: [Catalogue], areas: [NamedArea] = [], pickupPoints: [PickupPoint] = [],
                defaultWording: Wording = .discreet, covers: [String]? = nil, talkHours: TalkHours = TalkHours(), supplies: [Supply] = []) {
        self.supplies = supplies
        self.defaultWording = defaultWording
        self.covers = covers
        self.talkHours = talkHours
        // Each language's aliases join the flows they name, tagged with their language.
        // An alias matches the way the flow's own words do (STOP's must be the whole message).
        // A word two languages share (NALOXONA) works in both but chooses neither.
        let flows = flows.map { flow in
            let match = flow.keywords.first?.match ?? .start
            let aliases = catalogues.flatMap { $0.keywordAliases[flow.id] ?? [] }
            let shared = Dictionary(grouping: aliases, by: \.words).filter { Set($0.value.compactMap(\.locale)).count > 1 }
            var seen: Set<[String]> = []
            return flow.adding(keywords: aliases.compactMap { k in
                guard seen.insert(k.words).inserted else { return nil }
                return Keyword(k.text, match: match, location: k.location, locale: shared[k.words] == nil ? k.locale : nil)
            })
        }
        self.flows = flows
        self.safetyCriticalKeys = Set(flows.filter { $0.intent != nil }.flatMap { f in f.states.values.flatMap { $0.say + $0.menu.map(\.label) } })
        self.areas = areas
        self.pickupPoints = pickupPoints
        self.catalogues = Dictionary(catalogues.map { ($0.locale, $0) }, uniquingKeysWith: { first, _ in first })
        self.flowsByID = Dictionary(flows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let ordered = Self.inOrder(self.catalogues.values)
        self.languages = ordered
        // A right-to-left name is isolated, so "MENU to go back." after it stays in its place.
        self.languageList = ordered.enumerated().map { "\($0.offset + 1) \(BidiText.isolated($0.element.name))" }.joined(separator: "\n")
        // The first language (in LANG's order) that claims a name has it.
        var selectors: [[String]: String] = [:]
        for c in ordered { for s in c.selectors where selectors[s.words] == nil { selectors[s.words] = c.locale } }
        self.languageBySelector = selectors
        self.keywords = KeywordIndex(flows: flows, everyday: Set(catalogues.flatMap { $0.everydayWords.filter { !$0.contains(" ") } }))
        self.answers = AnswerVocabulary(catalogues)
        // In the languages' usual order: the first language that matches answers.
        self.recogniser = EmergencyRecogniser(lexicons: Self.inOrder(catalogues).map { ($0.locale, $0.emergency) })
        // Worked out once, not on every reply: which plain texts name something.
        self.giveaways = Dictionary(uniqueKeysWithValues: catalogues.map { c in
            (c.locale, Set(c.messages.filter { !Self.telltales(in: $0.value.text, list: c.telltaleWords).isEmpty }.keys))
        })
    }

    public func flow(_ id: String) -> Flow? { flowsByID[id] }

    /// Messages where a wrong word can cost a life or a child: what emergency and crisis flows
    /// say, naloxone, SPOT and buddies, STOP and FORGET, privacy, and the honest answers about
    /// pregnancy, treatment and social services. Translations of these want a native speaker's review.
    public func isSafetyCritical(_ key: String) -> Bool {
        let plain = Self.plainKey(key)
        if safetyCriticalKeys.contains(plain) { return true }
        return Self.safetyCriticalPrefixes.contains { plain.hasPrefix($0) }
    }

    static let safetyCriticalPrefixes = ["emergency.", "crisis.", "police.", "naloxone.", "spot.", "buddy.", "buddies.", "stop.",
                                         "forget.", "privacy.", "pregnant.", "treatment.", "rights."]

    /// The message a discreet variant or a continuation belongs to.
    public static func plainKey(_ key: String) -> String {
        var key = key
        if key.hasSuffix(continuationSuffix) { key.removeLast(continuationSuffix.count) }
        if key.hasSuffix(discreetSuffix) { key.removeLast(discreetSuffix.count) }
        return key
    }

    /// The flow the recogniser starts for an intent.
    public func flow(for intent: EmergencyIntent) -> Flow? { flows.first { $0.intent == intent } }

    /// The template for a key in a language, falling back to en-GB where a translation is missing.
    public func template(_ key: String, locale: String) -> MessageTemplate? {
        catalogues[locale]?.messages[key] ?? catalogues[defaultLocale]?.messages[key]
    }

    /// Rendered words for a key. A key missing everywhere renders as the key itself, so a broken
    /// catalogue is visible in testing rather than sending an empty text; `flows check` stops it shipping.
    /// Discreet: the key's `.discreet` variant where one exists (her language's, else English's).
    public func render(_ key: String, locale: String, values: [String: String] = [:], discreet: Bool = false) -> String {
        render(key, locale: locale, discreet: discreet) { values[$0] }
    }

    /// As `render(_:locale:values:discreet:)`, asking `value` only for the placeholders used.
    public func render(_ key: String, locale: String, discreet: Bool = false, value: (String) -> String?) -> String {
        let (text, ownLanguage, _) = words(key, locale: locale, discreet: discreet, value: value)
        return ownLanguage ? catalogues[locale]?.displayed(text) ?? text : text
    }

    /// The texts a flow sends for a key: its words, and, where her language needs a second text
    /// to say it all (`<key>.continued`: Urdu's 201 characters cannot hold English's 459), that too.
    /// The first must stand on its own: texts can arrive out of order.
    public func renderTexts(_ key: String, locale: String, discreet: Bool = false, value: (String) -> String?) -> [String] {
        let (text, ownLanguage, used) = words(key, locale: locale, discreet: discreet, value: value)
        guard ownLanguage, let catalogue = catalogues[locale] else { return [text] }
        var out = [catalogue.displayed(text)]
        if let more = catalogue.messages[used + Self.continuationSuffix] { out.append(catalogue.displayed(more.render(value))) }
        return out
    }

    /// The words before they are laid out for display, whether they are her language's own (an
    /// English fallback is laid out as English), and the key they came from.
    private func words(_ key: String, locale: String, discreet: Bool, value: (String) -> String?) -> (String, Bool, String) {
        let own = catalogues[locale]?.messages
        if discreet {
            // Her language first: its discreet words, or its plain words when they give nothing
            // away; only then English's discreet words.
            if let words = own?[key + Self.discreetSuffix] { return (words.render(value), true, key + Self.discreetSuffix) }
            if let plain = own?[key], giveaways[locale]?.contains(key) != true { return (plain.render(value), true, key) }
            if let english = catalogues[defaultLocale]?.messages[key + Self.discreetSuffix] { return (english.render(value), false, key + Self.discreetSuffix) }
        }
        if let words = own?[key] { return (words.render(value), true, key) }
        return (template(key, locale: locale)?.render(value) ?? key, false, key)
    }

    /// Whether a person gets discreet wording: her own choice, else the service's default.
    /// Whether the service works in every one of `codes` (ALL means everywhere it works).
    public func covers(_ codes: [String]) -> Bool {
        guard let covers else { return true }
        return codes.allSatisfy { code in
            if code == AreaCodes.everywhere || covers.contains(code) { return true }
            if let named = areas.first(where: { $0.code == code }) {
                return !named.districts.isEmpty && named.districts.allSatisfy { d in self.covers([d.code]) }
            }
            return areas.contains { covers.contains($0.code) && $0.districts.contains { $0.code == code } }
        }
    }

    public func isDiscreet(_ contact: ContactContext) -> Bool { (contact.wording ?? defaultWording) == .discreet }

    /// The tell-tale word beginnings (that language's own list) a text contains.
    public func telltales(in text: String, locale: String) -> [String] {
        Self.telltales(in: text, list: catalogues[locale]?.telltaleWords ?? [])
    }

    static func telltales(in text: String, list: [String]) -> [String] {
        guard !list.isEmpty else { return [] }
        let words = KeywordText.words(text)
        return list.filter { t in words.contains { $0.hasPrefix(t) } }
    }

    /// Area codes as words in a language: "BS5, M14 and Bristol", or "everywhere".
    public func describe(areas codes: [String], locale: String) -> String {
        AreaCodes.describe(codes, areas: areas, everywhereWord: render(Self.everywhereKey, locale: locale),
                           andWord: render(Self.andKey, locale: locale))
    }

    /// An alert as subscribers receive it in one language: the coordinator's words marked
    /// confirmed or unconfirmed, then the opt-out line (PECR) on its own line.
    public func alertText(body: String, confirmed: Bool, locale: String) -> String {
        let marked = render(confirmed ? Self.alertConfirmedKey : Self.alertUnconfirmedKey, locale: locale, values: ["text": body])
        return marked + "\n" + render(Self.alertOptOutKey, locale: locale)
    }

    /// Pre-written alerts available to coordinators, by key.
    public var alertTemplates: [String] {
        (catalogues[defaultLocale]?.messages.keys.filter { $0.hasPrefix(Self.alertTemplatePrefix) } ?? []).sorted()
    }

    /// A menu's options as the person sees them: one "N label" line each.
    public func menuLines(_ options: [MenuOption], locale: String, values: [String: String] = [:], discreet: Bool = false) -> String {
        menuLines(options, locale: locale, discreet: discreet) { values[$0] }
    }

    public func menuLines(_ options: [MenuOption], locale: String, discreet: Bool = false, value: (String) -> String?) -> String {
        options.enumerated().map { i, option in
            let (label, ownLanguage, _) = words(option.label, locale: locale, discreet: discreet, value: value)
            let line = "\(i + 1) " + label
            return ownLanguage ? catalogues[locale]?.displayed(line) ?? line : line
        }
        .joined(separator: "\n")
    }
}
