import Foundation

/// Every flow and every language Lantern speaks, loaded once and shared read-only.
public struct FlowLibrary: Sendable {
    public let flows: [Flow]
    public let catalogues: [String: Catalogue]
    let flowsByID: [String: Flow]

    /// Keys the engine itself uses, beyond those flows name.
    public static let invalidChoiceKey = "common.invalid_choice"
    public static let invalidAnswerKey = "common.invalid_answer"
    public static let engineKeys: Set<String> = [invalidChoiceKey, invalidAnswerKey]

    public init(flows: [Flow], catalogues: [Catalogue]) {
        self.flows = flows
        self.catalogues = Dictionary(catalogues.map { ($0.locale, $0) }, uniquingKeysWith: { first, _ in first })
        self.flowsByID = Dictionary(flows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func flow(_ id: String) -> Flow? { flowsByID[id] }

    /// The template for a key in a language, falling back to en-GB where a translation is missing.
    public func template(_ key: String, locale: String) -> MessageTemplate? {
        catalogues[locale]?.messages[key] ?? catalogues[defaultLocale]?.messages[key]
    }

    /// Rendered words for a key. A key missing everywhere renders as the key itself, so a broken
    /// catalogue is visible in testing rather than sending an empty text; `flows check` stops it shipping.
    public func render(_ key: String, locale: String, values: [String: String] = [:]) -> String {
        template(key, locale: locale)?.render(values) ?? key
    }

    /// A menu's options as the person sees them: one "N label" line each.
    public func menuLines(_ options: [MenuOption], locale: String, values: [String: String] = [:]) -> String {
        options.enumerated().map { i, option in "\(i + 1) " + render(option.label, locale: locale, values: values) }
            .joined(separator: "\n")
    }
}
