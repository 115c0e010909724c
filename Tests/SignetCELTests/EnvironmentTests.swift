import Testing
import SignetPrimitives
@testable import SignetCEL

@Suite struct EnvironmentTests {
    static let pod: JSONValue = [
        "spec": [
            "containers": [
                ["name": "a", "image": "registry.gitlab.com/testcompany/a:1"],
                ["name": "b", "image": "registry.gitlab.com/testcompany/b:2"],
                ["name": "c", "image": "docker.io/library/nginx"],
            ],
        ],
    ]

    @Test(arguments: [
        ("object.spec.containers.all(c, c.image.startsWith('registry.gitlab.com/testcompany/'))", JSONValue.bool(false)),
        ("object.spec.containers.exists(c, c.name == 'c')", .bool(true)),
        ("object.spec.containers.map(c, c.name)", JSONValue.array(["a", "b", "c"])),
        ("object.spec.containers.filter(c, c.image.startsWith('docker.io')).size()", .integer(1)),
        ("has(object.spec.replicas)", .bool(false)),
        ("object.spec.containers[0].name + '!'", .string("a!")),
    ])
    func podPolicies(expression: String, expected: JSONValue) throws {
        let env = CELEnvironment(variables: [CELVariable("object")])
        let program = try env.compile(expression)
        #expect(try program.evaluate(json: ["object": Self.pod]).toJSON() == expected)
    }

    @Test func undeclaredVariableFailsAtCompileTime() {
        let env = CELEnvironment(variables: [CELVariable("object")])
        #expect(throws: CELError.self) { try env.compile("other.x") }
        #expect(throws: CELError.self) { try env.compile("unknownFunction(1)") }
        #expect(throws: CELError.self) { try env.compile("size(1, 2, 3)") }
    }

    @Test func qualifiedVariableNames() throws {
        let env = CELEnvironment(variables: [CELVariable("request.auth"), CELVariable("request")])
        let program = try env.compile("request.auth.user + ':' + request.path")
        let value = try program.evaluate([
            "request.auth": .map(CELMap(["user": .string("alice")])),
            "request": .map(CELMap(["path": .string("/x")])),
        ])
        #expect(value == .string("alice:/x"))
    }

    @Test func containerResolution() throws {
        var options = CELOptions()
        options.container = "a.b"
        let env = CELEnvironment(variables: [CELVariable("a.b.x"), CELVariable("y")], options: options)
        #expect(try env.compile("x + y").evaluate(["a.b.x": .int(1), "y": .int(2)]) == .int(3))
    }

    @Test func parseErrorsCarryPositions() {
        let env = CELEnvironment()
        do {
            _ = try env.compile("1 +\n  * 2")
            Issue.record("expected a parse error")
        } catch {
            #expect(error.code == .parse)
            #expect(error.position?.line == 2)
            #expect(error.position?.column == 3)
        }
    }

    @Test func parseLimits() {
        var options = CELOptions()
        options.maxExpressionSize = 100
        #expect(throws: CELError.self) { try CELEnvironment(options: options).compile(String(repeating: "1 + ", count: 50) + "1") }
        let deep = String(repeating: "(", count: 300) + "1" + String(repeating: ")", count: 300)
        #expect(throws: CELError.self) { try CELEnvironment().compile(deep) }
        let shallow = String(repeating: "[", count: 20) + "1" + String(repeating: "]", count: 20)
        #expect(throws: Never.self) { try CELEnvironment().compile(shallow) }
        // 24 ternaries, 32 terms of || and && (langdef minimum repetition support).
        let terms = Array(repeating: "true", count: 32).joined(separator: " || ")
        #expect(throws: Never.self) { try CELEnvironment().compile(terms) }
        let long = String(repeating: "1 + ", count: 5000) + "1"
        #expect(throws: CELError.self) { try CELEnvironment().compile(long) }
    }

    /// Deep nesting just under the limit compiles and evaluates on a concurrency-pool thread (small stacks).
    @Test func deepNestingOnTaskThread() async throws {
        let depth = 240
        let lists = String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
        let calls = String(repeating: "size([", count: 100) + "1" + String(repeating: "])", count: 100)
        let negations = String(repeating: "!", count: 200) + "true"
        let ok = try await Task.detached {
            let env = CELEnvironment()
            _ = try env.compile(lists).evaluate()
            _ = try env.compile(calls).evaluate()
            return try env.compile(negations).evaluate() == .true
        }.value
        #expect(ok)
    }

    @Test func customFunctions() throws {
        let double = CELFunction("twice",
                                 .function("twice_int", .int) { v in .int((v.intValue ?? 0) &* 2) },
                                 .method("string_twice", .string) { v in .string((v.stringValue ?? "") + (v.stringValue ?? "")) })
        let failing = CELFunction("fail", .function("fail_string", .string) { v in
            .error(CELError(.invalidArgument, "failed: \(v.stringValue ?? "")"))
        })
        let env = CELEnvironment(functions: [double, failing])
        #expect(try env.compile("twice(21)").evaluate() == .int(42))
        #expect(try env.compile("'ab'.twice()").evaluate() == .string("abab"))
        #expect(try env.compile("false && fail('x')").evaluate() == .false)
        #expect(throws: CELError.self) { try env.compile("fail('x')").evaluate() }
        // A wrong argument type is a run-time no-matching-overload error.
        let r = try env.compile("twice(dyn('a'))").run(CELActivation([:]))
        #expect(r.value.errorValue?.code == .noMatchingOverload)
    }

    @Test func libraryOverloadOfOperator() throws {
        struct Meters: CELOpaque {
            let value: Int64
            var celType: CELType { .opaque("test.Meters") }
            func isEqual(to other: any CELOpaque) -> Bool { (other as? Meters)?.value == value }
            func compare(to other: any CELOpaque) -> Int? {
                guard let o = other as? Meters else { return nil }
                return value == o.value ? 0 : (value < o.value ? -1 : 1)
            }
            var description: String { "\(value)m" }
        }
        let lib = CELLibrary(name: "meters", functions: [
            CELFunction("meters", .function("meters_int", .int) { .opaque(Meters(value: $0.intValue ?? 0)) }),
            CELFunction("_+_", .function("add_meters", .opaque("test.Meters"), .opaque("test.Meters")) { a, b in
                guard case .opaque(let x as Meters) = a, case .opaque(let y as Meters) = b else { return .error(.noMatchingOverload("_+_")) }
                return .opaque(Meters(value: x.value &+ y.value))
            }),
        ])
        let env = CELEnvironment(libraries: [lib])
        #expect(try env.compile("meters(1) + meters(2) == meters(3)").evaluate() == .true)
        #expect(try env.compile("meters(1) < meters(2)").evaluate() == .true)
        #expect(try env.compile("string(type(meters(1)))").evaluate() == .string("test.Meters"))
    }

    @Test func costLimitStopsRunawayComprehensions() throws {
        let env = CELEnvironment(variables: [CELVariable("l")])
        let list = CELValue.list((0..<2000).map { .int(Int64($0)) })
        let program = try env.compile("l.all(x, l.all(y, l.all(z, x + y + z >= 0)))")
        let result = program.run(CELActivation(["l": list]), costLimit: 200_000)
        #expect(result.value.errorValue?.code == .costLimitExceeded)
        #expect(result.cost > 200_000)
        // A bounded evaluation reports its cost.
        let small = try env.compile("l.exists(x, x == 10)").run(CELActivation(["l": list]))
        #expect(small.value == .true)
        #expect(small.cost > 10 && small.cost < 100)
        // The limit error is not absorbed by logic operators.
        let absorbed = try env.compile("true || l.map(x, l.map(y, y)).size() > 0").run(CELActivation(["l": list]), costLimit: 1000)
        #expect(absorbed.value == .true)
        let inside = try env.compile("l.map(x, l.map(y, y)).size() > 0 || true").run(CELActivation(["l": list]), costLimit: 1000)
        #expect(inside.value.errorValue?.code == .costLimitExceeded)
    }

    @Test func stringGrowthIsCharged() throws {
        let env = CELEnvironment(variables: [CELVariable("s")])
        let s = CELValue.string(String(repeating: "x", count: 100_000))
        let program = try env.compile("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(i, s + s + s).size()")
        let result = program.run(CELActivation(["s": s]), costLimit: 10_000)
        #expect(result.value.errorValue?.code == .costLimitExceeded)
    }

    @Test func concurrentEvaluation() async throws {
        let env = CELEnvironment(variables: [CELVariable("object"), CELVariable("n", .int)])
        let program = try env.compile("object.spec.containers.filter(c, c.name != 'c').size() + n")
        let pod = CELValue(json: Self.pod)
        let results = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<64 {
                group.addTask {
                    for j in 0..<200 {
                        let n = Int64(i * 1000 + j)
                        guard let v = try? program.evaluate(["object": pod, "n": .int(n)]), v == .int(n + 2) else { return false }
                    }
                    return true
                }
            }
            var all = true
            for await ok in group { all = all && ok }
            return all
        }
        #expect(results)
    }

    @Test func jsonConversion() throws {
        let json: JSONValue = ["a": [1, 2.5, "x", nil, true], "b": ["c": ["d": 1]]]
        let value = CELValue(json: json)
        #expect(try value.toJSON() == json)
        let env = CELEnvironment()
        #expect(try env.compile("{1u: b'ab', 'd': duration('1.5s'), 't': timestamp('2020-01-01T00:00:00Z'), 'o': optional.none(), 'y': int}")
            .evaluate().toJSON() == ["1": "YWI=", "d": "1.5s", "t": "2020-01-01T00:00:00Z", "o": nil, "y": "int"])
        #expect(throws: CELError.self) { try CELValue.error(.divisionByZero).toJSON() }
    }

    @Test func unknownsPropagateThroughLogic() throws {
        var options = CELOptions()
        options.checkDeclarations = false
        let env = CELEnvironment(variables: [CELVariable("x"), CELVariable("y")], options: options)
        let unknown = CELValue.unknown(CELUnknown(["x"]))
        #expect(try env.compile("x || true").evaluate(["x": unknown]) == .true)
        #expect(try env.compile("x && false").evaluate(["x": unknown]) == .false)
        #expect(try env.compile("x && true").evaluate(["x": unknown]) == unknown)
        #expect(try env.compile("x + 1").evaluate(["x": unknown]) == unknown)
        #expect(try env.compile("x + y").evaluate(["x": unknown, "y": .unknown(CELUnknown(["y"]))]) == .unknown(CELUnknown(["x", "y"])))
        #expect(try env.compile("1 / 0 == 1 || x").evaluate(["x": unknown]) == unknown)
    }
}
