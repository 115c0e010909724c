import Foundation
import Testing
@testable import SignetPrimitives

struct QuantityTests {
    /// (input, value as "coefficient e exponent" text, format) — Kubernetes' TestQuantityParse table.
    static let parses: [(String, String, Quantity.Format)] = [
        ("0", "0", .decimalSI), ("0n", "0", .decimalSI), ("0u", "0", .decimalSI), ("0m", "0", .decimalSI),
        ("0Ki", "0", .binarySI), ("0k", "0", .decimalSI), ("0Mi", "0", .binarySI), ("0M", "0", .decimalSI),
        ("0Gi", "0", .binarySI), ("0G", "0", .decimalSI), ("0Ti", "0", .binarySI), ("0T", "0", .decimalSI),
        ("1", "1", .decimalSI),
        ("1Ki", "1024", .binarySI), ("8Ki", "8192", .binarySI), ("7Mi", "7340032", .binarySI),
        ("6Gi", "6442450944", .binarySI), ("5Ti", "5497558138880", .binarySI),
        ("4Pi", "4503599627370496", .binarySI), ("3Ei", "3458764513820540928", .binarySI),
        ("10Ti", "10995116277760", .binarySI), ("100Ti", "109951162777600", .binarySI),
        ("5n", "5e-9", .decimalSI), ("4u", "4e-6", .decimalSI), ("3m", "3e-3", .decimalSI), ("9", "9", .decimalSI),
        ("8k", "8e3", .decimalSI), ("50k", "5e4", .decimalSI), ("7M", "7e6", .decimalSI), ("6G", "6e9", .decimalSI),
        ("5T", "5e12", .decimalSI), ("40T", "4e13", .decimalSI), ("300T", "3e14", .decimalSI), ("2P", "2e15", .decimalSI),
        ("1E", "1e18", .decimalSI),
        ("1E-3", "1e-3", .decimalExponent), ("1e3", "1e3", .decimalExponent), ("1E6", "1e6", .decimalExponent),
        ("1e9", "1e9", .decimalExponent), ("1E12", "1e12", .decimalExponent), ("1e15", "1e15", .decimalExponent),
        ("1E18", "1e18", .decimalExponent), ("1e14", "1e14", .decimalExponent), ("1e13", "1e13", .decimalExponent),
        ("100.035k", "100035", .decimalSI),
        ("0.001", "1e-3", .decimalSI), ("0.0005k", "5e-1", .decimalSI), ("0.005", "5e-3", .decimalSI),
        ("0.05", "5e-2", .decimalSI), ("0.5", "5e-1", .decimalSI), ("0.00050k", "5e-1", .decimalSI),
        ("0.00500", "5e-3", .decimalSI), ("0.05000", "5e-2", .decimalSI), ("0.50000", "5e-1", .decimalSI),
        ("0.5e0", "5e-1", .decimalExponent), ("0.5e-1", "5e-2", .decimalExponent), ("0.5e-2", "5e-3", .decimalExponent),
        ("10.035M", "10035e3", .decimalSI),
        ("1.2e3", "12e2", .decimalExponent), ("1.3E+6", "13e5", .decimalExponent), ("1.40e9", "14e8", .decimalExponent),
        ("1.53E12", "153e10", .decimalExponent), ("1.6e15", "16e14", .decimalExponent), ("1.7E18", "17e17", .decimalExponent),
        ("9.01", "901e-2", .decimalSI), ("8.1k", "81e2", .decimalSI), ("7.123456M", "7123456", .decimalSI),
        ("6.987654321G", "6987654321", .decimalSI), ("5.444T", "5444e9", .decimalSI), ("40.1T", "401e11", .decimalSI),
        ("300.2T", "3002e11", .decimalSI), ("2.5P", "25e14", .decimalSI), ("1.01E", "101e16", .decimalSI),
        ("3.001n", "4e-9", .decimalSI), ("1.1E-9", "2e-9", .decimalExponent), ("0.0000000001", "1e-9", .decimalSI),
        ("0.0000000005", "1e-9", .decimalSI), ("0.00000000050", "1e-9", .decimalSI), ("0.5e-9", "1e-9", .decimalExponent),
        ("0.9n", "1e-9", .decimalSI), ("0.00000012345", "124e-9", .decimalSI), ("0.00000012354", "124e-9", .decimalSI),
        ("9Ei", "9223372036854775807", .binarySI), ("9223372036854775807Ki", "9223372036854775807", .binarySI),
        ("12E", "12e18", .decimalSI),
        ("100.035Ki", "10243584e-2", .binarySI), ("0.5Mi", "524288", .binarySI), ("0.05Gi", "536870912e-1", .binarySI),
        ("0.025Ti", "274877906944e-1", .binarySI),
        ("0.000000000001Ki", "2e-9", .decimalSI), (".001", "1e-3", .decimalSI), (".0001k", "100e-3", .decimalSI),
        ("1.", "1", .decimalSI), ("1.G", "1e9", .decimalSI),
        // Accepted by Kubernetes as zero.
        ("-", "0", .decimalSI), (".", "0", .decimalSI), ("Ki", "0", .binarySI), ("m", "0", .decimalSI),
        ("+5", "5", .decimalSI), ("-1.5", "-15e-1", .decimalSI),
        // Hostile: exponents are truncated to 32 bits as Kubernetes does; no trap.
        ("1e-9223372036854775808", "1", .decimalExponent),
        ("1e4294967296", "1", .decimalExponent),
        ("1e4294967297", "10", .decimalExponent),
        ("1e-2147483648", "1e-9", .decimalExponent),
        ("1e2147483647", "1e2147483647", .decimalExponent),
        ("123456789012345678901234567890", "123456789012345678901234567890", .decimalSI),
        ("99999999999999999999999999Ei", "9223372036854775807", .binarySI),
        ("-16Ei", "-9223372036854775807", .binarySI),
    ]

    static func value(_ text: String) -> (Int128, Int) {
        let parts = text.split(separator: "e")
        let c = Int128(String(parts[0])) ?? 0
        let e = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        return (c, e)
    }

    @Test(arguments: parses)
    func parsesLikeKubernetes(_ input: String, _ expected: String, _ format: Quantity.Format) throws {
        let q = try Quantity(parsing: input)
        let (c, e) = Self.value(expected)
        let want = c == 0 ? Quantity(0) : try Quantity(parsing: "\(c)e\(e)")
        #expect(q == want, "\(q.coefficient)e\(q.exponent)")
        #expect(q.format == format)
        if !input.hasPrefix("-") && !input.hasPrefix("+") {
            let negative = try Quantity(parsing: "-" + input)
            #expect(negative == want.negated())
        }
    }

    static let invalid: [String] = [
        "", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", " 1", "1 ",
        "1K", "1e", "1EE", "1e1.5", "1e99999999999999999999", "1Mb", "--1", "+-1", "1e+", "0x10", "1,000",
        String(repeating: "1", count: 2000),
    ]

    @Test(arguments: invalid)
    func rejects(_ input: String) {
        #expect(throws: PrimitivesError.self) { try Quantity(parsing: input) }
    }

    @Test func tooManyDigitsIsAnError() {
        let error = #expect(throws: PrimitivesError.self) {
            try Quantity(parsing: "1234567890123456789012345678901234567890123")
        }
        #expect(error?.code == .overflow)
    }

    /// Kubernetes' TestQuantityString / TestQuantityParseEmit: input → String().
    static let prints: [(String, String)] = [
        ("1Gi", "1Gi"), ("1024Mi", "1Gi"), ("300Mi", "300Mi"), ("307200Ki", "300Mi"), ("6Ki", "6Ki"),
        ("1001Gi", "1001Gi"), ("1025024Mi", "1001Gi"), ("1Ti", "1Ti"), ("1024Gi", "1Ti"),
        ("5", "5"), ("5000m", "5"), ("500m", "500m"), ("0.5", "500m"), ("1G", "1G"), ("1000M", "1G"),
        ("0.001T", "1G"), ("1m", "1m"), ("1000u", "1m"), ("80m", "80m"), ("1080m", "1080m"), ("1.08", "1080m"),
        ("1080000000n", "1080m"), ("300M", "300M"), ("1T", "1T"), ("1234567M", "1234567M"), ("3k", "3k"),
        ("1025", "1025"), ("0", "0"), ("1e9", "1e9"), (".001e12", "1e9"), ("1e-3", "1e-3"), ("0.001e0", "1e-3"),
        ("1e-9", "1e-9"), ("1000e-12", "1e-9"), ("80e-3", "80e-3"), ("300e6", "300e6"), ("1e12", "1e12"),
        ("1e3", "1e3"), ("3e3", "3e3"), ("00", "0"), ("1n", "1n"), ("80n", "80n"), ("1080n", "1080n"),
        ("1u", "1u"), ("80u", "80u"), ("1080u", "1080u"),
        ("1Ki", "1Ki"), ("1Mi", "1Mi"), (".001Ki", "1024m"), (".000001Ki", "1024u"), (".000000001Ki", "1024n"),
        (".000000000001Ki", "2n"), ("1.5k", "1500"), ("1.5Gi", "1536Mi"), ("1.5", "1500m"), ("0.5Ki", "512"),
        ("1.5Ki", "1536"), ("0.1Ki", "102400m"), ("1.0001Ki", "1024102400u"), ("1.0k", "1k"),
        ("+1k", "+1k"), ("010", "010"), ("01Ki", "01Ki"), ("-0", "0"), ("8Ki", "8Ki"), ("1Ei", "1Ei"),
        ("9Ei", "9223372036854775807"), ("1000E", "1000E"), ("-1.5", "-1500m"), ("-1Gi", "-1Gi"), ("1.1E-9", "2e-9"),
        ("12e6", "12e6"), ("1.5e3", "1500"), ("1e4294967297", "10"),
    ]

    @Test(arguments: prints)
    func printsLikeKubernetes(_ input: String, _ expected: String) throws {
        #expect(try Quantity(parsing: input).description == expected)
    }

    @Test func compares() throws {
        func q(_ s: String) throws -> Quantity { try Quantity(parsing: s) }
        #expect(try q("1Gi") > q("1G"))
        #expect(try q("1000m") == q("1"))
        #expect(try q("1k") == q("1e3"))
        #expect(try q("-1") < q("0"))
        #expect(try q("-2") < q("-1"))
        #expect(try q("1n") > q("0"))
        #expect(try q("1e2147483647") > q("9Ei"))
        #expect(try q("999m") < q("1"))
        #expect(try q("1.000000001") > q("1"))
        #expect(try Set([q("1k"), q("1000"), q("1e3")]).count == 1)
    }

    @Test func arithmetic() throws {
        func q(_ s: String) throws -> Quantity { try Quantity(parsing: s) }
        #expect(try q("1Gi").adding(q("512Mi")).description == "1536Mi")
        #expect(try q("1").adding(q("500m")).description == "1500m")
        #expect(try q("1").subtracting(q("1500m")).description == "-500m")
        #expect(try q("0").adding(q("1Ki")).format == .binarySI)
        #expect(try q("100m").multiplied(by: 30).description == "3")
        #expect(try q("7Ei").adding(q("7Ei")).description == "14Ei")
        #expect(throws: PrimitivesError.self) { try q("1e2147483647").adding(q("1")) }
        #expect(throws: PrimitivesError.self) { try q("99999999999999999999999999999999999999").multiplied(by: 10) }
        #expect(throws: PrimitivesError.self) { try q("9Ei").multiplied(by: .max).multiplied(by: .max) }
    }

    @Test func conversions() throws {
        func q(_ s: String) throws -> Quantity { try Quantity(parsing: s) }
        #expect(try q("1.5").int64Value == 2)
        #expect(try q("-1.5").int64Value == -2)
        #expect(try q("1Ki").int64Value == 1024)
        #expect(try q("1n").int64Value == 1)
        #expect(try q("1.5").milliValue == 1500)
        #expect(try q("1n").milliValue == 1)
        #expect(try q("1e19").int64Value == nil)
        #expect(try q("1e2147483647").milliValue == nil)
        #expect(try q("1.5").exactInt64 == nil)
        #expect(try q("2k").exactInt64 == 2000)
        #expect(try q("1.5Gi").approximateDouble == 1610612736)
        #expect(try q("100m").approximateDouble == 0.1)
        #expect(try q("1e2147483647").approximateDouble == .infinity)
        #expect(try q("-3").sign == -1)
        #expect(try q("1").scaledValue(.min) == nil)
        #expect(try q("1").scaledValue(.max) == 1)
        #expect(try q("-1").scaledValue(.max) == -1)
        #expect(try q("1k").scaledValue(3) == 1)
        #expect(Quantity(5).description == "5")
        #expect(Quantity(milli: 1500).description == "1500m")
        #expect(Quantity(2048, format: .binarySI).description == "2Ki")
    }
}
