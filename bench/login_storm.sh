#!/usr/bin/env bash
# A sign-in storm: 1,000 connections posting password sign-ins as fast as they can, from one
# address, while other clients go about their business. Reports, before and during the storm,
# the p99 of GET /healthz and of an authenticated read (wrk, median of three runs), the time a legitimate sign-in from
# another address (127.0.0.2) takes during the storm, what the storm itself got (200, 503 …),
# and the server's peak RSS.
#
#   cargo build --release
#   bench/login_storm.sh
#
# The attempt limits are raised for the run (the storm signs in with the right password, and
# the limits are not what is measured): what is measured is the sign-in gate in front of the
# password hashing (auth.sign_in_queue, auth.sign_in_queue_per_address). Needs wrk and curl.
set -euo pipefail
ulimit -n 65536 2>/dev/null || true
export TESSERA__AUTH__MAX_FAILURES_PER_ADDRESS=100000000
export TESSERA__AUTH__MAX_FAILURES_PER_LOGIN=100000000
# shellcheck source=scripts/local_server.sh
source "$(dirname "$0")/../scripts/local_server.sh"
token="$(owner_token)"
curl -fs -o /dev/null -X POST "$base/v1/accounts/1/users" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d '{"login": "stormer", "password": "Str0ng-Pass!", "role": "Developer"}'
curl -fs -o /dev/null -X POST "$base/v1/accounts/1/users" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d '{"login": "bystander", "password": "Str0ng-Pass!", "role": "Developer"}'

p99() { awk '$1=="99%" {print $2}'; }
# The median, over three 5-second runs, of the p99 latency of 16 connections (wrk), in ms.
p99_of() {
  local runs=()
  for _ in 1 2 3; do
    runs+=("$(wrk -t1 -c16 -d5s --latency "$@" | p99 | awk '/us$/ {sub("us",""); print $1/1000; next}
      /ms$/ {sub("ms",""); print $1; next} /s$/ {sub("s",""); print $1*1000}')")
  done
  printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p
}
probe() {
  local label="$1"
  local h r
  h="$(p99_of "$base/healthz")"
  r="$(p99_of -H "Authorization: Bearer $token" "$base/v1/accounts/1/users/2")"
  printf '%-16s GET /healthz p99 %7.2f ms   authenticated read p99 %7.2f ms\n' "$label" "$h" "$r"
}
legit() {
  local times=()
  for _ in $(seq 10); do
    times+=("$(curl -s -o /dev/null -w '%{time_total} %{http_code}' --interface 127.0.0.2 \
      -H 'Content-Type: application/json' -X POST "$base/v1/sessions" \
      -d '{"account_id": 1, "login": "bystander", "password": "Str0ng-Pass!"}')")
    sleep 0.3
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{t[NR]=$1; c[$2]++} END {
    printf "legitimate sign-ins from 127.0.0.2: median %.3f s, max %.3f s, statuses", t[int((NR+1)/2)], t[NR];
    for (k in c) printf " %s×%d", k, c[k]; printf "\n" }'
}

echo "server $base ($(nproc) cores)"
probe "before the storm"
legit
cat > "$tmp/storm.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"account_id": 1, "login": "stormer", "password": "Str0ng-Pass!"}'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok, busy, other = 0, 0, 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 503 then busy = busy + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do a = a + t:get("ok"); b = b + t:get("busy"); c = c + t:get("other") end
  io.write(string.format("storm status 200: %d, 503: %d, other: %d\n", a, b, c))
end
LUA
wrk -t2 -c1000 -d45s --timeout 30s -s "$tmp/storm.lua" "$base/v1/sessions" > "$tmp/storm.out" 2>&1 &
storm=$!
sleep 3
probe "during the storm"
legit
wait "$storm"
grep -E "Requests/sec|storm status|Socket errors" "$tmp/storm.out" | sed 's/^/storm: /'
peak="$(awk '/VmHWM/ {print $2}' "/proc/$server/status")"
echo "server peak RSS (VmHWM): $((peak / 1024)) MiB"
