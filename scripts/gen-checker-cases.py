import random, sys, re
from cel_expr_python import cel
random.seed(11)
cfg = cel.NewEnvConfigFromYaml("extensions:\n  - name: strings\n  - name: math\n  - name: encoders\n  - name: sets\n  - name: lists\n  - name: optional\n  - name: bindings\n  - name: two-var-comprehensions\n")
# The same declarations as CheckerTests.env (without `maybe`: the Python API cannot declare optional types).
variables = {'n': cel.Type.INT, 'names': cel.Type.List(cel.Type.STRING),
             'labels': cel.Type.Map(cel.Type.STRING, cel.Type.STRING), 'object': cel.Type.DYN}
env = cel.NewEnv(config=cfg, variables=variables)

def conv(t):
    t = t.strip()
    m = re.match(r'^(LIST|MAP|optional_type|TYPE)<(.*)>$', t)
    if m:
        kind, inner = m.group(1), m.group(2)
        # split top-level commas
        parts, depth, cur = [], 0, ''
        for ch in inner:
            if ch == '<': depth += 1
            if ch == '>': depth -= 1
            if ch == ',' and depth == 0: parts.append(cur); cur = ''
            else: cur += ch
        parts.append(cur)
        ps = [conv(p) for p in parts]
        if kind == 'LIST': return f"list({ps[0]})"
        if kind == 'MAP': return f"map({ps[0]}, {ps[1]})"
        if kind == 'optional_type': return f"optional_type({ps[0]})"
        return "type"
    return {'INT':'int','UINT':'uint','DOUBLE':'double','STRING':'string','BYTES':'bytes','BOOL':'bool',
            'NULL':'null_type','DYN':'dyn','TIMESTAMP':'google.protobuf.Timestamp',
            'DURATION':'google.protobuf.Duration','TYPE':'type'}.get(t, '?'+t)

atoms = ['1', '2u', '1.5', "'a'", "b'x'", 'true', 'null', 'dyn(1)', "timestamp('2020-01-01T00:00:00Z')", "duration('5s')",
         '[]', '{}', '[1, 2]', "['a', 'b']", "{'k': 1}", "{1: 'v'}", 'optional.of(1)', 'optional.none()', "[1, 'a']",
         '[[1], []]', '[dyn(1), 2]', "{'a': [1]}", 'int', 'type(1)',
         'n', 'names', 'labels', 'object', 'labels.app', 'object.spec', "labels[?'app']", 'names[0]']
def atom(): return random.choice(atoms)
def expr(d=0):
    if d > 2: return atom()
    c = random.randint(0, 24)
    a = lambda: expr(d+1)
    if c < 4: return atom()
    if c == 4: return f"[{a()}, {a()}]"
    if c == 5: return f"{{'x': {a()}, 'y': {a()}}}"
    if c == 6: return f"({a()} + {a()})"
    if c == 7: return f"({a()} == {a()})"
    if c == 8: return f"(true ? {a()} : {a()})"
    if c == 9: return f"{a()}[0]"
    if c == 10: return f"{a()}.map(x, x)"
    if c == 11: return f"{a()}.filter(x, x == x)"
    if c == 12: return f"{a()}.exists(x, true)"
    if c == 13: return f"size({a()})"
    if c == 14: return f"{a()}.orValue({a()})"
    if c == 15: return f"optional.of({a()})"
    if c == 16: return f"[{a()}, {a()}][0]"
    if c == 17: return f"{a()}.sortBy(x, x)"
    if c == 18: return f"{a()}.reverse()"
    if c == 19: return f"{a()}.slice(0, 1)"
    if c == 20: return f"string({a()})"
    if c == 21: return f"{a()}.distinct()"
    if c == 22: return f"{a()}.transformList(i, v, v)"
    if c == 23: return f"cel.bind(z, {a()}, [z, {a()}])"
    return f"{a()}.first()"

fixed = [
 "[3, 1, 2].sortBy(x, x)", "['bb', 'a'].sortBy(s, s.size())", "[3, 1, 2].sortBy(x, -x)", "[[1], [0]].sortBy(x, x)",
 "[1, 2].sortBy(x, x == 1 ? 'a' : 1)", "[].sortBy(x, x)", "[1.5, 0.5].sortBy(x, x)", "[{'v': 2}, {'v': 1}].sortBy(e, e.v)",
 "['a', 'b'].sortBy(x, x).sortBy(y, y.size())", "[1, 2, 3].sortBy(x, x % 2)", "[1, 2].sort()", "['b', 'a'].sort()",
 "[[], [[]], [[[]]]]", "[[[[]]], [], [[]]]", "[optional.none(), optional.of(1)]", "[optional.of(1), optional.of(dyn(1))]",
 "true ? optional.of(dyn(1)) : optional.of(1)", "[optional.of(1), null][0]", "'a'.split(',')", "'abc'.charAt(1)",
 "'abc'.indexOf('b')", "lists.range(3)", "[1, 2].first()", "[1, 2].last()", "math.abs(-1)", "math.abs(1.5)", "math.ceil(1.2)",
 "base64.encode(b'a')", "base64.decode('YQ==')", "sets.contains([1], [1])", "[[1], [2]].flatten()", "['a', 'b'].join(',')",
 "{'a': 1}.map(k, k)", "{'a': 1}.all(k, k == 'a')", "[1, 2].map(x, x > 1, x * 2)", "[1, 2].exists_one(x, x > 1)",
 "{'a': 1}['a']", "{'a': {'b': 2}}.a.b", "{'a': 1}.?a", "[1][?0]", "optional.of({'a': 1}).a", "optional.of([1])[0]",
 "optional.of(1).optMap(x, x + 1)", "optional.of(1).optFlatMap(x, optional.of(string(x)))", "optional.of(1).value()",
 "optional.of(1).hasValue()", "optional.of(1).or(optional.none())", "has({'a': 1}.a)", "1 + 'a'", "[1] + ['a']",
 "1 + 2u", "true ? 1 : 'a'", "'a' < 'b'", "!true", "-1.5", "1 in [1, 2]", "'a' in {'a': 1}", "int('1')", "uint(1)",
 "double(1)", "bytes('a')", "bool('true')", "type(1) == int", "timestamp('2020-01-01T00:00:00Z') - duration('1s')",
 "timestamp('2020-01-01T00:00:00Z') - timestamp('2020-01-01T00:00:00Z')", "duration('1s').getSeconds()",
 "timestamp('2020-01-01T00:00:00Z').getFullYear()", "[1, 2].all(x, x)", "[1, 2].filter(x, x)", "dyn([1])[0]",
 "dyn({'a': 1}).a", "[1, 2].map(x, [x])", "[[1, 2], [3]].map(l, l.map(x, x * 2))", "cel.bind(x, 1, x + 1)",
 "cel.bind(xs, [1, 2], xs.map(x, x + xs[0]))", "{'a': 1, 'b': 'c'}", "{1: 1, 'a': 2}", "[null, 1]", "[1, null]",
 "[null, optional.of(1)]", "'abc'.substring(1)", "'abc'.matches('a')", "'abc'.startsWith('a')", "size('abc')",
 "[1, 2].transformList(i, v, i + v)", "{'a': 1}.transformMap(k, v, v * 2)", "{'a': 1}.transformList(k, v, k)",
 "[1, 2].all(i, v, i < v)", "x", "foo(1)", "'a'.foo()", "1.size()", "[1].size()", "{}.size()", "b'a'.size()",
 "math.greatest(1, 2)", "math.greatest(1, 2.0)", "math.least([1.5, 2.0])", "math.least([1, 2u])", "'%d'.format([1])", "strings.quote('a')", "'a'.reverse()", "[1].reverse()", "'a'.trim()",
 "'A'.lowerAscii()", "[1, 1].distinct()", "[1, 2].slice(0, 1)", "1 < 2", "1u < 2u", "1.0 <= 2.0",
 "[1, 2].exists(x, x == 'a')", "'a' == 1", "null == null", "optional.none() == optional.of(1)", "{}['a']", "[][0]",
 "[].map(x, x)", "([].map(x, x))[0]", "{}.map(k, k)", "1 == dyn('a')", "[1, dyn('a')]", "[dyn('a'), 1]",
]
# Known, documented deviations from the C++ checker (cel-go behaviour kept): string(type) is accepted;
# flatten is list(dyn) (C++: depends on the receiver).
excluded = ['string(type', 'flatten']
seen = set()
out = []
for e in fixed + [expr() for _ in range(700)]:
    if e in seen or any(x in e for x in excluded): continue
    seen.add(e)
    try:
        r = env.compile(e)
        t = conv(str(r.return_type()))
        if '?' in t: continue
        out.append((e, t))
    except Exception as ex:
        msg = str(ex)
        if 'Unsupported' in msg or 'unsupported' in msg: continue
        out.append((e, None))
def sw(s): return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'
print("// Generated by scripts/gen-checker-cases.py: deduced types from cel-expr-python 0.1.3 (Google's C++ checker), seed 11.")
print("extension CheckerTests {")
print("    static let differential: [CheckCase] = [")
for e, t in out:
    if t is None: print(f"        CheckCase({sw(e)}, error: true),")
    else: print(f"        CheckCase({sw(e)}, {sw(t)}),")
print("    ]")
print("}")
sys.stderr.write(f"{len(out)} cases, {sum(1 for _,t in out if t is None)} errors\n")
