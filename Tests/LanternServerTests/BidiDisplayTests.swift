import Foundation
import LanternCore
import LanternTesting
import Testing
@testable import LanternServer

/// Every right-to-left message laid out by the Unicode bidirectional algorithm as a phone lays
/// it out (GNU FriBidi's `fribidi`, Debian's libfribidi-bin): each line reads right to left,
/// and every phone number shows in the order it is written. CI installs FriBidi and sets
/// LANTERN_BIDI_TESTS=required; elsewhere these are skipped when it is missing.
@Suite(.enabled(if: Fribidi.isInstalled || ProcessInfo.processInfo.environment["LANTERN_BIDI_TESTS"] == "required",
                "FriBidi is not installed (apt-get install libfribidi-bin); the bidi display tests are skipped"))
struct BidiDisplayTests {
    let library = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).loadAndCheck().library

    /// Numbers of several groups ("0808 2000 247"): the ones a right-to-left line turns round.
    static func groupedNumbers(in line: String) -> [String] {
        let pattern = try! Regex(#"\+?[0-9]+(?:[ ./:-][0-9]+)+"#)
        return line.matches(of: pattern).map { String(line[$0.range]) }.filter { $0.contains(" ") }
    }

    /// Every message of every right-to-left language, as sent (rendered, with its second text).
    func sentTexts() -> [(key: String, text: String)] {
        var out: [(String, String)] = []
        for catalogue in library.catalogues.values where catalogue.rightToLeft {
            // Each message with its second text, if it has one (sent as the flow sends them).
            for key in catalogue.messages.keys.sorted() where !key.hasSuffix(FlowLibrary.continuationSuffix) {
                // Values as they come: a name, areas in Latin letters, a reference.
                let values = ["name": "Sam", "areas": "BS5, M14", "ref": "K-4821", "talk_ref": "T-4821", "languages": library.languageList]
                let discreet = key.hasSuffix(FlowLibrary.discreetSuffix)
                for text in library.renderTexts(FlowLibrary.plainKey(key), locale: catalogue.locale, discreet: discreet, value: { values[$0] ?? FlowCheck.sampleValue }) {
                    out.append(("\(catalogue.locale) \(key)", text))
                }
            }
        }
        return out
    }

    @Test func everyRightToLeftLineReadsRightToLeftAndEveryNumberInItsWrittenOrder() throws {
        let texts = sentTexts()
        #expect(texts.count > 250, "the Urdu catalogue should be here")
        // A line with no letters or digits (a blank line between paragraphs) has no direction to keep.
        let lines = texts.flatMap { t in t.text.split(separator: "\n").map { (t.key, String($0)) } }
            .filter { $0.1.unicodeScalars.contains { $0.properties.isAlphabetic || ("0"..."9").contains($0) } }
        let shown = try Fribidi.display(lines.map(\.1))
        var numbers = 0
        for ((key, logical), (visual, direction)) in zip(lines, shown) {
            #expect(direction == "R", "\(key): a line laid out left to right: \(logical)")
            for number in Self.groupedNumbers(in: logical) {
                numbers += 1
                #expect(visual.contains(number), "\(key): \(number) shows as \(visual)")
            }
        }
        // The crisis lines, Family Rights Group and the rest: enough that the check means something.
        #expect(numbers >= 8, "only \(numbers) phone numbers found in the Urdu texts")
    }

    /// The check can fail: without the marks, FriBidi shows what a phone showed before.
    @Test func withoutTheMarksNumbersShowBackwards() throws {
        let raw = "قومی ہیلپ لائن 0808 2000 247 پر کال کریں"
        let shown = try Fribidi.display([raw, BidiText.rightToLeft(raw), "SPOT لکھیں"])
        #expect(shown[0].visual.contains("247 2000 0808"))
        #expect(shown[1].visual.contains("0808 2000 247"))
        #expect(shown[2].direction == "L")
    }

    /// In English's language list, Urdu's own name no longer turns the line round.
    @Test func theLanguageListKeepsEachLineInItsOwnDirection() throws {
        let list = library.render("language.choose", locale: "en-GB", values: ["languages": library.languageList])
        let lines = list.split(separator: "\n").map(String.init)
        let shown = try Fribidi.display(lines)
        let last = try #require(shown.last)
        #expect(last.direction == "L")
        #expect(last.visual.hasSuffix("MENU to go back."), "\(last.visual)")
        #expect(shown.allSatisfy { $0.direction == "L" })
    }
}

/// GNU FriBidi's command line: logical lines in, visual lines and base directions out.
enum Fribidi {
    static let path = ["/usr/bin/fribidi", "/usr/local/bin/fribidi"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static var isInstalled: Bool { path != nil }

    struct NotInstalled: Error, CustomStringConvertible {
        var description: String { "fribidi is not installed: apt-get install libfribidi-bin" }
    }

    /// Each line as a phone shows it (marks removed) and its base direction ("L" or "R").
    static func display(_ lines: [String]) throws -> [(visual: String, direction: String)] {
        guard let path else { throw NotInstalled() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--nobreak", "--nopad", "--clean", "--basedir"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // Written from another thread: a large input would otherwise fill both pipes.
        let data = Data((lines.joined(separator: "\n") + "\n").utf8)
        let writer = Thread { input.fileHandleForWriting.write(data); try? input.fileHandleForWriting.close() }
        writer.start()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let printed = String(decoding: out, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var result: [(String, String)] = []
        var i = 0
        while i + 1 < printed.count, result.count < lines.count {
            let direction = printed[i + 1].hasPrefix("Base direction: ") ? String(printed[i + 1].dropFirst("Base direction: ".count)) : "?"
            result.append((printed[i], direction))
            i += 2
        }
        return result
    }
}
