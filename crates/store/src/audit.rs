//! The audit log: appended in the transaction of the change it records, listed newest first.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use tessera_domain::audit::{Actor, ActorKind, AuditEvent, AuditRecord, Outcome};
use tessera_domain::ids::AccountId;
use tessera_domain::ports::{AuditFilter, AuditRepo, RepoError};

use crate::Store;
use crate::db::AnyConnection;
use crate::error::StoreError;
use crate::schema::audit_events;
use crate::time::{from_db, to_db};

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewEventRow<'a> {
    account_id: Option<i64>,
    at: NaiveDateTime,
    actor_kind: &'a str,
    actor_id: &'a str,
    action: &'a str,
    target: Option<&'a str>,
    outcome: &'a str,
    client_ip: Option<&'a str>,
    request_id: Option<&'a str>,
    details: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct EventRow {
    id: i64,
    account_id: Option<i64>,
    at: NaiveDateTime,
    actor_kind: String,
    actor_id: String,
    action: String,
    target: Option<String>,
    outcome: String,
    client_ip: Option<String>,
    request_id: Option<String>,
    details: String,
}

impl EventRow {
    fn into_event(self) -> Result<AuditEvent, StoreError> {
        let kind = ActorKind::parse(&self.actor_kind)
            .ok_or_else(|| StoreError::Corrupt(format!("actor kind {}", self.actor_kind)))?;
        let outcome = match self.outcome.as_str() {
            "success" => Outcome::Success,
            "failure" => Outcome::Failure,
            other => return Err(StoreError::Corrupt(format!("outcome {other}"))),
        };
        Ok(AuditEvent {
            id: self.id,
            record: AuditRecord {
                account_id: self.account_id.map(AccountId),
                actor: Actor {
                    kind,
                    id: self.actor_id,
                },
                action: self.action,
                target: self.target,
                outcome,
                client_ip: self.client_ip,
                request_id: self.request_id,
                at: from_db(self.at),
                details: serde_json::from_str(&self.details)
                    .map_err(|e| StoreError::Corrupt(format!("audit details: {e}")))?,
            },
        })
    }
}

/// Appends `record` on `conn` (inside the caller's transaction).
pub(crate) fn insert(conn: &mut AnyConnection, record: &AuditRecord) -> Result<(), StoreError> {
    diesel::insert_into(audit_events::table)
        .values(NewEventRow {
            account_id: record.account_id.map(|a| a.0),
            at: to_db(record.at),
            actor_kind: record.actor.kind.as_str(),
            actor_id: &record.actor.id,
            action: &record.action,
            target: record.target.as_deref(),
            outcome: record.outcome.as_str(),
            client_ip: record.client_ip.as_deref(),
            request_id: record.request_id.as_deref(),
            details: record.details.to_string(),
        })
        .execute(conn)?;
    Ok(())
}

impl AuditRepo for Store {
    fn append_audit(&self, record: &AuditRecord) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        insert(&mut conn, record).map_err(Into::into)
    }

    fn list_audit(
        &self,
        account: AccountId,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEvent>, RepoError> {
        let mut conn = self.db.conn()?;
        let mut q = audit_events::table
            .filter(audit_events::account_id.eq(account.0))
            .into_boxed();
        if let Some(actor) = &filter.actor {
            q = q.filter(audit_events::actor_id.eq(actor.clone()));
        }
        if let Some(action) = &filter.action {
            q = q.filter(audit_events::action.eq(action.clone()));
        }
        if let Some(since) = filter.since {
            q = q.filter(audit_events::at.ge(to_db(since)));
        }
        if let Some(before) = filter.before {
            q = q.filter(audit_events::at.lt(to_db(before)));
        }
        if let Some(before_id) = filter.before_id {
            q = q.filter(audit_events::id.lt(before_id));
        }
        let rows: Vec<EventRow> = q
            .order(audit_events::id.desc())
            .offset(i64::try_from(filter.offset).unwrap_or(i64::MAX))
            .limit(i64::from(filter.limit))
            .select(EventRow::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        rows.into_iter()
            .map(|r| r.into_event().map_err(Into::into))
            .collect()
    }
}
