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

# Inclusive instructions per request of the first function whose line holds the text $1.
per_request() {
  awk -v pat="$1" -v n="$requests" '!found && index($0, pat) {gsub(",", "", $1); print int($1 / n); found = 1}
    END {if (!found) print 0}' "$annotated"
}
printf '\n%-16s %11s %22s %20s %16s\n' kind "Ir/request" "Caller::from_request" "authenticate_cached" "sha256 compress"
for kind in access_key session service_key_jwt; do
  dump="$(grep -l "^desc: Trigger: dump $kind\$" "$out"/callgrind.out*)"
  total="$(awk '/^summary:/ {print $2}' "$dump")"
  annotated="$dump.inclusive.txt"
  callgrind_annotate --inclusive=yes --threshold=100 "$dump" >"$annotated" 2>/dev/null
  printf '%-16s %11d %22d %20d %16d\n' "$kind" "$((total / requests))" \
    "$(per_request 'tessera_http::extract::Caller as actix_web::extract::FromRequest>::from_request [')" \
    "$(per_request '::authenticate_cached [')" "$(per_request 'sha2::sha256::compress256 [')"
done
echo "dumps (and callgrind_annotate --inclusive=yes of each) kept in $out"
