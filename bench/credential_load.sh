#!/usr/bin/env bash
# wrk against one route, GET /v1/accounts/1/users/2, with each credential kind on a
# principal-cache hit: an access key, a session, a service-key JWT. ROUNDS rounds (default 3),
# the kinds interleaved within each round, each round starting with the next kind, so that a
# noisy neighbour (and the first run's warm-up) hurts them alike.
#
#   cargo build --release -p tessera-server
#   bench/credential_load.sh            # DURATION (default 10s), CONNECTIONS (default 64)
#
# Needs wrk, curl, python3 with `cryptography`. bench/credential_cost.sh counts instructions.
set -euo pipefail
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-64}"
rounds="${ROUNDS:-3}"
ulimit -n 65536 2>/dev/null || true
# shellcheck source=scripts/local_server.sh
source "$(dirname "$0")/../scripts/local_server.sh"

declare -A token
while read -r kind value; do token[$kind]="$value"; done < <(
  python3 "$root/bench/credential_cost.py" "$base" "$tmp/data/initial-credentials.json" --print-tokens)

echo "server $base ($(nproc) cores), wrk -t2 -c$connections -d$duration, $rounds rounds"
kinds=(access_key session service_key_jwt)
for round in $(seq "$rounds"); do
  for i in 0 1 2; do
    kind="${kinds[$(((round - 1 + i) % 3))]}"
    out="$(wrk -t2 -c"$connections" -d"$duration" --latency \
      -H "Authorization: Bearer ${token[$kind]}" "$base/v1/accounts/1/users/2")"
    printf 'round %s  %-16s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$round" "$kind" \
      "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
      "$(echo "$out" | awk '$1=="50%" {print $2}')" "$(echo "$out" | awk '$1=="99%" {print $2}')" \
      "$(echo "$out" | awk '/Non-2xx/ {print $NF}' | grep . || echo 0)"
  done
done
