import Crypto
import Foundation
import GRDB
import LanternCore

/// Why a database was not opened with the keys at hand.
public enum KeyCheckError: Error, Equatable, CustomStringConvertible {
    /// The database was written with other keys: every contact would be unreachable with these.
    case keysDoNotOpen(database: String)

    public var description: String {
        switch self {
        case .keysDoNotOpen(let path):
            "the keys do not open the database \(path): it was written with other keys. Restore the key file "
                + "(keys.json) or LANTERN_DATA_KEY/LANTERN_INDEX_KEY that belong to this database from your backup. "
                + "Nothing was changed."
        }
    }
}

/// A value only the right keys reproduce, kept in the database, so that starting with the wrong
/// keys (a deleted or copied key file, mistyped secrets) is refused instead of quietly treating
/// every contact as a stranger.
extension AppDatabase {
    static let keyCheckPlaintext = "lantern key check v1"

    static func keyCheckMAC(_ vault: PIIVault) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(keyCheckPlaintext.utf8), using: vault.keys.index).hexString
    }

    /// Verifies the stored check value, or writes it when there is none. A database from before
    /// check values existed is checked against one of its contacts first.
    static func checkKeys(_ db: Database, vault: PIIVault, path: String, writing: Bool = true) throws {
        let mac = keyCheckMAC(vault)
        let hasCheck = try db.tableExists("key_check")
        if hasCheck, let row = try Row.fetchOne(db, sql: "SELECT index_mac, data_box FROM key_check WHERE id = 1") {
            let storedMAC: String = row["index_mac"]
            guard ConstantTime.equals(storedMAC, mac),
                  (try? vault.open(row["data_box"])) == keyCheckPlaintext else {
                throw KeyCheckError.keysDoNotOpen(database: path)
            }
            return
        }
        if let contact = try Row.fetchOne(db, sql: "SELECT key, number FROM contact LIMIT 1") {
            guard let e164 = try? vault.open(contact["number"]), let number = PhoneNumber(e164),
                  vault.contactKey(for: number).hex == contact["key"] as String else {
                throw KeyCheckError.keysDoNotOpen(database: path)
            }
        }
        guard writing else { return }
        try db.execute(sql: "INSERT INTO key_check (id, index_mac, data_box) VALUES (1, ?, ?)",
                       arguments: [mac, try vault.seal(keyCheckPlaintext)])
    }

    /// Whether the file at `path` already holds a Lantern database with data in it: then new
    /// keys must never be made for it (they would orphan everyone in it).
    public static func holdsData(path: String) -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        var config = Configuration()
        config.readonly = true
        guard let queue = try? DatabaseQueue(path: path, configuration: config) else { return true }
        let found = try? queue.read { db -> Bool in
            for table in ["key_check", "contact", "outbox", "broadcast", "kit_request"] where try db.tableExists(table) {
                if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table))") == true { return true }
            }
            return false
        }
        // Unreadable counts as holding data: never risk writing new keys over someone's contacts.
        return found ?? true
    }
}
