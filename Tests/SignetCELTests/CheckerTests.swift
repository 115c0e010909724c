// The type checker (`CELEnvironment.check`): documented cases, declarations with type parameters,
// differential cases against Google's C++ checker, and hostile input.

import Testing
import SignetCEL

/// An expression and its deduced type (`CELType.description`), or an expected check error.
struct CheckCase: Sendable, CustomStringConvertible {
    let expr: String
    let type: String?
    let error: Bool

    init(_ expr: String, _ type: String) {
        self.expr = expr
        self.type = type
        self.error = false
    }

    init(_ expr: String, error: Bool) {
        self.expr = expr
        self.type = nil
        self.error = error
    }

    var description: String { expr }
}

struct CheckerTests {
    static let env = CELEnvironment(variables: [CELVariable("object"), CELVariable("n", .int),
                                                CELVariable("names", .list(.string)),
                                                CELVariable("labels", .map(.string, .string)),
                                                CELVariable("maybe", .optional(.string))],
                                    libraries: CELExtensions.all)

    static func verify(_ c: CheckCase, env: CELEnvironment = env) {
        do {
            let t = try env.check(c.expr)
            #expect(!c.error, "\(c.expr): expected a check error, deduced \(t)")
            if let expected = c.type { #expect(t.description == expected, "\(c.expr)") }
        } catch {
            #expect(c.error, "\(c.expr): \(error)")
        }
    }

    static let documented: [CheckCase] = [
        CheckCase("true", "bool"), CheckCase("42", "int"), CheckCase("42u", "uint"), CheckCase("0.1", "double"),
        CheckCase("'s'", "string"), CheckCase("b's'", "bytes"), CheckCase("null", "null_type"),
        CheckCase("[1]", "list(int)"), CheckCase("{'abc': 123}", "map(string, int)"),
        CheckCase("['foo'][0]", "string"), CheckCase("{'abc': 123}['abc']", "int"),
        CheckCase("('foo' + 'bar').startsWith('foo')", "bool"),
        CheckCase("[[], [[]], [[[]]], [[[[]]]]]", "list(list(list(list(list(dyn)))))"),
        CheckCase("[[[[[]]]], [], [[[]]]]", "list(list(list(list(list(dyn)))))"),
        CheckCase("([].map(x,x))[0].foo", "dyn"),
        CheckCase("[optional.none(), optional.of(1)]", "list(optional_type(int))"),
        CheckCase("[optional.of(1), optional.of(dyn(1))]", "list(optional_type(dyn))"),
        CheckCase("true ? optional.of(dyn(1)) : optional.of(1)", "optional_type(dyn)"),
        CheckCase("[optional.of(1), null][0]", "optional_type(int)"),
        // Declared variables: dyn stays dyn, typed ones drive overloads.
        CheckCase("object.spec.containers", "dyn"), CheckCase("object.spec.replicas > 1", "bool"),
        CheckCase("n + 1", "int"), CheckCase("n + 1.0", error: true), CheckCase("n < 1.0", "bool"),
        CheckCase("names.map(s, s.size())", "list(int)"), CheckCase("names.filter(s, s.startsWith('a'))", "list(string)"),
        CheckCase("names.exists(s, s == 'a')", "bool"), CheckCase("names.all(s, s)", error: true),
        CheckCase("labels.app", "string"), CheckCase("labels[?'app'].orValue('x')", "string"),
        CheckCase("labels.all(k, labels[k] != '')", "bool"), CheckCase("has(labels.app)", "bool"),
        CheckCase("maybe.orValue('')", "string"), CheckCase("maybe.?size", error: true),
        CheckCase("maybe.optMap(s, s.size())", "optional_type(int)"), CheckCase("names.sortBy(s, s.size())", "list(string)"),
        CheckCase("names.sortBy(s, [s])", error: true), CheckCase("n.sortBy(s, s)", error: true),
        // Errors: undeclared names, no overload, selection on a primitive.
        CheckCase("undeclared + 1", error: true), CheckCase("undeclaredFunction(1)", error: true),
        CheckCase("n.size()", error: true), CheckCase("'a' + 1", error: true), CheckCase("n.field", error: true),
        CheckCase("true ? 1 : 'a'", error: true), CheckCase("[1, 2].map(x, x * 2.0)", error: true),
        // Macros and bindings.
        CheckCase("cel.bind(x, 'a', x + x)", "string"), CheckCase("[1, 2].transformList(i, v, i * v)", "list(int)"),
        CheckCase("{'a': 1}.transformMap(k, v, v > 0)", "map(string, bool)"),
        CheckCase("cel.block([1, cel.index(0) + 1], cel.index(1) * 2)", "int"),
        // Extensions: declared result types.
        CheckCase("'a,b'.split(',')", "list(string)"), CheckCase("lists.range(3)", "list(int)"),
        CheckCase("[1, 2].first()", "optional_type(int)"), CheckCase("ip('10.0.0.1').family()", "int"),
        CheckCase("cidr('10.0.0.0/8').containsIP(ip('10.0.0.1'))", "bool"), CheckCase("quantity('1Gi')", "kubernetes.Quantity"),
        CheckCase("url('https://x').getHost()", "string"), CheckCase("type(ip('10.0.0.1')) == net.IP", "bool"),
        CheckCase("math.greatest(1, 2)", "int"), CheckCase("math.least([1.5, 2.0])", "double"),
        CheckCase("math.greatest(1, 2.0)", "dyn"), CheckCase("math.abs(-1)", "int"), CheckCase("math.abs(-1.5)", "double"), CheckCase("int", "type"),
    ]

    @Test(arguments: documented) func documentedCases(_ c: CheckCase) { Self.verify(c) }

    @Test(arguments: differential) func differentialCases(_ c: CheckCase) { Self.verify(c) }

    /// Caller declarations with type parameters (cel-spec type_deduction "type_parameters").
    @Test func declarationsWithTypeParameters() throws {
        let tuple = CELType.abstract("tuple", [.typeParameter("T"), .typeParameter("U"), .typeParameter("V")])
        let same = CELType.abstract("tuple", [.typeParameter("T"), .typeParameter("T"), .typeParameter("T")])
        let env = CELEnvironment(functions: [
            CELFunction("tuple", .declaration("tuple_T_U_V", parameters: [.typeParameter("T"), .typeParameter("U"),
                                                                          .typeParameter("V")], result: tuple)),
            CELFunction("sort", .declaration("sort_tuple_T_T_T", parameters: [same], result: same)),
            CELFunction("fn", .declaration("fn_string_int", parameters: [.string, .int], result: .string)),
            CELFunction("twice", .declaration("string_twice", style: .receiver, parameters: [.string], result: .string)),
            CELFunction("count", .function("count_string", .string) { _ in .int(0) }.returning(.int)),
            CELFunction("untyped", .function("untyped_string", .string) { v in v }),
            CELFunction("firstOf", .function("first_of_list", .list(.typeParameter("E"))) { _ in .null }
                .returning(.typeParameter("E"))),
        ])
        #expect(try env.check("count('a') + 1") == .int)
        #expect(try env.check("untyped('a')") == .dyn)
        #expect(try env.check("firstOf(['a'])") == .string)
        #expect(try env.check("firstOf([])") == .dyn)
        #expect(throws: CELError.self) { try env.check("count(1)") }
        let dyn3 = CELType.abstract("tuple", [.dyn, .dyn, .dyn])
        #expect(try env.check("fn('abc', 123)") == .string)
        #expect(try env.check("'a'.twice()") == .string)
        #expect(try env.check("tuple(1, 2u, 3.0)") == .abstract("tuple", [.int, .uint, .double]))
        #expect(try env.check("[tuple(1, 2u, 3.0), tuple(dyn(1), dyn(2u), dyn(3.0))][0]") == dyn3)
        #expect(try env.check("sort(tuple(dyn(1), 2u, 3.0))") == dyn3)
        #expect(try env.check("tuple(1, 2u, 3.0) == tuple(1, dyn(2u), dyn(3.0))") == .bool)
        #expect(throws: CELError.self) { try env.check("sort(tuple(1, 2u, 3.0))") }
        #expect(throws: CELError.self) { try env.check("fn(123, 'abc')") }
        // A declaration compiles; calling it is an error value, not a trap.
        let result = try env.compile("fn('abc', 1)").run(CELActivation([:])).value
        #expect(result.errorValue?.code == .unsupported)
    }

    /// Error codes and positions.
    @Test func errorCodes() {
        let cases: [(String, CELError.Code)] = [
            ("missing", .undeclaredReference), ("nothing(1)", .undeclaredReference), ("1 + 'a'", .noMatchingOverload),
            ("1.f", .check), ("1 +", .parse), ("[1].all(x, 1)", .check),
        ]
        for (expr, code) in cases {
            do {
                _ = try Self.env.check(expr)
                Issue.record("\(expr): no error")
            } catch {
                #expect(error.code == code, "\(expr): \(error)")
                #expect(error.position != nil || code == .parse, "\(expr)")
            }
        }
    }

    /// With `checkDeclarations = false` undeclared variables are run-time lookups: `dyn` for the checker.
    @Test func undeclaredVariablesWithoutDeclarationChecking() throws {
        var options = CELOptions()
        options.checkDeclarations = false
        let env = CELEnvironment(options: options)
        #expect(try env.check("request.object.spec") == .dyn)
        #expect(try env.check("size(request.name) > 1") == .bool)
        #expect(throws: CELError.self) { try env.check("unknownFunction(1)") }
        #expect(throws: CELError.self) { try CELEnvironment().check("request.name") }
    }

    /// Hostile input: deep nesting is bounded by the parser, exponential types by the work budget.
    @Test func hostileInput() {
        let deep = String(repeating: "[", count: 240) + String(repeating: "]", count: 240)
        #expect((try? Self.env.check(deep)) != nil)
        let tooDeep = String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000)
        #expect(throws: CELError.self) { try Self.env.check(tooDeep) }
        // Each binding doubles the type's size: map(T, T) nested 60 times.
        var doubling = "1"
        for i in 0..<60 { doubling = "cel.bind(v\(i), \(doubling), {v\(i): v\(i)})" }
        do {
            _ = try Self.env.check(doubling)
        } catch {
            #expect(error.code == .costLimitExceeded || error.code == .parse, "\(error)")
        }
        var joins = "[]"
        for _ in 0..<100 { joins = "[\(joins), [], [[]]]" }
        _ = try? Self.env.check(joins)
        // Wide input near the size limit: linear work.
        let wide = "[" + Array(repeating: "[optional.none(), optional.of(1)]", count: 2500).joined(separator: ", ") + "]"
        #expect((try? Self.env.check(wide)) == .list(.list(.optional(.int))))
        let conjunction = Array(repeating: "n > 1", count: 5000).joined(separator: " && ")
        _ = try? Self.env.check(conjunction)
    }

    /// Checking does not change evaluation: the deduced type agrees with evaluated values.
    @Test func agreesWithEvaluation() throws {
        for expr in ["[1, 2].map(x, x * 2)", "{'a': [1]}.a", "optional.of('x')", "lists.range(2).sortBy(x, -x)"] {
            let t = try Self.env.check(expr)
            let v = try Self.env.compile(expr).evaluate()
            #expect(t.name == v.celType.name, "\(expr)")
        }
    }
}

extension ExtensionsTests {
    /// sortBy/sort against the C++ runtime; every case also type-checks (the C++ checker accepted it).
    @Test(arguments: sortByDifferential) func sortByAgainstCpp(_ c: ExtCase) {
        Self.check(c)
        #expect((try? Self.env.check(c.expr)) != nil, "\(c.expr) does not type-check")
    }
}

extension CheckerTests {
    /// Expressions the C++ checker rejects (key types that are not comparable, non-list receivers).
    @Test(arguments: sortByCheckErrors) func sortByRejected(_ c: CheckCase) { Self.verify(c) }
}

extension ExtensionsTests {
    /// The 1145 extension expressions compiled (type-checked) by Google's C++ CEL: they type-check here too.
    @Test func differentialCasesTypeCheck() {
        var rejected: [String] = []
        for c in Self.differential where (try? Self.env.check(c.expr)) == nil { rejected.append(c.expr) }
        #expect(rejected.isEmpty, "\(rejected.count) rejected, e.g. \(rejected.prefix(10))")
    }
}
