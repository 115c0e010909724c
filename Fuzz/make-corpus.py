#!/usr/bin/env python3
"""Writes seed inputs for the fuzz harnesses: DEST/HARNESS/NAME files.

usage: make-corpus.py DEST [HARNESS...]            every seed found (run time: a temp directory)
       make-corpus.py --committed DEST [HARNESS...] hand-written seeds and the repository's own test
                                                    fixtures only (what Fuzz/corpus/ holds)

Run-time seeds come from ../shared beside the checkout (conformance policies and resources, cosign
vectors; shared/ asks not to be copied into the project, so they are never committed) and from
Tests/*/Fixtures. Every seed is at most MAX_LEN[harness] bytes (what scripts/fuzz passes as -max_len).
"""
import base64, glob, hashlib, json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
CONFORMANCE = os.path.join(SHARED, "conformance", "kyverno")
VECTORS = os.path.join(SHARED, "vectors", "cosign")
FIXTURES = os.path.join(ROOT, "Tests")

# Keep in step with scripts/fuzz.
MAX_LEN = {
    "FuzzJSON": 8192, "FuzzAdmissionReview": 16384, "FuzzPolicy": 16384, "FuzzPattern": 4096,
    "FuzzReference": 512, "FuzzManifest": 8192, "FuzzSignature": 8192, "FuzzCosignKey": 2048,
    "FuzzPEMKey": 8192, "FuzzDuration": 64, "FuzzDockerConfig": 4096,
}
# Run-time caps per source, so that one pass of a few seconds still gets through the seeds.
MAX_SEEDS = 400


def read(path):
    with open(path, "rb") as f:
        return f.read()


def yaml_docs(path):
    try:
        import yaml
    except ImportError:
        return []
    try:
        return [d for d in yaml.safe_load_all(read(path)) if d is not None]
    except Exception:
        return []


def conformance_files(pattern):
    return sorted(glob.glob(os.path.join(CONFORMANCE, "**", pattern), recursive=True))


def resources():
    """Kubernetes objects from the conformance resources (each document, as a dict)."""
    out = []
    for path in conformance_files("resource*.yaml") + conformance_files("pod-*.yaml"):
        for doc in yaml_docs(path):
            if isinstance(doc, dict) and "kind" in doc:
                out.append(doc)
    return out[:MAX_SEEDS]


def policies():
    """Policy files (YAML text) from the conformance suite."""
    out = []
    for path in conformance_files("*.yaml"):
        name = os.path.basename(path)
        if name.startswith("kyverno-test") or "resource" in name or name.startswith("values"):
            continue
        data = read(path)
        if b"kyverno.io/" in data and (b"ClusterPolicy" in data or b"kind: Policy" in data):
            out.append(data)
    return out[:MAX_SEEDS]


def patterns(docs):
    """validate.pattern / anyPattern values of the policies."""
    out = []
    for doc in docs:
        for rule in ((doc or {}).get("spec") or {}).get("rules") or []:
            v = (rule or {}).get("validate") or {}
            if "pattern" in v:
                out.append(v["pattern"])
            out.extend(v.get("anyPattern") or [])
    return out


def images(objs):
    found = []

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "image" and isinstance(v, str):
                    found.append(v)
                else:
                    walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(objs)
    return sorted(set(found))


def review(obj, op="CREATE", old=None):
    meta = obj.get("metadata") or {}
    kind = obj.get("kind", "Pod")
    api = obj.get("apiVersion", "v1")
    group, _, version = api.rpartition("/")
    request = {
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": kind.lower() + "s"},
        "requestKind": {"group": group, "version": version, "kind": kind},
        "name": meta.get("name", ""), "namespace": meta.get("namespace", "default"),
        "operation": op,
        "userInfo": {"username": "alice", "uid": "1", "groups": ["system:authenticated", "dev"]},
        "object": obj if op != "DELETE" else None, "oldObject": old,
        "dryRun": False, "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    }
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def js(o):
    return json.dumps(o, separators=(",", ":")).encode()


# --- hand-written seeds (committed) ---------------------------------------------------------

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web", "namespace": "prod-a", "labels": {"app": "web"}, "annotations": {"ttl": "2h"}},
       "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25",
                                "securityContext": {"runAsNonRoot": True},
                                "resources": {"limits": {"memory": "512Mi", "cpu": "500m"}}}]}}
DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "prod-x"},
              "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "d"}}, "spec": POD["spec"]}}}

HAND = {
    "FuzzJSON": [
        b'{"a":[1,-2,3.5e10,true,false,null,"x\\u00e9\\ud83d\\ude00\\n"],"b":{"c":{}}}',
        b'[0.1,1e308,-0,123456789012345678901234567890,"\\"\\\\\\/\\b\\f\\r\\t"]',
        js(POD), b'"plain"', b'  17  ',
    ],
    "FuzzAdmissionReview": [js(review(POD)), js(review(DEPLOYMENT, "UPDATE", DEPLOYMENT)),
                            js(review(POD, "DELETE", POD)),
                            js({**review(POD, "CONNECT"), "request": {**review(POD)["request"], "subResource": "exec",
                                                                    "operation": "CONNECT"}})],
    "FuzzPolicy": [b"""apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-limits
  annotations:
    pod-policies.kyverno.io/autogen-controllers: Deployment,CronJob
spec:
  validationFailureAction: Enforce
  background: true
  rules:
  - name: limits
    match:
      any:
      - resources:
          kinds: [Pod]
          namespaces: ["prod-*"]
          selector:
            matchLabels: {app: web}
    exclude:
      any:
      - subjects: [{kind: Group, name: "system:masters"}]
    preconditions:
      all:
      - key: "{{ request.operation }}"
        operator: AnyIn
        value: [CREATE, UPDATE]
    validate:
      message: "limits are required"
      pattern:
        spec:
          containers:
          - resources:
              limits:
                memory: "<=2Gi"
                cpu: "?*"
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: verify}
spec:
  webhookTimeoutSeconds: 15
  failurePolicy: Ignore
  rules:
  - name: sig
    match: {any: [{resources: {kinds: [Pod]}}]}
    verifyImages:
    - imageReferences: ["ghcr.io/acme/*"]
      attestors:
      - count: 1
        entries:
        - keys:
            publicKeys: "-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEH8YakVeq6hwREqu2unLfi2NdfH2R\\ntkL+mmB6aFfe6XUUwT3fCNbohTJinc/aXHZyo51yEH3Rqtp4Z93jUgvs0w==\\n-----END PUBLIC KEY-----"
""", b"""apiVersion: v1
kind: List
items:
- apiVersion: kyverno.io/v1
  kind: Policy
  metadata: {name: p, namespace: team}
  spec:
    rules:
    - name: r
      match: {resources: {kinds: [ConfigMap]}}
      validate:
        deny: {conditions: {any: [{key: "{{request.object.data.x || ''}}", operator: Equals, value: "1"}]}}
- &a {x: [*a]}
- {? [a, b] : 0x1F, n: ~, f: .inf, o: 0o17, y: yes}
"""],
    "FuzzPattern": [js({"spec": {"containers": [{"name": "*", "image": "!*:latest",
                                                 "resources": {"limits": {"memory": "<=1Gi", "cpu": "100m-2"}}}]}}),
                    js({"metadata": {"labels": {"=(app)": "web|api", "X(debug)": "null"}}}),
                    js(POD), js(DEPLOYMENT),
                    b"<=1.5Gi & >-1e3", b"1Ki!-2Mi", b"90m", b"<1h30m", b"?*", b"0.000001Ei", b"+12.5e2"],
    "FuzzReference": [b"nginx", b"nginx:1.25", b"docker.io/library/nginx:latest",
                      b"localhost:5000/a/b/c@sha256:" + b"0" * 64, b"[::1]:5000/x:y",
                      b"registry.example.com:443/team/app:v1.2.3@sha256:" + b"ab" * 32, b"Ghcr.io/x", b"a/b:c:d@e"],
    "FuzzManifest": [
        js({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2,
                       "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "data": "e30="},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 32,
                        "digest": "sha256:" + "1" * 64, "urls": ["https://example.com/x"],
                        "annotations": {"org.opencontainers.image.title": "x"}}],
            "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7, "digest": "sha256:" + "2" * 64},
            "annotations": {"created": "2024-01-01T00:00:00Z"}}),
        js({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10,
                           "digest": "sha512:" + "3" * 128,
                           "platform": {"architecture": "arm64", "os": "linux", "variant": "v8",
                                        "os.version": "10.0", "os.features": ["win32k"], "features": ["sse4"]}}]}),
    ],
    "FuzzSignature": [
        js({"critical": {"identity": {"docker-reference": "registry.example.com/app"},
                         "image": {"docker-manifest-digest": "sha256:" + "a" * 64},
                         "type": "cosign container image signature"},
            "optional": {"env": "prod", "n": 1.5e-7, "nested": {"b": [1, "<&>"]}}}),
        js({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": "abc"}},
            "dsseEnvelope": {"payloadType": "application/vnd.in-toto+json",
                             "payload": base64.b64encode(js({
                                 "_type": "https://in-toto.io/Statement/v1",
                                 "subject": [{"name": "registry.example.com/app", "digest": {"sha256": "a" * 64}}],
                                 "predicateType": "https://sigstore.dev/cosign/sign/v1",
                                 "predicate": {"annotations": {"env": "prod"}}})).decode(),
                             "signatures": [{"sig": base64.b64encode(b"0" * 70).decode(), "keyid": ""}]}}),
        js({"mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.2",
            "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": base64.b64encode(b"1" * 32).decode()},
                                 "signature": base64.b64encode(b"2" * 64).decode()}}),
    ],
    "FuzzDuration": [b"10s", b"1m30s", b"500ms", b"1h2m3.5s", b"2us", b"3\xc2\xb5s", b"0", b"-5s", b".5h", b"1.5", b"7ns"],
    "FuzzDockerConfig": [
        js({"auths": {"https://index.docker.io/v1/": {"auth": base64.b64encode(b"user:pa:ss").decode()},
                      "registry.example.com": {"username": "u", "password": "p"},
                      "ghcr.io": {"identitytoken": "tok"}},
            "credsStore": "desktop", "credHelpers": {"localhost:5000": "pass"}}),
        js({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(js({"auths": {"docker.io": {"auth": "dTpw"}}})).decode()}}),
        js({"kind": "Secret", "stringData": {".dockercfg": json.dumps({"quay.io": {"auth": "dTpw"}})}}),
        js({"registry-1.docker.io": {"auth": "dTpw", "email": "x@example.com"}}),
    ],
    "FuzzCosignKey": [],
    "FuzzPEMKey": [],
}


def cosign_key(n=32768, r=8, p=1, label="ENCRYPTED SIGSTORE PRIVATE KEY"):
    """An envelope in cosign's format (the ciphertext is not a real key: the parser and the
    bounds are what it exercises)."""
    body = js({"kdf": {"name": "scrypt", "params": {"N": n, "r": r, "p": p},
                       "salt": base64.b64encode(b"s" * 32).decode()},
               "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(b"n" * 24).decode()},
               "ciphertext": base64.b64encode(b"c" * 150).decode()})
    b64 = base64.b64encode(body).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return ("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)).encode()


HAND["FuzzCosignKey"] = [cosign_key(), cosign_key(65536, label="ENCRYPTED COSIGN PRIVATE KEY"),
                         cosign_key(1 << 20, 8, 1), cosign_key(32768, 1 << 20, 1 << 20)]


def fixture_files(*patterns):
    out = []
    for pattern in patterns:
        out.extend(sorted(glob.glob(os.path.join(FIXTURES, "*", "Fixtures", "**", pattern), recursive=True)))
    return out


def committed(harness):
    seeds = list(HAND.get(harness, []))
    if harness in ("FuzzPEMKey", "FuzzCosignKey"):
        for path in fixture_files("*.pem", "*.pub", "*.crt"):
            data = read(path)
            if (harness == "FuzzCosignKey") == (b"ENCRYPTED SIGSTORE" in data or b"ENCRYPTED COSIGN" in data):
                seeds.append(data)
    if harness in ("FuzzJSON", "FuzzPattern"):
        seeds += [read(p) for p in fixture_files("*.json")]
    return seeds


def runtime(harness):
    """Seeds from ../shared (never committed)."""
    seeds = []
    vector_json = [read(p) for p in sorted(glob.glob(os.path.join(VECTORS, "**", "*"), recursive=True))
                   if os.path.isfile(p) and read(p)[:1] == b"{"]
    if harness in ("FuzzJSON", "FuzzPattern"):
        seeds += [js(o) for o in resources()]
        seeds += [read(p) for p in glob.glob(os.path.join(SHARED, "conformance", "**", "*.json"), recursive=True)]
    if harness == "FuzzPattern":
        docs = []
        for text in policies():
            try:
                import yaml
                docs += [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
            except Exception:
                pass
        seeds += [js(p) for p in patterns(docs)]
    if harness == "FuzzAdmissionReview":
        objs = resources()
        seeds += [js(review(o)) for o in objs[:150]]
        seeds += [js(review(o, "UPDATE", o)) for o in objs[150:200]]
    if harness == "FuzzPolicy":
        seeds += policies()
    if harness == "FuzzReference":
        seeds += [i.encode() for i in images(resources())]
    if harness in ("FuzzManifest", "FuzzSignature", "FuzzJSON", "FuzzDockerConfig"):
        seeds += vector_json
    if harness == "FuzzCosignKey":
        seeds += [read(p) for p in glob.glob(os.path.join(VECTORS, "*.key"))]
    if harness == "FuzzPEMKey":
        seeds += [read(p) for p in glob.glob(os.path.join(VECTORS, "**", "*.pub"), recursive=True)]
    return seeds


def write(dest, harness, seeds):
    d = os.path.join(dest, harness)
    os.makedirs(d, exist_ok=True)
    n = 0
    for data in seeds:
        if not data or len(data) > MAX_LEN[harness]:
            continue
        name = hashlib.sha1(data).hexdigest()[:16]
        path = os.path.join(d, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            n += 1
    return n


def main(argv):
    only_committed = "--committed" in argv
    args = [a for a in argv if a != "--committed"]
    if not args:
        sys.exit(__doc__)
    dest, harnesses = args[0], args[1:] or sorted(MAX_LEN)
    for h in harnesses:
        if h not in MAX_LEN:
            sys.exit("unknown harness %s" % h)
        seeds = committed(h) + ([] if only_committed else runtime(h))
        n = write(dest, h, seeds)
        print("%s: %d seeds" % (h, n), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
