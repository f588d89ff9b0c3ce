import Foundation
import LanternCore
import LanternProviders
import LanternServer
import Logging
import Synchronization

/// A golden conversation: lines of `> inbound` and `< reply` (a reply's lines each start with
/// `< `; `<---` separates two replies to one text), plus `@ wait 31m` to move the clock and
/// `? opted out` / `? opted in` / `? erased` / `? waiting flow/state` / `? idle` /
/// `? alerts BS5,M14` (or `none`) / `? paused` / `? not paused` /
/// `? check-in running` (`due`, `escalated`, `reminded`, `none`; `with place` when one is kept)
/// to check state. Right-to-left texts' direction marks show as ⟨RLM⟩, ⟨LRI⟩…⟨PDI⟩.
/// Other people in the conversation (her buddies, the on-call phone, the TALK peers) are letters:
/// `>B yes` is a text from B, `<B …` a text to B. `@ wait` also runs the check-in timer (and, with
/// `@ peers` at the top, the janitor that closes quiet TALK threads).
/// Run against the shipped flows through the real store and outbox.
public struct Transcript: Sendable {
    /// Who is who: her (no letter), her buddies B and C, the service's on-call phone O, and the
    /// on-duty peers P and Q.
    public static let parties: [String: PhoneNumber] = [
        "": PhoneNumber("+447700900123")!, "B": PhoneNumber("+447700900456")!,
        "C": PhoneNumber("+447700900457")!, "O": PhoneNumber("+447700900800")!,
        "P": PhoneNumber("+447700900801")!, "Q": PhoneNumber("+447700900802")!,
    ]

    public struct Sent: Sendable, Equatable {
        public let party: String
        public let text: String
    }

    public enum Step: Sendable, Equatable {
        case inbound(String, from: String)
        case replies([Sent])
        case wait(TimeInterval)
        /// How long each text takes to type from here on (default 10 s): `@ pace 1s` sends
        /// them fast enough to meet the per-minute limit.
        case pace(TimeInterval)
        case expect(String)
    }

    public let name: String
    public let steps: [Step]
    /// The service has an on-call phone (O): `@ oncall` at the top of the file.
    public let onCall: Bool
    /// The service has peers for TALK (P and Q): `@ peers` at the top of the file.
    public let peers: Bool

    public init(name: String, text: String) throws {
        self.name = name
        var steps: [Step] = []
        var replyLines: [String] = []
        var replyParty = ""
        var replies: [Sent] = []
        func flushReply() {
            if !replyLines.isEmpty { replies.append(Sent(party: replyParty, text: replyLines.joined(separator: "\n"))); replyLines = [] }
        }
        /// "< text" → ("", "text"); "<B text" → ("B", "text"); "<B" → ("B", "").
        func replyLine(_ line: String) -> (String, String)? {
            guard line.hasPrefix("<"), !line.hasPrefix("<---") else { return nil }
            let after = line.dropFirst()
            let party = after.prefix { $0.isUppercase && $0.isASCII }
            guard party.count <= 1 else { return nil }
            let rest = after.dropFirst(party.count)
            if rest.isEmpty { return (String(party), "") }
            guard rest.hasPrefix(" ") else { return nil }
            return (String(party), String(rest.dropFirst()))
        }
        func flushReplies() {
            flushReply()
            if !replies.isEmpty { steps.append(.replies(replies)); replies = [] }
        }
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.hasPrefix("<---") { flushReply(); continue }
            if let (party, text) = replyLine(line) {
                if party != replyParty { flushReply(); replyParty = party }
                replyLines.append(text)
                continue
            }
            flushReplies()
            if line.hasPrefix(">") {
                let after = line.dropFirst()
                let party = after.prefix { $0.isUppercase && $0.isASCII }
                guard party.count <= 1, Self.parties[String(party)] != nil else {
                    throw TranscriptError(message: "\(name):\(n + 1): unknown person in '\(line)'")
                }
                steps.append(.inbound(String(after.dropFirst(party.count).dropFirst()), from: String(party)))
            }
            else if line.hasPrefix("@ wait ") || line.hasPrefix("@ pace ") {
                let spec = line.dropFirst(7).trimmingCharacters(in: .whitespaces)
                let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
                guard let u = spec.last, let mult = units[u], let v = Double(spec.dropLast()) else {
                    throw TranscriptError(message: "\(name):\(n + 1): bad duration '\(spec)'")
                }
                steps.append(line.hasPrefix("@ wait ") ? .wait(v * mult) : .pace(v * mult))
            } else if line.hasPrefix("? ") { steps.append(.expect(String(line.dropFirst(2)))) }
            else if line.hasPrefix("#") || line == "@ oncall" || line == "@ peers" || line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            else { throw TranscriptError(message: "\(name):\(n + 1): cannot read '\(line)'") }
        }
        flushReplies()
        self.steps = steps
        self.onCall = text.split(separator: "\n").contains { $0 == "@ oncall" }
        self.peers = text.split(separator: "\n").contains { $0 == "@ peers" }
    }

    /// Plays the inbound texts and returns the transcript as it actually happened, in the same format.
    public func play(flows: URL, locales: URL) async throws -> String {
        let from = Self.parties[""]!
        let byMask = Dictionary(Self.parties.map { ($0.value.masked, $0.key) }, uniquingKeysWith: { a, _ in a })
        let dir = try TemporaryDirectory(prefix: "lantern-transcript")
        defer { dir.remove() }
        let clock = TestClock()
        let outbox = Mutex<[Sent]>([])
        // Reproducible "randomness": reference codes are the same on every run.
        let counter = Mutex<UInt64>(0x5EED)
        let random: @Sendable () -> UInt64 = { counter.withLock { $0 = $0 &* 6364136223846793005 &+ 1442695040888963407; return $0 } }
        var config = LanternConfiguration(dataDirectory: dir.url, flowsDirectory: flows, localesDirectory: locales, sendRate: 0)
        config.providers.twilio = nil
        config.spot.onCallNumbers = onCall ? [Self.parties["O"]!] : []
        config.talk.peerNumbers = peers ? [Self.parties["P"]!, Self.parties["Q"]!] : []
        let lantern = try Lantern.boot(configuration: config, logger: Logger(label: "transcript") { _ in SwiftLogNoOpLogHandler() },
                                       console: { line in
                                           let parts = line.split(separator: "\n", maxSplits: 1)
                                           let text = parts.dropFirst().first.map(String.init) ?? ""
                                           // "[console] to +4477•••••456:": who it went to.
                                           let to = parts.first.flatMap { $0.range(of: " to ").map { parts[0][$0.upperBound...].dropLast() } }
                                           let party = to.flatMap { byMask[String($0)] } ?? "?"
                                           outbox.withLock { $0.append(Sent(party: party, text: text.hasSuffix("\n") ? String(text.dropLast()) : text)) }
                                       }, now: clock.nowFunction, random: random)
        var out: [String] = ["# \(name)"] + (onCall ? ["@ oncall"] : []) + (peers ? ["@ peers"] : [])
        var n = 0
        var pace: TimeInterval = 10
        for step in steps {
            switch step {
            case .inbound(let text, let party):
                n += 1
                // A person types a text in about ten seconds; at that pace nobody meets the
                // per-minute limit (limits have tests of their own).
                clock.advance(by: pace)
                out.append(">\(party) \(text)")
                _ = try await lantern.conversations.receive(
                    InboundMessage(provider: "console", messageID: "\(name)-\(n)", from: Self.parties[party]!, to: nil, text: text))
                while try await lantern.sender.sendBatch() > 0 {}
                out += Self.lines(replies: outbox.withLock { o in defer { o.removeAll() }; return o })
            case .wait(let seconds):
                // Minute by minute, as the timer would see it.
                var left = seconds
                while left > 0 {
                    clock.advance(by: min(left, 60))
                    left -= min(left, 60)
                    try await lantern.checkIns.runOnce()
                    if peers { try await lantern.housekeeping.runOnce() }
                }
                out.append("@ wait \(Self.format(seconds))")
                while try await lantern.sender.sendBatch() > 0 {}
                out += Self.lines(replies: outbox.withLock { o in defer { o.removeAll() }; return o })
            case .pace(let seconds):
                pace = seconds
                out.append("@ pace \(Self.format(seconds))")
            case .expect(let what):
                let contact = try await lantern.database.contact(for: from)
                let actual: String
                if what.hasPrefix("check-in") {
                    let state = try await lantern.database.checkInState(for: from)
                    out.append("? check-in " + (state.map { $0.status + ($0.hasPlace ? " with place" : "") } ?? "none"))
                    continue
                }
                switch (contact, contact?.conversation) {
                case (nil, _): actual = "erased"
                case (let c?, _) where what == "opted out" || what == "opted in": actual = c.isOptedOut ? "opted out" : "opted in"
                case (let c?, _) where what.hasPrefix("alerts"):
                    actual = "alerts " + (c.subscriptions.isEmpty ? "none" : c.subscriptions.joined(separator: ","))
                case (let c?, _) where what == "paused" || what == "not paused":
                    actual = (c.alertsPausedUntil ?? .distantPast) > clock.now ? "paused" : "not paused"
                case (_, let conv?) where conv.expiresAt > clock.now: actual = "waiting \(conv.flow)/\(conv.state)"
                default: actual = "idle"
                }
                out.append("? \(actual)")
            case .replies:
                break
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The expected transcript in the same normalised form `play` produces.
    public var normalised: String {
        var out: [String] = ["# \(name)"] + (onCall ? ["@ oncall"] : []) + (peers ? ["@ peers"] : [])
        for step in steps {
            switch step {
            case .inbound(let t, let party): out.append(">\(party) \(t)")
            case .replies(let rs): out += Self.lines(replies: rs)
            case .wait(let s): out.append("@ wait \(Self.format(s))")
            case .pace(let s): out.append("@ pace \(Self.format(s))")
            case .expect(let e): out.append("? \(e)")
            }
        }
        return out.joined(separator: "\n") + "\n"
    }
}

extension Transcript {
    /// Replies as transcript lines: each line "< …", "<---" between two replies.
    static func lines(replies unordered: [Sent]) -> [String] {
        // Texts to different people go out side by side, in no fixed order; each person's own
        // texts keep theirs. So: hers first, then each other person's, in order.
        let replies = unordered.enumerated().sorted { ($0.element.party, $0.offset) < ($1.element.party, $1.offset) }.map(\.element)
        var out: [String] = []
        for (i, reply) in replies.enumerated() {
            if i > 0 { out.append("<---") }
            out += visible(reply.text).split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "<\(reply.party)" : "<\(reply.party) " + $0 }
        }
        return out
    }

    /// The invisible direction marks (`BidiText`) written where a reader can see and check them.
    static func visible(_ text: String) -> String {
        let names: [Unicode.Scalar: String] = ["\u{200F}": "⟨RLM⟩", "\u{2066}": "⟨LRI⟩", "\u{2068}": "⟨FSI⟩", "\u{2069}": "⟨PDI⟩"]
        guard text.unicodeScalars.contains(where: { names[$0] != nil }) else { return text }
        return text.unicodeScalars.map { names[$0] ?? String($0) }.joined()
    }

    static func format(_ seconds: TimeInterval) -> String {
        let s = Int(seconds)
        if s % 3600 == 0 { return "\(s / 3600)h" }
        if s % 60 == 0 { return "\(s / 60)m" }
        return "\(s)s"
    }
}

public struct TranscriptError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
