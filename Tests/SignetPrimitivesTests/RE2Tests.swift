import Foundation
import Testing
@testable import SignetPrimitives

struct RE2Tests {
    struct Case: Sendable, CustomStringConvertible {
        let pattern: String
        let subject: String
        let groups: [String?]? // nil = no match
        var description: String { "\(pattern) ~ \(subject.debugDescription)" }
    }

    static func c(_ p: String, _ s: String, _ g: [String?]?) -> Case { Case(pattern: p, subject: s, groups: g) }

    /// Expected results follow Go's regexp (leftmost-first, Go's submatch rules).
    static let cases: [Case] = [
        c("a+", "baaa", ["aaa"]),
        c("(a+)(b)?", "aab", ["aab", "aa", "b"]),
        c("(a+)(b)?", "aa", ["aa", "aa", nil]),
        c("(a|ab)(c|bcd)(d*)", "abcd", ["abcd", "a", "bcd", ""]),
        c("(a*)*", "b", ["", ""]),
        c("(a*)+", "b", ["", ""]),
        c("(a|b)*", "abab", ["abab", "b"]),
        c("(a*)*", "aa", ["aa", "aa"]),
        c("(|a)*", "aa", ["", ""]), // golang.org/issue/46123: like (|a)+
        c("(|a)+", "aa", ["", ""]),
        c("x*", "\u{2603}", [""]),
        c("(?i)straße", "STRASSE", nil),
        c("(?i)k", "\u{212A}", ["\u{212A}"]),
        c("(?i)[k]", "\u{212A}", ["\u{212A}"]),
        c("(?i)Σ+", "σς", ["σς"]),
        c("(?i)abc", "xAbC", ["AbC"]),
        c("(?i:a)b", "AB", nil),
        c("(?i:a)b", "Ab", ["Ab"]),
        c("a(?i)b|c", "C", ["C"]),
        c("(?U)a+", "aaa", ["a"]),
        c("(?U)a+?", "aaa", ["aaa"]),
        c("a+?", "aaa", ["a"]),
        c("a*?b", "aab", ["aab"]),
        c("a??b", "ab", ["ab"]),
        c("a{2,3}", "aaaa", ["aaa"]),
        c("a{2,3}?", "aaaa", ["aa"]),
        c("a{2}", "aaaa", ["aa"]),
        c("a{2,}", "aaaa", ["aaaa"]),
        c("a{0}b", "ab", ["b"]),
        c("a{,3}", "a{,3}", ["a{,3}"]),
        c("a{01}", "a{01}", ["a{01}"]),
        c("x{", "x{", ["x{"]),
        c("^abc$", "abc\n", nil),
        c("^abc$", "abc", ["abc"]),
        c("(?m)^abc$", "x\nabc\ny", ["abc"]),
        c("(?m)^$", "a\n\nb", [""]),
        c("\\Aabc\\z", "abc", ["abc"]),
        c("(?s).+", "a\nb", ["a\nb"]),
        c(".+", "a\nb", ["a"]),
        c("[[:alpha:]]+", "12abC3", ["abC"]),
        c("[^[:alpha:]]+", "ab12", ["12"]),
        c("[[:^digit:]x]+", "12ab3", ["ab"]),
        c("[[:word:]]+", "--a_1--", ["a_1"]),
        c("\\pL+", "12héllo!", ["héllo"]),
        c("\\p{Lu}", "abCd", ["C"]),
        c("\\PL+", "ab12cd", ["12"]),
        c("\\p{^L}+", "ab12cd", ["12"]),
        c("\\pN+", "x٣4y", ["٣4"]),
        c("\\p{Letter}+", "1ab2", ["ab"]),
        c("\\p{Greek}+", "abαβγd", ["αβγ"]),
        c("\\p{Han}", "x漢", ["漢"]),
        c("(?i)\\p{Greek}", "Σ", ["Σ"]),
        c("[\\p{Lu}\\d]+", "ab1C2d", ["1C2"]),
        c("\\d+", "ab١٢34", ["34"]),
        c("\\w+", "é_a1", ["_a1"]),
        c("\\s+", "a \t\n\u{0B}b", [" \t\n"]),
        c("\\S+", "  ab ", ["ab"]),
        c("\\x41\\x{42}\\103\\0", "ABC\u{0}", ["ABC\u{0}"]),
        c("\\x{1F600}", "a😀", ["😀"]),
        c("\\a\\f\\t\\n\\r\\v", "\u{07}\u{0C}\t\n\r\u{0B}", ["\u{07}\u{0C}\t\n\r\u{0B}"]),
        c("\\Qa.b\\E+", "a.bbb", ["a.bbb"]),
        c("\\Qa.b", "xa.b", ["a.b"]),
        c("\\.\\*\\_", ".*_", [".*_"]),
        c("(?P<year>\\d{4})-(?<m>\\d\\d)", "on 2024-05", ["2024-05", "2024", "05"]),
        c("\\bfoo\\b", "a foo b", ["foo"]),
        c("\\bfoo\\b", "afoo b", nil),
        c("\\Bo\\B", "foo", ["o"]),
        c("", "abc", [""]),
        c("a|", "b", [""]),
        c("|a", "a", [""]),
        c("(a)|b", "b", ["b", nil]),
        c("[a-c-e]", "-", ["-"]),
        c("[]a]", "]", ["]"]),
        c("[^\\n]+", "ab\ncd", ["ab"]),
        c("[^a]", "\n", ["\n"]),
        c("a.c", "a😀c", ["a😀c"]),
        c("\\141", "a", ["a"]),
        c("(a)(?:b)(c)", "abc", ["abc", "a", "c"]),
        c("((a)|b)+", "ab", ["ab", "b", "a"]),
        c("(a+|b+)*c", "aabbc", ["aabbc", "bb"]),
        c("(?:(a)|b)*", "ab", ["ab", "a"]),
        c("x(?:)y", "xy", ["xy"]),
        c("[\\d\\-]+", "a-12-", ["-12-"]),
        c("[a-z&&b]", "&", ["&"]),
        c("(?i)[^k]", "\u{212A}", nil),
        c("é+", "eéé", ["éé"]),
        c("^", "abc", [""]),
        c("$", "abc", [""]),
        c("\\$\\^", "$^", ["$^"]),
    ]

    @Test(arguments: cases)
    func matchesLikeGo(_ t: Case) throws {
        let re = try RE2(t.pattern)
        let m = re.firstMatch(in: t.subject)
        #expect(re.matches(t.subject) == (t.groups != nil))
        guard let expected = t.groups else {
            #expect(m == nil)
            return
        }
        guard let m else {
            Issue.record("no match")
            return
        }
        #expect(m.groups.count == re.numberOfCaptureGroups + 1)
        let got = (0..<m.groups.count).map { m.text(in: t.subject, group: $0) }
        #expect(got == expected)
    }

    static let errors: [(String, String)] = [
        ("(abc", "error parsing regexp: missing closing ): `(abc`"),
        ("abc)", "error parsing regexp: unexpected ): `abc)`"),
        ("a**", "error parsing regexp: invalid nested repetition operator: `**`"),
        ("a*+", "error parsing regexp: invalid nested repetition operator: `*+`"),
        ("a{2}{3}", "error parsing regexp: invalid nested repetition operator: `{2}{3}`"),
        ("*a", "error parsing regexp: missing argument to repetition operator: `*`"),
        ("a|*", "error parsing regexp: missing argument to repetition operator: `*`"),
        ("(*)", "error parsing regexp: missing argument to repetition operator: `*`"),
        ("(?i)+", "error parsing regexp: missing argument to repetition operator: `+`"),
        ("a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"),
        ("a{2,1}", "error parsing regexp: invalid repeat count: `{2,1}`"),
        ("(a{500}){3}", "error parsing regexp: invalid repeat count: `{3}`"),
        ("a{100000000000}", "error parsing regexp: invalid repeat count: `{100000000000}`"),
        ("[a", "error parsing regexp: missing closing ]: `[a`"),
        ("[]", "error parsing regexp: missing closing ]: `[]`"),
        ("[z-a]", "error parsing regexp: invalid character class range: `z-a`"),
        ("\\8", "error parsing regexp: invalid escape sequence: `\\8`"),
        ("\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
        ("(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
        ("\\C", "error parsing regexp: invalid escape sequence: `\\C`"),
        ("\\Z", "error parsing regexp: invalid escape sequence: `\\Z`"),
        ("\\é", "error parsing regexp: invalid escape sequence: `\\é`"),
        ("\\x{110000}", "error parsing regexp: invalid escape sequence: `\\x{110000`"),
        ("(?=x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
        ("(?!x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?!`"),
        ("(?<=x)", "error parsing regexp: invalid named capture: `(?<=x)`"),
        ("(?P<n!>x)", "error parsing regexp: invalid named capture: `(?P<n!>`"),
        ("(?P<>x)", "error parsing regexp: invalid named capture: `(?P<>`"),
        ("(?i", "error parsing regexp: invalid or unsupported Perl syntax: `(?i`"),
        ("(?i-)", "error parsing regexp: invalid or unsupported Perl syntax: `(?i-)`"),
        ("(?x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?x`"),
        ("x\\", "error parsing regexp: trailing backslash at end of expression: ``"),
        ("\\pX", "error parsing regexp: invalid character class range: `\\pX`"),
        ("\\p{Klingon}", "error parsing regexp: invalid character class range: `\\p{Klingon}`"),
        ("[[:foo:]]", "error parsing regexp: invalid character class range: `[:foo:]`"),
        ("[\\Q]\\E]", "error parsing regexp: invalid escape sequence: `\\Q`"),
    ]

    @Test(arguments: errors)
    func rejectsLikeGo(_ pattern: String, _ message: String) {
        do {
            _ = try RE2(pattern)
            Issue.record("accepted \(pattern)")
        } catch let e as PrimitivesError {
            #expect(e.code == .invalidRegex)
            #expect(e.message == message)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: ["a", "(?i)", "(?)", "(?:)", "()", "(?i-s:a)", "[[:alpha:]-z]", "\\p{Any}", "\\pL", "(?P<a>x)(?P<a>y)", "x{1000}", "(?m)$"])
    func accepts(_ pattern: String) throws {
        _ = try RE2(pattern)
    }

    @Test func programSizeIsBounded() {
        let error = #expect(throws: PrimitivesError.self) { try RE2("((((a{100}){100}){100}){100})") }
        #expect(error?.code == .invalidRegex)
        #expect(throws: PrimitivesError.self) { try RE2("\\pL{1000}\\pL{1000}\\pL{1000}\\pL{1000}\\pL{1000}\\pL{1000}\\pL{1000}\\pL{1000}\\pL{1000}\\pL{1000}\\pL{1000}") }
        let manyGroups = String(repeating: "(a)", count: 1000)
        #expect(throws: PrimitivesError.self) { try RE2(manyGroups) }
        _ = try? RE2(String(repeating: "(a)", count: 200))
        let deep = String(repeating: "(", count: 10_000) + "a" + String(repeating: ")", count: 10_000)
        #expect(throws: PrimitivesError.self) { try RE2(deep) }
    }

    @Test func cache() throws {
        let a = try RE2.cached("x+y")
        let b = try RE2.cached("x+y")
        #expect(a == b)
        #expect(b.matches("axxy"))
        #expect(throws: PrimitivesError.self) { try RE2.cached("(") }
        for k in 0..<(RE2.cacheCapacity + 10) { _ = try RE2.cached("p\(k)") }
    }

    @Test func hostilePatternsAreBounded() {
        #expect(throws: PrimitivesError.self) { try RE2(String(repeating: "a", count: 200_000)) }
        #expect(throws: PrimitivesError.self) { try RE2("(?i:" + String(repeating: "k", count: 20_000) + "){0}k") }
        #expect(throws: PrimitivesError.self) { try RE2(String(repeating: "[a-z]", count: 20_000)) }
    }

    @Test func groupNames() throws {
        let re = try RE2("(?P<first>a)(b)(?<third>c)")
        #expect(re.numberOfCaptureGroups == 3)
        #expect(re.captureGroupNames == [nil, "first", nil, "third"])
        #expect(re.pattern == "(?P<first>a)(b)(?<third>c)")
        #expect(try RE2("x") == RE2("x"))
    }

    @Test func linearTime() throws {
        let n = 100_000
        let cases: [(String, String)] = [
            ("(a*)*b", String(repeating: "a", count: n)),
            ("(x+x+)+y", String(repeating: "x", count: n)),
            ("(a|aa)*c", String(repeating: "a", count: n)),
            ("(.*)*x$", String(repeating: "y", count: n)),
        ]
        for (pattern, subject) in cases {
            let re = try RE2(pattern)
            let (matched, steps) = re.searchSteps(subject)
            #expect(!matched)
            let budget = n * re.program.insts.count * 4
            #expect(steps < budget, "\(pattern): \(steps) steps")
        }
    }

    @Test func findAll() throws {
        func all(_ p: String, _ s: String, _ limit: Int = .max) throws -> [String] {
            let re = try RE2(p)
            return re.allMatches(in: s, limit: limit).compactMap { $0.text(in: s) }
        }
        #expect(try all("a*", "baaab") == ["", "aaa", ""])
        #expect(try all("a", "banana") == ["a", "a", "a"])
        #expect(try all("a", "banana", 2) == ["a", "a"])
        #expect(try all("", "ab") == ["", "", ""])
        #expect(try all("x*", "😀😀") == ["", "", ""])
        #expect(try all("\\b", "ab cd") == ["", "", "", ""])
        #expect(try all("(?m)^", "a\nb\n") == ["", "", ""])
    }

    @Test func replace() throws {
        let re = try RE2("a(x*)b")
        #expect(re.replacingAll(in: "-ab-axxb-", template: "T") == "-T-T-")
        #expect(re.replacingAll(in: "-ab-axxb-", template: "$1") == "--xx-")
        #expect(re.replacingAll(in: "-ab-axxb-", template: "$1W") == "---")
        #expect(re.replacingAll(in: "-ab-axxb-", template: "${1}W") == "-W-xxW-")
        #expect(re.replacingAll(in: "-ab-axxb-", template: "$$1") == "-$1-$1-")
        #expect(re.replacingAll(in: "-ab-axxb-", template: "$") == "-$-$-")
        #expect(re.replacingAll(in: "-ab-axxb-", template: "${1") == "-${1-${1-")
        #expect(re.replacingAll(in: "-ab-axxb-", literal: "${1}") == "-${1}-${1}-")
        let named = try RE2("(?P<key>\\w+)=(?P<value>\\w+)")
        #expect(named.replacingAll(in: "a=1 b=2", template: "$value:$key") == "1:a 2:b")
        #expect(named.replacingAll(in: "a=1", template: "${value}${nope}$2$9") == "11")
        let dup = try RE2("(?P<x>a)|(?P<x>b)")
        #expect(dup.replacingAll(in: "ab", template: "[$x]") == "[a][b]")
        let star = try RE2("a*")
        #expect(star.replacingAll(in: "baaac", template: "X") == "XbXcX")
        #expect(try RE2("").replacingAll(in: "abc", template: "-") == "-a-b-c-")
        #expect(try RE2("x*").replacingAll(in: "😀", template: "-") == "-😀-")
    }

    @Test func split() throws {
        #expect(try RE2("a").split("banana") == ["b", "n", "n", ""])
        #expect(try RE2("a*").split("abaabaccadaaae", limit: 5) == ["", "b", "b", "c", "cadaaae"])
        #expect(try RE2("z+").split("pizza") == ["pi", "a"])
        #expect(try RE2("").split("abc") == ["a", "b", "c"])
        #expect(try RE2("x").split("") == [""])
        #expect(try RE2("").split("") == [])
        #expect(try RE2(",").split("a,b,c", limit: 0) == [])
        #expect(try RE2(",").split("a,b,c", limit: 1) == ["a,b,c"])
        #expect(try RE2(",").split("a,b,c", limit: 2) == ["a", "b,c"])
    }
}
