import ArgumentParser
import Foundation
import LanternCore
import LanternServer
import LanternStore
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif


struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The keys that protect numbers and addresses.", subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt every number, address and sealed text under a new data key, while Lantern keeps running.",
            discussion: """
                With a key file: makes a new data key, re-encrypts everything, waits for a running `lantern serve` \
                to pick the new key up (it re-reads the key file every 2 s), re-encrypts anything written meanwhile, \
                then deletes the old key. With keys in the environment: put the new key in LANTERN_DATA_KEY (and \
                LANTERN_KEY_VERSION), the old one in LANTERN_RETIRED_DATA_KEYS=version:base64, restart, then run this \
                to re-encrypt; afterwards remove LANTERN_RETIRED_DATA_KEYS.
                """)
        @OptionGroup var common: CommonOptions
        @Option(help: "Seconds to wait for a running server to pick up the new key.") var settle: Double = 3

        func run() async throws {
            var config = try loadConfiguration()
            common.apply(to: &config)
            restrictFileModes()
            do {
                let done = try await KeyRotation(configuration: config, settle: .milliseconds(Int(settle * 1000))).run(by: "lantern-cli")
                print("data key version \(done.version): re-encrypted \(done.resealed) values\(done.fromEnvironment ? "; now remove LANTERN_RETIRED_DATA_KEYS" : "; the old key is deleted")")
            } catch let e as KeyRotation.Failure {
                throw ValidationError(e.description)
            } catch let e as BootError {
                throw ValidationError("\(e)")
            }
        }
    }
}
