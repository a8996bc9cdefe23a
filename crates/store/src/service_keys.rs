//! Service keys (public halves) and their roles.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccountId, ServiceKeyId, UserId};
use tessera_domain::keys::{KeyValidity, ServiceKey};
use tessera_domain::ports::{
    ListQuery, NewServiceKey, Page, RepoError, RoleChange, ServiceKeyAuth, ServiceKeyChanges,
    ServiceKeyRepo, Used,
};
use tessera_domain::roles::RoleId;

use crate::authorized_ips::{networks_column, stored_networks};
use crate::db::{AnyConnection, MultiBackend, lock_account, write_tx};
use crate::error::{StoreError, found};
use crate::schema::{service_key_roles, service_keys, users};
use crate::time::{from_db, to_db};
use crate::{Store, audit, epoch, like_pattern};

#[derive(Queryable, Selectable)]
#[diesel(table_name = service_keys)]
struct KeyRow {
    id: String,
    account_id: i64,
    user_id: Option<i64>,
    name: String,
    description: Option<String>,
    created_at: NaiveDateTime,
    not_before: Option<NaiveDateTime>,
    expires_at: Option<NaiveDateTime>,
    allowed_ips: Option<String>,
    last_used_at: Option<NaiveDateTime>,
    last_used_from: Option<String>,
}

impl KeyRow {
    fn into_key(self, roles: Vec<RoleId>) -> Result<ServiceKey, StoreError> {
        Ok(ServiceKey {
            id: self
                .id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("service key id {}", self.id)))?,
            account_id: AccountId(self.account_id),
            owner: self.user_id.map(UserId),
            name: self.name,
            description: self.description,
            roles,
            created_at: from_db(self.created_at),
            validity: KeyValidity {
                not_before: self.not_before.map(from_db),
                expires_at: self.expires_at.map(from_db),
            },
            allowed_ips: stored_networks(self.allowed_ips.as_deref())?,
            last_used_at: self.last_used_at.map(from_db),
            last_used_from: self.last_used_from,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = service_key_roles)]
struct KeyRoleRow<'a> {
    key_id: &'a str,
    role_id: i64,
}

pub(crate) fn insert_roles(
    conn: &mut AnyConnection,
    key: &str,
    roles: &[RoleId],
) -> Result<(), StoreError> {
    for role in roles {
        diesel::insert_into(service_key_roles::table)
            .values(KeyRoleRow {
                key_id: key,
                role_id: role.0,
            })
            .execute(conn)?;
    }
    Ok(())
}

fn roles_of(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<HashMap<String, Vec<RoleId>>, StoreError> {
    let mut out: HashMap<String, Vec<RoleId>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows: Vec<(String, i64)> = service_key_roles::table
        .filter(service_key_roles::key_id.eq_any(ids))
        .order((service_key_roles::key_id, service_key_roles::role_id))
        .select((service_key_roles::key_id, service_key_roles::role_id))
        .load(conn)?;
    for (key, role) in rows {
        out.entry(key).or_default().push(RoleId(role));
    }
    Ok(out)
}

fn load(
    conn: &mut AnyConnection,
    account: AccountId,
    id: ServiceKeyId,
) -> Result<ServiceKey, StoreError> {
    let key = id.to_string();
    let row: KeyRow = service_keys::table
        .filter(service_keys::id.eq(&key))
        .filter(service_keys::account_id.eq(account.0))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::Rule(RepoError::NotFound))?;
    let roles = roles_of(conn, std::slice::from_ref(&key))?
        .remove(&key)
        .unwrap_or_default();
    row.into_key(roles)
}

fn with_target(audit: &AuditRecord, id: ServiceKeyId) -> AuditRecord {
    let mut record = audit.clone();
    record
        .target
        .get_or_insert_with(|| format!("service_key:{id}"));
    record
}

fn filtered<'a>(
    account: AccountId,
    owner: Option<UserId>,
    query: &'a ListQuery,
) -> service_keys::BoxedQuery<'a, MultiBackend> {
    let mut q = service_keys::table
        .filter(service_keys::account_id.eq(account.0))
        .into_boxed();
    if let Some(owner) = owner {
        q = q.filter(service_keys::user_id.eq(owner.0));
    }
    if !query.hidden.is_empty() {
        q = q.filter(service_keys::id.ne_all(&query.hidden));
    }
    if !query.hidden_owners.is_empty() {
        q = q.filter(
            service_keys::user_id
                .is_null()
                .or(service_keys::user_id.ne_all(&query.hidden_owners)),
        );
    }
    if let Some(name) = &query.name {
        q = q.filter(service_keys::name.eq(name.clone()));
    }
    if let Some(filter) = query.expiry {
        let at = to_db(filter.at);
        q = if filter.expired {
            q.filter(service_keys::expires_at.le(at))
        } else {
            q.filter(
                service_keys::expires_at
                    .is_null()
                    .or(service_keys::expires_at.gt(at)),
            )
        };
    }
    if let Some(fuzzy) = &query.fuzzy_name {
        q = q.filter(
            crate::lower(service_keys::name)
                .like(like_pattern(&fuzzy.to_lowercase()))
                .escape('\\'),
        );
    }
    q
}

impl ServiceKeyRepo for Store {
    fn create_service_key(
        &self,
        key: &NewServiceKey,
        limit: u32,
        audit: &AuditRecord,
    ) -> Result<ServiceKey, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            lock_account(c, key.account_id.0)?;
            let mut owned = service_keys::table
                .filter(service_keys::account_id.eq(key.account_id.0))
                .into_boxed();
            owned = match key.owner {
                Some(user) => {
                    let in_account: i64 = users::table
                        .filter(users::id.eq(user.0))
                        .filter(users::account_id.eq(key.account_id.0))
                        .count()
                        .get_result(c)?;
                    if in_account == 0 {
                        return Err(StoreError::Rule(RepoError::NotFound));
                    }
                    owned.filter(service_keys::user_id.eq(user.0))
                }
                None => owned.filter(service_keys::user_id.is_null()),
            };
            let held: i64 = owned.count().get_result(c)?;
            if held >= i64::from(limit) {
                return Err(StoreError::Rule(RepoError::LimitReached));
            }
            let id = key.id.to_string();
            diesel::insert_into(service_keys::table)
                .values((
                    service_keys::id.eq(&id),
                    service_keys::account_id.eq(key.account_id.0),
                    service_keys::user_id.eq(key.owner.map(|u| u.0)),
                    service_keys::name.eq(&key.name),
                    service_keys::description.eq(key.description.as_deref()),
                    service_keys::public_key.eq(&key.public_key_pem),
                    service_keys::created_at.eq(to_db(key.created_at)),
                    service_keys::not_before.eq(key.validity.not_before.map(to_db)),
                    service_keys::expires_at.eq(key.validity.expires_at.map(to_db)),
                ))
                .execute(c)?;
            insert_roles(c, &id, &key.roles)?;
            audit::insert(c, &with_target(audit, key.id))?;
            load(c, key.account_id, key.id)
        })
        .map_err(Into::into)
    }

    fn get_service_key(
        &self,
        account: AccountId,
        id: ServiceKeyId,
    ) -> Result<ServiceKey, RepoError> {
        let mut conn = self.db.conn()?;
        load(&mut conn, account, id).map_err(Into::into)
    }

    fn find_service_key(&self, id: ServiceKeyId) -> Result<Option<ServiceKeyAuth>, RepoError> {
        let mut conn = self.db.conn()?;
        let key = id.to_string();
        let found: Option<(KeyRow, String)> = service_keys::table
            .filter(service_keys::id.eq(&key))
            .select((KeyRow::as_select(), service_keys::public_key))
            .first(&mut *conn)
            .optional()
            .map_err(StoreError::from)?;
        let Some((row, public_key_pem)) = found else {
            return Ok(None);
        };
        let roles = roles_of(&mut conn, std::slice::from_ref(&key))?
            .remove(&key)
            .unwrap_or_default();
        Ok(Some(ServiceKeyAuth {
            key: row.into_key(roles)?,
            public_key_pem,
        }))
    }

    fn list_service_keys(
        &self,
        account: AccountId,
        owner: Option<UserId>,
        query: &ListQuery,
    ) -> Result<Page<ServiceKey>, RepoError> {
        let mut conn = self.db.conn()?;
        let total: i64 = filtered(account, owner, query)
            .count()
            .get_result(&mut *conn)
            .map_err(StoreError::from)?;
        let mut q = filtered(account, owner, query);
        q = match (&query.after, query.descending) {
            (Some(after), false) => q.filter(service_keys::id.gt(after.clone())),
            (Some(after), true) => q.filter(service_keys::id.lt(after.clone())),
            (None, _) => q.offset(i64::try_from(query.offset).unwrap_or(i64::MAX)),
        };
        q = if query.descending {
            q.order(service_keys::id.desc())
        } else {
            q.order(service_keys::id.asc())
        };
        let rows: Vec<KeyRow> = q
            .limit(i64::from(query.limit))
            .select(KeyRow::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut roles = roles_of(&mut conn, &ids)?;
        let items = rows
            .into_iter()
            .map(|r| {
                let key_roles = roles.remove(&r.id).unwrap_or_default();
                r.into_key(key_roles)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, total })
    }

    fn update_service_key(
        &self,
        account: AccountId,
        id: ServiceKeyId,
        changes: &ServiceKeyChanges,
        audit: &AuditRecord,
    ) -> Result<ServiceKey, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            crate::db::lock_text_row(c, "service_keys", &id.to_string())?;
            let current = load(c, account, id)?;
            let validity = changes.validity.apply(current.validity);
            let target = service_keys::table
                .filter(service_keys::id.eq(id.to_string()))
                .filter(service_keys::account_id.eq(account.0));
            // Only the ends named: a concurrent change of the other end is not undone.
            if let Some(at) = changes.validity.not_before {
                diesel::update(target.clone())
                    .set(service_keys::not_before.eq(at.map(to_db)))
                    .execute(c)?;
            }
            if let Some(at) = changes.validity.expires_at {
                diesel::update(target.clone())
                    .set(service_keys::expires_at.eq(at.map(to_db)))
                    .execute(c)?;
            }
            diesel::update(target.clone())
                .set((
                    service_keys::name.eq(changes.name.as_deref().unwrap_or(&current.name)),
                    service_keys::description.eq(match &changes.description {
                        Some(d) => d.as_deref(),
                        None => current.description.as_deref(),
                    }),
                    service_keys::allowed_ips.eq(networks_column(
                        changes
                            .allowed_ips
                            .as_deref()
                            .unwrap_or(current.allowed_ips.as_slice()),
                    )),
                ))
                .execute(c)?;
            if validity != current.validity
                || changes
                    .allowed_ips
                    .as_ref()
                    .is_some_and(|n| *n != current.allowed_ips)
            {
                epoch::bump(c, account)?;
            }
            audit::insert(c, &with_target(audit, id))?;
            load(c, account, id)
        })
        .map_err(Into::into)
    }

    fn change_service_key_roles(
        &self,
        account: AccountId,
        id: ServiceKeyId,
        change: &RoleChange,
        audit: &AuditRecord,
    ) -> Result<ServiceKey, RepoError> {
        let mut conn = self.db.conn()?;
        let key = id.to_string();
        write_tx(&mut conn, |c| {
            let current = load(c, account, id)?;
            let ids = |roles: &[RoleId]| roles.iter().map(|r| r.0).collect::<Vec<_>>();
            match change {
                RoleChange::Add(roles) => {
                    let missing: Vec<RoleId> = roles
                        .iter()
                        .filter(|r| !current.roles.contains(r))
                        .copied()
                        .collect();
                    insert_roles(c, &key, &missing)?;
                }
                RoleChange::Remove { roles, .. } => {
                    diesel::delete(
                        service_key_roles::table
                            .filter(service_key_roles::key_id.eq(&key))
                            .filter(service_key_roles::role_id.eq_any(ids(roles))),
                    )
                    .execute(c)?;
                }
                RoleChange::Replace(roles) => {
                    diesel::delete(
                        service_key_roles::table.filter(service_key_roles::key_id.eq(&key)),
                    )
                    .execute(c)?;
                    insert_roles(c, &key, roles)?;
                }
            }
            epoch::bump(c, account)?;
            audit::insert(c, &with_target(audit, id))?;
            load(c, account, id)
        })
        .map_err(Into::into)
    }

    fn delete_service_key(
        &self,
        account: AccountId,
        id: ServiceKeyId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let n = diesel::delete(
                service_keys::table
                    .filter(service_keys::id.eq(id.to_string()))
                    .filter(service_keys::account_id.eq(account.0)),
            )
            .execute(c)?;
            found(n)?;
            epoch::bump(c, account)?;
            audit::insert(c, &with_target(audit, id))?;
            Ok(())
        })
        .map_err(Into::into)
    }

    fn keys_holding_roles(
        &self,
        account: AccountId,
        user: UserId,
        roles: &[RoleId],
    ) -> Result<Vec<ServiceKeyId>, RepoError> {
        let mut conn = self.db.conn()?;
        let ids: Vec<String> = service_keys::table
            .inner_join(service_key_roles::table)
            .filter(service_keys::account_id.eq(account.0))
            .filter(service_keys::user_id.eq(user.0))
            .filter(
                service_key_roles::role_id.eq_any(roles.iter().map(|r| r.0).collect::<Vec<_>>()),
            )
            .select(service_keys::id)
            .distinct()
            .order(service_keys::id)
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        ids.iter()
            .map(|id| {
                id.parse()
                    .map_err(|_| RepoError::Internal(format!("service key id {id}")))
            })
            .collect()
    }

    fn touch_service_keys(&self, uses: &[Used<ServiceKeyId>]) -> Result<(), RepoError> {
        if uses.is_empty() {
            return Ok(());
        }
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            for used in uses {
                diesel::update(
                    service_keys::table.filter(service_keys::id.eq(used.id.to_string())),
                )
                .set((
                    service_keys::last_used_at.eq(to_db(used.at)),
                    service_keys::last_used_from.eq(used.from.as_deref()),
                ))
                .execute(c)?;
            }
            Ok(())
        })
        .map_err(Into::into)
    }
}
