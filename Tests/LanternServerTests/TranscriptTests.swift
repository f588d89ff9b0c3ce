import Foundation
import LanternServer
import LanternTesting
import Testing

/// Golden transcripts of whole conversations over the shipped flows and wording. When wording
/// changes on purpose, run `LANTERN_UPDATE_TRANSCRIPTS=1 swift test --filter Transcript`
/// and review the diff: a transcript is what a mum would see on her phone.
/// One at a time: each boots a whole Lantern with the shipped library, and ninety at once would
/// crowd out the tests that bound wall time on a two-core machine.
@Suite(.serialized) struct TranscriptTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts")
    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".txt") }.sorted()

    @Test func thereAreTranscripts() {
        #expect(Self.files.count >= 6)
    }

    @Test(arguments: files)
    func transcript(_ file: String) async throws {
        let url = Self.directory.appendingPathComponent(file)
        let text = try String(contentsOf: url, encoding: .utf8)
        let name = String(file.dropLast(4))
        let transcript = try Transcript(name: name, text: text)
        let actual = try await transcript.play(flows: Repository.flows, locales: Repository.locales)
        if ProcessInfo.processInfo.environment["LANTERN_UPDATE_TRANSCRIPTS"] == "1" {
            // Keep the file's own comment lines at the top.
            let header = text.split(separator: "\n").prefix { $0.hasPrefix("#") }.map(String.init)
            let body = actual.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
            try (header.joined(separator: "\n") + "\n" + body).write(to: url, atomically: true, encoding: .utf8)
            return
        }
        #expect(actual == transcript.normalised, "transcript \(file) differs; actual:\n\(actual)")
    }
}
