//! Users and their roles.

use std::collections::HashMap;
use tessera_domain::Field;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::ports::{
    ListQuery, NewUser, Page, RepoError, RoleChange, UserChanges, UserRepo, UserWithSecret,
};
use tessera_domain::roles::{RoleId, ids as role_ids};
use tessera_domain::user::{Login, User, UserStatus};

use crate::db::{AnyConnection, lock_account, write_tx};
use crate::error::{StoreError, found, unique_as};
use crate::schema::{accounts, service_key_roles, service_keys, sessions, user_roles, users};
use crate::time::{from_db, to_db};
use crate::{Store, audit, epoch};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    id: i64,
    account_id: i64,
    login: String,
    /// The email (read by the lookup by email).
    pub(crate) email: Option<String>,
    phone_number: Option<String>,
    description: Option<String>,
    status: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    last_sign_in_at: Option<NaiveDateTime>,
    last_sign_in_from: Option<String>,
}

impl UserRow {
    fn into_user(self, roles: Vec<RoleId>) -> Result<User, StoreError> {
        Ok(User {
            id: UserId(self.id),
            account_id: AccountId(self.account_id),
            login: Login::from_trusted(self.login),
            email: self.email,
            phone_number: self.phone_number,
            description: self.description,
            status: UserStatus::parse(&self.status)
                .map_err(|_| StoreError::Corrupt(format!("user status {}", self.status)))?,
            roles,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
            last_sign_in_at: self.last_sign_in_at.map(from_db),
            last_sign_in_from: self.last_sign_in_from,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub(crate) struct NewUserRow<'a> {
    pub account_id: i64,
    pub login: &'a str,
    pub email: Option<&'a str>,
    pub phone_number: Option<&'a str>,
    pub description: Option<&'a str>,
    pub status: &'a str,
    pub password_hash: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = user_roles)]
struct UserRoleRow {
    user_id: i64,
    role_id: i64,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = users)]
struct UserChangeset<'a> {
    email: Option<Option<&'a str>>,
    phone_number: Option<Option<&'a str>>,
    description: Option<Option<&'a str>>,
    status: Option<&'a str>,
    password_hash: Option<&'a str>,
    updated_at: Option<NaiveDateTime>,
}

/// Inserts a user and its roles; returns the new id.
pub(crate) fn insert_user(
    conn: &mut AnyConnection,
    row: &NewUserRow<'_>,
    roles: &[RoleId],
) -> Result<i64, StoreError> {
    let id: i64 = diesel::insert_into(users::table)
        .values(row)
        .returning(users::id)
        .get_result(conn)
        .map_err(unique_as(Field::Login))?;
    insert_roles(conn, id, roles)?;
    count_users_by(conn, row.account_id, 1)?;
    Ok(id)
}

/// Adds `delta` to the account's user count (kept in the transaction that adds or removes a
/// user; see `list_users` and `count_users`).
fn count_users_by(conn: &mut AnyConnection, account: i64, delta: i64) -> Result<(), StoreError> {
    diesel::update(accounts::table.find(account))
        .set(accounts::user_count.eq(accounts::user_count + delta))
        .execute(conn)?;
    Ok(())
}

/// The account's user count.
pub(crate) fn user_count(conn: &mut AnyConnection, account: AccountId) -> Result<i64, StoreError> {
    accounts::table
        .find(account.0)
        .select(accounts::user_count)
        .first(conn)
        .optional()?
        .ok_or(StoreError::Rule(RepoError::NotFound))
}

fn insert_roles(
    conn: &mut AnyConnection,
    user_id: i64,
    roles: &[RoleId],
) -> Result<(), StoreError> {
    // One statement per role: a user has a handful, and diesel's multi-row insert does not cover
    // SQLite through a MultiConnection.
    for role in roles {
        diesel::insert_into(user_roles::table)
            .values(UserRoleRow {
                user_id,
                role_id: role.0,
            })
            .execute(conn)?;
    }
    Ok(())
}

/// The roles of each of `ids`, ascending.
pub(crate) fn roles_of(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<RoleId>>, StoreError> {
    let mut out: HashMap<i64, Vec<RoleId>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows: Vec<(i64, i64)> = user_roles::table
        .filter(user_roles::user_id.eq_any(ids))
        .order((user_roles::user_id, user_roles::role_id))
        .select((user_roles::user_id, user_roles::role_id))
        .load(conn)?;
    for (user, role) in rows {
        out.entry(user).or_default().push(RoleId(role));
    }
    Ok(out)
}

/// Loads user `id` of `account` with its roles.
pub(crate) fn load_user(
    conn: &mut AnyConnection,
    account: AccountId,
    id: UserId,
) -> Result<User, StoreError> {
    // The user and its roles in one round trip: a row per role (one with no role when it has
    // none).
    let rows: Vec<(UserRow, Option<i64>)> = users::table
        .left_join(user_roles::table)
        .filter(users::id.eq(id.0))
        .filter(users::account_id.eq(account.0))
        .order(user_roles::role_id)
        .select((UserRow::as_select(), user_roles::role_id.nullable()))
        .load(conn)?;
    let mut rows = rows.into_iter();
    let (row, first) = rows.next().ok_or(StoreError::Rule(RepoError::NotFound))?;
    let roles = first
        .into_iter()
        .chain(rows.filter_map(|(_, role)| role))
        .map(RoleId)
        .collect();
    row.into_user(roles)
}

/// Fails with `LastOwner` when the account has no active owner left.
fn ensure_an_active_owner(conn: &mut AnyConnection, account: AccountId) -> Result<(), StoreError> {
    let owners: i64 = users::table
        .inner_join(user_roles::table)
        .filter(users::account_id.eq(account.0))
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .filter(user_roles::role_id.eq(role_ids::OWNER.0))
        .count()
        .get_result(conn)?;
    if owners == 0 {
        Err(StoreError::Rule(RepoError::LastOwner))
    } else {
        Ok(())
    }
}

pub(crate) fn audit_with_target(audit: &AuditRecord, target: String) -> AuditRecord {
    let mut record = audit.clone();
    if record.target.is_none() {
        record.target = Some(target);
    }
    record
}

fn ids(roles: &[RoleId]) -> Vec<i64> {
    roles.iter().map(|r| r.0).collect()
}

/// The numeric ids among `hidden` (a text id cannot name a user, so it hides nothing).
fn hidden_ids(query: &ListQuery) -> Vec<i64> {
    query.hidden.iter().filter_map(|h| h.parse().ok()).collect()
}

fn filtered<'a>(
    account: AccountId,
    query: &'a ListQuery,
) -> users::BoxedQuery<'a, crate::db::MultiBackend> {
    let mut q = users::table
        .filter(users::account_id.eq(account.0))
        .into_boxed();
    let hidden = hidden_ids(query);
    if !hidden.is_empty() {
        q = q.filter(users::id.ne_all(hidden));
    }
    if let Some(name) = &query.name {
        q = q.filter(users::login.eq(name.to_lowercase()));
    }
    if let Some(fuzzy) = &query.fuzzy_name {
        q = q.filter(
            users::login
                .like(crate::like_pattern(&fuzzy.to_lowercase()))
                .escape('\\'),
        );
    }
    q
}

/// Users of `rows` with their roles (one more query).
fn with_roles(conn: &mut AnyConnection, rows: Vec<UserRow>) -> Result<Vec<User>, RepoError> {
    let found: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut roles = roles_of(conn, &found)?;
    rows.into_iter()
        .map(|r| {
            let user_roles = roles.remove(&r.id).unwrap_or_default();
            r.into_user(user_roles).map_err(Into::into)
        })
        .collect()
}

impl UserRepo for Store {
    fn create_user(
        &self,
        user: &NewUser,
        limit: u32,
        audit: &AuditRecord,
    ) -> Result<User, RepoError> {
        crate::users_create::create(&self.db, user, limit, audit, false)?
            .ok_or_else(|| RepoError::Internal("a user was not created".into()))
    }

    fn create_user_unless_email_taken(
        &self,
        user: &NewUser,
        limit: u32,
        audit: &AuditRecord,
    ) -> Result<Option<User>, RepoError> {
        crate::users_create::create(&self.db, user, limit, audit, true)
    }

    fn get_user(&self, account: AccountId, id: UserId) -> Result<User, RepoError> {
        let mut conn = self.db.conn()?;
        load_user(&mut conn, account, id).map_err(Into::into)
    }

    fn get_users(&self, account: AccountId, ids: &[UserId]) -> Result<Vec<User>, RepoError> {
        let mut conn = self.db.conn()?;
        let wanted: Vec<i64> = ids.iter().map(|u| u.0).collect();
        let rows: Vec<UserRow> = users::table
            .filter(users::account_id.eq(account.0))
            .filter(users::id.eq_any(&wanted))
            .order(users::id)
            .select(UserRow::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        with_roles(&mut conn, rows)
    }

    fn find_users_by_email(&self, account: AccountId, email: &str) -> Result<Vec<User>, RepoError> {
        let mut conn = self.db.conn()?;
        let rows = crate::users_create::users_with_email(&mut conn, account, email)?;
        with_roles(&mut conn, rows)
    }

    fn find_user_by_login(
        &self,
        account: AccountId,
        login: &Login,
    ) -> Result<Option<UserWithSecret>, RepoError> {
        let mut conn = self.db.conn()?;
        let found: Option<(UserRow, Option<String>)> = users::table
            .filter(users::account_id.eq(account.0))
            .filter(users::login.eq(login.as_str()))
            .select((UserRow::as_select(), users::password_hash))
            .first(&mut *conn)
            .optional()
            .map_err(StoreError::from)?;
        let Some((row, password_hash)) = found else {
            return Ok(None);
        };
        let id = row.id;
        let roles = roles_of(&mut conn, &[id])?.remove(&id).unwrap_or_default();
        Ok(Some(UserWithSecret {
            user: row.into_user(roles)?,
            password_hash,
        }))
    }

    fn list_users(&self, account: AccountId, query: &ListQuery) -> Result<Page<User>, RepoError> {
        let mut conn = self.db.conn()?;
        // Unfiltered, the total is the account's counter: a page costs the same with ten users
        // or a million.
        let total: i64 =
            if query.name.is_none() && query.fuzzy_name.is_none() && hidden_ids(query).is_empty() {
                user_count(&mut conn, account)?
            } else {
                filtered(account, query)
                    .count()
                    .get_result(&mut *conn)
                    .map_err(StoreError::from)?
            };
        let mut q = filtered(account, query);
        let after = match query.after.as_deref().map(str::parse::<i64>) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => return Err(RepoError::Internal("a user cursor is an id".into())),
        };
        q = match (after, query.descending) {
            (Some(after), false) => q.filter(users::id.gt(after)),
            (Some(after), true) => q.filter(users::id.lt(after)),
            (None, _) => q.offset(i64::try_from(query.offset).unwrap_or(i64::MAX)),
        };
        q = if query.descending {
            q.order(users::id.desc())
        } else {
            q.order(users::id.asc())
        };
        let rows: Vec<UserRow> = q
            .limit(i64::from(query.limit))
            .select(UserRow::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut roles = roles_of(&mut conn, &ids)?;
        let items = rows
            .into_iter()
            .map(|r| {
                let user_roles = roles.remove(&r.id).unwrap_or_default();
                r.into_user(user_roles)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, total })
    }

    fn count_users(&self, account: AccountId) -> Result<i64, RepoError> {
        let mut conn = self.db.conn()?;
        user_count(&mut conn, account).map_err(Into::into)
    }

    fn update_user(
        &self,
        account: AccountId,
        id: UserId,
        changes: &UserChanges,
        audit: &AuditRecord,
    ) -> Result<User, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            lock_account(c, account.0)?;
            let set = UserChangeset {
                email: changes.email.as_ref().map(Option::as_deref),
                phone_number: changes.phone_number.as_ref().map(Option::as_deref),
                description: changes.description.as_ref().map(Option::as_deref),
                status: changes.status.map(UserStatus::as_str),
                password_hash: changes.password_hash.as_deref(),
                updated_at: Some(to_db(changes.updated_at)),
            };
            let n = diesel::update(
                users::table
                    .filter(users::id.eq(id.0))
                    .filter(users::account_id.eq(account.0)),
            )
            .set(&set)
            .execute(c)?;
            found(n)?;
            if let Some(roles) = &changes.roles {
                diesel::delete(user_roles::table.filter(user_roles::user_id.eq(id.0)))
                    .execute(c)?;
                insert_roles(c, id.0, roles)?;
            }
            if changes.password_hash.is_some() {
                diesel::delete(sessions::table.filter(sessions::user_id.eq(id.0))).execute(c)?;
                // A challenge is a right password waiting for its code: the old password's go.
                diesel::delete(
                    crate::schema::mfa_challenges::table
                        .filter(crate::schema::mfa_challenges::user_id.eq(id.0)),
                )
                .execute(c)?;
            }
            if changes.status.is_some() || changes.roles.is_some() {
                ensure_an_active_owner(c, account)?;
            }
            // The email too: the `X-Auth-Email` credential names it.
            if changes.status.is_some()
                || changes.password_hash.is_some()
                || changes.roles.is_some()
                || changes.email.is_some()
            {
                epoch::bump(c, account)?;
            }
            audit::insert(c, &audit_with_target(audit, format!("user:{id}")))?;
            load_user(c, account, id)
        })
        .map_err(Into::into)
    }

    fn change_user_roles(
        &self,
        account: AccountId,
        id: UserId,
        change: &RoleChange,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<User, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            lock_account(c, account.0)?;
            let current = load_user(c, account, id)?;
            match change {
                RoleChange::Add(roles) => {
                    let missing: Vec<RoleId> = roles
                        .iter()
                        .filter(|r| !current.roles.contains(r))
                        .copied()
                        .collect();
                    insert_roles(c, id.0, &missing)?;
                }
                RoleChange::Remove { roles, from_keys } => {
                    diesel::delete(
                        user_roles::table
                            .filter(user_roles::user_id.eq(id.0))
                            .filter(user_roles::role_id.eq_any(ids(roles))),
                    )
                    .execute(c)?;
                    if *from_keys {
                        let keys = service_keys::table
                            .filter(service_keys::user_id.eq(id.0))
                            .select(service_keys::id);
                        diesel::delete(
                            service_key_roles::table
                                .filter(service_key_roles::key_id.eq_any(keys))
                                .filter(service_key_roles::role_id.eq_any(ids(roles))),
                        )
                        .execute(c)?;
                    }
                }
                RoleChange::Replace(roles) => {
                    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(id.0)))
                        .execute(c)?;
                    insert_roles(c, id.0, roles)?;
                }
            }
            diesel::update(users::table.filter(users::id.eq(id.0)))
                .set(users::updated_at.eq(to_db(at)))
                .execute(c)?;
            ensure_an_active_owner(c, account)?;
            epoch::bump(c, account)?;
            audit::insert(c, &audit_with_target(audit, format!("user:{id}")))?;
            load_user(c, account, id)
        })
        .map_err(Into::into)
    }

    fn delete_user(
        &self,
        account: AccountId,
        id: UserId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            lock_account(c, account.0)?;
            let n = diesel::delete(
                users::table
                    .filter(users::id.eq(id.0))
                    .filter(users::account_id.eq(account.0)),
            )
            .execute(c)?;
            found(n)?;
            count_users_by(c, account.0, -1)?;
            ensure_an_active_owner(c, account)?;
            epoch::bump(c, account)?;
            audit::insert(c, &audit_with_target(audit, format!("user:{id}")))?;
            Ok(())
        })
        .map_err(Into::into)
    }
}
