//! SSO connectors.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use tessera_domain::Field;
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccountId, SsoConnectorId};
use tessera_domain::ports::{RepoError, SsoChanges, SsoRepo};
use tessera_domain::sso::{SsoConnector, VerificationStatus};

use crate::db::{AnyConnection, write_tx};
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
        })
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
        write_tx(&mut conn, |tx| {
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
            let current = load(tx, account, id)?;
            diesel::update(sso_connectors::table.filter(sso_connectors::id.eq(id.to_string())))
                .set((
                    sso_connectors::enabled.eq(changes.enabled.unwrap_or(current.enabled)),
                    sso_connectors::use_fedramp_language.eq(changes
                        .use_fedramp_language
                        .unwrap_or(current.use_fedramp_language)),
                    sso_connectors::verification_status.eq(changes
                        .verification_status
                        .unwrap_or(current.verification_status)
                        .as_str()),
                    sso_connectors::updated_on.eq(to_db(changes.updated_on)),
                ))
                .execute(tx)?;
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
