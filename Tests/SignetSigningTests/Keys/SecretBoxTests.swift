import Crypto
import Foundation
import Testing
@testable import SignetSigning

/// Published vectors: NaCl's tests (core1/core2 for HSalsa20, stream/stream2/stream3 for
/// (X)Salsa20, onetimeauth and secretbox for the 131-byte message) and RFC 8439 for Poly1305.
@Suite("SecretBox (XSalsa20-Poly1305)")
struct SecretBoxTests {
    static let firstKey = KeyTestSupport.bytes("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389")
    static let nonce = KeyTestSupport.bytes("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37")
    static let plaintext = KeyTestSupport.bytes("""
        be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c6129
        6cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde
        048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705
        """)
    static let tag = KeyTestSupport.bytes("f3ffc7703f9400e52a7dfb4b3d3305d9")
    static let ciphertext = KeyTestSupport.bytes("""
        8e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c972
        71d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da
        99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5
        """)

    @Test func vectorLengths() {
        #expect(Self.plaintext.count == 131)
        #expect(Self.ciphertext.count == 131)
    }

    struct HSalsaCase: Sendable, CustomStringConvertible {
        let name: String, key: String, input: String, output: String
        var description: String { name }
    }

    @Test(arguments: [
        // NaCl tests/core1.c: the X25519 shared secret of the box test and a zero input.
        HSalsaCase(name: "core1", key: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
                   input: "00000000000000000000000000000000",
                   output: "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389"),
        // NaCl tests/core2.c: the first 16 nonce bytes under firstkey.
        HSalsaCase(name: "core2", key: "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389",
                   input: "69696ee955b62b73cd62bda875fc73d6",
                   output: "dc908dda0b9344a953629b733820778880f3ceb421bb61b91cbd4c3e66256ce4"),
    ])
    func hsalsa20(_ c: HSalsaCase) {
        let out = Salsa20.hsalsa20(key: KeyTestSupport.bytes(c.key), input: KeyTestSupport.bytes(c.input))
        #expect(KeyTestSupport.hex(out) == c.output)
    }

    /// NaCl tests/stream3.c: the first 32 bytes of XSalsa20(firstkey, nonce) (the Poly1305 key
    /// of the secretbox vector).
    @Test func xsalsa20FirstBytes() {
        var out = [UInt8](repeating: 0, count: 32)
        Salsa20.xsalsa20XOR(&out, key: Self.firstKey, nonce: Self.nonce)
        #expect(KeyTestSupport.hex(out) == "eea6a7251c1e72916d11c2cb214d3c252539121d8e234e652d651fa4c8cff880")
    }

    /// NaCl tests/stream.c and stream2.c: SHA-256 of 4 MiB of keystream, through XSalsa20 and
    /// through Salsa20 with the HSalsa20 subkey; also checks that starting mid-stream agrees.
    @Test func xsalsa20LongStream() {
        let expected = "662b9d0e3463029156069b12f918691a98f7dfb2ca0393c96bbfc6b1fbd630a2"
        var stream = [UInt8](repeating: 0, count: 4_194_304)
        Salsa20.xsalsa20XOR(&stream, key: Self.firstKey, nonce: Self.nonce)
        #expect(KeyTestSupport.hex(SHA256.hash(data: stream)) == expected)

        var tail = [UInt8](repeating: 0, count: 1000)
        Salsa20.xsalsa20XOR(&tail, key: Self.firstKey, nonce: Self.nonce, offset: 100_003)
        #expect(tail == Array(stream[100_003..<101_003]))

        var salsa = [UInt8](repeating: 0, count: 4_194_304)
        Salsa20.xor(&salsa, key: KeyTestSupport.bytes("dc908dda0b9344a953629b733820778880f3ceb421bb61b91cbd4c3e66256ce4"),
                    nonce: KeyTestSupport.bytes("8219e0036b7a0b37"))
        #expect(salsa == stream)
    }

    struct PolyCase: Sendable, CustomStringConvertible {
        let name: String, key: String, message: [UInt8], tag: String
        var description: String { name }
    }

    static let ietfText = Array("""
        Any submission to the IETF intended by the Contributor for publication as all or part of an IETF \
        Internet-Draft or RFC and any statement made within the context of an IETF activity is considered \
        an "IETF Contribution". Such statements include oral statements in IETF sessions, as well as written \
        and electronic communications made at any time or place, which are addressed to
        """.utf8)

    @Test(arguments: [
        PolyCase(name: "RFC 8439 2.5.2", key: "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
                 message: Array("Cryptographic Forum Research Group".utf8), tag: "a8061dc1305136c6c22b8baf0c0127a9"),
        PolyCase(name: "RFC 8439 A.3 #1", key: String(repeating: "00", count: 32),
                 message: [UInt8](repeating: 0, count: 64), tag: "00000000000000000000000000000000"),
        PolyCase(name: "RFC 8439 A.3 #2", key: String(repeating: "00", count: 16) + "36e5f6b5c5e06070f0efca96227a863e",
                 message: ietfText, tag: "36e5f6b5c5e06070f0efca96227a863e"),
        PolyCase(name: "RFC 8439 A.3 #3", key: "36e5f6b5c5e06070f0efca96227a863e" + String(repeating: "00", count: 16),
                 message: ietfText, tag: "f3477e7cd95417af89a6b8794c310cf0"),
        PolyCase(name: "RFC 8439 A.3 #5", key: "02" + String(repeating: "00", count: 31),
                 message: [UInt8](repeating: 0xff, count: 16), tag: "03000000000000000000000000000000"),
        PolyCase(name: "RFC 8439 A.3 #6", key: "02" + String(repeating: "00", count: 15) + String(repeating: "ff", count: 16),
                 message: KeyTestSupport.bytes("02" + String(repeating: "00", count: 15)), tag: "03000000000000000000000000000000"),
        PolyCase(name: "RFC 8439 A.3 #7", key: "01" + String(repeating: "00", count: 31),
                 message: KeyTestSupport.bytes(String(repeating: "ff", count: 16) + "f0" + String(repeating: "ff", count: 15) + "11" + String(repeating: "00", count: 15)),
                 tag: "05000000000000000000000000000000"),
        PolyCase(name: "RFC 8439 A.3 #8", key: "01" + String(repeating: "00", count: 31),
                 message: KeyTestSupport.bytes(String(repeating: "ff", count: 16) + "fb" + String(repeating: "fe", count: 15) + String(repeating: "01", count: 16)),
                 tag: "00000000000000000000000000000000"),
        PolyCase(name: "RFC 8439 A.3 #9", key: "02" + String(repeating: "00", count: 31),
                 message: KeyTestSupport.bytes("fd" + String(repeating: "ff", count: 15)), tag: "faffffffffffffffffffffffffffffff"),
        // NaCl tests/onetimeauth.c: the secretbox vector's ciphertext under its Poly1305 key.
        PolyCase(name: "NaCl onetimeauth", key: "eea6a7251c1e72916d11c2cb214d3c252539121d8e234e652d651fa4c8cff880",
                 message: SecretBoxTests.ciphertext, tag: "f3ffc7703f9400e52a7dfb4b3d3305d9"),
    ])
    func poly1305(_ c: PolyCase) {
        #expect(KeyTestSupport.hex(Poly1305.authenticate(c.message, key: KeyTestSupport.bytes(c.key))) == c.tag)
    }

    /// NaCl tests/secretbox.c and secretbox2.c.
    @Test func naclSecretboxVector() throws {
        let box = try SecretBox.seal(Self.plaintext, key: Self.firstKey, nonce: Self.nonce)
        #expect(Array(box) == Self.tag + Self.ciphertext)
        let opened = try SecretBox.open(Self.tag + Self.ciphertext, key: Self.firstKey, nonce: Self.nonce)
        #expect(Array(opened) == Self.plaintext)
    }

    @Test(arguments: [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000])
    func roundTrip(length: Int) throws {
        let key = (0..<32).map { UInt8($0) }
        let nonce = (0..<24).map { UInt8(100 + $0) }
        let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let box = try SecretBox.seal(message, key: key, nonce: nonce)
        #expect(box.count == length + SecretBox.overhead)
        #expect(Array(try SecretBox.open(box, key: key, nonce: nonce)) == message)
    }

    enum Tamper: String, CaseIterable, Sendable { case tag, ciphertext, key, nonce, truncated, short }

    @Test(arguments: Tamper.allCases)
    func tamperedBoxIsRejected(_ tamper: Tamper) throws {
        var key = Self.firstKey, nonce = Self.nonce
        var box = Self.tag + Self.ciphertext
        switch tamper {
        case .tag: box[3] ^= 1
        case .ciphertext: box[100] ^= 0x80
        case .key: key[0] ^= 1
        case .nonce: nonce[23] ^= 1
        case .truncated: box.removeLast()
        case .short: box = Array(box[0..<15])
        }
        let error = #expect(throws: SignetSigningError.self) {
            try SecretBox.open(box, key: key, nonce: nonce)
        }
        #expect(error?.code == .authenticationFailed)
    }

    @Test func badSizesAreErrors() {
        #expect(throws: SignetSigningError.self) { try SecretBox.seal([1], key: [UInt8](repeating: 0, count: 31), nonce: Self.nonce) }
        #expect(throws: SignetSigningError.self) { try SecretBox.open(Self.tag, key: Self.firstKey, nonce: [UInt8](repeating: 0, count: 12)) }
    }
}
