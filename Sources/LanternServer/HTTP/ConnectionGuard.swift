import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTPTypes
import Synchronization

/// How many connections are open, in all and per client address, shared by every connection of
/// one listener. Beyond either cap a new connection is closed at once: a flood of slow clients
/// cannot hold every slot while a webhook (perhaps an emergency) waits.
public final class ConnectionCount: Sendable {
    public let maxTotal: Int
    public let maxPerAddress: Int
    private let state = Mutex<(total: Int, byAddress: [String: Int])>((0, [:]))

    public init(maxTotal: Int, maxPerAddress: Int) {
        self.maxTotal = maxTotal
        self.maxPerAddress = maxPerAddress
    }

    /// Takes a slot for `address`; false (nothing taken) when a cap is reached.
    func open(_ address: String) -> Bool {
        state.withLock { s in
            guard s.total < maxTotal, s.byAddress[address, default: 0] < maxPerAddress else { return false }
            s.total += 1
            s.byAddress[address, default: 0] += 1
            return true
        }
    }

    func close(_ address: String) {
        state.withLock { s in
            s.total -= 1
            let left = s.byAddress[address, default: 1] - 1
            s.byAddress[address] = left > 0 ? left : nil
        }
    }

    public var open: Int { state.withLock { $0.total } }
}

/// One connection's guard: a whole request (headers and body) must arrive within `deadline` of
/// the connection opening (or, on a kept-alive connection, of the previous answer), however
/// slowly it trickles in; idle timeouts alone never catch a byte every two seconds.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let connections: ConnectionCount
    let deadline: TimeAmount
    let logger: Logger
    private var address: String?
    private var timer: Scheduled<Void>?

    init(connections: ConnectionCount, deadline: TimeAmount, logger: Logger) {
        self.connections = connections
        self.deadline = deadline
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard address == nil else { return }
        let remote = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard connections.open(remote) else {
            Counter(label: "lantern_connections_refused_total", dimensions: [("reason", "capacity")]).increment()
            logger.notice("connection refused: too many open", metadata: ["open": "\(connections.open)"])
            context.close(promise: nil)
            return
        }
        address = remote
        arm(context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if let address { connections.close(address) }
        address = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            // Received in full: the rest is ours to answer.
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(context) }   // the next request's time starts now
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let logger = self.logger
        timer = context.eventLoop.scheduleTask(in: deadline) {
            Counter(label: "lantern_connections_refused_total", dimensions: [("reason", "deadline")]).increment()
            logger.notice("connection closed: the request did not arrive in time")
            bound.value.close(promise: nil)
        }
    }
}
