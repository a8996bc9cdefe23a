//! Sessions: the token's digest is the key; the public id, the addresses and the last use are
//! what a user sees of them. Ending sessions stamps the account's authorization version in the
//! same transaction, so that every instance lets go of the cached principals at once.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccountId, SessionId, UserId};
use tessera_domain::keys::{Session, SignInMethod};
use tessera_domain::ports::{NewSession, Page, RepoError, SessionPage, SessionRepo, Used};

use crate::db::write_tx;
use crate::error::{StoreError, found};
use crate::schema::{sessions, users};
use crate::time::{from_db, to_db};
use crate::{Store, audit, epoch};

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct Row {
    id: String,
    account_id: i64,
    user_id: i64,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    created_from: Option<String>,
    method: String,
    last_used_at: Option<NaiveDateTime>,
    last_used_from: Option<String>,
}

impl Row {
    fn into_session(self) -> Result<Session, StoreError> {
        Ok(Session {
            id: SessionId::parse(&self.id)
                .map_err(|_| StoreError::Corrupt(format!("session id {}", self.id)))?,
            account_id: AccountId(self.account_id),
            user_id: UserId(self.user_id),
            created_at: from_db(self.created_at),
            expires_at: from_db(self.expires_at),
            created_from: self.created_from,
            method: SignInMethod::parse(&self.method)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            last_used_at: self.last_used_at.map(from_db),
            last_used_from: self.last_used_from,
        })
    }
}

impl SessionRepo for Store {
    fn create_session(&self, session: &NewSession, audit: &AuditRecord) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            diesel::insert_into(sessions::table)
                .values((
                    sessions::token_hash.eq(&session.token_digest),
                    sessions::id.eq(session.id.to_string()),
                    sessions::account_id.eq(session.account_id.0),
                    sessions::user_id.eq(session.user_id.0),
                    sessions::created_at.eq(to_db(session.created_at)),
                    sessions::expires_at.eq(to_db(session.expires_at)),
                    sessions::created_from.eq(session.from.as_deref()),
                    sessions::method.eq(session.method.as_str()),
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
        let row: Option<Row> = sessions::table
            .filter(sessions::token_hash.eq(token_digest))
            .select(Row::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(StoreError::from)?;
        Ok(row.map(Row::into_session).transpose()?)
    }

    fn list_sessions(
        &self,
        account: AccountId,
        user: UserId,
        now: DateTime<Utc>,
        page: SessionPage,
    ) -> Result<Page<Session>, RepoError> {
        let mut conn = self.db.conn()?;
        let live = || {
            sessions::table
                .filter(sessions::user_id.eq(user.0))
                .filter(sessions::account_id.eq(account.0))
                .filter(sessions::expires_at.gt(to_db(now)))
        };
        let total: i64 = live()
            .count()
            .get_result(&mut *conn)
            .map_err(StoreError::from)?;
        let rows: Vec<Row> = live()
            .order((sessions::created_at.desc(), sessions::id.desc()))
            .offset(i64::try_from(page.offset).unwrap_or(i64::MAX))
            .limit(i64::from(page.limit))
            .select(Row::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        let items = rows
            .into_iter()
            .map(Row::into_session)
            .collect::<Result<_, _>>()?;
        Ok(Page { items, total })
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

    fn delete_session_by_id(
        &self,
        account: AccountId,
        user: UserId,
        id: SessionId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let n = diesel::delete(
                sessions::table
                    .filter(sessions::id.eq(id.to_string()))
                    .filter(sessions::user_id.eq(user.0))
                    .filter(sessions::account_id.eq(account.0)),
            )
            .execute(c)?;
            found(n)?;
            epoch::bump(c, account)?;
            audit::insert(c, audit)?;
            Ok(())
        })
        .map_err(Into::into)
    }

    fn delete_user_sessions(
        &self,
        account: AccountId,
        user: UserId,
        audit: &AuditRecord,
    ) -> Result<u64, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let n = diesel::delete(
                sessions::table
                    .filter(sessions::user_id.eq(user.0))
                    .filter(sessions::account_id.eq(account.0)),
            )
            .execute(c)?;
            if n > 0 {
                epoch::bump(c, account)?;
            }
            audit::insert(c, audit)?;
            Ok(n as u64)
        })
        .map_err(Into::into)
    }

    fn touch_sessions(&self, uses: &[Used<SessionId>]) -> Result<(), RepoError> {
        if uses.is_empty() {
            return Ok(());
        }
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            for used in uses {
                diesel::update(sessions::table.filter(sessions::id.eq(used.id.to_string())))
                    .set((
                        sessions::last_used_at.eq(to_db(used.at)),
                        sessions::last_used_from.eq(used.from.as_deref()),
                    ))
                    .execute(c)?;
            }
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
