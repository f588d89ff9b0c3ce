import Foundation
import LanternCore
import LanternProviders
import LanternServer
import LanternStore
import LanternTesting
import Logging
import Testing

/// A provider whose first send never returns (the process is "killed" mid-request).
private struct HangingProvider: SMSProvider {
    let name = "twilio"
    let sendsAreIdempotent = false
    let receivesWebhooks = true
    let acknowledgement = WebhookAcknowledgement(contentType: "text/plain", body: "")
    let started: AsyncStream<Int64>.Continuation
    func inboundMessage(from request: WebhookRequest) throws(WebhookRejection) -> InboundMessage { throw .ignored("") }
    func deliveryReport(from request: WebhookRequest) throws(WebhookRejection) -> DeliveryReport { throw .ignored("") }
    func send(_ message: OutboundSMS) async -> SendOutcome {
        started.yield(message.outboxID)
        try? await Task.sleep(for: .seconds(3600))
        return .ambiguous(reason: "killed")
    }
}

@Suite struct InterruptedSendTests {
    @Test func onlyATextHandedToTheProviderIsUnknownAfterACrashTheRestAreSent() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.url.appendingPathComponent("t.sqlite").path
        let keys = VaultKeys.generate()
        let db = try AppDatabase.open(path: path, vault: PIIVault(keys: keys))
        let her = PhoneNumber("+447700900123")!
        for i in 1...3 {   // three replies to one person: sent one after another
            _ = try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: "SM\(i)", from: her, to: nil), now: Date()) { _, _ in
                EngineOutcome(replies: [Reply(key: "k", text: "reply \(i)")], effects: [], conversation: nil, decision: .fallback(flow: "menu", timedOut: false))
            }
        }
        let (stream, continuation) = AsyncStream<Int64>.makeStream()
        let sender = OutboxSender(database: db, providers: ["twilio": HangingProvider(started: continuation)], pacer: SendPacer(rate: 0),
                                  retry: RetryPolicy(), maxConcurrent: 10, wakeUp: OutboxWakeUp(), logger: Logger(label: "t"))
        let task = Task { try await sender.sendBatch() }
        var iterator = stream.makeAsyncIterator()
        let first = await iterator.next()
        // From here on nothing more is recorded: as far as the database can tell, this is kill -9.
        #expect(try await db.outboxCounts()[.sending] == 3)

        // Restart: the text that was in the HTTP client may have been sent; the two behind it were not.
        let reopened = try AppDatabase.open(path: path, vault: PIIVault(keys: keys))
        let recovered = try await reopened.recoverInterruptedSends(idempotentProviders: [], now: Date())
        #expect(recovered.unknown == 1 && recovered.requeued == 2)
        let again = try await reopened.claimDue(limit: 10, now: Date())
        #expect(again.map(\.text) == ["reply 2", "reply 3"])
        #expect(!again.contains { $0.id == first })
        task.cancel()
        _ = try? await task.value
    }
}

@Suite struct CountryGuardTests {
    @Test func theSenderNeverTextsAbroadWhateverQueuedIt() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.url.appendingPathComponent("t.sqlite").path, vault: PIIVault(keys: .generate()))
        for (n, number) in ["+447700900123", "+12025550123", "+8821300000001"].enumerated() {
            _ = try await db.handleInbound(InboundEnvelope(provider: "twilio", messageID: "SM\(n)", from: PhoneNumber(number)!, to: nil), now: Date()) { _, _ in
                EngineOutcome(replies: [Reply(key: "k", text: "hi")], effects: [], conversation: nil, decision: .fallback(flow: "menu", timedOut: false))
            }
        }
        let log = RecordingProvider.Log()
        let sender = OutboxSender(database: db, providers: ["twilio": RecordingProvider(log: log)], pacer: SendPacer(rate: 0),
                                  retry: RetryPolicy(), maxConcurrent: 10, wakeUp: OutboxWakeUp(), allowedCountryCodes: ["44"],
                                  logger: Logger(label: "t"))
        try await sender.sendBatch()
        #expect(await log.numbers == ["+447700900123"])
        let counts = try await db.outboxCounts()
        #expect(counts[.sent] == 1 && counts[.failed] == 2)
    }
}
