#!/usr/bin/env bash
# The gatekeeper's checks/s beside /healthz, in one run against a fresh release server:
#   1. GET /healthz                                      — the ceiling: no auth, no database
#   2. GET /v1/authz/check, access key (Bearer tsr_…)    — allowed (204), the credential cached
#   3. GET /v1/authz/check, access key (Basic id:secret) — the same key, the other form
#   4. GET /v1/authz/check, refused (403)                — a Developer's key asked for audit_api:write
#                                                           (audited once, then folded in memory)
#   5. GET /v1/authz/check, OAuth access token (Bearer)  — only when OAUTH_TOKEN is set: a JWT
#                                                           access token of this server, e.g. from
#                                                           POST /oauth/token (client_credentials)
#
#   cargo build --release
#   bench/gatekeeper.sh                 # SQLite in a temporary directory
#   OAUTH_TOKEN_CMD='…' bench/gatekeeper.sh   # a command printing an access token, run once the
#                                             # server is up ($base and $tmp are exported to it)
#
# Needs wrk, curl, python3. DURATION (default 15s) and CONNECTIONS (default 64) tune the runs.
set -euo pipefail
duration="${DURATION:-15s}"
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

oauth="${OAUTH_TOKEN:-}"
if [ -z "$oauth" ] && [ -n "${OAUTH_TOKEN_CMD:-}" ]; then
  oauth="$(base="$base" tmp="$tmp" bash -c "$OAUTH_TOKEN_CMD")"
fi

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
[ -z "$oauth" ] || expect 204 "${needs[@]}" -H "Authorization: Bearer $oauth" "$check"

rps() { awk '/Requests\/sec/ {print $2}'; }
healthz=""
run() {
  local name="$1"; shift
  local out r share
  out="$(wrk -t2 -c"$connections" -d"$duration" --latency "$@")"
  r="$(echo "$out" | rps)"
  [ -n "$healthz" ] || healthz="$r"
  share="$(python3 -c "print(f'{100 * float(\"$r\") / float(\"$healthz\"):.0f} %')")"
  local non2xx
  non2xx="$(echo "$out" | awk '/Non-2xx/ {print $NF}')"
  printf '%-46s %10s req/s  %5s of /healthz   p50 %8s   p99 %8s   non-2xx %s\n' "$name" "$r" \
    "$share" "$(echo "$out" | awk '$1=="50%" {print $2}')" \
    "$(echo "$out" | awk '$1=="99%" {print $2}')" "${non2xx:-0}"
}

echo "server $base ($(nproc) cores), wrk -t2 -c$connections -d$duration"
run "GET /healthz" "$base/healthz"
run "check, access key (Bearer), allowed" "${needs[@]}" -H "Authorization: Bearer $token" "$check"
run "check, access key (Basic), allowed" "${needs[@]}" -H "Authorization: Basic $basic" "$check"
run "check, refused (403, folded audit)" -H "X-Tessera-Capability: audit_api" \
  -H "X-Tessera-Level: write" -H "Authorization: Bearer $dev" "$check"
if [ -n "$oauth" ]; then
  run "check, OAuth access token (JWT), allowed" "${needs[@]}" -H "Authorization: Bearer $oauth" "$check"
else
  echo "check, OAuth access token: skipped (set OAUTH_TOKEN or OAUTH_TOKEN_CMD)"
fi
events="$(curl -fs "$base/v1/accounts/1/audit_logs?action=authz.check&per_page=1000" \
  -H "Authorization: Bearer $token" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["result"]))')"
echo "authz.check audit events written for the refused run: $events"
