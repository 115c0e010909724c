// RE2 (SignetPrimitives): the first line is the pattern (a policy author's), the rest the subject
// (an attacker's). Every operation the policies use must end, in time linear in the subject.
import Foundation
import FuzzSupport
import SignetPrimitives

@_cdecl("FuzzRE2_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
    let pattern = String(decoding: bytes[..<newline], as: UTF8.self)
    let subject = newline < bytes.count ? String(decoding: bytes[(newline + 1)...], as: UTF8.self) : ""
    guard let re = try? RE2(pattern) else { return 0 }
    let matched = re.matches(subject)
    let first = re.firstMatch(in: subject)
    Fuzz.invariant(matched == (first != nil), "matches and firstMatch disagree for /\(pattern.prefix(80))/")
    if let first {
        Fuzz.invariant(first.groups.count == re.numberOfCaptureGroups + 1, "group count differs from the pattern's")
    }
    _ = re.allMatches(in: subject, limit: 64)
    _ = re.replacingAll(in: subject, template: "<$1${name}$$>")
    _ = re.split(subject, limit: 16)
    return 0
}
