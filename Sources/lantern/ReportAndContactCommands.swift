import ArgumentParser
import Foundation
import LanternCore
import LanternServer
import LanternStore
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif


struct Reports: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bad-batch reports.", subcommands: [Reply.self])

    struct Reply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answer the person who sent a report, by its reference (you never see her number).")
        @OptionGroup var connection: AdminConnection
        @Argument var ref: String
        @Argument var text: String
        func run() async throws {
            _ = try await connection.call(.replyToReport(ref, text))
            print("queued for \(ref)")
        }
    }
}

struct Spot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check-ins (SPOT): counts only, never who.", subcommands: [Counts.self])

    struct Counts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check-ins started, ended OK, escalated to a buddy, answered by a buddy, unanswered.")
        @OptionGroup var connection: AdminConnection
        @Option(help: "Days to count back, 1 to 90.") var days = 7
        func run() async throws {
            let data = try await connection.call(.spotCounts(days: days))
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

struct Contacts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Erase or block a person by number (the number is read from standard input when not given, so it stays out of shell history).",
        subcommands: [Forget.self, Block.self, Unblock.self])

    struct Number: ParsableArguments {
        @Argument(help: "The number, e.g. +447700900123 (omit to type it in).") var number: String?

        func resolve() throws -> PhoneNumber {
            var raw = number
            if raw == nil {
                FileHandle.standardError.write(Data("number: ".utf8))
                raw = readLine()
            }
            guard let n = raw.flatMap({ PhoneNumber($0.trimmingCharacters(in: .whitespaces)) }) else {
                throw ValidationError("that is not a phone number (use +44…)")
            }
            return n
        }
    }

    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Erase everything Lantern holds about a number, as if she had texted FORGET.")
        @OptionGroup var connection: AdminConnection
        @OptionGroup var number: Number
        func run() async throws {
            _ = try await connection.call(.forget(try number.resolve()))
            print("erased: Lantern holds nothing for this number now")
        }
    }

    struct Block: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop answering a number that abuses the service (STOP and FORGET still work for it).")
        @OptionGroup var connection: AdminConnection
        @OptionGroup var number: Number
        func run() async throws {
            _ = try await connection.call(.block(try number.resolve(), true))
            print("blocked")
        }
    }

    struct Unblock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answer a blocked number again.")
        @OptionGroup var connection: AdminConnection
        @OptionGroup var number: Number
        func run() async throws {
            _ = try await connection.call(.block(try number.resolve(), false))
            print("unblocked")
        }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Who did what and when (never what it said or whom it was about). Needs an admin token.")
    @OptionGroup var connection: AdminConnection
    @Option(help: "How many entries, newest first.") var limit = 100
    func run() async throws {
        let data = try await connection.call(.audit(limit))
        if connection.json { print(String(decoding: data, as: UTF8.self)); return }
        for r in try AdminJSON.decoder.decode([AuditEntry].self, from: data) {
            print("\(r.at.formatted(.iso8601))\t\(r.actor)\t\(r.action)\(r.subject.map { "\t\($0)" } ?? "")")
        }
    }
}
