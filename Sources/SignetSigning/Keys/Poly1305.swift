/// The Poly1305 one-time authenticator (RFC 8439 section 2.5), as NaCl's secretbox uses it.
///
/// The accumulator is kept in five 26-bit limbs so that every product fits in 64 bits, and the
/// final reduction selects between `h` and `h - p` with a mask instead of a branch.
enum Poly1305 {
    static let keySize = 32
    static let tagSize = 16

    /// The 16-byte tag of `message` under the 32-byte one-time `key` (`r || s`).
    static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        precondition(key.count == keySize)
        let mask26: UInt64 = 0x3ff_ffff
        // r, clamped (RFC 8439 2.5.1), split into 26-bit limbs.
        let r0 = UInt64(load32(key, 0)) & 0x3ff_ffff
        let r1 = UInt64(load32(key, 3) >> 2) & 0x3ff_ff03
        let r2 = UInt64(load32(key, 6) >> 4) & 0x3ff_c0ff
        let r3 = UInt64(load32(key, 9) >> 6) & 0x3f0_3fff
        let r4 = UInt64(load32(key, 12) >> 8) & 0x00f_ffff
        let s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5

        var h0: UInt64 = 0, h1: UInt64 = 0, h2: UInt64 = 0, h3: UInt64 = 0, h4: UInt64 = 0
        var block = [UInt8](repeating: 0, count: 17)
        var offset = 0
        while offset < message.count {
            let n = min(16, message.count - offset)
            for i in 0..<16 { block[i] = i < n ? message[offset + i] : 0 }
            // Each block gets a 1 byte appended: bit 128 for full blocks, else right after it.
            var hibit: UInt64 = 1 << 24
            if n < 16 {
                block[n] = 1
                hibit = 0
            }
            h0 += UInt64(load32(block, 0)) & mask26
            h1 += UInt64(load32(block, 3) >> 2) & mask26
            h2 += UInt64(load32(block, 6) >> 4) & mask26
            h3 += UInt64(load32(block, 9) >> 6) & mask26
            h4 += UInt64(load32(block, 12) >> 8) | hibit

            // h *= r mod 2^130 - 5 (2^130 = 5 mod p, hence the s = 5r terms).
            let d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1
            var d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2
            var d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3
            var d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4
            var d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0
            var c = d0 >> 26; h0 = d0 & mask26
            d1 += c; c = d1 >> 26; h1 = d1 & mask26
            d2 += c; c = d2 >> 26; h2 = d2 & mask26
            d3 += c; c = d3 >> 26; h3 = d3 & mask26
            d4 += c; c = d4 >> 26; h4 = d4 & mask26
            h0 += c * 5; c = h0 >> 26; h0 &= mask26
            h1 += c
            offset += 16
        }

        // Fully carry h.
        var c = h1 >> 26; h1 &= mask26
        h2 += c; c = h2 >> 26; h2 &= mask26
        h3 += c; c = h3 >> 26; h3 &= mask26
        h4 += c; c = h4 >> 26; h4 &= mask26
        h0 += c * 5; c = h0 >> 26; h0 &= mask26
        h1 += c

        // g = h + 5 - 2^130; use g when it did not go negative (h >= p), without branching.
        var g0 = h0 &+ 5; c = g0 >> 26; g0 &= mask26
        var g1 = h1 &+ c; c = g1 >> 26; g1 &= mask26
        var g2 = h2 &+ c; c = g2 >> 26; g2 &= mask26
        var g3 = h3 &+ c; c = g3 >> 26; g3 &= mask26
        let g4 = h4 &+ c &- (1 << 26)
        let useG = (g4 >> 63) &- 1  // all ones when g4 >= 0, zero when it borrowed
        let useH = ~useG
        h0 = (h0 & useH) | (g0 & useG)
        h1 = (h1 & useH) | (g1 & useG)
        h2 = (h2 & useH) | (g2 & useG)
        h3 = (h3 & useH) | (g3 & useG)
        h4 = (h4 & useH) | (g4 & useG & mask26)

        // h mod 2^128, then + s.
        let w0 = (h0 | h1 << 26) & 0xffff_ffff
        let w1 = (h1 >> 6 | h2 << 20) & 0xffff_ffff
        let w2 = (h2 >> 12 | h3 << 14) & 0xffff_ffff
        let w3 = (h3 >> 18 | h4 << 8) & 0xffff_ffff
        var f = w0 + UInt64(load32(key, 16))
        var tag = [UInt8]()
        tag.reserveCapacity(tagSize)
        store32(&tag, UInt32(truncatingIfNeeded: f))
        f = w1 + UInt64(load32(key, 20)) + (f >> 32)
        store32(&tag, UInt32(truncatingIfNeeded: f))
        f = w2 + UInt64(load32(key, 24)) + (f >> 32)
        store32(&tag, UInt32(truncatingIfNeeded: f))
        f = w3 + UInt64(load32(key, 28)) + (f >> 32)
        store32(&tag, UInt32(truncatingIfNeeded: f))
        return tag
    }

    /// Compares two tags in time independent of where they differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    private static func load32(_ b: [UInt8], _ i: Int) -> UInt32 { Salsa20.load32(b, i) }
    private static func store32(_ out: inout [UInt8], _ w: UInt32) { Salsa20.store32(&out, w) }
}
