import Foundation
import LanternCore
import Yams

/// Reads `flows/service.yaml`: named areas, pickup points, default wording, what the service covers.
extension NodeReader {
    mutating func service(_ node: Node) -> (areas: [NamedArea], pickupPoints: [PickupPoint], wording: Wording?, covers: [String]?, talk: TalkHours,
                                            supplies: [Supply]) {
        guard let fields = mapping(node, "'service'", allowed: ["areas", "pickup_points", "wording", "covers", "talk", "supplies"]) else {
            return ([], [], nil, nil, TalkHours(), [])
        }
        var areas: [NamedArea] = []
        var points: [(String, String, String, String?, Node)] = []
        var wording: Wording?
        var coverNames: [(String, Node)]?
        var talk = TalkHours()
        var supplies: [Supply] = []
        for (key, value) in fields {
            if key == "talk" {
                talk = talkHours(value)
                continue
            }
            if key == "supplies" {
                supplies = self.supplies(value)
                continue
            }
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
        return (areas, pickupPoints, wording, covers, talk, supplies)
    }

    /// `supplies:` items: `id`, `name`, `discreet_name` (what a lock screen may show), `max` per
    /// request (default 1), `by: [post, collect]` (default both), and `translations:` by locale
    /// (`pl: {name: …, discreet_name: …}`).
    mutating func supplies(_ node: Node) -> [Supply] {
        guard let seq = node.sequence else { error("'supplies' must be a list", node); return [] }
        var out: [Supply] = []
        for item in seq {
            guard let f = mapping(item, "a supply", allowed: ["id", "name", "discreet_name", "max", "by", "translations"]) else { continue }
            let d = Dictionary(f.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard let id = d["id"].flatMap({ string($0, "'id'") }), id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !id.isEmpty,
                  let name = d["name"].flatMap({ string($0, "'name'") }), let discreet = d["discreet_name"].flatMap({ string($0, "'discreet_name'") }) else {
                error("a supply needs 'id:' (letters, digits, _), 'name:' and 'discreet_name:'", item); continue
            }
            guard !out.contains(where: { $0.id == id }) else { error("supply id '\(id)' is used twice", item); continue }
            var max = 1
            if let m = d["max"] {
                if let raw = string(m, "'max'"), let n = Int(raw), (1...10).contains(n) { max = n } else { error("'max' must be a whole number from 1 to 10", m) }
            }
            var post = true, collect = true
            if let by = d["by"] {
                let ways = strings(by, "'by'").map { $0.0.lowercased() }
                for w in ways where w != "post" && w != "collect" { error("'by' lists post and/or collect, not '\(w)'", by) }
                post = ways.contains("post")
                collect = ways.contains("collect")
            }
            var translations: [String: Supply.Names] = [:]
            if let t = d["translations"], let byLocale = mapping(t, "'translations'", allowed: []) {
                for (locale, names) in byLocale {
                    guard let n = mapping(names, "'\(locale)'", allowed: ["name", "discreet_name"]),
                          let name = n.first(where: { $0.key == "name" }).flatMap({ string($0.value, "'name'") }),
                          let discreet = n.first(where: { $0.key == "discreet_name" }).flatMap({ string($0.value, "'discreet_name'") }) else {
                        error("supply '\(id)', '\(locale)': give both 'name:' and 'discreet_name:'", names); continue
                    }
                    translations[locale] = Supply.Names(name: name, discreetName: discreet)
                }
            }
            out.append(Supply(id: id, name: name, discreetName: discreet, max: max, post: post, collect: collect, translations: translations))
        }
        return out
    }

    static let weekdays = ["sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7]

    /// `talk: {reply_within_hours: 4, on_duty: {mon: "10:00-20:00", sat: off, …}}` (UK time); a day
    /// left out is off; no `on_duty` at all: always.
    mutating func talkHours(_ node: Node) -> TalkHours {
        var hours = TalkHours()
        guard let fields = mapping(node, "'talk'", allowed: ["reply_within_hours", "on_duty"]) else { return hours }
        for (key, value) in fields {
            if key == "reply_within_hours" {
                if let raw = string(value, "'reply_within_hours'"), let n = Int(raw), (1...168).contains(n) { hours.replyWithinHours = n }
                else { error("'reply_within_hours' must be a whole number of hours from 1 to 168", value) }
                continue
            }
            guard let days = mapping(value, "'on_duty'", allowed: Set(Self.weekdays.keys)) else { continue }
            var shifts: [Int: TalkHours.Shift] = [:]
            for (day, span) in days {
                guard let raw = string(span, "'\(day)'") else { continue }
                if raw.lowercased() == "off" { continue }
                let ends = raw.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
                func minutes(_ t: String) -> Int? {
                    let p = t.split(separator: ":").compactMap { Int($0) }
                    guard p.count == 2, (0...24).contains(p[0]), (0..<60).contains(p[1]), p[0] * 60 + p[1] <= 1440 else { return nil }
                    return p[0] * 60 + p[1]
                }
                guard ends.count == 2, let start = minutes(ends[0]), let end = minutes(ends[1]), start < end else {
                    error("'\(day)' must be a span like 10:00-20:00 (UK time), or off", span); continue
                }
                shifts[Self.weekdays[day]!] = TalkHours.Shift(start: start, end: end)
            }
            hours.shifts = shifts
        }
        return hours
    }
}
