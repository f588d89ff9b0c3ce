import Foundation

/// A small client for chromedriver's W3C WebDriver HTTP API: enough to drive headless Chromium
/// through the console the way a coordinator would (type, click, read, screenshot).
public final class WebDriver: Sendable {
    /// Where Debian's packages put them (`chromium`, `chromium-driver`).
    public static let chromedriver = URL(fileURLWithPath: "/usr/bin/chromedriver")
    public static let chromium = "/usr/bin/chromium"

    public static var isInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: chromedriver.path) && FileManager.default.isExecutableFile(atPath: chromium)
    }

    let driver: ChildProcess
    let port: Int
    let session: String

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts chromedriver on a free loopback port and opens a headless browser `width` pixels wide.
    public init(width: Int = 1280, height: Int = 900, log: URL) async throws {
        let port = try Self.freePort()
        // A plain environment: the test runner's own (its library paths) is no place for a browser.
        let env = ProcessInfo.processInfo.environment
        let plain = ["PATH": "/usr/bin:/bin", "HOME": env["HOME"] ?? "/tmp", "TMPDIR": env["TMPDIR"] ?? "/tmp", "LANG": "C.UTF-8"]
        driver = try ChildProcess(Self.chromedriver, ["--port=\(port)"], environment: plain,
                                  directory: FileManager.default.temporaryDirectory, output: .file(log), error: .file(log))
        self.port = port
        var ready = false
        var last = ""
        for _ in 0..<100 {
            do {
                let r = try await Self.call(port, "GET", "/status", nil)
                if (r["value"] as? [String: Any])?["ready"] as? Bool == true { ready = true; break }
                last = "\(r)"
            } catch {
                last = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard ready else {
            let ended = driver.isRunning ? "still running" : "exited with \(driver.wait())"
            driver.terminate()
            throw Failure(description: "chromedriver did not start (\(ended); \(last)): " + ((try? String(contentsOf: log, encoding: .utf8)) ?? "no log"))
        }
        let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
            "browserName": "chrome",
            "goog:chromeOptions": ["binary": Self.chromium,
                                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                            "--window-size=\(width),\(height)", "--hide-scrollbars", "--force-device-scale-factor=1"]],
        ]]]
        do {
            let created = try await Self.call(port, "POST", "/session", capabilities)
            guard let id = (created["value"] as? [String: Any])?["sessionId"] as? String else {
                throw Failure(description: "no session: \(created)")
            }
            session = id
        } catch {
            driver.terminate()
            throw error
        }
    }

    /// Closes the browser and stops chromedriver.
    public func quit() async {
        _ = try? await command("DELETE", "")
        driver.terminate()
    }

    public func open(_ url: URL) async throws { _ = try await command("POST", "url", ["url": url.absoluteString]) }

    public func currentURL() async throws -> String { try await command("GET", "url")["value"] as? String ?? "" }

    /// Waits (up to 10 s) for the page at a URL ending in `suffix`: a click that submits a form
    /// returns before the next page has loaded. Returns the URL it ended on.
    @discardableResult
    public func waitForURL(endingIn suffix: String) async throws -> String {
        try await waitForURL { $0.hasSuffix(suffix) }
    }

    @discardableResult
    public func waitForURL(containing part: String) async throws -> String {
        try await waitForURL { $0.contains(part) }
    }

    func waitForURL(where matches: (String) -> Bool) async throws -> String {
        var url = ""
        for _ in 0..<100 {
            url = try await currentURL()
            if matches(url), try await command("POST", "execute/sync", ["script": "return document.readyState", "args": []])["value"]
                as? String == "complete" { return url }
            try await Task.sleep(for: .milliseconds(100))
        }
        return url
    }

    public func source() async throws -> String { try await command("GET", "source")["value"] as? String ?? "" }

    /// The page's text as a person sees it.
    public func text(_ css: String = "body") async throws -> String {
        // A page that redraws part of itself (the live preview) can replace the element between
        // finding it and reading it: find it again, a few times.
        for attempt in 1...5 {
            do {
                let id = try await element(css)
                return try await command("GET", "element/\(id)/text")["value"] as? String ?? ""
            } catch let error as Failure where error.description.contains("stale element") && attempt < 5 {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return ""
    }

    public func type(_ text: String, into css: String) async throws {
        let id = try await element(css)
        _ = try await command("POST", "element/\(id)/clear", [:])
        _ = try await command("POST", "element/\(id)/value", ["text": text])
    }

    public func click(_ css: String) async throws {
        let id = try await element(css)
        _ = try await command("POST", "element/\(id)/click", [:])
    }

    public func setWindow(width: Int, height: Int) async throws {
        _ = try await command("POST", "window/rect", ["width": width, "height": height])
    }

    /// The page's scroll width: wider than the window means a sideways scroll on a phone.
    public func scrollWidth() async throws -> Int {
        try await command("POST", "execute/sync", ["script": "return document.documentElement.scrollWidth", "args": []])["value"] as? Int ?? 0
    }

    /// A PNG of the whole page, however long: the window is stretched to it for the picture,
    /// then put back.
    public func screenshotOfWholePage(to file: URL) async throws {
        let rect = try await command("GET", "window/rect")["value"] as? [String: Any] ?? [:]
        let width = rect["width"] as? Int ?? 1280, height = rect["height"] as? Int ?? 900
        let page = try await command("POST", "execute/sync", ["script": "return document.documentElement.scrollHeight", "args": []])["value"] as? Int ?? height
        try await setWindow(width: width, height: min(max(page, height), 6000))
        _ = try await command("POST", "execute/sync", ["script": "window.scrollTo(0, 0)", "args": []])
        try await screenshot(to: file)
        try await setWindow(width: width, height: height)
    }

    /// A PNG of the window, written to `file`.
    public func screenshot(to file: URL) async throws {
        guard let b64 = try await command("GET", "screenshot")["value"] as? String, let png = Data(base64Encoded: b64) else {
            throw Failure(description: "no screenshot")
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try png.write(to: file)
    }

    func element(_ css: String) async throws -> String {
        let found = try await command("POST", "element", ["using": "css selector", "value": css])
        guard let value = found["value"] as? [String: Any], let id = value.values.first as? String else {
            throw Failure(description: "no element '\(css)'")
        }
        return id
    }

    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        let reply = try await Self.call(port, method, "/session/\(session)" + (path.isEmpty ? "" : "/\(path)"), body)
        if let value = reply["value"] as? [String: Any], let error = value["error"] as? String {
            throw Failure(description: "\(method) \(path): \(error): \(value["message"] as? String ?? "")")
        }
        return reply
    }

    /// One request on a connection of its own. (URLSession on Linux refuses chromedriver's
    /// answers with "Failed writing header", so this speaks HTTP/1.1 directly.)
    static func call(_ port: Int, _ method: String, _ path: String, _ body: [String: Any]?) async throws -> [String: Any] {
        let json = try body.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) } ?? ""
        let connection = try RawHTTPConnection(port: port)
        let reply = await connection.request(method, path, headers: body == nil ? [:] : ["Content-Type": "application/json"], body: json,
                                             timeout: 60)
        guard let split = reply.range(of: "\r\n\r\n") else { throw Failure(description: "\(method) \(path): no answer") }
        // chromedriver answers with a Content-Length, which is where the read stops.
        return (try JSONSerialization.jsonObject(with: Data(reply[split.upperBound...].utf8)) as? [String: Any]) ?? [:]
    }

    /// A port nobody is using: bound for a moment to learn it, then let go for chromedriver.
    static func freePort() throws -> Int {
        var port = 0
        do {
            let probe = try RefusingPort()
            port = probe.port
        }
        return port
    }
}
