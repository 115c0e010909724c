# Shared by scripts/bench-admission and scripts/soak (sourced, not run): builds or takes the signet
# binary, starts a docker-registry on a free loopback port, loads and signs a small image, writes a
# key policy and certificates, and defines start_server/stop_server/post/cpu_ticks/cpu_us_per_request/rss_kib and the wrk
# scripts post.lua and get.lua.
# Expects CONFIG to be set; sets BIN, WORK, REG, DIGEST, PIDS and the trap that cleans up.
BIN="${SIGNET_BIN:-}"
if [ -z "$BIN" ]; then
  echo "== building signet ($CONFIG)" >&2
  swift build -c "$CONFIG" --product signet 2>&1 | grep -E "error|Compiling signet|Build" >&2 || true
  BIN="$(swift build -c "$CONFIG" --show-bin-path)/signet"
fi
[ -x "$BIN" ] || { echo "error: $BIN was not built" >&2; exit 1; }

WORK=$(mktemp -d /tmp/signet-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "error: nothing listens on $1" >&2; return 1; }

# --- registry ---------------------------------------------------------------------------------
REG_PORT=$(free_port)
mkdir -p "$WORK/registry"
cat > "$WORK/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/registry}, cache: {blobdescriptor: inmemory}}
http: {addr: 127.0.0.1:$REG_PORT, secret: bench}
YML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
wait_port "$REG_PORT"
REG=127.0.0.1:$REG_PORT

# --- a small image as an OCI layout, loaded and signed ------------------------------------------
mk_blob() { local f="$WORK/tmpblob"; cat >"$f"; local d; d=$(sha256sum "$f" | cut -d' ' -f1); mkdir -p "$WORK/layout/blobs/sha256"; mv "$f" "$WORK/layout/blobs/sha256/$d"; echo "$d $(stat -c %s "$WORK/layout/blobs/sha256/$d")"; }
read -r LAYER LAYER_SIZE < <(head -c 2048 /dev/urandom | gzip -c | mk_blob)
DIFF=$(head -c 0 /dev/null | sha256sum | cut -d' ' -f1)
read -r CONFIG_D CONFIG_SIZE < <(printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"config":{}}' "$DIFF" | mk_blob)
read -r MANIFEST MANIFEST_SIZE < <(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' "$CONFIG_D" "$CONFIG_SIZE" "$LAYER" "$LAYER_SIZE" | mk_blob)
printf '{"imageLayoutVersion":"1.0.0"}' > "$WORK/layout/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' "$MANIFEST" "$MANIFEST_SIZE" > "$WORK/layout/index.json"
"$BIN" load --dir "$WORK/layout" "$REG/bench/app:v1" >/dev/null
DIGEST=$("$BIN" digest "$REG/bench/app:v1")
export COSIGN_PASSWORD=bench
"$BIN" generate-key-pair --output-key-prefix "$WORK/cosign" >/dev/null 2>&1
"$BIN" sign --key "$WORK/cosign.key" "$REG/bench/app@$DIGEST" >/dev/null 2>&1
echo "== image $REG/bench/app:v1 = $DIGEST, signed" >&2

# --- policy, certificate, server -----------------------------------------------------------------
mkdir -p "$WORK/policies"
# The policy and review templates are shared with `signet-bench admission` (scripts/bench-fixtures/admission).
FIXTURES=scripts/bench-fixtures/admission
python3 - "$FIXTURES/require-signed-images.yaml" "$REG" "$WORK/cosign.pub" > "$WORK/policies/policy.yaml" <<'PY'
import sys
template, registry, key = open(sys.argv[1]).read(), sys.argv[2], open(sys.argv[3]).read().strip().splitlines()
out = []
for line in template.splitlines():
    if "@PUBLIC_KEY@" in line:
        indent = line[:line.index("@PUBLIC_KEY@")]
        out += [indent + k for k in key]
    else:
        out.append(line.replace("@REGISTRY@", registry))
print("\n".join(out))
PY
"$BIN" cert --dns localhost --dns 127.0.0.1 --out-dir "$WORK/certs" >/dev/null 2>&1

review() { # $1 image
  sed "s|@IMAGE@|$1|" "$FIXTURES/review.json"
}
review "$REG/bench/app:v1@$DIGEST" > "$WORK/pinned.json"
review "$REG/bench/app:v1" > "$WORK/tag.json"

start_server() { # extra args...
  SRV_PORT=$(free_port)
  METRICS_PORT=$(free_port)  # /metrics and /reports: the plain-HTTP loopback listener
  "$BIN" serve --policies "$WORK/policies" --tls-cert "$WORK/certs/tls.crt" --tls-key "$WORK/certs/tls.key" \
    --host 127.0.0.1 --port "$SRV_PORT" --metrics-address "127.0.0.1:$METRICS_PORT" --log-level warning \
    ${SERVE_ARGS:-} "$@" >"$WORK/serve.log" 2>&1 &
  SRV_PID=$!
  PIDS+=($SRV_PID)
  wait_port "$SRV_PORT"
}
stop_server() { kill "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; }
metrics() { curl -sS "http://127.0.0.1:$METRICS_PORT/metrics"; }
post() { curl -sS --cacert "$WORK/certs/ca.crt" -H 'Content-Type: application/json' --data @"$1" "https://127.0.0.1:$SRV_PORT$2"; }
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Microseconds of CPU per request between two cpu_ticks readings: ticks0 ticks1 requests.
cpu_us_per_request() { python3 -c "import os,sys; a,b,n=map(int,sys.argv[1:]); print(f'{(b-a)/os.sysconf(\"SC_CLK_TCK\")*1e6/max(1,n):.1f}')" "$1" "$2" "${3:-0}"; }

# wrk scripts: $WORK/post.lua posts the file named by $BODY as JSON, $WORK/get.lua GETs.
cat > "$WORK/post.lua" <<'LUA'
local f = io.open(os.getenv("BODY"), "r")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA
printf 'wrk.method = "GET"\n' > "$WORK/get.lua"
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

