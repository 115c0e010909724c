import SignetCEL

/// Kyverno's `kyverno.gzip` CEL library: `gzip.decompress(bytes) -> string` and
/// `gzip.compress(string) -> bytes` (kyverno/sdk `extensions/cel/libs/gzip`).
///
/// Decompression reads every member of a gzip stream (RFC 1952) as Go's `gzip.Reader` does,
/// checking each member's CRC-32 and size; the DEFLATE decoder (RFC 1951) is bounded: at most
/// `maximumInputBytes` in and `maximumOutputBytes` out (a decompression bomb is an error value),
/// every Huffman decode at most 15 steps. Bytes that are not UTF-8 are replaced (U+FFFD).
/// Compression writes stored (uncompressed) DEFLATE blocks with a zero modification time: a valid
/// gzip stream that decompresses to the input, though not Go's compressed bytes.
public enum KyvernoCELGzip {
    /// The largest compressed input accepted.
    public static let maximumInputBytes = 4 << 20
    /// The largest decompressed output (and compression input) accepted.
    public static let maximumOutputBytes = 16 << 20

    static let functions: [CELFunction] = [
        CELFunction("gzip.decompress", .function("decompress_bytes_string", .bytes, cost: .linear(base: 1, factor: 1)) { (b: CELValue) -> CELValue in
            guard let bytes = b.bytesValue else { return .error(.noMatchingOverload, "gzip.decompress") }
            switch decompress(bytes) {
            case .success(let out): return .string(String(decoding: out, as: UTF8.self))
            case .failure(let message): return .error(.invalidArgument, "gzip: \(message.text)")
            }
        }),
        CELFunction("gzip.compress", .function("compress_any_bytes", .dyn, cost: .linear(base: 1, factor: 0.1)) { (v: CELValue) -> CELValue in
            guard let s = v.stringValue else { return .error(.noMatchingOverload, "gzip.compress") }
            guard s.utf8.count <= maximumOutputBytes else { return .error(.invalidArgument, "gzip: input larger than \(maximumOutputBytes) bytes") }
            return .bytes(compress(Array(s.utf8)))
        }),
    ]

    /// `gzip.decompress` outside CEL (the fuzz harness): every member decompressed and
    /// concatenated, or nil for anything malformed or over the bounds.
    public static func decompressed(_ data: [UInt8]) -> [UInt8]? {
        try? decompress(data).get()
    }

    /// `gzip.compress` outside CEL: a gzip stream of stored blocks.
    public static func compressed(_ data: [UInt8]) -> [UInt8] { compress(data) }

    /// A decoding failure.
    struct Failure: Error { let text: String }

    // MARK: gzip framing (RFC 1952)

    /// Every member of `data`, decompressed and concatenated.
    static func decompress(_ data: [UInt8]) -> Result<[UInt8], Failure> {
        guard data.count <= maximumInputBytes else { return .failure(Failure(text: "input larger than \(maximumInputBytes) bytes")) }
        var out: [UInt8] = []
        var i = 0
        repeat {
            guard i + 10 <= data.count, data[i] == 0x1F, data[i + 1] == 0x8B, data[i + 2] == 8 else {
                return .failure(Failure(text: "invalid header"))
            }
            let flags = data[i + 3]
            guard flags & 0xE0 == 0 else { return .failure(Failure(text: "invalid header")) }
            i += 10
            if flags & 0x04 != 0 {  // FEXTRA
                guard i + 2 <= data.count else { return .failure(Failure(text: "unexpected end of header")) }
                let n = Int(data[i]) | Int(data[i + 1]) << 8
                i += 2 + n
            }
            for bit in [UInt8(0x08), 0x10] where flags & bit != 0 {  // FNAME, FCOMMENT: zero-terminated
                while i < data.count, data[i] != 0 { i += 1 }
                i += 1
            }
            if flags & 0x02 != 0 { i += 2 }  // FHCRC
            guard i <= data.count else { return .failure(Failure(text: "unexpected end of header")) }
            let start = out.count
            var inflater = Inflater(input: data, position: i, limit: maximumOutputBytes - out.count)
            do { try inflater.run(into: &out) } catch let f as Failure { return .failure(f) } catch { return .failure(Failure(text: "\(error)")) }
            i = inflater.bytePosition
            guard i + 8 <= data.count else { return .failure(Failure(text: "unexpected end of stream")) }
            let crc = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
            let size = UInt32(data[i + 4]) | UInt32(data[i + 5]) << 8 | UInt32(data[i + 6]) << 16 | UInt32(data[i + 7]) << 24
            i += 8
            guard crc == CRC32.checksum(out[start...]), size == UInt32(truncatingIfNeeded: out.count - start) else {
                return .failure(Failure(text: "invalid checksum"))
            }
        } while i < data.count
        return .success(out)
    }

    /// A gzip member of stored DEFLATE blocks (mtime 0, OS unknown as Go writes it).
    static func compress(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]
        var offset = 0
        repeat {
            let n = min(65_535, input.count - offset)
            let final: UInt8 = offset + n == input.count ? 1 : 0
            out += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += input[offset..<(offset + n)]
            offset += n
        } while offset < input.count
        let crc = CRC32.checksum(input[...])
        let size = UInt32(truncatingIfNeeded: input.count)
        for v in [crc, size] { out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        return out
    }
}

/// CRC-32 (IEEE 802.3, reflected, as gzip uses).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

/// A bounded DEFLATE decoder (RFC 1951 §3.2).
struct Inflater {
    let input: [UInt8]
    var position: Int
    let limit: Int
    var bitBuffer: UInt32 = 0
    var bitCount = 0

    init(input: [UInt8], position: Int, limit: Int) {
        self.input = input
        self.position = position
        self.limit = limit
    }

    /// The byte after the last one consumed (the stream ends byte-aligned).
    var bytePosition: Int { position }

    static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                                      4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// A canonical Huffman code: how many codes of each length, and the symbols in code order.
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) throws {
            for l in lengths { counts[l] += 1 }
            counts[0] = 0
            // over-subscribed codes are invalid (incomplete ones are allowed, as zlib allows one-code trees)
            var left = 1
            for len in 1...15 {
                left <<= 1
                left -= counts[len]
                guard left >= 0 else { throw KyvernoCELGzip.Failure(text: "invalid huffman code") }
            }
            var offsets = [Int](repeating: 0, count: 16)
            for len in 1..<15 { offsets[len + 1] = offsets[len] + counts[len] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, l) in lengths.enumerated() where l != 0 {
                symbols[offsets[l]] = symbol
                offsets[l] += 1
            }
        }
    }

    mutating func bits(_ n: Int) throws -> Int {
        while bitCount < n {
            guard position < input.count else { throw KyvernoCELGzip.Failure(text: "unexpected end of stream") }
            bitBuffer |= UInt32(input[position]) << UInt32(bitCount)
            position += 1
            bitCount += 8
        }
        let v = Int(bitBuffer & ((1 << UInt32(n)) - 1))
        bitBuffer >>= UInt32(n)
        bitCount -= n
        return v
    }

    /// One symbol: at most 15 bits read.
    mutating func decode(_ h: Huffman) throws -> Int {
        var code = 0, first = 0, index = 0
        for len in 1...15 {
            code |= try bits(1)
            let count = h.counts[len]
            if code - first < count { return h.symbols[index + code - first] }
            index += count
            first += count
            first <<= 1
            code <<= 1
        }
        throw KyvernoCELGzip.Failure(text: "invalid huffman code")
    }

    static let fixedLiterals: Huffman? = try? Huffman(lengths: (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 })
    static let fixedDistances: Huffman? = try? Huffman(lengths: [Int](repeating: 5, count: 30))

    mutating func run(into out: inout [UInt8]) throws {
        let start = out.count
        var final = false
        while !final {
            final = try bits(1) == 1
            switch try bits(2) {
            case 0:
                // stored: drop to a byte boundary, LEN and its complement
                bitBuffer = 0
                bitCount = 0
                guard position + 4 <= input.count else { throw KyvernoCELGzip.Failure(text: "unexpected end of stream") }
                let len = Int(input[position]) | Int(input[position + 1]) << 8
                let nlen = Int(input[position + 2]) | Int(input[position + 3]) << 8
                guard len == ~nlen & 0xFFFF else { throw KyvernoCELGzip.Failure(text: "invalid stored block length") }
                position += 4
                guard position + len <= input.count else { throw KyvernoCELGzip.Failure(text: "unexpected end of stream") }
                guard out.count - start + len <= limit else { throw KyvernoCELGzip.Failure(text: "output larger than \(limit) bytes") }
                out += input[position..<(position + len)]
                position += len
            case 1:
                guard let l = Self.fixedLiterals, let d = Self.fixedDistances else { throw KyvernoCELGzip.Failure(text: "internal error") }
                try codes(l, d, into: &out, start: start)
            case 2:
                let (l, d) = try dynamicTables()
                try codes(l, d, into: &out, start: start)
            default:
                throw KyvernoCELGzip.Failure(text: "invalid block type")
            }
        }
        // the trailer starts at the next byte
        bitBuffer = 0
        bitCount = 0
    }

    mutating func dynamicTables() throws -> (Huffman, Huffman) {
        let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
        guard nlen <= 286, ndist <= 30 else { throw KyvernoCELGzip.Failure(text: "invalid dynamic block") }
        var codeLengths = [Int](repeating: 0, count: 19)
        for k in 0..<ncode { codeLengths[Self.codeLengthOrder[k]] = try bits(3) }
        let lengthCode = try Huffman(lengths: codeLengths)
        var lengths: [Int] = []
        lengths.reserveCapacity(nlen + ndist)
        while lengths.count < nlen + ndist {
            let symbol = try decode(lengthCode)
            switch symbol {
            case 0...15: lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else { throw KyvernoCELGzip.Failure(text: "invalid repeat") }
                lengths += [Int](repeating: previous, count: 3 + (try bits(2)))
            case 17: lengths += [Int](repeating: 0, count: 3 + (try bits(3)))
            default: lengths += [Int](repeating: 0, count: 11 + (try bits(7)))
            }
        }
        guard lengths.count == nlen + ndist, lengths[256] != 0 else { throw KyvernoCELGzip.Failure(text: "invalid dynamic block") }
        return (try Huffman(lengths: Array(lengths[0..<nlen])), try Huffman(lengths: Array(lengths[nlen...])))
    }

    mutating func codes(_ literals: Huffman, _ distances: Huffman, into out: inout [UInt8], start: Int) throws {
        while true {
            let symbol = try decode(literals)
            if symbol < 256 {
                guard out.count - start < limit else { throw KyvernoCELGzip.Failure(text: "output larger than \(limit) bytes") }
                out.append(UInt8(symbol))
                continue
            }
            if symbol == 256 { return }
            let li = symbol - 257
            guard li < Self.lengthBase.count else { throw KyvernoCELGzip.Failure(text: "invalid length symbol") }
            let length = Self.lengthBase[li] + (try bits(Self.lengthExtra[li]))
            let di = try decode(distances)
            guard di < Self.distanceBase.count else { throw KyvernoCELGzip.Failure(text: "invalid distance symbol") }
            let distance = Self.distanceBase[di] + (try bits(Self.distanceExtra[di]))
            guard distance <= out.count - start else { throw KyvernoCELGzip.Failure(text: "invalid distance") }
            guard out.count - start + length <= limit else { throw KyvernoCELGzip.Failure(text: "output larger than \(limit) bytes") }
            for _ in 0..<length { out.append(out[out.count - distance]) }
        }
    }
}
