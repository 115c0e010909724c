import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import SignetOCI
import Synchronization

/// Connection-level limits of the webhook listener, against clients that open connections and
/// never finish them (slowloris, half-done TLS handshakes, unfinished bodies).
public struct ConnectionLimits: Sendable {
    /// Connections held at once. Beyond it, of the connections not processing a request
    /// (handshaking, reading, or idle between requests), the one whose last byte arrived longest
    /// ago is closed to make room: a flood of silent or stalled connections cannot keep out a real
    /// client (the API server, a probe), which keeps sending while it handshakes.
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
        /// The registry's counter when a byte last arrived (or at accept).
        var lastActivity: UInt64
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

    /// Registers `channel`; returns the connection to close when over the limit: the one not
    /// processing a request whose last byte is the oldest (possibly `channel` itself, when every
    /// other one is busy).
    func register(_ channel: any Channel) -> (any Channel)? {
        state.withLock { s in
            s.sequence &+= 1
            s.entries[ObjectIdentifier(channel)] = Entry(channel: channel, lastActivity: s.sequence, busy: false)
            guard s.entries.count > limit else { return nil }
            var victim: Entry?
            for e in s.entries.values where !e.busy {
                if let v = victim, v.lastActivity <= e.lastActivity { continue }
                victim = e
            }
            guard let victim else { return nil }
            s.entries[ObjectIdentifier(victim.channel)] = nil
            s.evicted &+= 1
            return victim.channel
        }
    }

    /// Records that bytes arrived on `channel`.
    func touch(_ channel: any Channel) {
        state.withLock { s in
            s.sequence &+= 1
            s.entries[ObjectIdentifier(channel)]?.lastActivity = s.sequence
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
    // On HTTP/1 parts, next to the decoder: it sees every request, those `ImmediateReviewHandler`
    // answers before their conversion to HTTP types included.
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

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

/// Sees every raw read of a connection (before TLS) and tells the registry, which evicts the
/// connection whose bytes stopped arriving first.
final class ConnectionActivityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let registry: ConnectionRegistry

    init(registry: ConnectionRegistry) { self.registry = registry }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        registry.touch(context.channel)
        context.fireChannelRead(data)
    }
}

/// A child channel whose pipeline starts with `ConnectionActivityHandler`, then `base` (TLS, HTTP).
/// A Hummingbird HTTP/1 channel with handlers on HTTP/1 parts: after the HTTP/1 decoder and
/// encoder, ahead of the conversion to HTTP types (`additionalChannelHandlers` come after it). The
/// connection guard sees every request there, and the immediate reviews skip the conversion.
struct HTTP1PartsChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let handlers: @Sendable () -> [any ChannelHandler]

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let handlers = self.handlers
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandlers(handlers(), position: .before(try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let registry: ConnectionRegistry

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let registry = self.registry
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ConnectionActivityHandler(registry: registry))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
