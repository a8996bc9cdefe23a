#!/usr/bin/env bash
# Data at scale: does a request cost more when the database holds 10,000 accounts × 100 users
# (and one account of 1,000,000 users) than when it holds three accounts? (bench/paging.sh
# measures pages as one account grows, cursor against offset; this one, the same requests as
# the number of accounts grows. Results: docs/benchmarks.md, "Data at scale".)
#
#   cargo build --release -p tessera-server
#   bench/scale_data.sh                                                    # SQLite
#   psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE scale'              # an empty database, then
#   TESSERA__DATABASE__URL=postgres://postgres@127.0.0.1:5432/scale bench/scale_data.sh
#
# Needs wrk, curl, python3 (standard library only), and the sqlite3 CLI or psql. On Postgres it
# also creates the database `<name>_small` beside the given one (a copy, see 4.) and drops it at
# exit; the given database is left seeded. 15–20 minutes per backend on 2 cores.
# SCALE_KEEP=DIR keeps both databases for a look afterwards (SQLite: DIR/small and DIR/large;
# Postgres: `<name>_small` is not dropped).
#
#   1. A release server starts on an empty database: it migrates and bootstraps account 1.
#   2. Through the API: two child accounts of account 1, "hundred" and "million" (their
#      owners' access keys are the bench's credentials), and in each a user `template`
#      (Developer, a known password), a resource group covering the account, a user group
#      `readers` whose policy allows Audit API read on it, and `template` as its member.
#   3. The server stops; SQL seeds copies of the rows the API wrote (the same argon2id hash,
#      roles, membership, `user.create` audit event and timestamps), so that seeded rows are
#      what the API writes: "hundred" grows to 100 users and "million" to 1,000,000; each
#      account's `user_count` is set as the store keeps it. ANALYZE.
#   4. That database is copied: the copy is the *small* database (3 accounts).
#   5. The original grows to the *large* one: 10,000 more accounts (100 top-level accounts with
#      99 children each, a shape the API's limits allow) of 100 users each — `admin` with the
#      roles of hundred's owner and user1 … user99 copied from hundred's `template`; the users'
#      ids interleaved across accounts, as accounts that grow side by side get them — each
#      account with its resource group, user group, policy, members and the users' audit
#      events. ANALYZE.
#   6. Two servers start, one on each database. Through each, a seeded user is read, signs in
#      and is the subject of a policy decision (allowed by the policy); then the requests below
#      are measured on both, interleaved (small, large, large, small, …), ROUNDS times (default
#      5), for "hundred" and "million" (the same accounts, ids and keys in both databases), and
#      in the large database also for one of the seeded accounts (through a session of its
#      `admin`, which signs in with the seeded password).
#
# One measurement is wrk -t2 -c$CONNECTIONS (default 2): a 1-second warm-up, then DURATION
# (default 3s; LOGIN_DURATION, default 8s, for sign-ins); every answer must be a 2xx. The table
# shows, for each request, the median over the rounds of wrk's p50 and of its p99, in ms.
#   get user     GET  /v1/accounts/{id}/users/{user_id} (a user in the middle of the account)
#   first page   GET  /v1/accounts/{id}/users?per_page=20
#   deep page    GET  /v1/accounts/{id}/users?per_page=20&cursor=… (the last 20 users)
#   authorize    POST /v1/accounts/{id}/iam/authorize (that user, audit_api read: the policy)
#   login        POST /v1/sessions (one argon2id verification each; wrk -t$CONNECTIONS, each
#                thread signing in as its own user: user50, user51, …)
set -euo pipefail
db_url="${TESSERA__DATABASE__URL:-}"
duration="${DURATION:-3s}"
login_duration="${LOGIN_DURATION:-8s}"
connections="${CONNECTIONS:-2}"
rounds="${ROUNDS:-5}"
accounts_large="${SCALE_ACCOUNTS:-10000}"   # a multiple of 100
per_page=20
password='Scale-Bench-1'
if [[ -n "$db_url" ]]; then
  backend=postgres
  [[ "$(psql -tAq "$db_url" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" == 0 ]] ||
    { echo "$db_url is not empty" >&2; exit 1; }
  db_name="${db_url##*/}"
  small_db="${db_name}_small"
  small_url="${db_url%/*}/$small_db"
  admin_url="${db_url%/*}/postgres"
else
  backend=sqlite
fi

# shellcheck source=scripts/local_server.sh
source "$(dirname "$0")/../scripts/local_server.sh"
root_token="$(owner_token)"
bin="${TESSERA_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/tessera}"
port_small="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base_small="http://127.0.0.1:$port_small"
server_small=""
cleanup() {
  kill "$server" 2>/dev/null || true
  if [[ -n "$server_small" ]]; then kill "$server_small" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  if [[ -n "${SCALE_KEEP:-}" ]]; then
    mkdir -p "$SCALE_KEEP"
    [[ -d "$tmp/data" ]] && mv "$tmp/data" "$SCALE_KEEP/large"
    [[ -d "$tmp/data-small" ]] && mv "$tmp/data-small" "$SCALE_KEEP/small"
  fi
  rm -rf "$tmp"
  if [[ -n "$db_url" && -z "${SCALE_KEEP:-}" ]]; then
    psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $small_db" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# serve DATA_DIR PORT [DATABASE_URL] — starts a server in the background, waits until ready;
# its pid in $started. The sign-ins come from one address, CONNECTIONS at a time, but a wrk run
# that ends leaves its last sign-ins hashing for a while, and the next run's could find the
# address's share of the sign-in queue (2) still taken: the share is raised, since what is
# measured is the sign-in, not the gate.
export TESSERA__AUTH__SIGN_IN_QUEUE_PER_ADDRESS="${TESSERA__AUTH__SIGN_IN_QUEUE_PER_ADDRESS:-8}"
serve() {
  local url="${3:-}"
  if [[ -n "$url" ]]; then
    TESSERA__DATABASE__URL="$url" TESSERA__DATA_DIR="$1" TESSERA__SERVER__BIND="127.0.0.1:$2" \
      TESSERA__LOG__LEVEL=warn "$bin" &
  else
    env -u TESSERA__DATABASE__URL TESSERA__DATA_DIR="$1" TESSERA__SERVER__BIND="127.0.0.1:$2" \
      TESSERA__LOG__LEVEL=warn "$bin" &
  fi
  started=$!
  for _ in $(seq 300); do
    curl -fs "http://127.0.0.1:$2/readyz" >/dev/null && return 0
    kill -0 "$started" 2>/dev/null || { echo "tessera exited early" >&2; exit 1; }
    sleep 0.2
  done
  echo "tessera did not become ready" >&2
  exit 1
}

# SQL on stdin, against the (large) database; prints what a query answers, one row a line.
sql() {
  if [[ -n "$db_url" ]]; then
    psql -q -tA -v ON_ERROR_STOP=1 "$db_url"
  else
    sqlite3 -bail "$tmp/data/tessera.db"
  fi
}
# `series FROM TO [NAME]`: the integers FROM … TO as a table NAME (default g) of one column n.
series() {
  if [[ -n "$db_url" ]]; then
    echo "generate_series($1, $2) AS ${3:-g}(n)"
  else
    echo "(WITH RECURSIVE s(n) AS (SELECT $1 UNION ALL SELECT n + 1 FROM s WHERE n < $2) SELECT n FROM s) AS ${3:-g}"
  fi
}
# A 32-hex id: the letter $1, then $2 (an SQL integer expression) in 31 hex digits.
hex_id() {
  if [[ -n "$db_url" ]]; then
    echo "('$1' || lpad(to_hex($2), 31, '0'))"
  else
    echo "printf('$1%031x', $2)"
  fi
}

# api METHOD URL TOKEN [BODY] — prints the answer's JSON; fails on an error status.
api() {
  local args=(-fsS -X "$1" "$2")
  [[ -n "$3" ]] && args+=(-H "Authorization: Bearer $3")
  [[ $# -ge 4 ]] && args+=(-H 'Content-Type: application/json' -d "$4")
  curl "${args[@]}"
}
# json EXPR — reads JSON on stdin and prints the Python expression EXPR of it (`j`).
json() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

# --- 2. Through the API ------------------------------------------------------------------
declare -A acct owner_token template_user group_id rg_id policy_id
audit_pg="$(api GET "$base/v1/accounts/1/iam/permission_groups?name=Audit%20API%20Read" "$root_token" |
  json 'j["result"][0]["id"]')"
for name in hundred million; do
  created="$(api POST "$base/v1/accounts" "$root_token" "{\"name\": \"$name\", \"email\": \"$name@example.com\"}")"
  acct[$name]="$(json 'j["result"]["account_id"]' <<<"$created")"
  owner_token[$name]="$(json 'j["result"]["access_key"]["token"]' <<<"$created")"
  a="${acct[$name]}"
  t="${owner_token[$name]}"
  template_user[$name]="$(api POST "$base/v1/accounts/$a/users" "$t" \
    "{\"login\": \"template\", \"password\": \"$password\", \"email\": \"template@example.com\", \"role\": \"Developer\"}" |
    json 'j["result"]["id"]')"
  rg_id[$name]="$(api POST "$base/v1/accounts/$a/iam/resource_groups" "$t" \
    "{\"name\": \"everything\", \"scope\": {\"key\": \"com.tessera.api.account.$a\", \"objects\": [{\"key\": \"*\"}]}}" |
    json 'j["result"]["id"]')"
  group="$(api POST "$base/v1/accounts/$a/iam/user_groups" "$t" \
    "{\"name\": \"readers\", \"policies\": [{\"access\": \"allow\", \"permission_groups\": [{\"id\": \"$audit_pg\"}], \"resource_groups\": [{\"id\": \"${rg_id[$name]}\"}]}]}")"
  group_id[$name]="$(json 'j["result"]["id"]' <<<"$group")"
  policy_id[$name]="$(json 'j["result"]["policies"][0]["id"]' <<<"$group")"
  api POST "$base/v1/accounts/$a/iam/user_groups/${group_id[$name]}/members" "$t" \
    "[{\"id\": ${template_user[$name]}}]" >/dev/null
done
kill "$server"
wait "$server" 2>/dev/null || true
hundred_owner="$(sql <<<"SELECT id FROM users WHERE account_id = ${acct[hundred]} AND login = 'admin';")"

# --- 3.–5. Seeding -----------------------------------------------------------------------
# SQL adding users user1 … user$2 to account $1 as copies of its user $4 (`template`: password
# hash, status, timestamps, roles, group membership, the audit event of its creation), with
# ids $3 + 1 … $3 + $2.
seed_account_users() {
  local a="$1" count="$2" base="$3" tu="$4" g
  g="$(series 1 "$count")"
  cat <<EOF
INSERT INTO users (id, account_id, login, email, status, password_hash, created_at, updated_at)
  SELECT $base + n, $a, 'user' || n, 'user' || n || '@example.com', t.status, t.password_hash,
         t.created_at, t.updated_at
  FROM users t, $g WHERE t.id = $tu;
INSERT INTO user_roles (user_id, role_id)
  SELECT $base + n, r.role_id FROM user_roles r, $g WHERE r.user_id = $tu;
INSERT INTO user_group_members (user_group_id, user_id, status, created_at)
  SELECT m.user_group_id, $base + n, m.status, m.created_at FROM user_group_members m, $g
  WHERE m.user_id = $tu;
INSERT INTO audit_events (account_id, at, actor_kind, actor_id, action, target, outcome,
                          client_ip, request_id, details)
  SELECT e.account_id, e.at, e.actor_kind, e.actor_id, e.action, 'user:' || ($base + n),
         e.outcome, e.client_ip, e.request_id,
         replace(e.details, '"template"', '"user' || n || '"')
  FROM audit_events e, $g WHERE e.action = 'user.create' AND e.target = 'user:$tu';
UPDATE accounts SET user_count = (SELECT count(*) FROM users WHERE account_id = $a) WHERE id = $a;
EOF
}
# SQL adding accounts $1 + 1 … $1 + $2 (copies of "hundred"), one in 100 top-level and the
# others their children, 99 each, with 100 users each: `admin` (the roles of hundred's owner)
# and user1 … user99 (copies of hundred's `template`); user i of account $1 + k has the id
# $3 + i × $2 + k. Each account gets a copy of hundred's resource group, user group and policy,
# all its users as members, and their audit events.
seed_accounts() {
  local ab="$1" n="$2" ub="$3" ga gu ug rg pol
  local h="${acct[hundred]}" tu="${template_user[hundred]}" ho="$hundred_owner"
  local tops=$(( n / 100 ))
  local uid="$ub + u.n * $n + g.n"
  local login="CASE WHEN u.n = 0 THEN 'admin' ELSE 'user' || u.n END"
  ga="$(series 1 "$n")"
  gu="$(series 0 99 u)"
  ug="$(hex_id a "$ab + g.n")"
  rg="$(hex_id b "$ab + g.n")"
  pol="$(hex_id c "$ab + g.n")"
  cat <<EOF
INSERT INTO accounts (id, name, email, parent_id, active, created_at, user_count)
  SELECT $ab + n, 'scale ' || n, 'scale' || n || '@example.com',
         CASE WHEN n <= $tops THEN NULL ELSE $ab + (n - $tops - 1) / 99 + 1 END,
         t.active, t.created_at, 100
  FROM accounts t, $ga WHERE t.id = $h;
INSERT INTO users (id, account_id, login, email, status, password_hash, created_at, updated_at)
  SELECT $uid, $ab + g.n, $login, $login || '@scale' || g.n || '.example.com',
         t.status, t.password_hash, t.created_at, t.updated_at
  FROM users t, $gu, $ga WHERE t.id = $tu;
INSERT INTO user_roles (user_id, role_id)
  SELECT $uid, r.role_id FROM user_roles r, $gu, $ga
  WHERE (u.n = 0 AND r.user_id = $ho) OR (u.n > 0 AND r.user_id = $tu);
INSERT INTO resource_groups (id, account_id, name, meta, scope, created_at, updated_at)
  SELECT $rg, $ab + g.n, t.name, t.meta,
         replace(t.scope, 'com.tessera.api.account.$h"', 'com.tessera.api.account.' || ($ab + g.n) || '"'),
         t.created_at, t.updated_at
  FROM resource_groups t, $ga WHERE t.id = '${rg_id[hundred]}';
INSERT INTO user_groups (id, account_id, name, created_on, modified_on)
  SELECT $ug, $ab + g.n, t.name, t.created_on, t.modified_on
  FROM user_groups t, $ga WHERE t.id = '${group_id[hundred]}';
INSERT INTO policies (id, user_group_id, access, position)
  SELECT $pol, $ug, t.access, t.position FROM policies t, $ga WHERE t.id = '${policy_id[hundred]}';
INSERT INTO policy_permission_groups (policy_id, permission_group_id)
  SELECT $pol, t.permission_group_id FROM policy_permission_groups t, $ga
  WHERE t.policy_id = '${policy_id[hundred]}';
INSERT INTO policy_resource_groups (policy_id, resource_group_id)
  SELECT $pol, $rg FROM $ga;
INSERT INTO user_group_members (user_group_id, user_id, status, created_at)
  SELECT $ug, $uid, m.status, m.created_at FROM user_group_members m, $gu, $ga
  WHERE m.user_id = $tu;
INSERT INTO audit_events (account_id, at, actor_kind, actor_id, action, target, outcome,
                          client_ip, request_id, details)
  SELECT $ab + g.n, e.at, e.actor_kind, e.actor_id, e.action, 'user:' || ($uid),
         e.outcome, e.client_ip, e.request_id, replace(e.details, '"template"', '"' || $login || '"')
  FROM audit_events e, $gu, $ga WHERE e.action = 'user.create' AND e.target = 'user:$tu';
EOF
}
# Runs seeding SQL (stdin) in one transaction, then ANALYZE.
run_seed() {
  {
    if [[ -n "$db_url" ]]; then
      echo "BEGIN;"
      cat
      echo "SELECT setval('accounts_id_seq', (SELECT max(id) FROM accounts));"
      echo "SELECT setval('users_id_seq', (SELECT max(id) FROM users));"
      echo "COMMIT; ANALYZE;"
    else
      # The store's connections enforce foreign keys; so does the seeding.
      echo "PRAGMA foreign_keys = ON; PRAGMA cache_size = -1000000; BEGIN;"
      cat
      echo "COMMIT; ANALYZE;"
    fi
  } | sql >/dev/null
}
max_id() { sql <<<"SELECT max(id) FROM $1;"; }
counts() {
  sql <<<"SELECT (SELECT count(*) FROM accounts) || ' accounts, ' || (SELECT count(*) FROM users)
    || ' users, ' || (SELECT count(*) FROM user_group_members) || ' group members, '
    || (SELECT count(*) FROM audit_events) || ' audit events';"
}

echo "backend: $backend ($(nproc) cores)"
start=$SECONDS
users_max="$(max_id users)"
seed_account_users "${acct[hundred]}" 98 "$users_max" "${template_user[hundred]}" | run_seed
users_max="$(max_id users)"
seed_account_users "${acct[million]}" 999998 "$users_max" "${template_user[million]}" | run_seed
echo "small database seeded in $(( SECONDS - start )) s: $(counts)"
if [[ -n "$db_url" ]]; then
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $small_db" -c "CREATE DATABASE $small_db TEMPLATE $db_name"
else
  cp -a "$tmp/data" "$tmp/data-small"
fi
start=$SECONDS
accounts_max="$(max_id accounts)"
users_max="$(max_id users)"
seed_accounts "$accounts_max" "$accounts_large" "$users_max" | run_seed
echo "large database seeded in $(( SECONDS - start )) s: $(counts)"
seeded=$(( accounts_max + accounts_large / 2 ))

# --- 6. Checking and measuring ---------------------------------------------------------------
serve "$tmp/data" "$port" "$db_url"
server=$started
serve "$tmp/data-small" "$port_small" "${small_url:-}"
server_small=$started
declare -A url_of=([small]="$base_small" [large]="$base")
seeded_token="$(api POST "$base/v1/sessions" "" \
  "{\"account_id\": $seeded, \"login\": \"admin\", \"password\": \"$password\"}" | json 'j["result"]["token"]')"
owner_token[seeded]="$seeded_token"
acct[seeded]="$seeded"
declare -A login_of=([hundred]=user50 [million]=user500000 [seeded]=user50)
b64() { python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.argv[1].encode()).decode().rstrip("="))' "$1"; }

# lua FILE METHOD TOKEN [BODY] — a wrk script sending one request.
lua() {
  {
    echo "wrk.method = \"$2\""
    [[ -n "$3" ]] && echo "wrk.headers[\"Authorization\"] = \"Bearer $3\""
    if [[ $# -ge 4 ]]; then
      echo 'wrk.headers["Content-Type"] = "application/json"'
      echo "wrk.body = [[$4]]"
    fi
  } >"$1"
}
# For each account: the path of each request and its wrk script.
declare -A path_of script_of
for name in hundred million seeded; do
  a="${acct[$name]}"
  t="${owner_token[$name]}"
  login="${login_of[$name]}"
  uid="$(sql <<<"SELECT id FROM users WHERE account_id = $a AND login = '$login';")"
  body="{\"principal\": {\"type\": \"user\", \"id\": $uid}, \"capability\": \"audit_api\", \"level\": \"read\"}"
  for size in small large; do
    [[ "$name" == seeded && "$size" == small ]] && continue
    u="${url_of[$size]}"
    total="$(api GET "$u/v1/accounts/$a/users?per_page=1" "$t" | json 'j["result_info"]["total_count"]')"
    seen="$(api GET "$u/v1/accounts/$a/users/$uid" "$t" |
      json '"%s %s, roles %s" % (j["result"]["login"], j["result"]["status"], j["result"]["roles"])')"
    api POST "$u/v1/sessions" "" "{\"account_id\": $a, \"login\": \"$login\", \"password\": \"$password\"}" |
      json 'j["result"]["token"][:4]' | grep -q tss_
    decided="$(api POST "$u/v1/accounts/$a/iam/authorize" "$t" "$body" |
      json '"allowed" if j["result"]["allowed"] else "refused"')"
    echo "$size database, $name (account $a, $total users): user $uid read ($seen), signed in, audit_api read $decided"
    [[ "$decided" == allowed ]] || { echo "the seeded user's policy did not apply" >&2; exit 1; }
  done
  deep="$(api GET "$base/v1/accounts/$a/users?per_page=1&direction=desc&page=$(( per_page + 1 ))" "$t" | json 'j["result"][0]["id"]')"
  path_of[$name get user]="/v1/accounts/$a/users/$uid"
  path_of[$name first page]="/v1/accounts/$a/users?per_page=$per_page"
  path_of[$name deep page]="/v1/accounts/$a/users?per_page=$per_page&cursor=$(b64 "$deep")"
  path_of[$name authorize]="/v1/accounts/$a/iam/authorize"
  path_of[$name login]="/v1/sessions"
  lua "$tmp/$name-get.lua" GET "$t"
  lua "$tmp/$name-authorize.lua" POST "$t" "$body"
  # Sign-ins: each wrk thread (one connection each) signs in as its own user, user50, user51, …
  # (two sign-ins of one login at once on Postgres sometimes answer 404; see docs/benchmarks.md).
  cat >"$tmp/$name-login.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread)
  thread:set("index", threads)
  threads = threads + 1
end
function init(args)
  req = wrk.format(nil, nil, nil, string.format(
    '{"account_id": $a, "login": "user%d", "password": "$password"}', ${login#user} + index))
end
function request() return req end
EOF
  for op in "get user" "first page" "deep page"; do script_of[$name $op]="$tmp/$name-get.lua"; done
  script_of[$name authorize]="$tmp/$name-authorize.lua"
  script_of[$name login]="$tmp/$name-login.lua"
done

threads=$(( connections < 2 ? connections : 2 ))
# In milliseconds, from wrk's 512.00us / 1.20ms / 1.05s.
to_ms() { awk '/us$/ {sub("us",""); printf "%.3f", $1/1000; next} /ms$/ {sub("ms",""); printf "%.3f", $1; next}
  /s$/ {sub("s",""); printf "%.1f", $1*1000}'; }
declare -A p50s p99s requests
# measure SIZE NAME OP — one wrk run; appends its p50 and p99 to the lists of SIZE NAME OP.
measure() {
  local key="$1 $2 $3" dur="$duration" out
  local t="$threads"
  if [[ "$3" == login ]]; then dur="$login_duration"; t="$connections"; fi
  local url="${url_of[$1]}${path_of[$2 $3]}" script="${script_of[$2 $3]}"
  wrk -t"$t" -c"$connections" -d1s --timeout 30s -s "$script" "$url" >/dev/null
  sleep 0.5   # what the warm-up left in flight
  out="$(wrk -t"$t" -c"$connections" -d"$dur" --timeout 30s --latency -s "$script" "$url")"
  if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
    printf '%s: not every answer was a 2xx\n%s\n' "$key" "$out" >&2
    exit 1
  fi
  local p50 p99 n
  p50="$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)"
  n="$(awk '/requests in/ {print $1}' <<<"$out")"
  p50s[$key]+="$p50 "
  p99s[$key]+="$p99 "
  requests[$key]=$(( ${requests[$key]:-0} + n ))
  printf '  %-26s p50 %9s ms   p99 %9s ms   %6s requests\n' "$key" "$p50" "$p99" "$n"
}
median() {
  tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {m = (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2;
    printf (m < 10 ? "%.3f" : m < 100 ? "%.1f" : "%.0f"), m}'
}

ops=("get user" "first page" "deep page" authorize login)
echo "measuring: wrk -t$threads -c$connections, $duration a read run, $login_duration a sign-in run, $rounds rounds"
for r in $(seq "$rounds"); do
  echo "round $r"
  if (( r % 2 )); then order=(small large); else order=(large small); fi
  for name in hundred million seeded; do
    for op in "${ops[@]}"; do
      for size in "${order[@]}"; do
        [[ "$name" == seeded && "$size" == small ]] && continue
        measure "$size" "$name" "$op"
      done
    done
  done
done

echo
echo "backend: $backend; ms, the median over $rounds rounds of wrk's p50 and of its p99 (wrk -t$threads -c$connections);"
echo "large/small: the median over the rounds of one round's large p50 ÷ its small p50"
# ratio "A1 A2 …" "B1 B2 …" — the median of B_i ÷ A_i.
ratio() {
  paste <(tr ' ' '\n' <<<"$1" | grep .) <(tr ' ' '\n' <<<"$2" | grep .) | awk '{print $2 / $1}' |
    sort -g | awk '{v[NR]=$1} END {printf "%.2f", (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
printf '%-10s %-8s %10s %10s %10s %10s %12s   %s\n' request account "small p50" "p99" "large p50" "p99" \
  "large/small" "requests small / large"
for name in hundred million seeded; do
  for op in "${ops[@]}"; do
    s50="-" s99="-" ns="-" q="-"
    if [[ -n "${p50s[small $name $op]:-}" ]]; then
      s50="$(median <<<"${p50s[small $name $op]}")"
      s99="$(median <<<"${p99s[small $name $op]}")"
      ns="${requests[small $name $op]}"
      q="$(ratio "${p50s[small $name $op]}" "${p50s[large $name $op]}")"
    fi
    printf '%-10s %-8s %10s %10s %10s %10s %12s   %s / %s\n' "$op" "$name" "$s50" "$s99" \
      "$(median <<<"${p50s[large $name $op]}")" "$(median <<<"${p99s[large $name $op]}")" "$q" \
      "$ns" "${requests[large $name $op]}"
  done
done

# The plans of the queries behind these requests, in the large database (the SQL is what the
# store's diesel queries send, with the values inlined).
echo
echo "query plans in the large database ($backend):"
for name in million seeded; do
  a="${acct[$name]}"
  uid="$(sql <<<"SELECT id FROM users WHERE account_id = $a AND login = '${login_of[$name]}';")"
  queries=(
    "SELECT user_count FROM accounts WHERE id = $a"
    "SELECT * FROM users WHERE id = $uid AND account_id = $a LIMIT 1"
    "SELECT role_id FROM user_roles WHERE user_id = $uid ORDER BY role_id"
    "SELECT * FROM users WHERE account_id = $a ORDER BY id LIMIT 20 OFFSET 0"
    "SELECT * FROM users WHERE account_id = $a AND id > $uid ORDER BY id LIMIT 20"
    "SELECT user_id, role_id FROM user_roles WHERE user_id IN ($uid, $(( uid + 1 ))) ORDER BY user_id, role_id"
    "SELECT user_groups.id FROM user_group_members INNER JOIN user_groups ON user_groups.id = user_group_members.user_group_id WHERE user_group_members.user_id = $uid AND user_group_members.status = 'accepted' AND user_groups.account_id = $a"
    "SELECT * FROM users WHERE account_id = $a AND login = '${login_of[$name]}' LIMIT 1"
  )
  for q in "${queries[@]}"; do
    echo "  $name: $q"
    if [[ -n "$db_url" ]]; then
      sql <<<"EXPLAIN (COSTS OFF) $q;" | sed 's/^/      /'
    else
      sql <<<"EXPLAIN QUERY PLAN $q;" | sed 's/^/      /'
    fi
  done
done
