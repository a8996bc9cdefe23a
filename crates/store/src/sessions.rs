//! Password sessions (token digests only).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::keys::Session;
use tessera_domain::ports::{NewSession, RepoError, SessionRepo};

use crate::db::write_tx;
use crate::error::StoreError;
use crate::schema::{sessions, users};
use crate::time::{from_db, to_db};
use crate::{Store, audit, epoch};

impl SessionRepo for Store {
    fn create_session(&self, session: &NewSession, audit: &AuditRecord) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            diesel::insert_into(sessions::table)
                .values((
                    sessions::token_hash.eq(&session.token_digest),
                    sessions::account_id.eq(session.account_id.0),
                    sessions::user_id.eq(session.user_id.0),
                    sessions::created_at.eq(to_db(session.created_at)),
                    sessions::expires_at.eq(to_db(session.expires_at)),
                ))
                .execute(c)?;
            diesel::update(
                users::table
                    .filter(users::id.eq(session.user_id.0))
                    .filter(users::account_id.eq(session.account_id.0)),
            )
            .set((
                users::last_sign_in_at.eq(to_db(session.created_at)),
                users::last_sign_in_from.eq(session.from.as_deref()),
            ))
            .execute(c)?;
            audit::insert(c, audit)?;
            Ok(())
        })
        .map_err(Into::into)
    }

    fn find_session(&self, token_digest: &[u8]) -> Result<Option<Session>, RepoError> {
        let mut conn = self.db.conn()?;
        let row: Option<(i64, i64, NaiveDateTime, NaiveDateTime)> = sessions::table
            .filter(sessions::token_hash.eq(token_digest))
            .select((
                sessions::account_id,
                sessions::user_id,
                sessions::created_at,
                sessions::expires_at,
            ))
            .first(&mut *conn)
            .optional()
            .map_err(StoreError::from)?;
        Ok(row.map(|(account, user, created, expires)| Session {
            account_id: AccountId(account),
            user_id: UserId(user),
            created_at: from_db(created),
            expires_at: from_db(expires),
        }))
    }

    fn delete_session(&self, token_digest: &[u8], audit: &AuditRecord) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let account: Option<i64> = sessions::table
                .filter(sessions::token_hash.eq(token_digest))
                .select(sessions::account_id)
                .first(c)
                .optional()?;
            let account = AccountId(account.ok_or(StoreError::Rule(RepoError::NotFound))?);
            diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_digest)))
                .execute(c)?;
            epoch::bump(c, account)?;
            audit::insert(c, audit)?;
            Ok(())
        })
        .map_err(Into::into)
    }

    fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut conn = self.db.conn()?;
        let n = diesel::delete(sessions::table.filter(sessions::expires_at.lt(to_db(now))))
            .execute(&mut *conn)
            .map_err(StoreError::from)?;
        Ok(n as u64)
    }
}
