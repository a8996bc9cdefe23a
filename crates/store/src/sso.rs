//! SSO connectors (with their identity provider, its client secret sealed).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tessera_domain::Field;
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccountId, SsoConnectorId};
use tessera_domain::ports::{RepoError, SsoChanges, SsoRepo};
use tessera_domain::sso::{IdpConfig, IdpSettings, SsoConnector, SsoLogin, VerificationStatus};

use crate::db::{AnyConnection, lock_text_row, write_tx};
use crate::error::{StoreError, found, unique_as};
use crate::schema::sso_connectors;
use crate::time::{from_db, to_db};
use crate::{Store, audit, epoch};

#[derive(Queryable, Selectable)]
#[diesel(table_name = sso_connectors)]
struct Row {
    id: String,
    account_id: i64,
    email_domain: String,
    enabled: bool,
    use_fedramp_language: bool,
    verification_code: String,
    verification_status: String,
    created_on: NaiveDateTime,
    updated_on: NaiveDateTime,
    idp: Option<String>,
    idp_client_secret: Option<Vec<u8>>,
}

/// The provider's columns of `idp`: settings as JSON, the sealed secret.
fn idp_columns(idp: Option<&IdpConfig>) -> Result<(Option<String>, Option<Vec<u8>>), StoreError> {
    match idp {
        Some(c) => Ok((
            Some(
                serde_json::to_string(&c.settings)
                    .map_err(|e| StoreError::Corrupt(format!("idp settings: {e}")))?,
            ),
            Some(c.sealed_client_secret.clone()),
        )),
        None => Ok((None, None)),
    }
}

impl Row {
    fn into_connector(self) -> Result<SsoConnector, StoreError> {
        Ok(SsoConnector {
            id: SsoConnectorId::parse(&self.id)
                .map_err(|_| StoreError::Corrupt(format!("sso id {}", self.id)))?,
            account_id: AccountId(self.account_id),
            email_domain: self.email_domain,
            enabled: self.enabled,
            use_fedramp_language: self.use_fedramp_language,
            verification_code: self.verification_code,
            verification_status: VerificationStatus::parse(&self.verification_status)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_on: from_db(self.created_on),
            updated_on: from_db(self.updated_on),
            idp: match (self.idp, self.idp_client_secret) {
                (Some(json), Some(sealed_client_secret)) => Some(IdpConfig {
                    settings: serde_json::from_str::<IdpSettings>(&json)
                        .map_err(|e| StoreError::Corrupt(format!("sso idp of {}: {e}", self.id)))?,
                    sealed_client_secret,
                }),
                _ => None,
            },
        })
    }
}

/// Refuses a verified domain that another account's connector has verified (the unique index
/// enforces it too; this names the conflict before the insert or update).
fn check_domain_free(
    conn: &mut AnyConnection,
    account: AccountId,
    domain: &str,
) -> Result<(), StoreError> {
    let taken: i64 = sso_connectors::table
        .filter(sso_connectors::email_domain.eq(domain))
        .filter(sso_connectors::account_id.ne(account.0))
        .filter(sso_connectors::verification_status.eq(VerificationStatus::Verified.as_str()))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        Err(StoreError::Rule(RepoError::Conflict(Field::EmailDomain)))
    } else {
        Ok(())
    }
}

fn load(
    conn: &mut AnyConnection,
    account: AccountId,
    id: SsoConnectorId,
) -> Result<SsoConnector, StoreError> {
    sso_connectors::table
        .filter(sso_connectors::id.eq(id.to_string()))
        .filter(sso_connectors::account_id.eq(account.0))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::Rule(RepoError::NotFound))?
        .into_connector()
}

fn with_target(audit: &AuditRecord, id: SsoConnectorId) -> AuditRecord {
    let mut record = audit.clone();
    record
        .target
        .get_or_insert_with(|| format!("sso_connector:{id}"));
    record
}

fn rows(rows: Vec<Row>) -> Result<Vec<SsoConnector>, RepoError> {
    rows.into_iter()
        .map(|r| r.into_connector().map_err(Into::into))
        .collect()
}

impl SsoRepo for Store {
    fn create_sso(&self, c: &SsoConnector, audit: &AuditRecord) -> Result<SsoConnector, RepoError> {
        let mut conn = self.db.conn()?;
        let (idp, idp_client_secret) = idp_columns(c.idp.as_ref())?;
        write_tx(&mut conn, |tx| {
            check_domain_free(tx, c.account_id, &c.email_domain)?;
            diesel::insert_into(sso_connectors::table)
                .values((
                    sso_connectors::id.eq(c.id.to_string()),
                    sso_connectors::account_id.eq(c.account_id.0),
                    sso_connectors::email_domain.eq(&c.email_domain),
                    sso_connectors::enabled.eq(c.enabled),
                    sso_connectors::use_fedramp_language.eq(c.use_fedramp_language),
                    sso_connectors::verification_code.eq(&c.verification_code),
                    sso_connectors::verification_status.eq(c.verification_status.as_str()),
                    sso_connectors::created_on.eq(to_db(c.created_on)),
                    sso_connectors::updated_on.eq(to_db(c.updated_on)),
                    sso_connectors::idp.eq(idp),
                    sso_connectors::idp_client_secret.eq(idp_client_secret),
                ))
                .execute(tx)
                .map_err(unique_as(Field::EmailDomain))?;
            audit::insert(tx, &with_target(audit, c.id))?;
            load(tx, c.account_id, c.id)
        })
        .map_err(Into::into)
    }

    fn get_sso(&self, account: AccountId, id: SsoConnectorId) -> Result<SsoConnector, RepoError> {
        let mut conn = self.db.conn()?;
        load(&mut conn, account, id).map_err(Into::into)
    }

    fn list_sso(&self, account: AccountId) -> Result<Vec<SsoConnector>, RepoError> {
        let mut conn = self.db.conn()?;
        let found: Vec<Row> = sso_connectors::table
            .filter(sso_connectors::account_id.eq(account.0))
            .order((sso_connectors::created_on, sso_connectors::id))
            .select(Row::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        rows(found)
    }

    fn update_sso(
        &self,
        account: AccountId,
        id: SsoConnectorId,
        changes: &SsoChanges,
        audit: &AuditRecord,
    ) -> Result<SsoConnector, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |tx| {
            lock_text_row(tx, "sso_connectors", &id.to_string())?;
            let current = load(tx, account, id)?;
            let status = changes
                .verification_status
                .unwrap_or(current.verification_status);
            if status == VerificationStatus::Verified {
                check_domain_free(tx, account, &current.email_domain)?;
            }
            let idp = match &changes.idp {
                Some(new) => new.as_ref(),
                None => current.idp.as_ref(),
            };
            let (idp, idp_client_secret) = idp_columns(idp)?;
            diesel::update(sso_connectors::table.filter(sso_connectors::id.eq(id.to_string())))
                .set((
                    sso_connectors::enabled.eq(changes.enabled.unwrap_or(current.enabled)),
                    sso_connectors::use_fedramp_language.eq(changes
                        .use_fedramp_language
                        .unwrap_or(current.use_fedramp_language)),
                    sso_connectors::verification_status.eq(status.as_str()),
                    sso_connectors::updated_on.eq(to_db(changes.updated_on)),
                    sso_connectors::idp.eq(idp),
                    sso_connectors::idp_client_secret.eq(idp_client_secret),
                ))
                .execute(tx)
                .map_err(unique_as(Field::EmailDomain))?;
            epoch::bump(tx, account)?;
            audit::insert(tx, &with_target(audit, id))?;
            load(tx, account, id)
        })
        .map_err(Into::into)
    }

    fn delete_sso(
        &self,
        account: AccountId,
        id: SsoConnectorId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |tx| {
            let n = diesel::delete(
                sso_connectors::table
                    .filter(sso_connectors::id.eq(id.to_string()))
                    .filter(sso_connectors::account_id.eq(account.0)),
            )
            .execute(tx)?;
            found(n)?;
            epoch::bump(tx, account)?;
            audit::insert(tx, &with_target(audit, id))?;
            Ok(())
        })
        .map_err(Into::into)
    }

    fn find_verified_sso(&self, domain: &str) -> Result<Option<SsoConnector>, RepoError> {
        let mut conn = self.db.conn()?;
        let found: Option<Row> = sso_connectors::table
            .filter(sso_connectors::email_domain.eq(domain))
            .filter(sso_connectors::verification_status.eq(VerificationStatus::Verified.as_str()))
            .select(Row::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(StoreError::from)?;
        found
            .map(|r| r.into_connector().map_err(Into::into))
            .transpose()
    }

    fn begin_sso_login(
        &self,
        login: &SsoLogin,
        per_address: u32,
        per_connector: u32,
    ) -> Result<(), RepoError> {
        crate::sso_logins::begin(&self.db, login, per_address, per_connector)
    }

    fn take_sso_login(
        &self,
        state_digest: &[u8],
        binding_digest: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<SsoLogin>, RepoError> {
        crate::sso_logins::take(&self.db, state_digest, binding_digest, now)
    }

    fn purge_sso_logins(&self, now: DateTime<Utc>) -> Result<u64, RepoError> {
        crate::sso_logins::purge(&self.db, now)
    }

    fn sealed_client_secrets(
        &self,
        after: Option<SsoConnectorId>,
        limit: u32,
    ) -> Result<Vec<(SsoConnectorId, Vec<u8>)>, RepoError> {
        let mut conn = self.db.conn()?;
        let mut query = sso_connectors::table
            .filter(sso_connectors::idp_client_secret.is_not_null())
            .order(sso_connectors::id)
            .limit(i64::from(limit))
            .select((sso_connectors::id, sso_connectors::idp_client_secret))
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(sso_connectors::id.gt(after.to_string()));
        }
        let rows: Vec<(String, Option<Vec<u8>>)> =
            query.load(&mut *conn).map_err(StoreError::from)?;
        rows.into_iter()
            .filter_map(|(id, sealed)| sealed.map(|s| (id, s)))
            .map(|(id, sealed)| {
                SsoConnectorId::parse(&id)
                    .map(|id| (id, sealed))
                    .map_err(|_| RepoError::Internal(format!("sso id {id}")))
            })
            .collect()
    }

    fn replace_client_secret(
        &self,
        id: SsoConnectorId,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, RepoError> {
        let mut conn = self.db.conn()?;
        let n = diesel::update(
            sso_connectors::table
                .filter(sso_connectors::id.eq(id.to_string()))
                .filter(sso_connectors::idp_client_secret.eq(old)),
        )
        .set(sso_connectors::idp_client_secret.eq(new))
        .execute(&mut *conn)
        .map_err(StoreError::from)?;
        Ok(n == 1)
    }

    fn pending_sso(&self) -> Result<Vec<SsoConnector>, RepoError> {
        let mut conn = self.db.conn()?;
        let found: Vec<Row> = sso_connectors::table
            .filter(sso_connectors::verification_status.eq(VerificationStatus::Pending.as_str()))
            .order(sso_connectors::updated_on)
            .limit(1000)
            .select(Row::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        rows(found)
    }
}
