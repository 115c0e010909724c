#!/usr/bin/env python3
"""Hostile clients for scripts/soak (issue 10), loopback only, bounded in count and time.

Usage: soak-attack.py HOST PORT CAFILE SECONDS REGISTRY
First a flood: 5,000 connections opened at once (2,000 idle, 2,000 half TLS handshakes, 1,000
TLS connections holding an unfinished 16 KB body) and held 15 s, with the /healthz latency of that
phase and the server's RSS at its end reported apart (`flood_*`). Then, in rounds until SECONDS
have passed: idle TCP connections, half TLS handshakes, unfinished bodies, AdmissionReviews naming
10,000 images, bodies with broken surrogates, huge ?timeout= values and junk. /healthz is probed
over a new TLS connection every 0.5 s throughout. Prints counters as JSON at the end; exits 1 if
the server stopped answering /healthz.
"""
import json, socket, ssl, sys, threading, time

host, port, cafile, seconds, registry = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
server_pid = int(sys.argv[6]) if len(sys.argv) > 6 else 0
metrics_port = int(sys.argv[7]) if len(sys.argv) > 7 else 0
deadline = time.monotonic() + seconds
ctx = ssl.create_default_context(cafile=cafile)
stats = {"idle": 0, "half_tls": 0, "slow_body": 0, "many_images": 0, "surrogate": 0, "timeout": 0,
         "junk": 0, "healthz_max_ms": 0.0, "healthz_fail": 0, "responses": {},
         "flood_connections": 0, "flood_healthz_max_ms": 0.0, "flood_healthz_fail": 0, "flood_rss_mib": 0,
         "metrics_healthz_max_ms": 0.0, "metrics_healthz_fail": 0}
flooding = threading.Event()
lock = threading.Lock()

def bump(key, n=1):
    with lock:
        stats[key] = stats.get(key, 0) + n

def review(images, uid="soak"):
    containers = [{"name": f"c{i}", "image": img} for i, img in enumerate(images)]
    return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": uid, "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"}, "namespace": "soak", "name": "p",
        "operation": "CREATE", "userInfo": {"username": "attacker"},
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "soak"},
                   "spec": {"containers": containers}}}}).encode()

def post(path, body, timeout=15):
    try:
        s = socket.create_connection((host, port), timeout=timeout)
        t = ctx.wrap_socket(s, server_hostname="localhost")
        t.sendall(f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        data = b""
        while True:
            chunk = t.recv(65536)
            if not chunk:
                break
            data += chunk
        t.close()
        code = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "none"
    except Exception as e:  # noqa: BLE001 - a hostile client counts outcomes, it does not stop
        code = type(e).__name__
    with lock:
        stats["responses"][code] = stats["responses"].get(code, 0) + 1

def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0

def hold(kind, n, seconds_held=3, counter=None):
    socks = []
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        try:
            s = socket.create_connection((host, port), timeout=5)
            if kind == "half_tls":
                s.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]))
            elif kind == "slow_body":
                t = ctx.wrap_socket(s, server_hostname="localhost")
                t.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 32768\r\n\r\n" + b"{" * 16384)
                s = t
            socks.append(s)
            bump(kind)
            if counter:
                bump(counter)
        except Exception:  # noqa: BLE001
            pass
    time.sleep(seconds_held)
    for s in socks:
        try:
            s.close()
        except Exception:  # noqa: BLE001
            pass

def healthz():
    while time.monotonic() < deadline:
        start = time.monotonic()
        try:
            s = socket.create_connection((host, port), timeout=5)
            t = ctx.wrap_socket(s, server_hostname="localhost")
            t.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            ok = t.recv(100).startswith(b"HTTP/1.1 200")
            t.close()
            ms = (time.monotonic() - start) * 1000
            with lock:
                stats["healthz_max_ms"] = max(stats["healthz_max_ms"], round(ms, 1))
                if flooding.is_set():
                    stats["flood_healthz_max_ms"] = max(stats["flood_healthz_max_ms"], round(ms, 1))
            if not ok:
                bump("healthz_fail")
                if flooding.is_set():
                    bump("flood_healthz_fail")
        except Exception:  # noqa: BLE001
            bump("healthz_fail")
            if flooding.is_set():
                bump("flood_healthz_fail")
        time.sleep(0.5)

def metrics_healthz():
    """/healthz on the plain-HTTP metrics listener: its own accept queue, apart from the flood."""
    while time.monotonic() < deadline:
        start = time.monotonic()
        try:
            s = socket.create_connection((host, metrics_port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            ok = s.recv(100).startswith(b"HTTP/1.1 200")
            s.close()
            with lock:
                stats["metrics_healthz_max_ms"] = max(stats["metrics_healthz_max_ms"], round((time.monotonic() - start) * 1000, 1))
            if not ok:
                bump("metrics_healthz_fail")
        except Exception:  # noqa: BLE001
            bump("metrics_healthz_fail")
        time.sleep(0.5)

many = review([f"{registry}/soak/img:{i}" for i in range(10000)])
surrogate = b'{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"\\ud800\\u0041"}}'
threads = [threading.Thread(target=healthz, daemon=True)]
threads[0].start()
if metrics_port:
    threading.Thread(target=metrics_healthz, daemon=True).start()
# The flood: 5,000 connections at once, held 15 s.
flooding.set()
flood = [threading.Thread(target=hold, args=(kind, n, 15, "flood_connections"))
         for kind, n in (("idle", 1000), ("idle", 1000), ("half_tls", 1000), ("half_tls", 1000), ("slow_body", 1000))]
for t in flood:
    t.start()
time.sleep(12)
if server_pid:
    stats["flood_rss_mib"] = rss_mib(server_pid)
for t in flood:
    t.join()
flooding.clear()
while time.monotonic() < deadline:
    round_threads = [
        threading.Thread(target=hold, args=("idle", 700)),
        threading.Thread(target=hold, args=("half_tls", 700)),
        threading.Thread(target=hold, args=("slow_body", 300)),
    ]
    for t in round_threads:
        t.start()
    post("/mutate", many); bump("many_images")
    post("/validate", surrogate); bump("surrogate")
    post("/validate?timeout=1000000000000000000000s", review(["nginx"])); bump("timeout")
    post("/validate", b"\x00\xff junk {{{"); bump("junk")
    for t in round_threads:
        t.join()
threads[0].join(timeout=10)
print(json.dumps(stats))
sys.exit(1 if stats["healthz_fail"] > 0 else 0)
