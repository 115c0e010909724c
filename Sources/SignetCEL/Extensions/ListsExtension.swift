// The sets and lists extensions (cel-go `ext.Sets`, `ext.Lists`) and the Kubernetes list library
// (k8s.io/apiserver pkg/cel/library/lists.go: isSorted, sum, min, max, indexOf, lastIndexOf).

extension CELExtensions {
    /// `sets.contains(list, sublist)`, `sets.equivalent(a, b)`, `sets.intersects(a, b)` with CEL equality.
    public static let sets = CELLibrary(name: "cel.lib.ext.sets", functions: [
        CELFunction("sets.contains",
            Ext.function("list_sets_contains_list", [.list(.dyn), .list(.dyn)], cost: ListsExt.pairCost) { _, a in
                guard case .list(let x) = a[0], case .list(let y) = a[1] else { return Ext.noOverload("sets.contains") }
                return .bool(ListsExt.containsAll(x, y))
            }),
        CELFunction("sets.equivalent",
            Ext.function("list_sets_equivalent_list", [.list(.dyn), .list(.dyn)], cost: ListsExt.pairCost) { _, a in
                guard case .list(let x) = a[0], case .list(let y) = a[1] else {
                    return Ext.noOverload("sets.equivalent")
                }
                return .bool(ListsExt.containsAll(x, y) && ListsExt.containsAll(y, x))
            }),
        CELFunction("sets.intersects",
            Ext.function("list_sets_intersects_list", [.list(.dyn), .list(.dyn)], cost: ListsExt.pairCost) { _, a in
                guard case .list(let x) = a[0], case .list(let y) = a[1] else {
                    return Ext.noOverload("sets.intersects")
                }
                return .bool(y.contains { e in x.contains { ExtCompare.equal($0, e) } })
            }),
    ])

    /// `lists.range(n)`, `l.slice(start, end)`, `l.flatten()`, `l.flatten(depth)`, `l.distinct()`,
    /// `l.reverse()`, `l.sort()`, `l.first()`, `l.last()` and `@sortByAssociatedKeys(l, keys)` (the target of
    /// the `sortBy` macro).
    public static let lists = CELLibrary(name: "cel.lib.ext.lists", functions: [
        CELFunction("lists.range",
            Ext.function("lists_range", [.int]) { c, a in
                guard case .int(let n) = a[0] else { return Ext.noOverload("lists.range") }
                guard n > 0 else { return .list([]) }
                // Bounded outright as well as charged, whatever budget the caller chose.
                guard n <= 1 << 24 else { return Ext.fail("lists.range: size \(n) too large") }
                if let e = c.charge(n) { return .error(e) }
                return .list((0..<n).map { .int($0) })
            }),
        CELFunction("slice",
            Ext.method("list_slice", [.list(.dyn), .int, .int], cost: Ext.perElement) { _, a in
                ListsExt.slice(a[0], a[1], a[2])
            }),
        CELFunction("flatten",
            Ext.method("list_flatten", [.list(.dyn)], cost: Ext.perElement) { c, a in
                ListsExt.flatten(c, a[0], .int(1))
            },
            Ext.method("list_flatten_int", [.list(.dyn), .int], cost: Ext.perElement) { c, a in
                ListsExt.flatten(c, a[0], a[1])
            }),
        CELFunction("distinct",
            Ext.method("list_distinct", [.list(.dyn)], cost: ListsExt.squareCost) { _, a in
                guard case .list(let items) = a[0] else { return Ext.noOverload("distinct") }
                var out: [CELValue] = []
                for item in items where !out.contains(where: { ExtCompare.equal($0, item) }) { out.append(item) }
                return .list(out)
            }),
        CELFunction("reverse",
            Ext.method("list_reverse", [.list(.dyn)], cost: Ext.perElement) { _, a in
                guard case .list(let items) = a[0] else { return Ext.noOverload("reverse") }
                return .list(items.reversed())
            }),
        CELFunction("sort",
            Ext.method("list_sort", [.list(.dyn)], cost: ListsExt.sortCost) { _, a in
                guard case .list(let items) = a[0] else { return Ext.noOverload("sort") }
                return ListsExt.sorted(items, keys: items)
            }),
        CELFunction("@sortByAssociatedKeys",
            Ext.function("list_sortByAssociatedKeys", [.list(.dyn), .list(.dyn)], cost: ListsExt.sortCost) { _, a in
                guard case .list(let items) = a[0], case .list(let keys) = a[1] else {
                    return Ext.noOverload("sortBy")
                }
                return ListsExt.sorted(items, keys: keys)
            }),
        CELFunction("first",
            Ext.method("list_first", [.list(.dyn)]) { _, a in
                guard case .list(let items) = a[0] else { return Ext.noOverload("first") }
                return .optional(items.first)
            }),
        CELFunction("last",
            Ext.method("list_last", [.list(.dyn)]) { _, a in
                guard case .list(let items) = a[0] else { return Ext.noOverload("last") }
                return .optional(items.last)
            }),
    ])

    /// Kubernetes list functions: `isSorted()`, `sum()`, `min()`, `max()`, `indexOf(x)`, `lastIndexOf(x)`,
    /// `includes(x)` (list membership, or equality when the receiver is not a list).
    public static let kubernetesLists = CELLibrary(name: "kubernetes.lists", functions: [
        CELFunction("isSorted",
            Ext.method("list_is_sorted", [.list(.dyn)], cost: Ext.perElement) { _, a in
                guard case .list(let items) = a[0] else { return Ext.noOverload("isSorted") }
                for i in items.indices.dropFirst() {
                    guard let c = ExtCompare.compare(items[i - 1], items[i]) else {
                        return Ext.noOverload("isSorted")
                    }
                    if c > 0 { return .false }
                }
                return .true
            }),
        CELFunction("sum",
            Ext.method("list_sum", [.list(.dyn)], cost: Ext.perElement) { _, a in
                guard case .list(let items) = a[0] else { return Ext.noOverload("sum") }
                return ListsExt.sum(items)
            }),
        CELFunction("min",
            Ext.method("list_min", [.list(.dyn)], cost: Ext.perElement) { _, a in
                guard case .list(let items) = a[0] else { return Ext.noOverload("min") }
                return ListsExt.extremum(items, name: "min", sign: -1)
            }),
        CELFunction("max",
            Ext.method("list_max", [.list(.dyn)], cost: Ext.perElement) { _, a in
                guard case .list(let items) = a[0] else { return Ext.noOverload("max") }
                return ListsExt.extremum(items, name: "max", sign: 1)
            }),
        CELFunction("indexOf",
            Ext.method("list_index_of", [.list(.dyn), .dyn], cost: Ext.perElement) { _, a in
                guard case .list(let items) = a[0] else { return Ext.noOverload("indexOf") }
                return .int(Int64(items.firstIndex { ExtCompare.equal($0, a[1]) } ?? -1))
            }),
        CELFunction("lastIndexOf",
            Ext.method("list_last_index_of", [.list(.dyn), .dyn], cost: Ext.perElement) { _, a in
                guard case .list(let items) = a[0] else { return Ext.noOverload("lastIndexOf") }
                return .int(Int64(items.lastIndex { ExtCompare.equal($0, a[1]) } ?? -1))
            }),
        CELFunction("includes",
            Ext.method("list_includes_dyn_dyn", [.dyn, .dyn], cost: Ext.perElement) { _, a in
                if case .list(let items) = a[0] { return .bool(items.contains { ExtCompare.equal($0, a[1]) }) }
                return .bool(ExtCompare.equal(a[0], a[1]))
            }),
    ])
}

enum ListsExt {
    /// Cost of comparing every element of one list with every element of another.
    static let pairCost: CELCost = .custom { args in
        guard args.count == 2 else { return 1 }
        let (p, o) = Ext.size(args[0]).multipliedReportingOverflow(by: Ext.size(args[1]))
        return o ? Int64.max : Ext.saturatingAdd(1, p)
    }

    /// Cost of a quadratic pass over one list.
    static let squareCost: CELCost = .custom { args in
        let n = args.first.map(Ext.size) ?? 1
        let (p, o) = n.multipliedReportingOverflow(by: n)
        return o ? Int64.max : 1 + p / 2
    }

    /// Cost of a comparison sort: n log2 n comparisons.
    static let sortCost: CELCost = .custom { args in
        let n = args.first.map(Ext.size) ?? 1
        let log = Int64(max(1, 64 - n.leadingZeroBitCount))
        let (p, o) = n.multipliedReportingOverflow(by: log)
        return o ? Int64.max : Ext.saturatingAdd(1, p)
    }

    static func containsAll(_ haystack: [CELValue], _ needles: [CELValue]) -> Bool {
        needles.allSatisfy { n in haystack.contains { ExtCompare.equal($0, n) } }
    }

    static func slice(_ list: CELValue, _ start: CELValue, _ end: CELValue) -> CELValue {
        guard case .list(let items) = list, case .int(let s) = start, case .int(let e) = end else {
            return Ext.noOverload("slice")
        }
        guard s >= 0, e >= 0 else { return Ext.fail("cannot slice(\(s), \(e)), negative indexes not supported") }
        guard s <= e else {
            return Ext.fail("cannot slice(\(s), \(e)), start index must be less than or equal to end index")
        }
        guard let si = Int(exactly: s), let ei = Int(exactly: e), ei <= items.count else {
            return Ext.fail("cannot slice(\(s), \(e)), list is length \(items.count)")
        }
        return .list(Array(items[si..<ei]))
    }

    static func flatten(_ c: CELEvaluationContext, _ list: CELValue, _ depth: CELValue) -> CELValue {
        guard case .list(let items) = list, case .int(let d) = depth else { return Ext.noOverload("flatten") }
        guard d >= 0 else { return Ext.fail("level must be non-negative") }
        // Nesting of CEL values is bounded by the parser and the JSON reader; cap the depth anyway.
        var out: [CELValue] = []
        func walk(_ values: [CELValue], _ level: Int64) -> CELError? {
            for v in values {
                if case .list(let inner) = v, level > 0, level < 1_000 {
                    if let e = c.charge(Int64(inner.count)) { return e }
                    if let e = walk(inner, level - 1) { return e }
                } else {
                    out.append(v)
                }
            }
            return nil
        }
        if let e = walk(items, min(d, 999)) { return .error(e) }
        return .list(out)
    }

    /// Sorts `items` by `keys` (same length); the keys must be comparable and of one kind.
    static func sorted(_ items: [CELValue], keys: [CELValue]) -> CELValue {
        guard items.count == keys.count else { return Ext.fail("sortBy: key list length mismatch") }
        if let first = keys.first {
            let kind = first.celType.name
            for k in keys {
                guard k.celType.name == kind else { return Ext.fail("list elements must have the same type") }
                switch k {
                case .int, .uint, .double, .bool, .string, .bytes, .timestamp, .duration: break
                default: return Ext.fail("list elements must be comparable")
                }
            }
        }
        let order = keys.indices.sorted { i, j in
            let c = ExtCompare.compare(keys[i], keys[j]) ?? 0
            return c != 0 ? c < 0 : i < j
        }
        return .list(order.map { items[$0] })
    }

    static func sum(_ items: [CELValue]) -> CELValue {
        guard let first = items.first else { return .int(0) }
        switch first {
        case .int:
            var total: Int64 = 0
            for v in items {
                guard case .int(let i) = v else { return Ext.noOverload("sum") }
                let (s, o) = total.addingReportingOverflow(i)
                if o { return Ext.overflow("sum") }
                total = s
            }
            return .int(total)
        case .uint:
            var total: UInt64 = 0
            for v in items {
                guard case .uint(let u) = v else { return Ext.noOverload("sum") }
                let (s, o) = total.addingReportingOverflow(u)
                if o { return Ext.overflow("sum") }
                total = s
            }
            return .uint(total)
        case .double:
            var total = 0.0
            for v in items {
                guard case .double(let d) = v else { return Ext.noOverload("sum") }
                total += d
            }
            return .double(total)
        case .duration:
            var total: Int128 = 0
            for v in items {
                guard case .duration(let d) = v else { return Ext.noOverload("sum") }
                total += d.nanoseconds
                guard CELDuration(nanoseconds: total) != nil else { return Ext.overflow("sum") }
            }
            guard let d = CELDuration(nanoseconds: total) else { return Ext.overflow("sum") }
            return .duration(d)
        default:
            return Ext.noOverload("sum")
        }
    }

    static func extremum(_ items: [CELValue], name: String, sign: Int) -> CELValue {
        guard var best = items.first else { return Ext.fail("\(name) called on empty list") }
        for v in items.dropFirst() {
            guard let c = ExtCompare.compare(v, best) else { return Ext.noOverload(name) }
            if c * sign > 0 { best = v }
        }
        if items.count == 1 {
            switch best {
            case .int, .uint, .double, .bool, .string, .bytes, .timestamp, .duration: break
            case .opaque(let o) where o.compare(to: o) != nil: break
            default: return Ext.noOverload(name)
            }
        }
        return best
    }
}
