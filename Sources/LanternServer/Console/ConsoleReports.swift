import Foundation
import HTTPTypes
import Hummingbird
import LanternCore
import LanternStore

/// Reports: counts per area, references a coordinator can answer, and the answer itself. No
/// words are kept, so none are shown.
extension ConsoleRoutes {
    func registerReports(on console: RouterGroup<LanternRequestContext>) {
        console.get("reports") { request, _ in
            try await signedIn(request) { session in
                let sent = request.uri.queryParameters.get("sent")
                return try await reports(session, notice: sent.map { "Your answer to \($0) is on its way. Her reply, if she sends one, goes to the coordinators' phones." })
            }
        }
        console.post("reports/reply") { request, context in
            try await posted(request, context) { session, form in
                let ref = (form["ref"] ?? "").trimmingCharacters(in: .whitespaces).uppercased()
                let text = form["text"] ?? ""
                do {
                    _ = try await desk.replyToReport(ref, text: text, by: session.identity)
                    return Self.redirect("/console/reports?sent=\(ref.addingPercentEncoding(withAllowedCharacters: Self.queryValue) ?? "")")
                } catch let error as ReportError {
                    return try await reports(session, error: Self.sentence(error), ref: ref, text: text, status: .badRequest)
                }
            }
        }
    }

    struct AreaReports {
        let code: String
        let name: String
        let week: Int
        let month: Int
    }

    struct Reference {
        let ref: String
        let until: String
        let awaiting: Bool
    }

    struct ReportsPage {
        let title = "Reports"
        let chrome: Chrome
        let notice: String?
        let error: String?
        let areas: [AreaReports]
        let hasAreas: Bool
        let refs: [Reference]
        let hasRefs: Bool
        let ref: String
        let text: String
    }

    func reports(_ session: ConsoleSession, notice: String? = nil, error: String? = nil, ref: String = "", text: String = "",
                 status: HTTPResponse.Status = .ok) async throws -> Response {
        let month = try await desk.reportCounts(days: 30)
        let weekStart = ISO8601DateFormatter.dayString(now().addingTimeInterval(-7 * 86400))
        let areas = Dictionary(grouping: month, by: \.area).map { code, days in
            AreaReports(code: code, name: areaNames([code]), week: days.filter { $0.day >= weekStart }.reduce(0) { $0 + $1.count },
                        month: days.reduce(0) { $0 + $1.count })
        }.sorted { ($0.week, $0.month, $1.name) > ($1.week, $1.month, $0.name) }
        var dayStyle = Date.FormatStyle(date: .abbreviated, time: .omitted, timeZone: TimeZone(identifier: "Europe/London") ?? .gmt)
        dayStyle.locale = Locale(identifier: "en_GB")
        let refs = try await desk.reportReferences().map { Reference(ref: $0.ref, until: $0.expiresAt.formatted(dayStyle), awaiting: $0.awaitingAnswer) }
        return pages.render("reports", ReportsPage(chrome: session.chrome, notice: notice, error: error, areas: areas, hasAreas: !areas.isEmpty,
                                                   refs: refs, hasRefs: !refs.isEmpty, ref: ref, text: text), status: status)
    }
}
