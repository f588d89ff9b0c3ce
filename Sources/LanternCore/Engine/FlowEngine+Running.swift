import Foundation

/// Running a flow's states: what each says (with its placeholders), the actions it takes as
/// typed effects, and the checks that choose where it goes next.
extension FlowEngine {

    /// What placeholders read as: saved values (area codes in words) and what we know of her.
    /// Each is worked out only when a message being rendered uses it.
    func placeholders(_ vars: [String: String], contact: ContactContext, now: Date? = nil, extra: [String: String] = [:]) -> (String) -> String? {
        let library = self.library
        return { name in
            if let value = extra[name] { return value }
            switch name {
            case "areas":
                return vars["areas"].map { library.describe(areas: AreaCodes.split($0), locale: contact.language) }
            case "my_areas":
                return library.describe(areas: contact.subscriptions, locale: contact.language)
            case "area":
                return vars["area"].map { library.describe(areas: AreaCodes.split($0), locale: contact.language) }
            case "pickup_points":
                return vars["area"].map { library.pickupPointList(for: AreaCodes.split($0), discreet: library.isDiscreet(contact)) }
            case "languages":
                return library.languageList
            case "pickup":
                // The pickup point she chose, by its discreet name where she gets discreet wording.
                if let chosen = vars["pickup"], library.isDiscreet(contact),
                   let point = library.pickupPoints.first(where: { $0.name == chosen }) {
                    return point.name(discreet: true)
                }
            case "paused_until":
                if let until = contact.alertsPausedUntil { return Self.ukTime(until) }
            case "covered":
                if let covers = library.covers { return library.describe(areas: covers, locale: contact.language) }
            case "kit_ref":
                if let kit = contact.kit { return kit.ref }
            case "due_time":
                if let due = vars["due_time"] { return due }
                if let checkIn = contact.checkIn { return Self.ukClock(checkIn.dueAt) }
            case "buddies":
                return self.buddyList(contact)
            case "grace":
                return String(self.spot.graceMinutes)
            case "supplies":
                let discreet = library.isDiscreet(contact)
                return Supply.list(library.supplies, discreet: discreet, locale: contact.language)
            case "talk_ref":
                if let ref = vars["talk_ref"] ?? contact.talk?.ref { return ref }
            case "reply_hours":
                return String(self.talk.hours.replyWithinHours)
            case "back_at":
                if let now, let next = self.talk.hours.nextOnDuty(after: now) { return Self.ukTime(next) }
            case "kit_status":
                if let kit = contact.kit {
                    return library.render(FlowLibrary.kitStatePrefix + kit.status.rawValue, locale: contact.language,
                                          discreet: library.isDiscreet(contact))
                }
            default:
                break
            }
            return vars[name]
        }
    }

    func run(_ flow: Flow, state start: String, vars initialVars: [String: String], contact initial: ContactContext, now: Date,
                     decision: Decision) -> EngineOutcome {
        var vars = initialVars
        var replies: [Reply] = []
        var effects: [Effect] = []
        var contact = initial
        var current: String? = start
        var conversation: ConversationState?
        var visited = 0
        while let id = current, let state = flow.states[id], visited < 32 {
            visited += 1
            current = nil
            for action in state.actions {
                if let effect = apply(action, vars: &vars, to: &contact, now: now) { effects.append(effect) }
            }
            let values = placeholders(vars, contact: contact, now: now)
            // Emergency and crisis words are always plain: life comes first.
            let discreet = library.isDiscreet(contact) && flow.intent == nil
            for key in state.say {
                for text in library.renderTexts(key, locale: contact.language, discreet: discreet, value: values) {
                    replies.append(Reply(key: key, text: text))
                }
            }
            if !state.menu.isEmpty {
                let lines = library.menuLines(state.menu, locale: contact.language, discreet: discreet, value: values)
                if let last = replies.popLast() {
                    replies.append(Reply(key: last.key, text: last.text + "\n" + lines))
                } else {
                    replies.append(Reply(key: state.menu[0].label, text: lines))
                }
            }
            if state.waitsForAnswer {
                // Free words she typed are never kept between messages.
                let kept = vars.filter { !Self.transientVariables(of: flow).contains($0.key) }
                conversation = ConversationState(flow: flow.id, state: id, expiresAt: now.addingTimeInterval(flow.timeout), variables: kept)
            } else if let check = state.check {
                current = holds(check.condition, for: contact, vars: vars, now: now) ? check.then : check.otherwise
            } else {
                current = state.next
            }
        }
        if effects.contains(where: \.isVital) { conversation = nil }
        var outcome = EngineOutcome(replies: replies, effects: effects, conversation: conversation, decision: decision, variables: vars)
        outcome.isUrgent = flow.intent != nil
        return outcome
    }

    /// Carries out an action on the engine's copy of the person, so later words in the same
    /// reply ("You now get alerts for {my_areas}") are already true, and says it as the typed
    /// effect the store will apply (nil when the flow saved nothing to act on).
    func apply(_ action: FlowAction, vars: inout [String: String], to contact: inout ContactContext, now: Date) -> Effect? {
        switch action {
        case .optOut:
            contact.isOptedOut = true
            return .optOut
        case .optIn:
            contact.isOptedOut = false
            return .optIn
        case .erase:
            // What the erasure ended is still said in its confirmation ("your kit request K-… is cancelled").
            if let kit = contact.kit, kit.status == .open { vars["kit_ref"] = kit.ref }
            contact = ContactContext(language: contact.language)
            return .erase
        case .setLanguage:
            guard let l = vars["language"] else { return nil }
            contact.language = l
            return .setLanguage(l)
        case .plainWording:
            contact.wording = .plain
            return .setWording(.plain)
        case .discreetWording:
            contact.wording = .discreet
            return .setWording(.discreet)
        case .subscribe:
            let add = AreaCodes.split(vars["areas"])
            if add.contains(AreaCodes.everywhere) { contact.subscriptions = [AreaCodes.everywhere] }
            else if !contact.subscriptions.contains(AreaCodes.everywhere) {
                contact.subscriptions += add.filter { !contact.subscriptions.contains($0) }
                contact.subscriptions = Array(contact.subscriptions.prefix(AreaCodes.maxPerPerson))
            }
            return .subscribe(add)
        case .unsubscribe:
            let remove = AreaCodes.split(vars["areas"])
            contact.subscriptions.removeAll { remove.contains($0) }
            return .unsubscribe(remove)
        case .unsubscribeAll:
            contact.subscriptions = []
            return .unsubscribeAll
        case .pause:
            let until = now.addingTimeInterval(Double(Int(vars["hours"] ?? "") ?? 0) * 3600)
            contact.alertsPausedUntil = until
            return .pause(until: until)
        case .resume:
            contact.alertsPausedUntil = nil
            return .resume
        case .relayReportAnswer:
            contact.awaitingReportAnswer = nil
            guard let ref = vars["ref"], let answer = vars["answer"] else { return nil }
            return .relayReportAnswer(ReportAnswer(ref: ref, answer: answer, relayText: library.render(
                FlowLibrary.reportAnswerRelayKey, locale: defaultLocale, values: ["ref": ref, "answer": answer])))
        case .requestKit:
            let ref = ReferenceCode.make(prefix: "K", seed: seed)
            vars["ref"] = ref
            // Supplies that can only go one way skip the question: an address means post.
            let method = vars["method"] ?? (vars["address"] != nil ? "post" : vars["pickup"] != nil ? "collect" : nil)
            contact.kit = KitInfo(ref: ref, status: .open, method: method ?? "")
            guard let kind = vars["kind"], let method else { return nil }
            return .requestKit(KitOrder(ref: ref, kind: kind, method: method, pickup: vars["pickup"], address: vars["address"]))
        case .cancelKit:
            if let kit = contact.kit, kit.status == .open { contact.kit = KitInfo(ref: kit.ref, status: .cancelled, method: kit.method) }
            return .cancelKit
        case .relayReport:
            vars["ref"] = ReferenceCode.make(prefix: "R", seed: seed, shift: 32)
            return .relayReport(report(vars))
        case .startCheckIn:
            guard let minutes = vars["minutes"].flatMap(Int.init) else { return nil }
            let due = now.addingTimeInterval(Double(minutes) * 60)
            vars["due_time"] = Self.ukClock(due)
            contact.checkIn = CheckInInfo(status: .running, dueAt: due)
            return .startCheckIn(CheckInStart(dueAt: due, place: vars["place"]))
        case .setCheckInPlace:
            guard let place = vars["place"], contact.checkIn != nil else { return nil }
            return .setCheckInPlace(place)
        case .askBuddy:
            guard let raw = vars["buddy"], let number = PhoneNumber(raw) else { return nil }
            let ending = String(number.e164.suffix(3))
            vars["ending"] = ending
            // No name, no invitation: a text from a stranger's number naming nobody reads as a scam.
            guard let name = vars["name"] else { return nil }
            let invitation = library.render(FlowLibrary.buddyInviteNamedKey, locale: contact.language, values: ["name": name])
            return .askBuddy(BuddyAsk(number: number, invitation: invitation, replies: buddyAskReplies(ending: ending, contact: contact),
                                      name: name))
        case .removeBuddy:
            guard let key = vars["buddy"] else { return nil }
            if let gone = contact.buddies.first(where: { $0.key == key }) { vars["ending"] = gone.ending }
            contact.buddies.removeAll { $0.key == key }
            return .removeBuddy(key)
        case .openTalk:
            let ref = ReferenceCode.make(prefix: "T", seed: seed, shift: 48)
            vars["talk_ref"] = ref
            contact.talk = TalkInfo(ref: ref, taken: false)
            return .openTalk(ref: ref, peerNotice: library.render(FlowLibrary.talkPeerNewKey, locale: defaultLocale, values: ["ref": ref]))
        case .endCheckIn, .escalateCheckIn, .checkedOn, .answerBuddy, .tell, .relayToPeer, .closeTalk:
            // Lantern's own, on an answer to a check-in: never from a flow (flows check refuses it).
            return nil
        }
    }

    /// A report as the coordinators get it, in the service's own language.
    func report(_ vars: [String: String]) -> Report {
        let areas = AreaCodes.split(vars["area"])
        let areaName = library.describe(areas: areas, locale: defaultLocale)
        var values = vars
        values["area"] = areaName
        return Report(ref: vars["ref"] ?? "", areas: areas, areaName: areaName, happened: vars["happened"] ?? "",
                      when: vars["when"] ?? "", description: vars["description"] ?? "",
                      relayText: library.render(FlowLibrary.reportRelayKey, locale: defaultLocale, values: values))
    }

    /// Variables holding free words she typed, by flow.
    static func transientVariables(of flow: Flow) -> Set<String> {
        Set(flow.states.values.compactMap { s in s.ask.flatMap { $0.expect.isFreeWords ? $0.save : nil } })
    }

    func holds(_ condition: Check.Condition, for contact: ContactContext, vars: [String: String], now: Date) -> Bool {
        switch condition {
        case .subscribed: !contact.subscriptions.isEmpty
        case .paused: (contact.alertsPausedUntil ?? .distantPast) > now
        case .hasOpenKit: contact.kit?.status == .open
        case .hasLiveReport: contact.hasLiveReport
        case .makingKit: contact.activeFlow == "kit"
        case .areasCovered: library.covers(AreaCodes.split(vars["areas"] ?? vars["area"]))
        case .addressCovered: Self.district(ofAddress: vars["address"] ?? "").map { library.covers([$0]) } ?? true
        case .hasKit: contact.kit != nil
        case .kitLimitReached: contact.kitLimitReached
        case .canBeCheckedOn: spot.hasOnCall || contact.buddies.contains(where: \.confirmed)
        case .hasPendingBuddy: contact.buddies.contains { !$0.confirmed }
        case .hasBuddy: contact.buddies.contains(where: \.confirmed)
        case .hasOnCall: spot.hasOnCall
        case .hasBuddies: !contact.buddies.isEmpty
        case .buddiesFull: contact.buddies.count >= BuddyAsk.maxPerPerson
        case .placeGiven: vars["place"]?.isEmpty == false
        case .noNaloxone: vars["naloxone"] == "none"
        case .hasOpenTalk: contact.talk != nil
        case .canTalk: talk.hasPeers && !contact.talkBlocked
        case .peersOnDuty: talk.hours.isOnDuty(at: now)
        case .hasSupplies: !library.supplies.isEmpty
        case .itemsCanPost: Supply.chosen(vars["kind"], from: library.supplies).allSatisfy(\.supply.post)
        case .itemsCanCollect: Supply.chosen(vars["kind"], from: library.supplies).allSatisfy(\.supply.collect)
        case .hasPickupPoints: !library.pickupPoints(for: AreaCodes.split(vars["area"])).isEmpty
        }
    }

}
