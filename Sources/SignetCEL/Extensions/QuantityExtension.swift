import SignetPrimitives

// The Kubernetes quantity library (k8s.io/apiserver pkg/cel/library/quantity.go) over
// SignetPrimitives.Quantity (exact `resource.Quantity` arithmetic).

/// A Kubernetes resource quantity (`kubernetes.Quantity`).
public struct CELQuantity: CELOpaque, Hashable {
    /// The quantity.
    public let quantity: Quantity

    /// The CEL type `kubernetes.Quantity`.
    public static let type = CELType.opaque("kubernetes.Quantity")
    /// The CEL runtime type of the value.
    public var celType: CELType { Self.type }
    /// The canonical text form (used by `string(x)` and JSON output).
    public var description: String { quantity.description }

    /// Wraps a quantity.
    public init(_ quantity: Quantity) { self.quantity = quantity }

    /// Parses Kubernetes quantity text (`500m`, `1Gi`, `2e3`).
    public init(parsing text: String) throws(CELError) {
        // The number part needs at least one digit (`Mi` alone is not a quantity).
        let body = text.drop { $0 == "+" || $0 == "-" }
        let number = body.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard number.contains(where: \.isNumber) else {
            throw CELError(.invalidArgument, "quantities must match the regular expression "
                + "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        }
        do {
            quantity = try Quantity(parsing: text)
        } catch {
            throw CELError(.invalidArgument, "quantities must match the regular expression "
                + "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'", underlying: error)
        }
    }

    /// Equal values are equal whatever their format (`1k == 1000`).
    public func isEqual(to other: any CELOpaque) -> Bool {
        guard let o = other as? CELQuantity else { return false }
        return o.quantity == quantity
    }

    /// CEL ordering against a value of the same type; nil otherwise.
    public func compare(to other: any CELOpaque) -> Int? {
        guard let o = other as? CELQuantity else { return nil }
        return quantity < o.quantity ? -1 : (o.quantity < quantity ? 1 : 0)
    }
}

extension CELExtensions {
    /// Kubernetes quantity functions: `quantity(s)`, `isQuantity(s)`, `sign()`, `isInteger()`, `asInteger()`,
    /// `asApproximateFloat()`, `add(q|int)`, `sub(q|int)`, `isLessThan(q)`, `isGreaterThan(q)`, `compareTo(q)`.
    public static let kubernetesQuantity = CELLibrary(name: "kubernetes.quantity", functions: [
        CELFunction("quantity",
            .function("string_to_quantity", .string, cost: Ext.linear()) { v in
                guard case .string(let s) = v else { return Ext.noOverload("quantity") }
                return Ext.attempt { () throws(CELError) in .opaque(try CELQuantity(parsing: s)) }
            }),
        CELFunction("isQuantity",
            .function("is_quantity_string", .string, cost: Ext.linear()) { v in
                guard case .string(let s) = v else { return Ext.noOverload("isQuantity") }
                return .bool((try? CELQuantity(parsing: s)) != nil)
            }),
        // Kubernetes declares `sign` as a global overload and documents it as a method: offer both.
        CELFunction("sign",
            .method("quantity_sign_member", CELQuantity.type) { v in
                guard let q = QuantityExt.quantity(v) else { return Ext.noOverload("sign") }
                return .int(Int64(q.sign))
            },
            .function("quantity_sign", CELQuantity.type) { v in
                guard let q = QuantityExt.quantity(v) else { return Ext.noOverload("sign") }
                return .int(Int64(q.sign))
            }),
        QuantityExt.unary("isInteger", "quantity_is_integer") { .bool($0.exactInt64 != nil) },
        QuantityExt.unary("asInteger", "quantity_get_int") { q in
            guard let i = q.exactInt64 else { return Ext.fail("cannot convert value to integer") }
            return .int(i)
        },
        QuantityExt.unary("asApproximateFloat", "quantity_get_float") { .double($0.approximateDouble) },
        CELFunction("add",
            .method("quantity_add", CELQuantity.type, CELQuantity.type) { a, b in
                QuantityExt.arithmetic(a, b, name: "add") { try $0.adding($1) }
            },
            .method("quantity_add_int", CELQuantity.type, .int) { a, b in
                QuantityExt.arithmetic(a, b, name: "add") { try $0.adding($1) }
            }),
        CELFunction("sub",
            .method("quantity_sub", CELQuantity.type, CELQuantity.type) { a, b in
                QuantityExt.arithmetic(a, b, name: "sub") { try $0.subtracting($1) }
            },
            .method("quantity_sub_int", CELQuantity.type, .int) { a, b in
                QuantityExt.arithmetic(a, b, name: "sub") { try $0.subtracting($1) }
            }),
        QuantityExt.comparison("isLessThan", "quantity_less") { .bool($0 < 0) },
        QuantityExt.comparison("isGreaterThan", "quantity_greater") { .bool($0 > 0) },
        QuantityExt.comparison("compareTo", "quantity_compare_to") { .int(Int64($0)) },
    ], types: [CELQuantity.type])
}

enum QuantityExt {
    static func quantity(_ v: CELValue) -> Quantity? {
        switch v {
        case .opaque(let o): return (o as? CELQuantity)?.quantity
        // An int operand is a plain decimal quantity (Kubernetes' `NewQuantity(i, DecimalSI)`).
        case .int(let i): return Quantity(i)
        default: return nil
        }
    }

    static func unary(_ name: String, _ id: String, _ body: @escaping @Sendable (Quantity) -> CELValue) -> CELFunction {
        CELFunction(name, .method(id, CELQuantity.type) { v in
            guard let q = quantity(v) else { return Ext.noOverload(name) }
            return body(q)
        })
    }

    static func arithmetic(_ a: CELValue, _ b: CELValue, name: String,
                           _ op: (Quantity, Quantity) throws -> Quantity) -> CELValue {
        guard let x = quantity(a), let y = quantity(b) else { return Ext.noOverload(name) }
        do {
            return .opaque(CELQuantity(try op(x, y)))
        } catch {
            return .error(CELError(.overflow, "quantity \(name) overflows", underlying: error))
        }
    }

    static func comparison(_ name: String, _ id: String, _ result: @escaping @Sendable (Int) -> CELValue) -> CELFunction {
        CELFunction(name, .method(id, CELQuantity.type, CELQuantity.type) { a, b in
            guard let x = quantity(a), let y = quantity(b) else { return Ext.noOverload(name) }
            return result(x < y ? -1 : (y < x ? 1 : 0))
        })
    }
}
