//! Accounts, created together with their owner.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use tessera_domain::account::Account;
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::keys::KeyStatus;
use tessera_domain::ports::{
    AccountChanges, AccountRepo, BootstrapRecord, BootstrappedAccount, NewAccount, RepoError,
};
use tessera_domain::roles::ids as role_ids;
use tessera_domain::user::UserStatus;

use crate::db::{AnyConnection, lock_account, write_tx};
use crate::error::StoreError;
use crate::schema::{access_keys, accounts, service_keys};
use crate::time::{from_db, to_db};
use crate::users::{NewUserRow, insert_user, load_user};
use crate::{Store, audit};

#[derive(Queryable, Selectable)]
#[diesel(table_name = accounts)]
struct AccountRow {
    id: i64,
    name: String,
    email: String,
    parent_id: Option<i64>,
    active: bool,
    created_at: NaiveDateTime,
    max_key_lifetime_days: Option<i32>,
    require_mfa: bool,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Account {
            // Written only from a checked value (1–3650); anything else read back is taken
            // as the strictest limit, never as none.
            max_key_lifetime_days: r
                .max_key_lifetime_days
                .map(|d| u32::try_from(d).unwrap_or(1)),
            id: AccountId(r.id),
            name: r.name,
            email: r.email,
            parent_id: r.parent_id.map(AccountId),
            active: r.active,
            created_at: from_db(r.created_at),
            require_mfa: r.require_mfa,
        }
    }
}

pub(crate) fn load_account(conn: &mut AnyConnection, id: AccountId) -> Result<Account, StoreError> {
    accounts::table
        .find(id.0)
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
        .map(Account::from)
        .ok_or(StoreError::Rule(RepoError::NotFound))
}

fn insert_account(
    conn: &mut AnyConnection,
    new: &NewAccount,
    audit: &AuditRecord,
) -> Result<BootstrappedAccount, StoreError> {
    if let Some(parent) = new.parent_id {
        load_account(conn, parent)?;
    }
    let at = to_db(new.created_at);
    let id: i64 = diesel::insert_into(accounts::table)
        .values((
            accounts::name.eq(&new.name),
            accounts::email.eq(&new.email),
            accounts::parent_id.eq(new.parent_id.map(|p| p.0)),
            accounts::active.eq(true),
            accounts::created_at.eq(at),
        ))
        .returning(accounts::id)
        .get_result(conn)?;
    let owner_id = insert_user(
        conn,
        &NewUserRow {
            account_id: id,
            login: new.owner_login.as_str(),
            email: new.owner_email.as_deref(),
            phone_number: None,
            description: Some("Account owner"),
            status: UserStatus::Active.as_str(),
            password_hash: Some(&new.owner_password_hash),
            created_at: at,
            updated_at: at,
        },
        &[role_ids::OWNER, role_ids::ADMINISTRATOR],
    )?;
    if let Some(key) = &new.owner_access_key {
        diesel::insert_into(access_keys::table)
            .values((
                access_keys::id.eq(key.id.as_str()),
                access_keys::account_id.eq(id),
                access_keys::user_id.eq(owner_id),
                access_keys::name.eq("initial"),
                access_keys::secret_hash.eq(&key.secret_digest),
                access_keys::status.eq(KeyStatus::Active.as_str()),
                access_keys::created_at.eq(at),
            ))
            .execute(conn)?;
    }
    if let Some(key) = &new.service_key {
        let key_id = key.id.to_string();
        diesel::insert_into(service_keys::table)
            .values((
                service_keys::id.eq(&key_id),
                service_keys::account_id.eq(id),
                service_keys::user_id.eq(None::<i64>),
                service_keys::name.eq(&key.name),
                service_keys::public_key.eq(&key.public_key_pem),
                service_keys::created_at.eq(at),
            ))
            .execute(conn)?;
        crate::service_keys::insert_roles(conn, &key_id, &key.roles)?;
    }
    let mut record = audit.clone();
    record.account_id = Some(AccountId(id));
    if record.target.is_none() {
        record.target = Some(format!("account:{id}"));
    }
    audit::insert(conn, &record)?;
    Ok(BootstrappedAccount {
        account: load_account(conn, AccountId(id))?,
        owner: load_user(conn, AccountId(id), UserId(owner_id))?,
    })
}

impl AccountRepo for Store {
    fn create_account(
        &self,
        account: &NewAccount,
        max_children: u32,
        audit: &AuditRecord,
    ) -> Result<BootstrappedAccount, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            if let Some(parent) = account.parent_id {
                lock_account(c, parent.0)?;
                let children: i64 = accounts::table
                    .filter(accounts::parent_id.eq(parent.0))
                    .count()
                    .get_result(c)?;
                if children >= i64::from(max_children) {
                    return Err(StoreError::Rule(RepoError::LimitReached));
                }
            }
            insert_account(c, account, audit)
        })
        .map_err(Into::into)
    }

    fn bootstrap(
        &self,
        record: &BootstrapRecord,
    ) -> Result<Option<BootstrappedAccount>, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            // Two instances starting together on one Postgres: the second waits here, then sees
            // the first one's account. SQLite's write transaction is exclusive already.
            if let AnyConnection::Postgresql(pg) = c {
                diesel::sql_query("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE").execute(pg)?;
            }
            let existing: i64 = accounts::table.count().get_result(c)?;
            if existing > 0 {
                return Ok(None);
            }
            insert_account(c, &record.account, &record.audit).map(Some)
        })
        .map_err(Into::into)
    }

    fn has_accounts(&self) -> Result<bool, RepoError> {
        let mut conn = self.db.conn()?;
        let any: Option<i64> = accounts::table
            .select(accounts::id)
            .first(&mut *conn)
            .optional()
            .map_err(StoreError::from)?;
        Ok(any.is_some())
    }

    fn list_child_accounts(&self, parent: AccountId) -> Result<Vec<Account>, RepoError> {
        let mut conn = self.db.conn()?;
        let rows: Vec<AccountRow> = accounts::table
            .filter(accounts::parent_id.eq(parent.0))
            .order(accounts::id)
            .select(AccountRow::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        Ok(rows.into_iter().map(Account::from).collect())
    }

    fn update_account(
        &self,
        id: AccountId,
        changes: &AccountChanges,
        audit: &AuditRecord,
    ) -> Result<Account, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            // Read under the row's lock: a concurrent rename must not write back an active
            // flag a deactivation just changed.
            crate::db::lock_account(c, id.0)?;
            let current = load_account(c, id)?;
            let lifetime = changes
                .max_key_lifetime_days
                .unwrap_or(current.max_key_lifetime_days)
                .map(|d| i32::try_from(d).unwrap_or(i32::MAX));
            diesel::update(accounts::table.find(id.0))
                .set((
                    accounts::name.eq(changes.name.as_deref().unwrap_or(&current.name)),
                    accounts::email.eq(changes.email.as_deref().unwrap_or(&current.email)),
                    accounts::active.eq(changes.active.unwrap_or(current.active)),
                    accounts::max_key_lifetime_days.eq(lifetime),
                    accounts::require_mfa.eq(changes.require_mfa.unwrap_or(current.require_mfa)),
                ))
                .execute(c)?;
            if changes.active.is_some_and(|a| a != current.active) {
                crate::epoch::bump_subtree(c, id)?;
            } else if changes.name.as_ref().is_some_and(|n| *n != current.name) {
                // The legacy credential (account name + API key) names it.
                crate::epoch::bump(c, id)?;
            }
            let mut record = audit.clone();
            record.target.get_or_insert_with(|| format!("account:{id}"));
            audit::insert(c, &record)?;
            load_account(c, id)
        })
        .map_err(Into::into)
    }

    fn get_account(&self, id: AccountId) -> Result<Account, RepoError> {
        let mut conn = self.db.conn()?;
        load_account(&mut conn, id).map_err(Into::into)
    }
}
