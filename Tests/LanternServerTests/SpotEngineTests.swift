import Foundation
import LanternCore
import LanternServer
import LanternTesting
import Testing

/// The engine's check-in decisions on the shipped flows and words: what her answers and a
/// buddy's mean, decided before anything else but an emergency.
@Suite struct SpotEngineTests {
    static let library = FlowFiles(flowsDirectory: Repository.flows, localesDirectory: Repository.locales).load().library
    let engine = FlowEngine(library: library)
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let buddy = BuddyInfo(key: "b", ending: "456", confirmed: true)

    func her(_ status: CheckInInfo.Status?, watchers: [Party] = []) -> ContactContext {
        var c = ContactContext()
        c.buddies = [buddy]
        c.checkIn = status.map { CheckInInfo(status: $0, dueAt: now.addingTimeInterval(60), watchers: watchers) }
        return c
    }

    @Test func spotWithMinutesAndAPlaceStartsATimerThatKeepsThePlace() {
        let o = engine.handle(text: "spot 15 Flat 2, 14 Park Rd", contact: her(nil), conversation: nil, now: now)
        #expect(o.effects == [.startCheckIn(CheckInStart(dueAt: now.addingTimeInterval(900), place: "Flat 2, 14 Park Rd"))])
        #expect(o.replies.first?.text.contains("I can't call 999") == true)
        // The place is never echoed back to her screen.
        #expect(o.replies.allSatisfy { !$0.text.contains("Park Rd") })
    }

    @Test func emergencyWordsGetTheStepsAndLeaveTheTimerRunning() {
        let o = engine.handle(text: "she isnt breathing", contact: her(.due), conversation: nil, now: now)
        #expect(o.isUrgent)
        #expect(!o.effects.contains { if case .endCheckIn = $0 { true } else { false } })
    }

    @Test func aBuddysOKClosesTheCheckInAndTellsHerAndTheOthers() {
        var watcher = ContactContext()
        watcher.watching = [WatchedCheckIn(owner: Party(key: "her"), others: [Party(key: "other")])]
        let o = engine.handle(text: "she's ok", contact: watcher, conversation: nil, now: now)
        guard case .checkedOn(let owner, let notices) = o.effects.first else { Issue.record("\(o.effects)"); return }
        #expect(owner == "her")
        #expect(Set(notices.map(\.to)) == ["her", "other"])
        // Anything else from a buddy who was asked: how to close it, not the menu.
        let other = engine.handle(text: "on my way", contact: watcher, conversation: nil, now: now)
        #expect(other.effects.isEmpty)
        #expect(other.replies.first?.key == "spot.watch.how_to_close")
    }

    @Test func yesOrNoToAnInvitationIsTheAnswerAndWhoAskedIsTold() {
        var asked = ContactContext()
        asked.buddyInvites = [BuddyInvite(from: Party(key: "her"), ending: "456")]
        let yes = engine.handle(text: "Yes", contact: asked, conversation: nil, now: now)
        guard case .answerBuddyInvites(true, let notices) = yes.effects.first else { Issue.record("\(yes.effects)"); return }
        #expect(notices.first?.text.contains("456") == true)
        let no = engine.handle(text: "nah", contact: asked, conversation: nil, now: now)
        #expect(no.effects.first.map { if case .answerBuddyInvites(false, _) = $0 { true } else { false } } == true)
        // STOP is still STOP: opted out (the store ends every link), and whoever asked hears it as a no.
        let stop = engine.handle(text: "STOP", contact: asked, conversation: nil, now: now).effects
        #expect(stop.last == .optOut)
        guard case .tell(let told) = stop.first else { Issue.record("\(stop)"); return }
        #expect(told.map(\.key) == [FlowLibrary.buddyOwnerDeclinedKey])
    }

    @Test func buddyAsksTheNameOnItsOwnAndNoNameMeansNoInvitation() {
        // The number first, whatever follows it: then the name she is known by, as a question.
        let first = engine.handle(text: "BUDDY 07700 900456 Jo", contact: ContactContext(), conversation: nil, now: now)
        #expect(first.effects.isEmpty)
        #expect(first.replies.map(\.key) == ["buddy.ask_name"])
        let waiting = try! #require(first.conversation)
        // Not a name: asked again, nobody is texted.
        let notName = engine.handle(text: "http://x.example", contact: ContactContext(), conversation: waiting, now: now)
        #expect(notName.effects.isEmpty)
        #expect(notName.replies.map(\.key) == ["buddy.bad_name"])
        let o = engine.handle(text: "Jo", contact: ContactContext(), conversation: waiting, now: now)
        guard case .askBuddy(let ask) = o.effects.first else { Issue.record("\(o.effects)"); return }
        #expect(ask.number.e164 == "+447700900456")
        #expect(ask.name == "Jo")
        #expect(ask.invitation.hasPrefix("Jo has asked you to be their check-in buddy"))
        #expect(ask.replies[.refused]?.text.contains("456") == true)
        // Her own reply until the store says how it went is the 'asked' one.
        #expect(o.replies.map(\.key) == [BuddyAsk.replyKey])
        // No conversation keeps the number once the invitation is made.
        #expect(o.conversation == nil)
    }

    @Test func onlyAClearOKEndsACheckInAndHelpOrNotOKAsksHerBuddiesAtOnce() {
        var her = ContactContext()
        her.buddies = [BuddyInfo(key: "b", ending: "456", confirmed: true)]
        let due = CheckInInfo(status: .due, dueAt: now)
        her.checkIn = due
        for text in ["help", "no im not ok i feel really weird", "not ok", "no", "NIE OK", "theek nahi", "please come", "feel weird"] {
            let o = engine.handle(text: text, contact: her, conversation: nil, now: now)
            #expect(o.effects.contains(.escalateCheckIn), "\(text): \(o.effects)")
            #expect(o.replies.first?.key == FlowLibrary.spotHelpNowKey, "\(text)")
        }
        for text in ["ok", "im fine", "safe", "all good", "OK thanks"] {
            let o = engine.handle(text: text, contact: her, conversation: nil, now: now)
            #expect(o.effects.contains { if case .endCheckIn(.ok, _) = $0 { true } else { false } }, "\(text): \(o.effects)")
            #expect(o.replies.first?.key == FlowLibrary.spotGladKey, "\(text)")
        }
        // Unclear: once asked again for a clear OK, the grace keeps running (nothing ends).
        let unclear = engine.handle(text: "hmm", contact: her, conversation: nil, now: now)
        #expect(unclear.effects.isEmpty)
        #expect(unclear.replies.last?.key == FlowLibrary.spotReplyOKKey)
        let again = engine.handle(text: "hmm", contact: her, conversation: unclear.conversation, now: now)
        #expect(!again.replies.contains { $0.key == FlowLibrary.spotReplyOKKey })
        #expect(!again.effects.contains { if case .endCheckIn = $0 { true } else { false } })
        // While it runs, an OK is "I read it"; DONE stops it.
        her.checkIn = CheckInInfo(status: .running, dueAt: now.addingTimeInterval(600))
        let ack = engine.handle(text: "ok", contact: her, conversation: nil, now: now)
        #expect(ack.effects.isEmpty)
        #expect(ack.replies.map(\.key) == [FlowLibrary.spotStillRunningKey])
        let done = engine.handle(text: "done", contact: her, conversation: nil, now: now)
        #expect(done.replies.map(\.key) == [FlowLibrary.spotStoppedKey])
        // MORE adds to the time set and keeps the place (no place in the new start).
        let more = engine.handle(text: "more 10", contact: her, conversation: nil, now: now)
        #expect(more.effects == [.startCheckIn(CheckInStart(dueAt: now.addingTimeInterval(1200), place: nil))])
        // A buddy on the way has not found her safe: nothing closes; "found her, she's ok" does.
        var buddy = ContactContext()
        buddy.watching = [WatchedCheckIn(owner: Party(key: "her"), others: [], ownerName: "Jo")]
        for text in ["ok on my way", "ok omw", "juz jade", "ya voy", "ok coming now"] {
            let o = engine.handle(text: text, contact: buddy, conversation: nil, now: now)
            #expect(!o.effects.contains { if case .checkedOn = $0 { true } else { false } }, "\(text)")
            #expect(o.replies.first?.text.contains("Jo") == true, "\(text): \(o.replies)")
        }
        let found = engine.handle(text: "found her shes ok", contact: buddy, conversation: nil, now: now)
        #expect(found.effects.contains { if case .checkedOn = $0 { true } else { false } })
        // An emergency while it runs: the steps, and her buddies are asked now.
        let emergency = engine.handle(text: "she isnt breathing", contact: her, conversation: nil, now: now)
        #expect(emergency.effects.contains(.escalateCheckIn))
    }

    @Test func aBuddyWhoLeavesHasWhoeverReliedOnThemTold() {
        var buddy = ContactContext()
        buddy.buddyFor = [BuddyInvite(from: Party(key: "her", language: "pl"), ending: "456")]
        buddy.buddyInvites = [BuddyInvite(from: Party(key: "other"), ending: "456")]
        for word in ["STOP", "FORGET"] {
            let o = engine.handle(text: word, contact: buddy, conversation: nil, now: now)
            guard case .tell(let notices) = o.effects.first else { Issue.record("\(word): \(o.effects)"); continue }
            #expect(o.effects.dropFirst().contains { $0.isVital })
            #expect(notices.map(\.to) == ["other", "her"])
            let told = notices.last?.text ?? ""
            #expect(told.contains("456"))
            #expect(told.contains("BUDDY"))
        }
    }

    @Test(arguments: ["BUDDY 0117 496 0000", "BUDDY 09098 790000", "BUDDY 12345", "BUDDY 118118"])
    func aBuddyMustBeAMobile(_ text: String) {
        let o = engine.handle(text: text, contact: ContactContext(), conversation: nil, now: now)
        // Not taken: she is asked for a mobile number instead.
        #expect(o.effects.isEmpty)
        #expect(o.replies.first?.key == "buddy.ask_number")
        let again = engine.handle(text: String(text.dropFirst(6)), contact: ContactContext(), conversation: o.conversation, now: now)
        #expect(again.effects.isEmpty)
        #expect(again.replies.first?.key == "buddy.bad_number")
    }

    @Test(arguments: [
        ("she's ok", true), ("found her, she's ok now", true), ("OK", true), ("all good shes awake", true), ("tak, wszystko ok", true),
        ("she is breathing", true), ("she's not ok", false), ("not safe yet", false), ("cant find her", false), ("on my way", false),
        ("nie jest ok", false),
    ])
    func aBuddysWordsCloseTheCheckInOnlyWhenTheySayShesSafe(_ text: String, _ closes: Bool) {
        var watcher = ContactContext()
        watcher.watching = [WatchedCheckIn(owner: Party(key: "her"), others: [])]
        let o = engine.handle(text: text, contact: watcher, conversation: nil, now: now)
        let closed = o.effects.contains { if case .checkedOn = $0 { true } else { false } }
        #expect(closed == closes, "\(text): \(o.effects) \(o.replies.map(\.key))")
    }

    @Test func noLimitHoldsBackTheAnswerThatEndsACheckIn() {
        let o = engine.handle(text: "im ok", contact: her(.due), conversation: nil, now: now)
        let limited = o.limited(by: .contactRate, keeping: nil, notice: nil)
        #expect(limited.effects == [.endCheckIn(.ok, notices: [])])
        // Starting one is an ordinary request, and waits like any other.
        let start = engine.handle(text: "SPOT 10", contact: her(nil), conversation: nil, now: now)
        #expect(start.limited(by: .contactRate, keeping: nil, notice: nil).effects.isEmpty)
    }
}
