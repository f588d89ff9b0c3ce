import Foundation
import HTTPTypes
import Hummingbird
import LanternCore
import LanternStore
import Logging

/// The coordinator console: server-rendered pages under `/console`, plain forms that work
/// without JavaScript. Every page but sign-in and invite needs a session; every form carries the
/// session's token (CSRF); cookies are HttpOnly, SameSite=Strict, and Secure behind https.
struct ConsoleRoutes: Sendable {
    let access: ConsoleAccess
    let desk: CoordinatorDesk
    let database: AppDatabase
    let pages: ConsolePages
    let settings: ConsoleSettings
    /// Where invite links point (the public URL, or the admin listener).
    let baseURL: String
    let secureCookies: Bool
    let failures: AuthenticationFailures
    /// TALK from the console: the live texts, the peers' phones and limits, and the outbox to wake.
    let talkHub: TalkHub
    let talkPeers: TalkPeers
    let outboxWakeUp: OutboxWakeUp
    let now: @Sendable () -> Date
    let logger: Logger

    static let cookieName = "lantern_console"
    static let maxFormBytes = 16 * 1024

    func register(on router: Router<LanternRequestContext>) {
        let console = router.group("console")
        console.get("console.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: ConsolePages.stylesheet)))
        }
        console.get("console.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: ConsolePages.script)))
        }
        console.get("sign-in") { request, _ in
            let welcome = request.uri.queryParameters.get("welcome") != nil
            return signInPage(notice: welcome ? "Your account is ready. Sign in with your name and new password." : nil)
        }
        console.post("sign-in") { request, context in try await signIn(request, context) }
        console.get("invite/:token") { _, context in
            let token = context.parameters.get("token") ?? ""
            return try await invitePage(token: token, error: nil)
        }
        console.post("invite/:token") { request, context in
            let token = context.parameters.get("token") ?? ""
            try sameOrigin(request)
            let form = try await formFields(request, context)
            if let problem = try await access.acceptInvite(token: token, password: form["password"] ?? "", confirm: form["confirm"] ?? "",
                                                           code: form["code"] ?? "") {
                return try await invitePage(token: token, error: problem, status: .badRequest)
            }
            logger.notice("console invite accepted")
            return Self.redirect("/console/sign-in?welcome=1")
        }
        console.post("sign-out") { request, context in try await signOut(request, context, everywhere: false) }
        console.post("sign-out-everywhere") { request, context in try await signOut(request, context, everywhere: true) }
        console.get { request, _ in try await signedIn(request) { try await today($0) } }
        console.get("broadcasts") { request, _ in
            try await signedIn(request) { session in
                let done = request.uri.queryParameters.get("done")
                return try await broadcastList(session, notice: done.map { "Broadcast \($0)." })
            }
        }
        console.get("kits") { request, _ in
            try await signedIn(request) { session in
                let notice = request.uri.queryParameters.get("marked").map { "Kit request \($0) is marked, and she has been told." }
                return try await kitQueue(session, notice: notice)
            }
        }
        console.get("kits/:ref") { request, context in
            try await signedIn(request) { try await kit(context.parameters.get("ref") ?? "", session: $0) }
        }
        console.post("kits/:ref/mark") { request, context in
            try await posted(request, context) { session, form in
                let ref = context.parameters.get("ref") ?? ""
                guard let status = form["status"].flatMap(KitInfo.Status.init(rawValue:)), [.sent, .collected, .cancelled].contains(status) else {
                    return try await kit(ref, session: session, error: "Choose sent, collected or cancelled.", status: .badRequest)
                }
                let reason: KitCloseReason? = switch status {
                case .sent: .posted
                case .collected: .collected
                default: form["reason"].flatMap(KitCloseReason.init(rawValue:))
                }
                guard reason != nil else {
                    return try await kit(ref, session: session, error: "Choose why it is cancelled.", status: .badRequest)
                }
                do {
                    let marked = try await desk.markKit(ref, as: status, reason: reason, by: session.identity)
                    return Self.redirect("/console/kits?marked=\(marked.ref)")
                } catch let error as KitError {
                    return try await kit(ref, session: session, error: "\(error)", status: .conflict)
                }
            }
        }
        registerAlerts(on: console)
        registerReports(on: console)
        registerAdmin(on: console)
        registerTalk(on: console)
    }

    // MARK: Who may

    /// A page for anyone signed in (or only admins): otherwise to sign-in, or a plain refusal.
    func signedIn(_ request: Request, admin: Bool = false,
                  _ page: (ConsoleSession) async throws -> Response) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect("/console/sign-in") }
        if admin && session.account.role != .admin { return forbidden(session) }
        return try await page(session)
    }

    /// A form sent from a console page: signed in, from this site, with the session's token.
    func posted(_ request: Request, _ context: LanternRequestContext, admin: Bool = false,
                _ handle: (ConsoleSession, ConsoleForm) async throws -> Response) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect("/console/sign-in") }
        try sameOrigin(request)
        let form = try await formFields(request, context)
        try Self.checkToken(form["csrf"], session: session)
        if admin && session.account.role != .admin { return forbidden(session) }
        return try await handle(session, form)
    }

    func forbidden(_ session: ConsoleSession) -> Response {
        pages.render("message", Message(title: "Admins only", chrome: session.chrome, heading: "Only an admin can do this",
                                                message: "Ask an admin if you need it.", link: "/console", linkText: "Back to Today"),
                     status: .forbidden)
    }

    // MARK: Pages

    struct SignInPage {
        let title: String
        let error: String?
        let notice: String?
        let formName: String
        let twoFactor: Bool
    }

    func signInPage(error: String? = nil, notice: String? = nil, name: String = "", status: HTTPResponse.Status = .ok) -> Response {
        return pages.render("sign_in", SignInPage(title: "Sign in", error: error, notice: notice, formName: name,
                                                  twoFactor: settings.twoFactor), status: status)
    }

    struct InvitePage {
        let title: String
        let account: String
        let token: String
        let error: String?
        let twoFactor: Bool
        let secretGroups: String
        let otpauthURL: String
        /// The otpauth link as a QR code (inline SVG we draw ourselves from the link's bytes).
        let qr: String?
    }

    func invitePage(token: String, error: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let (account, secret) = try await database.consoleInvite(token: token, now: now()) else {
            return pages.render("message", Message(title: "Invite link", heading: "This link no longer works",
                                                   message: "Invite links work once, for 24 hours. Ask an admin for a new one.",
                                                   link: "/console/sign-in", linkText: "Go to sign in"), status: .notFound)
        }
        let (url, key) = ConsoleAccess.enrolment(secret: secret, account: account.name)
        let groups = stride(from: 0, to: key.count, by: 4).map { i -> String in
            let start = key.index(key.startIndex, offsetBy: i)
            return String(key[start..<key.index(start, offsetBy: min(4, key.count - i))])
        }.joined(separator: " ")
        return pages.render("invite", InvitePage(title: "Welcome", account: account.name, token: token, error: error,
                                                 twoFactor: settings.twoFactor, secretGroups: groups, otpauthURL: url,
                                                 qr: try? QRCode.encode(url).svg(label: "QR code to add Lantern to an authenticator app")),
                           status: status)
    }

    /// The question before something that cannot be undone: a plain form that does it, and a way back.
    struct Confirmation {
        let title: String
        let chrome: Chrome
        let heading: String
        let message: String
        let action: String
        let button: String
        let back: String
        let backText: String
    }

    /// A page that only says something (and where to go next); with the menu when signed in.
    struct Message {
        let title: String
        var chrome: Chrome? = nil
        let heading: String
        let message: String
        let link: String?
        let linkText: String
    }

    struct TodayPage {
        let title: String
        let chrome: Chrome
        let repliesToday: Int
        let alertsToday: Int
        let openKits: Int
        let oldestKit: String?
        let checkIns: SpotCounts
        let areas: [AreaCount]
        let hasAreas: Bool
        let reports: [AreaCount]
        let hasReports: Bool
        let broadcastsSending: Int
        let broadcastsAwaiting: Int
        let talkOpen: Int
        let talkStarted: Int
        let talkRelayed: Int
    }

    func today(_ session: ConsoleSession) async throws -> Response {
        let time = now()
        let counts = try await database.serviceCounts(now: time)
        let kits = try await desk.kitQueue(includeClosed: false)
        let oldest = kits.map(\.createdAt).min()
        let reports = Dictionary(grouping: try await desk.reportCounts(days: 7), by: \.area)
            .map { AreaCount(area: $0.key, count: $0.value.reduce(0) { $0 + $1.count }) }
            .sorted { ($0.count, $1.area) > ($1.count, $0.area) }
        let broadcasts = try await desk.broadcastList()
        let talk = try await database.talkCounts(since: ISO8601DateFormatter.dayString(time.addingTimeInterval(-6 * 86400)))
        let page = TodayPage(
            title: "Today", chrome: session.chrome,
            repliesToday: counts.repliesToday, alertsToday: counts.alertsToday, openKits: kits.count,
            oldestKit: oldest.map { Self.age(since: $0, now: time) }, checkIns: try await desk.spotCounts(days: 7),
            areas: counts.subscribers, hasAreas: !counts.subscribers.isEmpty,
            reports: reports, hasReports: !reports.isEmpty,
            broadcastsSending: broadcasts.filter { Self.running.contains($0.status) }.count,
            broadcastsAwaiting: broadcasts.filter { $0.status == .awaitingApproval }.count,
            talkOpen: talk["open"] ?? 0, talkStarted: talk["opened"] ?? 0, talkRelayed: (talk["relayed_in"] ?? 0) + (talk["relayed_out"] ?? 0))
        return pages.render("today", page)
    }

    struct BroadcastRow {
        let id: Int64
        let status: String
        let areas: String
        let createdBy: String
        let approvedBy: String?
        let recipients: Int
        let queued: Int, sent: Int, delivered: Int, failed: Int, unknown: Int, skipped: Int
        let canApprove: Bool
        let canCancel: Bool
    }

    struct BroadcastsPage {
        let title = "Broadcasts"
        let chrome: Chrome
        let notice: String?
        let error: String?
        /// Seconds between reloads while one runs (a meta refresh: no script needed).
        let refresh: Int?
        let broadcasts: [BroadcastRow]
        let hasBroadcasts: Bool
    }

    /// A broadcast whose texts are going out now.
    static let running: Set<BroadcastStatus> = [.fanningOut, .sending]
    static func cancellable(_ status: BroadcastStatus) -> Bool { running.contains(status) || status == .awaitingApproval }

    /// Every broadcast, newest first, with its progress; approve (someone else's) and cancel.
    func broadcastList(_ session: ConsoleSession, notice: String? = nil, error: String? = nil,
                       status: HTTPResponse.Status = .ok) async throws -> Response {
        let list = try await desk.broadcastList().sorted { $0.id > $1.id }
        let rows = list.map { b in
            BroadcastRow(id: b.id, status: b.status.rawValue.replacingOccurrences(of: "_", with: " "), areas: areaNames(b.areas),
                         createdBy: b.createdBy, approvedBy: b.approvedBy, recipients: b.recipients, queued: b.counts.queued,
                         sent: b.counts.sent, delivered: b.counts.delivered, failed: b.counts.failed, unknown: b.counts.unknown,
                         skipped: b.counts.skipped, canApprove: b.status == .awaitingApproval && b.createdBy != session.account.name,
                         canCancel: Self.cancellable(b.status))
        }
        let running = list.contains { Self.running.contains($0.status) }
        return pages.render("broadcasts", BroadcastsPage(chrome: session.chrome,
                                                         notice: notice, error: error, refresh: running ? 10 : nil, broadcasts: rows,
                                                         hasBroadcasts: !rows.isEmpty), status: status)
    }

    struct KitRow {
        let ref: String
        let kind: String
        let how: String
        let age: String
    }

    struct KitsPage {
        let title = "Kit requests"
        let chrome: Chrome
        let notice: String?
        let kits: [KitRow]
        let hasKits: Bool
    }

    struct Choice {
        let value: String
        let label: String
    }

    struct KitPage {
        let title: String
        let chrome: Chrome
        let ref: String
        let kind: String
        let how: String
        let pickup: String?
        let address: String?
        let hasAddress: Bool
        let age: String
        let status: String
        let isOpen: Bool
        let error: String?
        let reasons: [Choice]
    }

    /// What was asked for, by the supplies' names ("spray x2+foil" → "Naloxone spray (Nyxoid) ×2, Foil");
    /// a naloxone kind ("spray") as it is.
    func what(_ kind: String) -> String {
        let chosen = Supply.chosen(kind, from: desk.broadcasts.library.supplies)
        // A supply no longer listed shows as stored, rather than vanish from what she asked for.
        guard !chosen.isEmpty, chosen.count == kind.split(separator: "+").count else { return kind }
        return chosen.map { $0.supply.name + ($0.count > 1 ? " ×\($0.count)" : "") }.joined(separator: ", ")
    }

    static func how(_ kit: KitSummary) -> String { kit.method == "post" ? "By post" : "To collect" }

    /// The queue, oldest first, without addresses.
    func kitQueue(_ session: ConsoleSession, notice: String?) async throws -> Response {
        let time = now()
        let kits = try await desk.kitQueue(includeClosed: false).sorted { $0.createdAt < $1.createdAt }
        return pages.render("kits", KitsPage(chrome: session.chrome,
                                             notice: notice, kits: kits.map {
                                                 KitRow(ref: $0.ref, kind: what($0.kind), how: Self.how($0), age: Self.age(since: $0.createdAt, now: time))
                                             }, hasKits: !kits.isEmpty))
    }

    /// One request, with its address when it has one: opening it is recorded in the audit log.
    func kit(_ ref: String, session: ConsoleSession, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let detail: KitDetail
        do { detail = try await desk.kit(ref, by: session.identity) } catch let e as KitError {
            return pages.render("message", Message(title: "Kit request", heading: "No such kit request", message: "\(e)",
                                                   link: "/console/kits", linkText: "Back to the queue"), status: .notFound)
        }
        let k = detail.summary
        let reasons: [(KitCloseReason, String)] = [(.personAsked, "She asked to cancel"), (.duplicate, "A duplicate"),
                                                   (.noStock, "Out of stock (she is told where else to go)"),
                                                   (.unreachable, "Could not be delivered or collected"), (.other, "Another reason")]
        return pages.render("kit", KitPage(
            title: "Kit \(k.ref)", chrome: session.chrome, ref: k.ref,
            kind: what(k.kind), how: Self.how(k), pickup: k.pickup, address: detail.address, hasAddress: detail.address != nil,
            age: Self.age(since: k.createdAt, now: now()), status: k.status.rawValue, isOpen: k.status == .open, error: error,
            reasons: reasons.map { Choice(value: $0.0.rawValue, label: $0.1) }), status: status)
    }

    /// "today", "1 day", "3 days": requests are dated to the day (a copied database must not
    /// show when she texted), so that is as close as the console can say.
    static func age(since: Date, now: Date) -> String {
        let days = Int(max(0, now.timeIntervalSince(since)) / 86400)
        return days == 0 ? "today" : days == 1 ? "1 day" : "\(days) days"
    }

    // MARK: Signing in and out

    func signIn(_ request: Request, _ context: LanternRequestContext) async throws -> Response {
        try sameOrigin(request)
        let time = now()
        if let wait = await failures.blocked(context.clientAddress, now: time) {
            return signInPage(error: "Too many tries from here. Wait \(wait) seconds and try again.", status: .tooManyRequests)
        }
        let form = try await formFields(request, context)
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        switch try await access.signIn(name: name, password: form["password"] ?? "", code: form["code"] ?? "") {
        case .signedIn(let cookie, _):
            logger.notice("console sign-in", metadata: ["by": "\(name)"])
            var response = Self.redirect("/console")
            response.setCookie(sessionCookie(cookie))
            return response
        case .locked(let minutes):
            _ = await failures.record(context.clientAddress, now: time)
            return signInPage(error: "Too many wrong tries: this account is locked for \(minutes) more minute\(minutes == 1 ? "" : "s").",
                              name: name, status: .tooManyRequests)
        case .refused:
            _ = await failures.record(context.clientAddress, now: time)
            logger.notice("console sign-in refused")
            let what = settings.twoFactor ? "Name, password or code not right." : "Name or password not right."
            return signInPage(error: what + " Check them and try again.", name: name, status: .unauthorized)
        }
    }

    func signOut(_ request: Request, _ context: LanternRequestContext, everywhere: Bool) async throws -> Response {
        guard let cookie = request.cookies[Self.cookieName]?.value, let session = try await session(request) else {
            return Self.redirect("/console/sign-in")
        }
        let form = try await formFields(request, context)
        try Self.checkToken(form["csrf"], session: session)
        try await database.endConsoleSession(cookie: cookie, everywhere: everywhere, now: now())
        var response = Self.redirect("/console/sign-in")
        response.setCookie(sessionCookie("", maxAge: 0))
        return response
    }

    func session(_ request: Request) async throws -> ConsoleSession? {
        guard let cookie = request.cookies[Self.cookieName]?.value, !cookie.isEmpty, cookie.count <= 100 else { return nil }
        return try await database.consoleSession(cookie: cookie, idle: settings.idleTimeout, now: now())
    }

    func sessionCookie(_ value: String, maxAge: Int? = nil) -> Cookie {
        Cookie(name: Self.cookieName, value: value, maxAge: maxAge, path: "/console", secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// Every form carries its session's token: a page on another site cannot post as her.
    static func checkToken(_ presented: String?, session: ConsoleSession) throws {
        guard let presented, ConstantTime.equals(presented, session.csrf) else {
            throw PlainError(.forbidden, "this form has expired or did not come from the console: go back, reload the page and try again")
        }
    }

    /// A browser says where a form came from: anything but this site is refused.
    func sameOrigin(_ request: Request) throws {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], !["same-origin", "none"].contains(site) {
            throw PlainError(.forbidden, "forms are accepted only from the console's own pages")
        }
    }

    func formFields(_ request: Request, _ context: LanternRequestContext) async throws -> ConsoleForm {
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: Self.maxFormBytes) } catch {
            throw PlainError(.contentTooLarge, "that form is too large (at most \(Self.maxFormBytes / 1024) KB)")
        }
        guard let form = ConsoleForm(urlEncoded: String(buffer: body)) else {
            throw PlainError(.badRequest, "that form could not be read: send it from the console's own page")
        }
        return form
    }

    /// Characters left as they are in a query value of a redirect.
    static let queryValue = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}

/// What every signed-in page shows around its content: who is signed in, the form token, and
/// whether the admin pages are in the menu.
struct Chrome: Sendable {
    let name: String
    let role: String
    let csrf: String
    let isAdmin: Bool
}

extension ConsoleSession {
    var chrome: Chrome { Chrome(name: account.name, role: account.role.rawValue, csrf: csrf, isAdmin: account.role == .admin) }
}
