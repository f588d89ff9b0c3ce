/// Recognises the automatic answers phones and businesses send back ("I'm driving with Do Not
/// Disturb…", "Automatic reply: out of office"). Answering them starts a ping-pong that costs
/// credit and reaches no one, so they are dropped without a reply.
public enum AutoReply {
    /// Word sequences (after `KeywordText` folding) that people do not type by hand.
    static let phrases: [[String]] = [
        ["AUTO", "REPLY"], ["AUTOREPLY"], ["AUTOMATIC", "REPLY"], ["AUTOMATED", "REPLY"],
        ["AUTO", "RESPONSE"], ["AUTORESPONSE"], ["AUTOMATIC", "RESPONSE"], ["AUTOMATED", "RESPONSE"],
        ["AUTOMATED", "MESSAGE"], ["AUTOMATIC", "MESSAGE"], ["OUT", "OF", "OFFICE"],
        ["DO", "NOT", "DISTURB", "WHILE", "DRIVING"], ["WITH", "DO", "NOT", "DISTURB"],
        ["THIS", "NUMBER", "DOES", "NOT", "RECEIVE"], ["THIS", "NUMBER", "CANNOT", "RECEIVE"],
        ["DO", "NOT", "REPLY", "TO", "THIS"], ["NOREPLY"],
    ]

    public static func looksAutomatic(_ text: String) -> Bool {
        // Auto-replies are sentences; a keyword or a menu answer never is one.
        guard text.utf8.count >= 10 else { return false }
        let words = KeywordText.words(text)
        guard words.count >= 2 || words.first == "AUTOREPLY" || words.first == "NOREPLY" else { return false }
        for phrase in phrases where phrase.count <= words.count {
            for start in 0...(words.count - phrase.count) where words[start] == phrase[0] {
                if Array(words[start..<(start + phrase.count)]) == phrase { return true }
            }
        }
        return false
    }
}
