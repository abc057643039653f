import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL
import ParcApp
import Synchronization

/// `parc serve`: the portal on one address, until SIGTERM or SIGINT (graceful shutdown through
/// swift-service-lifecycle).
public enum PortalServer {
    public struct TLSFiles: Sendable {
        public var certificate: String
        public var key: String
        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// What one client may hold of the server, so that slow or idle connections (slowloris)
    /// cannot take it from everyone else.
    public struct Limits: Sendable {
        /// A connection must have sent a whole request head within this (and, between
        /// requests, a new one): idle or trickling connections are closed.
        public var headerTimeout: TimeAmount = .seconds(20)
        /// A request's body must have arrived whole within this after its head.
        public var bodyTimeout: TimeAmount = .seconds(60)
        /// Open connections per client address (behind a reverse proxy every client has the
        /// proxy's address: the proxy limits its own clients, and this one is raised).
        public var connectionsPerAddress = 64
        /// Open connections in all, below the process's file limit.
        public var maxConnections = 4096

        public init() {}

        /// The limits `parc serve` uses, with the file limit raised as far as the system allows.
        public static func standard(behindProxy: Bool) -> Limits {
            var l = Limits()
            var rl = rlimit()
            if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &rl) == 0 {
                if rl.rlim_cur < rl.rlim_max { rl.rlim_cur = min(rl.rlim_max, 65_536); _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &rl) }
                _ = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &rl)
                // Room for the database, the devices' SSH sessions and the logs.
                l.maxConnections = max(64, min(l.maxConnections, Int(rl.rlim_cur) - 256))
            }
            if behindProxy { l.connectionsPerAddress = l.maxConnections }
            return l
        }
    }

    /// The server of `portal`, ready to run (`runService()`), or to test.
    public static func application(portal: Portal, host: String, port: Int, tls: TLSFiles?, limits: Limits, logger: Logger,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let counter = AddressCounter()
        let configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(limits: limits, counter: counter)], idleTimeout: limits.headerTimeout)
        let server: HTTPServerBuilder
        if let tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            server = try .tls(.http1(configuration: configuration),
                              tlsConfiguration: TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        } else {
            server = .http1(configuration: configuration)
        }
        return Application(router: portal.router(), server: server,
                           configuration: .init(address: .hostname(host, port: port), serverName: "parc",
                                                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
                           logger: logger)
    }

    public static func run(workspace: Workspace, host: String, port: Int, options: PortalOptions, tls: TLSFiles?, logger: Logger,
                           onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let portal = Portal(workspace: workspace, options: options, logger: logger)
        // Runs left "in progress" by a server that was killed end as interrupted, now and whenever
        // another process holding runs dies.
        let reaper = Task.detached(priority: .utility) {
            while !Task.isCancelled {
                do {
                    for id in try PlaybookRuns.endInterrupted(in: workspace) {
                        logger.warning("run ended as interrupted: its process is gone", metadata: ["run.id": "\(id)"])
                    }
                } catch {
                    logger.error("cannot end interrupted runs", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(30))
            }
        }
        defer { reaper.cancel() }
        let app = try application(portal: portal, host: host, port: port, tls: tls, limits: .standard(behindProxy: options.trustForwardedFor),
                                  logger: logger, onRunning: onRunning)
        try await app.runService()
    }
}

/// Open connections by client address, shared by every connection's ``ConnectionGuard``.
final class AddressCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// Counts one more connection from `address`; false (and not counted) when it has `cap` already.
    func open(_ address: String, cap: Int) -> Bool {
        counts.withLock { c in
            let n = c[address] ?? 0
            guard n < cap else { return false }
            c[address] = n + 1
            return true
        }
    }

    func close(_ address: String) {
        counts.withLock { c in
            let n = (c[address] ?? 1) - 1
            c[address] = n > 0 ? n : nil
        }
    }
}

/// One per connection: refuses a connection beyond its address's share, and closes one whose
/// request body does not arrive in time (the head's own deadline is Hummingbird's idle timeout).
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let limits: PortalServer.Limits
    let counter: AddressCounter
    private var address: String?
    private var bodyDeadline: Scheduled<Void>?

    init(limits: PortalServer.Limits, counter: AddressCounter) {
        self.limits = limits
        self.counter = counter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let peer = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if counter.open(peer, cap: limits.connectionsPerAddress) {
            address = peer
        } else {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        bodyDeadline?.cancel()
        bodyDeadline = nil
        if let address { counter.close(address) }
        address = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            bodyDeadline?.cancel()
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            bodyDeadline = context.eventLoop.scheduleTask(in: limits.bodyTimeout) { loopBound.value.close(promise: nil) }
        case .end:
            bodyDeadline?.cancel()
            bodyDeadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }
}
