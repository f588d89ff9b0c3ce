import Foundation
import LanternCore
import Yams

/// Reads `flows/service.yaml`: named areas, pickup points, default wording, what the service covers.
extension NodeReader {
    mutating func service(_ node: Node) -> (areas: [NamedArea], pickupPoints: [PickupPoint], wording: Wording?, covers: [String]?) {
        guard let fields = mapping(node, "'service'", allowed: ["areas", "pickup_points", "wording", "covers"]) else { return ([], [], nil, nil) }
        var areas: [NamedArea] = []
        var points: [(String, String, String, String?, Node)] = []
        var wording: Wording?
        var coverNames: [(String, Node)]?
        for (key, value) in fields {
            if key == "covers" {
                coverNames = strings(value, "'covers'")
                continue
            }
            if key == "wording" {
                if let raw = string(value, "'wording'") {
                    if let w = Wording(rawValue: raw) { wording = w } else { error("'wording' must be discreet or plain", value) }
                }
                continue
            }

            guard let seq = value.sequence else { error("'\(key)' must be a list", value); continue }
            for item in seq {
                if key == "areas" {
                    guard let f = mapping(item, "an area", allowed: ["name", "aliases", "districts"]) else { continue }
                    let d = Dictionary(f.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                    guard let name = d["name"].flatMap({ string($0, "'name'") }), !KeywordText.words(name).isEmpty else {
                        error("an area needs 'name:'", item); continue
                    }
                    let aliases = d["aliases"].map { strings($0, "'aliases'").map(\.0) } ?? []
                    var districts: [PostcodeDistrict] = []
                    for (code, n) in d["districts"].map({ strings($0, "'districts'") }) ?? [] {
                        if let district = PostcodeDistrict(code) { districts.append(district) }
                        else { error("'\(code)' is not a postcode district (like BS5 or M14)", n) }
                    }
                    for word in ([name] + aliases) where PostcodeDistrict(word) != nil {
                        error("area name '\(word)' looks like a postcode district; choose a name that doesn't", item)
                    }
                    areas.append(NamedArea(name: name, aliases: aliases, districts: districts))
                } else {
                    guard let f = mapping(item, "a pickup point", allowed: ["name", "area", "hours", "discreet_name"]) else { continue }
                    let d = Dictionary(f.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                    guard let name = d["name"].flatMap({ string($0, "'name'") }), let area = d["area"].flatMap({ string($0, "'area'") }),
                          let hours = d["hours"].flatMap({ string($0, "'hours'") }) else {
                        error("a pickup point needs 'name:', 'area:' and 'hours:'", item); continue
                    }
                    points.append((name, area, hours, d["discreet_name"].flatMap { string($0, "'discreet_name'") }, item))
                }
            }
        }
        // Pickup areas may name the service's own areas, so resolve them once all are read.
        let pickupPoints = points.compactMap { name, area, hours, discreetName, node -> PickupPoint? in
            guard let codes = AreaCodes.parse(KeywordText.words(area), areas: areas), codes.count == 1 else {
                error("pickup point '\(name)' has area '\(area)', which is not one district, area name or ALL", node); return nil
            }
            return PickupPoint(name: name, area: codes[0], hours: hours, discreetName: discreetName)
        }
        // Where the service works (districts or its area names); absent: everywhere.
        let covers: [String]? = coverNames.map { names in
            names.flatMap { name, node -> [String] in
                guard let codes = AreaCodes.parse(KeywordText.words(name), areas: areas), !codes.contains(AreaCodes.everywhere) else {
                    error("'covers' entry '\(name)' is not a postcode district or an area name above", node); return []
                }
                return codes
            }
        }
        return (areas, pickupPoints, wording, covers)
    }
}
