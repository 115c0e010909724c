#!/usr/bin/env python3
"""Sends a Pod through a Signet webhook the way the Kubernetes API server does for
`kubectl run`: an AdmissionReview (admission.k8s.io/v1, CREATE) to /mutate, the returned JSON patch
applied, then the patched Pod to /validate. Prints what kubectl would show:
`pod/NAME created`, `Warning: ...` lines, or `Error from server: admission webhook ... denied the request: ...`.

usage: admission-review.py --pod POD.yaml|json --url https://HOST:PORT --cacert CA.crt
"""
import argparse, base64, copy, json, ssl, sys, urllib.request, uuid

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
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, context=ctx, timeout=35) as r:
        return json.load(r)["response"]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pod", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--cacert", required=True)
    args = ap.parse_args()
    ctx = ssl.create_default_context(cafile=args.cacert)
    pod = load_pod(args.pod)
    name = pod["metadata"]["name"]
    for path, webhook in (("/mutate", "mutate.signet.dev"), ("/validate", "validate.signet.dev")):
        resp = review(args.url, ctx, pod, path)
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
