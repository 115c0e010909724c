#!/usr/bin/env python3
"""Sends a Pod through a Signet webhook the way the Kubernetes API server does for
`kubectl run`: an AdmissionReview (admission.k8s.io/v1, CREATE) to /mutate, the returned JSON patch
applied, then the patched Pod to /validate. Prints what kubectl would show:
`pod/NAME created`, `Warning: ...` lines, or `Error from server: admission webhook ... denied the request: ...`.

usage: admission-review.py --pod POD.yaml|json --webhooks WEBHOOKS.yaml
       admission-review.py --pod POD.yaml|json --url https://HOST:PORT --cacert CA.crt

With --webhooks (the output of `signet webhook-config --url ... --ca-bundle-file ...`), it calls
what the API server would: every mutating webhook whose rules match a Pod CREATE, then every
validating one, at its clientConfig.url with `?timeout=Ns`, trusting its caBundle.
"""
import argparse, base64, copy, json, os, ssl, sys, tempfile, urllib.request, uuid

def load_pod(path):
    text = open(path).read()
    try:
        return json.loads(text)
    except ValueError:
        import yaml  # PyYAML ships with the machine's Python
        return yaml.safe_load(text)

def pointer_parts(path):
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]

def apply_patch(doc, ops):
    doc = copy.deepcopy(doc)
    for op in ops:
        parts = pointer_parts(op["path"])
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        if op["op"] in ("replace", "add"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(op["value"])
                elif op["op"] == "add":
                    parent.insert(int(last), op["value"])
                else:
                    parent[int(last)] = op["value"]
            else:
                parent[last] = op["value"]
        elif op["op"] == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        else:
            raise SystemExit("unsupported patch op %s" % op["op"])
    return doc

def review(url, ctx, pod, path):
    body = {
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "name": pod["metadata"]["name"], "namespace": pod["metadata"].get("namespace", "default"),
            "operation": "CREATE",
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
            "object": pod, "oldObject": None, "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }
    req = urllib.request.Request(url + (path or ""), data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, context=ctx, timeout=35) as r:
        return json.load(r)["response"]

def matches_pod_create(webhook):
    for r in webhook.get("rules") or []:
        if not (set(r.get("apiGroups", [])) & {"", "*"}): continue
        if not (set(r.get("apiVersions", [])) & {"v1", "*"}): continue
        if not (set(r.get("operations", [])) & {"CREATE", "*"}): continue
        if set(r.get("resources", [])) & {"pods", "*"}: return True
    return False

def webhooks_from(path):
    import yaml
    calls = []
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for doc in docs:
            if doc.get("kind") != kind: continue
            for w in doc.get("webhooks") or []:
                if not matches_pod_create(w): continue
                cc = w["clientConfig"]
                if "url" not in cc: raise SystemExit("webhook %s has no clientConfig.url (generate with --url)" % w["name"])
                ca = base64.b64decode(cc["caBundle"]).decode() if cc.get("caBundle") else None
                with tempfile.NamedTemporaryFile("w", suffix=".crt", delete=False) as f:
                    f.write(ca or "")
                ctx = ssl.create_default_context(cafile=f.name) if ca else ssl.create_default_context()
                os.unlink(f.name)
                url = cc["url"] + "?timeout=%ds" % w.get("timeoutSeconds", 10)
                calls.append((url, ctx, w["name"], w.get("failurePolicy", "Fail")))
    return calls

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pod", required=True)
    ap.add_argument("--webhooks")
    ap.add_argument("--url")
    ap.add_argument("--cacert")
    args = ap.parse_args()
    pod = load_pod(args.pod)
    name = pod["metadata"]["name"]
    if args.webhooks:
        calls = webhooks_from(args.webhooks)
    else:
        if not (args.url and args.cacert): raise SystemExit("give --webhooks, or --url and --cacert")
        ctx = ssl.create_default_context(cafile=args.cacert)
        calls = [(args.url + "/mutate", ctx, "mutate.signet.dev", "Fail"), (args.url + "/validate", ctx, "validate.signet.dev", "Fail")]
    for url, ctx, webhook, failure_policy in calls:
        try:
            resp = review(url, ctx, pod, None)
        except Exception as e:  # what the API server does when the webhook cannot be called
            if failure_policy == "Ignore":
                print("Warning: failed calling webhook %s: %s (failurePolicy Ignore)" % (webhook, e))
                continue
            print('Error from server (InternalError): Internal error occurred: failed calling webhook "%s": %s' % (webhook, e))
            return 1
        for w in resp.get("warnings") or []:
            print("Warning: %s" % w)
        if not resp.get("allowed"):
            msg = (resp.get("status") or {}).get("message", "")
            print('Error from server: admission webhook "%s" denied the request: %s' % (webhook, msg))
            return 1
        if resp.get("patch"):
            ops = json.loads(base64.b64decode(resp["patch"]))
            pod = apply_patch(pod, ops)
            for c in pod["spec"].get("containers", []):
                print("  (mutated by the webhook: image %s)" % c["image"])
    print("pod/%s created" % name)
    return 0

if __name__ == "__main__":
    sys.exit(main())
