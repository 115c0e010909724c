// Compilation of the parse tree to an NFA program (Go's `regexp/syntax` compile.go shapes, so that
// leftmost-first priorities and submatches agree), and a Pike VM (Go's `regexp` exec.go `machine`)
// that runs in O(program × input) time with memory bounded by the program size.

enum InstOp: UInt8, Sendable {
    case fail, match, rune1, runeClass, anyChar, anyCharNotNL, split, save, empty
}

/// One instruction. `split` prefers `out` over `arg`; `save` stores the position in slot `arg`;
/// `empty` requires the `EmptyOp` bits in `arg`.
struct Inst: Sendable {
    var op: InstOp
    var out: Int32
    var arg: UInt32
}

struct RegexProgram: Sendable {
    var insts: [Inst]
    var classes: [CharClass]
    var start: Int
    /// Capture groups, excluding group 0.
    var numCap: Int
    /// Whether every match must start at the beginning of the text (`^` or `\A` first).
    var anchoredStart: Bool
}

/// Builds the program backwards: `compile(node, next)` returns the entry of `node` whose exit
/// continues at `next`, which needs no patch lists except for loops.
struct RegexCompiler {
    var insts: [Inst] = [Inst(op: .fail, out: 0, arg: 0)]

    mutating func emit(_ op: InstOp, out: Int, arg: UInt32 = 0) throws -> Int {
        guard insts.count < RegexLimits.maxProgramSize else {
            throw PrimitivesError(.invalidRegex, "error parsing regexp: expression too large")
        }
        insts.append(Inst(op: op, out: Int32(out), arg: arg))
        return insts.count - 1
    }

    mutating func split(prefer a: Int, else b: Int, greedy: Bool) throws -> Int {
        greedy ? try emit(.split, out: a, arg: UInt32(b)) : try emit(.split, out: b, arg: UInt32(a))
    }

    mutating func compile(_ node: RegexNode, next: Int) throws -> Int {
        switch node {
        case .empty:
            return next
        case .literal(let c):
            return try emit(.rune1, out: next, arg: c)
        case .charClass(let k):
            return try emit(.runeClass, out: next, arg: UInt32(k))
        case .anyChar:
            return try emit(.anyChar, out: next)
        case .anyCharNotNL:
            return try emit(.anyCharNotNL, out: next)
        case .assertion(let op):
            return try emit(.empty, out: next, arg: UInt32(op.rawValue))
        case .capture(let k, let x):
            let close = try emit(.save, out: next, arg: UInt32(2 * k + 1))
            let body = try compile(x, next: close)
            return try emit(.save, out: body, arg: UInt32(2 * k))
        case .concat(let xs):
            var cur = next
            for x in xs.reversed() { cur = try compile(x, next: cur) }
            return cur
        case .alternate(let xs):
            guard let last = xs.last else { return 0 }
            var cur = try compile(last, next: next)
            for x in xs.dropLast().reversed() {
                let entry = try compile(x, next: next)
                cur = try emit(.split, out: entry, arg: UInt32(cur))
            }
            return cur
        case .repetition(let x, let lo, let hi, let greedy):
            if case .empty = x { return next }
            return try compileRepeat(x, min: lo, max: hi, greedy: greedy, next: next)
        }
    }

    /// `x*`: a nullable body is compiled as `(x+)?` (golang.org/issue/46123).
    mutating func star(_ x: RegexNode, greedy: Bool, next: Int) throws -> Int {
        if x.nullable {
            let plusEntry = try plus(x, greedy: greedy, next: next)
            return try split(prefer: plusEntry, else: next, greedy: greedy)
        }
        let loop = try emit(.split, out: 0, arg: 0)
        let body = try compile(x, next: loop)
        insts[loop] = greedy ? Inst(op: .split, out: Int32(body), arg: UInt32(next))
                             : Inst(op: .split, out: Int32(next), arg: UInt32(body))
        return loop
    }

    mutating func plus(_ x: RegexNode, greedy: Bool, next: Int) throws -> Int {
        let loop = try emit(.split, out: 0, arg: 0)
        let body = try compile(x, next: loop)
        insts[loop] = greedy ? Inst(op: .split, out: Int32(body), arg: UInt32(next))
                             : Inst(op: .split, out: Int32(next), arg: UInt32(body))
        return body
    }

    mutating func quest(_ x: RegexNode, greedy: Bool, next: Int) throws -> Int {
        let body = try compile(x, next: next)
        return try split(prefer: body, else: next, greedy: greedy)
    }

    /// Go's `simplify` of counted repetition: `x{n,}` = n-1 copies then `x+`;
    /// `x{n,m}` = n copies then nested `(x(x)?)?` (m-n levels).
    mutating func compileRepeat(_ x: RegexNode, min lo: Int, max hi: Int, greedy: Bool, next: Int) throws -> Int {
        if hi == -1 {
            if lo == 0 { return try star(x, greedy: greedy, next: next) }
            var cur = try plus(x, greedy: greedy, next: next)
            for _ in 0..<(lo - 1) { cur = try compile(x, next: cur) }
            return cur
        }
        if lo == 0 && hi == 0 { return next }
        if lo == 1 && hi == 1 { return try compile(x, next: next) }
        var cur = next
        if hi > lo {
            cur = try quest(x, greedy: greedy, next: next)
            for _ in (lo + 1)..<max(lo + 1, hi) {
                let body = try compile(x, next: cur)
                cur = try split(prefer: body, else: next, greedy: greedy)
            }
        }
        for _ in 0..<lo { cur = try compile(x, next: cur) }
        return cur
    }

    static func build(_ root: RegexNode, numCap: Int, classes: [CharClass]) throws -> RegexProgram {
        var c = RegexCompiler()
        let matchPC = try c.emit(.match, out: 0)
        let close = try c.emit(.save, out: matchPC, arg: 1)
        let body = try c.compile(root, next: close)
        let start = try c.emit(.save, out: body, arg: 0)
        let slots = 2 * (numCap + 1)
        // Each Pike VM queue keeps `slots` capture positions per instruction.
        let (memory, overflow) = slots.multipliedReportingOverflow(by: c.insts.count)
        guard !overflow, memory <= RegexLimits.maxCaptureMemory else {
            throw PrimitivesError(.invalidRegex, "error parsing regexp: expression too large")
        }
        var anchored = false
        var pc = start
        var hops = 0
        while hops < c.insts.count {
            let inst = c.insts[pc]
            if inst.op == .save { pc = Int(inst.out); hops += 1; continue }
            if inst.op == .empty, EmptyOp(rawValue: UInt8(truncatingIfNeeded: inst.arg)).contains(.beginText) { anchored = true }
            break
        }
        return RegexProgram(insts: c.insts, classes: classes, start: start, numCap: numCap, anchoredStart: anchored)
    }
}

/// The Pike VM: threads in priority order, one queue per input position.
struct PikeVM {
    let prog: RegexProgram
    let input: [UInt32]
    /// Capture slots tracked (0 when only a yes/no answer is needed).
    let ncap: Int
    /// Work counter for tests: threads stepped plus instructions visited.
    var steps = 0

    struct Queue {
        var sparse: [Int32]
        var dense: [Int32] // pc per entry
        var hasThread: [Bool]
        var caps: [Int] // ncap slots per dense entry
        var count = 0

        init(size: Int, ncap: Int) {
            sparse = Array(repeating: 0, count: size)
            dense = Array(repeating: 0, count: size)
            hasThread = Array(repeating: false, count: size)
            // Grown on demand: only threads actually created need capture slots.
            caps = []
            caps.reserveCapacity(min(size, 16) * ncap)
        }

        @inline(__always) func contains(_ pc: Int) -> Bool {
            let j = Int(sparse[pc])
            return j < count && Int(dense[j]) == pc
        }
    }

    var runq: Queue
    var nextq: Queue
    var matchcap: [Int]
    var work: [Int]
    var stack: [Int] = []

    init(prog: RegexProgram, input: [UInt32], ncap: Int) {
        self.prog = prog
        self.input = input
        self.ncap = ncap
        runq = Queue(size: prog.insts.count, ncap: ncap)
        nextq = Queue(size: prog.insts.count, ncap: ncap)
        matchcap = Array(repeating: -1, count: ncap)
        work = Array(repeating: -1, count: ncap)
        stack.reserveCapacity(16)
    }

    @inline(__always) func isWordAt(_ p: Int) -> Bool { p >= 0 && p < input.count && NamedClasses.isWord(input[p]) }

    func emptyFlags(at p: Int) -> EmptyOp {
        var f: EmptyOp = []
        if p == 0 { f.formUnion([.beginText, .beginLine]) } else if input[p - 1] == 0x0A { f.insert(.beginLine) }
        if p == input.count { f.formUnion([.endText, .endLine]) } else if input[p] == 0x0A { f.insert(.endLine) }
        f.insert(isWordAt(p - 1) != isWordAt(p) ? .wordBoundary : .noWordBoundary)
        return f
    }

    /// Follows empty transitions from `pc0` at position `pos`, adding threads in priority order.
    /// `stack` holds pending work: a value `>= 0` explores that pc; a negative value `-(slot+1)`
    /// restores capture `slot` to the value pushed just before it.
    mutating func add(_ q: inout Queue, _ pc0: Int, pos: Int, cap: inout [Int], stack: inout [Int]) {
        var flags: EmptyOp? = nil
        stack.append(pc0)
        while let top = stack.popLast() {
            if top < 0 {
                let value = stack.popLast() ?? -1
                cap[-top - 1] = value
                continue
            }
            let pc = top
            steps += 1
            if pc == 0 || q.contains(pc) { continue }
            let j = q.count
            q.count += 1
            q.dense[j] = Int32(pc)
            q.sparse[pc] = Int32(j)
            q.hasThread[j] = false
            let inst = prog.insts[pc]
            switch inst.op {
            case .fail:
                break
            case .split:
                stack.append(Int(inst.arg))
                stack.append(Int(inst.out))
            case .empty:
                let f: EmptyOp
                if let cached = flags { f = cached } else { f = emptyFlags(at: pos); flags = f }
                if f.isSuperset(of: EmptyOp(rawValue: UInt8(truncatingIfNeeded: inst.arg))) {
                    stack.append(Int(inst.out))
                }
            case .save:
                let slot = Int(inst.arg)
                if slot < ncap {
                    stack.append(cap[slot])
                    stack.append(-(slot + 1))
                    cap[slot] = pos
                }
                stack.append(Int(inst.out))
            case .match, .rune1, .runeClass, .anyChar, .anyCharNotNL:
                q.hasThread[j] = true
                if ncap > 0 {
                    let base = j * ncap
                    if q.caps.count < base + ncap {
                        q.caps.append(contentsOf: repeatElement(-1, count: base + ncap - q.caps.count))
                    }
                    for k in 0..<ncap { q.caps[base + k] = cap[k] }
                }
            }
        }
    }

    /// Leftmost-first search starting at `from`; returns the capture slots (or `[]` when
    /// `ncap == 0`) of the match, nil when there is none.
    mutating func search(from: Int) -> [Int]? {
        // Reuse the buffers kept in `self` across searches (FindAll calls search repeatedly).
        var runq = Queue(size: 0, ncap: 0), nextq = Queue(size: 0, ncap: 0)
        var matchcap: [Int] = [], work: [Int] = [], stack: [Int] = []
        swap(&runq, &self.runq); swap(&nextq, &self.nextq)
        swap(&matchcap, &self.matchcap); swap(&work, &self.work); swap(&stack, &self.stack)
        defer {
            swap(&runq, &self.runq); swap(&nextq, &self.nextq)
            swap(&matchcap, &self.matchcap); swap(&work, &self.work); swap(&stack, &self.stack)
        }
        runq.count = 0
        nextq.count = 0
        var matched = false
        for k in 0..<ncap { matchcap[k] = -1 }
        var pos = from
        let n = input.count
        guard from <= n else { return nil }
        while true {
            if runq.count == 0 {
                if prog.anchoredStart && pos != 0 { break }
                if matched { break }
            }
            if !matched && (pos == 0 || !prog.anchoredStart) {
                for k in 0..<ncap { work[k] = -1 }
                add(&runq, prog.start, pos: pos, cap: &work, stack: &stack)
            }
            let c: UInt32? = pos < n ? input[pos] : nil
            // step: run each thread on `c` in priority order.
            var j = 0
            while j < runq.count {
                defer { j += 1 }
                guard runq.hasThread[j] else { continue }
                steps += 1
                let inst = prog.insts[Int(runq.dense[j])]
                var advance = false
                switch inst.op {
                case .match:
                    if ncap > 0 {
                        let base = j * ncap
                        for k in 0..<ncap { matchcap[k] = runq.caps[base + k] }
                        matchcap[1] = pos
                    }
                    matched = true
                    // Leftmost-first: lower-priority threads are cut off.
                    j = runq.count
                    continue
                case .rune1:
                    advance = c == inst.arg
                case .runeClass:
                    if let c { advance = prog.classes[Int(inst.arg)].matches(c) }
                case .anyChar:
                    advance = c != nil
                case .anyCharNotNL:
                    advance = c != nil && c != 0x0A
                default:
                    break
                }
                if advance {
                    if ncap > 0 {
                        let base = j * ncap
                        for k in 0..<ncap { work[k] = runq.caps[base + k] }
                    }
                    add(&nextq, Int(inst.out), pos: pos + 1, cap: &work, stack: &stack)
                }
            }
            runq.count = 0
            if c == nil { break }
            if ncap == 0 && matched { break }
            pos += 1
            swap(&runq, &nextq)
        }
        return matched ? matchcap : nil
    }
}
