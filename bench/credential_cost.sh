#!/usr/bin/env bash
# Instructions per request of each credential kind on a principal-cache hit, counted by
# callgrind (instruction counts do not depend on the machine's load, unlike wrk's req/s):
#
#   cargo build --release -p tessera-server
#   bench/credential_cost.sh            # REQUESTS (default 2000) per kind; OUT keeps the dumps
#
# Starts the release server under `valgrind --tool=callgrind` (instrumentation off until the
# server is ready), then bench/credential_cost.py sends REQUESTS × GET /v1/accounts/1/users/2
# with an access key, a session and a service-key JWT, each after warming the cache, zeroing
# callgrind's counters before and dumping them after each kind. Prints, per kind, the
# instructions per request of the whole process and of `App::authenticate_cached`
# (inclusive), and keeps the dumps for callgrind_annotate. Needs valgrind, curl, python3 with
# `cryptography`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
requests="${REQUESTS:-2000}"
bin="${TESSERA_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/tessera}"
tmp="$(mktemp -d)"
out="${OUT:-$tmp/callgrind}"
mkdir -p "$out"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"

TESSERA__DATA_DIR="$tmp/data" TESSERA__SERVER__BIND="127.0.0.1:$port" TESSERA__LOG__LEVEL=warn \
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.out" \
  "$bin" 2>"$tmp/valgrind.log" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$tmp/data"' EXIT
for _ in $(seq 600); do
  curl -fs "$base/readyz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "tessera exited early" >&2; cat "$tmp/valgrind.log" >&2; exit 1; }
  sleep 0.5
done
curl -fs "$base/readyz" >/dev/null || { echo "tessera did not become ready" >&2; exit 1; }
callgrind_control --instr=on "$server" >/dev/null

python3 "$root/bench/credential_cost.py" "$base" "$tmp/data/initial-credentials.json" \
  --callgrind "$server" "$out" --requests "$requests"

printf '\n%-16s %14s %22s\n' kind "Ir/request" "authenticate_cached"
for kind in access_key session service_key_jwt; do
  dump="$(grep -l "^desc: Trigger: Client Request: $kind\$\|^desc: Trigger: .*$kind" "$out"/callgrind.out* | head -1)"
  total="$(awk '/^summary:/ {print $2}' "$dump")"
  auth="$(callgrind_annotate --inclusive=yes --threshold=100 "$dump" 2>/dev/null \
    | awk '/::authenticate_cached \[/ {gsub(",", "", $1); print $1; exit}')"
  printf '%-16s %14d %22d   %s\n' "$kind" "$((total / requests))" "$(( ${auth:-0} / requests ))" "$dump"
done
echo "dumps kept in $out"
