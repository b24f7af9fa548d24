#!/usr/bin/env bash
# `make demo`, registries: pushes the demo image into a throw-away local Docker distribution
# registry (Debian's docker-registry) with skopeo, and scans it from there by reference.
set -euo pipefail
bin=${1:?kubeharden binary}
image=${2:?docker save tarball}
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/config.yml" <<CFG
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/store}}
http: {addr: 127.0.0.1:$port}
CFG
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
  sleep 0.05
done
skopeo --insecure-policy copy -q --dest-tls-verify=false "docker-archive:$image" \
  "docker://127.0.0.1:$port/demo/app:1"
echo "== kubeharden image scan 127.0.0.1:$port/demo/app:1   (pulled from a local registry)"
"$bin" image scan "127.0.0.1:$port/demo/app:1" --no-secrets -f text
