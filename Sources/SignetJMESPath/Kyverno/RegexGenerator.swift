/// `random(pattern)`: a random string matching a regular expression, as Kyverno's goregen use
/// does (unbounded repetitions draw 0...10 extra repeats). Supports literals, escapes, classes,
/// `.`, groups, alternation and quantifiers; output and repetition are bounded.
enum RegexGenerator {
    indirect enum Node {
        case literal(Unicode.Scalar)
        case set([ClosedRange<UInt32>], negated: Bool)
        case any
        case sequence([Node])
        case alternation([Node])
        case repeated(Node, min: Int, max: Int)
        case empty
    }

    static let maximumRepeat = 1000
    static let unboundedExtra = 10

    static func generate<R: RandomNumberGenerator>(_ pattern: String, using rng: inout R) throws -> String {
        var p = PatternParser(Array(pattern.unicodeScalars))
        let node = try p.parseAlternation(depth: 0)
        guard p.i == p.s.count else { throw JMESPathError(.functionFailed, "error parsing regexp: unexpected ) in `\(pattern)`") }
        var out = String.UnicodeScalarView()
        var steps = 0
        try emit(node, &out, &rng, &steps)
        return String(out)
    }

    /// Bounds work on patterns whose repetitions produce nothing (`((){1000}){1000}`).
    static let maximumSteps = 200_000

    static func emit<R: RandomNumberGenerator>(_ n: Node, _ out: inout String.UnicodeScalarView, _ rng: inout R,
                                               _ steps: inout Int) throws {
        steps += 1
        // `steps` also bounds the output: every emitted scalar costs a step.
        guard steps <= maximumSteps else {
            throw JMESPathError(.functionFailed, "random: generated string too long")
        }
        switch n {
        case .empty: break
        case .literal(let u): out.append(u)
        case .any:
            // Printable ASCII, as a practical stand-in for "any character but newline".
            if let u = Unicode.Scalar(UInt32.random(in: 0x21...0x7E, using: &rng)) { out.append(u) }
        case .set(let ranges, let negated):
            if negated {
                let candidates = (UInt32(0x20)...0x7E).filter { c in !ranges.contains { $0.contains(c) } }
                guard let c = candidates.randomElement(using: &rng), let u = Unicode.Scalar(c) else {
                    throw JMESPathError(.functionFailed, "random: empty character class")
                }
                out.append(u)
            } else {
                var total: UInt64 = 0
                for r in ranges { total += UInt64(r.upperBound - r.lowerBound) + 1 }
                guard total > 0 else { throw JMESPathError(.functionFailed, "random: empty character class") }
                var pick = UInt64.random(in: 0..<total, using: &rng)
                for r in ranges {
                    let size = UInt64(r.upperBound - r.lowerBound) + 1
                    if pick < size {
                        if let u = Unicode.Scalar(r.lowerBound + UInt32(pick)) { out.append(u) }
                        break
                    }
                    pick -= size
                }
            }
        case .sequence(let items):
            for i in items { try emit(i, &out, &rng, &steps) }
        case .alternation(let items):
            if let pick = items.randomElement(using: &rng) { try emit(pick, &out, &rng, &steps) }
        case .repeated(let inner, let lo, let hi):
            let count = Int.random(in: lo...hi, using: &rng)
            for _ in 0..<count { try emit(inner, &out, &rng, &steps) }
        }
    }

    struct PatternParser {
        let s: [Unicode.Scalar]
        var i = 0
        init(_ s: [Unicode.Scalar]) { self.s = s }

        func fail(_ m: String) -> JMESPathError { JMESPathError(.functionFailed, "error parsing regexp: \(m)") }

        mutating func parseAlternation(depth: Int) throws -> Node {
            guard depth < 64 else { throw fail("nesting too deep") }
            var alts: [Node] = [try parseSequence(depth: depth)]
            while i < s.count, s[i] == "|" {
                i += 1
                alts.append(try parseSequence(depth: depth))
            }
            return alts.count == 1 ? alts[0] : .alternation(alts)
        }

        mutating func parseSequence(depth: Int) throws -> Node {
            var items: [Node] = []
            while i < s.count, s[i] != "|", s[i] != ")" {
                var atom = try parseAtom(depth: depth)
                atom = try parseQuantifiers(atom)
                items.append(atom)
            }
            return .sequence(items)
        }

        mutating func parseQuantifiers(_ atom: Node) throws -> Node {
            var node = atom
            while i < s.count {
                let c = s[i]
                var lo = 0, hi = 0
                if c == "*" { lo = 0; hi = unboundedExtra; i += 1 } else if c == "+" { lo = 1; hi = 1 + unboundedExtra; i += 1 } else if c == "?" { lo = 0; hi = 1; i += 1 } else if c == "{", let (a, b, next) = braces(from: i) {
                    lo = a; hi = b; i = next
                } else { break }
                if i < s.count, s[i] == "?" { i += 1 } // non-greedy marker
                guard lo <= hi, hi <= maximumRepeat else { throw fail("invalid repeat count") }
                node = .repeated(node, min: lo, max: hi)
            }
            return node
        }

        /// `{n}`, `{n,}`, `{n,m}`; nil when not a valid repeat (then `{` is a literal, as in Go).
        func braces(from start: Int) -> (Int, Int, Int)? {
            var j = start + 1
            func num() -> Int? {
                var v = 0, any = false
                while j < s.count, let d = Int(String(s[j])), s[j].isASCII {
                    any = true
                    v = v * 10 + d
                    if v > RegexGenerator.maximumRepeat { v = RegexGenerator.maximumRepeat + 1 }
                    j += 1
                }
                return any ? v : nil
            }
            guard let a = num() else { return nil }
            var b = a
            if j < s.count, s[j] == "," {
                j += 1
                if let m = num() { b = m } else { b = a + RegexGenerator.unboundedExtra }
            }
            guard j < s.count, s[j] == "}" else { return nil }
            return (a, b, j + 1)
        }

        mutating func parseAtom(depth: Int) throws -> Node {
            let c = s[i]
            i += 1
            switch c {
            case "(":
                if i + 1 < s.count, s[i] == "?", s[i + 1] == ":" { i += 2 }
                let inner = try parseAlternation(depth: depth + 1)
                guard i < s.count, s[i] == ")" else { throw fail("missing closing )") }
                i += 1
                return inner
            case ".": return .any
            case "^", "$": return .empty
            case "[": return try parseClass()
            case "\\": return try parseEscape(inClass: false).node
            case "*", "+", "?": throw fail("missing argument to repetition operator: `\(c)`")
            default: return .literal(c)
            }
        }

        mutating func parseEscape(inClass: Bool) throws -> (node: Node, ranges: [ClosedRange<UInt32>]?, negated: Bool) {
            guard i < s.count else { throw fail("trailing backslash at end of expression") }
            let c = s[i]
            i += 1
            let digit: [ClosedRange<UInt32>] = [0x30...0x39]
            let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
            let space: [ClosedRange<UInt32>] = [0x09...0x0A, 0x0C...0x0D, 0x20...0x20]
            switch c {
            case "d": return (.set(digit, negated: false), digit, false)
            case "D": return (.set(digit, negated: true), digit, true)
            case "w": return (.set(word, negated: false), word, false)
            case "W": return (.set(word, negated: true), word, true)
            case "s": return (.set(space, negated: false), space, false)
            case "S": return (.set(space, negated: true), space, true)
            case "n": return (.literal("\n"), [0x0A...0x0A], false)
            case "t": return (.literal("\t"), [0x09...0x09], false)
            case "r": return (.literal("\r"), [0x0D...0x0D], false)
            case "b", "B", "A", "z": return (.empty, nil, false)
            default:
                if c.properties.isAlphabetic || c.properties.numericType != nil {
                    throw fail("invalid escape sequence: `\\\(c)`")
                }
                return (.literal(c), [c.value...c.value], false)
            }
        }

        mutating func parseClass() throws -> Node {
            var negated = false
            if i < s.count, s[i] == "^" { negated = true; i += 1 }
            var ranges: [ClosedRange<UInt32>] = []
            var first = true
            while i < s.count, s[i] != "]" || first {
                first = false
                var lo: UInt32
                if s[i] == "\\" {
                    i += 1
                    let e = try parseEscape(inClass: true)
                    guard let r = e.ranges, !e.negated else { continue }
                    if r.count == 1, r[0].lowerBound == r[0].upperBound {
                        lo = r[0].lowerBound
                    } else {
                        ranges.append(contentsOf: r)
                        continue
                    }
                } else {
                    lo = s[i].value
                    i += 1
                }
                if i + 1 < s.count, s[i] == "-", s[i + 1] != "]" {
                    i += 1
                    var hi = s[i].value
                    if s[i] == "\\" {
                        i += 1
                        guard i < s.count else { throw fail("missing closing ]") }
                        hi = s[i].value
                    }
                    i += 1
                    guard lo <= hi else { throw fail("invalid character class range") }
                    ranges.append(lo...hi)
                } else {
                    ranges.append(lo...lo)
                }
            }
            guard i < s.count, s[i] == "]" else { throw fail("missing closing ]") }
            i += 1
            return .set(ranges, negated: negated)
        }
    }
}
