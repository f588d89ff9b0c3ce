import Foundation

/// TALK: while her thread is open, what she writes goes to the peer (relayed, kept nowhere),
/// except a whole keyword (MENU, KIT, STOP…) or BYE. Emergency words are answered first, as
/// always, and the peer is told; STOP and FORGET end the thread and the peer hears.
extension FlowEngine {
    func talkTurn(_ words: [String], text: String, typed: TypedWords, contact: ContactContext,
                  waiting: Bool) -> EngineOutcome? {
        guard let thread = contact.talk, !contact.isOptedOut else { return nil }
        let whole = words.joined(separator: " ")
        if library.answers.bye.contains(whole) {
            let said = library.render(FlowLibrary.talkEndedKey, locale: contact.language)
            return EngineOutcome(replies: [Reply(key: FlowLibrary.talkEndedKey, text: said)],
                                 effects: [.closeTalk(TalkClose(ref: thread.ref, peerNotice: peerNotice(FlowLibrary.talkPeerEndedKey, ref: thread.ref)))],
                                 conversation: nil, decision: .keyword(flow: "talk", keyword: whole))
        }
        // A question she was asked (she texted KIT mid-chat) is answered by the flow that asked;
        // a whole keyword still does what it says, but a greeting is for the peer.
        if !Self.chatWords.contains(whole),
           waiting || bestKeyword(typed, in: .global, wholeOnly: true) != nil || bestKeyword(typed, in: .local, wholeOnly: true) != nil {
            return nil
        }
        return EngineOutcome(replies: [], effects: [relay(text, thread: thread, contact: contact)], conversation: nil,
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
