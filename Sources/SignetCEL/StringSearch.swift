#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Byte-wise (code point) string tests: CEL compares code points, not Unicode canonical equivalents, and
/// working on contiguous UTF-8 avoids per-character overhead.
public enum StringSearch {
    /// Code-point equality (CEL does not normalize: `'\u00E9' != 'e\u0301'`, unlike Swift's `==`).
    @inline(__always)
    public static func equal(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        // Byte-equal strings are canonically equal, so Swift's (fast, memcmp for ASCII) `==` rejects
        // most mismatches; only a canonical match needs the byte check.
        guard a == b else { return false }
        var a = a
        var b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                guard let x = pa.baseAddress, let y = pb.baseAddress else { return true }
                return memcmp(x, y, pa.count) == 0
            }
        }
    }

    /// Whether `s` begins with `prefix`, comparing UTF-8 bytes.
    public static func hasPrefix(_ s: String, _ prefix: String) -> Bool {
        var s = s
        var prefix = prefix
        return s.withUTF8 { a in
            prefix.withUTF8 { b in
                guard b.count <= a.count else { return false }
                guard let pa = a.baseAddress, let pb = b.baseAddress else { return b.isEmpty }
                return memcmp(pa, pb, b.count) == 0
            }
        }
    }

    /// Whether `s` ends with `suffix`, comparing UTF-8 bytes.
    public static func hasSuffix(_ s: String, _ suffix: String) -> Bool {
        var s = s
        var suffix = suffix
        return s.withUTF8 { a in
            suffix.withUTF8 { b in
                guard b.count <= a.count else { return false }
                guard let pa = a.baseAddress, let pb = b.baseAddress else { return b.isEmpty }
                return memcmp(pa + (a.count - b.count), pb, b.count) == 0
            }
        }
    }

    /// The byte offset of the first occurrence of `needle` in `s`, or nil. Linear time in the worst case
    /// (Knuth–Morris–Pratt for long needles), so hostile inputs cannot make `contains` quadratic.
    public static func firstIndex(of needle: String, in s: String) -> Int? {
        var s = s
        var needle = needle
        return s.withUTF8 { a in
            needle.withUTF8 { b -> Int? in
                if b.isEmpty { return 0 }
                guard b.count <= a.count else { return nil }
                if b.count <= 8 { return naiveSearch(a, b) }
                return kmpSearch(a, b)
            }
        }
    }

    /// Direct comparison; at most 8 byte comparisons per position.
    static func naiveSearch(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int? {
        let first = b[0]
        let last = a.count - b.count
        var i = 0
        while i <= last {
            if a[i] == first {
                var j = 1
                while j < b.count, a[i + j] == b[j] { j += 1 }
                if j == b.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func kmpSearch(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int? {
        // failure[i]: length of the longest proper prefix of b[0...i] that is also its suffix.
        var failure = [Int](repeating: 0, count: b.count)
        var k = 0
        for i in 1..<b.count {
            while k > 0, b[i] != b[k] { k = failure[k - 1] }
            if b[i] == b[k] { k += 1 }
            failure[i] = k
        }
        var matched = 0
        for i in 0..<a.count {
            while matched > 0, a[i] != b[matched] { matched = failure[matched - 1] }
            if a[i] == b[matched] { matched += 1 }
            if matched == b.count { return i - b.count + 1 }
        }
        return nil
    }

    /// Whether `s` contains `needle`, comparing UTF-8 bytes.
    public static func contains(_ s: String, _ needle: String) -> Bool { firstIndex(of: needle, in: s) != nil }
}
