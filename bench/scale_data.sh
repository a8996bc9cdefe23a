#!/usr/bin/env bash
# Data at scale: does a request cost more when the database holds 10,000 accounts × 100 users
# (plus one account of 1,000,000 users) than when it holds a few accounts?
#
#   cargo build --release -p tessera-server
#   bench/scale_data.sh                                                              # SQLite
#   createdb -h 127.0.0.1 -U postgres scale          # an empty database, then:
#   TESSERA__DATABASE__URL=postgres://postgres@127.0.0.1:5432/scale bench/scale_data.sh
#
# Needs wrk, curl, python3 (standard library only) and the sqlite3 CLI or psql. Takes about
# 10 minutes per backend on 2 cores, most of it seeding and the sign-ins.
#
# What it does:
#   1. starts a release server on an empty database (it migrates and bootstraps account 1);
#   2. through the API: two child accounts of account 1, "hundred" and "million" (their owners'
#      access keys are the bench's credentials), and in each a user `template` (Developer, a
#      known password), a resource group covering the account, a user group `readers` whose
#      policy allows Audit API read on it, and `template` as its member;
#   3. stops the server and seeds with SQL, copying the API-made rows (same password hash,
#      roles, membership, `user.create` audit event, timestamps) so that seeded rows are exactly
#      what the API writes: "hundred" to 100 users, "million" to 1,000,000 users; the accounts'
#      `user_count` is set as the store keeps it; ANALYZE;
#   4. restarts, checks a seeded user through the API (read, sign-in, a policy decision), and
#      measures — the "small" database: 3 accounts;
#   5. stops, seeds 10,000 more accounts (100 top-level accounts with 99 children each, the
#      shape the API's limits allow) of 100 users each: an `admin` with the owner's roles and 99
#      Developers, each account with its resource group, user group, policy and members, and the
#      users' audit events; users are interleaved across accounts (as accounts that grow side by
#      side would be); restarts, checks, and measures again — the "large" database, for the
#      same two accounts and for one of the seeded accounts (signed in as its `admin`).
#
# Each measurement is wrk with CONNECTIONS (default 2) connections on 2 threads: a 2-second
# warm-up, then DURATION (default 5s; LOGIN_DURATION, default 10s, for sign-ins) recorded; p50
# and p99 as wrk reports them, and the number of requests. Every answer must be a 2xx.
#   get user     GET  /v1/accounts/{id}/users/{user_id} (a user in the middle of the account)
#   first page   GET  /v1/accounts/{id}/users?per_page=20
#   deep page    GET  /v1/accounts/{id}/users?per_page=20&cursor=… (the last 20 users)
#   authorize    POST /v1/accounts/{id}/iam/authorize (that user, audit_api read: the policy)
#   login        POST /v1/sessions (that user; one argon2id verification each)
# Reads use the account owner's access key (a session for the seeded account).
set -euo pipefail
db_url="${TESSERA__DATABASE__URL:-}"
duration="${DURATION:-5s}"
login_duration="${LOGIN_DURATION:-10s}"
connections="${CONNECTIONS:-2}"
per_page=20
password='Scale-Bench-1'
accounts_large="${SCALE_ACCOUNTS:-10000}"   # must be a multiple of 100
if [[ -n "$db_url" ]]; then
  backend=postgres
  [[ "$(psql -tAq "$db_url" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" == 0 ]] ||
    { echo "$db_url is not empty" >&2; exit 1; }
else
  backend=sqlite
fi

# shellcheck source=scripts/local_server.sh
source "$(dirname "$0")/../scripts/local_server.sh"
root_token="$(owner_token)"

start_server() {
  TESSERA__DATA_DIR="$tmp/data" TESSERA__SERVER__BIND="127.0.0.1:$port" TESSERA__LOG__LEVEL=warn \
    "${TESSERA_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/tessera}" &
  server=$!
  for _ in $(seq 300); do
    curl -fs "$base/readyz" >/dev/null && return 0
    kill -0 "$server" 2>/dev/null || { echo "tessera exited early" >&2; exit 1; }
    sleep 0.2
  done
  echo "tessera did not become ready" >&2
  exit 1
}
stop_server() {
  kill "$server"
  wait "$server" 2>/dev/null || true
}

# SQL on stdin, against the server's database; prints what a query answers (one row a line,
# columns separated by |).
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

# api METHOD PATH TOKEN [BODY] — prints the answer's JSON; fails on an error status.
api() {
  local args=(-fsS -X "$1" "$base$2")
  [[ -n "$3" ]] && args+=(-H "Authorization: Bearer $3")
  [[ $# -ge 4 ]] && args+=(-H 'Content-Type: application/json' -d "$4")
  curl "${args[@]}"
}
# json EXPR — reads JSON on stdin and prints the Python expression EXPR of it (`j`).
json() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

# --- 2. Through the API ------------------------------------------------------------------
declare -A acct owner_token template_user group_id rg_id policy_id
audit_pg="$(api GET "/v1/accounts/1/iam/permission_groups?name=Audit%20API%20Read" "$root_token" |
  json 'j["result"][0]["id"]')"
for name in hundred million; do
  created="$(api POST /v1/accounts "$root_token" "{\"name\": \"$name\", \"email\": \"$name@example.com\"}")"
  acct[$name]="$(json 'j["result"]["account_id"]' <<<"$created")"
  owner_token[$name]="$(json 'j["result"]["access_key"]["token"]' <<<"$created")"
  a="${acct[$name]}"
  t="${owner_token[$name]}"
  template_user[$name]="$(api POST "/v1/accounts/$a/users" "$t" \
    "{\"login\": \"template\", \"password\": \"$password\", \"email\": \"template@example.com\", \"role\": \"Developer\"}" |
    json 'j["result"]["id"]')"
  rg_id[$name]="$(api POST "/v1/accounts/$a/iam/resource_groups" "$t" \
    "{\"name\": \"everything\", \"scope\": {\"key\": \"com.tessera.api.account.$a\", \"objects\": [{\"key\": \"*\"}]}}" |
    json 'j["result"]["id"]')"
  group="$(api POST "/v1/accounts/$a/iam/user_groups" "$t" \
    "{\"name\": \"readers\", \"policies\": [{\"access\": \"allow\", \"permission_groups\": [{\"id\": \"$audit_pg\"}], \"resource_groups\": [{\"id\": \"${rg_id[$name]}\"}]}]}")"
  group_id[$name]="$(json 'j["result"]["id"]' <<<"$group")"
  policy_id[$name]="$(json 'j["result"]["policies"][0]["id"]' <<<"$group")"
  api POST "/v1/accounts/$a/iam/user_groups/${group_id[$name]}/members" "$t" \
    "[{\"id\": ${template_user[$name]}}]" >/dev/null
done
hundred_owner="$(sql <<<"SELECT id FROM users WHERE account_id = ${acct[hundred]} AND login = 'admin';")"

# --- 3. Seeding ----------------------------------------------------------------------------
# Users user1 … user$2 in account $1, copies of its `template` user (password hash, status,
# timestamps, roles, group membership, the audit event of its creation), ids from $3 + 1.
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
# Accounts $1+1 … $1+$2 (copies of "hundred": timestamps, flags), 1 in 100 top-level and the
# others its children, each with 100 users: `admin` (the roles of hundred's owner) and
# user1 … user99 (copies of hundred's `template`), ids interleaved from $3 + 1 (user i of
# account k is $3 + i × $2 + k), a resource group, a user group with its policy, all users its
# members, and the users' audit events.
seed_accounts() {
  local ab="$1" n="$2" ub="$3" ga gu
  local h="${acct[hundred]}" tu="${template_user[hundred]}" ho="$hundred_owner"
  local tops=$(( n / 100 ))
  ga="$(series 1 "$n")"
  gu="$(series 0 99 u)"
  local uid="$ub + u.n * $n + g.n" ug rg pol
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
  SELECT $uid, $ab + g.n,
         CASE WHEN u.n = 0 THEN 'admin' ELSE 'user' || u.n END,
         CASE WHEN u.n = 0 THEN 'admin' ELSE 'user' || u.n END || '@scale' || g.n || '.example.com',
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
  SELECT $ab + g.n, e.at, 'user', CAST($ub + g.n AS TEXT), e.action, 'user:' || ($uid),
         e.outcome, e.client_ip, e.request_id,
         replace(e.details, '"template"',
                 '"' || CASE WHEN u.n = 0 THEN 'admin' ELSE 'user' || u.n END || '"')
  FROM audit_events e, $gu, $ga WHERE e.action = 'user.create' AND e.target = 'user:$tu';
EOF
}
# Wraps seeding SQL (stdin) in one transaction, with what each backend needs around it.
run_seed() {
  {
    if [[ -n "$db_url" ]]; then
      echo "BEGIN;"
      cat
      echo "SELECT setval('accounts_id_seq', (SELECT max(id) FROM accounts));"
      echo "SELECT setval('users_id_seq', (SELECT max(id) FROM users));"
      echo "COMMIT; ANALYZE;"
    else
      # The store turns foreign keys on for its connections; so does the seeding.
      echo "PRAGMA foreign_keys = ON; PRAGMA cache_size = -1000000; BEGIN;"
      cat
      echo "COMMIT; ANALYZE;"
    fi
  } | sql >/dev/null
}
max_id() { sql <<<"SELECT max(id) FROM $1;"; }

# --- Measuring ----------------------------------------------------------------------------
threads=$(( connections < 2 ? connections : 2 ))
declare -A result
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
# In milliseconds, from wrk's 512.00us / 1.20ms / 1.05s.
to_ms() { awk '/us$/ {sub("us",""); printf "%.2f", $1/1000; next} /ms$/ {sub("ms",""); printf "%.2f", $1; next}
  /s$/ {sub("s",""); printf "%.0f", $1*1000}'; }
# measure KEY DURATION LUA URL — records "p50 p99 requests" under KEY.
measure() {
  local key="$1" dur="$2" script="$3" url="$4" out bad
  wrk -t"$threads" -c"$connections" -d2s -s "$script" "$url" >/dev/null
  out="$(wrk -t"$threads" -c"$connections" -d"$dur" --latency -s "$script" "$url")"
  bad="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
  if [[ -n "$bad" ]] || grep -q 'Socket errors' <<<"$out"; then
    echo "$key: not every answer was a 2xx" >&2
    echo "$out" >&2
    exit 1
  fi
  result[$key]="$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms) $(awk '$1=="99%" {print $2}' <<<"$out" | to_ms) $(awk '/requests in/ {print $1}' <<<"$out")"
  printf '  %-28s p50 %8s ms  p99 %8s ms  (%s requests)\n' "$key" ${result[$key]}
}
b64() { python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.argv[1].encode()).decode().rstrip("="))' "$1"; }

# check_and_measure SIZE NAME ACCOUNT TOKEN LOGIN — checks a seeded user of ACCOUNT (login
# LOGIN) through the API, then measures the five requests for it.
check_and_measure() {
  local size="$1" name="$2" a="$3" t="$4" login="$5" uid users deep body
  uid="$(sql <<<"SELECT id FROM users WHERE account_id = $a AND login = '$login';")"
  users="$(api GET "/v1/accounts/$a/users?per_page=1" "$t" | json 'j["result_info"]["total_count"]')"
  api GET "/v1/accounts/$a/users/$uid" "$t" | json '"  read %s: %s, roles %s, status %s" % (j["result"]["id"], j["result"]["login"], j["result"]["roles"], j["result"]["status"])'
  api POST /v1/sessions "" "{\"account_id\": $a, \"login\": \"$login\", \"password\": \"$password\"}" |
    json '"  signed in as it: " + j["result"]["token"][:4] + "…"'
  body="{\"principal\": {\"type\": \"user\", \"id\": $uid}, \"capability\": \"audit_api\", \"level\": \"read\"}"
  api POST "/v1/accounts/$a/iam/authorize" "$t" "$body" |
    json '"  audit_api read for it: allowed=%s by %s" % (j["result"]["allowed"], [r["source"] for r in j["result"]["reasons"]])'
  deep="$(api GET "/v1/accounts/$a/users?per_page=1&direction=desc&page=$(( per_page + 1 ))" "$t" | json 'j["result"][0]["id"]')"
  echo "$name ($size database): account $a, $users users"
  lua "$tmp/get.lua" GET "$t"
  lua "$tmp/authorize.lua" POST "$t" "$body"
  lua "$tmp/login.lua" POST "" "{\"account_id\": $a, \"login\": \"$login\", \"password\": \"$password\"}"
  measure "$size $name get user" "$duration" "$tmp/get.lua" "$base/v1/accounts/$a/users/$uid"
  measure "$size $name first page" "$duration" "$tmp/get.lua" "$base/v1/accounts/$a/users?per_page=$per_page"
  measure "$size $name deep page" "$duration" "$tmp/get.lua" "$base/v1/accounts/$a/users?per_page=$per_page&cursor=$(b64 "$deep")"
  measure "$size $name authorize" "$duration" "$tmp/authorize.lua" "$base/v1/accounts/$a/iam/authorize"
  measure "$size $name login" "$login_duration" "$tmp/login.lua" "$base/v1/sessions"
}
counts() {
  sql <<<"SELECT (SELECT count(*) FROM accounts) || ' accounts, ' || (SELECT count(*) FROM users)
    || ' users, ' || (SELECT count(*) FROM user_group_members) || ' group members, '
    || (SELECT count(*) FROM audit_events) || ' audit events';"
}

echo "backend: $backend; server $base ($(nproc) cores); wrk -t$threads -c$connections"
stop_server
start=$SECONDS
{
  seed_account_users "${acct[hundred]}" 98 "$(max_id users)" "${template_user[hundred]}"
} | run_seed
seed_account_users "${acct[million]}" 999998 "$(max_id users)" "${template_user[million]}" | run_seed
echo "seeded the small database in $(( SECONDS - start )) s: $(counts)"
start_server
check_and_measure small hundred "${acct[hundred]}" "${owner_token[hundred]}" user50
check_and_measure small million "${acct[million]}" "${owner_token[million]}" user500000

stop_server
start=$SECONDS
seed_accounts "$(max_id accounts)" "$accounts_large" "$(max_id users)" | run_seed
echo "seeded $accounts_large accounts in $(( SECONDS - start )) s: $(counts)"
start_server
check_and_measure large hundred "${acct[hundred]}" "${owner_token[hundred]}" user50
check_and_measure large million "${acct[million]}" "${owner_token[million]}" user500000
seeded=$(( $(max_id accounts) - accounts_large / 2 ))
seeded_token="$(api POST /v1/sessions "" "{\"account_id\": $seeded, \"login\": \"admin\", \"password\": \"$password\"}" |
  json 'j["result"]["token"]')"
check_and_measure large seeded "$seeded" "$seeded_token" user50

echo
echo "backend: $backend; p50 / p99 in ms (wrk -t$threads -c$connections; $duration per read, $login_duration of sign-ins)"
printf '%-12s %-8s %20s %20s\n' request account "small database" "$accounts_large accounts"
fmt() { if [[ -n "$1" ]]; then awk '{printf "%s / %s", $1, $2}' <<<"$1"; else echo "-"; fi; }
for name in hundred million seeded; do
  for op in "get user" "first page" "deep page" authorize login; do
    small="${result[small $name $op]:-}"
    large="${result[large $name $op]:-}"
    printf '%-12s %-8s %20s %20s\n' "$op" "$name" "$(fmt "$small")" "$(fmt "$large")"
  done
done
