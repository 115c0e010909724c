import Foundation
import Testing
@testable import SignetPrimitives

struct GoDurationTests {
    /// Go's time.ParseDuration test table (facts from Go's documented behaviour).
    static let valid: [(String, Int64)] = [
        ("0", 0), ("+0", 0), ("-0", 0),
        ("5s", 5_000_000_000), ("30s", 30_000_000_000), ("1478s", 1_478_000_000_000),
        ("-5s", -5_000_000_000), ("+5s", 5_000_000_000),
        ("5.6s", 5_600_000_000), ("5.s", 5_000_000_000), (".5s", 500_000_000),
        ("1.0s", 1_000_000_000), ("1.00s", 1_000_000_000), ("1.004s", 1_004_000_000),
        ("1.0040s", 1_004_000_000), ("100.00100s", 100_001_000_000),
        ("10ns", 10), ("11us", 11_000), ("12µs", 12_000), ("12μs", 12_000), ("13ms", 13_000_000),
        ("14s", 14_000_000_000), ("15m", 900_000_000_000), ("16h", 57_600_000_000_000),
        ("3h30m", 12_600_000_000_000), ("10.5s4m", 250_500_000_000), ("-2m3.4s", -123_400_000_000),
        ("1h2m3s4ms5us6ns", 3_723_004_005_006), ("39h9m14.425s", 140_954_425_000_000),
        ("52763797000ns", 52_763_797_000), ("0.3333333333333333333h", 1_200_000_000_000),
        ("9007199254740993ns", 9_007_199_254_740_993),
        ("9223372036854775807ns", .max), ("9223372036854775.807us", .max),
        ("9223372036854ms775us807ns", .max),
        ("-9223372036854775808ns", .min), ("-9223372036854775.808us", .min),
        ("-2562047h47m16.854775808s", .min),
        ("0.100000000000000000000h", 360_000_000_000),
        ("0.830103483285477580700h", 2_988_372_539_827),
        ("1.5h", 5_400_000_000_000), ("-1.5h", -5_400_000_000_000), ("300ms", 300_000_000), ("2us", 2_000),
        ("2µs", 2_000), ("1h2m3.5s", 3_723_500_000_000),
    ]

    @Test(arguments: valid)
    func parses(_ text: String, _ ns: Int64) throws {
        #expect(try GoDuration(parsing: text).nanoseconds == ns)
    }

    static let invalid: [String] = [
        "", "3", "-", "s", ".", "-.", ".s", "+.s", "1d", "1 s", " 1s", "1s ", "1.2.3s", "--1s", "+-1s",
        "9223372036854775808ns", "9223372036854775.808us", "9223372036854ms775us808ns",
        "-9223372036854775809ns", "1000000000000000000000s", "3000000h", "2562048h",
        "99999999999999999999999999999999999999h", "1e3s", "1S", "1H", "0x10s", "1.5", "1h1",
        String(repeating: "9", count: 10_000) + "s",
    ]

    @Test(arguments: invalid)
    func rejects(_ text: String) {
        let error = #expect(throws: PrimitivesError.self) { try GoDuration(parsing: text) }
        #expect(error?.code == .invalidDuration)
    }

    @Test func messages() {
        #expect(throws: PrimitivesError.self) { try GoDuration(parsing: "1d") }
        do { _ = try GoDuration(parsing: "1d") } catch let e as PrimitivesError {
            #expect(e.message == #"time: unknown unit "d" in duration "1d""#)
        } catch {}
        do { _ = try GoDuration(parsing: "1µ") } catch let e as PrimitivesError {
            #expect(e.message == #"time: unknown unit "\xc2\xb5" in duration "1\xc2\xb5""#)
        } catch {}
        do { _ = try GoDuration(parsing: "3") } catch let e as PrimitivesError {
            #expect(e.message == #"time: missing unit in duration "3""#)
        } catch {}
        do { _ = try GoDuration(parsing: "1000000000000000000000s") } catch let e as PrimitivesError {
            #expect(e.message == #"time: invalid duration "1000000000000000000000s""#)
        } catch {}
    }

    static let strings: [(Int64, String)] = [
        (0, "0s"), (1, "1ns"), (1_100, "1.1µs"), (2_200_000, "2.2ms"), (3_300_000_000, "3.3s"),
        (245_000_000_000, "4m5s"), (245_001_000_000, "4m5.001s"), (18_367_001_000_000, "5h6m7.001s"),
        (480_000_000_001, "8m0.000000001s"), (.max, "2562047h47m16.854775807s"),
        (.min, "-2562047h47m16.854775808s"), (-1_500, "-1.5µs"), (3_600_000_000_000, "1h0m0s"),
        (1_500, "1.5µs"), (60_000_000_000, "1m0s"), (-1, "-1ns"),
    ]

    @Test(arguments: strings)
    func prints(_ ns: Int64, _ text: String) throws {
        let d = GoDuration(nanoseconds: ns)
        #expect(d.description == text)
        #expect(try GoDuration(parsing: text) == d)
    }

    @Test func swiftDurationAndOrder() throws {
        #expect(try GoDuration(parsing: "1m30s").swiftDuration == .seconds(90))
        #expect(try GoDuration(parsing: "1ms") < GoDuration(parsing: "2ms"))
        #expect(GoDuration(nanoseconds: .min).swiftDuration < .zero)
    }
}
