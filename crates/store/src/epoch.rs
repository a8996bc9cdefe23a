//! The authorization epoch: one counter bumped by every change that can alter a decision
//! (roles, statuses, keys, groups, policies). Instances poll it to drop cached principals.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::error::StoreError;
use crate::schema::authz_epoch;

/// Increments the epoch inside the caller's transaction.
pub(crate) fn bump(conn: &mut AnyConnection) -> Result<(), StoreError> {
    diesel::update(authz_epoch::table.filter(authz_epoch::id.eq(1)))
        .set(authz_epoch::version.eq(authz_epoch::version + 1))
        .execute(conn)?;
    Ok(())
}

/// The current epoch.
pub(crate) fn current(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(authz_epoch::table
        .filter(authz_epoch::id.eq(1))
        .select(authz_epoch::version)
        .first(conn)?)
}
