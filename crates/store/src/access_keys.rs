//! Access keys (secret digests only).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccessKeyId, AccountId, UserId};
use tessera_domain::keys::{AccessKey, KeyStatus, KeyValidity};
use tessera_domain::ports::{
    AccessKeyAuth, AccessKeyChanges, AccessKeyRepo, NewAccessKey, RepoError, Used,
};

use crate::authorized_ips::{networks_column, stored_networks};
use crate::db::{AnyConnection, lock_account, write_tx};
use crate::error::{StoreError, found};
use crate::schema::{access_keys, users};
use crate::time::{from_db, to_db};
use crate::{Store, audit, epoch};

#[derive(Queryable, Selectable)]
#[diesel(table_name = access_keys)]
struct KeyRow {
    id: String,
    account_id: i64,
    user_id: i64,
    name: Option<String>,
    status: String,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    not_before: Option<NaiveDateTime>,
    expires_at: Option<NaiveDateTime>,
    allowed_ips: Option<String>,
    last_used_from: Option<String>,
}

impl KeyRow {
    fn into_key(self) -> Result<AccessKey, StoreError> {
        Ok(AccessKey {
            id: self
                .id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("access key id {}", self.id)))?,
            account_id: AccountId(self.account_id),
            user_id: UserId(self.user_id),
            name: self.name,
            status: KeyStatus::parse(&self.status)
                .map_err(|_| StoreError::Corrupt(format!("access key status {}", self.status)))?,
            created_at: from_db(self.created_at),
            last_used_at: self.last_used_at.map(from_db),
            validity: KeyValidity {
                not_before: self.not_before.map(from_db),
                expires_at: self.expires_at.map(from_db),
            },
            allowed_ips: stored_networks(self.allowed_ips.as_deref())?,
            last_used_from: self.last_used_from,
        })
    }
}

fn load(
    conn: &mut AnyConnection,
    account: AccountId,
    user: UserId,
    id: &AccessKeyId,
) -> Result<AccessKey, StoreError> {
    access_keys::table
        .filter(access_keys::id.eq(id.as_str()))
        .filter(access_keys::account_id.eq(account.0))
        .filter(access_keys::user_id.eq(user.0))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::Rule(RepoError::NotFound))?
        .into_key()
}

fn with_target(audit: &AuditRecord, id: &AccessKeyId) -> AuditRecord {
    let mut record = audit.clone();
    record
        .target
        .get_or_insert_with(|| format!("access_key:{id}"));
    record
}

impl AccessKeyRepo for Store {
    fn create_access_key(
        &self,
        key: &NewAccessKey,
        limit: u32,
        audit: &AuditRecord,
    ) -> Result<AccessKey, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            lock_account(c, key.account_id.0)?;
            let in_account: i64 = users::table
                .filter(users::id.eq(key.user_id.0))
                .filter(users::account_id.eq(key.account_id.0))
                .count()
                .get_result(c)?;
            if in_account == 0 {
                return Err(StoreError::Rule(RepoError::NotFound));
            }
            let held: i64 = access_keys::table
                .filter(access_keys::user_id.eq(key.user_id.0))
                .count()
                .get_result(c)?;
            if held >= i64::from(limit) {
                return Err(StoreError::Rule(RepoError::LimitReached));
            }
            diesel::insert_into(access_keys::table)
                .values((
                    access_keys::id.eq(key.id.as_str()),
                    access_keys::account_id.eq(key.account_id.0),
                    access_keys::user_id.eq(key.user_id.0),
                    access_keys::name.eq(key.name.as_deref()),
                    access_keys::secret_hash.eq(&key.secret_digest),
                    access_keys::status.eq(KeyStatus::Active.as_str()),
                    access_keys::created_at.eq(to_db(key.created_at)),
                    access_keys::not_before.eq(key.validity.not_before.map(to_db)),
                    access_keys::expires_at.eq(key.validity.expires_at.map(to_db)),
                ))
                .execute(c)?;
            audit::insert(c, &with_target(audit, &key.id))?;
            load(c, key.account_id, key.user_id, &key.id)
        })
        .map_err(Into::into)
    }

    fn find_access_key(&self, id: &AccessKeyId) -> Result<Option<AccessKeyAuth>, RepoError> {
        let mut conn = self.db.conn()?;
        let found: Option<(KeyRow, Vec<u8>)> = access_keys::table
            .filter(access_keys::id.eq(id.as_str()))
            .select((KeyRow::as_select(), access_keys::secret_hash))
            .first(&mut *conn)
            .optional()
            .map_err(StoreError::from)?;
        found
            .map(|(row, secret_digest)| {
                Ok(AccessKeyAuth {
                    key: row.into_key()?,
                    secret_digest,
                })
            })
            .transpose()
    }

    fn list_access_keys(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Vec<AccessKey>, RepoError> {
        let mut conn = self.db.conn()?;
        let rows: Vec<KeyRow> = access_keys::table
            .filter(access_keys::account_id.eq(account.0))
            .filter(access_keys::user_id.eq(user.0))
            .order((access_keys::created_at, access_keys::id))
            .select(KeyRow::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        rows.into_iter()
            .map(|r| r.into_key().map_err(Into::into))
            .collect()
    }

    fn list_account_access_keys(&self, account: AccountId) -> Result<Vec<AccessKey>, RepoError> {
        let mut conn = self.db.conn()?;
        let rows: Vec<KeyRow> = access_keys::table
            .filter(access_keys::account_id.eq(account.0))
            .order((
                access_keys::user_id,
                access_keys::created_at,
                access_keys::id,
            ))
            .select(KeyRow::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        rows.into_iter()
            .map(|r| r.into_key().map_err(Into::into))
            .collect()
    }

    fn get_access_key(
        &self,
        account: AccountId,
        user: UserId,
        id: &AccessKeyId,
    ) -> Result<AccessKey, RepoError> {
        let mut conn = self.db.conn()?;
        load(&mut conn, account, user, id).map_err(Into::into)
    }

    fn update_access_key(
        &self,
        account: AccountId,
        user: UserId,
        id: &AccessKeyId,
        changes: &AccessKeyChanges,
        audit: &AuditRecord,
    ) -> Result<AccessKey, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            crate::db::lock_text_row(c, "access_keys", id.as_str())?;
            let current = load(c, account, user, id)?;
            let validity = changes.validity.apply(current.validity);
            let target = access_keys::table.filter(access_keys::id.eq(id.as_str()));
            // Only the ends named: a concurrent change of the other end is not undone.
            if let Some(at) = changes.validity.not_before {
                diesel::update(target)
                    .set(access_keys::not_before.eq(at.map(to_db)))
                    .execute(c)?;
            }
            if let Some(at) = changes.validity.expires_at {
                diesel::update(target)
                    .set(access_keys::expires_at.eq(at.map(to_db)))
                    .execute(c)?;
            }
            diesel::update(target)
                .set((
                    access_keys::status.eq(changes.status.unwrap_or(current.status).as_str()),
                    access_keys::name.eq(match &changes.name {
                        Some(n) => n.as_deref(),
                        None => current.name.as_deref(),
                    }),
                    access_keys::allowed_ips.eq(networks_column(
                        changes
                            .allowed_ips
                            .as_deref()
                            .unwrap_or(current.allowed_ips.as_slice()),
                    )),
                ))
                .execute(c)?;
            let allowed_ips_changed = changes
                .allowed_ips
                .as_ref()
                .is_some_and(|n| *n != current.allowed_ips);
            if allowed_ips_changed
                || changes.status.is_some_and(|s| s != current.status)
                || validity != current.validity
            {
                epoch::bump(c, account)?;
            }
            audit::insert(c, &with_target(audit, id))?;
            load(c, account, user, id)
        })
        .map_err(Into::into)
    }

    fn delete_access_key(
        &self,
        account: AccountId,
        user: UserId,
        id: &AccessKeyId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let n = diesel::delete(
                access_keys::table
                    .filter(access_keys::id.eq(id.as_str()))
                    .filter(access_keys::account_id.eq(account.0))
                    .filter(access_keys::user_id.eq(user.0)),
            )
            .execute(c)?;
            found(n)?;
            epoch::bump(c, account)?;
            audit::insert(c, &with_target(audit, id))?;
            Ok(())
        })
        .map_err(Into::into)
    }

    fn touch_access_keys(&self, uses: &[Used<AccessKeyId>]) -> Result<(), RepoError> {
        if uses.is_empty() {
            return Ok(());
        }
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            for used in uses {
                diesel::update(access_keys::table.filter(access_keys::id.eq(used.id.as_str())))
                    .set((
                        access_keys::last_used_at.eq(to_db(used.at)),
                        access_keys::last_used_from.eq(used.from.as_deref()),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
        .map_err(Into::into)
    }
}
