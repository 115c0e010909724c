// Parser for RE2 / Go `regexp/syntax` patterns with the Perl flags Go's `regexp.Compile` uses
// (ClassNL | OneLine | PerlX | UnicodeGroups). Error texts follow Go's `syntax.Error`:
// "error parsing regexp: <code>: `<expr>`".

/// Empty-width assertions (Go's `syntax.EmptyOp`), as bits.
struct EmptyOp: OptionSet, Sendable, Hashable {
    let rawValue: UInt8
    static let beginLine = EmptyOp(rawValue: 1)
    static let endLine = EmptyOp(rawValue: 2)
    static let beginText = EmptyOp(rawValue: 4)
    static let endText = EmptyOp(rawValue: 8)
    static let wordBoundary = EmptyOp(rawValue: 16)
    static let noWordBoundary = EmptyOp(rawValue: 32)
}

/// The parse tree. Counted repetitions stay compact here and are expanded by the compiler.
indirect enum RegexNode: Sendable {
    case empty
    case literal(UInt32)
    case charClass(Int) // index into the parser's class table
    case anyChar
    case anyCharNotNL
    case assertion(EmptyOp)
    case capture(Int, RegexNode)
    case concat([RegexNode])
    case alternate([RegexNode])
    /// `max == -1` means unbounded.
    case repetition(RegexNode, min: Int, max: Int, greedy: Bool)

    /// Whether the node can match the empty string (Go's `frag.nullable`).
    var nullable: Bool {
        switch self {
        case .empty, .assertion: return true
        case .literal, .charClass, .anyChar, .anyCharNotNL: return false
        case .capture(_, let x): return x.nullable
        case .concat(let xs): return xs.allSatisfy { $0.nullable }
        case .alternate(let xs): return xs.contains { $0.nullable }
        case .repetition(let x, let min, _, _): return min == 0 || x.nullable
        }
    }
}

/// A character class: a union of items, optionally negated as a whole (`[^...]`).
struct CharClass: Sendable {
    /// One member of the class: a set given by ranges and general categories, itself optionally
    /// case-folded (before its own negation, as Go's `appendGroup` does) and negated.
    struct Item: Sendable {
        var ranges: [UInt32] = [] // flat sorted pairs lo, hi
        var categories: UInt64 = 0 // bits of `UnicodeTables.categoryBit`
        var fold = false
        var negated = false

        func rawContains(_ c: UInt32) -> Bool {
            if RangeSet.contains(ranges, c) { return true }
            if categories != 0 { return categories & UnicodeTables.categoryMask(of: c) != 0 }
            return false
        }

        func matches(_ c: UInt32) -> Bool {
            let inSet: Bool
            if fold {
                inSet = CaseFolding.orbit(of: c).contains { rawContains($0) }
            } else {
                inSet = rawContains(c)
            }
            return inSet != negated
        }
    }

    var plain: [UInt32] = [] // ranges matched as is
    var items: [Item] = []
    var negated = false
    private var asciiLow: UInt64 = 0
    private var asciiHigh: UInt64 = 0

    init(plain: [UInt32], items: [Item], negated: Bool) {
        self.plain = RangeSet.normalized(plain)
        self.items = items
        self.negated = negated
        var lo: UInt64 = 0, hi: UInt64 = 0
        for c in UInt32(0)..<128 where slowMatches(c) {
            if c < 64 { lo |= 1 << UInt64(c) } else { hi |= 1 << UInt64(c - 64) }
        }
        asciiLow = lo
        asciiHigh = hi
    }

    private func slowMatches(_ c: UInt32) -> Bool {
        var inSet = RangeSet.contains(plain, c)
        if !inSet {
            for item in items where item.matches(c) { inSet = true; break }
        }
        return inSet != negated
    }

    @inline(__always)
    func matches(_ c: UInt32) -> Bool {
        if c < 64 { return asciiLow & (1 << UInt64(c)) != 0 }
        if c < 128 { return asciiHigh & (1 << UInt64(c - 64)) != 0 }
        return slowMatches(c)
    }
}

/// Helpers over flat sorted range lists `[lo0, hi0, lo1, hi1, ...]`.
enum RangeSet {
    static func contains(_ r: [UInt32], _ c: UInt32) -> Bool {
        var lo = 0, hi = r.count / 2
        while lo < hi {
            let mid = (lo + hi) / 2
            if c < r[2 * mid] { hi = mid } else if c > r[2 * mid + 1] { lo = mid + 1 } else { return true }
        }
        return false
    }

    static func normalized(_ r: [UInt32]) -> [UInt32] {
        var pairs: [(UInt32, UInt32)] = []
        pairs.reserveCapacity(r.count / 2)
        var i = 0
        while i + 1 < r.count { pairs.append((r[i], r[i + 1])); i += 2 }
        pairs.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) }
        var out: [UInt32] = []
        for (lo, hi) in pairs {
            if let last = out.last, lo <= last || lo - last == 1 {
                if hi > last { out[out.count - 1] = hi }
            } else {
                out.append(lo)
                out.append(hi)
            }
        }
        return out
    }

    static func negated(_ r: [UInt32]) -> [UInt32] {
        let n = normalized(r)
        var out: [UInt32] = []
        var next: UInt32 = 0
        var i = 0
        while i + 1 < n.count {
            if n[i] > next { out.append(next); out.append(n[i] - 1) }
            next = n[i + 1] &+ 1
            i += 2
            if n[i - 1] == 0x10FFFF { return out }
        }
        out.append(next)
        out.append(0x10FFFF)
        return out
    }
}

/// Go's Perl and POSIX classes (ASCII only, as in Go).
enum NamedClasses {
    static let digit: [UInt32] = [0x30, 0x39]
    static let space: [UInt32] = [0x09, 0x0A, 0x0C, 0x0D, 0x20, 0x20]
    static let word: [UInt32] = [0x30, 0x39, 0x41, 0x5A, 0x5F, 0x5F, 0x61, 0x7A]

    static func posix(_ name: String) -> [UInt32]? {
        switch name {
        case "alnum": return [0x30, 0x39, 0x41, 0x5A, 0x61, 0x7A]
        case "alpha": return [0x41, 0x5A, 0x61, 0x7A]
        case "ascii": return [0x00, 0x7F]
        case "blank": return [0x09, 0x09, 0x20, 0x20]
        case "cntrl": return [0x00, 0x1F, 0x7F, 0x7F]
        case "digit": return digit
        case "graph": return [0x21, 0x7E]
        case "lower": return [0x61, 0x7A]
        case "print": return [0x20, 0x7E]
        case "punct": return [0x21, 0x2F, 0x3A, 0x40, 0x5B, 0x60, 0x7B, 0x7E]
        case "space": return [0x09, 0x0D, 0x20, 0x20]
        case "upper": return [0x41, 0x5A]
        case "word": return word
        case "xdigit": return [0x30, 0x39, 0x41, 0x46, 0x61, 0x66]
        default: return nil
        }
    }

    static func isWord(_ c: UInt32) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }
}

/// Simple case-folding orbits (Go's `unicode.SimpleFold` cycles), derived once from the
/// single-scalar lower/upper/title mappings of Swift's Unicode tables.
enum CaseFolding {
    static let minFold: UInt32 = 0x41
    static let maxFold: UInt32 = 0x1E943

    static let orbits: [UInt32: [UInt32]] = {
        var parent: [UInt32: UInt32] = [:]
        func find(_ x: UInt32) -> UInt32 {
            var r = x
            var guardCount = 0
            while let p = parent[r], p != r, guardCount < 64 { r = p; guardCount += 1 }
            return r
        }
        func union(_ a: UInt32, _ b: UInt32) {
            if parent[a] == nil { parent[a] = a }
            if parent[b] == nil { parent[b] = b }
            let ra = find(a), rb = find(b)
            if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
        }
        // U+0130 and U+0131 fold only under Turkic rules (CaseFolding.txt status T), which Go omits.
        let excluded: Set<UInt32> = [0x130, 0x131]
        var c = minFold
        while c <= maxFold {
            defer { c += 1 }
            guard !excluded.contains(c), let s = Unicode.Scalar(c), s.properties.changesWhenCaseMapped else { continue }
            for mapping in [s.properties.lowercaseMapping, s.properties.uppercaseMapping, s.properties.titlecaseMapping] {
                let scalars = mapping.unicodeScalars
                guard scalars.count == 1, let m = scalars.first?.value, m != c, !excluded.contains(m) else { continue }
                union(c, m)
            }
        }
        var groups: [UInt32: [UInt32]] = [:]
        for k in parent.keys { groups[find(k), default: []].append(k) }
        var out: [UInt32: [UInt32]] = [:]
        for (_, members) in groups where members.count > 1 {
            let sorted = members.sorted()
            for m in sorted { out[m] = sorted }
        }
        return out
    }()

    /// The scalars that fold to the same class as `c`, including `c`.
    static func orbit(of c: UInt32) -> [UInt32] {
        guard c >= minFold, c <= maxFold, let o = orbits[c] else { return [c] }
        return o
    }
}

/// Unicode general categories by name, as Go's `unicode.Categories` and `CategoryAliases`.
enum UnicodeTables {
    static func categoryBit(_ gc: Unicode.GeneralCategory) -> Int {
        switch gc {
        case .uppercaseLetter: return 0
        case .lowercaseLetter: return 1
        case .titlecaseLetter: return 2
        case .modifierLetter: return 3
        case .otherLetter: return 4
        case .nonspacingMark: return 5
        case .spacingMark: return 6
        case .enclosingMark: return 7
        case .decimalNumber: return 8
        case .letterNumber: return 9
        case .otherNumber: return 10
        case .connectorPunctuation: return 11
        case .dashPunctuation: return 12
        case .openPunctuation: return 13
        case .closePunctuation: return 14
        case .initialPunctuation: return 15
        case .finalPunctuation: return 16
        case .otherPunctuation: return 17
        case .mathSymbol: return 18
        case .currencySymbol: return 19
        case .modifierSymbol: return 20
        case .otherSymbol: return 21
        case .spaceSeparator: return 22
        case .lineSeparator: return 23
        case .paragraphSeparator: return 24
        case .control: return 25
        case .format: return 26
        case .surrogate: return 27
        case .privateUse: return 28
        case .unassigned: return 29
        @unknown default: return 29
        }
    }

    static func categoryMask(of c: UInt32) -> UInt64 {
        guard let s = Unicode.Scalar(c) else { return 1 << 27 } // surrogate code points
        return 1 << UInt64(categoryBit(s.properties.generalCategory))
    }

    private static func bits(_ list: [Int]) -> UInt64 { list.reduce(0) { $0 | (1 << UInt64($1)) } }

    /// Category names after Go's `canonicalName` (first letter upper, rest lower, no `_ -` or space).
    static let categories: [String: UInt64] = {
        let l = bits([0, 1, 2, 3, 4]), m = bits([5, 6, 7]), n = bits([8, 9, 10])
        let p = bits([11, 12, 13, 14, 15, 16, 17]), s = bits([18, 19, 20, 21]), z = bits([22, 23, 24])
        let c = bits([25, 26, 27, 28])
        var t: [String: UInt64] = [
            "L": l, "Lu": bits([0]), "Ll": bits([1]), "Lt": bits([2]), "Lm": bits([3]), "Lo": bits([4]),
            "Lc": bits([0, 1, 2]),
            "M": m, "Mn": bits([5]), "Mc": bits([6]), "Me": bits([7]),
            "N": n, "Nd": bits([8]), "Nl": bits([9]), "No": bits([10]),
            "P": p, "Pc": bits([11]), "Pd": bits([12]), "Ps": bits([13]), "Pe": bits([14]), "Pi": bits([15]),
            "Pf": bits([16]), "Po": bits([17]),
            "S": s, "Sm": bits([18]), "Sc": bits([19]), "Sk": bits([20]), "So": bits([21]),
            "Z": z, "Zs": bits([22]), "Zl": bits([23]), "Zp": bits([24]),
            "C": c, "Cc": bits([25]), "Cf": bits([26]), "Cs": bits([27]), "Co": bits([28]), "Cn": bits([29]),
        ]
        let aliases: [String: String] = [
            "Casedletter": "Lc", "Closepunctuation": "Pe", "Combiningmark": "M", "Connectorpunctuation": "Pc",
            "Control": "Cc", "Currencysymbol": "Sc", "Dashpunctuation": "Pd", "Decimalnumber": "Nd",
            "Digit": "Nd", "Enclosingmark": "Me", "Finalpunctuation": "Pf", "Format": "Cf",
            "Initialpunctuation": "Pi", "Letter": "L", "Letternumber": "Nl", "Lineseparator": "Zl",
            "Lowercaseletter": "Ll", "Mark": "M", "Mathsymbol": "Sm", "Modifierletter": "Lm",
            "Modifiersymbol": "Sk", "Nonspacingmark": "Mn", "Number": "N", "Openpunctuation": "Ps",
            "Other": "C", "Otherletter": "Lo", "Othernumber": "No", "Otherpunctuation": "Po",
            "Othersymbol": "So", "Paragraphseparator": "Zp", "Privateuse": "Co", "Punct": "P",
            "Punctuation": "P", "Separator": "Z", "Spaceseparator": "Zs", "Spacingmark": "Mc",
            "Surrogate": "Cs", "Symbol": "S", "Titlecaseletter": "Lt", "Unassigned": "Cn",
            "Uppercaseletter": "Lu", "Cntrl": "Cc", "Combining_mark": "M",
        ]
        for (alias, target) in aliases { if let v = t[target] { t[alias] = v } }
        return t
    }()

    /// Go's `canonicalName`.
    static func canonicalName(_ name: String) -> String {
        var out = ""
        var first = true
        for u in name.unicodeScalars {
            if u == "_" || u == "-" || u == " " { continue }
            if first {
                out.unicodeScalars.append(u.value >= 0x61 && u.value <= 0x7A ? Unicode.Scalar(u.value - 32) ?? u : u)
                first = false
            } else {
                out.unicodeScalars.append(u.value >= 0x41 && u.value <= 0x5A ? Unicode.Scalar(u.value + 32) ?? u : u)
            }
        }
        return out
    }
}

/// Limits that keep compilation and matching bounded.
enum RegexLimits {
    /// Go's `maxRepeat`.
    static let maxRepeat = 1000
    /// Parenthesis nesting depth (the parser recurses per level).
    static let maxNesting = 200
    /// Instructions in a compiled program.
    static let maxProgramSize = 10_000
    /// Unicode scalars in a pattern.
    static let maxPatternLength = 100_000
    /// Capture slots times instructions, which bounds the Pike VM's queue memory (16 MB each).
    static let maxCaptureMemory = 2_000_000
}

/// Go's parse flags that can change inside a pattern.
struct RegexFlags: Sendable {
    var foldCase = false
    var oneLine = true // ^ and $ match only at text boundaries unless (?m)
    var dotNL = false
    var nonGreedy = false
}

/// Recursive-descent parser; recursion depth is bounded by `RegexLimits.maxNesting`.
struct RegexParser {
    let src: [Unicode.Scalar]
    let whole: String
    var i = 0
    var numCap = 0
    var names: [String?] = [nil]
    var classes: [CharClass] = []

    init(_ pattern: String) {
        whole = pattern
        src = Array(pattern.unicodeScalars)
    }

    func error(_ code: String, _ expr: String) -> PrimitivesError {
        PrimitivesError(.invalidRegex, "error parsing regexp: \(code): `\(expr)`")
    }

    func text(_ from: Int, _ to: Int) -> String {
        var s = ""
        s.unicodeScalars.append(contentsOf: src[max(0, from)..<min(max(from, to), src.count)])
        return s
    }

    func peek(_ k: Int = 0) -> UInt32? { i + k < src.count ? src[i + k].value : nil }

    mutating func parse() throws -> RegexNode {
        // Every literal or class becomes at least one instruction, so longer patterns cannot
        // compile; refuse them before building a large tree.
        guard src.count <= RegexLimits.maxPatternLength else {
            throw PrimitivesError(.invalidRegex, "error parsing regexp: expression too large")
        }
        var flags = RegexFlags()
        let node = try parseAlternation(flags: &flags, depth: 0)
        if i < src.count { throw error("unexpected )", whole) }
        return node
    }

    mutating func parseAlternation(flags: inout RegexFlags, depth: Int) throws -> RegexNode {
        var branches = [try parseConcat(flags: &flags, depth: depth)]
        while peek() == 0x7C { // |
            i += 1
            branches.append(try parseConcat(flags: &flags, depth: depth))
        }
        return branches.count == 1 ? branches[0] : .alternate(branches)
    }

    /// Registers a class; more classes than program instructions could never compile.
    mutating func addClass(_ c: CharClass) throws -> Int {
        guard classes.count < RegexLimits.maxProgramSize else {
            throw PrimitivesError(.invalidRegex, "error parsing regexp: expression too large")
        }
        classes.append(c)
        return classes.count - 1
    }

    mutating func appendLiteral(_ c: UInt32, flags: RegexFlags, to items: inout [RegexNode]) throws {
        if flags.foldCase {
            let orbit = CaseFolding.orbit(of: c)
            if orbit.count > 1 {
                var ranges: [UInt32] = []
                for o in orbit { ranges.append(o); ranges.append(o) }
                items.append(.charClass(try addClass(CharClass(plain: ranges, items: [], negated: false))))
                return
            }
        }
        items.append(.literal(c))
    }

    mutating func parseConcat(flags: inout RegexFlags, depth: Int) throws -> RegexNode {
        var items: [RegexNode] = []
        var lastRepeatStart: Int? = nil
        while let c = peek(), c != 0x7C, c != 0x29 { // | )
            var repeatStart: Int? = nil
            switch c {
            case 0x28: // (
                guard depth < RegexLimits.maxNesting else { throw error("expression nests too deeply", whole) }
                if peek(1) == 0x3F { // ?
                    let start = i
                    if let node = try parsePerlGroup(flags: &flags, depth: depth, start: start) {
                        items.append(node)
                    }
                } else {
                    i += 1
                    numCap += 1
                    let index = numCap
                    names.append(nil)
                    var inner = flags
                    let body = try parseAlternation(flags: &inner, depth: depth + 1)
                    guard peek() == 0x29 else { throw error("missing closing )", whole) }
                    i += 1
                    items.append(.capture(index, body))
                }
            case 0x5E: // ^
                i += 1
                items.append(.assertion(flags.oneLine ? .beginText : .beginLine))
            case 0x24: // $
                i += 1
                items.append(.assertion(flags.oneLine ? .endText : .endLine))
            case 0x2E: // .
                i += 1
                items.append(flags.dotNL ? .anyChar : .anyCharNotNL)
            case 0x5B: // [
                items.append(try parseClass(flags: flags))
            case 0x2A, 0x2B, 0x3F: // * + ?
                let start = i
                i += 1
                let (lo, hi) = c == 0x2A ? (0, -1) : c == 0x2B ? (1, -1) : (0, 1)
                try applyRepeat(min: lo, max: hi, start: start, lastRepeatStart: lastRepeatStart, flags: flags, items: &items)
                repeatStart = start
            case 0x7B: // {
                let start = i
                if let (lo, hi) = parseRepeatBraces() {
                    // `parseRepeatBraces` advanced `i` past `}`.
                    if lo < 0 || lo > RegexLimits.maxRepeat || hi > RegexLimits.maxRepeat || (hi >= 0 && lo > hi) {
                        throw error("invalid repeat count", text(start, i))
                    }
                    try applyRepeat(min: lo, max: hi, start: start, lastRepeatStart: lastRepeatStart, flags: flags, items: &items)
                    repeatStart = start
                } else {
                    i += 1
                    try appendLiteral(0x7B, flags: flags, to: &items)
                }
            case 0x5C: // backslash
                try parseTopEscape(flags: flags, items: &items)
            default:
                i += 1
                try appendLiteral(c, flags: flags, to: &items)
            }
            lastRepeatStart = repeatStart
        }
        switch items.count {
        case 0: return .empty
        case 1: return items[0]
        default: return .concat(items)
        }
    }

    /// Applies a repetition operator that spans `start..<i` (plus an optional lazy `?`).
    mutating func applyRepeat(min lo: Int, max hi: Int, start: Int, lastRepeatStart: Int?,
                              flags: RegexFlags, items: inout [RegexNode]) throws {
        var greedy = !flags.nonGreedy
        if peek() == 0x3F { i += 1; greedy.toggle() }
        if let last = lastRepeatStart {
            throw error("invalid nested repetition operator", text(last, i))
        }
        guard let sub = items.popLast() else {
            throw error("missing argument to repetition operator", text(start, i))
        }
        let node = RegexNode.repetition(sub, min: lo, max: hi, greedy: greedy)
        if (lo >= 2 || hi >= 2), !Self.repeatIsValid(node, RegexLimits.maxRepeat) {
            throw error("invalid repeat count", text(start, i))
        }
        items.append(node)
    }

    /// Go's `repeatIsValid`: nested counted repetitions may not multiply beyond `n` copies.
    static func repeatIsValid(_ node: RegexNode, _ n: Int) -> Bool {
        var n = n
        switch node {
        case .repetition(let x, let lo, let hi, _):
            var m = hi
            if m == 0 { return true }
            if m < 0 { m = lo }
            if m > n { return false }
            if m > 0 { n /= m }
            return repeatIsValid(x, n)
        case .capture(_, let x): return repeatIsValid(x, n)
        case .concat(let xs), .alternate(let xs): return xs.allSatisfy { repeatIsValid($0, n) }
        default: return true
        }
    }

    /// Go's `parseRepeat`: `{n}`, `{n,}`, `{n,m}`; nil (and `i` unchanged) when not of that form.
    /// A number too large yields `min == -1`.
    mutating func parseRepeatBraces() -> (Int, Int)? {
        var j = i + 1
        func parseInt(_ j: inout Int) -> Int?? {
            guard j < src.count, src[j].value >= 0x30, src[j].value <= 0x39 else { return nil }
            if src[j].value == 0x30, j + 1 < src.count, src[j + 1].value >= 0x30, src[j + 1].value <= 0x39 { return nil }
            var n = 0
            var tooBig = false
            while j < src.count, src[j].value >= 0x30, src[j].value <= 0x39 {
                if n >= 100_000_000 { tooBig = true } else { n = n * 10 + Int(src[j].value - 0x30) }
                j += 1
            }
            return .some(tooBig ? nil : n)
        }
        guard let minParsed = parseInt(&j) else { return nil }
        var lo = minParsed ?? -1
        var hi: Int
        guard j < src.count else { return nil }
        if src[j].value != 0x2C { // ,
            hi = lo
        } else {
            j += 1
            guard j < src.count else { return nil }
            if src[j].value == 0x7D {
                hi = -1
            } else {
                guard let maxParsed = parseInt(&j) else { return nil }
                if let m = maxParsed { hi = m } else { hi = -1; lo = -1 }
            }
        }
        guard j < src.count, src[j].value == 0x7D else { return nil }
        i = j + 1
        return (lo, hi)
    }

    /// `(?` groups: named captures, flag settings and non-capturing groups. Returns nil for a
    /// bare flag setting such as `(?i)`, which changes `flags` for the rest of the current group.
    mutating func parsePerlGroup(flags: inout RegexFlags, depth: Int, start: Int) throws -> RegexNode? {
        let startsWithP = src.count - i > 4 && src[i + 2] == "P" && src[i + 3] == "<"
        let startsWithName = src.count - i > 3 && src[i + 2] == "<"
        if startsWithP || startsWithName {
            let nameStart = i + (startsWithP ? 4 : 3)
            guard let end = src[i...].firstIndex(of: ">") else {
                throw error("invalid named capture", text(i, src.count))
            }
            let name = text(nameStart, end)
            let valid = !name.isEmpty && name.unicodeScalars.allSatisfy { $0 == "_" || NamedClasses.isWord($0.value) }
            guard valid else { throw error("invalid named capture", text(i, end + 1)) }
            i = end + 1
            numCap += 1
            let index = numCap
            names.append(name)
            var inner = flags
            let body = try parseAlternation(flags: &inner, depth: depth + 1)
            guard peek() == 0x29 else { throw error("missing closing )", whole) }
            i += 1
            return .capture(index, body)
        }
        i += 2
        var newFlags = flags
        var negate = false
        var sawFlag = false
        while i < src.count {
            let c = src[i]
            i += 1
            switch c {
            case "i": newFlags.foldCase = !negate; sawFlag = true
            case "m": newFlags.oneLine = negate; sawFlag = true
            case "s": newFlags.dotNL = !negate; sawFlag = true
            case "U": newFlags.nonGreedy = !negate; sawFlag = true
            case "-":
                if negate { throw error("invalid or unsupported Perl syntax", text(start, i)) }
                negate = true
                sawFlag = false
            case ":", ")":
                if negate && !sawFlag { throw error("invalid or unsupported Perl syntax", text(start, i)) }
                if c == ")" {
                    flags = newFlags
                    return nil
                }
                var inner = newFlags
                let body = try parseAlternation(flags: &inner, depth: depth + 1)
                guard peek() == 0x29 else { throw error("missing closing )", whole) }
                i += 1
                return body
            default:
                throw error("invalid or unsupported Perl syntax", text(start, i))
            }
        }
        throw error("invalid or unsupported Perl syntax", text(start, i))
    }

    /// A backslash outside a class.
    mutating func parseTopEscape(flags: RegexFlags, items: inout [RegexNode]) throws {
        guard let c = peek(1) else { throw error("trailing backslash at end of expression", "") }
        switch c {
        case 0x41: i += 2; items.append(.assertion(.beginText)) // \A
        case 0x7A: i += 2; items.append(.assertion(.endText)) // \z
        case 0x62: i += 2; items.append(.assertion(.wordBoundary)) // \b
        case 0x42: i += 2; items.append(.assertion(.noWordBoundary)) // \B
        case 0x43: throw error("invalid escape sequence", text(i, i + 2)) // \C
        case 0x51: // \Q ... \E
            i += 2
            while i < src.count {
                if src[i] == "\\", i + 1 < src.count, src[i + 1] == "E" { i += 2; return }
                try appendLiteral(src[i].value, flags: flags, to: &items)
                i += 1
            }
        default:
            if let item = try parseUnicodeClassItem(flags: flags) {
                items.append(.charClass(try addClass(CharClass(plain: [], items: [item], negated: false))))
                return
            }
            if let item = parsePerlClassItem(flags: flags) {
                items.append(.charClass(try addClass(CharClass(plain: [], items: [item], negated: false))))
                return
            }
            let r = try parseEscape()
            try appendLiteral(r, flags: flags, to: &items)
        }
    }

    /// `\d \D \s \S \w \W` at `i`.
    mutating func parsePerlClassItem(flags: RegexFlags) -> CharClass.Item? {
        guard peek() == 0x5C, let c = peek(1) else { return nil }
        let ranges: [UInt32]
        switch c {
        case 0x64, 0x44: ranges = NamedClasses.digit
        case 0x73, 0x53: ranges = NamedClasses.space
        case 0x77, 0x57: ranges = NamedClasses.word
        default: return nil
        }
        i += 2
        return CharClass.Item(ranges: ranges, categories: 0, fold: flags.foldCase, negated: c < 0x60)
    }

    /// `\pL`, `\p{Lu}`, `\P{...}`, `\p{^...}` at `i`.
    mutating func parseUnicodeClassItem(flags: RegexFlags) throws -> CharClass.Item? {
        guard peek() == 0x5C, let p = peek(1), p == 0x70 || p == 0x50 else { return nil }
        var negated = p == 0x50
        let start = i
        guard i + 2 < src.count else { throw error("invalid character class range", text(start, src.count)) }
        var name: String
        var end: Int
        if src[i + 2] != "{" {
            name = text(i + 2, i + 3)
            end = i + 3
        } else {
            guard let close = src[(i + 2)...].firstIndex(of: "}") else {
                throw error("invalid character class range", text(start, src.count))
            }
            name = text(i + 3, close)
            end = close + 1
        }
        if name.hasPrefix("^") {
            negated.toggle()
            name.removeFirst()
        }
        let canonical = UnicodeTables.canonicalName(name)
        var item = CharClass.Item()
        item.fold = flags.foldCase
        switch canonical {
        case "Any": item.ranges = [0, 0x10FFFF]
        case "Assigned": item.categories = UnicodeTables.categories["Cn"] ?? 0; negated.toggle()
        case "Ascii": item.ranges = [0, 0x7F]
        default:
            if let bits = UnicodeTables.categories[canonical] {
                item.categories = bits
            } else if let ranges = UnicodeScripts.ranges(canonical) {
                item.ranges = ranges
            } else {
                throw error("invalid character class range", text(start, end))
            }
        }
        item.negated = negated
        i = end
        return item
    }

    /// Go's `parseEscape` for a backslash at `i` that is not a class or assertion.
    mutating func parseEscape() throws -> UInt32 {
        let start = i
        i += 1
        guard i < src.count else { throw error("trailing backslash at end of expression", "") }
        let c = src[i].value
        i += 1
        func isOctal(_ k: Int) -> Bool { k < src.count && src[k].value >= 0x30 && src[k].value <= 0x37 }
        func unhex(_ v: UInt32) -> UInt32? {
            switch v {
            case 0x30...0x39: return v - 0x30
            case 0x41...0x46: return v - 0x41 + 10
            case 0x61...0x66: return v - 0x61 + 10
            default: return nil
            }
        }
        switch c {
        case 0x31...0x37 where isOctal(i), 0x30:
            // Octal: up to three digits in all (`\1`-`\7` alone would be backreferences).
            var r = c - 0x30
            var k = 1
            while k < 3, isOctal(i) { r = r * 8 + (src[i].value - 0x30); i += 1; k += 1 }
            return r
        case 0x78: // x
            guard i < src.count else { break }
            let d = src[i].value
            i += 1
            if d == 0x7B { // {
                var r: UInt32 = 0
                var nhex = 0
                while true {
                    guard i < src.count else { throw error("invalid escape sequence", text(start, i)) }
                    let h = src[i].value
                    i += 1
                    if h == 0x7D { break }
                    guard let v = unhex(h) else { throw error("invalid escape sequence", text(start, i)) }
                    r = r * 16 + v
                    guard r <= 0x10FFFF else { throw error("invalid escape sequence", text(start, i)) }
                    nhex += 1
                }
                guard nhex > 0 else { throw error("invalid escape sequence", text(start, i)) }
                return r
            }
            guard let x = unhex(d), i < src.count else { break }
            let e = src[i].value
            i += 1
            guard let y = unhex(e) else { break }
            return x * 16 + y
        case 0x61: return 0x07
        case 0x66: return 0x0C
        case 0x6E: return 0x0A
        case 0x72: return 0x0D
        case 0x74: return 0x09
        case 0x76: return 0x0B
        default:
            if c < 0x80 && !NamedClasses.isWord(c) || c == 0x5F { return c }
        }
        throw error("invalid escape sequence", text(start, i))
    }

    /// Go's `parseClass` for `[` at `i`.
    mutating func parseClass(flags: RegexFlags) throws -> RegexNode {
        let start = i
        i += 1
        var negated = false
        if peek() == 0x5E { negated = true; i += 1 }
        var plain: [UInt32] = []
        var folded: [UInt32] = []
        var items: [CharClass.Item] = []
        var first = true
        while i >= src.count || src[i] != "]" || first {
            guard i < src.count else { throw error("missing closing ]", text(start, src.count)) }
            first = false
            // POSIX [:alnum:]
            if src.count - i > 2, src[i] == "[", src[i + 1] == ":" {
                var k = i + 2
                var close: Int? = nil
                while k + 1 < src.count { if src[k] == ":" && src[k + 1] == "]" { close = k; break }; k += 1 }
                if let close {
                    let raw = text(i + 2, close)
                    let neg = raw.hasPrefix("^")
                    let name = neg ? String(raw.dropFirst()) : raw
                    guard let r = NamedClasses.posix(name) else {
                        throw error("invalid character class range", text(i, close + 2))
                    }
                    items.append(CharClass.Item(ranges: r, categories: 0, fold: flags.foldCase, negated: neg))
                    i = close + 2
                    continue
                }
            }
            if let item = try parseUnicodeClassItem(flags: flags) { items.append(item); continue }
            if let item = parsePerlClassItem(flags: flags) { items.append(item); continue }
            let rangeStart = i
            let lo = try parseClassChar(classStart: start)
            var hi = lo
            if src.count - i >= 2, src[i] == "-", src[i + 1] != "]" {
                i += 1
                hi = try parseClassChar(classStart: start)
                if hi < lo { throw error("invalid character class range", text(rangeStart, i)) }
            }
            if flags.foldCase {
                folded.append(lo); folded.append(hi)
            } else {
                plain.append(lo); plain.append(hi)
            }
        }
        i += 1 // ]
        if !folded.isEmpty {
            items.append(CharClass.Item(ranges: RangeSet.normalized(folded), categories: 0, fold: true, negated: false))
        }
        return .charClass(try addClass(CharClass(plain: plain, items: items, negated: negated)))
    }

    mutating func parseClassChar(classStart: Int) throws -> UInt32 {
        guard i < src.count else { throw error("missing closing ]", text(classStart, src.count)) }
        if src[i] == "\\" { return try parseEscape() }
        i += 1
        return src[i - 1].value
    }
}
