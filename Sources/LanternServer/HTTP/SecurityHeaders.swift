import HTTPTypes
import Hummingbird
import Logging

/// Outermost middleware on every listener. Adds headers that stop browsers caching or framing
/// anything Lantern serves (admin answers can hold an address), and turns any error that is not
/// already a clear HTTP answer into a bare 500: no internal detail ever reaches a client.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = LanternRequestContext
    let logger: Logger

    static let headers: HTTPFields = [
        .cacheControl: "no-store",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; frame-ancestors 'none'",
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            // The type only: an error's description can carry what it was handling.
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(type(of: error))"])
            response = PlainError(.internalServerError, "internal error; the server log has the details").response
        }
        for field in Self.headers where response.headers[field.name] == nil { response.headers.append(field) }
        return response
    }
}
