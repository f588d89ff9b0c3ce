import Foundation
import HTTPTypes
import Hummingbird
import LanternCore
import LanternStore
import NIOCore

/// TALK from the console: open chats by reference only, and one chat's texts live while its page
/// is open (nothing is stored, so a page shows only what arrives while it is open). A coordinator
/// answers as a peer would from a phone; the first to answer, anywhere, takes it.
extension ConsoleRoutes {
    func registerTalk(on console: RouterGroup<LanternRequestContext>) {
        console.get("talk") { request, _ in
            try await signedIn(request) { session in
                let time = now()
                let chats = try await database.openTalks().map { t in
                    TalkRow(ref: t.ref, state: t.takenInConsoleBy.map { "answered in the console by \($0)" } ?? (t.taken ? "answered by a peer" : "waiting for a peer"),
                            quiet: Self.quiet(since: t.lastAt, now: time))
                }
                return pages.render("talk", TalkListPage(chrome: session.chrome, chats: chats, hasChats: !chats.isEmpty,
                                                         hasPeers: !talkPeers.numbers.isEmpty))
            }
        }
        console.get("talk/:ref") { request, context in
            try await signedIn(request) { session in
                guard let ref = context.parameters.get("ref").flatMap({ ReferenceCode.parse($0, prefix: "T") }),
                      let chat = try await database.openTalks().first(where: { $0.ref == ref }) else {
                    return pages.render("message", Message(title: "TALK", chrome: session.chrome, heading: "No open chat with that reference",
                                                           message: "It may have ended.", link: "/console/talk", linkText: "Open chats"),
                                        status: .notFound)
                }
                let notice = request.uri.queryParameters.get("said").map { "\($0)" }
                return pages.render("talk_thread", TalkThreadPage(
                    chrome: session.chrome, ref: ref, notice: notice,
                    state: chat.takenInConsoleBy.map { $0 == session.account.name ? "You have this chat." : "\($0) has this chat in the console." }
                        ?? (chat.taken ? "A peer has this chat on their phone." : "Nobody has answered yet: the first to answer takes it.")))
            }
        }
        // Server-sent events: each text as it is relayed, to this page only, never stored.
        console.get("talk/:ref/events") { request, context in
            guard try await session(request) != nil,
                  let ref = context.parameters.get("ref").flatMap({ ReferenceCode.parse($0, prefix: "T") }) else {
                return Response(status: .unauthorized)
            }
            let (_, lines) = await talkHub.watch(ref)
            let events = lines.map { line in
                ByteBuffer(string: "data: " + line.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ") + "\n\n")
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                            body: ResponseBody(asyncSequence: events))
        }
        console.post("talk/:ref") { request, context in
            try await posted(request, context) { session, form in
                guard let ref = context.parameters.get("ref").flatMap({ ReferenceCode.parse($0, prefix: "T") }) else {
                    return Self.redirect("/console/talk")
                }
                let command: PeerCommand = switch form["action"] {
                case "end": .close
                case "block": .block
                default: .answer(form["text"] ?? "")
                }
                let result = try await database.consolePeerReply(ref: ref, account: session.account.name, command: command, peers: talkPeers,
                                                                 words: ConversationService.talkWords(library), now: now())
                await outboxWakeUp.notify()
                let said: String
                switch result {
                case .sent:
                    if case .answer(let words) = command { await talkHub.publish(ref, "\(session.account.name): \(words)") }
                    said = "Sent."
                case .closed, .blocked:
                    await talkHub.publish(ref, "\(session.account.name) closed this chat.")
                    return Self.redirect("/console/talk")
                case .takenByAnother: said = "Another peer has this chat: your text was not sent."
                case .unknown: return Self.redirect("/console/talk")
                case .overLimit: said = "You have sent a lot today: not sent. Ask another peer to pick it up."
                case .empty: said = "Write something first."
                case .duplicate: said = ""
                }
                return Self.redirect("/console/talk/\(ref)?said=\(said.addingPercentEncoding(withAllowedCharacters: Self.queryValue) ?? "")")
            }
        }
    }

    /// "12 minutes", "3 hours": how long the chat has been quiet.
    static func quiet(since: Date, now: Date) -> String {
        let m = Int(max(0, now.timeIntervalSince(since)) / 60)
        return m < 60 ? "\(m) minute\(m == 1 ? "" : "s")" : "\(m / 60) hour\(m / 60 == 1 ? "" : "s")"
    }

    struct TalkRow {
        let ref: String
        let state: String
        let quiet: String
    }

    struct TalkListPage {
        let title = "TALK"
        let chrome: Chrome
        let chats: [TalkRow]
        let hasChats: Bool
        let hasPeers: Bool
    }

    struct TalkThreadPage {
        let title = "TALK chat"
        let script = true
        let chrome: Chrome
        let ref: String
        let notice: String?
        let state: String
    }
}
