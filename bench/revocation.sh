#!/usr/bin/env bash
# Revocation across two instances sharing one database: deletes an access key through one and
# measures when the other refuses it (bench/revocation.py; TRIALS, default 200).
#
#   cargo build --release
#   bench/revocation.sh                                              # SQLite, two instances on one file
#   TESSERA__DATABASE__URL=postgres://postgres@127.0.0.1:5432/revocation bench/revocation.sh   # an empty database
#
# On Postgres the second instance hears the change by LISTEN/NOTIFY; on SQLite it polls the
# authorization versions every 250 ms.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${TESSERA_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/tessera}"
tmp="$(mktemp -d)"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Every trial ends in refused requests from this address: raise the failure limits out of the way.
export TESSERA__AUTH__MAX_FAILURES_PER_ADDRESS=100000000
export TESSERA__AUTH__MAX_FAILURES_PER_LOGIN=100000000
if [[ -z "${TESSERA__DATABASE__URL:-}" ]]; then
  export TESSERA__DATABASE__URL="sqlite://$tmp/data/tessera.db"
fi
start() {
  local port="$1"
  TESSERA__DATA_DIR="$tmp/data" TESSERA__SERVER__BIND="127.0.0.1:$port" TESSERA__LOG__LEVEL=${LOG_LEVEL:-warn} \
    "$bin" &
  pids+=($!)
  for _ in $(seq 600); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && return 0
    sleep 0.2
  done
  echo "instance on $port did not become ready" >&2
  exit 1
}
a="$(free_port)"; start "$a"
b="$(free_port)"; start "$b"
python3 "$root/bench/revocation.py" "http://127.0.0.1:$a" "http://127.0.0.1:$b" \
  "$tmp/data/initial-credentials.json" "${TRIALS:-200}"
