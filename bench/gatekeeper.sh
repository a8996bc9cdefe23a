#!/usr/bin/env bash
# The gatekeeper's checks/s beside /healthz, in one run against a fresh release server:
#   1. GET /healthz                                      — the ceiling: no auth, no database
#   2. GET /v1/authz/check, access key (Bearer tsr_…)    — allowed (204), the credential cached
#   3. GET /v1/authz/check, access key (Basic id:secret) — the same key, the other form
#   4. GET /v1/authz/check, refused (403)                — a Developer's key asked for audit_api:write
#                                                           (audited once, then folded in memory)
#   5. GET /v1/authz/check, OAuth access token (Bearer)  — an ES256 JWT access token (RFC 9068)
#                                                           from POST /oauth/token, client_credentials
#                                                           with the same key, scope numbers.write
#
#   cargo build --release
#   bench/gatekeeper.sh                 # SQLite in a temporary directory
#
# Needs wrk, curl, python3. DURATION (default 10s), CONNECTIONS (default 64) and ROUNDS
# (default 3) tune the runs.
set -euo pipefail
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-64}"
ulimit -n 65536 2>/dev/null || true
# shellcheck source=scripts/local_server.sh
source "$(dirname "$0")/../scripts/local_server.sh"

creds="$tmp/data/initial-credentials.json"
token="$(owner_token)"
key_id="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['access_key']['id'])" "$creds")"
secret="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['access_key']['secret'])" "$creds")"
basic="$(printf '%s:%s' "$key_id" "$secret" | base64 -w0)"

# A Developer with an access key: refused Audit API write.
user="$(curl -fs -X POST "$base/v1/accounts/1/users" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d '{"login": "gatebench", "password": "Str0ng-Pass!", "email": "gate@example.com", "role": "Developer"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["id"])')"
dev="$(curl -fs -X POST "$base/v1/accounts/1/users/$user/access_keys" -H "Authorization: Bearer $token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["token"])')"

oauth="$(curl -fs -u "$key_id:$secret" -d grant_type=client_credentials -d scope=numbers.write \
  "$base/oauth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

needs=(-H "X-Tessera-Capability: numbers" -H "X-Tessera-Level: write" -H "X-Tessera-Account: 1")
check="$base/v1/authz/check"
# Each check answered as expected once, before it is measured.
expect() {
  local want="$1"; shift
  local got
  got="$(curl -s -o /dev/null -w '%{http_code}' "$@")"
  [ "$got" = "$want" ] || { echo "expected $want, got $got: $*" >&2; exit 1; }
}
expect 204 "${needs[@]}" -H "Authorization: Bearer $token" "$check"
expect 204 "${needs[@]}" -H "Authorization: Basic $basic" "$check"
expect 403 -H "X-Tessera-Capability: audit_api" -H "X-Tessera-Level: write" \
  -H "Authorization: Bearer $dev" "$check"
expect 204 "${needs[@]}" -H "Authorization: Bearer $oauth" "$check"

# The kinds are interleaved over ROUNDS rounds (the machine's load drifts; a kind measured
# only after another would carry the drift), each kind's median reported with its share of
# /healthz's median.
rounds="${ROUNDS:-3}"
results="$tmp/results"
: > "$results"
run() {
  local name="$1"; shift
  local out
  out="$(wrk -t2 -c"$connections" -d"$duration" --latency "$@")"
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$out" | awk '$1=="50%" {print $2}')" "$(echo "$out" | awk '$1=="99%" {print $2}')" \
    "$(echo "$out" | awk '/Non-2xx/ {print $NF}')" >> "$results"
}

echo "server $base ($(nproc) cores), wrk -t2 -c$connections -d$duration, $rounds rounds interleaved"
for _ in $(seq "$rounds"); do
  run "GET /healthz" "$base/healthz"
  run "check, access key (Bearer), allowed" "${needs[@]}" -H "Authorization: Bearer $token" "$check"
  run "check, access key (Basic), allowed" "${needs[@]}" -H "Authorization: Basic $basic" "$check"
  run "check, OAuth access token (JWT), allowed" "${needs[@]}" -H "Authorization: Bearer $oauth" "$check"
  run "check, refused (403, folded audit)" -H "X-Tessera-Capability: audit_api" \
    -H "X-Tessera-Level: write" -H "Authorization: Bearer $dev" "$check"
done
python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, rps, p50, p99, non2xx = line.rstrip("\n").split("\t")
    rows.setdefault(name, []).append((float(rps), p50, p99, non2xx or "0"))
ceiling = statistics.median(r[0] for r in rows["GET /healthz"])
for name, runs in rows.items():
    med = statistics.median(r[0] for r in runs)
    each = " ".join(f"{r[0]:.0f}" for r in runs)
    p99 = " ".join(r[2] for r in runs)
    print(f"{name:44} {med:9.0f} req/s (median of {each})  {100 * med / ceiling:4.0f} % of /healthz"
          f"   p99 {p99}   non-2xx {runs[-1][3]}")
PY
events="$(curl -fs "$base/v1/accounts/1/audit_logs?action=authz.check&per_page=1000" \
  -H "Authorization: Bearer $token" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["result"]))')"
echo "authz.check audit events written for the refused run: $events"
