import Foundation
import LanternCore
import LanternProviders
import LanternServer
import Logging
import Synchronization

/// A golden conversation: lines of `> inbound` and `< reply` (a reply's lines each start with
/// `< `; `<---` separates two replies to one text), plus `@ wait 31m` to move the clock and
/// `? opted out` / `? opted in` / `? erased` / `? waiting flow/state` / `? idle` /
/// `? alerts BS5,M14` (or `none`) / `? paused` / `? not paused` to check state.
/// Run against the shipped flows through the real store and outbox.
public struct Transcript: Sendable {
    public enum Step: Sendable, Equatable {
        case inbound(String)
        case replies([String])
        case wait(TimeInterval)
        /// How long each text takes to type from here on (default 10 s): `@ pace 1s` sends
        /// them fast enough to meet the per-minute limit.
        case pace(TimeInterval)
        case expect(String)
    }

    public let name: String
    public let steps: [Step]

    public init(name: String, text: String) throws {
        self.name = name
        var steps: [Step] = []
        var replyLines: [String] = []
        var replies: [String] = []
        func flushReply() {
            if !replyLines.isEmpty { replies.append(replyLines.joined(separator: "\n")); replyLines = [] }
        }
        func flushReplies() {
            flushReply()
            if !replies.isEmpty { steps.append(.replies(replies)); replies = [] }
        }
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.hasPrefix("<---") { flushReply(); continue }
            if line == "<" { replyLines.append(""); continue }
            if line.hasPrefix("< ") { replyLines.append(String(line.dropFirst(2))); continue }
            flushReplies()
            if line.hasPrefix("> ") || line == ">" { steps.append(.inbound(String(line.dropFirst(2)))) }
            else if line.hasPrefix("@ wait ") || line.hasPrefix("@ pace ") {
                let spec = line.dropFirst(7).trimmingCharacters(in: .whitespaces)
                let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
                guard let u = spec.last, let mult = units[u], let v = Double(spec.dropLast()) else {
                    throw TranscriptError(message: "\(name):\(n + 1): bad duration '\(spec)'")
                }
                steps.append(line.hasPrefix("@ wait ") ? .wait(v * mult) : .pace(v * mult))
            } else if line.hasPrefix("? ") { steps.append(.expect(String(line.dropFirst(2)))) }
            else if line.hasPrefix("#") || line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            else { throw TranscriptError(message: "\(name):\(n + 1): cannot read '\(line)'") }
        }
        flushReplies()
        self.steps = steps
    }

    /// Plays the inbound texts and returns the transcript as it actually happened, in the same format.
    public func play(flows: URL, locales: URL, from: PhoneNumber = PhoneNumber("+447700900123")!) async throws -> String {
        let dir = try TemporaryDirectory(prefix: "lantern-transcript")
        defer { dir.remove() }
        let clock = TestClock()
        let outbox = Mutex<[String]>([])
        // Reproducible "randomness": reference codes are the same on every run.
        let counter = Mutex<UInt64>(0x5EED)
        let random: @Sendable () -> UInt64 = { counter.withLock { $0 = $0 &* 6364136223846793005 &+ 1442695040888963407; return $0 } }
        var config = LanternConfiguration(dataDirectory: dir.url, flowsDirectory: flows, localesDirectory: locales, sendRate: 0)
        config.providers.twilio = nil
        let lantern = try Lantern.boot(configuration: config, logger: Logger(label: "transcript") { _ in SwiftLogNoOpLogHandler() },
                                       console: { line in
                                           let text = line.split(separator: "\n", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
                                           outbox.withLock { $0.append(text.hasSuffix("\n") ? String(text.dropLast()) : text) }
                                       }, now: clock.nowFunction, random: random)
        var out: [String] = ["# \(name)"]
        var n = 0
        var pace: TimeInterval = 10
        for step in steps {
            switch step {
            case .inbound(let text):
                n += 1
                // A person types a text in about ten seconds; at that pace nobody meets the
                // per-minute limit (limits have tests of their own).
                clock.advance(by: pace)
                out.append("> \(text)")
                _ = try await lantern.conversations.receive(
                    InboundMessage(provider: "console", messageID: "\(name)-\(n)", from: from, to: nil, text: text))
                while try await lantern.sender.sendBatch() > 0 {}
                out += Self.lines(replies: outbox.withLock { o in defer { o.removeAll() }; return o })
            case .wait(let seconds):
                clock.advance(by: seconds)
                out.append("@ wait \(Self.format(seconds))")
            case .pace(let seconds):
                pace = seconds
                out.append("@ pace \(Self.format(seconds))")
            case .expect(let what):
                let contact = try await lantern.database.contact(for: from)
                let actual: String
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
        var out: [String] = ["# \(name)"]
        for step in steps {
            switch step {
            case .inbound(let t): out.append("> \(t)")
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
    static func lines(replies: [String]) -> [String] {
        var out: [String] = []
        for (i, reply) in replies.enumerated() {
            if i > 0 { out.append("<---") }
            out += reply.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "<" : "< " + $0 }
        }
        return out
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
