import ArgumentParser
import Foundation
import LanternCore
import LanternServer
import LanternStore
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif


struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Admin API tokens (kept in the local database; only a hash is stored).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it once.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Who it is for, e.g. a coordinator's first name.") var name: String
        @Option(help: "coordinator (broadcasts) or admin (also tokens).") var role: AdminRole = .coordinator

        func run() async throws {
            let db = try openLocal(common)
            do {
                let token = try await db.createAdminToken(name: name, role: role, by: "lantern-cli", now: Date())
                print(token)
                FileHandle.standardError.write(Data("Token for \(name) (\(role.rawValue)). It is shown only this once: store it safely.\n".utf8))
            } catch let e as AdminTokenError {
                throw ValidationError(e.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (names and roles, never the tokens).")
        @OptionGroup var common: CommonOptions
        func run() async throws {
            for t in try await openLocal(common).adminTokens() {
                print("\(t.name)\t\(t.role.rawValue)\tcreated \(t.createdAt.formatted(.iso8601))\(t.revokedAt.map { "\trevoked \($0.formatted(.iso8601))" } ?? "")")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by name.")
        @OptionGroup var common: CommonOptions
        @Argument var name: String
        func run() async throws {
            guard try await openLocal(common).revokeAdminToken(name: name, by: "lantern-cli", now: Date()) else {
                throw ValidationError("no live token named '\(name)'")
            }
            print("revoked \(name)")
        }
    }
}

extension AdminRole: ExpressibleByArgument {}

func openLocal(_ common: CommonOptions) throws -> AppDatabase {
    var config = try loadConfiguration()
    common.apply(to: &config)
    restrictFileModes()
    do { return try Lantern.openDatabase(config) } catch { throw ValidationError("\(error)") }
}
