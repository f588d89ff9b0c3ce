import ArgumentParser
import Foundation
import LanternCore
import LanternServer
import LanternStore
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif


extension KitInfo.Status: ExpressibleByArgument {}
extension KitCloseReason: ExpressibleByArgument {}

struct Kits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Naloxone kit requests: the queue, one request (with its address), marking them sent, collected or cancelled.",
        subcommands: [List.self, Show.self, Mark.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open requests, oldest first (--all for closed ones too).")
        @OptionGroup var connection: AdminConnection
        @Flag(help: "Include closed requests.") var all = false
        func run() async throws {
            let data = try await connection.call(.kits(all: all))
            if connection.json { print(String(decoding: data, as: UTF8.self)); return }
            for k in try AdminJSON.decoder.decode([KitSummary].self, from: data) {
                print("\(k.ref)\t\(k.status.rawValue)\t\(k.kind)\t\(k.method)\(k.pickup.map { " (\($0))" } ?? "")\t\(k.createdAt.formatted(.iso8601))")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One request, with its address (this view is recorded in the audit log).")
        @OptionGroup var connection: AdminConnection
        @Argument var ref: String
        func run() async throws {
            let data = try await connection.call(.kit(ref))
            if connection.json { print(String(decoding: data, as: UTF8.self)); return }
            let k = try AdminJSON.decoder.decode(KitDetail.self, from: data)
            print("\(k.summary.ref) \(k.summary.status.rawValue): \(k.summary.kind), \(k.summary.method)\(k.summary.pickup.map { " from \($0)" } ?? "")")
            if let address = k.address { print(address) }
        }
    }

    struct Mark: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a request: its address is deleted and she is told.")
        @OptionGroup var connection: AdminConnection
        @Argument var ref: String
        @Argument(help: "sent, collected or cancelled") var status: KitInfo.Status
        @Option(help: "Why (posted, collected, person_asked, duplicate, no_stock, unreachable, other); no free text is kept.")
        var reason: KitCloseReason?
        func run() async throws {
            let data = try await connection.call(.markKit(ref, status, reason))
            if connection.json { print(String(decoding: data, as: UTF8.self)); return }
            let k = try AdminJSON.decoder.decode(KitSummary.self, from: data)
            print("\(k.ref) \(k.status.rawValue)")
        }
    }
}
