import Foundation
import HTTPTypes
import Hummingbird
import LanternCore
import LanternStore

/// An alert as the form holds it, typed or not: it comes back filled in when something is wrong,
/// so nothing she wrote is lost.
struct AlertDraft: Sendable, Equatable {
    var areas: [String] = []
    var districts = ""
    var useTemplate = false
    var template = ""
    /// Per language ("pl") and discreet variant ("pl~discreet").
    var texts: [String: String] = [:]
    var confirmed: Bool?
    var hours = ""
    var plainForEveryone = false

    init(hours: Double) { self.hours = Self.hoursText(hours) }

    init(form: ConsoleForm) {
        areas = form.all("area")
        districts = form["districts"] ?? ""
        useTemplate = form["words"] == "template"
        template = form["template"] ?? ""
        for (name, value) in form.fields where name.hasPrefix("text.") && !value.isEmpty {
            texts[String(name.dropFirst(5))] = value
        }
        confirmed = form["confirmed"].flatMap { $0 == "yes" ? true : $0 == "no" ? false : nil }
        hours = form["hours"] ?? ""
        plainForEveryone = form.isOn("plain")
    }

    static func hoursText(_ h: Double) -> String { h == h.rounded() ? String(Int(h)) : String(h) }

    /// What the broadcast service is asked for, or what to fix first, in the console's words.
    /// A preview does not wait for the confirmed/unconfirmed choice: it shows "unconfirmed" until made.
    func request(approval: Bool, previewing: Bool = false) -> Result<BroadcastRequest, AlertProblem> {
        let typedAreas = districts.split(whereSeparator: { $0 == "," || $0 == " " || $0 == ";" }).map(String.init)
        let all = areas + typedAreas
        guard !all.isEmpty else { return .failure(.init("Choose at least one area, or type a postcode district such as BS5.")) }
        guard let confirmed = confirmed ?? (previewing ? false : nil) else { return .failure(.init("Say whether it is confirmed or not yet.")) }
        guard let h = Double(hours.trimmingCharacters(in: .whitespaces)), h.isFinite, h > 0 else {
            return .failure(.init("Give the hours it may be sent for as a number, such as 6."))
        }
        var request = BroadcastRequest(areas: all, expiresInHours: h, confirmed: confirmed, requiresApproval: approval ? true : nil,
                                       plainForEveryone: plainForEveryone ? true : nil)
        if useTemplate {
            guard !template.isEmpty else { return .failure(.init("Choose a prepared alert, or write your own words.")) }
            request.template = template
        } else {
            let given = texts.filter { !$0.value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
            guard given[defaultLocale] != nil else {
                return .failure(.init("Write the alert in English (everyone without words in her language gets those), or choose a prepared alert."))
            }
            request.texts = given
        }
        return .success(request)
    }
}

/// Why an alert cannot be previewed or sent yet, said to a coordinator.
struct AlertProblem: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }

    /// The broadcast service's refusal, in the console's words (the API's name JSON fields).
    init(_ error: BroadcastRequestError, languages: [String: String]) {
        func name(_ key: String) -> String {
            let (code, discreet) = BroadcastDraft.split(key)
            return (languages[code] ?? code) + (discreet ? " (discreet)" : "")
        }
        switch error {
        case .noText, .tooManyTexts: message = "Write the alert in English, or choose a prepared alert."
        case .unknownTemplate(let t): message = "There is no prepared alert called '\(t)'."
        case .unknownLocale(let l): message = "Lantern has no language '\(l)'."
        case .noAreas: message = "Choose at least one area, or type a postcode district such as BS5."
        case .unknownArea(let a): message = "'\(a)' is not a postcode district or one of this service's areas."
        case .expiryInPast: message = "Give a number of hours above 0."
        case .expiryTooFar(let h): message = "An alert may be sent for at most \(h) hours: a stale warning does harm."
        case .tooLong(let l, let n): message = "The \(name(l)) words would be \(n) texts long with the opt-out line; at most \(MessageTemplate.segmentCeiling). Shorten them."
        case .givesItAway(let l, let w):
            message = "The \(name(l)) words say \(w.joined(separator: ", ")), which would show on the lock screens of people who asked for discreet wording. Add discreet words for \(name(l)), choose a prepared alert, or tick ‘Send these words to discreet subscribers too’."
        }
    }
}

/// One text as it will look on a phone, with what it costs.
struct PhoneBubble {
    let language: String
    let variant: String?
    let text: String
    let rtl: Bool
    let segments: Int
    let oneSegment: Bool
    let characters: Int
    let encoding: String
    /// The characters that force UCS-2 (and so fewer characters per text), quoted.
    let forcing: String?
    let recipients: Int
    let hasRecipients: Bool
    let oneRecipient: Bool

    static let rightToLeft: Set<String> = ["ur", "ar", "fa", "he"]


    init(key: String, text: String, languages: [String: String], recipients: Int?) {
        let (code, discreet) = BroadcastDraft.split(key)
        let count = SMSSegments.count(text)
        language = languages[code].map { "\($0) (\(code))" } ?? code
        variant = discreet ? "discreet" : nil
        self.text = text
        rtl = Self.rightToLeft.contains(code)
        segments = count.segments
        oneSegment = count.segments == 1
        characters = count.units
        encoding = count.encoding.rawValue
        let odd = Array(Set(count.nonGSMCharacters)).map(String.init).sorted()
        forcing = odd.isEmpty ? nil : odd.prefix(8).map { "“\($0)”" }.joined(separator: " ")
        self.recipients = recipients ?? 0
        hasRecipients = recipients != nil
        oneRecipient = recipients == 1
    }

    /// Stored texts, English first, each plain before its discreet variant.
    static func ordered(_ texts: [String: String]) -> [(String, String)] {
        texts.sorted { a, b in
            let (ca, da) = BroadcastDraft.split(a.key), (cb, db) = BroadcastDraft.split(b.key)
            let ka = ca == defaultLocale ? "" : ca, kb = cb == defaultLocale ? "" : cb
            return (ka, da ? 1 : 0) < (kb, db ? 1 : 0)
        }
    }
}

extension ConsoleRoutes {
    var library: FlowLibrary { desk.broadcasts.library }
    var languages: [String: String] { library.catalogues.mapValues(\.name) }

    func registerAlerts(on console: RouterGroup<LanternRequestContext>) {
        console.get("alerts/new") { request, _ in
            try await signedIn(request) { session in
                var draft = AlertDraft(hours: desk.broadcasts.settings.defaultExpiryHours)
                // "Warn this area" from the reports page.
                if let given = request.uri.queryParameters.get("area") {
                    let area = String(given)
                    if library.areas.contains(where: { $0.code == area }) || area == "all" { draft.areas = [area] } else { draft.districts = area }
                }
                return try await alertPage(session, draft: draft)
            }
        }
        console.post("alerts/new") { request, context in
            try await posted(request, context) { session, form in
                let draft = AlertDraft(form: form)
                let action = form["action"] ?? "preview"
                guard action == "send" || action == "submit" else { return try await alertPage(session, draft: draft, previewing: true) }
                switch draft.request(approval: action == "submit") {
                case .failure(let problem):
                    return try await alertPage(session, draft: draft, problem: problem.message, status: .badRequest)
                case .success(let alert):
                    do {
                        let made = try await desk.send(alert, by: session.identity)
                        let said = made.status == .awaitingApproval ? "waiting" : "sending"
                        return Self.redirect("/console/broadcasts/\(made.id)?created=\(said)")
                    } catch let error as BroadcastRequestError {
                        return try await alertPage(session, draft: draft, problem: AlertProblem(error, languages: languages).message,
                                                   status: .badRequest)
                    }
                }
            }
        }
        // The live preview: the same part of the page, drawn from the form as it is now.
        console.post("alerts/preview") { request, context in
            try await posted(request, context) { _, form in
                let (preview, problem) = try await preview(AlertDraft(form: form))
                return pages.render("alert_preview", PreviewPart(preview: preview, problem: problem), status: problem == nil ? .ok : .badRequest)
            }
        }
        console.get("approvals") { request, _ in
            try await signedIn(request) { session in
                let done = request.uri.queryParameters.get("done")
                return try await approvals(session, notice: done.map { "Broadcast \($0)." })
            }
        }
        console.get("broadcasts/:id") { request, context in
            try await signedIn(request) { session in
                let created = request.uri.queryParameters.get("created")
                let notice = created == "waiting" ? "Submitted: it waits for a second coordinator to approve it."
                    : created == "sending" ? "Sent: it is going out now." : nil
                return try await broadcastPage(context.parameters.get("id"), session: session, notice: notice, confirmCancel: false)
            }
        }
        console.get("broadcasts/:id/cancel") { request, context in
            try await signedIn(request) { try await broadcastPage(context.parameters.get("id"), session: $0, notice: nil, confirmCancel: true) }
        }
        for action in ["approve", "reject", "cancel"] {
            console.post("broadcasts/:id/\(action)") { request, context in
                try await posted(request, context) { session, _ in
                    guard let id = context.parameters.get("id").flatMap(Int64.init) else { return noSuchBroadcast(session) }
                    let back = action == "cancel" ? "/console/broadcasts" : "/console/approvals"
                    do {
                        let done = action == "approve" ? try await desk.approve(id, by: session.identity) : try await desk.cancel(id, by: session.identity)
                        let said = action == "approve" ? "approved: it is going out now" : action == "reject" ? "rejected: it will not be sent" : "cancelled"
                        return Self.redirect("\(back)?done=\(done.id)%20\(said.addingPercentEncoding(withAllowedCharacters: Self.queryValue) ?? "")")
                    } catch BroadcastError.notFound {
                        return noSuchBroadcast(session)
                    } catch let error as BroadcastError {
                        let message = Self.sentence(error)
                        return action == "cancel" ? try await broadcastList(session, error: message, status: .conflict)
                            : try await approvals(session, error: message, status: .conflict)
                    }
                }
            }
        }
    }

    static func sentence(_ error: some Error) -> String {
        let s = "\(error)"
        return (s.prefix(1).uppercased() + s.dropFirst()) + (s.hasSuffix(".") ? "" : ".")
    }

    func noSuchBroadcast(_ session: ConsoleSession) -> Response {
        pages.render("message", Message(title: "Broadcast", chrome: session.chrome, heading: "No such broadcast",
                                                message: "It may have been a mistyped link.", link: "/console/broadcasts",
                                                linkText: "All broadcasts"), status: .notFound)
    }

    // MARK: New alert

    struct Option {
        let value: String
        let label: String
        let subscribers: Int
        let checked: Bool
    }

    struct TemplateOption {
        let value: String
        let label: String
        let selected: Bool
    }

    struct LanguageFields {
        let code: String
        let name: String
        let plain: String
        let discreet: String
        let isDefault: Bool
    }

    struct PreviewView {
        let bubbles: [PhoneBubble]
        let warnings: [String]
        let recipients: Int
        let areas: String
        let totalSegments: Int
        let time: String
        let cost: String
        let expires: String
        let requiresApproval: Bool
        let note: String?
    }

    struct PreviewPart {
        let preview: PreviewView?
        let problem: String?
    }

    struct AlertPage {
        let title = "New alert"
        let script = true
        let chrome: Chrome
        let areas: [Option]
        let districts: String
        let districtHint: String
        let hasDistrictHint: Bool
        let useTemplate: Bool
        let templates: [TemplateOption]
        let languages: [LanguageFields]
        let otherLanguagesOpen: Bool
        let plainForEveryone: Bool
        let confirmedYes: Bool
        let confirmedNo: Bool
        let hours: String
        let maxHours: Int
        let approvalRequired: Bool
        let preview: PreviewView?
        let problem: String?
    }

    /// The form, filled in as it was, with the preview (when asked for) or what to fix.
    func alertPage(_ session: ConsoleSession, draft: AlertDraft, previewing: Bool = false, problem: String? = nil,
                   status: HTTPResponse.Status = .ok) async throws -> Response {
        var shown: PreviewView?
        var problem = problem
        if previewing || problem != nil {
            let (p, q) = try await preview(draft)
            shown = p
            problem = problem ?? q
        }
        let counts = try await database.serviceCounts(now: now()).subscribers
        var options = [Option(value: "all", label: "All areas", subscribers: try await subscribers(in: [AreaCodes.everywhere]),
                              checked: draft.areas.contains("all"))]
        for area in library.areas {
            options.append(Option(value: area.code, label: area.name, subscribers: try await subscribers(in: [area.code]),
                                  checked: draft.areas.contains(area.code)))
        }
        let districts = counts.filter { !$0.area.hasPrefix("@") && $0.area != AreaCodes.everywhere }.prefix(6)
        let prefix = FlowLibrary.alertTemplatePrefix
        let english = library.catalogues[defaultLocale]?.messages ?? [:]
        let templates = english.keys.filter { $0.hasPrefix(prefix) && !$0.hasSuffix(FlowLibrary.discreetSuffix) }.sorted().map { key in
            let name = String(key.dropFirst(prefix.count))
            let words = library.render(key, locale: defaultLocale, values: ["areas": "…"])
            return TemplateOption(value: name, label: "\(name.replacingOccurrences(of: "_", with: " ")): \(words.prefix(60))…", selected: draft.template == name)
        }
        let languages = library.catalogues.values.sorted { ($0.locale == defaultLocale ? "" : $0.name) < ($1.locale == defaultLocale ? "" : $1.name) }.map {
            LanguageFields(code: $0.locale, name: $0.name, plain: draft.texts[$0.locale] ?? "",
                           discreet: draft.texts[$0.locale + BroadcastDraft.discreetSuffix] ?? "", isDefault: $0.locale == defaultLocale)
        }
        let settings = desk.broadcasts.settings
        let page = AlertPage(
            chrome: session.chrome, areas: options, districts: draft.districts,
            districtHint: districts.map { "\($0.area) (\($0.count))" }.joined(separator: ", "), hasDistrictHint: !districts.isEmpty,
            useTemplate: draft.useTemplate, templates: templates, languages: languages,
            otherLanguagesOpen: draft.texts.keys.contains { BroadcastDraft.split($0).language != defaultLocale },
            plainForEveryone: draft.plainForEveryone, confirmedYes: draft.confirmed == true, confirmedNo: draft.confirmed == false,
            hours: draft.hours, maxHours: Int(settings.maxExpiryHours), approvalRequired: settings.approvalRequired,
            preview: shown, problem: problem)
        return pages.render("alert_new", page, status: status)
    }

    func subscribers(in codes: [String]) async throws -> Int {
        let reach = AreaCodes.reach(of: codes, areas: library.areas)
        return try await database.recipientCounts(reach: reach, locales: [defaultLocale], defaultWording: library.defaultWording, now: now())
            .values.reduce(0, +)
    }

    /// Exactly what each language and variant will look like, and what sending costs; or what
    /// to fix first.
    func preview(_ draft: AlertDraft) async throws -> (PreviewView?, String?) {
        let alert: BroadcastRequest
        switch draft.request(approval: false, previewing: true) {
        case .failure(let problem): return (nil, problem.message)
        case .success(let r): alert = r
        }
        let p: BroadcastPreview
        do { p = try await desk.preview(alert) } catch let error as BroadcastRequestError {
            return (nil, AlertProblem(error, languages: languages).message)
        }
        let view = PreviewView(
            bubbles: p.messages.map { PhoneBubble(key: $0.locale, text: $0.text, languages: languages, recipients: $0.recipients) },
            warnings: p.giveaways.map { AlertProblem($0, languages: languages).message },
            recipients: p.recipients, areas: p.areas.joined(separator: ", "), totalSegments: p.totalSegments,
            time: Self.duration(p.estimatedSeconds), cost: Self.money(p.estimatedCost, currency: p.currency),
            expires: Self.when(p.expiresAt), requiresApproval: p.requiresApproval,
            note: draft.confirmed == nil ? "Say whether it is confirmed: until then this shows it as an unconfirmed report." : nil)
        return (view, nil)
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        if s < 60 { return "under a minute" }
        let m = (s + 59) / 60
        if m < 120 { return "about \(m) minute\(m == 1 ? "" : "s")" }
        return "about \(m / 60) hours \(m % 60) minutes"
    }

    static func money(_ amount: Double, currency: String) -> String {
        let figure = String(format: "%.2f", amount)
        return switch currency.uppercased() {
        case "GBP": "£" + figure
        case "EUR": "€" + figure
        case "USD": "$" + figure
        default: "\(figure) \(currency)"
        }
    }

    /// A time as the coordinator reads it: UK time, to the minute.
    static func when(_ date: Date) -> String {
        var style = Date.FormatStyle(date: .abbreviated, time: .shortened, timeZone: TimeZone(identifier: "Europe/London") ?? .gmt)
        style.locale = Locale(identifier: "en_GB")
        return date.formatted(style) + " (UK time)"
    }

    // MARK: Approvals and one broadcast

    struct Waiting {
        let id: Int64
        let areas: String
        let createdBy: String
        let recipients: Int
        let confirmed: String
        let expires: String
        let bubbles: [PhoneBubble]
        let canApprove: Bool
    }

    struct ApprovalsPage {
        let title = "Approvals"
        let chrome: Chrome
        let notice: String?
        let error: String?
        let waiting: [Waiting]
        let hasWaiting: Bool
    }

    func bubbles(_ texts: [String: String], recipients: [String: Int]? = nil) -> [PhoneBubble] {
        PhoneBubble.ordered(texts).map { key, text in
            PhoneBubble(key: key, text: text, languages: languages, recipients: recipients.map { $0[key] ?? 0 })
        }
    }

    func areaNames(_ codes: [String]) -> String { codes.map { library.describe(areas: [$0], locale: defaultLocale) }.joined(separator: ", ") }

    /// Alerts waiting for a second coordinator, each with exactly the words that would go out.
    func approvals(_ session: ConsoleSession, notice: String? = nil, error: String? = nil,
                   status: HTTPResponse.Status = .ok) async throws -> Response {
        var waiting: [Waiting] = []
        for b in try await desk.broadcastList().filter({ $0.status == .awaitingApproval }).sorted(by: { $0.id < $1.id }) {
            // Nobody is queued until it is approved: count who it would reach now, per language.
            let reach = AreaCodes.reach(of: b.areas, areas: library.areas)
            let counts = try await database.recipientCounts(reach: reach, locales: Set(b.texts.keys), defaultWording: library.defaultWording, now: now())
            waiting.append(Waiting(id: b.id, areas: areaNames(b.areas), createdBy: b.createdBy, recipients: counts.values.reduce(0, +),
                                   confirmed: b.confirmed ? "confirmed" : "not confirmed", expires: Self.when(b.expiresAt),
                                   bubbles: bubbles(b.texts, recipients: counts), canApprove: b.createdBy != session.account.name))
        }
        return pages.render("approvals", ApprovalsPage(chrome: session.chrome, notice: notice, error: error, waiting: waiting,
                                                       hasWaiting: !waiting.isEmpty), status: status)
    }

    struct Progress {
        let label: String
        let count: Int
        let total: Int
    }

    struct BroadcastPage {
        let title: String
        let chrome: Chrome
        let notice: String?
        let refresh: Int?
        let id: Int64
        let status: String
        let areas: String
        let createdBy: String
        let approvedBy: String?
        let cancelledBy: String?
        let confirmed: String
        let expires: String
        let recipients: Int
        let progress: [Progress]
        let bubbles: [PhoneBubble]
        let hasBubbles: Bool
        let canApprove: Bool
        let canCancel: Bool
    }

    /// One broadcast's progress (reloading itself while it runs), or the question before cancelling it.
    func broadcastPage(_ rawID: String?, session: ConsoleSession, notice: String?, confirmCancel: Bool) async throws -> Response {
        guard let id = rawID.flatMap(Int64.init) else { return noSuchBroadcast(session) }
        let b: BroadcastSummary
        do { b = try await desk.broadcast(id) } catch BroadcastError.notFound { return noSuchBroadcast(session) }
        if confirmCancel {
            guard Self.cancellable(b.status) else {
                return try await broadcastPage(rawID, session: session, notice: "Broadcast \(id) has ended: there is nothing to cancel.", confirmCancel: false)
            }
            let had = b.counts.sent + b.counts.delivered + b.counts.sending + b.counts.unknown
            let who = b.status == .awaitingApproval ? "Nobody has had it yet." : "\(had) of \(b.recipients) have had it already; nobody else will get it."
            return pages.render("confirm", Confirmation(
                title: "Cancel broadcast \(id)", chrome: session.chrome, heading: "Cancel broadcast \(id)?",
                message: "To \(areaNames(b.areas)). \(who) This cannot be undone.", action: "/console/broadcasts/\(id)/cancel",
                button: "Yes, cancel it", back: "/console/broadcasts/\(id)", backText: "No, keep it"))
        }
        let c = b.counts
        let total = max(b.recipients, 1)
        let progress = [("queued", c.queued), ("sending", c.sending), ("sent", c.sent), ("delivered", c.delivered), ("failed", c.failed),
                        ("unknown (the provider never said)", c.unknown), ("skipped (stopped, or expired before sending)", c.skipped)]
            .map { Progress(label: $0.0, count: $0.1, total: total) }
        let running = Self.running.contains(b.status)
        let page = BroadcastPage(
            title: "Broadcast \(id)", chrome: session.chrome, notice: notice, refresh: running ? 5 : nil, id: id,
            status: b.status.rawValue.replacingOccurrences(of: "_", with: " "), areas: areaNames(b.areas), createdBy: b.createdBy,
            approvedBy: b.approvedBy, cancelledBy: b.cancelledBy, confirmed: b.confirmed ? "Yes" : "Not yet (a report)",
            expires: Self.when(b.expiresAt), recipients: b.recipients, progress: progress, bubbles: bubbles(b.texts), hasBubbles: !b.texts.isEmpty,
            canApprove: b.status == .awaitingApproval && b.createdBy != session.account.name, canCancel: Self.cancellable(b.status))
        return pages.render("broadcast", page)
    }
}
