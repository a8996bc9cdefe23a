//! Write transactions and the row locks taken inside them: what every read-modify-write of the
//! store runs in.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::error::StoreError;

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (so that the writer lock is
/// taken up front and `busy_timeout` applies), a plain `BEGIN` on Postgres. Rolls back on error.
///
/// # Errors
/// Whatever `f` returns, or the transaction's own failure.
pub fn write_tx<T>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match conn {
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        AnyConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            <AnyConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Locks one row of `table` (keyed by a text `id` column) until the transaction ends, on
/// Postgres, so that a read-modify-write of it is not undone by a concurrent one (nor decides
/// from a stale read whether to stamp the authorization version); SQLite's write transactions
/// are serial already. `table` is a constant of the caller's, never input.
///
/// # Errors
/// Query errors.
pub fn lock_text_row(
    conn: &mut AnyConnection,
    table: &'static str,
    id: &str,
) -> Result<(), StoreError> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query(format!("SELECT id FROM {table} WHERE id = $1 FOR UPDATE"))
            .bind::<diesel::sql_types::Text, _>(id)
            .execute(c)?;
    }
    Ok(())
}

/// Serialises changes that must see a consistent set of an account's owners: on Postgres, locks
/// the account's row until the transaction ends; SQLite's write transactions are serial already.
///
/// # Errors
/// Query errors.
pub fn lock_account(conn: &mut AnyConnection, account_id: i64) -> Result<(), StoreError> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::BigInt, _>(account_id)
            .execute(c)?;
    }
    Ok(())
}
