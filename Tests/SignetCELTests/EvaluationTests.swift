import Testing
import SignetPrimitives
@testable import SignetCEL

/// Evaluates `expression` in a lenient environment with variable `x` bound to an int.
func evaluate(_ expression: String, _ variables: [String: CELValue] = [:]) -> CELValue {
    var options = CELOptions()
    options.checkDeclarations = false
    let env = CELEnvironment(variables: variables.keys.map { CELVariable($0) }, options: options)
    do {
        let program = try env.compile(expression)
        return program.run(CELActivation(variables)).value
    } catch {
        return .error(error)
    }
}

@Suite struct EvaluationTests {
    /// Expression → expected value (structural equality, so types must match exactly).
    static let values: [(String, CELValue)] = [
        // literals
        ("1", .int(1)), ("-1", .int(-1)), ("0x1F", .int(31)), ("1u", .uint(1)), ("0xFFu", .uint(255)),
        ("-9223372036854775808", .int(Int64.min)), ("9223372036854775807", .int(Int64.max)),
        ("18446744073709551615u", .uint(UInt64.max)), ("1.5", .double(1.5)), ("1e3", .double(1000)),
        ("-2.5e-1", .double(-0.25)), (".5", .double(0.5)), ("true", .true), ("null", .null),
        ("'a\\tb'", .string("a\tb")), ("\"\\x41\\101\\u0042\\U00000043\"", .string("AABC")),
        ("r'a\\nb'", .string("a\\nb")), ("'''x'y'''", .string("x'y")), ("\"\"\"a\nb\"\"\"", .string("a\nb")),
        ("b'\\xff\\000'", .bytes([255, 0])), ("b'ÿ'", .bytes([0xC3, 0xBF])),
        ("'\\a\\b\\f\\v\\\\\\'\\\"\\?\\`'", .string("\u{07}\u{08}\u{0C}\u{0B}\\'\"?`")),
        // arithmetic and precedence
        ("1 + 2 * 3", .int(7)), ("(1 + 2) * 3", .int(9)), ("7 / 2", .int(3)), ("-7 / 2", .int(-3)),
        ("7 % 3", .int(1)), ("-7 % 3", .int(-1)), ("10u - 3u", .uint(7)), ("2.0 * 1.5", .double(3)),
        ("1.0 / 0.0", .double(.infinity)), ("--1", .int(1)), ("-(-(1))", .int(1)), ("!!true", .true),
        ("'ab' + 'cd'", .string("abcd")), ("b'a' + b'b'", .bytes([97, 98])), ("[1] + [2]", .list([.int(1), .int(2)])),
        ("1 + 2 == 3 && 4 > 3 || false", .true), ("true ? 1 : 2", .int(1)), ("false ? 1 : true ? 2 : 3", .int(2)),
        // associativity and precedence corners
        ("2 - 1 - 1", .int(0)), ("8 / 2 / 2", .int(2)), ("-2 * 3", .int(-6)), ("1 in [1] == true", .true),
        ("!true || true", .true), ("true || false && false", .true), ("(true || false) && false", .false),
        ("true ? false : true ? 1 : 2", .false), ("1 < 2 == true", .true),
        ("[1, 2][0] + {'a': 3}.a * 2", .int(7)), ("'a' + 'b' in ['ab']", .true), ("!(1 > 2)", .true),
        ("[1, 2,]", .list([.int(1), .int(2)])), ("{'a': 1,}.a", .int(1)),
        // comments and whitespace
        ("1 // one\n + 2", .int(3)), ("\t1\r\n+\u{0C}2", .int(3)),
        // comparisons
        ("1 == 1u", .true), ("1 == 1.0", .true), ("1u < 1.5", .true), ("-1 < 0u", .true), ("2 > 1.5", .true),
        ("'a' < 'b'", .true), ("b'a' < b'b'", .true), ("false < true", .true), ("[1, 2] == [1, 2.0]", .true),
        ("{'a': 1} == {'a': 1u}", .true), ("1 == 'a'", .false), ("null == null", .true), ("0.0/0.0 == 0.0/0.0", .false),
        ("1 != 2", .true), ("1 <= 1", .true), ("2 >= 3", .false), ("9223372036854775807 < 9223372036854775808.0", .false), ("'Am\\u00E9lie' == 'Ame\\u0301lie'", .false),
        // in, index, select
        ("2 in [1, 2]", .true), ("'a' in {'a': 1}", .true), ("1u in {1: 'x'}", .true), ("3 in [1, 2]", .false),
        ("[1, 2, 3][1]", .int(2)), ("{'a': {'b': 5}}.a.b", .int(5)), ("{1: 'x'}[1u]", .string("x")),
        ("{1: 'x'}[1.0]", .string("x")), ("has({'a': 1}.a)", .true), ("has({'a': 1}.b)", .false),
        // size & strings
        ("size('héllo')", .int(5)), ("'abc'.size()", .int(3)), ("size([1, 2])", .int(2)), ("size({'a': 1})", .int(1)),
        ("size(b'ab')", .int(2)), ("'hello'.contains('ell')", .true), ("'hello'.startsWith('he')", .true),
        ("'hello'.endsWith('lo')", .true), ("'hello'.endsWith('x')", .false),
        // macros
        ("[1, 2, 3].all(x, x > 0)", .true), ("[1, 2, 3].exists(x, x > 2)", .true), ("[1, 2, 3].exists_one(x, x > 1)", .false),
        ("[1, 2, 3].map(x, x * 2)", .list([.int(2), .int(4), .int(6)])), ("[1, 2, 3].filter(x, x % 2 == 1)", .list([.int(1), .int(3)])),
        ("[1, 2, 3].map(x, x > 1, x * 10)", .list([.int(20), .int(30)])), ("{'a': 1, 'b': 2}.all(k, k != 'c')", .true),
        ("{'a': 1}.map(k, k + '!')", .list([.string("a!")])), ("cel.bind(x, 2, x * x)", .int(4)),
        ("[0, 1].all(x, 1 / x < 0)", .false), ("{'if': 1}.if", .int(1)), ("{'content-type': 1}.`content-type`", .int(1)), ("has({'a.b': 1}.`a.b`)", .true), ("a.if() || true", .true), ("[0, 1].exists(x, 1 / x > 0)", .true),
        ("[10, 20].all(i, v, v == (i + 1) * 10)", .true), ("{'a': 1}.exists(k, v, k == 'a' && v == 1)", .true),
        ("[1, 2].transformList(i, v, v + i)", .list([.int(1), .int(3)])),
        ("[[1, 2], [3]].map(l, l.map(x, x + 1))", .list([.list([.int(2), .int(3)]), .list([.int(4)])])),
        // logic absorption
        ("false && 1 / 0 == 1", .false), ("1 / 0 == 1 && false", .false), ("true || 1 / 0 == 1", .true),
        ("1 / 0 == 1 || true", .true),
        // conversions
        ("int('42')", .int(42)), ("int(2.9)", .int(2)), ("int(-2.9)", .int(-2)), ("uint(42)", .uint(42)),
        ("double(1)", .double(1)), ("string(1.5)", .string("1.5")), ("string(-4.5e-3)", .string("-0.0045")),
        ("string(123u)", .string("123")), ("string(true)", .string("true")), ("bytes('a')", .bytes([97])),
        ("bool('true')", .true), ("dyn(1)", .int(1)), ("type(1) == int", .true), ("type(type(1)) == type", .true),
        ("type([1]) == list", .true), ("type({}) == map", .true), ("type(null) == null_type", .true),
        ("string(duration('1m30s'))", .string("90s")), ("string(duration('1.5ms'))", .string("0.0015s")),
        ("string(timestamp('2009-02-13T23:31:30Z'))", .string("2009-02-13T23:31:30Z")),
        ("int(timestamp('2009-02-13T23:31:30Z'))", .int(1_234_567_890)),
        ("string(timestamp('2009-02-13T23:31:30.120+01:00'))", .string("2009-02-13T22:31:30.12Z")),
        // time accessors
        ("timestamp('2009-02-13T23:31:30Z').getFullYear()", .int(2009)), ("timestamp('2009-02-13T23:31:30Z').getMonth()", .int(1)),
        ("timestamp('2009-02-13T23:31:30Z').getDate()", .int(13)), ("timestamp('2009-02-13T23:31:30Z').getDayOfMonth()", .int(12)),
        ("timestamp('2009-02-13T23:31:30Z').getDayOfWeek()", .int(5)), ("timestamp('2009-02-13T23:31:30Z').getDayOfYear()", .int(43)),
        ("timestamp('2009-02-13T23:31:30Z').getHours()", .int(23)), ("timestamp('2009-02-13T23:31:30Z').getMinutes()", .int(31)),
        ("timestamp('2009-02-13T23:31:30Z').getSeconds()", .int(30)),
        ("timestamp('2009-02-13T23:31:20.123456789Z').getMilliseconds()", .int(123)),
        ("timestamp('2009-02-13T23:31:30Z').getDate('Australia/Sydney')", .int(14)),
        ("timestamp('2009-02-13T02:00:00Z').getDayOfMonth('-02:30')", .int(11)),
        ("timestamp('2009-02-13T23:31:30Z').getMinutes('Asia/Kathmandu')", .int(16)),
        ("duration('10000s').getHours()", .int(2)), ("duration('3730s').getMinutes()", .int(62)),
        ("timestamp('2009-02-13T23:00:00Z') + duration('240s') == timestamp('2009-02-13T23:04:00Z')", .true),
        ("timestamp('2009-02-13T23:31:00Z') - timestamp('2009-02-13T23:29:00Z') == duration('120s')", .true),
        ("duration('1h') > duration('59m')", .true),
        // optionals
        ("optional.of(1).hasValue()", .true), ("optional.none().orValue(42)", .int(42)), ("{'a': 1}.?a.value()", .int(1)),
        ("{'a': 1}.?b.hasValue()", .false), ("[1][?3].hasValue()", .false), ("[?optional.none(), ?optional.of(2)]", .list([.int(2)])),
        ("optional.of(42).optMap(y, y + 1).value()", .int(43)), ("optional.ofNonZeroValue('').hasValue()", .false),
        ("optional.of({'c': {'index': 'x'}}).c.index.orValue('d')", .string("x")),
        ("size({?'a': optional.none(), 'b': 1})", .int(1)),
        // regex
        ("'abc'.matches('^a.c$')", .true), ("matches('xyz', 'a')", .false),
    ]

    @Test(arguments: values)
    func value(expression: String, expected: CELValue) {
        let result = evaluate(expression)
        #expect(result == expected, "\(expression) → \(result)")
    }

    /// Expression → expected error code.
    static let errors: [(String, CELError.Code)] = [
        ("9223372036854775807 + 1", .overflow), ("-9223372036854775808 - 1", .overflow), ("0u - 1u", .overflow),
        ("9223372036854775807 * 2", .overflow), ("-(-9223372036854775808)", .overflow),
        ("-9223372036854775808 / -1", .overflow), ("-9223372036854775808 % -1", .overflow),
        ("18446744073709551615u + 1u", .overflow), ("1 / 0", .divisionByZero), ("1 % 0", .divisionByZero),
        ("1u / 0u", .divisionByZero), ("{'a': 1}.b", .noSuchKey), ("{'a': 1}['b']", .noSuchKey),
        ("[1][5]", .indexOutOfRange), ("1 + 1u", .noMatchingOverload), ("'a' < 1", .noMatchingOverload),
        ("int('x')", .invalidArgument), ("uint(-1)", .overflow), ("int(1e99)", .overflow),
        ("int(9223372036854775807.0)", .overflow), ("timestamp('0000-01-01T00:00:00Z')", .invalidArgument),
        ("timestamp(253402300800)", .overflow), ("duration('320000000000s')", .invalidArgument),
        ("timestamp('9999-12-31T23:59:59Z') - timestamp('0001-01-01T00:00:00Z')", .overflow),
        ("{'a': 1, 'a': 2}", .duplicateKey), ("true && 1", .noMatchingOverload), ("!1", .noMatchingOverload),
        ("1 ? 2 : 3", .noMatchingOverload), ("optional.none().value()", .invalidArgument),
        ("string(b'\\xff')", .invalidArgument), ("'a'.matches('(')", .invalidArgument),
        ("x.y", .undeclaredReference), ("[1].all(x, x)", .noMatchingOverload),
        ("1 +", .parse), ("'abc", .parse), ("1 = 2", .parse), ("[1, 0].all(x, 1 / x > 0)", .divisionByZero), ("if", .parse),
        ("9223372036854775808", .parse), ("'\\q'", .parse), ("[1, 2", .parse), ("b'\\u0041'", .parse),
        ("Msg{a: 1}", .unsupported), ("1.foo()", .noMatchingOverload), ("1.", .parse), ("-1u", .noMatchingOverload),
        ("a.b.", .parse), ("f(,)", .parse), ("[1,,2]", .parse), ("{1}", .parse), ("1 ? 2", .parse), ("a[1", .parse),
        ("'\\400'", .parse), ("\"\\U00110000\"", .parse), ("'a\nb'", .parse), ("null.x", .noSuchField),
        ("var", .parse), ("x.package()", .undeclaredReference), ("1 + [1]", .noMatchingOverload),
    ]

    @Test(arguments: errors)
    func error(expression: String, code: CELError.Code) {
        let result = evaluate(expression, ["a": .map(CELMap(["if": .int(1)]))])
        guard case .error(let e) = result else {
            Issue.record("\(expression) → \(result), expected error \(code)")
            return
        }
        #expect(e.code == code, "\(expression) → \(e.code): \(e.message)")
    }
}
