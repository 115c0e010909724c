/// The Salsa20 family used by NaCl's secretbox: the Salsa20/20 core, HSalsa20 and the XSalsa20
/// stream (D. J. Bernstein, "The Salsa20 family of stream ciphers" and "Extending the Salsa20
/// nonce", https://cr.yp.to/snuffle/xsalsa-20081128.pdf).
///
/// Written here because no library available to this package exposes it.
enum Salsa20 {
    /// "expand 32-byte k" as four little-endian words.
    static let sigma: (UInt32, UInt32, UInt32, UInt32) = (0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574)

    /// The 16-word state before the rounds: constants on the diagonal, key words around them,
    /// and the 16-byte input (nonce and counter) in words 6...9.
    @inline(__always)
    static func initialState(key: [UInt8], input: [UInt8]) -> [UInt32] {
        precondition(key.count == 32 && input.count == 16)
        return [
            sigma.0, load32(key, 0), load32(key, 4), load32(key, 8),
            load32(key, 12), sigma.1, load32(input, 0), load32(input, 4),
            load32(input, 8), load32(input, 12), sigma.2, load32(key, 16),
            load32(key, 20), load32(key, 24), load32(key, 28), sigma.3,
        ]
    }

    /// Ten double rounds (column round then row round) over `x`, in place.
    @inline(__always)
    static func rounds(_ x: inout [UInt32]) {
        x.withUnsafeMutableBufferPointer { x in
            @inline(__always) func qr(_ a: Int, _ b: Int, _ c: Int, _ d: Int) {
                x[b] ^= (x[a] &+ x[d]).rotatedLeft(7)
                x[c] ^= (x[b] &+ x[a]).rotatedLeft(9)
                x[d] ^= (x[c] &+ x[b]).rotatedLeft(13)
                x[a] ^= (x[d] &+ x[c]).rotatedLeft(18)
            }
            for _ in 0..<10 {
                // Column round.
                qr(0, 4, 8, 12); qr(5, 9, 13, 1); qr(10, 14, 2, 6); qr(15, 3, 7, 11)
                // Row round.
                qr(0, 1, 2, 3); qr(5, 6, 7, 4); qr(10, 11, 8, 9); qr(15, 12, 13, 14)
            }
        }
    }

    /// HSalsa20: the rounds without the final addition; output words 0, 5, 10, 15, 6, 7, 8, 9.
    static func hsalsa20(key: [UInt8], input: [UInt8]) -> [UInt8] {
        var x = initialState(key: key, input: input)
        rounds(&x)
        var out = [UInt8]()
        out.reserveCapacity(32)
        for i in [0, 5, 10, 15, 6, 7, 8, 9] { store32(&out, x[i]) }
        return out
    }

    /// XORs `data` with the Salsa20/20 keystream for `key` and the 8-byte `nonce`, starting at
    /// the keystream byte `offset` (the block counter starts at 0).
    static func xor(_ data: inout [UInt8], key: [UInt8], nonce: [UInt8], offset: Int = 0) {
        precondition(nonce.count == 8 && offset >= 0)
        let base = initialState(key: key, input: nonce + [UInt8](repeating: 0, count: 8))
        var block = [UInt32](repeating: 0, count: 16)
        var stream = [UInt8](repeating: 0, count: 64)
        var counter = UInt64(offset / 64)
        var skip = offset % 64
        var position = 0
        while position < data.count {
            block = base
            block[8] = UInt32(truncatingIfNeeded: counter)
            block[9] = UInt32(truncatingIfNeeded: counter >> 32)
            let start = block
            rounds(&block)
            for i in 0..<16 {
                let w = block[i] &+ start[i]
                stream[4 * i] = UInt8(truncatingIfNeeded: w)
                stream[4 * i + 1] = UInt8(truncatingIfNeeded: w >> 8)
                stream[4 * i + 2] = UInt8(truncatingIfNeeded: w >> 16)
                stream[4 * i + 3] = UInt8(truncatingIfNeeded: w >> 24)
            }
            let n = min(64 - skip, data.count - position)
            for i in 0..<n { data[position + i] ^= stream[skip + i] }
            position += n
            skip = 0
            counter &+= 1
        }
    }

    /// XSalsa20: HSalsa20 of the key and the first 16 nonce bytes gives a subkey, which runs
    /// Salsa20 with the last 8 nonce bytes.
    static func xsalsa20XOR(_ data: inout [UInt8], key: [UInt8], nonce: [UInt8], offset: Int = 0) {
        precondition(key.count == 32 && nonce.count == 24)
        let subkey = hsalsa20(key: key, input: Array(nonce[0..<16]))
        xor(&data, key: subkey, nonce: Array(nonce[16..<24]), offset: offset)
    }

    @inline(__always)
    static func load32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    @inline(__always)
    static func store32(_ out: inout [UInt8], _ w: UInt32) {
        out.append(UInt8(truncatingIfNeeded: w))
        out.append(UInt8(truncatingIfNeeded: w >> 8))
        out.append(UInt8(truncatingIfNeeded: w >> 16))
        out.append(UInt8(truncatingIfNeeded: w >> 24))
    }
}

extension UInt32 {
    @inline(__always)
    fileprivate func rotatedLeft(_ n: UInt32) -> UInt32 { (self << n) | (self >> (32 - n)) }
}
