#!/usr/bin/env bash
# Load tests with wrk against a fresh release server (one run each):
#   1. GET /healthz                                   — the ceiling: no auth, no database
#   2. GET /v1/accounts/1/users/2 (access-key bearer) — an authenticated, authorized REST read
#      (and a catalog read: authenticated and authorized, but no database query)
#   3. GET /platform_api/GetSubUsers (service-key JWT) — an authenticated, authorized method call
#   4. POST /v1/sessions with 1,000 connections       — argon2id logins; the server's peak RSS
#
#   cargo build --release
#   bench/load.sh                       # SQLite in a temporary directory
#   TESSERA__DATABASE__URL=postgres://postgres@127.0.0.1:5432/load bench/load.sh   # an empty database
#
# Needs wrk, curl, python3 with PyJWT. DURATION (default 15s) and CONNECTIONS (default 64) tune
# the read runs.
set -euo pipefail
duration="${DURATION:-15s}"
connections="${CONNECTIONS:-64}"
ulimit -n 65536 2>/dev/null || true
# shellcheck source=scripts/local_server.sh
source "$(dirname "$0")/../scripts/local_server.sh"

creds="$tmp/data/initial-credentials.json"
token="$(owner_token)"
jwt="$(python3 - "$creds" <<'EOF'
import json, sys, time, jwt
key = json.load(open(sys.argv[1]))["service_key"]
now = int(time.time())
print(jwt.encode({"iss": str(key["account_id"]), "iat": now, "exp": now + 3600},
                 key["private_key"], algorithm="RS256", headers={"kid": key["key_id"]}))
EOF
)"
curl -fs -o /dev/null -X POST "$base/v1/accounts/1/users" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d '{"login": "loadtest", "password": "Str0ng-Pass!", "email": "load@example.com", "role": "Developer"}'

rps() { awk '/Requests\/sec/ {print $2}'; }
run() {
  local name="$1"; shift
  local out
  out="$(wrk -t2 -c"$connections" -d"$duration" --latency "$@")"
  local non2xx
  non2xx="$(echo "$out" | awk '/Non-2xx/ {print $NF}')"
  printf '%-44s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" \
    "$(echo "$out" | rps)" "$(echo "$out" | awk '$1=="50%" {print $2}')" \
    "$(echo "$out" | awk '$1=="99%" {print $2}')" "${non2xx:-0}"
}

echo "server $base ($(nproc) cores), wrk -t2 -c$connections -d$duration"
run "GET /healthz" "$base/healthz"
run "GET /v1/accounts/1/users/2 (access key)" -H "Authorization: Bearer $token" "$base/v1/accounts/1/users/2"
run "GET …/iam/permission_groups/<id> (no DB)" -H "Authorization: Bearer $token" \
  "$base/v1/accounts/1/iam/permission_groups/b4b40a98815a8d903277649d8ba3250c"
run "GET /platform_api/GetSubUsers (JWT)" -H "Authorization: Bearer $jwt" "$base/platform_api/GetSubUsers?count=1"

cat > "$tmp/login.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"account_id": 1, "login": "loadtest", "password": "Str0ng-Pass!"}'
EOF
rss_before="$(awk '/VmRSS/ {print $2}' "/proc/$server/status")"
out="$(wrk -t2 -c1000 -d20s --timeout 30s --latency -s "$tmp/login.lua" "$base/v1/sessions")"
peak="$(awk '/VmHWM/ {print $2}' "/proc/$server/status")"
printf '%-44s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "POST /v1/sessions, 1000 connections" \
  "$(echo "$out" | rps)" "$(echo "$out" | awk '$1=="50%" {print $2}')" \
  "$(echo "$out" | awk '$1=="99%" {print $2}')" "$(echo "$out" | awk '/Non-2xx/ {print $NF}')"
echo "$out" | grep -E "Socket errors" || true
echo "server RSS before the logins: $((rss_before / 1024)) MiB; peak (VmHWM) over the whole run: $((peak / 1024)) MiB"
