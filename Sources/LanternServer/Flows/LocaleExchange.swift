import Foundation
import LanternCore

/// Translations out to native speakers and back: a gettext PO file per language (what their
/// tools read), and its import into the locale's YAML, checked like `flows check` before it is
/// written. A reviewer's import records who read each message against which English text, so
/// a later change to the English marks the translation stale.
public struct LocaleExchange: Sendable {
    public let files: FlowFiles

    public init(files: FlowFiles) { self.files = files }

    public enum ExchangeError: Error, CustomStringConvertible {
        case unknownLocale(String)
        case english
        case noLanguage
        case unreadable(PortableObject.SyntaxError)
        case unknownMessages([String])
        case noContext(line: String)
        case refused([String])
        case file(String)

        public var description: String {
            switch self {
            case .unknownLocale(let l): "there is no locale '\(l)' in the locales directory (add locales/\(l).yaml first)"
            case .english: "\(defaultLocale) is the source language: edit locales/\(defaultLocale).yaml itself"
            case .noLanguage: "the PO file does not say its language (a 'Language:' header)"
            case .unreadable(let e): "the PO file cannot be read: \(e)"
            case .unknownMessages(let keys): "the PO file has messages English does not define: \(keys.joined(separator: ", "))"
            case .noContext(let id): "an entry has no msgctxt (the message key): \"\(id.prefix(40))\""
            case .refused(let problems): "not imported: the result would not pass flows check:\n" + problems.joined(separator: "\n")
            case .file(let why): why
            }
        }
    }

    // MARK: Export

    /// The PO file for one language: every English message a person may read, its translation
    /// (empty where there is none), and notes on its key, budget, wording and review.
    public func export(locale: String) throws(ExchangeError) -> String {
        let library = files.loadAndCheck().library
        guard locale != defaultLocale else { throw .english }
        guard let catalogue = library.catalogues[locale] else { throw .unknownLocale(locale) }
        guard let english = library.catalogues[defaultLocale] else { throw .unknownLocale(defaultLocale) }
        // English's messages in its file's order, each followed by this language's second text
        // for it, if it has one.
        let keys = english.messages.keys.filter { !FlowLibrary.coordinatorOnlyKeys.contains(FlowLibrary.plainKey($0)) }
            .sorted { (english.messages[$0]?.location?.line ?? 0, $0) < (english.messages[$1]?.location?.line ?? 0, $1) }
            .flatMap { key in catalogue.messages[key + FlowLibrary.continuationSuffix] == nil ? [key] : [key, key + FlowLibrary.continuationSuffix] }
        var entries: [PortableObject.Entry] = []
        for key in keys {
            guard let source = Self.source(key, in: english) else { continue }
            let own = catalogue.messages[key]
            var notes = ["key: \(key)"]
            if key.hasSuffix(FlowLibrary.continuationSuffix) {
                notes.append("second text: the rest of \(FlowCheck.sourceKey(key)) in this language, sent right after it (the first must stand on its own)")
            }
            if library.isSafetyCritical(key) { notes.append("SAFETY-CRITICAL: someone may read this in danger; keep every step and fact") }
            notes.append(Self.budget(source.maxSegments, ucs2: catalogue.rightToLeft || !Self.latin(catalogue)))
            notes.append(Self.wording(key, english: english, library: library, locale: locale))
            let placeholders = source.placeholders
            if !placeholders.isEmpty { notes.append("keep as they are: " + placeholders.map { "{\($0)}" }.joined(separator: " ")) }
            var flags: [String] = []
            switch own?.review {
            case nil: notes.append("review: not reviewed by a native speaker")
            case let r? where r.english == EnglishFingerprint.of(source.text):
                notes.append("review: reviewed by \(r.by) on \(r.on)")
            case let r?:
                notes.append("review: STALE: reviewed by \(r.by) on \(r.on) against an older English text")
                flags.append("fuzzy")
            }
            let reference = (own?.location ?? catalogue.location).map { "\($0.file):\($0.line)" }
            entries.append(.init(notes: notes, references: reference.map { [$0] } ?? [], flags: flags,
                                 context: key, id: source.text, translation: own?.text ?? ""))
        }
        let po = PortableObject(header: [
            ("Project-Id-Version", "Lantern"),
            ("Language", locale),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=UTF-8"),
            ("Content-Transfer-Encoding", "8bit"),
        ], entries: entries)
        return po.written(leadingComments: [
            "Lantern's messages in \(catalogue.name) (\(locale)), for translators and reviewers.",
            "Translate msgstr; msgctxt is the message's key. Import with:",
            "  lantern locales import FILE --reviewed-by \"Your Name\"",
            "Leave an entry marked fuzzy if you are not sure of it: it is imported but not marked reviewed.",
        ])
    }

    /// The English a translation is made from: a second text's is the message it continues.
    static func source(_ key: String, in english: Catalogue) -> MessageTemplate? {
        english.messages[key] ?? english.messages[FlowCheck.sourceKey(key)]
    }

    /// Whether the language is written in Latin letters (so a text can stay GSM-7).
    static func latin(_ catalogue: Catalogue) -> Bool {
        catalogue.name.unicodeScalars.allSatisfy { $0.value < 0x250 }
    }

    static func budget(_ segments: Int, ucs2: Bool) -> String {
        let gsm = segments == 1 ? 160 : 153 * segments
        let wide = segments == 1 ? 70 : 67 * segments
        let most = "at most \(segments) SMS segment\(segments == 1 ? "" : "s")"
        return ucs2 ? "length: \(most) (\(wide) characters in this script)"
            : "length: \(most) (\(gsm) characters; only \(wide) if any letter outside the SMS alphabet is used)"
    }

    static func wording(_ key: String, english: Catalogue, library: FlowLibrary, locale: String) -> String {
        if key.hasSuffix(FlowLibrary.discreetSuffix) {
            let words = library.catalogues[locale]?.telltaleWords ?? []
            return "wording: DISCREET: shown on a lock screen; must not name drugs, overdose or naloxone (no word starting " + words.joined(separator: ", ") + ")"
        }
        if english.messages[key + FlowLibrary.discreetSuffix] != nil {
            return "wording: plain: for people who chose PLAIN (a discreet version is its own entry)"
        }
        return "wording: everyone reads this one"
    }

    // MARK: Import

    public struct Imported: Sendable, Equatable {
        public var locale: String
        /// Messages whose words changed.
        public var changed: [String] = []
        /// Messages now marked reviewed.
        public var reviewed: [String] = []
        /// Translations made from an English text that has changed since: imported, not reviewed.
        public var outdated: [String] = []
        /// Whether the file was written (nothing is written when nothing changed).
        public var written = false
    }

    /// Reads a PO file back into its locale's YAML. With `reviewer`, every entry that is not
    /// fuzzy and was translated from today's English is marked reviewed by them on `today`.
    /// A changed translation that is not reviewed loses any review it had.
    public func importPO(_ text: String, reviewer: String? = nil, today: String) throws(ExchangeError) -> Imported {
        let po: PortableObject
        do { po = try PortableObject.parse(text) } catch { throw .unreadable(error) }
        guard let locale = po.headerValue("Language"), !locale.isEmpty else { throw .noLanguage }
        guard locale != defaultLocale else { throw .english }
        let loaded = files.load()
        guard let catalogue = loaded.library.catalogues[locale] else { throw .unknownLocale(locale) }
        guard let english = loaded.library.catalogues[defaultLocale] else { throw .unknownLocale(defaultLocale) }
        let url = files.localesDirectory.appendingPathComponent("\(locale).yaml")
        guard let original = try? String(contentsOf: url, encoding: .utf8) else { throw .file("cannot read \(url.path)") }

        var editor = LocaleFileEditor(original)
        var result = Imported(locale: locale)
        var unknown: [String] = []
        let reviewer = reviewer?.trimmingCharacters(in: .whitespaces)
        for entry in po.entries {
            guard let key = entry.context else { throw .noContext(line: entry.id) }
            guard let source = Self.source(key, in: english) else { unknown.append(key); continue }
            let translation = entry.translation
            guard !translation.isEmpty else { continue }
            let current = catalogue.messages[key]
            let upToDate = entry.id == source.text
            if !upToDate { result.outdated.append(key) }
            do {
                if current?.text != translation {
                    try editor.setText(key, translation, segments: current?.maxSegments ?? source.maxSegments)
                    result.changed.append(key)
                }
                if let reviewer, !reviewer.isEmpty, upToDate, !entry.isFuzzy {
                    let review = MessageReview(by: reviewer, on: today, english: EnglishFingerprint.of(source.text))
                    // Read again against the same English, unchanged: the first review stands.
                    let same = current?.review.map { $0.english == review.english && $0.by == review.by } ?? false
                    if !same || current?.text != translation {
                        try editor.setReview(key, review)
                        result.reviewed.append(key)
                    }
                } else if current?.text != translation, current?.review != nil {
                    try editor.setReview(key, nil)
                }
            } catch {
                throw .file(error.description)
            }
        }
        guard unknown.isEmpty else { throw .unknownMessages(unknown) }
        let updated = editor.text
        guard updated != original else { return result }
        try refuseNewProblems(replacing: "\(locale).yaml", with: updated)
        do {
            try Data(updated.utf8).write(to: url, options: .atomic)
        } catch {
            throw .file("cannot write \(url.path): \(error.localizedDescription)")
        }
        result.written = true
        return result
    }

    /// Checks the locales with one file replaced, in a scratch copy; refuses errors the files
    /// did not already have (someone else's broken file is not this import's fault).
    private func refuseNewProblems(replacing name: String, with text: String) throws(ExchangeError) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-import-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            for file in try FileManager.default.contentsOfDirectory(atPath: files.localesDirectory.path) where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
                try FileManager.default.copyItem(at: files.localesDirectory.appendingPathComponent(file), to: scratch.appendingPathComponent(file))
            }
            try Data(text.utf8).write(to: scratch.appendingPathComponent(name))
        } catch {
            throw .file("cannot prepare the check: \(error.localizedDescription)")
        }
        // Compared by file name and words: lines move when an import adds a review.
        func errors(_ dir: URL) -> [(same: String, shown: String)] {
            let checked = FlowFiles(flowsDirectory: files.flowsDirectory, localesDirectory: dir).loadAndCheck()
            return checked.diagnostics.filter { $0.severity == .error }.map { d in
                let file = d.location.map { URL(fileURLWithPath: $0.file).lastPathComponent } ?? ""
                let at = d.location.map { "locales/\(URL(fileURLWithPath: $0.file).lastPathComponent):\($0.line): " } ?? ""
                return ("\(file)|\(d.message)", at + d.message)
            }
        }
        let before = Set(errors(files.localesDirectory).map(\.same))
        let new = errors(scratch).filter { !before.contains($0.same) }.map(\.shown)
        if !new.isEmpty { throw .refused(new) }
    }
}
