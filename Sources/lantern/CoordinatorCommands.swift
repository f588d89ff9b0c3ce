import ArgumentParser
import Foundation
import LanternServer
import LanternStore

struct Coordinators: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accounts for the coordinator console in the browser (kept in the local database).",
        subcommands: [Invite.self, List.self])

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invite someone to the console: prints a link, valid once for 24 hours, where they choose a password and set up their authenticator app.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Their name in the console, e.g. alice.") var name: String
        @Option(help: "coordinator, or admin (also accounts, tokens and the audit log).") var role: AdminRole = .coordinator

        func run() async throws {
            var config = try loadConfiguration()
            common.apply(to: &config)
            let db = try openLocal(common)
            do {
                let token = try await db.inviteConsoleAccount(name: name, role: role, totpSecret: ConsoleAccess.newSecret(),
                                                              by: "lantern-cli", validFor: config.console.inviteLifetime, now: Date())
                print("\(config.consoleBaseURL)/console/invite/\(token)")
                FileHandle.standardError.write(Data("Invite for \(name) (\(role.rawValue)), valid once for 24 hours. Send it to them privately.\n".utf8))
            } catch let e as ConsoleAccountError {
                throw ValidationError(e.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Console accounts: names, roles, and whether each is waiting for its invite to be used or locked.")
        @OptionGroup var common: CommonOptions
        func run() async throws {
            for a in try await openLocal(common).consoleAccounts() {
                let state = a.isPending ? "invited" : (a.lockedUntil.map { $0 > Date() ? "locked until \($0.formatted(.iso8601))" : "active" } ?? "active")
                print("\(a.name)\t\(a.role.rawValue)\t\(state)")
            }
        }
    }
}
