import Foundation
import LanternCore
import LanternStore
import Logging

/// The coordinators' side of kit requests: the queue, one request (address decrypted and the
/// view audited), and closing it, which deletes the address and tells her in her language.
public struct KitService: Sendable {
    public let database: AppDatabase
    let library: FlowLibrary
    let now: @Sendable () -> Date
    let logger: Logger

    public init(database: AppDatabase, library: FlowLibrary, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.database = database
        self.library = library
        self.now = now
        self.logger = logger
    }

    public func queue(includeClosed: Bool = false) async throws -> [KitSummary] {
        try await database.kitRequests(includeClosed: includeClosed)
    }

    public func show(_ ref: String, by coordinator: AdminIdentity) async throws -> KitDetail {
        let detail = try await database.kitRequest(normalised(ref), viewer: coordinator.name, now: now())
        logger.notice("kit request viewed", metadata: ["kit": "\(detail.summary.ref)", "by": "\(coordinator.name)"])
        return detail
    }

    public func mark(_ ref: String, as status: KitInfo.Status, reason: KitCloseReason?, by coordinator: AdminIdentity) async throws -> KitSummary {
        let library = self.library
        let code = normalised(ref)
        let summary = try await database.markKit(code, as: status, reason: reason, by: coordinator.name, now: now()) { language, wording in
            // Out of stock is not her doing: she hears where else to go and when to try again.
            let key = status == .cancelled && reason == .noStock ? FlowLibrary.kitNoStockKey : FlowLibrary.kitNotifyPrefix + status.rawValue
            return library.render(key, locale: language, values: ["kit_ref": code],
                           discreet: (wording ?? library.defaultWording) == .discreet)
        }
        logger.notice("kit request closed", metadata: ["kit": "\(code)", "status": "\(status.rawValue)", "by": "\(coordinator.name)"])
        return summary
    }

    func normalised(_ ref: String) -> String { ReferenceCode.parse(ref, prefix: "K") ?? ref }
}
