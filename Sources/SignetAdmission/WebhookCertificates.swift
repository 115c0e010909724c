import Crypto
import Foundation
import SwiftASN1
import X509

/// A CA and a serving certificate for the webhook, ECDSA P-256, as `signet cert` writes them.
///
/// The API server trusts the CA through the webhook configurations' `caBundle` (base64 of `ca.crt`);
/// the serving certificate names every `--dns` entry (the Service's DNS names).
public struct WebhookCertificates: Sendable {
    /// PEM of the CA certificate (`ca.crt`).
    public let caCertificatePEM: String
    /// PEM of the serving certificate (`tls.crt`), followed by nothing else.
    public let certificatePEM: String
    /// PEM PKCS#8 of the serving key (`tls.key`). Secret: never log it.
    public let privateKeyPEM: String

    /// Base64 of `ca.crt`: the `caBundle` of a webhook configuration.
    public var caBundle: String { Data(caCertificatePEM.utf8).base64EncodedString() }

    /// Generates a fresh CA (`CN=signet-webhook-ca`) and a serving certificate for `dnsNames`
    /// (IP literals become IP SANs), valid from one hour ago for `validity`.
    public static func generate(dnsNames: [String], validity: Duration = .seconds(365 * 24 * 3600),
                                now: Date = Date()) throws -> WebhookCertificates {
        guard let first = dnsNames.first else {
            throw SignetAdmissionError(.certificate, "at least one dns name is required")
        }
        do {
            let notBefore = now.addingTimeInterval(-3600)
            let notAfter = now.addingTimeInterval(TimeInterval(validity.components.seconds))
            let caKey = P256.Signing.PrivateKey()
            let caName = try DistinguishedName { CommonName("signet-webhook-ca") }
            let ca = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: .init(caKey.publicKey),
                notValidBefore: notBefore,
                notValidAfter: notAfter,
                issuer: caName,
                subject: caName,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: Certificate.PublicKey(caKey.publicKey))
                },
                issuerPrivateKey: .init(caKey))

            let key = P256.Signing.PrivateKey()
            let names: [GeneralName] = dnsNames.map { name in
                if let ip = Self.ipAddressBytes(name) { return .ipAddress(ASN1OctetString(contentBytes: ip[...])) }
                return .dnsName(name)
            }
            let leaf = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: .init(key.publicKey),
                notValidBefore: notBefore,
                notValidAfter: notAfter,
                issuer: caName,
                subject: try DistinguishedName { CommonName(String(first.prefix(64))) },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(names)
                    AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: Certificate.PublicKey(caKey.publicKey)).keyIdentifier)
                },
                issuerPrivateKey: .init(caKey))
            return WebhookCertificates(
                caCertificatePEM: try ca.serializeAsPEM().pemString + "\n",
                certificatePEM: try leaf.serializeAsPEM().pemString + "\n",
                privateKeyPEM: key.pemRepresentation + "\n")
        } catch let error as SignetAdmissionError {
            throw error
        } catch {
            throw SignetAdmissionError(.certificate, "could not create the webhook certificates", underlying: error)
        }
    }

    /// Writes `ca.crt`, `tls.crt` (0644) and `tls.key` (0600) into `directory`, creating it.
    public func write(to directory: URL) throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            try Self.write(caCertificatePEM, to: directory.appendingPathComponent("ca.crt"), mode: 0o644)
            try Self.write(certificatePEM, to: directory.appendingPathComponent("tls.crt"), mode: 0o644)
            try Self.write(privateKeyPEM, to: directory.appendingPathComponent("tls.key"), mode: 0o600)
        } catch {
            throw SignetAdmissionError(.io, "could not write certificates to \(directory.path)", underlying: error)
        }
    }

    static func write(_ text: String, to url: URL, mode: Int) throws {
        let fm = FileManager.default
        // Create with the final mode first so a key is never readable by others, even briefly.
        _ = fm.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: mode])
        try fm.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        try Data(text.utf8).write(to: url)
    }

    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
