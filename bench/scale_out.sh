#!/usr/bin/env bash
# Scale-out without a container engine: the topology of docker-compose.yml from local processes
# (a fresh Postgres database, INSTANCES release servers sharing it, nginx in front of them with
# deploy/nginx.conf pointing at their ports), and the checks that make it one service:
#
#   1. the client address: the instances believe the balancer's X-Forwarded-For, never the
#      client's (an access key limited to the client's address works from it, and is refused
#      from another address that claims it in its own X-Forwarded-For);
#   2. a change made through one instance reaches every instance: a deleted key, a deactivated
#      key, a narrowed and a widened role (ROUNDS times each, requests sent one after the other
#      until every instance gave the new answer twice). It fails when an instance gives the old
#      answer more than a second after the change (the bound of docs/authorization.md), or goes
#      back to it; how often the very next request still got the old answer is reported;
#   3. a lockout holds across instances: five wrong passwords lock the login, the right one is
#      then refused (429) by every instance, and an administrator's unlock lets it in everywhere;
#   4. a rolling restart under a bounded load (RATE authenticated GETs a second through the
#      balancer): each instance in turn gets SIGTERM, drains, stays down PAUSE seconds, starts
#      again and waits for /readyz; every request must still answer 2xx.
#
#   cargo build --release -p tessera-server
#   bench/scale_out.sh
#
# Needs curl, python3 and Postgres at PG_URL (default postgres://postgres@127.0.0.1:5432, a
# role that may create databases); installs nginx from Debian's packages when it is missing.
# The database (DB, default tessera_scale_out_<pid>) is created and dropped. Tunables:
# INSTANCES (3), ROUNDS (50), RATE (200), PAUSE (3). Exits non-zero when a check fails.
set -euo pipefail
ulimit -n 65536 2>/dev/null || true
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
instances="${INSTANCES:-3}"
rounds="${ROUNDS:-50}"
rate="${RATE:-200}"
pause="${PAUSE:-3}"
pg_url="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
db="${DB:-tessera_scale_out_$$}"
bin="${TESSERA_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/tessera}"
# nginx connects to the instances from this address, the one they trust as their proxy (in
# docker-compose.yml the balancer has an address of its own too); clients use 127.0.0.1.
proxy_ip=127.0.0.10

[ -x "$bin" ] || { echo "no $bin: cargo build --release -p tessera-server" >&2; exit 1; }
nginx="$(command -v nginx || true)"
[ -n "$nginx" ] || { [ -x /usr/sbin/nginx ] && nginx=/usr/sbin/nginx; }
if [ -z "$nginx" ]; then
  echo "installing nginx (Debian's package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  nginx=/usr/sbin/nginx
fi

tmp="$(mktemp -d)"
declare -a pids ports
nginx_pid=
# shellcheck disable=SC2317  # run by the trap
cleanup() {
  local pid
  for pid in "${pids[@]}" "$nginx_pid"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  done
  for pid in "${pids[@]}" "$nginx_pid"; do
    if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
  done
  psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

psql "$pg_url/postgres" -qc "CREATE DATABASE \"$db\"" >/dev/null
export TESSERA__DATABASE__URL="$pg_url/$db"

# Instance i (1-based), as docker-compose.yml configures tessera-i: the shared database and
# data directory, and the balancer trusted as the proxy. The per-address failure limit is raised:
# the checks refuse many tokens from one address on purpose, and that limit is not what they
# measure (the per-login limit is).
start_instance() {
  local i="$1"
  TESSERA__SERVER__BIND="127.0.0.1:${ports[$i]}" TESSERA__DATA_DIR="$tmp/data" \
    TESSERA__SERVER__TRUST_FORWARDED_FOR=true TESSERA__SERVER__TRUSTED_PROXIES="$proxy_ip" \
    TESSERA__AUTH__MAX_FAILURES_PER_ADDRESS=1000000 TESSERA__LOG__LEVEL="${LOG_LEVEL:-warn}" \
    "$bin" serve >>"$tmp/tessera-$i.log" 2>&1 &
  pids[i]=$!
}

wait_ready() {
  local i="$1"
  for _ in $(seq 300); do
    curl -fs -o /dev/null "http://127.0.0.1:${ports[$i]}/readyz" && return 0
    kill -0 "${pids[$i]}" 2>/dev/null || { echo "instance $i exited:" >&2; tail "$tmp/tessera-$i.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "instance $i did not become ready" >&2
  exit 1
}

for i in $(seq "$instances"); do
  ports[i]="$(free_port)"
done
# All at once, as compose starts them: one bootstraps the empty database, the others wait for
# its lock and find the account.
for i in $(seq "$instances"); do start_instance "$i"; done
for i in $(seq "$instances"); do wait_ready "$i"; done
creds="$tmp/data/initial-credentials.json"

# deploy/nginx.conf with the upstream's server lines pointing at the local ports (same
# parameters), listening on a local port, connecting from $proxy_ip, and naming the instance
# that answered in a response header (for the tables below).
lb_port="$(free_port)"
mkdir -p "$tmp/nginx"
python3 - "$root/deploy/nginx.conf" "$tmp/nginx/tessera.conf" "$lb_port" "$proxy_ip" \
  "${ports[@]:1}" <<'EOF'
import re, sys
src, dst, lb_port, proxy_ip, *ports = sys.argv[1:]
text = open(src).read()
servers = re.findall(r"^(\s*)server\s+tessera-\d+:\d+(.*);$", text, re.M)
if not servers:
    sys.exit("deploy/nginx.conf: no `server tessera-N:PORT` lines in its upstream")
indent, params = servers[0]
lines = "".join(f"{indent}server 127.0.0.1:{p}{params};\n" for p in ports)
text, n = re.subn(r"(?:^\s*server\s+tessera-\d+:\d+.*;\n)+", lines, text, count=1, flags=re.M)
text, m = re.subn(r"^(\s*)listen\s+\d+;", rf"\1listen 127.0.0.1:{lb_port};", text, flags=re.M)
text, k = re.subn(r"^(\s*)proxy_pass (.*);",
                  rf"\1proxy_pass \2;\n\1proxy_bind {proxy_ip};\n"
                  r"\1add_header X-Upstream $upstream_addr always;", text, flags=re.M)
if (n, m, k) != (1, 1, 1):
    sys.exit(f"deploy/nginx.conf: expected one upstream block, listen and proxy_pass ({n}, {m}, {k})")
open(dst, "w").write(text)
EOF
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  include $tmp/nginx/tessera.conf;
}
EOF
"$nginx" -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
"$nginx" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
nginx_pid=$!
lb="http://127.0.0.1:$lb_port"
for _ in $(seq 100); do curl -fs -o /dev/null "$lb/readyz" && break; sleep 0.1; done
curl -fs -o /dev/null "$lb/readyz" || { echo "nginx does not answer" >&2; cat "$tmp/nginx/error.log" >&2; exit 1; }

upstreams=()
for i in $(seq "$instances"); do upstreams+=("127.0.0.1:${ports[$i]}"); done
echo "Postgres $pg_url/$db; $instances instances (${upstreams[*]}) behind nginx $lb; $(nproc) cores"
echo

# Checks 1-3 (bench/scale_out.py): one line each in the table, status 1 when any failed.
status=0
python3 "$root/bench/scale_out.py" checks --base "$lb" --creds "$creds" --rounds "$rounds" \
  --upstreams "${upstreams[@]}" >"$tmp/checks.txt" || status=1

# Check 4: the load runs in the background until the stop file appears (or for at most 600 s).
token="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['access_key']['token'])" "$creds")"
python3 "$root/bench/scale_out.py" load --base "$lb" --token "$token" --rate "$rate" \
  --stop "$tmp/stop" --out "$tmp/load.json" &
load_pid=$!
sleep "$pause"
restarts=""
for i in $(seq "$instances"); do
  started=$(date +%s.%N)
  kill -TERM "${pids[$i]}"
  wait "${pids[$i]}" || true
  stopped=$(date +%s.%N)
  sleep "$pause"
  start_instance "$i"
  wait_ready "$i"
  ready=$(date +%s.%N)
  restarts+="$(awk -v i="$i" -v a="$started" -v b="$stopped" -v c="$ready" -v p="$pause" \
    'BEGIN { printf "instance %s: SIGTERM to exit %.1f s, start to ready %.1f s; ", i, b - a, c - b - p }')"
  sleep "$pause"
done
touch "$tmp/stop"
wait "$load_pid"

python3 "$root/bench/scale_out.py" report --checks "$tmp/checks.txt" --load "$tmp/load.json" \
  --upstreams "${upstreams[@]}" || status=1
echo
echo "${restarts%; }"
if [ "$status" -ne 0 ]; then
  echo
  echo "nginx error log (last lines):"
  tail -n 20 "$tmp/nginx/error.log" || true
fi
exit "$status"
