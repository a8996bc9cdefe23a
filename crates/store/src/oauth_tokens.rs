//! OAuth tokens' storage: signing keys (at most one current, enforced by a unique partial
//! index), revoked access tokens and grants. Revocations stamp the account's authorization
//! version in their transaction, so every instance lets go of cached principals at once.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tessera_domain::Field;
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::oauth::{Grant, GrantId, ScopeSet, SigningKey};
use tessera_domain::ports::{OAuthTokenRepo, RepoError};

use crate::db::write_tx;
use crate::error::StoreError;
use crate::schema::{oauth_grants, oauth_revoked_tokens, oauth_signing_keys};
use crate::time::{from_db, to_db};
use crate::{Store, audit, epoch};

#[derive(Queryable, Selectable)]
#[diesel(table_name = oauth_signing_keys)]
struct KeyRow {
    kid: String,
    public_jwk: String,
    sealed_private: Vec<u8>,
    created_at: NaiveDateTime,
    retired_at: Option<NaiveDateTime>,
}

impl From<KeyRow> for SigningKey {
    fn from(r: KeyRow) -> Self {
        SigningKey {
            kid: r.kid,
            public_jwk: r.public_jwk,
            sealed_private: r.sealed_private,
            created_at: from_db(r.created_at),
            retired_at: r.retired_at.map(from_db),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = oauth_grants)]
struct GrantRow {
    id: String,
    account_id: i64,
    user_id: i64,
    client_id: String,
    scopes: String,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
}

impl GrantRow {
    fn into_grant(self) -> Result<Grant, StoreError> {
        Ok(Grant {
            id: GrantId::parse(&self.id)
                .map_err(|_| StoreError::Corrupt(format!("grant id {}", self.id)))?,
            account_id: AccountId(self.account_id),
            user_id: UserId(self.user_id),
            client_id: self.client_id,
            scopes: ScopeSet::parse(&self.scopes)
                .map_err(|e| StoreError::Corrupt(format!("grant {}: {e}", self.id)))?,
            created_at: from_db(self.created_at),
            revoked_at: self.revoked_at.map(from_db),
        })
    }
}

fn insert_key(c: &mut crate::db::AnyConnection, key: &SigningKey) -> Result<usize, StoreError> {
    Ok(diesel::insert_into(oauth_signing_keys::table)
        .values((
            oauth_signing_keys::kid.eq(&key.kid),
            oauth_signing_keys::public_jwk.eq(&key.public_jwk),
            oauth_signing_keys::sealed_private.eq(&key.sealed_private),
            oauth_signing_keys::created_at.eq(to_db(key.created_at)),
            oauth_signing_keys::retired_at.eq(key.retired_at.map(to_db)),
        ))
        .execute(c)?)
}

impl OAuthTokenRepo for Store {
    fn signing_keys(&self) -> Result<Vec<SigningKey>, RepoError> {
        let mut conn = self.db.conn()?;
        let rows: Vec<KeyRow> = oauth_signing_keys::table
            .order((
                oauth_signing_keys::created_at.desc(),
                oauth_signing_keys::kid.desc(),
            ))
            .select(KeyRow::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    fn create_first_signing_key(&self, key: &SigningKey) -> Result<bool, RepoError> {
        let mut conn = self.db.conn()?;
        let created = write_tx(&mut conn, |c| {
            let current: i64 = oauth_signing_keys::table
                .filter(oauth_signing_keys::retired_at.is_null())
                .count()
                .get_result(c)?;
            if current > 0 {
                return Ok(false);
            }
            insert_key(c, key)?;
            Ok(true)
        });
        match created {
            // Another instance's key committed first: the unique index refused this one.
            Err(e) if e.is_unique_violation() => Ok(false),
            other => other.map_err(Into::into),
        }
    }

    fn rotate_signing_key(&self, key: &SigningKey, audit: &AuditRecord) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        let rotated = write_tx(&mut conn, |c| {
            diesel::update(
                oauth_signing_keys::table.filter(oauth_signing_keys::retired_at.is_null()),
            )
            .set(oauth_signing_keys::retired_at.eq(Some(to_db(key.created_at))))
            .execute(c)?;
            insert_key(c, key)?;
            audit::insert(c, audit)?;
            Ok(())
        });
        match rotated {
            // Another rotation's key became current meanwhile.
            Err(e) if e.is_unique_violation() => Err(RepoError::Conflict(Field::Value)),
            other => other.map_err(Into::into),
        }
    }

    fn prune_signing_keys(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut conn = self.db.conn()?;
        let n = diesel::delete(
            oauth_signing_keys::table.filter(oauth_signing_keys::retired_at.lt(to_db(before))),
        )
        .execute(&mut *conn)
        .map_err(StoreError::from)?;
        Ok(n as u64)
    }

    fn replace_sealed_signing_key(
        &self,
        kid: &str,
        old: &[u8],
        fresh: &[u8],
    ) -> Result<bool, RepoError> {
        let mut conn = self.db.conn()?;
        let n = diesel::update(
            oauth_signing_keys::table
                .filter(oauth_signing_keys::kid.eq(kid))
                .filter(oauth_signing_keys::sealed_private.eq(old)),
        )
        .set(oauth_signing_keys::sealed_private.eq(fresh))
        .execute(&mut *conn)
        .map_err(StoreError::from)?;
        Ok(n > 0)
    }

    fn revoke_token(
        &self,
        account: AccountId,
        jti: &str,
        expires_at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError> {
        let mut conn = self.db.conn()?;
        let revoked = write_tx(&mut conn, |c| {
            let known: i64 = oauth_revoked_tokens::table
                .filter(oauth_revoked_tokens::jti.eq(jti))
                .count()
                .get_result(c)?;
            if known > 0 {
                return Ok(false);
            }
            diesel::insert_into(oauth_revoked_tokens::table)
                .values((
                    oauth_revoked_tokens::jti.eq(jti),
                    oauth_revoked_tokens::account_id.eq(account.0),
                    oauth_revoked_tokens::expires_at.eq(to_db(expires_at)),
                ))
                .execute(c)?;
            epoch::bump(c, account)?;
            audit::insert(c, audit)?;
            Ok(true)
        });
        match revoked {
            // A concurrent revocation of the same token committed first.
            Err(e) if e.is_unique_violation() => Ok(false),
            other => other.map_err(Into::into),
        }
    }

    fn is_token_revoked(&self, jti: &str) -> Result<bool, RepoError> {
        let mut conn = self.db.conn()?;
        let n: i64 = oauth_revoked_tokens::table
            .filter(oauth_revoked_tokens::jti.eq(jti))
            .count()
            .get_result(&mut *conn)
            .map_err(StoreError::from)?;
        Ok(n > 0)
    }

    fn prune_revoked_tokens(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut conn = self.db.conn()?;
        let n = diesel::delete(
            oauth_revoked_tokens::table.filter(oauth_revoked_tokens::expires_at.lt(to_db(before))),
        )
        .execute(&mut *conn)
        .map_err(StoreError::from)?;
        Ok(n as u64)
    }

    fn create_grant(&self, grant: &Grant, audit: &AuditRecord) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            diesel::insert_into(oauth_grants::table)
                .values((
                    oauth_grants::id.eq(grant.id.to_string()),
                    oauth_grants::account_id.eq(grant.account_id.0),
                    oauth_grants::user_id.eq(grant.user_id.0),
                    oauth_grants::client_id.eq(&grant.client_id),
                    oauth_grants::scopes.eq(grant.scopes.to_string()),
                    oauth_grants::created_at.eq(to_db(grant.created_at)),
                    oauth_grants::revoked_at.eq(grant.revoked_at.map(to_db)),
                ))
                .execute(c)?;
            audit::insert(c, audit)?;
            Ok(())
        })
        .map_err(Into::into)
    }

    fn get_grant(&self, account: AccountId, id: GrantId) -> Result<Grant, RepoError> {
        let mut conn = self.db.conn()?;
        let row: Option<GrantRow> = oauth_grants::table
            .filter(oauth_grants::id.eq(id.to_string()))
            .filter(oauth_grants::account_id.eq(account.0))
            .select(GrantRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(StoreError::from)?;
        Ok(row.ok_or(RepoError::NotFound)?.into_grant()?)
    }

    fn revoke_grant(
        &self,
        account: AccountId,
        id: GrantId,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let mine = || {
                oauth_grants::table
                    .filter(oauth_grants::id.eq(id.to_string()))
                    .filter(oauth_grants::account_id.eq(account.0))
            };
            // The row lock makes a concurrent revocation wait, then find it revoked.
            let n = diesel::update(mine().filter(oauth_grants::revoked_at.is_null()))
                .set(oauth_grants::revoked_at.eq(Some(to_db(at))))
                .execute(c)?;
            if n == 0 {
                let exists: i64 = mine().count().get_result(c)?;
                return if exists == 0 {
                    Err(StoreError::Rule(RepoError::NotFound))
                } else {
                    Ok(false)
                };
            }
            epoch::bump(c, account)?;
            audit::insert(c, audit)?;
            Ok(true)
        })
        .map_err(Into::into)
    }

    fn revoke_client_grants(
        &self,
        client_id: &str,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<u64, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let live = || {
                oauth_grants::table
                    .filter(oauth_grants::client_id.eq(client_id))
                    .filter(oauth_grants::revoked_at.is_null())
            };
            let mut accounts: Vec<i64> = live().select(oauth_grants::account_id).load(c)?;
            accounts.sort_unstable();
            accounts.dedup();
            let n = diesel::update(live())
                .set(oauth_grants::revoked_at.eq(Some(to_db(at))))
                .execute(c)?;
            for account in accounts {
                epoch::bump(c, AccountId(account))?;
            }
            if n > 0 {
                audit::insert(c, audit)?;
            }
            Ok(n as u64)
        })
        .map_err(Into::into)
    }
}
