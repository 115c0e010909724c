/// A regular expression with RE2 / Go `regexp` syntax and semantics, matched in linear time.
///
/// Patterns use Go's `regexp/syntax` grammar with Perl flags (`(?i)`, `(?m)`, `(?s)`, `(?U)`),
/// classes (`[a-z]`, `\d`, `[[:alpha:]]`, `\pL`, `\p{Lu}`), anchors (`^ $ \A \z \b \B`) and
/// counted repetition up to 1000; backreferences and lookaround are rejected as RE2 rejects them.
/// Matching compiles to an NFA program run by a Pike VM over Unicode scalars: leftmost-first
/// semantics with Go's submatches, O(program × input) per search, no backtracking. Programs are
/// limited to 10,000 instructions.
///
/// Match ranges are on Unicode-scalar boundaries; take substrings through `subject.unicodeScalars`
/// (or `Match.text(in:group:)`), since `String` subscripts round to `Character` boundaries.
public struct RE2: Sendable, Hashable {
    /// The source text of the pattern.
    public let pattern: String
    let program: RegexProgram
    let names: [String?]

    /// Compiles `pattern`; throws `PrimitivesError(.invalidRegex)` with Go's error wording
    /// (e.g. "error parsing regexp: missing closing ): `(abc`").
    public init(_ pattern: String) throws {
        var parser = RegexParser(pattern)
        let root = try parser.parse()
        self.pattern = pattern
        self.names = parser.names
        self.program = try RegexCompiler.build(root, numCap: parser.numCap, classes: parser.classes)
    }

    /// Patterns are equal when their source text is.
    public static func == (a: RE2, b: RE2) -> Bool { a.pattern == b.pattern }

    /// Hashes the source text.
    public func hash(into hasher: inout Hasher) { hasher.combine(pattern) }

    /// The number of capture groups (Go's `NumSubexp`), not counting the whole match.
    public var numberOfCaptureGroups: Int { program.numCap }

    /// The names of the groups; index 0 is the whole match (always nil), unnamed groups are nil.
    public var captureGroupNames: [String?] { names }

    /// A match: the whole range and one optional range per group (index 0 = whole match).
    public struct Match: Sendable {
        /// The range of the whole match.
        public var range: Range<String.Index>
        /// Ranges of the groups; nil for a group that did not participate.
        public var groups: [Range<String.Index>?]

        /// Creates a match from its ranges.
        public init(range: Range<String.Index>, groups: [Range<String.Index>?]) {
            self.range = range
            self.groups = groups
        }

        /// The text of `group` in `subject` (the string that was searched), nil when the group did
        /// not participate or does not exist. Slices by Unicode scalars.
        public func text(in subject: String, group: Int = 0) -> String? {
            guard group >= 0, group < groups.count, let r = groups[group] else { return nil }
            return String(subject.unicodeScalars[r])
        }
    }

    /// Whether `subject` contains a match (unanchored, like Go's `MatchString`).
    public func matches(_ subject: String) -> Bool {
        var vm = PikeVM(prog: program, input: subject.unicodeScalars.map(\.value), ncap: 0)
        return vm.search(from: 0) != nil
    }

    /// The leftmost-first match with its groups (Go's `FindStringSubmatchIndex`).
    public func firstMatch(in subject: String) -> Match? {
        let s = ScalarSubject(subject)
        var vm = PikeVM(prog: program, input: s.scalars, ncap: 2 * (program.numCap + 1))
        guard let caps = vm.search(from: 0) else { return nil }
        return s.match(caps)
    }

    /// Successive non-overlapping matches, at most `limit` (Go's `FindAllStringSubmatchIndex(s, -1)`:
    /// an empty match right after a previous match is skipped). Each search is linear; like Go's,
    /// many matches over a long subject may rescan text, so bound inputs or `limit`.
    public func allMatches(in subject: String, limit: Int = .max) -> [Match] {
        let s = ScalarSubject(subject)
        return allSlots(s, limit: limit).map { s.match($0) }
    }

    /// Go's `allMatches` loop over capture slots.
    func allSlots(_ s: ScalarSubject, limit: Int) -> [[Int]] {
        var out: [[Int]] = []
        guard limit > 0 else { return out }
        var vm = PikeVM(prog: program, input: s.scalars, ncap: 2 * (program.numCap + 1))
        let end = s.scalars.count
        var pos = 0
        var prevMatchEnd = -1
        while out.count < limit && pos <= end {
            guard let m = vm.search(from: pos) else { break }
            var accept = true
            if m[1] == pos {
                // An empty match right after a previous match is not reported.
                if m[0] == prevMatchEnd { accept = false }
                pos += 1 // next scalar (or past the end)
            } else {
                pos = m[1]
            }
            prevMatchEnd = m[1]
            if accept { out.append(m) }
        }
        return out
    }

    /// Go's `ReplaceAllString`: every match replaced by `template`, where `$1`, `${1}`, `$name`,
    /// `${name}` insert groups (the longest name of letters, digits and `_`: `$1x` is group `1x`)
    /// and `$$` is a dollar sign; an unknown or non-participating group inserts nothing.
    public func replacingAll(in subject: String, template: String) -> String {
        let t = Array(template.unicodeScalars)
        return replace(subject) { out, s, caps in expand(template: t, into: &out, subject: s, caps: caps) }
    }

    /// Go's `ReplaceAllLiteralString`: every match replaced by `literal` as is.
    public func replacingAll(in subject: String, literal: String) -> String {
        let bytes = Array(literal.utf8)
        return replace(subject) { out, _, _ in out.append(contentsOf: bytes) }
    }

    /// Go's `replaceAll` loop.
    private func replace(_ subject: String, _ repl: (inout [UInt8], ScalarSubject, [Int]) -> Void) -> String {
        let s = ScalarSubject(subject)
        var vm = PikeVM(prog: program, input: s.scalars, ncap: 2 * (program.numCap + 1))
        var out: [UInt8] = []
        out.reserveCapacity(s.bytes.count)
        let end = s.scalars.count
        var lastMatchEnd = 0
        var searchPos = 0
        while searchPos <= end {
            guard let a = vm.search(from: searchPos) else { break }
            s.append(lastMatchEnd, a[0], to: &out)
            // No replacement for an empty match right after the previous match.
            if a[1] > lastMatchEnd || a[0] == 0 { repl(&out, s, a) }
            lastMatchEnd = a[1]
            searchPos = searchPos + 1 > a[1] ? searchPos + 1 : a[1]
        }
        s.append(lastMatchEnd, end, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Go's `Regexp.expand`.
    private func expand(template: [Unicode.Scalar], into out: inout [UInt8], subject s: ScalarSubject, caps: [Int]) {
        var i = 0
        let n = template.count
        while i < n {
            let c = template[i]
            guard c == "$" else { out.append(contentsOf: UTF8.encode(c).map { Array($0) } ?? []); i += 1; continue }
            i += 1
            if i < n && template[i] == "$" { out.append(0x24); i += 1; continue }
            // extract: optional brace, then a name of letters, digits, `_`.
            var j = i
            let brace = j < n && template[j] == "{"
            if brace { j += 1 }
            let nameStart = j
            while j < n, Self.isNameScalar(template[j]) { j += 1 }
            let nameEnd = j
            guard nameEnd > nameStart else { out.append(0x24); continue }
            if brace {
                guard j < n, template[j] == "}" else { out.append(0x24); continue }
                j += 1
            }
            var name = ""
            name.unicodeScalars.append(contentsOf: template[nameStart..<nameEnd])
            i = j
            var num = 0
            for u in name.unicodeScalars {
                guard u.value >= 0x30, u.value <= 0x39, num < 100_000_000 else { num = -1; break }
                num = num * 10 + Int(u.value - 0x30)
            }
            if name.unicodeScalars.count > 1, name.unicodeScalars.first == "0" { num = -1 }
            if num >= 0 {
                if 2 * num + 1 < caps.count, caps[2 * num] >= 0 {
                    s.append(caps[2 * num], caps[2 * num + 1], to: &out)
                }
            } else {
                // The first group of that name that took part in the match.
                for (k, n) in names.enumerated() where n == name && 2 * k + 1 < caps.count && caps[2 * k] >= 0 {
                    s.append(caps[2 * k], caps[2 * k + 1], to: &out)
                    break
                }
            }
        }
    }

    private static func isNameScalar(_ u: Unicode.Scalar) -> Bool {
        if u == "_" { return true }
        switch u.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber:
            return true
        default:
            return false
        }
    }

    /// Go's `Split`: the substrings between matches; `limit` > 0 returns at most `limit`
    /// pieces (the last one unsplit), 0 returns none, < 0 all.
    public func split(_ subject: String, limit: Int = -1) -> [String] {
        if limit == 0 { return [] }
        if !pattern.isEmpty && subject.isEmpty { return [""] }
        let s = ScalarSubject(subject)
        let matches = allSlots(s, limit: limit < 0 ? .max : limit)
        var out: [String] = []
        var beg = 0
        var end = 0
        for m in matches {
            if limit > 0 && out.count == limit - 1 { break }
            end = m[0]
            if m[1] != 0 { out.append(s.text(beg, end)) }
            beg = m[1]
        }
        if end != s.scalars.count { out.append(s.text(beg, s.scalars.count)) }
        return out
    }

    /// Test hook: the Pike VM's work count for one unanchored search.
    func searchSteps(_ subject: String) -> (matched: Bool, steps: Int) {
        var vm = PikeVM(prog: program, input: subject.unicodeScalars.map(\.value), ncap: 2 * (program.numCap + 1))
        let found = vm.search(from: 0) != nil
        return (found, vm.steps)
    }
}

/// A subject as scalars, with the `String.Index` and UTF-8 offset of every scalar position
/// (plus the end).
struct ScalarSubject {
    let string: String
    let scalars: [UInt32]
    let indices: [String.Index]
    let bytes: [UInt8]
    let byteOffsets: [Int]

    init(_ s: String) {
        string = s
        bytes = Array(s.utf8)
        var sc: [UInt32] = []
        var ix: [String.Index] = []
        var bo: [Int] = []
        sc.reserveCapacity(bytes.count)
        ix.reserveCapacity(bytes.count + 1)
        bo.reserveCapacity(bytes.count + 1)
        let view = s.unicodeScalars
        var i = view.startIndex
        var offset = 0
        while i < view.endIndex {
            let u = view[i]
            ix.append(i)
            bo.append(offset)
            sc.append(u.value)
            offset += UTF8.width(u)
            i = view.index(after: i)
        }
        ix.append(view.endIndex)
        bo.append(offset)
        scalars = sc
        indices = ix
        byteOffsets = bo
    }

    /// Appends the UTF-8 bytes of scalars `from..<to`.
    func append(_ from: Int, _ to: Int, to out: inout [UInt8]) {
        guard from < to else { return }
        out.append(contentsOf: bytes[byteOffsets[from]..<byteOffsets[to]])
    }

    /// The text of scalars `from..<to`.
    func text(_ from: Int, _ to: Int) -> String {
        guard from < to else { return "" }
        return String(decoding: bytes[byteOffsets[from]..<byteOffsets[to]], as: UTF8.self)
    }

    func match(_ caps: [Int]) -> RE2.Match {
        var groups: [Range<String.Index>?] = []
        var k = 0
        while k + 1 < caps.count {
            if caps[k] >= 0 && caps[k + 1] >= caps[k] {
                groups.append(indices[caps[k]]..<indices[caps[k + 1]])
            } else {
                groups.append(nil)
            }
            k += 2
        }
        let whole = groups.first.flatMap { $0 } ?? (string.startIndex..<string.startIndex)
        return RE2.Match(range: whole, groups: groups)
    }
}
