import Foundation
import Hummingbird
import HummingbirdAuth
import LanternCore
import LanternStore
import Logging
import Metrics

/// `/admin`: the coordinators' API. Every route needs a bearer token; token management
/// needs the admin role. Errors are JSON `{"error": "…"}` that say what to fix.
struct AdminRoutes: Sendable {
    let desk: CoordinatorDesk
    let rateLimit: AdminRateLimit
    let failures: AuthenticationFailures
    let maxBodyBytes: Int
    let now: @Sendable () -> Date
    let logger: Logger

    var database: AppDatabase { desk.database }

    func register(on router: Router<LanternRequestContext>) {
        let admin = router.group("admin")
            .add(middleware: AdminErrors())
            .add(middleware: AdminTokenAuthenticator(database: database, failures: failures, logger: logger, now: now))
            .add(middleware: AdminTokenRateLimit(rateLimit: rateLimit, now: now))
        // Tokens and the audit log: admins only (the desk checks again, for the CLI).
        let adminOnly = admin.group()
            .add(middleware: AuthorizationPolicyMiddleware(RolePolicy<AdminIdentity>(.admin),
                                                           deniedError: AdminError(.forbidden, "this needs an admin token"),
                                                           context: LanternRequestContext.self))
        admin.get("whoami") { _, context in
            let who = try context.requireIdentity()
            return try json(["name": who.name, "role": who.role.rawValue])
        }
        admin.post("broadcasts/preview") { request, _ in
            try json(try await desk.preview(decode(BroadcastRequest.self, request)))
        }
        admin.post("broadcasts") { request, context in
            try json(try await desk.send(decode(BroadcastRequest.self, request), by: try context.requireIdentity()), status: .created)
        }
        admin.get("broadcasts") { _, _ in try json(try await desk.broadcastList()) }
        admin.get("broadcasts/:id") { _, context in try json(try await desk.broadcast(id(context))) }
        admin.post("broadcasts/:id/approve") { _, context in
            try json(try await desk.approve(id(context), by: try context.requireIdentity()))
        }
        admin.post("broadcasts/:id/cancel") { _, context in
            try json(try await desk.cancel(id(context), by: try context.requireIdentity()))
        }
        admin.get("kits") { request, _ in
            try json(try await desk.kitQueue(includeClosed: request.uri.queryParameters.get("all") == "true"))
        }
        admin.get("kits/:ref") { _, context in
            try json(try await desk.kit(context.parameters.get("ref") ?? "", by: try context.requireIdentity()))
        }
        admin.post("kits/:ref/:status") { request, context in
            struct Close: Decodable { let reason: KitCloseReason? }
            guard let status = context.parameters.get("status").flatMap(KitInfo.Status.init(rawValue:)) else {
                throw AdminError(.badRequest, "mark a request sent, collected or cancelled")
            }
            let close = try await decodeOptional(Close.self, request)
            return try json(try await desk.markKit(context.parameters.get("ref") ?? "", as: status, reason: close?.reason, by: try context.requireIdentity()))
        }
        admin.post("reports/:ref/reply") { request, context in
            struct ReplyBody: Decodable { let text: String }
            let body = try await decode(ReplyBody.self, request)
            return try json(["queued": try await desk.replyToReport(context.parameters.get("ref") ?? "", text: body.text, by: try context.requireIdentity())],
                            status: .created)
        }
        admin.get("reports/counts") { _, _ in try json(try await desk.reportCounts()) }
        admin.get("spot/counts") { request, _ in
            let days = request.uri.queryParameters.get("days").flatMap(Int.init).map { min(max($0, 1), 90) } ?? 7
            return try json(try await desk.spotCounts(days: days))
        }
        admin.post("contacts/forget") { request, context in
            // The same answer whether or not the number ever texted: this must not tell anyone
            // (a coordinator included) that someone used the service.
            let who = try context.requireIdentity()
            try await desk.forget(try await number(request), by: who)
            logger.notice("erasure requested by a coordinator", metadata: ["by": "\(who.name)"])
            return try json(["erased": true])
        }
        admin.post("contacts/block") { request, context in
            try json(["blocked": true, "changed": try await desk.setBlocked(try await number(request), true, by: try context.requireIdentity())])
        }
        admin.post("contacts/unblock") { request, context in
            try json(["blocked": false, "changed": try await desk.setBlocked(try await number(request), false, by: try context.requireIdentity())])
        }
        adminOnly.get("audit") { request, context in
            let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 100
            return try json(try await desk.auditLog(limit: limit, by: try context.requireIdentity()))
        }
        adminOnly.get("tokens") { _, context in try json(try await desk.tokens(by: try context.requireIdentity())) }
        adminOnly.post("tokens") { request, context in
            struct NewToken: Decodable { let name: String; let role: AdminRole }
            let body = try await decode(NewToken.self, request)
            let token = try await desk.createToken(name: body.name, role: body.role, by: try context.requireIdentity())
            return try json(["name": body.name, "role": body.role.rawValue, "token": token], status: .created)
        }
        adminOnly.delete("tokens/:name") { _, context in
            let name = context.parameters.get("name") ?? ""
            try await desk.revokeToken(name: name, by: try context.requireIdentity())
            return try json(["revoked": name])
        }
    }

    /// Numbers go in the body, never the path: paths end up in proxies' access logs.
    func number(_ request: Request) async throws -> PhoneNumber {
        struct NumberBody: Decodable { let number: String }
        let body = try await decode(NumberBody.self, request)
        guard let n = PhoneNumber(body.number) else { throw AdminError(.badRequest, "'number' is not a phone number (use +44…)") }
        return n
    }

    func id(_ context: LanternRequestContext) throws -> Int64 {
        guard let raw = context.parameters.get("id"), let id = Int64(raw) else { throw AdminError(.badRequest, "broadcast id must be a number") }
        return id
    }

    /// Like `decode`, but an empty body is fine.
    func decodeOptional<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T? {
        var request = request
        let body = try await request.collectBody(upTo: maxBodyBytes)
        guard body.readableBytes > 0 else { return nil }
        return try await decode(type, Request(head: request.head, body: .init(buffer: body)))
    }

    /// The values a field named by a fixed list may take, for a refusal that says what would do.
    static let validValues: [String: [String]] = [
        "role": AdminRole.allCases.map(\.rawValue),
        "reason": KitCloseReason.allCases.map(\.rawValue),
    ]

    func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            throw AdminError(.contentTooLarge, "body larger than \(maxBodyBytes) bytes")
        }
        do {
            return try AdminJSON.decoder.decode(T.self, from: Data(buffer: body))
        } catch let DecodingError.keyNotFound(key, _) {
            throw AdminError(.badRequest, "missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, c), let DecodingError.valueNotFound(_, c) {
            throw AdminError(.badRequest, "field '\(c.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch let DecodingError.dataCorrupted(c) {
            let field = c.codingPath.map(\.stringValue).joined(separator: ".")
            guard !field.isEmpty else { throw AdminError(.badRequest, "body is not valid JSON") }
            if let valid = Self.validValues[field] {
                throw AdminError(.badRequest, "field '\(field)' must be one of: \(valid.joined(separator: ", "))")
            }
            throw AdminError(.badRequest, field.hasSuffix("_at") ? "field '\(field)' must be a date in ISO 8601, e.g. 2026-12-02T18:00:00Z"
                                                                  : "field '\(field)' is not valid")
        }
    }
}

func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    Response(status: status, headers: [.contentType: "application/json"],
             body: .init(byteBuffer: ByteBuffer(bytes: try AdminJSON.encoder.encode(value))))
}

public enum AdminJSON {
    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return e
    }()
    public static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        // ISO 8601, with or without fractional seconds; a bad date names its field.
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let s = try c.decode(String.self)
            let plain = ISO8601DateFormatter()
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            guard let date = plain.date(from: s) ?? fractional.date(from: s) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO 8601 date")
            }
            return date
        }
        return d
    }()
}

/// A JSON error an admin client can show as is.
struct AdminError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var r = try json(["error": message], status: status)
        for field in headers { r.headers.append(field) }
        return r
    }
}

/// Who is calling /admin, from their bearer token (hummingbird-auth). No token or an unknown
/// one is a 401 at once; an address that keeps guessing waits, whatever it sends next.
struct AdminTokenAuthenticator: AuthenticatorMiddleware {
    typealias Context = LanternRequestContext
    let database: AppDatabase
    let failures: AuthenticationFailures
    let logger: Logger
    let now: @Sendable () -> Date

    func authenticate(request: Request, context: Context) async throws -> AdminIdentity? {
        if let wait = await failures.blocked(context.clientAddress, now: now()) {
            var e = AdminError(.tooManyRequests, "too many failed attempts from this address; try again in \(wait) s")
            e.headers[.retryAfter] = "\(wait)"
            throw e
        }
        // "Bearer" in any case, as HTTP allows (hummingbird-auth's `bearer` takes only "Bearer ").
        let token = request.headers[.authorization].flatMap {
            $0.lowercased().hasPrefix("bearer ") ? String($0.dropFirst(7)).trimmingCharacters(in: .whitespaces) : nil
        }
        guard let token, let identity = try await database.adminIdentity(forToken: token) else {
            let count = await failures.record(context.clientAddress, now: now())
            Counter(label: "lantern_admin_auth_failures_total").increment()
            // Never the token itself: a mistyped real one would end up in the log.
            logger.warning("admin authentication failed", metadata: ["client": "\(context.clientAddress)", "failures_this_minute": "\(count)",
                                                                     "path": "\(request.uri.path)"])
            var e = AdminError(.unauthorized, "a valid admin token is required (Authorization: Bearer lnt_…; create one with: lantern tokens create)")
            e.headers[.wwwAuthenticate] = "Bearer"
            throw e
        }
        return identity
    }
}

/// Each token's requests per minute.
struct AdminTokenRateLimit: RouterMiddleware {
    typealias Context = LanternRequestContext
    let rateLimit: AdminRateLimit
    let now: @Sendable () -> Date

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let wait = await rateLimit.admit(token: try context.requireIdentity().name, now: now()) {
            var e = AdminError(.tooManyRequests, "too many requests with this token; try again in \(wait) s")
            e.headers[.retryAfter] = "\(wait)"
            throw e
        }
        return try await next(request, context)
    }
}

/// What went wrong in a coordinator's request, as a status and words that say what to fix.
struct AdminErrors: RouterMiddleware {
    typealias Context = LanternRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as BroadcastRequestError {
            throw AdminError(.unprocessableContent, e.description)
        } catch let e as BroadcastError {
            switch e {
            case .notFound: throw AdminError(.notFound, e.description)
            case .approverIsCreator: throw AdminError(.forbidden, e.description)
            case .notAwaitingApproval, .alreadyFinished: throw AdminError(.conflict, e.description)
            }
        } catch let e as AdminTokenError {
            throw AdminError(.unprocessableContent, e.description)
        } catch let e as KitError {
            switch e {
            case .notFound: throw AdminError(.notFound, e.description)
            case .notOpen: throw AdminError(.conflict, e.description)
            case .invalidStatus: throw AdminError(.badRequest, e.description)
            }
        } catch let e as ReportError {
            switch e {
            case .unknownReference: throw AdminError(.notFound, e.description)
            case .emptyReply, .replyTooLong: throw AdminError(.unprocessableContent, e.description)
            }
        } catch let e as DeskError {
            switch e {
            case .needsAdmin: throw AdminError(.forbidden, e.description)
            case .noSuchToken: throw AdminError(.notFound, e.description)
            case .notYourself: throw AdminError(.conflict, e.description)
            }
        }
    }
}

/// One line of the audit log: who did what and when, never what it said or whom it was about.
public struct AuditEntry: Codable, Sendable {
    public let at: Date
    public let actor: String
    public let action: String
    public let subject: String?
    public init(at: Date, actor: String, action: String, subject: String?) {
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
    }
}


extension ISO8601DateFormatter {
    static func dayString(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withFullDate]
        return f.string(from: date)
    }
}
