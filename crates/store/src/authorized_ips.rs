//! Accounts' authorized-IP lists, and the text form of a key's `allowed_ips`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use tessera_domain::Field;
use tessera_domain::audit::AuditRecord;
use tessera_domain::authorized_ips::{AuthorizedIp, Network, join_networks, parse_networks};
use tessera_domain::ids::AccountId;
use tessera_domain::ports::{AuthorizedIpRepo, RepoError};

use crate::db::{lock_account, write_tx};
use crate::error::{StoreError, unique_as};
use crate::schema::authorized_ips;
use crate::time::{from_db, to_db};
use crate::{Store, audit, epoch};

#[derive(Queryable, Selectable)]
#[diesel(table_name = authorized_ips)]
struct Row {
    network: String,
    allowed: bool,
    description: Option<String>,
    created: NaiveDateTime,
}

impl Row {
    fn into_entry(self) -> Result<AuthorizedIp, StoreError> {
        Ok(AuthorizedIp {
            network: Network::parse("network", &self.network)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            allowed: self.allowed,
            description: self.description,
            created: from_db(self.created),
        })
    }
}

/// A key's stored `allowed_ips` column: `NULL` (or empty) is no condition.
pub(crate) fn stored_networks(column: Option<&str>) -> Result<Vec<Network>, StoreError> {
    column.map_or(Ok(Vec::new()), |text| {
        parse_networks("allowed_ips", text).map_err(|e| StoreError::Corrupt(e.to_string()))
    })
}

/// The column for `networks`: `NULL` when there are none.
pub(crate) fn networks_column(networks: &[Network]) -> Option<String> {
    (!networks.is_empty()).then(|| join_networks(networks))
}

impl AuthorizedIpRepo for Store {
    fn add_authorized_ip(
        &self,
        account: AccountId,
        entry: &AuthorizedIp,
        limit: u32,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            lock_account(c, account.0)?;
            let held: i64 = authorized_ips::table
                .filter(authorized_ips::account_id.eq(account.0))
                .count()
                .get_result(c)?;
            if held >= i64::from(limit) {
                return Err(StoreError::Rule(RepoError::LimitReached));
            }
            diesel::insert_into(authorized_ips::table)
                .values((
                    authorized_ips::account_id.eq(account.0),
                    authorized_ips::network.eq(entry.network.to_string()),
                    authorized_ips::allowed.eq(entry.allowed),
                    authorized_ips::description.eq(entry.description.as_deref()),
                    authorized_ips::created.eq(to_db(entry.created)),
                ))
                .execute(c)
                .map_err(unique_as(Field::AuthorizedIp))?;
            epoch::bump(c, account)?;
            audit::insert(c, audit)?;
            Ok(())
        })
        .map_err(Into::into)
    }

    fn list_authorized_ips(&self, account: AccountId) -> Result<Vec<AuthorizedIp>, RepoError> {
        let mut conn = self.db.conn()?;
        let rows: Vec<Row> = authorized_ips::table
            .filter(authorized_ips::account_id.eq(account.0))
            .order((authorized_ips::created, authorized_ips::network))
            .select(Row::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        rows.into_iter()
            .map(|r| r.into_entry().map_err(Into::into))
            .collect()
    }

    fn delete_authorized_ips(
        &self,
        account: AccountId,
        networks: &[Network],
        allowed: Option<bool>,
        audit: &AuditRecord,
    ) -> Result<u64, RepoError> {
        let texts: Vec<String> = networks.iter().map(ToString::to_string).collect();
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let mut target = authorized_ips::table
                .filter(authorized_ips::account_id.eq(account.0))
                .filter(authorized_ips::network.eq_any(&texts))
                .into_boxed();
            if let Some(allowed) = allowed {
                target = target.filter(authorized_ips::allowed.eq(allowed));
            }
            let gone: Vec<String> = target.select(authorized_ips::network).load(c)?;
            if gone.is_empty() {
                return Ok(0);
            }
            let n = diesel::delete(
                authorized_ips::table
                    .filter(authorized_ips::account_id.eq(account.0))
                    .filter(authorized_ips::network.eq_any(&gone)),
            )
            .execute(c)?;
            epoch::bump(c, account)?;
            let mut record = audit.clone();
            if let Some(details) = record.details.as_object_mut() {
                details.insert("removed".into(), serde_json::json!(gone));
            }
            audit::insert(c, &record)?;
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
        .map_err(Into::into)
    }
}
