import ArgumentParser
import Foundation
import LanternServer

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The settings Lantern would start with.", subcommands: [Check.self])

    /// Checks the settings as `lantern serve` would read them, before a live service is restarted.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every setting Lantern reads, its value (secrets hidden) and where it came from (environment, file or default), and the flows check; exit 1 on any problem.")

        func run() async throws {
            let sources: SettingSources
            let config: LanternConfiguration
            do {
                sources = try SettingSources()
                config = try LanternConfiguration.read(from: sources)
            } catch {
                FileHandle.standardError.write(Data("problem: \(error)\n".utf8))
                throw ExitCode(1)
            }
            let origins = sources.origins
            let width = origins.keys.map(\.count).max() ?? 0
            for name in origins.keys.sorted() {
                let origin = origins[name] ?? .default
                let shown: String
                if origin == .default {
                    shown = "(default)"
                } else if SettingSources.isSecret(name) {
                    shown = "(set, hidden)"
                } else {
                    shown = sources.value(name) ?? ""
                }
                print("\(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(shown)  [\(origin.rawValue)]")
            }
            let files = FlowFiles(flowsDirectory: config.flowsDirectory, localesDirectory: config.localesDirectory)
            let (library, diagnostics) = files.loadAndCheck()
            let errors = diagnostics.filter { $0.severity == .error }
            for d in errors { print(d) }
            print("settings: ok; flows: \(library.flows.count) flows, \(library.catalogues.count) locales, \(errors.count) error(s)")
            if !errors.isEmpty { throw ExitCode(1) }
        }
    }
}
