import Foundation
import Testing
@testable import SignetPrimitives

struct CaseFoldingTests {
    static let known: [(UInt32, [UInt32])] = [
        (0x6B, [0x4B, 0x6B, 0x212A]), (0x73, [0x53, 0x73, 0x17F]), (0xB5, [0xB5, 0x39C, 0x3BC]),
        (0x3B8, [0x398, 0x3B8, 0x3D1, 0x3F4]), (0xDF, [0xDF, 0x1E9E]), (0x1C5, [0x1C4, 0x1C5, 0x1C6]),
        (0x130, [0x130]), (0x131, [0x131]), (0x41, [0x41, 0x61]), (0x31, [0x31]),
    ]

    @Test(arguments: known)
    func orbits(_ c: UInt32, _ expected: [UInt32]) {
        #expect(CaseFolding.orbit(of: c) == expected)
    }

    /// Compares with simple case-folding orbits from CaseFolding.txt (C and S entries), when a dump
    /// is at /tmp/gen/perl_orbits.txt (one orbit per line, hexadecimal). Differences are printed.
    @Test func againstCaseFoldingDump() throws {
        guard let text = try? String(contentsOfFile: "/tmp/gen/perl_orbits.txt", encoding: .utf8) else { return }
        var differences = 0
        var checked = 0
        for line in text.split(separator: "\n") {
            let orbit = line.split(separator: " ").compactMap { UInt32($0, radix: 16) }
            for c in orbit {
                checked += 1
                if CaseFolding.orbit(of: c) != orbit {
                    differences += 1
                    if differences <= 30 {
                        print("fold \(String(c, radix: 16)): have \(CaseFolding.orbit(of: c).map { String($0, radix: 16) }) want \(orbit.map { String($0, radix: 16) })")
                    }
                }
            }
        }
        let listed = Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt32($0, radix: 16) })
        let extra = CaseFolding.orbits.keys.filter { !listed.contains($0) }.sorted()
        print("case folding: \(checked - differences)/\(checked) scalars agree; \(extra.count) extra: \(extra.prefix(40).map { String($0, radix: 16) })")
    }
}
