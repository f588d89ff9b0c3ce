import Foundation
import HummingbirdBcrypt
import HummingbirdOTP
import LanternCore
import LanternStore
import NIOPosix

/// Who may sign in to the console, and how: a bcrypt password and (unless turned off) a code from
/// an authenticator app. Every failure looks the same from outside, whatever failed.
public struct ConsoleAccess: Sendable {
    let database: AppDatabase
    let settings: ConsoleSettings
    let now: @Sendable () -> Date

    /// The smallest password the console accepts.
    public static let minimumPasswordLength = 12
    /// Checked when there is no such account, so a wrong name takes as long as a wrong password
    /// (a real bcrypt hash at the default work factor, of nothing anyone could type by chance).
    static let decoy = "$2b$12$s6XdAouqtgSZfzlmBGV.gejS6RO0xEpOHTcNL2wFjPMmTeG9KkfXS"

    public enum Outcome: Sendable, Equatable {
        case signedIn(cookie: String, session: ConsoleSession)
        /// Name, password or code wrong: said the same way for each.
        case refused
        /// Too many failures: locked for now (minutes left).
        case locked(minutes: Int)
    }

    public func signIn(name: String, password: String, code: String) async throws -> Outcome {
        let time = now()
        guard let creds = try await database.consoleCredentials(name: name), let hash = creds.passwordHash else {
            _ = try await Self.verify(password, hash: Self.decoy)
            return .refused
        }
        if let until = creds.account.lockedUntil, until > time {
            return .locked(minutes: max(1, Int(until.timeIntervalSince(time) / 60 + 0.999)))
        }
        let passwordOK = try await Self.verify(password, hash: hash)
        let codeOK = !settings.twoFactor || creds.totpSecret.map { Self.codeMatches(code, secret: $0, at: time) } == true
        guard passwordOK && codeOK else {
            try await database.recordConsoleFailure(name: name, now: time)
            return .refused
        }
        let (cookie, session) = try await database.startConsoleSession(name: name, now: time)
        return .signedIn(cookie: cookie, session: session)
    }

    /// bcrypt off the cooperative threads: it is deliberately slow.
    static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    static func hash(_ password: String, cost: UInt8) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// The code now, or one step either side (a phone's clock drifts; typing takes time).
    public static func codeMatches(_ typed: String, secret: String, at date: Date) -> Bool {
        let digits = typed.filter(\.isNumber)
        guard digits.count == 6, let value = Int(digits) else { return false }
        let totp = TOTP(secret: secret)
        return [-30.0, 0, 30].contains { totp.compute(date: date.addingTimeInterval($0)) == value }
    }

    /// A new secret for an authenticator app: 20 characters from the base32 alphabet.
    public static func newSecret() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var rng = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(rng.next(upperBound: UInt32(alphabet.count)))] })
    }

    /// What the authenticator app is given: the otpauth link, and its key for typing in by hand.
    public static func enrolment(secret: String, account: String) -> (url: String, key: String) {
        let url = TOTP(secret: secret).createAuthenticatorURL(label: "Lantern:\(account)", issuer: "Lantern")
        let key = URLComponents(string: url)?.queryItems?.first { $0.name == "secret" }?.value ?? ""
        return (url, key)
    }

    /// Accepts an invite: the password is checked for length and match, the code against the
    /// secret shown on the invite page. Returns a message to show when it cannot be accepted.
    public func acceptInvite(token: String, password: String, confirm: String, code: String) async throws -> String? {
        let time = now()
        guard let (_, secret) = try await database.consoleInvite(token: token, now: time) else {
            return "This invite link has expired or has been used. Ask an admin for a new one."
        }
        guard password.count >= Self.minimumPasswordLength else {
            return "The password needs at least \(Self.minimumPasswordLength) characters. A few words together are easy to remember."
        }
        guard password == confirm else { return "The two passwords are not the same." }
        if settings.twoFactor && !Self.codeMatches(code, secret: secret, at: time) {
            return "That code doesn't match. Check the app shows Lantern, and type the six digits it shows now."
        }
        guard try await database.acceptConsoleInvite(token: token, passwordHash: try await Self.hash(password, cost: settings.bcryptCost), now: time) else {
            return "This invite link has expired or has been used. Ask an admin for a new one."
        }
        return nil
    }
}
