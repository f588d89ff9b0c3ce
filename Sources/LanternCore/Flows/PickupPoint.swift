import Foundation

/// A place a person can collect a naloxone kit from: data a service keeps in `flows/service.yaml`.
public struct PickupPoint: Sendable, Equatable {
    public let name: String
    /// The area code it serves (a district like BS5, a named area like @bristol, or * for anywhere).
    public let area: String
    public let hours: String
    /// What discreet wording calls it when its name gives away what it is ("Example drug
    /// service" → "Example support service"): a lock screen shows the text.
    public let discreetName: String?

    public init(name: String, area: String, hours: String, discreetName: String? = nil) {
        self.name = name
        self.area = area
        self.hours = hours
        self.discreetName = discreetName
    }

    public func name(discreet: Bool) -> String { discreet ? discreetName ?? name : name }
}

extension FlowLibrary {
    /// Pickup points serving the areas she gave: in the same district, in a named area that
    /// contains it (or a district inside the named area she gave), or serving everywhere.
    /// The numbered list a person is shown for an area: "1 Name (hours)", one per line.
    public func pickupPointList(for codes: [String], discreet: Bool = false) -> String {
        pickupPoints(for: codes).enumerated()
            .map { "\($0.offset + 1) \($0.element.name(discreet: discreet)) (\($0.element.hours))" }.joined(separator: "\n")
    }

    public func pickupPoints(for codes: [String]) -> [PickupPoint] {
        guard !codes.isEmpty else { return [] }
        guard let reach = AreaCodes.reach(of: codes, areas: areas) else { return pickupPoints }
        return pickupPoints.filter { reach.contains($0.area) }
    }
}
