"""Differential-test oracle: reads JSON lines {"expression", "data"} on stdin and writes one JSON
line per input: {"result": ...} or {"error": "<spec error name>"}, using the reference Python
`jmespath` package, plus "adjusted": true when the go-jmespath adjustments below changed the
outcome compared with plain Python jmespath.

Adjustments (known, accepted differences between go-jmespath, which Kyverno uses, and Python):
  * ordering comparators (< <= > >=) apply to numbers only, null otherwise (go-jmespath); Python
    jmespath 1.1 also orders strings and raises TypeError on mixed string/number operands;
  * objects built by the expression ({...}, merge) keep members sorted by key: member order is
    unspecified by the spec; Python keeps insertion order, this implementation sorts (as Go prints).
"""
import json
import sys

import jmespath
from jmespath import exceptions, functions, visitor

ERRORS = [
    (exceptions.UnknownFunctionError, "unknown-function"),
    (exceptions.ArityError, "invalid-arity"),
    (exceptions.VariadictArityError, "invalid-arity"),
    (exceptions.JMESPathTypeError, "invalid-type"),
    (exceptions.EmptyExpressionError, "syntax"),
    (exceptions.ParseError, "syntax"),
]


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class GoFunctions(functions.Functions):
    @functions.signature({'types': ['object'], 'variadic': True})
    def _func_merge(self, *arguments):
        merged = {}
        for arg in arguments:
            merged.update(arg)
        return dict(sorted(merged.items()))


class GoInterpreter(visitor.TreeInterpreter):
    def visit_comparator(self, node, value):
        if node['value'] in self._EQUALITY_OPS:
            return super().visit_comparator(node, value)
        left = self.visit(node['children'][0], value)
        right = self.visit(node['children'][1], value)
        if not (is_number(left) and is_number(right)):
            return None
        return self.COMPARATOR_FUNC[node['value']](left, right)

    def visit_multi_select_dict(self, node, value):
        result = super().visit_multi_select_dict(node, value)
        return None if result is None else dict(sorted(result.items()))


def run(expression, data, go):
    try:
        if go:
            parsed = jmespath.compile(expression)
            result = GoInterpreter(jmespath.Options(custom_functions=GoFunctions())).visit(parsed.parsed, data)
        else:
            result = jmespath.search(expression, data)
        json.dumps(result)
        return {"result": result}
    except Exception as e:  # classify by the spec's error names
        name = "other:" + type(e).__name__
        for cls, spec in ERRORS:
            if isinstance(e, cls):
                name = spec
                break
        return {"error": name}


for line in sys.stdin:
    case = json.loads(line)
    out = run(case["expression"], case["data"], go=True)
    plain = run(case["expression"], case["data"], go=False)
    if json.dumps(plain, sort_keys=True) != json.dumps(out, sort_keys=True):
        out["adjusted"] = True
    sys.stdout.write(json.dumps(out, sort_keys=True) + "\n")
