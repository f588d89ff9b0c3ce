import Foundation

/// TALK: while her thread is open, what she writes goes to the peer (relayed, kept nowhere),
/// except an answer to a question she was asked, a whole keyword (MENU, KIT, STOP…) or BYE. Emergency words are answered first, as
/// always, and the peer is told; STOP and FORGET end the thread and the peer hears.
extension FlowEngine {
    /// Before anything else in an open chat: BYE ends it, and a greeting that is a keyword
    /// elsewhere (HELLO opens the menu) is for the peer. Everything else takes the usual way,
    /// with keywords counting only as the whole text, and reaches the peer at `relayTurn` if
    /// nothing else answers it.
    func talkTurn(_ words: [String], contact: ContactContext, text: String, waiting: Bool) -> EngineOutcome? {
        guard let thread = contact.talk, !contact.isOptedOut else { return nil }
        let whole = words.joined(separator: " ")
        if library.answers.bye.contains(whole) {
            let said = library.render(FlowLibrary.talkEndedKey, locale: contact.language)
            return EngineOutcome(replies: [Reply(key: FlowLibrary.talkEndedKey, text: said)],
                                 effects: [.closeTalk(TalkClose(ref: thread.ref, peerNotice: peerNotice(FlowLibrary.talkPeerEndedKey, ref: thread.ref)))],
                                 conversation: nil, decision: .keyword(flow: "talk", keyword: whole))
        }
        return !waiting && Self.chatWords.contains(whole) ? relayTurn(text, thread: thread, contact: contact) : nil
    }

    /// Her words, for the peer; nothing said back to her.
    func relayTurn(_ text: String, thread: TalkInfo, contact: ContactContext) -> EngineOutcome {
        EngineOutcome(replies: [], effects: [relay(text, thread: thread, contact: contact)], conversation: nil,
                      decision: .keyword(flow: "talk", keyword: "relay"))
    }

    /// Whole texts that are keywords elsewhere (HELLO opens the menu) but, in a chat, are chat.
    static let chatWords: Set<String> = ["HI", "HIYA", "HEY", "HELLO", "HI THERE", "HELLO THERE", "HEY THERE", "OPTIONS", "CZESC", "HOLA", "OLA"]

    /// Her words as the peer gets them ("T-4KQ2MP: …"), cut to what one relay may carry.
    func relay(_ text: String, thread: TalkInfo, contact: ContactContext) -> Effect {
        let words = FreeText.prefix(text.trimmingCharacters(in: .whitespacesAndNewlines), scalars: 600, bytes: 1_600)
        return .relayToPeer(TalkRelay(ref: thread.ref,
                                      text: library.render(FlowLibrary.talkPeerRelayKey, locale: defaultLocale, values: ["ref": thread.ref, "text": words]),
                                      limitNotice: library.render(FlowLibrary.talkLimitKey, locale: contact.language)))
    }

    func peerNotice(_ key: String, ref: String) -> String {
        library.render(key, locale: defaultLocale, values: ["ref": ref])
    }

    /// After the turn: STOP or FORGET end her thread (the peer is told before she is erased);
    /// emergency words reach the peer with a note that she was sent the steps.
    func endingTalk(_ thread: TalkInfo, outcome: inout EngineOutcome, text: String, contact: ContactContext) {
        if outcome.effects.contains(where: \.isVital) {
            guard !outcome.effects.contains(where: { if case .closeTalk = $0 { true } else { false } }) else { return }
            outcome.effects.insert(.closeTalk(TalkClose(ref: thread.ref, peerNotice: peerNotice(FlowLibrary.talkPeerEndedKey, ref: thread.ref))), at: 0)
        } else if case .emergency = outcome.decision, !contact.isOptedOut {
            outcome.effects.append(relay(text, thread: thread, contact: contact))
            outcome.effects.append(.relayToPeer(TalkRelay(ref: thread.ref, text: peerNotice(FlowLibrary.talkPeerEmergencyKey, ref: thread.ref),
                                                          limitNotice: "")))
        }
    }
}
