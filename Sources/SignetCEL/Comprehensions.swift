/// Macro comprehensions compiled to loops (langdef "Macros"). Every iteration charges one unit of cost,
/// so nested comprehensions over big inputs end with the cost-limit error instead of running away.
enum Comprehensions {
    enum Quantifier { case all, exists, existsOne }

    /// Accumulates the outcome of a quantifier; a struct so the loop state stays on the stack.
    struct QuantifierState {
        let kind: Quantifier
        var unknown: CELUnknown?
        var error: CELValue?
        var count = 0

        /// Returns a final result when the loop can stop early.
        @inline(__always)
        mutating func step(_ v: CELValue) -> CELValue? {
            switch v {
            case .bool(let b):
                switch kind {
                case .all: return b ? nil : .false
                case .exists: return b ? .true : nil
                case .existsOne:
                    if b { count += 1 }
                    return nil
                }
            case .unknown(let u):
                if kind == .existsOne { return v }
                unknown = unknown.map { $0.merging(u) } ?? u
            case .error:
                if kind == .existsOne { return v }
                if error == nil { error = v }
            default:
                let e = CELValue.error(CELError(.noMatchingOverload, "no matching overload for predicate of type \(v.celType.name)"))
                if kind == .existsOne { return e }
                if error == nil { error = e }
            }
            return nil
        }

        var result: CELValue {
            if let unknown { return .unknown(unknown) }
            if let error { return error }
            switch kind {
            case .all: return .true
            case .exists: return .false
            case .existsOne: return .bool(count == 1)
            }
        }
    }

    /// `all`, `exists`, `exists_one` with one variable (list element or map key) or two (index/key and value).
    static func quantifier(_ range: @escaping Compiled, valueSlot: Int, keySlot: Int?, predicate: @escaping Compiled,
                           kind: Quantifier) -> Compiled {
        return { ctx in
            let r = range(ctx)
            var state = QuantifierState(kind: kind)
            switch r {
            case .list(let items):
                for i in items.indices {
                    if let e = ctx.charge(1) { return .error(e) }
                    if let keySlot { ctx.slots[keySlot] = .int(Int64(i)) }
                    ctx.slots[valueSlot] = items[i]
                    if let done = state.step(predicate(ctx)) { return done }
                }
            case .map(let m):
                for (k, v) in m {
                    if let e = ctx.charge(1) { return .error(e) }
                    if let keySlot {
                        ctx.slots[keySlot] = k.value
                        ctx.slots[valueSlot] = v
                    } else {
                        ctx.slots[valueSlot] = k.value
                    }
                    if let done = state.step(predicate(ctx)) { return done }
                }
            case .error, .unknown:
                return r
            default:
                return .error(CELError(.noMatchingOverload, "cannot iterate over \(r.celType.name)"))
            }
            return state.result
        }
    }

    /// `map`, `filter` (transform nil) and `transformList`.
    static func mapList(_ range: @escaping Compiled, valueSlot: Int, keySlot: Int?, filter: Compiled?,
                        transform: Compiled?) -> Compiled {
        return { ctx in
            let r = range(ctx)
            var out: [CELValue] = []
            func visit(_ element: CELValue) -> CELValue? {
                if let filter {
                    switch filter(ctx) {
                    case .bool(true): break
                    case .bool(false): return nil
                    case let v where v.isErrorOrUnknown: return v
                    case let v: return .error(CELError(.noMatchingOverload, "filter predicate returned \(v.celType.name)"))
                    }
                }
                if let transform {
                    let v = transform(ctx)
                    if v.isErrorOrUnknown { return v }
                    out.append(v)
                } else {
                    out.append(element)
                }
                return nil
            }
            switch r {
            case .list(let items):
                out.reserveCapacity(items.count)
                for i in items.indices {
                    if let e = ctx.charge(1) { return .error(e) }
                    if let keySlot { ctx.slots[keySlot] = .int(Int64(i)) }
                    ctx.slots[valueSlot] = items[i]
                    if let stop = visit(items[i]) { return stop }
                }
            case .map(let m):
                for (k, v) in m {
                    if let e = ctx.charge(1) { return .error(e) }
                    if let keySlot {
                        ctx.slots[keySlot] = k.value
                        ctx.slots[valueSlot] = v
                    } else {
                        ctx.slots[valueSlot] = k.value
                    }
                    if let stop = visit(k.value) { return stop }
                }
            case .error, .unknown:
                return r
            default:
                return .error(CELError(.noMatchingOverload, "cannot iterate over \(r.celType.name)"))
            }
            return .list(out)
        }
    }

    /// `transformMap(k, v, [filter,] expr)`: a map with the same keys (list indexes for lists).
    static func transformMap(_ range: @escaping Compiled, valueSlot: Int, keySlot: Int, filter: Compiled?,
                             transform: @escaping Compiled) -> Compiled {
        return { ctx in
            let r = range(ctx)
            var out = CELMap()
            func visit(_ key: CELMapKey) -> CELValue? {
                if let filter {
                    switch filter(ctx) {
                    case .bool(true): break
                    case .bool(false): return nil
                    case let v where v.isErrorOrUnknown: return v
                    case let v: return .error(CELError(.noMatchingOverload, "filter predicate returned \(v.celType.name)"))
                    }
                }
                let v = transform(ctx)
                if v.isErrorOrUnknown { return v }
                out.set(v, for: key)
                return nil
            }
            switch r {
            case .list(let items):
                for i in items.indices {
                    if let e = ctx.charge(1) { return .error(e) }
                    ctx.slots[keySlot] = .int(Int64(i))
                    ctx.slots[valueSlot] = items[i]
                    if let stop = visit(.int(Int64(i))) { return stop }
                }
            case .map(let m):
                for (k, v) in m {
                    if let e = ctx.charge(1) { return .error(e) }
                    ctx.slots[keySlot] = k.value
                    ctx.slots[valueSlot] = v
                    if let stop = visit(k) { return stop }
                }
            case .error, .unknown:
                return r
            default:
                return .error(CELError(.noMatchingOverload, "cannot iterate over \(r.celType.name)"))
            }
            return .map(out)
        }
    }
}
