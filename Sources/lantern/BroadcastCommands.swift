import ArgumentParser
import Foundation
import LanternCore
import LanternServer
import LanternStore
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif


struct Broadcast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bad-batch alerts to subscribers: preview, send, status, cancel, approve.",
        subcommands: [Preview.self, Send.self, Status.self, Cancel.self, Approve.self])

    struct Content: ParsableArguments {
        @Option(help: "The alert's words (English).") var text: String?
        @Option(help: "The words for people who asked for discreet wording (no drug or naloxone names).") var discreetText: String?
        @Option(help: "A pre-written alert from locales/, e.g. nitazenes.") var template: String?
        @Option(help: "Areas, comma-separated: districts (BS5), area names, or all.") var areas: String
        @Flag(help: "The report is confirmed (otherwise it says 'Unconfirmed report').") var confirmed = false
        @Option(help: "Hours until it is stale and is no longer sent (default 6).") var expiresIn: Double?
        @Flag(help: "Wait for a second coordinator to approve before sending.") var requiresApproval = false
        @Flag(help: "Send the plain words to everyone, discreet subscribers too (their lock screens will show them).")
        var plainForEveryone = false

        var request: BroadcastRequest {
            let both = discreetText.map { d in text.map { [defaultLocale: $0, defaultLocale + BroadcastDraft.discreetSuffix: d] } } ?? nil
            return BroadcastRequest(text: both == nil ? text : nil, texts: both, template: template,
                                    areas: areas.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                                    expiresInHours: expiresIn, confirmed: confirmed, requiresApproval: requiresApproval ? true : nil,
                                    plainForEveryone: plainForEveryone ? true : nil)
        }
    }

    struct Preview: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Who would get it, how long it is, how long it takes, what it costs.")
        @OptionGroup var connection: AdminConnection
        @OptionGroup var content: Content
        func run() async throws {
            let data = try await connection.call(.preview(content.request))
            if connection.json { print(String(decoding: data, as: UTF8.self)); return }
            let p = try AdminJSON.decoder.decode(BroadcastPreview.self, from: data)
            print("Recipients: \(p.recipients) in \(p.areas.joined(separator: ", "))")
            for m in p.messages {
                print("[\(m.locale)] \(m.segments) segment(s), \(m.encoding), \(m.characters) characters, \(m.recipients) recipient(s)")
                if !m.nonGSMCharacters.isEmpty { print("  these characters make it UCS-2 (costlier): \(m.nonGSMCharacters.joined(separator: " "))") }
                print(m.text.split(separator: "\n", omittingEmptySubsequences: false).map { "  | " + $0 }.joined(separator: "\n"))
            }
            print(String(format: "Total: %d segments, about %.0f s to send, about %.2f %@", p.totalSegments, p.estimatedSeconds, p.estimatedCost, p.currency))
            print("Stops being sent at \(p.expiresAt.formatted(.iso8601))\(p.requiresApproval ? "; needs a second coordinator to approve" : "")")
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send an alert now (or put it up for approval).")
        @OptionGroup var connection: AdminConnection
        @OptionGroup var content: Content
        func run() async throws {
            let data = try await connection.call(.send(content.request))
            try show(data, json: connection.json)
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Progress of one broadcast, or list recent ones.")
        @OptionGroup var connection: AdminConnection
        @Argument var id: Int64?
        func run() async throws {
            guard let id else {
                let data = try await connection.call(.list)
                if connection.json { print(String(decoding: data, as: UTF8.self)); return }
                for b in try AdminJSON.decoder.decode([BroadcastSummary].self, from: data) { print(line(b)) }
                return
            }
            try show(try await connection.call(.status(id)), json: connection.json)
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop everything not yet sent.")
        @OptionGroup var connection: AdminConnection
        @Argument var id: Int64
        func run() async throws { try show(try await connection.call(.cancel(id)), json: connection.json) }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve another coordinator's broadcast so it goes out.")
        @OptionGroup var connection: AdminConnection
        @Argument var id: Int64
        func run() async throws { try show(try await connection.call(.approve(id)), json: connection.json) }
    }
}

func line(_ b: BroadcastSummary) -> String {
    let c = b.counts
    return "#\(b.id) \(b.status.rawValue) \(b.areas.joined(separator: ",")) by \(b.createdBy): \(b.recipients) recipients, "
        + "\(c.queued + c.sending) queued, \(c.sent) sent, \(c.delivered) delivered, \(c.failed + c.unknown) failed, \(c.skipped) skipped; "
        + "expires \(b.expiresAt.formatted(.iso8601))"
}

func show(_ data: Data, json: Bool) throws {
    if json { print(String(decoding: data, as: UTF8.self)); return }
    print(line(try AdminJSON.decoder.decode(BroadcastSummary.self, from: data)))
}
