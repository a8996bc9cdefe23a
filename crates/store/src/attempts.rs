//! Attempt limits in the database: one row per key, counted by single guarded `UPDATE`s, so
//! concurrent attempts on any number of instances never count past the limit (Postgres
//! re-checks the guard under the row's lock; SQLite's write transactions are serial).

use chrono::{DateTime, TimeDelta, Utc};
use diesel::dsl::case_when;
use diesel::prelude::*;
use tessera_domain::ports::{AttemptCount, AttemptKey, AttemptRepo, RepoError, Reservation};

use crate::Store;
use crate::db::{AnyConnection, write_tx};
use crate::error::StoreError;
use crate::schema::auth_attempts;
use crate::time::{from_db, to_db};

/// Makes sure `key` has a row, without counting anything (an expired window, zero attempts).
fn ensure_row(
    conn: &mut AnyConnection,
    key: &str,
    expired: chrono::NaiveDateTime,
) -> Result<(), StoreError> {
    let row = (
        auth_attempts::key.eq(key),
        auth_attempts::window_start.eq(expired),
        auth_attempts::attempts.eq(0),
    );
    match conn {
        AnyConnection::Postgresql(c) => diesel::insert_into(auth_attempts::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        AnyConnection::Sqlite(c) => diesel::insert_into(auth_attempts::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(())
}

/// Counts one attempt under `key` unless it is at `max` in a live window; `true` when counted.
fn count_one(
    conn: &mut AnyConnection,
    key: &str,
    max: u32,
    cutoff: chrono::NaiveDateTime,
    now: chrono::NaiveDateTime,
) -> Result<bool, StoreError> {
    let expired = auth_attempts::window_start.le(cutoff);
    let max = i32::try_from(max).unwrap_or(i32::MAX);
    let n = diesel::update(
        auth_attempts::table
            .filter(auth_attempts::key.eq(key))
            .filter(expired.or(auth_attempts::attempts.lt(max))),
    )
    .set((
        auth_attempts::window_start.eq(case_when::<_, _, diesel::sql_types::Timestamp>(
            expired, now,
        )
        .otherwise(auth_attempts::window_start)),
        auth_attempts::attempts.eq(case_when::<_, _, diesel::sql_types::Integer>(expired, 1)
            .otherwise(auth_attempts::attempts + 1)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

fn give_back(conn: &mut AnyConnection, keys: &[String]) -> Result<(), StoreError> {
    diesel::update(
        auth_attempts::table
            .filter(auth_attempts::key.eq_any(keys))
            .filter(auth_attempts::attempts.gt(0)),
    )
    .set(auth_attempts::attempts.eq(auth_attempts::attempts - 1))
    .execute(conn)?;
    Ok(())
}

/// Serialises, on Postgres, the reservations and clears of one key until the transaction ends:
/// a success clearing a login's counter cannot delete the row between another sign-in's making
/// sure of it and counting on it. SQLite's write transactions are serial already.
fn lock_key(conn: &mut AnyConnection, key: &str) -> Result<(), StoreError> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('tessera attempt ' || $1))")
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(c)?;
    }
    Ok(())
}

impl AttemptRepo for Store {
    fn reserve_attempt(
        &self,
        keys: &[AttemptKey],
        window_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<Reservation, RepoError> {
        let window = TimeDelta::seconds(window_secs.max(1));
        let cutoff = to_db(now - window);
        let at = to_db(now);
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let mut counted: Vec<String> = Vec::with_capacity(keys.len());
            // Locked in one order, whatever order the keys come in: no two reservations wait
            // for each other.
            let mut order: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
            order.sort_unstable();
            for key in order {
                lock_key(c, key)?;
            }
            'keys: for k in keys {
                // A concurrent purge may delete the row between making sure of it and counting:
                // then make sure again (each try sees a newer snapshot).
                for _ in 0..3 {
                    ensure_row(c, &k.key, cutoff)?;
                    if count_one(c, &k.key, k.max, cutoff, at)? {
                        counted.push(k.key.clone());
                        continue 'keys;
                    }
                    let since: Option<chrono::NaiveDateTime> = auth_attempts::table
                        .find(&k.key)
                        .select(auth_attempts::window_start)
                        .first(c)
                        .optional()?;
                    if let Some(since) = since {
                        give_back(c, &counted)?;
                        return Ok(Reservation::Locked {
                            until: from_db(since) + window,
                        });
                    }
                }
                return Err(StoreError::Unavailable(
                    "the attempt counter kept vanishing under concurrent sign-ins".into(),
                ));
            }
            Ok(Reservation::Granted)
        })
        .map_err(Into::into)
    }

    fn release_attempt(&self, keys: &[String]) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| give_back(c, keys)).map_err(Into::into)
    }

    fn clear_attempts(&self, key: &str) -> Result<bool, RepoError> {
        let mut conn = self.db.conn()?;
        let n = write_tx(&mut conn, |c| {
            lock_key(c, key)?;
            diesel::delete(auth_attempts::table.filter(auth_attempts::key.eq(key)))
                .execute(c)
                .map_err(StoreError::from)
        })?;
        Ok(n > 0)
    }

    fn purge_attempts(&self, before: DateTime<Utc>) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            diesel::delete(
                auth_attempts::table.filter(auth_attempts::window_start.le(to_db(before))),
            )
            .execute(c)
            .map_err(StoreError::from)
        })?;
        Ok(())
    }

    fn attempt_count(
        &self,
        key: &str,
        window_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<AttemptCount>, RepoError> {
        let mut conn = self.db.conn()?;
        let row: Option<(chrono::NaiveDateTime, i32)> = auth_attempts::table
            .find(key)
            .select((auth_attempts::window_start, auth_attempts::attempts))
            .first(&mut *conn)
            .optional()
            .map_err(StoreError::from)?;
        let cutoff = now - TimeDelta::seconds(window_secs.max(1));
        Ok(row
            .map(|(since, attempts)| (from_db(since), attempts))
            .filter(|(since, attempts)| *since > cutoff && *attempts > 0)
            .map(|(since, attempts)| AttemptCount {
                attempts: u32::try_from(attempts).unwrap_or(0),
                since,
            }))
    }
}
