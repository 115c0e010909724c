import Foundation
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Synchronization
import X509

/// The serving certificate and key, re-read when their files change.
///
/// Every TLS handshake takes the identity current at that moment (NIOSSL's context callback), so a
/// rotated Secret is picked up without a restart or dropped connections. A pair that does not load,
/// or whose key does not match the certificate (a rotation caught half-way), is reported and the
/// last good pair keeps serving.
public final class ReloadingTLSIdentity: Sendable {
    public let certificatePath: String
    public let keyPath: String

    struct Identity: Sendable {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        var fingerprint: FileFingerprint
    }

    private let current: Mutex<Identity>

    /// Loads the pair once; throws `.tls` when it cannot be used.
    public init(certificatePath: String, keyPath: String) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.current = Mutex(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
    }

    static func load(certificatePath: String, keyPath: String) throws -> Identity {
        let fingerprint = FileFingerprint.of([certificatePath, keyPath])
        let certPEM: String, keyPEM: String
        do {
            certPEM = try String(contentsOfFile: certificatePath, encoding: .utf8)
            keyPEM = try String(contentsOfFile: keyPath, encoding: .utf8)
        } catch {
            throw SignetAdmissionError(.tls, "cannot read the tls certificate or key", underlying: error)
        }
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(certPEM.utf8))
            key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        } catch {
            throw SignetAdmissionError(.tls, "tls certificate or key is not valid PEM", underlying: error)
        }
        guard !chain.isEmpty else { throw SignetAdmissionError(.tls, "tls certificate file holds no certificate") }
        // The key must belong to the first certificate.
        do {
            let leaf = try Certificate(pemEncoded: certPEM)
            let privateKey = try Certificate.PrivateKey(pemEncoded: keyPEM)
            guard leaf.publicKey == privateKey.publicKey else {
                throw SignetAdmissionError(.tls, "tls key does not match the certificate")
            }
        } catch let error as SignetAdmissionError {
            throw error
        } catch {
            throw SignetAdmissionError(.tls, "tls certificate or key could not be parsed", underlying: error)
        }
        return Identity(chain: chain, key: key, fingerprint: fingerprint)
    }

    /// Re-reads the files when their fingerprint changed. Returns true when a new pair was taken,
    /// false when nothing changed; throws (keeping the last good pair) when the new pair is unusable.
    @discardableResult
    public func reloadIfChanged() throws -> Bool {
        let old = current.withLock { $0.fingerprint }
        let now = FileFingerprint.of([certificatePath, keyPath])
        guard now != old else { return false }
        do {
            let identity = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
            current.withLock { $0 = identity }
            return true
        } catch {
            // Remember the bad fingerprint so the error is reported once per change.
            current.withLock { $0.fingerprint = now }
            throw error
        }
    }

    /// A server configuration whose handshakes use the current pair. TLS 1.2 minimum.
    public func serverConfiguration() -> TLSConfiguration {
        let identity = current.withLock { $0 }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: identity.chain.map { .certificate($0) },
            privateKey: .privateKey(identity.key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.sslContextCallback = { [self] _, promise in
            let identity = self.current.withLock { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = identity.chain.map { .certificate($0) }
            override.privateKey = .privateKey(identity.key)
            promise.succeed(override)
        }
        return configuration
    }
}
