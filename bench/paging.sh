#!/usr/bin/env bash
# Page cost as the account grows to 1M users: the first page, a page deep in the list reached by
# keyset cursor, and the same page reached by offset (`page=`), each timed with wrk on one
# connection (latency of one request at a time), at 10k, 100k and 1M users.
#
#   cargo build --release
#   bench/paging.sh                                   # SQLite (needs the sqlite3 CLI)
#   TESSERA__DATABASE__URL=postgres://postgres@127.0.0.1:5432/paging bench/paging.sh   # an empty database (needs psql)
#
# Users are inserted with SQL (a user with one role each), not through the API: the API keeps
# accounts under `limits.max_users_per_account`, and a million argon2 hashes would take hours.
# The script then sets the account's user count, which the store otherwise keeps itself.
set -euo pipefail
db_url="${TESSERA__DATABASE__URL:-}"
# shellcheck source=scripts/local_server.sh
source "$(dirname "$0")/../scripts/local_server.sh"
token="$(owner_token)"

sql() {
  if [[ -n "$db_url" ]]; then psql -q "$db_url" -c "$1"; else sqlite3 "$tmp/data/tessera.db" "$1"; fi
}
# Adds users up to $1 in account 1, each with the Developer role (id 3).
grow_to() {
  local target="$1"
  if [[ -n "$db_url" ]]; then
    sql "INSERT INTO users (account_id, login, email, status, created_at, updated_at)
         SELECT 1, 'bulk' || g, 'bulk' || g || '@example.com', 'active', now(), now()
         FROM generate_series((SELECT count(*) FROM users WHERE account_id = 1), $target - 1) g;
         INSERT INTO user_roles (user_id, role_id)
         SELECT id, 3 FROM users u WHERE account_id = 1
           AND NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id);
         UPDATE accounts SET user_count = (SELECT count(*) FROM users WHERE account_id = 1) WHERE id = 1;
         ANALYZE users; ANALYZE user_roles;"
  else
    sql "WITH RECURSIVE g(n) AS (SELECT (SELECT count(*) FROM users WHERE account_id = 1)
                                 UNION ALL SELECT n + 1 FROM g WHERE n + 1 < $target)
         INSERT INTO users (account_id, login, email, status, created_at, updated_at)
         SELECT 1, 'bulk' || n, 'bulk' || n || '@example.com', 'active', datetime('now'), datetime('now') FROM g;
         INSERT INTO user_roles (user_id, role_id)
         SELECT id, 3 FROM users u WHERE account_id = 1
           AND NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id);
         UPDATE accounts SET user_count = (SELECT count(*) FROM users WHERE account_id = 1) WHERE id = 1;
         ANALYZE;"
  fi
}
latency() {
  wrk -t1 -c1 -d5s -H "Authorization: Bearer $token" "$1" | awk '/Latency/ {print $2}'
}

echo "backend: ${db_url:-sqlite}; 100 users per page; mean latency of one request at a time"
printf '%10s %12s %16s %16s\n' users "first page" "deep, cursor" "deep, offset"
for n in 10000 100000 1000000; do
  grow_to "$n"
  # The 100 users before the last 100: by cursor (after the id before them) and by page number.
  deep_id="$(curl -fs -H "Authorization: Bearer $token" \
    "$base/v1/accounts/1/users?per_page=1&direction=desc&page=201" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"][0]["id"])')"
  cursor="$(python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.argv[1].encode()).decode().rstrip("="))' "$deep_id")"
  page=$(( n / 100 - 1 ))
  printf '%10s %12s %16s %16s\n' "$n" \
    "$(latency "$base/v1/accounts/1/users?per_page=100")" \
    "$(latency "$base/v1/accounts/1/users?per_page=100&cursor=$cursor")" \
    "$(latency "$base/v1/accounts/1/users?per_page=100&page=$page")"
done
