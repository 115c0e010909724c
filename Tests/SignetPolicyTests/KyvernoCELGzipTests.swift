import Foundation
import SignetCEL
@testable import SignetPolicy
import SignetPrimitives
import Testing

/// Kyverno's `gzip.decompress` / `gzip.compress` CEL functions.
@Suite struct KyvernoCELGzipTests {
    /// Streams written by Python's `gzip` module (zlib): fixed, stored, dynamic Huffman blocks,
    /// a named member, two members.
    @Test(arguments: [
        ("H4sIAAAAAAAC/8tIzcnJBwCGphA2BQAAAA==", "hello"),
        ("H4sIAAAAAAAC/wMAAAAAAAAAAAA=", ""),
        ("H4sIAAAAAAAA/wERAO7/c3RvcmVkIGJsb2NrIHRleHR7MdgzEQAAAA==", "stored block text"),
        ("H4sICAAAAAAC/2ZpbGUudHh0AMtLzE1NUchNzU1KLQIArLc7QwwAAAA=", "named member"),
        ("H4sIAAAAAAAC/0vLLCouUQAA/HrxHAYAAAAfiwgAAAAAAAL/K05Nzs9LAQBpER+2BgAAAA==", "first second"),
    ])
    func decompressesZlibStreams(_ base64: String, _ expected: String) throws {
        let v = try KyvernoCELLibraryExtrasTests.eval("gzip.decompress(base64.decode('\(base64)'))")
        #expect(v == .string(expected), "\(v)")
    }

    @Test(arguments: [
        // 75,000 bytes ("kyverno policy " × 5000) in 198 bytes: long back-references
        ("H4sIAAAAAAAC/+3HsQkAIAwAsFf8TRykYsVB8HvvEJItcU/bM8vK0estoaqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqvpDHzj3cyH4JAEA",
         "6bfa584a2adad329c2e6f0e31e82f5042c86b49c88d1620fb4cfa894ef6c1594"),
    ])
    func decompressesLargeOutput(_ base64: String, _ sha256: String) throws {
        let v = try KyvernoCELLibraryExtrasTests.eval("sha256(gzip.decompress(base64.decode('\(base64)')))")
        #expect(v == .string(sha256), "\(v)")
    }

    @Test(arguments: [0, 1, 65_535, 65_536, 200_000])
    func compressRoundTrips(_ size: Int) throws {
        let input = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let gz = KyvernoCELGzip.compress(input)
        #expect(gz.prefix(4) == [0x1F, 0x8B, 8, 0])
        guard case .success(let out) = KyvernoCELGzip.decompress(gz) else {
            Issue.record("round trip failed")
            return
        }
        #expect(out == input)
        #expect(try KyvernoCELLibraryExtrasTests.eval("gzip.decompress(gzip.compress('héllo'))") == .string("héllo"))
    }

    /// Truncations and bit flips of real streams: an error value or some output, never a trap.
    @Test func mangledStreamsNeverTrap() throws {
        let streams = ["H4sIAAAAAAAC/8tIzcnJBwCGphA2BQAAAA==", "H4sICAAAAAAC/2ZpbGUudHh0AMtLzE1NUchNzU1KLQIArLc7QwwAAAA="]
            .compactMap { Data(base64Encoded: $0).map { [UInt8]($0) } }
        #expect(streams.count == 2)
        for s in streams {
            for n in 0..<s.count {
                if case .success = KyvernoCELGzip.decompress(Array(s.prefix(n))) { Issue.record("prefix \(n) decoded") }
            }
            for i in s.indices {
                for mask: UInt8 in [0x01, 0x80, 0xFF] {
                    var m = s
                    m[i] ^= mask
                    _ = KyvernoCELGzip.decompress(m)
                }
            }
        }
        #expect(try KyvernoCELLibraryExtrasTests.eval("gzip.decompress(b'not gzip')").errorValue != nil)
        // trailing garbage after a member is an invalid header, as in Go
        var trailing = streams[0]
        trailing += [0, 0]
        if case .success = KyvernoCELGzip.decompress(trailing) { Issue.record("trailing garbage accepted") }
    }

    @Test func decompressionBombIsAnError() {
        let bomb = KyvernoCELGzip.compress([UInt8](repeating: 0, count: KyvernoCELGzip.maximumOutputBytes + 1))
        guard case .failure(let f) = KyvernoCELGzip.decompress(bomb) else {
            Issue.record("bomb decompressed")
            return
        }
        #expect(f.text.contains("larger than"))
    }
}
