//! The authorization code flow's codes and refresh tokens. Spending either is one conditional
//! `UPDATE … SET used_at WHERE used_at IS NULL`: whichever transaction changes the row has it,
//! every other one (concurrent or later) sees it spent — a replay.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::oauth::code::CODE_RETENTION;
use tessera_domain::oauth::{
    AuthorizationCode, CodeChallenge, CodeRedemption, RefreshRotation, RefreshToken, ScopeSet,
};
use tessera_domain::ports::{OAuthFlowRepo, RepoError};

use crate::Store;
use crate::db::{AnyConnection, write_tx};
use crate::error::StoreError;
use crate::schema::{oauth_codes, oauth_refresh_tokens};
use crate::time::{from_db, to_db};

#[derive(Queryable, Selectable)]
#[diesel(table_name = oauth_codes)]
struct CodeRow {
    digest: Vec<u8>,
    client_id: String,
    grant_id: String,
    account_id: i64,
    user_id: i64,
    redirect_uri: String,
    redirect_uri_given: bool,
    code_challenge: Option<String>,
    nonce: Option<String>,
    scopes: String,
    auth_time: NaiveDateTime,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
}

fn scopes(s: &str) -> Result<ScopeSet, StoreError> {
    ScopeSet::parse(s).map_err(|e| StoreError::Corrupt(format!("oauth scopes: {e}")))
}

impl CodeRow {
    fn into_code(self) -> Result<(AuthorizationCode, bool), StoreError> {
        let used = self.used_at.is_some();
        Ok((
            AuthorizationCode {
                digest: self.digest,
                client_id: self.client_id,
                grant_id: self.grant_id,
                account_id: AccountId(self.account_id),
                user_id: UserId(self.user_id),
                redirect_uri: self.redirect_uri,
                redirect_uri_given: self.redirect_uri_given,
                code_challenge: self.code_challenge.map(CodeChallenge::stored),
                nonce: self.nonce,
                scopes: scopes(&self.scopes)?,
                auth_time: from_db(self.auth_time),
                created_at: from_db(self.created_at),
                expires_at: from_db(self.expires_at),
            },
            used,
        ))
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = oauth_refresh_tokens)]
struct RefreshRow {
    digest: Vec<u8>,
    grant_id: String,
    client_id: String,
    account_id: i64,
    user_id: i64,
    scopes: String,
    auth_time: NaiveDateTime,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
}

impl RefreshRow {
    fn into_token(self) -> Result<RefreshToken, StoreError> {
        Ok(RefreshToken {
            digest: self.digest,
            grant_id: self.grant_id,
            client_id: self.client_id,
            account_id: AccountId(self.account_id),
            user_id: UserId(self.user_id),
            scopes: scopes(&self.scopes)?,
            auth_time: from_db(self.auth_time),
            created_at: from_db(self.created_at),
            expires_at: from_db(self.expires_at),
            used_at: self.used_at.map(from_db),
        })
    }
}

fn insert_refresh(conn: &mut AnyConnection, t: &RefreshToken) -> Result<(), StoreError> {
    diesel::insert_into(oauth_refresh_tokens::table)
        .values((
            oauth_refresh_tokens::digest.eq(&t.digest),
            oauth_refresh_tokens::grant_id.eq(&t.grant_id),
            oauth_refresh_tokens::client_id.eq(&t.client_id),
            oauth_refresh_tokens::account_id.eq(t.account_id.0),
            oauth_refresh_tokens::user_id.eq(t.user_id.0),
            oauth_refresh_tokens::scopes.eq(t.scopes.to_string()),
            oauth_refresh_tokens::auth_time.eq(to_db(t.auth_time)),
            oauth_refresh_tokens::created_at.eq(to_db(t.created_at)),
            oauth_refresh_tokens::expires_at.eq(to_db(t.expires_at)),
            oauth_refresh_tokens::used_at.eq(t.used_at.map(to_db)),
        ))
        .execute(conn)?;
    Ok(())
}

impl OAuthFlowRepo for Store {
    fn store_code(&self, c: &AuthorizationCode) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        diesel::insert_into(oauth_codes::table)
            .values((
                oauth_codes::digest.eq(&c.digest),
                oauth_codes::client_id.eq(&c.client_id),
                oauth_codes::grant_id.eq(&c.grant_id),
                oauth_codes::account_id.eq(c.account_id.0),
                oauth_codes::user_id.eq(c.user_id.0),
                oauth_codes::redirect_uri.eq(&c.redirect_uri),
                oauth_codes::redirect_uri_given.eq(c.redirect_uri_given),
                oauth_codes::code_challenge
                    .eq(c.code_challenge.as_ref().map(CodeChallenge::as_str)),
                oauth_codes::nonce.eq(&c.nonce),
                oauth_codes::scopes.eq(c.scopes.to_string()),
                oauth_codes::auth_time.eq(to_db(c.auth_time)),
                oauth_codes::created_at.eq(to_db(c.created_at)),
                oauth_codes::expires_at.eq(to_db(c.expires_at)),
            ))
            .execute(&mut *conn)
            .map_err(StoreError::from)?;
        Ok(())
    }

    fn redeem_code(&self, digest: &[u8], now: DateTime<Utc>) -> Result<CodeRedemption, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |tx| {
            let spent = diesel::update(
                oauth_codes::table
                    .filter(oauth_codes::digest.eq(digest))
                    .filter(oauth_codes::used_at.is_null()),
            )
            .set(oauth_codes::used_at.eq(to_db(now)))
            .execute(tx)?;
            let row: Option<CodeRow> = oauth_codes::table
                .filter(oauth_codes::digest.eq(digest))
                .select(CodeRow::as_select())
                .first(tx)
                .optional()?;
            Ok(match row {
                None => CodeRedemption::Unknown,
                Some(row) => {
                    let (code, _) = row.into_code()?;
                    if spent == 1 {
                        CodeRedemption::Redeemed(code)
                    } else {
                        CodeRedemption::Replayed(code)
                    }
                }
            })
        })
        .map_err(Into::into)
    }

    fn store_refresh(&self, token: &RefreshToken) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        insert_refresh(&mut conn, token).map_err(Into::into)
    }

    fn find_refresh(&self, digest: &[u8]) -> Result<Option<RefreshToken>, RepoError> {
        let mut conn = self.db.conn()?;
        let row: Option<RefreshRow> = oauth_refresh_tokens::table
            .filter(oauth_refresh_tokens::digest.eq(digest))
            .select(RefreshRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(StoreError::from)?;
        row.map(RefreshRow::into_token)
            .transpose()
            .map_err(Into::into)
    }

    fn rotate_refresh(
        &self,
        old: &[u8],
        new: &RefreshToken,
        now: DateTime<Utc>,
    ) -> Result<RefreshRotation, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |tx| {
            let spent = diesel::update(
                oauth_refresh_tokens::table
                    .filter(oauth_refresh_tokens::digest.eq(old))
                    .filter(oauth_refresh_tokens::used_at.is_null()),
            )
            .set(oauth_refresh_tokens::used_at.eq(to_db(now)))
            .execute(tx)?;
            if spent == 1 {
                insert_refresh(tx, new)?;
                return Ok(RefreshRotation::Rotated);
            }
            let exists: i64 = oauth_refresh_tokens::table
                .filter(oauth_refresh_tokens::digest.eq(old))
                .count()
                .get_result(tx)?;
            if exists == 0 {
                Err(StoreError::Rule(RepoError::NotFound))
            } else {
                Ok(RefreshRotation::Replayed)
            }
        })
        .map_err(Into::into)
    }

    fn spend_grant(&self, grant_id: &str, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |tx| {
            let tokens = diesel::update(
                oauth_refresh_tokens::table
                    .filter(oauth_refresh_tokens::grant_id.eq(grant_id))
                    .filter(oauth_refresh_tokens::used_at.is_null()),
            )
            .set(oauth_refresh_tokens::used_at.eq(to_db(now)))
            .execute(tx)?;
            let codes = diesel::update(
                oauth_codes::table
                    .filter(oauth_codes::grant_id.eq(grant_id))
                    .filter(oauth_codes::used_at.is_null()),
            )
            .set(oauth_codes::used_at.eq(to_db(now)))
            .execute(tx)?;
            Ok((tokens + codes) as u64)
        })
        .map_err(Into::into)
    }

    fn purge_oauth_flow(&self, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut conn = self.db.conn()?;
        let codes = diesel::delete(
            oauth_codes::table.filter(oauth_codes::expires_at.le(to_db(now - CODE_RETENTION))),
        )
        .execute(&mut *conn)
        .map_err(StoreError::from)?;
        let tokens = diesel::delete(
            oauth_refresh_tokens::table.filter(oauth_refresh_tokens::expires_at.le(to_db(now))),
        )
        .execute(&mut *conn)
        .map_err(StoreError::from)?;
        Ok((codes + tokens) as u64)
    }
}
