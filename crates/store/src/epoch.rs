//! Authorization versions, one per account (the `authz_versions` table): every change that can
//! alter a decision in an account (roles, statuses, keys, groups, policies, authorized IPs,
//! SSO connectors) stamps that account's row with a new, larger version inside its own
//! transaction. Instances read the versions they have not seen and evict what they cached for
//! those accounts only; on Postgres the change also `NOTIFY`s the schema's channel
//! ([`CHANNEL_SQL`]) with the account id (delivered at commit), so instances need not wait for
//! their next read.
//!
//! No row is shared by all accounts: a change in one account locks only that account's row,
//! and Postgres's versions come from a sequence, which never waits for other transactions.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use tessera_domain::ids::AccountId;
use tessera_domain::ports::AuthzChange;

use crate::db::AnyConnection;
use crate::error::StoreError;
use crate::schema::authz_versions;

/// The SQL that names this database schema's notification channel: `tessera_authz_` and the
/// MD5 of `current_schema()`, so that Tessera deployments sharing a Postgres database in
/// different schemas (or tests running side by side) never hear each other. The payload is
/// the account id in decimal.
pub(crate) const CHANNEL_SQL: &str = "'tessera_authz_' || md5(current_schema())";

/// Stamps `account` with a new authorization version, inside the caller's write transaction
/// (and, on Postgres, notifies the schema's channel at commit).
///
/// # Errors
/// Query errors.
pub fn bump(conn: &mut AnyConnection, account: AccountId) -> Result<(), StoreError> {
    match conn {
        AnyConnection::Postgresql(c) => {
            // On conflict the version is taken again once the row is locked, so that a change
            // waiting behind another account-mate's never stamps a smaller version than the
            // one that committed first.
            diesel::sql_query(
                "INSERT INTO authz_versions (account_id, version) \
                 VALUES ($1, nextval('authz_version_seq')) \
                 ON CONFLICT (account_id) DO UPDATE SET version = nextval('authz_version_seq')",
            )
            .bind::<BigInt, _>(account.0)
            .execute(c)?;
            diesel::sql_query(format!("SELECT pg_notify({CHANNEL_SQL}, $1)"))
                .bind::<diesel::sql_types::Text, _>(account.0.to_string())
                .execute(c)?;
        }
        // One writer at a time: the largest version plus one follows commit order.
        AnyConnection::Sqlite(c) => {
            diesel::sql_query(
                "INSERT INTO authz_versions (account_id, version) \
                 VALUES (?, (SELECT COALESCE(MAX(version), 0) + 1 FROM authz_versions)) \
                 ON CONFLICT (account_id) DO UPDATE SET version = excluded.version",
            )
            .bind::<BigInt, _>(account.0)
            .execute(c)?;
        }
    }
    Ok(())
}

/// Stamps `account` and every account below it (deactivating an account refuses the
/// credentials of its whole subtree).
///
/// # Errors
/// Query errors.
pub(crate) fn bump_subtree(conn: &mut AnyConnection, account: AccountId) -> Result<(), StoreError> {
    use crate::schema::accounts;
    let mut level = vec![account.0];
    while !level.is_empty() {
        for id in &level {
            bump(conn, AccountId(*id))?;
        }
        level = accounts::table
            .filter(accounts::parent_id.eq_any(&level))
            .select(accounts::id)
            .load(conn)?;
    }
    Ok(())
}

/// The largest version (0 before any change).
pub(crate) fn latest(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(authz_versions::table
        .select(diesel::dsl::max(authz_versions::version))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// The accounts stamped with a version above `after`, oldest first, at most `limit`.
pub(crate) fn changes(
    conn: &mut AnyConnection,
    after: i64,
    limit: usize,
) -> Result<Vec<AuthzChange>, StoreError> {
    let rows: Vec<(i64, i64)> = authz_versions::table
        .filter(authz_versions::version.gt(after))
        .order(authz_versions::version.asc())
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .select((authz_versions::account_id, authz_versions::version))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(account, version)| AuthzChange {
            account: AccountId(account),
            version,
        })
        .collect())
}
