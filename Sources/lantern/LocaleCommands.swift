import ArgumentParser
import Foundation
import LanternCore
import LanternServer

/// Translators' path: a PO file out per language, and back in with a reviewer's name.
struct Locales: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a language for translators (gettext PO) and import their work.",
        subcommands: [Export.self, Import.self])

    enum Format: String, ExpressibleByArgument { case po }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a language's messages as a PO file (English as msgid, notes on key, length, wording and review).")

        @OptionGroup var common: CommonOptions
        @Option(help: "File format (po).") var format: Format = .po
        @Option(name: .shortAndLong, help: "Write here instead of standard output.") var output: String?
        @Argument(help: "The language's tag, as its file is named in locales/ (pl, ur…).") var locale: String

        func run() async throws {
            var config = try loadConfiguration()
            common.apply(to: &config)
            let exchange = LocaleExchange(files: FlowFiles(flowsDirectory: config.flowsDirectory, localesDirectory: config.localesDirectory))
            let po: String
            do { po = try exchange.export(locale: locale) } catch {
                throw ValidationError(error.description)
            }
            if let output {
                try Data(po.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
                print("Wrote \(output)")
            } else {
                print(po, terminator: "")
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a translated PO file into its locale's YAML, after the same checks as flows check.")

        @OptionGroup var common: CommonOptions
        @Option(name: .customLong("reviewed-by"), help: "The native speaker who read every entry not marked fuzzy against the English.")
        var reviewer: String?
        @Argument(help: "The PO file.") var file: String

        func run() async throws {
            var config = try loadConfiguration()
            common.apply(to: &config)
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("cannot read \(file) (it must be UTF-8)")
            }
            let exchange = LocaleExchange(files: FlowFiles(flowsDirectory: config.flowsDirectory, localesDirectory: config.localesDirectory))
            let today = Date().formatted(.iso8601.year().month().day())
            let result: LocaleExchange.Imported
            do { result = try exchange.importPO(text, reviewer: reviewer, today: today) } catch {
                print(error.description)
                throw ExitCode(1)
            }
            print("\(result.locale): \(result.changed.count) message(s) changed, \(result.reviewed.count) marked reviewed"
                  + (reviewer == nil ? "" : " by \(reviewer!)") + (result.written ? "" : "; nothing to write"))
            if !result.outdated.isEmpty {
                print("Translated from an older English text, so not marked reviewed: \(result.outdated.joined(separator: ", "))")
            }
        }
    }
}
