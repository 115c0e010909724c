import Foundation

// The math extension (cel-go `ext.Math`): greatest/least across numeric types, rounding, sign and
// classification of doubles, bit operations, square root.

extension CELExtensions {
    /// `math.greatest`, `math.least`, `math.ceil`, `math.floor`, `math.round`, `math.trunc`, `math.abs`,
    /// `math.sign`, `math.isNaN`, `math.isInf`, `math.isFinite`, `math.bitAnd`, `math.bitOr`, `math.bitXor`,
    /// `math.bitNot`, `math.bitShiftLeft`, `math.bitShiftRight`, `math.sqrt`.
    public static let math = CELLibrary(name: "cel.lib.ext.math", functions: [
        MathExt.extremum("math.greatest", sign: 1),
        MathExt.extremum("math.least", sign: -1),
        MathExt.rounding("math.ceil") { $0.rounded(.up) },
        MathExt.rounding("math.floor") { $0.rounded(.down) },
        MathExt.rounding("math.round") { $0.rounded(.toNearestOrAwayFromZero) },
        MathExt.rounding("math.trunc") { $0.rounded(.towardZero) },
        CELFunction("math.abs",
            .function("math_abs_int", .int) { v in
                guard case .int(let i) = v else { return Ext.noOverload("math.abs") }
                guard i != Int64.min else { return Ext.overflow("math.abs") }
                return .int(i < 0 ? -i : i)
            },
            .function("math_abs_uint", .uint) { v in v },
            .function("math_abs_double", .double) { v in
                guard case .double(let d) = v else { return Ext.noOverload("math.abs") }
                return .double(Swift.abs(d))
            }),
        CELFunction("math.sign",
            .function("math_sign_int", .int) { v in
                guard case .int(let i) = v else { return Ext.noOverload("math.sign") }
                return .int(i > 0 ? 1 : (i < 0 ? -1 : 0))
            },
            .function("math_sign_uint", .uint) { v in
                guard case .uint(let u) = v else { return Ext.noOverload("math.sign") }
                return .uint(u > 0 ? 1 : 0)
            },
            .function("math_sign_double", .double) { v in
                guard case .double(let d) = v else { return Ext.noOverload("math.sign") }
                if d.isNaN { return .double(d) }
                return .double(d > 0 ? 1 : (d < 0 ? -1 : 0))
            }),
        MathExt.classify("math.isNaN") { $0.isNaN },
        MathExt.classify("math.isInf") { $0.isInfinite },
        MathExt.classify("math.isFinite") { $0.isFinite },
        MathExt.bitwise("math.bitAnd", { $0 & $1 }, { $0 & $1 }),
        MathExt.bitwise("math.bitOr", { $0 | $1 }, { $0 | $1 }),
        MathExt.bitwise("math.bitXor", { $0 ^ $1 }, { $0 ^ $1 }),
        CELFunction("math.bitNot",
            .function("math_bitNot_int_int", .int) { v in
                guard case .int(let i) = v else { return Ext.noOverload("math.bitNot") }
                return .int(~i)
            },
            .function("math_bitNot_uint_uint", .uint) { v in
                guard case .uint(let u) = v else { return Ext.noOverload("math.bitNot") }
                return .uint(~u)
            }),
        MathExt.shift("math.bitShiftLeft", left: true),
        MathExt.shift("math.bitShiftRight", left: false),
        CELFunction("math.sqrt",
            .function("math_sqrt_double", .double) { v in
                guard case .double(let d) = v else { return Ext.noOverload("math.sqrt") }
                return .double(d.squareRoot())
            },
            .function("math_sqrt_int", .int) { v in
                guard case .int(let i) = v else { return Ext.noOverload("math.sqrt") }
                return .double(Double(i).squareRoot())
            },
            .function("math_sqrt_uint", .uint) { v in
                guard case .uint(let u) = v else { return Ext.noOverload("math.sqrt") }
                return .double(Double(u).squareRoot())
            }),
    ])
}

enum MathExt {
    static func isNumber(_ v: CELValue) -> Bool {
        switch v {
        case .int, .uint, .double: true
        default: false
        }
    }

    /// Picks the greatest (`sign` 1) or least (`sign` -1) of numeric values, keeping the winner's type.
    /// A comparison with NaN is false, so NaN is the result only when it comes first.
    static func pick(_ name: String, _ values: [CELValue], sign: Int) -> CELValue {
        guard var best = values.first else {
            return Ext.fail("\(name)(list) argument must not be empty")
        }
        guard isNumber(best) else { return Ext.noOverload(name) }
        for v in values.dropFirst() {
            guard isNumber(v) else { return Ext.noOverload(name) }
            if let c = ExtCompare.numericCompare(v, best), c * sign > 0 { best = v }
        }
        return best
    }

    static func extremum(_ name: String, sign: Int) -> CELFunction {
        CELFunction(name, [
            CELOverload.function("\(name)_dyn", .dyn, cost: Ext.perElement) { v in
                if case .list(let items) = v { return pick(name, items, sign: sign) }
                return isNumber(v) ? v : Ext.noOverload(name)
            },
            CELOverload.function("\(name)_variadic", parameters: [.dyn, .dyn], variadic: true,
                                 cost: Ext.perElement) { args in
                pick(name, args, sign: sign)
            },
        ])
    }

    static func rounding(_ name: String, _ op: @escaping @Sendable (Double) -> Double) -> CELFunction {
        CELFunction(name, .function("\(name)_double", .double) { v in
            guard case .double(let d) = v else { return Ext.noOverload(name) }
            return .double(op(d))
        })
    }

    static func classify(_ name: String, _ op: @escaping @Sendable (Double) -> Bool) -> CELFunction {
        CELFunction(name, .function("\(name)_double", .double) { v in
            guard case .double(let d) = v else { return Ext.noOverload(name) }
            return .bool(op(d))
        })
    }

    static func bitwise(_ name: String, _ intOp: @escaping @Sendable (Int64, Int64) -> Int64,
                        _ uintOp: @escaping @Sendable (UInt64, UInt64) -> UInt64) -> CELFunction {
        CELFunction(name,
            .function("\(name)_int_int", .int, .int) { a, b in
                guard case .int(let x) = a, case .int(let y) = b else { return Ext.noOverload(name) }
                return .int(intOp(x, y))
            },
            .function("\(name)_uint_uint", .uint, .uint) { a, b in
                guard case .uint(let x) = a, case .uint(let y) = b else { return Ext.noOverload(name) }
                return .uint(uintOp(x, y))
            })
    }

    /// Shifts are logical for both int and uint; offsets of 64 or more give 0; negative offsets fail.
    static func shift(_ name: String, left: Bool) -> CELFunction {
        @Sendable func apply(_ bits: UInt64, _ offset: Int64) -> UInt64 {
            guard offset < 64 else { return 0 }
            return left ? bits << UInt64(offset) : bits >> UInt64(offset)
        }
        return CELFunction(name,
            .function("\(name)_int_int", .int, .int) { a, b in
                guard case .int(let x) = a, case .int(let n) = b else { return Ext.noOverload(name) }
                guard n >= 0 else { return Ext.fail("\(name)() negative offset: \(n)") }
                return .int(Int64(bitPattern: apply(UInt64(bitPattern: x), n)))
            },
            .function("\(name)_uint_int", .uint, .int) { a, b in
                guard case .uint(let x) = a, case .int(let n) = b else { return Ext.noOverload(name) }
                guard n >= 0 else { return Ext.fail("\(name)() negative offset: \(n)") }
                return .uint(apply(x, n))
            })
    }
}

// MARK: - Encoders

extension CELExtensions {
    /// `base64.encode(bytes) -> string` and `base64.decode(string) -> bytes` (padding optional on decode).
    public static let encoders = CELLibrary(name: "cel.lib.ext.encoders", functions: [
        CELFunction("base64.encode",
            .function("base64_encode_bytes", .bytes, cost: Ext.linear()) { v in
                guard case .bytes(let b) = v else { return Ext.noOverload("base64.encode") }
                return .string(Base64Codec.encode(b))
            }),
        CELFunction("base64.decode",
            .function("base64_decode_string", .string, cost: Ext.linear()) { v in
                guard case .string(let s) = v else { return Ext.noOverload("base64.decode") }
                guard let bytes = Base64Codec.decode(s) else { return Ext.fail("illegal base64 data") }
                return .bytes(bytes)
            }),
    ])
}

/// Standard base64 (RFC 4648 §4).
enum Base64Codec {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(i + 1 < bytes.count ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(n & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes padded or unpadded standard base64; nil on any other character or bad length.
    static func decode(_ text: String) -> [UInt8]? {
        var chars = Array(text.utf8)
        if chars.count % 4 == 0 {
            // Strip up to two padding characters.
            var pads = 0
            while pads < 2, chars.last == UInt8(ascii: "=") {
                chars.removeLast()
                pads += 1
            }
        }
        guard chars.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in chars {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            default: return nil
            }
            acc = (acc << 6 | v) & 0xFFFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}
