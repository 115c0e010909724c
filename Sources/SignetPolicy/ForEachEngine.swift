import SignetJMESPath
import SignetPrimitives

extension PolicyEngine {
    /// Kyverno `validateForEach`: every foreach entry over its list; an element that fails fails
    /// the rule, an error errors it; elements whose preconditions fail are skipped; when no
    /// element was applied the rule is skipped.
    func validateForEach(_ list: [ForEachValidation], rp: RulePlan, v: Validation, ctx: VariableContext,
                         resource: JSONValue, action: FailureAction) -> RuleResult {
        let rule = rp.rule
        func result(_ s: RuleStatus, _ m: String) -> RuleResult {
            RuleResult(rule: rule.name, type: .validation, status: s, message: m, failureAction: action)
        }
        var applied = 0
        for fe in list {
            switch foreachOutcome(fe, rp: rp, v: v, ctx: ctx, resource: resource, depth: 0) {
            case .fail(let m): return result(.fail, m)
            case .error(let m): return result(.error, m)
            case .applied(let n): applied += n
            }
        }
        if applied == 0 { return result(.skip, "rule skipped") }
        return result(.pass, rp.passMessage)
    }

    enum ForEachOutcome { case applied(Int), fail(String), error(String) }

    func foreachOutcome(_ fe: ForEachValidation, rp: RulePlan, v: Validation, ctx base: VariableContext,
                        resource: JSONValue, depth: Int) -> ForEachOutcome {
        let rule = rp.rule
        guard depth < 8 else { return .error("foreach nested too deeply") }
        let elements: [JSONValue]
        do {
            let listExpr = try Variables.substitute(string: fe.list, in: base).stringValue ?? fe.list
            var expr = listExpr
            if base.isDelete { expr = expr.replacingAll("request.object", with: "request.oldObject") }
            let value = try base.query(expr)
            switch value {
            case .array(let a): elements = a
            case .null: return .applied(0)
            default: return .error("failed to evaluate list \(fe.list): expected a list, got \(value.typeName)")
            }
        } catch { return .error("failed to evaluate list \(fe.list): \(Self.text(error))") }
        guard elements.count <= 10_000 else { return .error("foreach list \(fe.list) is too long") }
        var applied = 0
        for (i, element) in elements.enumerated() {
            var ctx = base
            ctx.set("element", element)
            ctx.set("elementIndex", .integer(Int64(i)))
            do { try loadContext(fe.context, into: &ctx) }
            catch { return .error("failed to load context: \(Self.text(error))") }
            if let pc = fe.preconditions {
                do { if !(try pc.evaluate(in: ctx).holds) { continue } }
                catch { return .error("failed to evaluate preconditions: \(Self.text(error))") }
            }
            // elementScope: patterns apply to the element when it is a map (default) or when asked
            let scoped: Bool = fe.elementScope ?? { if case .object = element { return true }; return false }()
            let target = scoped ? element : resource
            if let nested = fe.foreach {
                for n in nested {
                    switch foreachOutcome(n, rp: rp, v: v, ctx: ctx, resource: resource, depth: depth + 1) {
                    case .applied(let k): applied += k
                    case let other: return other
                    }
                }
                continue
            }
            if let deny = fe.deny {
                do {
                    let denied = deny.any == nil && deny.all == nil ? true : try deny.evaluate(in: ctx).holds
                    if denied {
                        guard let m = v.message, !m.isEmpty else { return .fail("validation failure: rule \(rule.name) failed") }
                        return .fail(substitutedMessage(m, ctx))
                    }
                    applied += 1
                } catch { return .error("failed to check deny conditions: \(Self.text(error))") }
                continue
            }
            var sv = v
            sv.foreach = nil
            sv.deny = nil
            do {
                sv.pattern = try fe.pattern.map { Pattern(try Variables.substitute($0, in: ctx)) }
                sv.anyPattern = try fe.anyPattern.map { try $0.map { Pattern(try Variables.substitute($0, in: ctx)) } }
            } catch { return .error("variable substitution failed: \(Self.text(error))") }
            if let m = v.message { sv.message = substitutedMessage(m, ctx) }
            let r = validate(rp, sv, resource: target, action: .audit)
            switch r.status {
            case .fail:
                let m = r.message
                return .fail(m)
            case .error: return .error(r.message)
            case .skip: continue
            default: applied += 1
            }
        }
        return .applied(applied)
    }
}
