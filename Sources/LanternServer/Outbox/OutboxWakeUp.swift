import Foundation
import Logging
import ServiceLifecycle

/// Lets the sender sleep when there is nothing to send and wake the moment a reply is queued,
/// so a reply never waits for a polling interval.
public actor OutboxWakeUp {
    private var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
    private var pending = false
    private var nextID = 0

    public init() {}

    public func notify() {
        if let w = waiter {
            waiter = nil
            w.continuation.resume()
        } else {
            pending = true
        }
    }

    /// Returns when notified, or after `timeout`, whichever is first.
    func wait(timeout: Duration) async {
        if pending { pending = false; return }
        nextID += 1
        let id = nextID
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            waiter = (id, c)
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.expire(id)
            }
        }
    }

    /// Like `wait`, but also returns at once when graceful shutdown begins or the task is
    /// cancelled (e.g. another service failed to start): no service may hold up an exit.
    nonisolated func idle(upTo timeout: Duration) async {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await self.wait(timeout: timeout)
            } onGracefulShutdown: {
                Task { await self.notify() }
            }
        } onCancel: {
            Task { await self.notify() }
        }
    }

    private func expire(_ id: Int) {
        if let w = waiter, w.id == id {
            waiter = nil
            w.continuation.resume()
        }
    }
}

/// The shape every background service shares: do a step, wait (until woken, the tick passes,
/// shutdown begins or the task is cancelled), again. A failed step is logged and retried at the
/// next tick; cancellation ends the loop at once.
enum PeriodicLoop {
    static func run(every tick: Duration, wakeUp: OutboxWakeUp = OutboxWakeUp(), logger: Logger, failure: Logger.Message,
                    step: () async throws -> Void) async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { try await step() } catch is CancellationError { break } catch {
                logger.error(failure, metadata: ["error": "\(type(of: error))"])
            }
            await wakeUp.idle(upTo: tick)
        }
    }
}
