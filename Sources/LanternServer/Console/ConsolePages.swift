import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The console's templates (compiled into the binary from `Console/Templates`) and the headers
/// every page carries.
struct ConsolePages: Sendable {
    let library: MustacheLibrary

    static func load() throws -> ConsolePages {
        var library = MustacheLibrary()
        let templates: [(String, [UInt8])] = [
            ("top", PackageResources.top_mustache), ("bottom", PackageResources.bottom_mustache),
            ("sign_in", PackageResources.sign_in_mustache), ("invite", PackageResources.invite_mustache),
            ("message", PackageResources.message_mustache), ("today", PackageResources.today_mustache),
            ("kits", PackageResources.kits_mustache), ("kit", PackageResources.kit_mustache),
            ("broadcasts", PackageResources.broadcasts_mustache), ("broadcast", PackageResources.broadcast_mustache),
            ("confirm", PackageResources.confirm_mustache), ("approvals", PackageResources.approvals_mustache),
            ("phones", PackageResources.phones_mustache), ("alert_new", PackageResources.alert_new_mustache),
            ("alert_preview", PackageResources.alert_preview_mustache), ("reports", PackageResources.reports_mustache),
            ("admin", PackageResources.admin_mustache), ("accounts", PackageResources.accounts_mustache),
            ("tokens", PackageResources.tokens_mustache), ("audit", PackageResources.audit_mustache),
            ("flows", PackageResources.flows_mustache), ("talk", PackageResources.talk_mustache),
            ("talk_thread", PackageResources.talk_thread_mustache),
        ]
        for (name, bytes) in templates { try library.register(String(decoding: bytes, as: UTF8.self), named: name) }
        return ConsolePages(library: library)
    }

    static let stylesheet = String(decoding: PackageResources.console_css, as: UTF8.self)
    /// The one script: the alert page's live preview. Every page works without it.
    static let script = String(decoding: PackageResources.console_js, as: UTF8.self)

    /// Only our own files, no framing, no inline script, forms only to ourselves; never cached.
    static let headers: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        HTTPField.Name("Content-Security-Policy")!: "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        HTTPField.Name("X-Frame-Options")!: "DENY",
    ]

    func render(_ template: String, _ data: Any, status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(data, withTemplate: template) ?? ""
        return Response(status: status, headers: Self.headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
