import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import InventoryStore
import Logging
import NIOCore
import NIOSSL

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

    public static func run(inventory: Inventory, host: String, port: Int, options: PortalOptions, tls: TLSFiles?, logger: Logger,
                           onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let portal = Portal(inventory: inventory, options: options, logger: logger)
        let server: HTTPServerBuilder
        if let tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            server = try .tls(.http1(), tlsConfiguration: TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        } else {
            server = .http1()
        }
        let app = Application(router: portal.router(), server: server,
                              configuration: .init(address: .hostname(host, port: port), serverName: "parc"),
                              onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
                              logger: logger)
        try await app.runService()
    }
}
