# Sourced by the bench and script shell files: starts a throwaway release server with a fresh
# SQLite data directory (or TESSERA__DATABASE__URL, when set) on a random port, waits until it is
# ready, and stops it and removes its files on exit (TESSERA_BIN names another binary). Sets:
#   root    the repository          tmp     the temporary directory (data in $tmp/data)
#   port    the port                base    http://127.0.0.1:$port
#   server  the server's pid
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"

TESSERA__DATA_DIR="$tmp/data" TESSERA__SERVER__BIND="127.0.0.1:$port" TESSERA__LOG__LEVEL=warn \
  "${TESSERA_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/tessera}" &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 150); do
  curl -fs "$base/readyz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "tessera exited early" >&2; exit 1; }
  sleep 0.2
done
curl -fs "$base/readyz" >/dev/null || { echo "tessera did not become ready" >&2; exit 1; }

# The bootstrap owner's access-key token, for `Authorization: Bearer`.
owner_token() {
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['access_key']['token'])" \
    "$tmp/data/initial-credentials.json"
}
