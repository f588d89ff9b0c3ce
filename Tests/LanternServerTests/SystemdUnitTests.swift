import Foundation
import LanternTesting
import Testing

/// The shipped systemd unit: sandboxed as the README promises, and valid to systemd itself.
@Suite struct SystemdUnitTests {
    static let unit = Repository.root.appendingPathComponent(".deploy/lantern.service")

    @Test func theUnitIsSandboxedAsPromised() throws {
        let text = try String(contentsOf: Self.unit, encoding: .utf8)
        let lines = Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        for directive in ["User=lantern", "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/lantern",
                          "PrivateTmp=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "StateDirectoryMode=0700",
                          "UMask=0077", "Environment=LANTERN_DATA_DIR=/var/lib/lantern"] {
            #expect(lines.contains(directive), "missing \(directive)")
        }
        // The keys live in the data directory: the only writable path must be it.
        #expect(text.components(separatedBy: "ReadWritePaths=").count == 2)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "systemd-analyze is not installed here"))
    func systemdAcceptsTheUnit() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // systemd checks that the program exists: point it at the binary just built.
        let text = try String(contentsOf: Self.unit, encoding: .utf8)
            .replacingOccurrences(of: "ExecStart=/opt/lantern/lantern serve", with: "ExecStart=\(lanternBinary.path) serve")
            .replacingOccurrences(of: "WorkingDirectory=/opt/lantern", with: "WorkingDirectory=\(Repository.root.path)")
        let copy = dir.url.appendingPathComponent("lantern.service")
        try text.write(to: copy, atomically: true, encoding: .utf8)
        let result = try await CommandLineTests.runProgram("/usr/bin/systemd-analyze", ["verify", copy.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("lantern.service"), "\(result.stderr)")
    }
}
