import Testing
import SignetJMESPath
import SignetPrimitives
@testable import SignetPolicy

/// Kyverno semantics around variables: go-jmespath's `NotFoundError` mode, the CLI values file
/// (`VariableValues.request`, quoted keys), context entry loading and foreach elements.
@Suite struct VariablesValuesTests {
    static let data: JSONValue = .object([
        "a": .object(["b": .string("x"), "n": .null, "list": .array([.object(["k": .string("v")]), .object([:])])]),
    ])

    /// (expression, result, or nil when go-jmespath fails with NotFoundError)
    @Test(arguments: [
        ("a.b", JSONValue?.some(.string("x"))),
        ("a.missing", nil),
        ("missing.b", nil),
        ("a.missing[0]", nil),
        ("a.n", .some(.null)),
        ("a.n.deeper", .some(.null)),
        ("a.missing || 'd'", .some(.string("d"))),
        ("a.missing | length(@)", nil as JSONValue?),
        ("length(a.missing || '')", .some(.integer(0))),
        ("a.list[].k", .some(.array([.string("v")]))),
        ("a.missing.values(@)[]", .some(.null)),
        ("a.b && a.missing", nil),
        ("a.missing && a.b", .some(.null)),
        ("a.missing == null", .some(.bool(true))),
        ("{x: a.missing}", .some(.object(["x": .null]))),
        ("!(a.missing)", .some(.bool(true))),
    ])
    func kyvernoMissingKeys(_ expression: String, _ expected: JSONValue?) throws {
        let e = try JMESPathExpression(compiling: expression, options: Variables.options)
        if let expected {
            #expect(try e.evaluate(VariablesValuesTests.data, reportingMissingKeys: true) == expected)
        } else {
            #expect(throws: JMESPathError.self) { try e.evaluate(VariablesValuesTests.data, reportingMissingKeys: true) }
        }
    }

    @Test func specModeIsUnchanged() throws {
        let e = try JMESPathExpression(compiling: "a.missing.values(@)[]", options: Variables.options)
        #expect(throws: JMESPathError.self) { try e.evaluate(VariablesValuesTests.data) }
        #expect(try JMESPathExpression(compiling: "a.missing").evaluate(VariablesValuesTests.data) == .null)
    }

    @Test(arguments: [
        ("request.operation", ["request", "operation"]),
        ("request.object.metadata.annotations.\"example.com/x\"", ["request", "object", "metadata", "annotations", "example.com/x"]),
        ("a.\"b\"\"c\".d", ["a", "b\"c", "d"]),
        ("single", ["single"]),
    ])
    func valuesKeysAreCSVRecords(_ key: String, _ fields: [String]) {
        #expect(VariableContext.keyPath(key) == fields)
    }

    static let role: JSONValue = .object(["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                                          "metadata": .object(["name": "r", "namespace": "default"])])

    @Test func valuesChangeTheRequestOfOnePolicy() throws {
        let doc = try YAMLDocuments.parse("""
        apiVersion: cli.kyverno.io/v1alpha1
        kind: Values
        policies:
        - name: p
          resources:
          - name: r
            values:
              request.operation: UPDATE
              request.object.metadata.annotations."example.com/owner": "team"
        namespaceSelector:
        - name: default
          labels: {env: prod}
        """)
        let values = try KyvernoValuesFile(documents: doc)
        #expect(values.namespaceLabels["default"] == ["env": "prod"])
        let r = values.variables.request(policy: "p", resource: VariablesValuesTests.role, admission: AdmissionInfo())
        #expect(r.changed)
        #expect(r.admission.operation == .update)
        #expect(r.admission.oldObject == VariablesValuesTests.role)
        #expect(r.resource["metadata"]?["annotations"]?["example.com/owner"] == .string("team"))
        let other = values.variables.request(policy: "q", resource: VariablesValuesTests.role, admission: AdmissionInfo())
        #expect(!other.changed)
    }

    @Test func unknownValuesFieldIsRejected() throws {
        #expect(throws: SignetPolicyError.self) { try KyvernoValuesFile(documents: [.object(["globalValue": .object([:])])]) }
    }

    static func policy(_ yaml: String) throws -> ClusterPolicy {
        let r = try PolicyLoader().load(yaml: yaml)
        return try #require(r.policies.first)
    }

    /// A ClusterPolicy `p` with one rule `r` matching `kind`; `body` is the rest of the rule
    /// (context, validate, verifyImages...) written at the rule's own indentation.
    static func rulePolicy(kind: String = "Role", _ body: String) throws -> ClusterPolicy {
        let indented = body.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        return try policy("""
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: p}
        spec:
          rules:
          - name: r
            match: {any: [{resources: {kinds: [\(kind)]}}]}
        \(indented)
        """)
    }

    /// The result of the first rule of `policy` validating `resource`.
    static func firstRule(_ policy: ClusterPolicy, on resource: JSONValue = role,
                          configuration: PolicyEngine.Configuration = .init()) -> RuleResult? {
        PolicyEngine(policies: [policy], configuration: configuration).validate(resource).policies.first?.rules.first
    }

    /// Kyverno `ReplaceContextEntry`: a second variable entry of the same name replaces the first.
    @Test func variableEntriesReplace() throws {
        let p = try Self.rulePolicy("""
        context:
        - name: obj
          variable: {value: {notName: x}}
        - name: obj
          variable: {value: {name: example}}
        validate:
          failureAction: Audit
          deny:
            conditions:
              any:
              - {key: "{{ obj.name }}", operator: NotEquals, value: example}
              - {key: "{{ to_string(obj.notName) }}", operator: NotEquals, value: "null"}
        """)
        #expect(Self.firstRule(p)?.status == .pass)
    }

    /// `apiCall.service` is answered from a test's `apiCallResponses` only: a mocked 2xx body
    /// (then the jmesPath), a mocked failure status or no mock at all fail to load (an error where
    /// used), unless the entry has a `default`. Signet never calls the service.
    @Test(arguments: [
        ("{body: {allowed: true}, statusCode: 200}", "", RuleStatus.pass),
        ("{body: {allowed: false}, statusCode: 200}", "", RuleStatus.fail),
        ("{body: {allowed: true}, statusCode: 503}", "", RuleStatus.error),
        ("", "", RuleStatus.error),
        ("", "default: {allowed: false}", RuleStatus.fail),
    ])
    func serviceCallsAreAnsweredFromMocksOnly(_ mock: String, _ defaultLine: String, _ expected: RuleStatus) throws {
        let p = try Self.rulePolicy("""
        context:
        - name: check
          apiCall:
            service: {url: "https://svc.example.com/check"}
            \(defaultLine)
        validate:
          failureAction: Audit
          deny:
            conditions:
              any:
              - {key: "{{ check.allowed }}", operator: Equals, value: false}
        """)
        var c = PolicyEngine.Configuration()
        if !mock.isEmpty {
            c.variables.serviceResponses["https://svc.example.com/check"] = try #require(try YAMLDocuments.parse(mock).first)
        }
        let r = Self.firstRule(p, configuration: c)
        #expect(r?.status == expected, "\(r?.message ?? "")")
    }

    /// A context entry that fails to load is an error only where it is used (deferred loading);
    /// values stand in for a configMap entry the CLI does not load.
    @Test func failedEntriesErrorOnlyWhenUsed() throws {
        func policy(denyingWhen key: String) throws -> ClusterPolicy {
            try Self.rulePolicy("""
            context:
            - name: cm
              configMap: {name: missing, namespace: default}
            validate:
              failureAction: Audit
              deny:
                conditions:
                  any:
                  - {key: "{{ \(key) }}", operator: Equals, value: "yes"}
            """)
        }
        let unused = try policy(denyingWhen: "request.object.kind")
        #expect(Self.firstRule(unused)?.status == .pass)
        let used = try policy(denyingWhen: "cm.data.x")
        #expect(Self.firstRule(used)?.status == .error)
        var c = PolicyEngine.Configuration()
        c.variables.configMapEntries = false
        c.variables.global = ["cm.data.x": .string("yes")]
        #expect(Self.firstRule(used, configuration: c)?.status == .fail)
    }

    /// Kyverno `$(...)` references: relative to the referencing leaf, into the pattern itself,
    /// with an operator prefix kept; `\$(` escapes.
    @Test func referencesResolveInsideThePattern() throws {
        let pattern = try #require(try YAMLDocuments.parse("""
        spec:
          containers:
          - name: "*"
            resources:
              requests:
                memory: "$(<=./../../limits/memory)"
                cpu: '\\$(literal)'
              limits:
                memory: 2048Mi
        """).first)
        let r = try References.resolve(pattern)
        let res = r["spec"]?["containers"]?.arrayValue?.first?["resources"]
        #expect(res?["requests"]?["memory"] == .string("<=2048Mi"))
        #expect(res?["requests"]?["cpu"] == .string("$(literal)"))
        #expect(throws: SignetPolicyError.self) { try References.resolve(.object(["a": .string("$(./../missing)")])) }
        #expect(References.clean("/a/b/c/./../../d") == "/a/d")
    }

    /// Variables in verifyImages (imageReferences, attestor keys) are substituted before the
    /// plan and the evaluation use the rule.
    @Test func verifyImagesFieldsAreSubstituted() throws {
        let p = try Self.rulePolicy(kind: "Pod", """
        context:
        - name: trusted
          variable: {value: "ghcr.io/org/*"}
        - name: key
          variable: {value: "-----BEGIN PUBLIC KEY-----\\nK1\\n-----END PUBLIC KEY-----\\n"}
        verifyImages:
        - imageReferences: ["{{ trusted }}"]
          mutateDigest: false
          verifyDigest: false
          attestors:
          - entries:
            - keys: {publicKeys: "{{ key }}", rekor: {ignoreTlog: true}}
        """)
        #expect(p.effectiveRules.allSatisfy { $0.unsupported.isEmpty } && !p.isInvalid)
        let plan = PolicyEngine(policies: [p]).verificationPlan(VariablesTests.pod)
        #expect(plan.requests.count == 1)
        #expect(plan.requests.first?.image == "ghcr.io/org/app:1.2")
    }

    /// `--set` follows Kyverno's `variables.parse`: trimmed pairs, first one wins, no
    /// `request.object.` keys, malformed pairs ignored.
    @Test func setArguments() {
        var v = VariableValues()
        v.readSetArguments(["a=1, b = two", "a=3", "request.object.metadata.name=x", "bad", "c=", "d=e=f"])
        #expect(v.overrides == ["a": .string("1"), "b": .string("two")])
        #expect(v.requestValues(policy: "p", resource: VariablesValuesTests.role).map(\.key) == ["a", "b"])
    }

    /// A policy whose pattern holds a reference loads and evaluates (no longer unsupported).
    @Test func referencesInPolicies() throws {
        let p = try Self.rulePolicy(kind: "Pod", """
        validate:
          failureAction: Audit
          pattern:
            spec:
              containers:
              - name: "$(./../image)"
                image: "c"
        """)
        #expect(p.effectiveRules.allSatisfy { $0.unsupported.isEmpty })
        // the pattern asks name == "c" and image == "c": the test Pod has name c, image ghcr.io/...
        #expect(Self.firstRule(p, on: VariablesTests.pod)?.status == .fail)
    }

    /// `elementScope: true` on elements that are not maps is an error (Kyverno AddElementToContext).
    @Test func elementScopeOnScalarsIsAnError() throws {
        let p = try Self.rulePolicy(kind: "Pod", """
        validate:
          failureAction: Audit
          message: images must begin with ghcr.io
          foreach:
          - list: request.object.spec.containers[].image
            elementScope: true
            deny:
              conditions:
                all:
                - {key: "{{ element }}", operator: NotEquals, value: ghcr.io}
        """)
        let r = Self.firstRule(p, on: VariablesTests.pod)
        #expect(r?.status == .error)
        #expect(r?.message.contains("cannot use elementScope=true") == true)
    }
}
