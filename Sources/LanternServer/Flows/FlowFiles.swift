import Foundation
import Synchronization
import LanternCore
import Yams

/// Reads `flows/*.yaml` and `locales/*.yaml` into a `FlowLibrary`, keeping the file and line of
/// everything so problems point at the line a coordinator has to fix.
public struct FlowFiles: Sendable {
    public let flowsDirectory: URL
    public let localesDirectory: URL

    public init(flowsDirectory: URL, localesDirectory: URL) {
        self.flowsDirectory = flowsDirectory
        self.localesDirectory = localesDirectory
    }

    public struct Loaded: Sendable {
        public let library: FlowLibrary
        /// Problems reading the files; `FlowCheck` adds the rest.
        public let diagnostics: [FlowDiagnostic]
    }

    /// Loads everything and runs `FlowCheck`. `errors` non-empty means the flows must not be served.
    /// The same files (by path, size and modification time) are read once per process: a daemon
    /// boots once, but a test run boots Lantern a few hundred times over the shipped files.
    public func loadAndCheck() -> (library: FlowLibrary, diagnostics: [FlowDiagnostic]) {
        let key = fingerprint()
        if let key, let known = Self.checked.withLock({ $0[key] }) { return known }
        let loaded = load()
        let all = loaded.diagnostics + FlowCheck(library: loaded.library).run()
        if let key { Self.checked.withLock { $0[key] = (loaded.library, all) } }
        return (loaded.library, all)
    }

    private static let checked = Mutex<[String: (library: FlowLibrary, diagnostics: [FlowDiagnostic])]>([:])

    /// Every file in both directories with its size and modification time; nil if a directory
    /// cannot be listed (then nothing is cached, and `load` says what is wrong).
    func fingerprint() -> String? {
        var parts: [String] = []
        for dir in [flowsDirectory, localesDirectory] {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return nil }
            parts.append(dir.standardizedFileURL.path)
            for name in names.sorted() {
                let attributes = try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path)
                let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
                let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
                parts.append("\(name)|\(size)|\(modified)")
            }
        }
        return parts.joined(separator: "\n")
    }

    public func load() -> Loaded {
        var diagnostics: [FlowDiagnostic] = []
        var flows: [Flow] = []
        var catalogues: [Catalogue] = []
        var areas: [NamedArea] = []
        var pickupPoints: [PickupPoint] = []
        var wording = Wording.discreet
        var covers: [String]?
        var talk = TalkHours()
        var supplies: [Supply] = []
        for url in yamlFiles(in: flowsDirectory, diagnostics: &diagnostics) {
            var reader = NodeReader(file: relativePath(url), diagnostics: [])
            if let node = reader.compose(url) {
                // A file with a top-level 'service:' holds the service's own data (its named areas).
                if let service = node.mapping?["service"] {
                    let data = reader.service(service)
                    areas += data.areas
                    pickupPoints += data.pickupPoints
                    wording = data.wording ?? wording
                    if let c = data.covers { covers = (covers ?? []) + c }
                    if service.mapping?["talk"] != nil { talk = data.talk }
                    supplies += data.supplies
                } else if let flow = reader.flow(node) {
                    flows.append(flow)
                }
            }
            diagnostics += reader.diagnostics
        }
        for url in yamlFiles(in: localesDirectory, diagnostics: &diagnostics) {
            var reader = NodeReader(file: relativePath(url), diagnostics: [])
            if let node = reader.compose(url), let catalogue = reader.catalogue(node) {
                let expected = url.deletingPathExtension().lastPathComponent
                if catalogue.locale != expected {
                    reader.error("locale '\(catalogue.locale)' is in a file named \(url.lastPathComponent); name it \(catalogue.locale).yaml", node)
                }
                catalogues.append(catalogue)
            }
            diagnostics += reader.diagnostics
        }
        return Loaded(library: FlowLibrary(flows: flows, catalogues: catalogues, areas: areas, pickupPoints: pickupPoints,
                                           defaultWording: wording, covers: covers, talkHours: talk, supplies: supplies),
                      diagnostics: diagnostics)
    }

    func yamlFiles(in dir: URL, diagnostics: inout [FlowDiagnostic]) -> [URL] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else {
            diagnostics.append(FlowDiagnostic(.error, "cannot read directory \(dir.path)", at: nil))
            return []
        }
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { dir.appendingPathComponent($0) }
    }

    func relativePath(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return url.path.hasPrefix(cwd) ? String(url.path.dropFirst(cwd.count)) : url.path
    }
}
