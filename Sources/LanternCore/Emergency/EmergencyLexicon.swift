import Foundation

/// What an emergency or a crisis text is about. Each starts the flow that declares it as its
/// `intent:`, ahead of everything else.
public enum EmergencyIntent: String, Sendable, CaseIterable, Codable {
    /// A child may have swallowed methadone, buprenorphine, pills or any drug: 999 now.
    case child
    /// Naloxone was given and there is still no response: keep going, another dose, 999 on the line.
    case noResponse = "no_response"
    /// Someone may be overdosing now: the first-aid steps.
    case overdose
    /// She wants to die or hurt herself: Samaritans and Shout.
    case selfHarm = "self_harm"
    /// Someone is hurting or threatening her: the domestic abuse helpline, 999 and 55.
    case abuse

    /// Which reply comes first when one text says more than one thing.
    public var rank: Int { Self.allCases.firstIndex(of: self)! }
}

/// One language's words for the moments that matter most, as its locale file's `emergency:`
/// section gives them. Entries are patterns (see `EmergencyPattern`): plain phrases, or words
/// with alternatives (`NOT|BARELY`), gaps (`...`), word beginnings (`OVERDOS*`) and anchors.
public struct EmergencyLexicon: Sendable {
    public struct Entry: Sendable, Equatable {
        public let text: String
        public let location: SourceLocation?
        public init(_ text: String, location: SourceLocation? = nil) {
            self.text = text
            self.location = location
        }
    }

    /// How people type a word → what it means ("ISNT" → "IS NOT", "OD'D" → "OD"). Applied to
    /// every text before any language's patterns, so patterns are written in the plain form.
    public var spellings: [(typed: String, means: String, location: SourceLocation?)]
    /// Everyday words one typo away from an emergency word (OVERDUE, WAKING): never read as it.
    public var notTypos: [String]
    /// Signs of each intent. A leading `!` marks a sign of right now (not breathing, won't wake)
    /// that talk of the past ("last year") does not cancel.
    public var signs: [EmergencyIntent: [Entry]]
    /// Not an emergency: cancels any sign it overlaps ("is this an emergency line"); ending in
    /// `>>`, also the signs after it in the same sentence ("how do I know…") other than signs
    /// of right now; with a leading `!` as well, those too ("if someone isn't breathing…").
    public var not: [Entry]
    /// It is over: cancels the signs said before it ("he wasn't breathing but he's OK now").
    public var over: [Entry]
    /// Talk of the past: cancels signs not marked `!` anywhere in the text ("she overdosed last year").
    public var past: [Entry]
    /// Danger signs said less surely ("breathing funny", "bit blue"): not an emergency on their
    /// own, but the text is answered with the 999 line first, then as it would be.
    public var maybe: [Entry]
    /// A question whether police or social services come if she calls 999: cancels the signs
    /// not marked `!` that start within it ("if I call an ambulance…") and is answered honestly.
    public var police: [Entry]
    /// Answers to the emergency follow-up, by name (`breathing`, `police`…), for menu options
    /// that name them with `intent:`.
    public var followUps: [String: [Entry]]
    public var location: SourceLocation?

    public init(spellings: [(typed: String, means: String, location: SourceLocation?)] = [], notTypos: [String] = [],
                signs: [EmergencyIntent: [Entry]] = [:], not: [Entry] = [], over: [Entry] = [], past: [Entry] = [],
                maybe: [Entry] = [], police: [Entry] = [], followUps: [String: [Entry]] = [:], location: SourceLocation? = nil) {
        self.maybe = maybe
        self.police = police
        self.spellings = spellings
        self.notTypos = notTypos
        self.signs = signs
        self.not = not
        self.over = over
        self.past = past
        self.followUps = followUps
        self.location = location
    }

    public var isEmpty: Bool { signs.values.allSatisfy(\.isEmpty) }
}
