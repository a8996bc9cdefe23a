//! SSO sign-ins in progress: created when the browser is sent to the IdP, consumed once by the
//! callback (a delete that returns the row), purged once expired.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tessera_domain::ids::{AccountId, SsoConnectorId};
use tessera_domain::ports::RepoError;
use tessera_domain::sso::{ReturnTo, SsoLogin};

use crate::db::{AnyConnection, Database, lock_text_row, write_tx};
use crate::error::StoreError;
use crate::schema::sso_logins;
use crate::time::{from_db, to_db};

#[derive(Queryable, Selectable)]
#[diesel(table_name = sso_logins)]
struct Row {
    state_digest: Vec<u8>,
    connector_id: String,
    account_id: i64,
    nonce: String,
    sealed_verifier: Vec<u8>,
    binding_digest: Vec<u8>,
    redirect_uri: String,
    return_to: String,
    client_ip: Option<String>,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

impl Row {
    fn into_login(self) -> Result<SsoLogin, StoreError> {
        Ok(SsoLogin {
            connector_id: SsoConnectorId::parse(&self.connector_id).map_err(|_| {
                StoreError::Corrupt(format!("sso login connector {}", self.connector_id))
            })?,
            return_to: ReturnTo::parse(&self.return_to)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            state_digest: self.state_digest,
            account_id: AccountId(self.account_id),
            nonce: self.nonce,
            sealed_verifier: self.sealed_verifier,
            binding_digest: self.binding_digest,
            redirect_uri: self.redirect_uri,
            client_ip: self.client_ip,
            created_at: from_db(self.created_at),
            expires_at: from_db(self.expires_at),
        })
    }
}

/// Serialises the sign-ins of one client address on Postgres (the count and the insert must
/// not interleave with another of the same address, whatever the connector); SQLite's write
/// transactions are serial already.
fn lock_address(conn: &mut AnyConnection, address: &str) -> Result<(), StoreError> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('tessera sso login ' || $1))")
            .bind::<diesel::sql_types::Text, _>(address)
            .execute(c)?;
    }
    Ok(())
}

/// Stores `login` unless a limit is reached (`LimitReached`).
pub(crate) fn begin(
    db: &Database,
    login: &SsoLogin,
    per_address: u32,
    per_connector: u32,
) -> Result<(), RepoError> {
    let mut conn = db.conn()?;
    let now = to_db(login.created_at);
    write_tx(&mut conn, |tx| {
        lock_text_row(tx, "sso_connectors", &login.connector_id.to_string())?;
        if let Some(address) = &login.client_ip {
            lock_address(tx, address)?;
            let from_address: i64 = sso_logins::table
                .filter(sso_logins::client_ip.eq(address))
                .filter(sso_logins::expires_at.gt(now))
                .count()
                .get_result(tx)?;
            if from_address >= i64::from(per_address) {
                return Err(StoreError::Rule(RepoError::LimitReached));
            }
        }
        if per_connector > 0 {
            let for_connector: i64 = sso_logins::table
                .filter(sso_logins::connector_id.eq(login.connector_id.to_string()))
                .filter(sso_logins::expires_at.gt(now))
                .count()
                .get_result(tx)?;
            if for_connector >= i64::from(per_connector) {
                return Err(StoreError::Rule(RepoError::LimitReached));
            }
        }
        diesel::insert_into(sso_logins::table)
            .values((
                sso_logins::state_digest.eq(&login.state_digest),
                sso_logins::connector_id.eq(login.connector_id.to_string()),
                sso_logins::account_id.eq(login.account_id.0),
                sso_logins::nonce.eq(&login.nonce),
                sso_logins::sealed_verifier.eq(&login.sealed_verifier),
                sso_logins::binding_digest.eq(&login.binding_digest),
                sso_logins::redirect_uri.eq(&login.redirect_uri),
                sso_logins::return_to.eq(login.return_to.as_str()),
                sso_logins::client_ip.eq(&login.client_ip),
                sso_logins::created_at.eq(now),
                sso_logins::expires_at.eq(to_db(login.expires_at)),
            ))
            .execute(tx)?;
        Ok(())
    })
    .map_err(Into::into)
}

/// Deletes and returns the unexpired sign-in of `state_digest` bound to `binding_digest`: of two
/// callbacks racing with the same state, only the one whose delete removed the row gets it.
pub(crate) fn take(
    db: &Database,
    state_digest: &[u8],
    binding_digest: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<SsoLogin>, RepoError> {
    let mut conn = db.conn()?;
    write_tx(&mut conn, |tx| {
        let row: Option<Row> = sso_logins::table
            .filter(sso_logins::state_digest.eq(state_digest))
            .filter(sso_logins::binding_digest.eq(binding_digest))
            .select(Row::as_select())
            .first(tx)
            .optional()?;
        let Some(row) = row else {
            return Ok(None);
        };
        let deleted = diesel::delete(
            sso_logins::table
                .filter(sso_logins::state_digest.eq(state_digest))
                .filter(sso_logins::binding_digest.eq(binding_digest)),
        )
        .execute(tx)?;
        if deleted == 1 && row.expires_at > to_db(now) {
            row.into_login().map(Some)
        } else {
            Ok(None)
        }
    })
    .map_err(Into::into)
}

/// Deletes expired sign-ins.
pub(crate) fn purge(db: &Database, now: DateTime<Utc>) -> Result<u64, RepoError> {
    let mut conn = db.conn()?;
    let n = diesel::delete(sso_logins::table.filter(sso_logins::expires_at.le(to_db(now))))
        .execute(&mut *conn)
        .map_err(StoreError::from)?;
    Ok(n as u64)
}
