#!/usr/bin/env bash
# SSO sign-in against the local OpenID Connect provider (panva's oidc-provider, tests/idp), on a
# fresh release server: N full sign-ins one after the other, each in a new browser, timing
#   /v1/sso/login   Tessera: the connector found, the sign-in stored, 302 to the IdP
#   IdP             the provider's redirects and login form (not Tessera; shown for scale)
#   callback        Tessera: the code exchanged at the IdP's token endpoint, the ID token
#                   verified (RS256, cached JWKS), the user found, the session created
#   whole flow      the three together
# The first sign-in is reported apart (cold: discovery and JWKS fetched), then the p50/p95/max
# of the others; then N sign-ins by CONCURRENCY browsers at once, for sign-ins/s.
#
#   cargo build --release -p tessera-server
#   (cd tests/idp && npm ci)
#   bench/sso_signin.sh                 # N=200 CONCURRENCY=8; CONCURRENCY=0 skips that run
#
# Needs curl, python3 (bench/sso_signin.py, standard library) and Node.js 20.12+. The server,
# the IdP (single-threaded Node) and the Python client share the machine's cores.
set -euo pipefail
n="${N:-200}"
concurrency="${CONCURRENCY:-8}"
here="$(cd "$(dirname "$0")" && pwd)"
idp_dir="$here/../tests/idp"
[ -d "$idp_dir/node_modules/oidc-provider" ] || { echo "run: (cd tests/idp && npm ci)" >&2; exit 1; }

export TESSERA__SSO__ALLOW_LOCAL_IDP=true   # plain http and a loopback issuer
# shellcheck source=scripts/local_server.sh
source "$here/../scripts/local_server.sh"
idp=""
trap 'kill "$server" ${idp:+"$idp"} 2>/dev/null; rm -rf "$tmp"' EXIT
token="$(owner_token)"
api() { # METHOD PATH [JSON]: the answer's result, exit on a non-2xx
  curl -fsS -X "$1" "$base$2" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    ${3:+-d "$3"}
}
domain="bench.example"
email="alice@$domain"
password="alice-bench-password"

# The connector first: its id is in the callback URL the IdP must register.
connector="$(api POST /v1/accounts/1/sso_connectors "{\"email_domain\": \"$domain\"}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["id"])')"
callback="$base/v1/sso/callback/$connector"
cat > "$tmp/idp.json" <<JSON
{
  "port": 0,
  "clients": [{"client_id": "tessera", "client_secret": "tessera-bench-secret",
               "redirect_uris": ["$callback"], "token_endpoint_auth_method": "client_secret_basic"}],
  "users": [{"login": "$email", "password": "$password", "sub": "alice", "email": "$email",
             "email_verified": true, "claims": {"name": "Alice Bench"}}]
}
JSON
(cd "$idp_dir" && exec node idp.mjs --config "$tmp/idp.json") > "$tmp/idp.out" 2> "$tmp/idp.log" &
idp=$!
issuer=""
for _ in $(seq 150); do
  issuer="$(sed -n 's/^ready //p' "$tmp/idp.out")"
  [ -n "$issuer" ] && break
  kill -0 "$idp" 2>/dev/null || { echo "the IdP exited:" >&2; cat "$tmp/idp.log" >&2; exit 1; }
  sleep 0.2
done
[ -n "$issuer" ] || { echo "the IdP did not start" >&2; exit 1; }

api PATCH "/v1/accounts/1/sso_connectors/$connector" "{\"idp\": {\"type\": \"oidc\",
  \"issuer\": \"$issuer\", \"client_id\": \"tessera\", \"client_secret\": \"tessera-bench-secret\",
  \"scopes\": [\"openid\", \"email\", \"profile\"]}}" > /dev/null
# A connector is enabled only once its domain is verified by a DNS TXT record. This bench
# measures sign-in, not verification: it marks the connector verified directly in the SQLite
# database (sso_connectors.verification_status, migrations/sqlite/…_initial) instead.
python3 - "$tmp/data/tessera.db" "$connector" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
with db:
    n = db.execute("UPDATE sso_connectors SET verification_status = 'verified' WHERE id = ?",
                   (sys.argv[2],)).rowcount
assert n == 1, f"connector {sys.argv[2]} not found"
PY
api PATCH "/v1/accounts/1/sso_connectors/$connector" '{"enabled": true}' > /dev/null
api POST /v1/accounts/1/users \
  "{\"login\": \"alice01\", \"email\": \"$email\", \"roles\": [\"Developer\"]}" > /dev/null

echo "server $base, IdP $issuer ($(nproc) cores), $n sign-ins, each in a new browser"
python3 "$here/sso_signin.py" "$base" "$email" "$email" "$password" "$n" 1 > "$tmp/seq.json"
if [ "$concurrency" -gt 0 ]; then
  python3 "$here/sso_signin.py" "$base" "$email" "$email" "$password" "$n" "$concurrency" \
    > "$tmp/conc.json"
else
  echo '{}' > "$tmp/conc.json"
fi
python3 - "$tmp/seq.json" "$tmp/conc.json" "$tmp/idp.log" <<'PY'
import json, sys
seq, conc = (json.load(open(f)) for f in sys.argv[1:3])
steps = [("login", "Tessera GET /v1/sso/login"), ("idp", "IdP redirects + login form"),
         ("callback", "Tessera GET callback"), ("total", "whole flow")]
print(f"\nsequential ({seq['ok']} sign-ins after the first, {seq['errors']} refused {seq['refusals']})")
print(f"{'step':30} {'first (cold)':>13} {'p50':>8} {'p95':>8} {'max':>8}   ms")
for key, label in steps:
    s = seq[key]
    print(f"{label:30} {seq['first'][key]:13.1f} {s['p50']:8.1f} {s['p95']:8.1f} {s['max']:8.1f}")
print(f"sequential throughput: {seq['per_s']:.1f} sign-ins/s")
if conc:
    print(f"\n{conc['concurrency']} browsers at once: {conc['ok']} sign-ins in {conc['wall_s']:.1f} s,"
          f" {conc['per_s']:.1f} sign-ins/s, {conc['errors']} refused {conc['refusals']}")
    for key, label in steps:
        s = conc[key]
        print(f"  {label:28} p50 {s['p50']:7.1f}  p95 {s['p95']:7.1f}  max {s['max']:7.1f} ms")
log = open(sys.argv[3]).read().splitlines()
fetches = lambda path: sum(1 for line in log if line.startswith(f"GET {path} "))
print(f"\nTessera fetched from the IdP: discovery {fetches('/.well-known/openid-configuration')},"
      f" JWKS {fetches('/jwks')}; token endpoint calls {sum(1 for l in log if l.startswith('POST /token '))}")
# Concurrent refusals are reported above, not fatal: 502 5020 is the per-issuer call limit
# (4 IdP calls in progress per issuer, crates/server/src/idp/mod.rs), which 8 browsers exceed.
if seq["errors"]:
    print("refused:", seq["refusals"], file=sys.stderr)
    sys.exit(1)
PY
