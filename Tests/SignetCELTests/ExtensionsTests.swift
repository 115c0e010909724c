// Table-driven tests of the extension libraries. Expected results are the documented behaviour of
// cel-go `ext` (strings, math, encoders, sets, lists) and of the Kubernetes CEL libraries
// (https://kubernetes.io/docs/reference/using-api/cel/).

import Foundation
import Testing
import SignetCEL

/// One expression and what it must produce.
struct ExtCase: Sendable, CustomTestStringConvertible {
    enum Expect: Sendable {
        case value(CELValue)
        case error
    }

    let expr: String
    let expect: Expect

    init(_ expr: String, _ value: CELValue) {
        self.expr = expr
        expect = .value(value)
    }

    /// A boolean expression that must be true.
    init(_ expr: String) {
        self.expr = expr
        expect = .value(.true)
    }

    init(error expr: String) {
        self.expr = expr
        expect = .error
    }

    var testDescription: String { expr }
}

struct ExtensionsTests {
    static let env = CELEnvironment(libraries: CELExtensions.all)

    static func evaluate(_ expr: String) -> CELValue {
        do {
            return try env.compile(expr).run(CELActivation([:])).value
        } catch {
            return .error(error)
        }
    }

    static func check(_ c: ExtCase) {
        let result = evaluate(c.expr)
        switch c.expect {
        case .error:
            guard case .error = result else {
                Issue.record("\(c.expr): expected an error, got \(ConformanceRunner.show(result))")
                return
            }
        case .value(let v):
            #expect(ConformanceRunner.matches(result, v),
                    "\(c.expr): expected \(ConformanceRunner.show(v)), got \(ConformanceRunner.show(result))")
        }
    }

    static let strings: [ExtCase] = [
        ExtCase("'hello'.charAt(4)", .string("o")),
        ExtCase("'hello'.charAt(5)", .string("")),
        ExtCase(error: "'hello'.charAt(6)"),
        ExtCase("'hello mellow'.indexOf('')", .int(0)),
        ExtCase("'hello mellow'.indexOf('ello')", .int(1)),
        ExtCase("'hello mellow'.indexOf('jello')", .int(-1)),
        ExtCase("'hello mellow'.indexOf('', 2)", .int(2)),
        ExtCase("'hello mellow'.indexOf('ello', 2)", .int(7)),
        ExtCase(error: "'hello mellow'.indexOf('ello', 20)"),
        ExtCase("'hello mellow'.lastIndexOf('')", .int(12)),
        ExtCase("'hello mellow'.lastIndexOf('ello')", .int(7)),
        ExtCase("'hello mellow'.lastIndexOf('jello')", .int(-1)),
        ExtCase("'hello mellow'.lastIndexOf('ello', 6)", .int(1)),
        ExtCase(error: "'hello mellow'.lastIndexOf('ello', -1)"),
        ExtCase("'TacoCat'.lowerAscii()", .string("tacocat")),
        ExtCase("'TacoCÆt Xii'.upperAscii()", .string("TACOCÆT XII")),
        ExtCase("'hello hello'.replace('he', 'we')", .string("wello wello")),
        ExtCase("'hello hello'.replace('he', 'we', -1)", .string("wello wello")),
        ExtCase("'hello hello'.replace('he', 'we', 1)", .string("wello hello")),
        ExtCase("'hello hello'.replace('he', 'we', 0)", .string("hello hello")),
        ExtCase("'ab'.replace('', '-')", .string("-a-b-")),
        ExtCase("'hello hello hello'.split(' ')", .list([.string("hello"), .string("hello"), .string("hello")])),
        ExtCase("'hello hello hello'.split(' ', 0)", .list([])),
        ExtCase("'hello hello hello'.split(' ', 1)", .list([.string("hello hello hello")])),
        ExtCase("'hello hello hello'.split(' ', 2)", .list([.string("hello"), .string("hello hello")])),
        ExtCase("'hello hello hello'.split(' ', -1)", .list([.string("hello"), .string("hello"), .string("hello")])),
        ExtCase("'abc'.split('')", .list([.string("a"), .string("b"), .string("c")])),
        ExtCase("'tacocat'.substring(4)", .string("cat")),
        ExtCase("'tacocat'.substring(0, 4)", .string("taco")),
        ExtCase(error: "'tacocat'.substring(-1)"),
        ExtCase(error: "'tacocat'.substring(1, 0)"),
        ExtCase("' \\ttrim\\n    '.trim()", .string("trim")),
        ExtCase("['hello', 'mellow'].join()", .string("hellomellow")),
        ExtCase("['hello', 'mellow'].join(' ')", .string("hello mellow")),
        ExtCase("[].join('/')", .string("")),
        ExtCase("'gums'.reverse()", .string("smug")),
        ExtCase("'Am\\u00E9lie'.replace('\\u00E9', 'e\\u0301')", .string("Ame\u{301}lie")),
        ExtCase("'e\\u0301'.indexOf('e')", .int(0)),
        ExtCase("'John Smith'.reverse()", .string("htimS nhoJ")),
        ExtCase("strings.quote('single-quote with \"double quote\"')",
                .string("\"single-quote with \\\"double quote\\\"\"")),
        ExtCase("strings.quote('two escape sequences \\a\\n')", .string("\"two escape sequences \\a\\n\"")),
        ExtCase("'%s and %d'.format(['a', 5])", .string("a and 5")),
        ExtCase("'%.2f'.format([3.14159])", .string("3.14")),
        ExtCase("'%e'.format([1052.032911275])", .string("1.052033e+03")),
        ExtCase("'%x %X %o %b'.format([255, 255, 8, 5])", .string("ff FF 10 101")),
        ExtCase("'%x'.format([-30])", .string("-1e")),
        ExtCase("'%s'.format([[1, 'a', 2.5, true, null]])", .string("[1, a, 2.5, true, null]")),
        ExtCase("'%s'.format([{'b': 1, 'a': 2}])", .string("{a: 2, b: 1}")),
        ExtCase("'%s'.format([1e20])", .string("100000000000000000000")),
        ExtCase("'%s'.format([duration('1.5s')])", .string("1.5s")),
        ExtCase("'%s'.format([timestamp('2023-02-03T23:31:20.5Z')])", .string("2023-02-03T23:31:20.5Z")),
        ExtCase(error: "'%d'.format(['x'])"),
        ExtCase(error: "'%q'.format([1])"),
        ExtCase(error: "'%s %s'.format(['x'])"),
    ]

    static let math: [ExtCase] = [
        ExtCase("math.greatest(1, 2.5, 3u)", .uint(3)),
        ExtCase("math.greatest([1, -2, 3])", .int(3)),
        ExtCase("math.least(1, -2.5, 3u)", .double(-2.5)),
        ExtCase("math.least([5])", .int(5)),
        ExtCase(error: "math.least([])"),
        ExtCase("math.ceil(1.2)", .double(2)),
        ExtCase("math.floor(-1.2)", .double(-2)),
        ExtCase("math.round(-1.5)", .double(-2)),
        ExtCase("math.round(2.5)", .double(3)),
        ExtCase("math.trunc(-1.7)", .double(-1)),
        ExtCase("math.abs(-5)", .int(5)),
        ExtCase(error: "math.abs(-9223372036854775808)"),
        ExtCase("math.sign(-3.5)", .double(-1)),
        ExtCase("math.isNaN(0.0 / 0.0)"),
        ExtCase("math.isInf(1.0 / 0.0)"),
        ExtCase("math.isFinite(1.0)"),
        ExtCase("math.bitAnd(3, 5)", .int(1)),
        ExtCase("math.bitOr(1u, 4u)", .uint(5)),
        ExtCase("math.bitXor(3, 5)", .int(6)),
        ExtCase("math.bitNot(0)", .int(-1)),
        ExtCase("math.bitShiftLeft(1, 3)", .int(8)),
        ExtCase("math.bitShiftRight(-1, 63)", .int(1)),
        ExtCase(error: "math.bitShiftLeft(1, -1)"),
        ExtCase("math.sqrt(16)", .double(4)),
        ExtCase("math.sqrt(2.25)", .double(1.5)),
    ]

    static let encodersAndSets: [ExtCase] = [
        ExtCase("base64.encode(b'hello')", .string("aGVsbG8=")),
        ExtCase("base64.decode('aGVsbG8=')", .bytes(Array("hello".utf8))),
        ExtCase("base64.decode('aGVsbG8')", .bytes(Array("hello".utf8))),
        ExtCase(error: "base64.decode('a*b')"),
        ExtCase("sets.contains([1, 2, 3, 4], [2, 3])"),
        ExtCase("!sets.contains([1, 2], [3])"),
        ExtCase("sets.contains([1, 2], [1.0, 2u])"),
        ExtCase("sets.equivalent([1, 2, 3], [3u, 2.0, 1])"),
        ExtCase("!sets.equivalent([1, 2], [1, 2, 3])"),
        ExtCase("sets.intersects([1], [1.0, 2])"),
        ExtCase("!sets.intersects([1], [])"),
    ]

    static let lists: [ExtCase] = [
        ExtCase("lists.range(4)", .list([.int(0), .int(1), .int(2), .int(3)])),
        ExtCase("lists.range(0)", .list([])),
        ExtCase("[1, 2, 3, 4].slice(1, 3)", .list([.int(2), .int(3)])),
        ExtCase(error: "[1, 2, 3, 4].slice(3, 1)"),
        ExtCase(error: "[1, 2].slice(0, 3)"),
        ExtCase("[1, [2, [3, 4]]].flatten()", .list([.int(1), .int(2), .list([.int(3), .int(4)])])),
        ExtCase("[1, [2, [3, 4]]].flatten(2)", .list([.int(1), .int(2), .int(3), .int(4)])),
        ExtCase(error: "[1].flatten(-1)"),
        ExtCase("[1, 2, 2, 3, 3, 3].distinct()", .list([.int(1), .int(2), .int(3)])),
        ExtCase("[1, 1.0, 1u].distinct()", .list([.int(1)])),
        ExtCase("[1, 2, 3].reverse()", .list([.int(3), .int(2), .int(1)])),
        ExtCase("[3, 1, 2].sort()", .list([.int(1), .int(2), .int(3)])),
        ExtCase("['b', 'c', 'a'].sort()", .list([.string("a"), .string("b"), .string("c")])),
        ExtCase(error: "[1, 'a'].sort()"),
        ExtCase("[1, 2, 3].first()", .optional(.int(1))),
        ExtCase("[].last()", .optional(nil)),
        // Kubernetes list library.
        ExtCase("[1, 2, 3].isSorted()"),
        ExtCase("!['a', 'c', 'b'].isSorted()"),
        ExtCase("[1, 2, 3].sum()", .int(6)),
        ExtCase("[1.5, 2.5].sum()", .double(4)),
        ExtCase("[].sum()", .int(0)),
        ExtCase("[1, 2, 3].min()", .int(1)),
        ExtCase("[1, 2, 3].max()", .int(3)),
        ExtCase(error: "[].min()"),
        ExtCase("[1, 2, 2, 3].indexOf(2)", .int(1)),
        ExtCase("[1, 2, 2, 3].lastIndexOf(2)", .int(2)),
        ExtCase("[1, 2].indexOf(5)", .int(-1)),
        ExtCase("['a', 'b', 'b', 'c'].isSorted() && !([2.0, 1.0].isSorted()) && [1].isSorted() && [].isSorted()"),
        ExtCase("[1, 3].sum()", .int(4)),
        ExtCase("[1.0, 3.0].sum()", .double(4)),
        ExtCase("[duration('1m'), duration('1s')].sum() == duration('1m1s')"),
        ExtCase("([0] + []).min()", .int(0)),
        ExtCase("['a', 'b', 'b', 'c'].lastIndexOf('b')", .int(2)),
        ExtCase("[1.0].indexOf(1.1)", .int(-1)),
        ExtCase("[].indexOf('string')", .int(-1)),
        ExtCase("[1, 2, 3].includes(2) && ![1, 2, 3].includes(4)"),
        ExtCase("'model-a'.includes('model-a') && !'model-a'.includes('model-b')"),
    ]

    static let kubernetes: [ExtCase] = [
        // type names
        ExtCase("type(ip('1.2.3.4')) == net.IP && type(cidr('10.0.0.0/8')) == net.CIDR"),
        ExtCase("type(url('/x')) == kubernetes.URL && type(quantity('1')) == kubernetes.Quantity"),
        ExtCase("type(semver('1.0.0')) == kubernetes.Semver && type(format.uuid()) == kubernetes.NamedFormat"),
        // regex
        ExtCase("'abc 123'.find('[0-9]+')", .string("123")),
        ExtCase("'abc'.find('[0-9]+')", .string("")),
        ExtCase("'abc 123 456'.findAll('[0-9]+')", .list([.string("123"), .string("456")])),
        ExtCase("'abc 123 456'.findAll('[0-9]+', 1)", .list([.string("123")])),
        ExtCase("'abc 123 456'.findAll('[0-9]+', 0)", .list([])),
        ExtCase(error: "'abc'.find('[')"),
        // url
        ExtCase("url('https://example.com:80/').getHost()", .string("example.com:80")),
        ExtCase("url('https://example.com/path').getScheme()", .string("https")),
        ExtCase("url('https://example.com:80/').getHostname()", .string("example.com")),
        ExtCase("url('https://[::1]:80/').getHostname()", .string("::1")),
        ExtCase("url('https://[::1]:80/').getHost()", .string("[::1]:80")),
        ExtCase("url('https://example.com:80/').getPort()", .string("80")),
        ExtCase("url('https://example.com/').getPort()", .string("")),
        ExtCase("url('https://example.com/path with spaces/').getEscapedPath()", .string("/path%20with%20spaces/")),
        ExtCase("url('https://example.com/?k=v&k=v2&j=x').getQuery() == {'k': ['v', 'v2'], 'j': ['x']}"),
        ExtCase("url('/absolute-path').getScheme()", .string("")),
        ExtCase("url('https://example.com').getEscapedPath()", .string("")),
        ExtCase("url('https://[::1]/').getHost()", .string("[::1]")),
        ExtCase("url('https://127.0.0.1:80/').getHostname()", .string("127.0.0.1")),
        ExtCase("url('https://example.com/path?k1=a&k2=b&k2=c').getQuery() == {'k1': ['a'], 'k2': ['b', 'c']}"),
        ExtCase("url('https://example.com/path?key with spaces=value with spaces').getQuery()"
                + " == {'key with spaces': ['value with spaces']}"),
        ExtCase("url('https://example.com/path?').getQuery() == {}"),
        ExtCase("url('https://user:pass@example.com:80/path?query=val#fragment').getQuery() == {'query': ['val']}"),
        ExtCase("url('https://user:pass@example.com:80/path?query=val#fragment').getHost()", .string("example.com:80")),
        ExtCase("isURL('/absolute-path') && !isURL('https://a:b:c/') && !isURL('../relative-path')"),
        ExtCase("isURL('https://example.com')"),
        ExtCase("!isURL('example.com')"),
        ExtCase("!isURL('https://exa mple.com')"),
        ExtCase(error: "url('not a url')"),
        // ip / cidr
        ExtCase("ip('192.168.0.1').family()", .int(4)),
        ExtCase("ip('::1').family()", .int(6)),
        ExtCase("isIP('1.2.3.4') && !isIP('1.2.3') && !isIP('01.2.3.4')"),
        ExtCase("string(ip('2001:DB8:0:0:0:0:0:1'))", .string("2001:db8::1")),
        ExtCase("ip('127.0.0.1').isLoopback()"),
        ExtCase("ip('10.0.0.1').isGlobalUnicast()"),
        ExtCase("ip('fe80::1').isLinkLocalUnicast()"),
        ExtCase("cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))"),
        ExtCase("cidr('192.168.0.0/24').containsIP('192.168.0.1')"),
        ExtCase("!cidr('192.168.0.0/24').containsCIDR('192.168.0.0/23')"),
        ExtCase("cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')"),
        ExtCase("cidr('192.168.0.0/24').prefixLength()", .int(24)),
        ExtCase("string(cidr('2001:db8::/32'))", .string("2001:db8::/32")),
        ExtCase("isCIDR('10.0.0.0/8') && !isCIDR('10.0.0.0/33')"),
        ExtCase(error: "ip('fe80::1%en0')"),
        // quantity
        ExtCase("quantity('50k').asInteger()", .int(50_000)),
        ExtCase("quantity('500000G').isInteger()"),
        ExtCase("!quantity('50m').isInteger()"),
        ExtCase(error: "quantity('50m').asInteger()"),
        ExtCase("quantity('50.5').asApproximateFloat()", .double(50.5)),
        ExtCase("quantity('50k').add(quantity('20k')) == quantity('70k')"),
        ExtCase("quantity('50k').add(20) == quantity('50020')"),
        ExtCase("quantity('50k').sub(quantity('20k')) == quantity('30k')"),
        ExtCase("quantity('50k').sub(20) == quantity('49980')"),
        ExtCase("quantity('1Mi').isGreaterThan(quantity('1Ki'))"),
        ExtCase("quantity('1k').isLessThan(quantity('1Ki'))"),
        ExtCase("quantity('50M').compareTo(quantity('50Mi'))", .int(-1)),
        ExtCase("quantity('1k') == quantity('1000')"),
        ExtCase("quantity('-50M').sign()", .int(-1)),
        ExtCase("isQuantity('1.5Gi') && !isQuantity('1.5Gb')"),
        ExtCase(error: "quantity('abc')"),
        ExtCase(error: "quantity('200K')"),
        ExtCase(error: "quantity('Mi')"),
        ExtCase("isQuantity('1.3Gi') && isQuantity('10000k') && !isQuantity('1,3G') && !isQuantity('Three')"),
        ExtCase("quantity('200M').compareTo(quantity('0.2G'))", .int(0)),
        ExtCase("quantity('50Mi').compareTo(quantity('50M'))", .int(1)),
        ExtCase("quantity('50k').sub(20000).asApproximateFloat() == 30000.0"),
        ExtCase("quantity('50k').add(20).sub(quantity('100k')).sub(-50000) == quantity('20')"),
        ExtCase(error: "quantity('9999999999999999999999999999999999999G').asInteger()"),
        ExtCase("!quantity('9999999999999999999999999999999999999G').isInteger()"),
        // format
        ExtCase("format.dns1123Label().validate('my-name')", .optional(nil)),
        ExtCase("format.dns1123Label().validate('My_Name').hasValue()"),
        ExtCase("format.named('dns1123Subdomain').value().validate('example.com')", .optional(nil)),
        ExtCase("format.named('dns1123Subdomain').value().validate('-bad.com').hasValue()"),
        ExtCase("format.dns1035Label().validate('1abc').hasValue()"),
        ExtCase("format.qualifiedName().validate('example.com/MyName')", .optional(nil)),
        ExtCase("format.qualifiedName().validate('a/b/c').hasValue()"),
        ExtCase("format.labelValue().validate('')", .optional(nil)),
        ExtCase("format.dns1123LabelPrefix().validate('my-name-')", .optional(nil)),
        ExtCase("format.uuid().validate('123e4567-e89b-12d3-a456-426614174000')", .optional(nil)),
        ExtCase("format.date().validate('2023-02-30').hasValue()"),
        ExtCase("format.datetime().validate('2023-02-03T23:31:20Z')", .optional(nil)),
        ExtCase("format.byte().validate('aGVsbG8=')", .optional(nil)),
        ExtCase("!format.named('nope').hasValue()"),
        // jsonpatch
        ExtCase("jsonpatch.escapeKey('k8s.io/my~label')", .string("k8s.io~1my~0label")),
        // semver
        ExtCase("semver('1.2.3').major()", .int(1)),
        ExtCase("semver('1.2.3').minor()", .int(2)),
        ExtCase("semver('1.2.3').patch()", .int(3)),
        ExtCase("semver('1.2.3').isLessThan(semver('1.2.4'))"),
        ExtCase("semver('2.0.0').isGreaterThan(semver('1.9.9'))"),
        ExtCase("semver('1.0.0-alpha').compareTo(semver('1.0.0'))", .int(-1)),
        ExtCase("semver('1.0.0-alpha.1').isLessThan(semver('1.0.0-alpha.beta'))"),
        ExtCase("semver('1.0.0+build.1') == semver('1.0.0')"),
        ExtCase("isSemver('1.0.0') && !isSemver('v1.0.0') && !isSemver('01.0.0')"),
        ExtCase("isSemver('v1.0', true)"),
        ExtCase("semver('v1.2', true).minor()", .int(2)),
        ExtCase(error: "semver('1.0')"),
        ExtCase("semver('01.01.01', true) == semver('1.1.1')"),
        ExtCase("semver('1.0', true) == semver('1.0.0') && semver('v1.0.0', true) == semver('1.0.0')"),
        ExtCase(error: "semver('1.2-alpha', true)"),
        ExtCase("semver('0.1.0-alpha.1').minor()", .int(1)),
        ExtCase("!isSemver('hello') && !isSemver('v1.0') && isSemver('v1.0', true)"),
        ExtCase("semver('1.2.3').compareTo(semver('0.1.2'))", .int(1)),
        ExtCase("semver('1.2.3').compareTo(semver('1.2.3'))", .int(0)),
    ]

    @Test(arguments: strings) func stringsExtension(_ c: ExtCase) { Self.check(c) }
    @Test(arguments: math) func mathExtension(_ c: ExtCase) { Self.check(c) }
    @Test(arguments: encodersAndSets) func encodersAndSetsExtensions(_ c: ExtCase) { Self.check(c) }
    @Test(arguments: lists) func listsExtensions(_ c: ExtCase) { Self.check(c) }
    @Test(arguments: kubernetes) func kubernetesLibraries(_ c: ExtCase) { Self.check(c) }

    /// Work proportional to input size is charged: a long string costs more than a short one.
    @Test func chargesCostByInputSize() throws {
        let program = try Self.env.extended(variables: [CELVariable("s", .string)]).compile("s.indexOf('z')")
        let short = program.run(CELActivation(["s": .string("abc")]))
        let long = program.run(CELActivation(["s": .string(String(repeating: "a", count: 100_000))]))
        #expect(long.cost > short.cost + 1000)
        let limited = program.run(CELActivation(["s": .string(String(repeating: "a", count: 100_000))]), costLimit: 100)
        guard case .error = limited.value else {
            Issue.record("cost limit not enforced")
            return
        }
    }

    /// Hostile inputs: searches stay linear, outputs and allocations are bounded, errors instead of traps.
    @Test func hostileInputs() throws {
        let env = Self.env.extended(variables: [CELVariable("s", .string), CELVariable("t", .string)])
        let hay = String(repeating: "a", count: 200_000)
        let needle = String(repeating: "a", count: 100_000) + "b"
        let clock = ContinuousClock()
        let start = clock.now
        for expr in ["s.indexOf(t)", "s.lastIndexOf(t)", "s.split(t).size()", "s.replace(t, 'x')"] {
            let r = try env.compile(expr).run(CELActivation(["s": .string(hay), "t": .string(needle)]))
            if case .error(let e) = r.value { Issue.record("\(expr): \(e)") }
        }
        #expect(clock.now - start < .seconds(20), "string searches must be linear")
        // Oversized inputs to the Kubernetes parsers fail fast instead of working on them.
        for expr in ["url(s)", "ip(s)", "cidr(s)", "semver(s)", "quantity(s)", "s.find('(a+)+b')"] {
            let r = try env.compile(expr).run(CELActivation(["s": .string(hay + "!"), "t": .string("")]))
            if expr.hasPrefix("s.find") {
                if case .error(let e) = r.value { Issue.record("\(expr): \(e)") }
            } else if case .error = r.value {
            } else {
                Issue.record("\(expr): expected an error for a 200 kB input")
            }
        }
        #expect(clock.now - start < .seconds(30), "parsers and regex must stay linear")
        let cases = ["lists.range(9223372036854775807)", "s.replace('a', s)", "'%.999999f'.format([1.0])",
                     "[1].flatten(-1)", "math.bitShiftLeft(1, -5)", "'x'.substring(9223372036854775807)"]
        for expr in cases {
            let r = try env.compile(expr).run(CELActivation(["s": .string(hay), "t": .string("")]))
            guard case .error = r.value else {
                Issue.record("\(expr): expected an error")
                continue
            }
        }
    }

    /// `sortBy` is a macro in the core expanding to `@sortByAssociatedKeys(l, l.map(v, key))`; these cases
    /// run once the core provides it.
    @Test func sortByMacro() throws {
        guard (try? Self.env.compile("[1].sortBy(x, x)")) != nil else { return }
        let cases: [ExtCase] = [
            ExtCase("[3, 1, 2].sortBy(x, x)", .list([.int(1), .int(2), .int(3)])),
            ExtCase("[3, 1, 2].sortBy(x, -x)", .list([.int(3), .int(2), .int(1)])),
            ExtCase("['bb', 'a', 'ccc'].sortBy(s, s.size())", .list([.string("a"), .string("bb"), .string("ccc")])),
            ExtCase("[{'n': 'b', 'v': 2}, {'n': 'a', 'v': 1}].sortBy(e, e.v).map(e, e.n)",
                    .list([.string("a"), .string("b")])),
            ExtCase(error: "[1, 2].sortBy(x, x == 1 ? 'a' : 1)"),
        ]
        for c in cases { Self.check(c) }
    }
}
