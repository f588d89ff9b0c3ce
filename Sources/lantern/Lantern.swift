import ArgumentParser
import Foundation
import LanternCore
import LanternProviders
import LanternServer
import Logging
import Metrics
import Prometheus

#if canImport(Glibc)
import Glibc
#endif

@main
struct LanternCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lantern",
        abstract: "An SMS gateway bot for harm-reduction services.",
        subcommands: [Serve.self, Chat.self, Config.self, Flows.self, Locales.self, Broadcast.self, Kits.self, Reports.self, Spot.self, Contacts.self, Coordinators.self, Audit.self, Tokens.self, Keys.self, Backup.self, Restore.self]
    )
}

/// Options shared by commands that run the engine. Everything else comes from LANTERN_* variables.
struct CommonOptions: ParsableArguments {
    @Option(help: "Where the database and keys live (default ./.lantern, or LANTERN_DATA_DIR).")
    var dataDir: String?
    @Option(help: "Flow files (default ./flows, or LANTERN_FLOWS_DIR).")
    var flows: String?
    @Option(help: "Locale files (default ./locales, or LANTERN_LOCALES_DIR).")
    var locales: String?

    func apply(to c: inout LanternConfiguration) {
        if let dataDir { c.dataDirectory = URL(fileURLWithPath: dataDir) }
        if let flows { c.flowsDirectory = URL(fileURLWithPath: flows) }
        if let locales { c.localesDirectory = URL(fileURLWithPath: locales) }
    }
}

func loadConfiguration() throws -> LanternConfiguration {
    do {
        return try LanternConfiguration.fromEnvironment()
    } catch {
        throw ValidationError("configuration: \(error)")
    }
}

/// Every file Lantern creates (database, WAL, keys) is readable by its owner only.
func restrictFileModes() {
    umask(0o077)
}

func bootstrapLogging(level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the webhook daemon (console provider when no SMS account is configured).")

    @OptionGroup var common: CommonOptions
    @Option(help: "Address to listen on (default 127.0.0.1, or LANTERN_HOST).") var host: String?
    @Option(help: "Port to listen on (default 8080, or LANTERN_PORT).") var port: Int?

    func run() async throws {
        Lantern.shareThreadsWithTheServer()
        var config = try loadConfiguration()
        common.apply(to: &config)
        if let host { config.host = host }
        if let port { config.port = port }
        restrictFileModes()
        bootstrapLogging(level: config.logLevel)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "lantern")
        let lantern: Lantern
        // One server per data directory; a restore waits for it to stop.
        try? FileManager.default.createDirectory(at: config.dataDirectory, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        guard let lock = DataDirectoryLock(directory: config.dataDirectory) else {
            FileHandle.standardError.write(Data("lantern: another lantern serve is using \(config.dataDirectory.path)\n".utf8))
            throw ExitCode(1)
        }
        defer { withExtendedLifetime(lock) {} }
        do {
            lantern = try Lantern.boot(configuration: config, logger: logger, metrics: registry)
        } catch {
            FileHandle.standardError.write(Data("lantern: \(error)\n".utf8))
            throw ExitCode(1)
        }
        for warning in lantern.flowWarnings { logger.notice("flows: \(warning)") }
        let providerNames = lantern.providers.keys.sorted().joined(separator: ",")
        logger.info("lantern starting", metadata: [
            "data_dir": "\(config.dataDirectory.path)", "providers": "\(providerNames)",
            "flows": "\(lantern.library.flows.count)", "send_rate": "\(config.sendRate)",
        ])
        if lantern.providers["console"] != nil {
            logger.notice("no SMS provider configured: replies are printed here. Try: curl --data-urlencode From=+447700900123 --data-urlencode Body=MENU http://\(config.host):\(config.port)/webhooks/console")
        }
        let host = config.host
        do {
            try await lantern.run { port in
                logger.info("listening", metadata: ["address": "\(host):\(port)"])
            }
        } catch let error as ServeError {
            FileHandle.standardError.write(Data("lantern: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Try the flows in the terminal, against a local test database (no phone, no account).")

    @OptionGroup var common: CommonOptions
    @Option(help: "The test number you are texting from.") var from: String = "+447700900001"

    func run() async throws {
        var config = try loadConfiguration()
        common.apply(to: &config)
        // A database of its own, so trying things out never mixes with real contacts.
        config.dataDirectory = config.dataDirectory.appendingPathComponent("chat")
        // Whatever providers are configured, chat answers here, never through one of them.
        config.providers = ProviderSettings()
        config.host = "127.0.0.1"
        config.limits.allowedCountryCodes = ["*"]
        config.sendRate = 0
        guard let number = PhoneNumber(from) else { throw ValidationError("--from must be a phone number, e.g. +447700900001") }
        restrictFileModes()
        bootstrapLogging(level: .warning)
        let lantern: Lantern
        do {
            lantern = try Lantern.boot(configuration: config, logger: Logger(label: "lantern"),
                                       console: { line in
                                           // The console provider prints "[console] to …:\n<text>"; show just the text.
                                           let text = line.split(separator: "\n", maxSplits: 1).dropFirst().first.map(String.init) ?? line
                                           print(text.split(separator: "\n", omittingEmptySubsequences: false)
                                               .map { "< " + TerminalText.isolated(String($0)) }.joined(separator: "\n"))
                                       })
        } catch {
            FileHandle.standardError.write(Data("lantern: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("Texting as \(number.masked). Type a message and press Enter; Ctrl-D to finish.")
        while true {
            print("> ", terminator: "")
            fflush(nil)
            guard let line = readLine() else { print(""); break }
            let message = InboundMessage(provider: "console", messageID: UUID().uuidString, from: number, to: nil, text: line)
            _ = try await lantern.conversations.receive(message)
            while try await lantern.sender.sendBatch() > 0 {}
        }
    }
}

struct Flows: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Work with flow and locale files.", subcommands: [Check.self, Recognise.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate flows and locales: missing words, unreachable states, duplicate keywords, placeholders, SMS length.")

        @OptionGroup var common: CommonOptions
        @Flag(help: "Also list every message with its encoding and segment count.") var list = false

        func run() async throws {
            var config = try loadConfiguration()
            common.apply(to: &config)
            let files = FlowFiles(flowsDirectory: config.flowsDirectory, localesDirectory: config.localesDirectory)
            let (library, diagnostics) = files.loadAndCheck()
            if list {
                let check = FlowCheck(library: library)
                for locale in library.catalogues.keys.sorted() {
                    for m in check.measure(locale: locale) {
                        print("\(locale)\t\(m.key)\t\(m.count.encoding.rawValue)\t\(m.count.units) chars\t\(m.count.segments)/\(m.budget) segments")
                    }
                }
            }
            for d in diagnostics { print(d) }
            let errors = diagnostics.filter { $0.severity == .error }.count
            let warnings = diagnostics.count - errors
            print("\(library.flows.count) flows, \(library.catalogues.count) locales: \(errors) error(s), \(warnings) warning(s)")
            if errors > 0 { throw ExitCode(1) }
        }
    }
}

extension Flows {
    /// Tries the emergency recogniser on words a coordinator types, showing which entries of
    /// which locale matched and what cancelled them: how to check a new phrase before it ships.
    struct Recognise: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what the emergency recogniser makes of a text (try new phrases before they ship).")

        @OptionGroup var common: CommonOptions
        @Argument(help: "The text to try, in quotes.") var text: String

        func run() async throws {
            var config = try loadConfiguration()
            common.apply(to: &config)
            let (library, diagnostics) = FlowFiles(flowsDirectory: config.flowsDirectory, localesDirectory: config.localesDirectory).loadAndCheck()
            for d in diagnostics where d.severity == .error { print(d) }
            let (found, explanations) = library.recogniser.explain(text)
            for line in explanations { print(TerminalText.isolated(line.description)) }
            if found.isEmergency {
                print("=> \(found.intents.map(\.rawValue).joined(separator: ", ")) (\(found.locales.joined(separator: ", ")))")
            } else if found.maybe {
                print("=> maybe: not sure, so the 999 line first, then the usual answer")
            } else if found.police {
                print("=> police: the honest answer about police and social services")
            } else {
                print("=> not an emergency")
            }
        }
    }
}

/// Right-to-left lines (Urdu) shown in a terminal: wrapped in a Unicode right-to-left isolate so
/// the words run in the right order and the "< " prompt stays on the left. Display only: texts
/// are sent as `BidiText` laid them out (a right-to-left mark starts each line).
enum TerminalText {
    static func isolated(_ line: String) -> String {
        let rtl = BidiText.isRightToLeft(line)
        return rtl ? "\u{2067}" + line + "\u{2069}" : line
    }
}
