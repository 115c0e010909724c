import SignetJMESPath
import SignetPrimitives

extension PolicyEngine {
    /// Kyverno `validateForEach` (pkg/engine/handlers/validation/validate_resource.go): every
    /// foreach entry over its list; the first element that does not pass decides the rule
    /// (`validation failure: ...`); a list with an unknown key is skipped, another list error
    /// is reported only when no element was applied; nothing applied skips the rule.
    func validateForEach(_ list: [ForEachValidation], rp: RulePlan, v: Validation, ctx: VariableContext,
                         resource: JSONValue, action: FailureAction) -> RuleResult {
        let rule = rp.rule
        func result(_ s: RuleStatus, _ m: String) -> RuleResult {
            RuleResult(rule: rule.name, type: .validation, status: s, message: m, failureAction: action)
        }
        switch foreachList(list, rp: rp, v: v, ctx: ctx, resource: resource, nesting: 0) {
        case .none: return result(.skip, "rule skipped")
        case .some(let (status, message)):
            return status == .pass ? result(.pass, rp.passMessage) : result(status, message)
        }
    }

    /// One foreach level: nil when no element was applied (Kyverno returns no response).
    func foreachList(_ list: [ForEachValidation], rp: RulePlan, v: Validation, ctx: VariableContext,
                     resource: JSONValue, nesting: Int) -> (RuleStatus, String)? {
        guard nesting < 8 else { return (.error, "foreach nested too deeply") }
        var applied = 0
        var listError: String?
        for fe in list {
            let elements: [JSONValue]
            do {
                var expr = try Variables.substitute(string: fe.list, in: ctx).stringValue ?? fe.list
                if ctx.isDelete { expr = expr.replacingAll("request.object", with: "request.oldObject") }
                // Kyverno `EvaluateList`: a value that is not a list is a list of one
                switch try ctx.query(expr) {
                case .array(let a): elements = a
                case let other: elements = [other]
                }
            } catch {
                let m = Self.text(error)
                if m.contains("Unknown key") { continue }
                listError = m
                continue
            }
            guard elements.count <= 10_000 else { return (.error, "foreach list \(fe.list) is too long") }
            let (status, message, count) = foreachElements(fe, elements, rp: rp, v: v, ctx: ctx, resource: resource, nesting: nesting)
            if status != .pass { return (status, message) }
            applied += count
        }
        if applied == 0 {
            if let listError { return (.error, "failed to evaluate list: \(listError)") }
            return nil
        }
        return (.pass, "rule passed")
    }

    /// Kyverno `validateElements`: each non-null element in its own context.
    func foreachElements(_ fe: ForEachValidation, _ elements: [JSONValue], rp: RulePlan, v: Validation, ctx base: VariableContext,
                         resource: JSONValue, nesting: Int) -> (RuleStatus, String, Int) {
        var applied = 0
        for (i, element) in elements.enumerated() {
            if case .null = element { continue }
            var ctx = base
            ctx.set("element", element)
            ctx.set("element\(nesting)", element)
            ctx.set("elementIndex", .integer(Int64(i)))
            ctx.set("elementIndex\(nesting)", .integer(Int64(i)))
            // elementScope: patterns apply to the element when it is a map (default); true on a
            // non-map element is an error
            let isMap: Bool = { if case .object = element { return true }; return false }()
            if fe.elementScope == true && !isMap {
                return (.error, "failed to process foreach: cannot use elementScope=true foreach rules for elements that are not maps, expected type=map got type=\(Self.goTypeName(element))", applied)
            }
            let target = (fe.elementScope ?? isMap) ? element : resource
            guard let (status, message) = foreachElement(fe, rp: rp, v: v, ctx: &ctx, target: target, resource: resource, nesting: nesting) else { continue }
            switch status {
            case .skip: continue
            case .pass: applied += 1
            default:
                if status == .error && message.contains("failed to evaluate preconditions") { continue }
                return (status, "validation failure: " + message, applied)
            }
        }
        return (.pass, "", applied)
    }

    /// The foreach validator of one element (`validator.validate` at nesting + 1).
    func foreachElement(_ fe: ForEachValidation, rp: RulePlan, v: Validation, ctx: inout VariableContext,
                        target: JSONValue, resource: JSONValue, nesting: Int) -> (RuleStatus, String)? {
        let rule = rp.rule
        do { try loadContext(fe.context, into: &ctx) }
        catch { return (.error, "failed to load context: \(Self.text(error))") }
        if let pc = fe.preconditions {
            do {
                let (ok, msgs) = try pc.evaluate(in: ctx)
                if !ok { return (.skip, (["preconditions not met"] + msgs.filter { !$0.isEmpty }).joined(separator: "; ")) }
            } catch { return (.error, "failed to evaluate preconditions: \(Self.text(error))") }
        }
        if let deny = fe.deny {
            do {
                let (denied, msgs) = deny.any == nil && deny.all == nil ? (true, []) : try deny.evaluate(in: ctx)
                if !denied { return (.pass, "validation rule '\(rule.name)' passed.") }
                return (.fail, denyMessage(rule, v, msgs, ctx))
            } catch { return (.error, "failed to check deny conditions: \(Self.text(error))") }
        }
        if fe.pattern != nil || fe.anyPattern != nil {
            var sv = v
            sv.foreach = nil
            sv.deny = nil
            do {
                sv.pattern = try fe.pattern.map { Pattern(try Variables.substitute($0, in: ctx)) }
                sv.anyPattern = try fe.anyPattern.map { try $0.map { Pattern(try Variables.substitute($0, in: ctx)) } }
            } catch { return (.error, "variable substitution failed: \(Self.text(error))") }
            if let m = v.message { sv.message = substitutedMessage(m, ctx) }
            let r = validate(rp, sv, resource: target, action: .audit)
            return (r.status, r.message)
        }
        if let nested = fe.foreach {
            return foreachList(nested, rp: rp, v: v, ctx: ctx, resource: resource, nesting: nesting + 1)
        }
        return nil
    }

    /// Go's `%T` of a decoded JSON value.
    static func goTypeName(_ v: JSONValue) -> String {
        switch v {
        case .string: return "string"
        case .bool: return "bool"
        case .integer: return "int64"
        case .number: return "float64"
        case .array: return "[]interface {}"
        case .object: return "map[string]interface {}"
        case .null: return "<nil>"
        }
    }
}
