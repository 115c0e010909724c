import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import SignetOCI
import Synchronization

/// Connection-level limits of the webhook listener, against clients that open connections and
/// never finish them (slowloris, half-done TLS handshakes, unfinished bodies).
public struct ConnectionLimits: Sendable {
    /// Connections held at once. Beyond it the oldest connection that is not processing a request
    /// (handshaking, reading, or idle between requests) is closed to make room, so a flood of
    /// unfinished connections cannot keep a real client (the API server, a probe) out.
    public var maxConnections: Int
    /// From accept, or from the first byte of a request's head, until the request's end: the TLS
    /// handshake, the header and the body must arrive within this time.
    public var requestReadTimeout: Duration
    /// A keep-alive connection with no request for this long is closed.
    public var idleTimeout: Duration

    public init(maxConnections: Int = 512, requestReadTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(90)) {
        self.maxConnections = max(1, maxConnections)
        self.requestReadTimeout = requestReadTimeout
        self.idleTimeout = idleTimeout
    }
}

/// The open connections of one listener, oldest first, and which of them are processing a request.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        let channel: any Channel
        let sequence: UInt64
        var busy: Bool
    }
    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var sequence: UInt64 = 0
        var evicted: UInt64 = 0
    }
    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    var count: Int { state.withLock { $0.entries.count } }
    var evictions: UInt64 { state.withLock { $0.evicted } }

    /// Registers `channel`; returns the connection to close when over the limit: the oldest one
    /// not processing a request (possibly `channel` itself, when every other one is busy).
    func register(_ channel: any Channel) -> (any Channel)? {
        state.withLock { s in
            s.sequence &+= 1
            s.entries[ObjectIdentifier(channel)] = Entry(channel: channel, sequence: s.sequence, busy: false)
            guard s.entries.count > limit else { return nil }
            var victim: Entry?
            for e in s.entries.values where !e.busy {
                if let v = victim, v.sequence <= e.sequence { continue }
                victim = e
            }
            guard let victim else { return nil }
            s.entries[ObjectIdentifier(victim.channel)] = nil
            s.evicted &+= 1
            return victim.channel
        }
    }

    func setBusy(_ channel: any Channel, _ busy: Bool) {
        state.withLock { s in s.entries[ObjectIdentifier(channel)]?.busy = busy }
    }

    func remove(_ channel: any Channel) {
        state.withLock { s in s.entries[ObjectIdentifier(channel)] = nil }
    }
}

/// Enforces `ConnectionLimits` on one connection: a timer from accept (covering the TLS handshake)
/// until a request's end, none while the request is processed (the admission deadline bounds
/// that), the idle timer after each response.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let registry: ConnectionRegistry
    let limits: ConnectionLimits
    private var timer: Scheduled<Void>?
    private var registered = false

    init(registry: ConnectionRegistry, limits: ConnectionLimits) {
        self.registry = registry
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        registered = true
        if let victim = registry.register(context.channel) { victim.close(promise: nil) }
        arm(context, limits.requestReadTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if registered { registry.remove(context.channel); registered = false }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if registered { registry.remove(context.channel); registered = false }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            arm(context, limits.requestReadTimeout)
        case .body:
            break
        case .end:
            timer?.cancel()
            timer = nil
            registry.setBusy(context.channel, true)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            registry.setBusy(context.channel, false)
            arm(context, limits.idleTimeout)
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ duration: Duration) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: .nanoseconds(duration.wholeNanoseconds)) {
            channel.close(promise: nil)
        }
    }
}
