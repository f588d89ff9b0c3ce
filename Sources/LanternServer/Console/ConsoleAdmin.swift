import Foundation
import HTTPTypes
import Hummingbird
import LanternCore
import LanternStore

/// Admin-only pages: console accounts and roles, API tokens, the audit log, the flows check.
/// Each route checks the role itself (through `signedIn(admin:)`/`posted(admin:)`), and the
/// desk checks it again.
extension ConsoleRoutes {
    func registerAdmin(on console: RouterGroup<LanternRequestContext>) {
        console.get("admin") { request, _ in
            try await signedIn(request, admin: true) { pages.render("admin", AdminIndex(chrome: $0.chrome)) }
        }
        console.get("admin/accounts") { request, _ in
            try await signedIn(request, admin: true) { try await accounts($0) }
        }
        console.post("admin/accounts") { request, context in
            try await posted(request, context, admin: true) { session, form in
                let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
                let role = form["role"].flatMap(AdminRole.init(rawValue:)) ?? .coordinator
                do {
                    let token = try await desk.inviteCoordinator(name: name, role: role, validFor: settings.inviteLifetime, by: session.identity)
                    return try await accounts(session, invite: (name, "\(baseURL)/console/invite/\(token)"))
                } catch let error as ConsoleAccountError {
                    return try await accounts(session, error: Self.sentence(error), formName: name, formAdmin: role == .admin, status: .badRequest)
                }
            }
        }
        console.post("admin/accounts/:name/role") { request, context in
            try await posted(request, context, admin: true) { session, form in
                let name = context.parameters.get("name") ?? ""
                guard let role = form["role"].flatMap(AdminRole.init(rawValue:)) else {
                    return try await accounts(session, error: "Choose coordinator or admin.", status: .badRequest)
                }
                return try await accountChange(session) {
                    try await desk.setRole(of: name, to: role, by: session.identity)
                    return "\(name) is now \(role == .admin ? "an admin" : "a coordinator"), and has been signed out to pick it up."
                }
            }
        }
        console.get("admin/accounts/:name/remove") { request, context in
            try await signedIn(request, admin: true) { session in
                let name = context.parameters.get("name") ?? ""
                guard name != session.account.name else {
                    return try await accounts(session, error: Self.sentence(DeskError.notYourself), status: .conflict)
                }
                return pages.render("confirm", Confirmation(
                    title: "Remove \(name)", chrome: session.chrome, heading: "Remove \(name)?",
                    message: "\(name) will be signed out everywhere and can no longer sign in. To let them back, invite them again.",
                    action: "/console/admin/accounts/\(name)/remove", button: "Yes, remove \(name)", back: "/console/admin/accounts",
                    backText: "No, keep the account"))
            }
        }
        console.post("admin/accounts/:name/remove") { request, context in
            try await posted(request, context, admin: true) { session, _ in
                let name = context.parameters.get("name") ?? ""
                return try await accountChange(session) {
                    try await desk.removeCoordinator(name, by: session.identity)
                    return "\(name) can no longer sign in, and has been signed out everywhere."
                }
            }
        }
        console.get("admin/tokens") { request, _ in
            try await signedIn(request, admin: true) { try await tokens($0) }
        }
        console.post("admin/tokens") { request, context in
            try await posted(request, context, admin: true) { session, form in
                let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
                let role = form["role"].flatMap(AdminRole.init(rawValue:)) ?? .coordinator
                do {
                    let token = try await desk.createToken(name: name, role: role, by: session.identity)
                    return try await tokens(session, made: (name, token))
                } catch let error as AdminTokenError {
                    return try await tokens(session, error: Self.sentence(error), formName: name, formAdmin: role == .admin, status: .badRequest)
                }
            }
        }
        console.get("admin/tokens/:name/revoke") { request, context in
            try await signedIn(request, admin: true) { session in
                let name = context.parameters.get("name") ?? ""
                return pages.render("confirm", Confirmation(
                    title: "Revoke \(name)", chrome: session.chrome, heading: "Revoke the token '\(name)'?",
                    message: "Anything that uses it (a script, someone's command line) stops working at once. This cannot be undone: make a new token instead.",
                    action: "/console/admin/tokens/\(name)/revoke", button: "Yes, revoke it", back: "/console/admin/tokens",
                    backText: "No, keep it"))
            }
        }
        console.post("admin/tokens/:name/revoke") { request, context in
            try await posted(request, context, admin: true) { session, _ in
                let name = context.parameters.get("name") ?? ""
                do {
                    try await desk.revokeToken(name: name, by: session.identity)
                    return try await tokens(session, notice: "The token '\(name)' no longer works.")
                } catch let error as DeskError {
                    return try await tokens(session, error: Self.sentence(error), status: .notFound)
                }
            }
        }
        console.get("admin/audit") { request, _ in
            try await signedIn(request, admin: true) { session in
                let entries = try await desk.auditLog(limit: Self.auditRows, by: session.identity).map {
                    AuditRow(at: Self.when($0.at).replacingOccurrences(of: " (UK time)", with: ""), actor: $0.actor, action: $0.action,
                             subject: $0.subject ?? "")
                }
                return pages.render("audit", AuditPage(chrome: session.chrome, limit: Self.auditRows, entries: entries))
            }
        }
        console.get("admin/flows") { request, _ in
            try await signedIn(request, admin: true) { session in
                let found = FlowCheck(library: library).run()
                let errors = found.filter { $0.severity == .error }.count
                return pages.render("flows", FlowsPage(
                    chrome: session.chrome, errors: errors, oneError: errors == 1, warnings: found.count - errors,
                    oneWarning: found.count - errors == 1,
                    diagnostics: found.map { FlowsPage.Row(severity: $0.severity.rawValue, at: $0.location.map(\.description), message: $0.message) },
                    hasDiagnostics: !found.isEmpty))
            }
        }
    }

    static let auditRows = 200

    struct AdminIndex {
        let title = "Admin"
        let chrome: Chrome
    }

    struct RoleChoice {
        let value: String
        let selected: Bool
    }

    struct AccountRow {
        let name: String
        let role: String
        let state: String
        let isYou: Bool
        let roles: [RoleChoice]
    }

    struct AccountsPage {
        let title = "Coordinators"
        let chrome: Chrome
        let notice: String?
        let error: String?
        let inviteName: String?
        let inviteLink: String?
        let accounts: [AccountRow]
        let formName: String
        let formAdmin: Bool
    }

    func accounts(_ session: ConsoleSession, notice: String? = nil, error: String? = nil, invite: (name: String, link: String)? = nil,
                  formName: String = "", formAdmin: Bool = false, status: HTTPResponse.Status = .ok) async throws -> Response {
        let time = now()
        let rows = try await desk.consoleAccounts(by: session.identity).map { a in
            let state = a.isPending ? "invited, not yet joined" : (a.lockedUntil.map { $0 > time ? "locked until \(Self.when($0))" : "active" } ?? "active")
            return AccountRow(name: a.name, role: a.role.rawValue, state: state, isYou: a.name == session.account.name,
                              roles: AdminRole.allCases.map { RoleChoice(value: $0.rawValue, selected: $0 == a.role) })
        }
        return pages.render("accounts", AccountsPage(chrome: session.chrome, notice: notice, error: error, inviteName: invite?.name,
                                                     inviteLink: invite?.link, accounts: rows, formName: formName, formAdmin: formAdmin),
                            status: status)
    }

    func accountChange(_ session: ConsoleSession, _ change: () async throws -> String) async throws -> Response {
        do {
            return try await accounts(session, notice: try await change())
        } catch let error as DeskError {
            return try await accounts(session, error: Self.sentence(error), status: .conflict)
        } catch let error as ConsoleAccountError {
            return try await accounts(session, error: Self.sentence(error), status: .notFound)
        }
    }

    struct TokenRow {
        let name: String
        let role: String
        let created: String
        let state: String
        let live: Bool
    }

    struct TokensPage {
        let title = "API tokens"
        let chrome: Chrome
        let notice: String?
        let error: String?
        let newName: String?
        let newToken: String?
        let tokens: [TokenRow]
        let hasTokens: Bool
        let formName: String
        let formAdmin: Bool
    }

    func tokens(_ session: ConsoleSession, notice: String? = nil, error: String? = nil, made: (name: String, token: String)? = nil,
                formName: String = "", formAdmin: Bool = false, status: HTTPResponse.Status = .ok) async throws -> Response {
        let rows = try await desk.tokens(by: session.identity).map {
            TokenRow(name: $0.name, role: $0.role.rawValue, created: Self.when($0.createdAt), state: $0.revokedAt == nil ? "live" : "revoked",
                     live: $0.revokedAt == nil)
        }
        return pages.render("tokens", TokensPage(chrome: session.chrome, notice: notice, error: error, newName: made?.name,
                                                 newToken: made?.token, tokens: rows, hasTokens: !rows.isEmpty, formName: formName,
                                                 formAdmin: formAdmin), status: status)
    }

    struct AuditRow {
        let at: String
        let actor: String
        let action: String
        let subject: String
    }

    struct AuditPage {
        let title = "Audit log"
        let chrome: Chrome
        let limit: Int
        let entries: [AuditRow]
    }

    struct FlowsPage {
        struct Row {
            let severity: String
            let at: String?
            let message: String
        }
        let title = "Flows check"
        let chrome: Chrome
        let errors: Int
        let oneError: Bool
        let warnings: Int
        let oneWarning: Bool
        let diagnostics: [Row]
        let hasDiagnostics: Bool
    }
}
