//! Resource groups, user groups with their policies and members, and what the policy engine
//! loads for a principal.

use std::collections::HashMap;
use tessera_domain::{Entity, Field};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use tessera_domain::audit::AuditRecord;
use tessera_domain::groups::{Member, MemberStatus, Meta, Policy, ResourceGroup, UserGroup};
use tessera_domain::ids::{
    AccountId, PermissionGroupId, PolicyId, ResourceGroupId, UserGroupId, UserId,
};
use tessera_domain::permissions::groups as permission_groups;
use tessera_domain::policy::{Effect, PolicyRule, Scope};
use tessera_domain::ports::{
    AuthzRepo, ListQuery, Page, RepoError, ResourceGroupRepo, UserGroupRepo,
};

use crate::db::{AnyConnection, MultiBackend, lock_account, write_tx};
use crate::error::{StoreError, found, unique_as};
use crate::schema::{
    policies, policy_permission_groups, policy_resource_groups, resource_groups,
    user_group_members, user_groups, users,
};
use crate::time::{from_db, to_db};
use crate::{Store, audit, epoch, like_pattern, lower};

/// The stored form of a scope: the wire's keys.
#[derive(Serialize, Deserialize)]
struct StoredScope {
    key: String,
    objects: Vec<String>,
}

fn scope_to_db(scope: &Scope) -> String {
    serde_json::to_string(&StoredScope {
        key: Scope::account_key(scope.account),
        objects: scope.object_keys(),
    })
    .unwrap_or_default()
}

fn scope_from_db(text: &str) -> Result<Scope, StoreError> {
    let stored: StoredScope =
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("scope: {e}")))?;
    Scope::from_keys(&stored.key, &stored.objects)
        .map_err(|e| StoreError::Corrupt(format!("scope: {e}")))
}

fn meta_from_db(text: Option<String>) -> Result<Option<Meta>, StoreError> {
    text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("meta: {e}"))))
        .transpose()
}

fn meta_to_db(meta: Option<&Meta>) -> Option<String> {
    meta.and_then(|m| serde_json::to_string(m).ok())
}

fn parse_hex<T>(
    text: &str,
    parse: fn(&str) -> Result<T, tessera_domain::DomainError>,
) -> Result<T, StoreError> {
    parse(text).map_err(|_| StoreError::Corrupt(format!("id {text}")))
}

fn effect_from_db(text: &str) -> Result<Effect, StoreError> {
    match text {
        "allow" => Ok(Effect::Allow),
        "deny" => Ok(Effect::Deny),
        other => Err(StoreError::Corrupt(format!("policy access {other}"))),
    }
}

// ---------------------------------------------------------------- resource groups

#[derive(Queryable, Selectable)]
#[diesel(table_name = resource_groups)]
struct ResourceGroupRow {
    id: String,
    account_id: i64,
    name: String,
    meta: Option<String>,
    scope: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl ResourceGroupRow {
    fn into_group(self) -> Result<ResourceGroup, StoreError> {
        Ok(ResourceGroup {
            id: parse_hex(&self.id, ResourceGroupId::parse)?,
            account_id: AccountId(self.account_id),
            name: self.name,
            meta: meta_from_db(self.meta)?,
            scope: scope_from_db(&self.scope)?,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
        })
    }
}

fn load_resource_group(
    conn: &mut AnyConnection,
    account: AccountId,
    id: ResourceGroupId,
) -> Result<ResourceGroup, StoreError> {
    resource_groups::table
        .filter(resource_groups::id.eq(id.to_string()))
        .filter(resource_groups::account_id.eq(account.0))
        .select(ResourceGroupRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::Rule(RepoError::NotFound))?
        .into_group()
}

fn with_target(audit: &AuditRecord, target: String) -> AuditRecord {
    let mut record = audit.clone();
    record.target.get_or_insert(target);
    record
}

fn resource_groups_filtered<'a>(
    account: AccountId,
    query: &'a ListQuery,
) -> resource_groups::BoxedQuery<'a, MultiBackend> {
    let mut q = resource_groups::table
        .filter(resource_groups::account_id.eq(account.0))
        .into_boxed();
    if !query.hidden.is_empty() {
        q = q.filter(resource_groups::id.ne_all(&query.hidden));
    }
    if let Some(name) = &query.name {
        q = q.filter(resource_groups::name.eq(name.clone()));
    }
    if let Some(fuzzy) = &query.fuzzy_name {
        q = q.filter(
            lower(resource_groups::name)
                .like(like_pattern(&fuzzy.to_lowercase()))
                .escape('\\'),
        );
    }
    q
}

impl ResourceGroupRepo for Store {
    fn create_resource_group(
        &self,
        group: &ResourceGroup,
        audit: &AuditRecord,
    ) -> Result<ResourceGroup, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            diesel::insert_into(resource_groups::table)
                .values((
                    resource_groups::id.eq(group.id.to_string()),
                    resource_groups::account_id.eq(group.account_id.0),
                    resource_groups::name.eq(&group.name),
                    resource_groups::meta.eq(meta_to_db(group.meta.as_ref())),
                    resource_groups::scope.eq(scope_to_db(&group.scope)),
                    resource_groups::created_at.eq(to_db(group.created_at)),
                    resource_groups::updated_at.eq(to_db(group.updated_at)),
                ))
                .execute(c)
                .map_err(unique_as(Field::Name))?;
            audit::insert(
                c,
                &with_target(audit, format!("resource_group:{}", group.id)),
            )?;
            load_resource_group(c, group.account_id, group.id)
        })
        .map_err(Into::into)
    }

    fn get_resource_group(
        &self,
        account: AccountId,
        id: ResourceGroupId,
    ) -> Result<ResourceGroup, RepoError> {
        let mut conn = self.db.conn()?;
        load_resource_group(&mut conn, account, id).map_err(Into::into)
    }

    fn list_resource_groups(
        &self,
        account: AccountId,
        query: &ListQuery,
    ) -> Result<Page<ResourceGroup>, RepoError> {
        let mut conn = self.db.conn()?;
        let total: i64 = resource_groups_filtered(account, query)
            .count()
            .get_result(&mut *conn)
            .map_err(StoreError::from)?;
        let mut q = resource_groups_filtered(account, query);
        q = match (&query.after, query.descending) {
            (Some(after), false) => q.filter(resource_groups::id.gt(after.clone())),
            (Some(after), true) => q.filter(resource_groups::id.lt(after.clone())),
            (None, _) => q.offset(i64::try_from(query.offset).unwrap_or(i64::MAX)),
        };
        q = if query.descending {
            q.order(resource_groups::id.desc())
        } else {
            q.order(resource_groups::id.asc())
        };
        let rows: Vec<ResourceGroupRow> = q
            .limit(i64::from(query.limit))
            .select(ResourceGroupRow::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        let items = rows
            .into_iter()
            .map(ResourceGroupRow::into_group)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, total })
    }

    fn update_resource_group(
        &self,
        group: &ResourceGroup,
        audit: &AuditRecord,
    ) -> Result<ResourceGroup, RepoError> {
        let (account, id) = (group.account_id, group.id);
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let n = diesel::update(
                resource_groups::table
                    .filter(resource_groups::id.eq(id.to_string()))
                    .filter(resource_groups::account_id.eq(account.0)),
            )
            .set((
                resource_groups::name.eq(&group.name),
                resource_groups::meta.eq(meta_to_db(group.meta.as_ref())),
                resource_groups::scope.eq(scope_to_db(&group.scope)),
                resource_groups::updated_at.eq(to_db(group.updated_at)),
            ))
            .execute(c)
            .map_err(unique_as(Field::Name))?;
            found(n)?;
            epoch::bump(c, account)?;
            audit::insert(c, &with_target(audit, format!("resource_group:{id}")))?;
            load_resource_group(c, account, id)
        })
        .map_err(Into::into)
    }

    fn delete_resource_group(
        &self,
        account: AccountId,
        id: ResourceGroupId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            load_resource_group(c, account, id)?;
            let used: i64 = policy_resource_groups::table
                .filter(policy_resource_groups::resource_group_id.eq(id.to_string()))
                .count()
                .get_result(c)?;
            if used > 0 {
                return Err(StoreError::Rule(RepoError::InUse(Entity::Policy)));
            }
            diesel::delete(resource_groups::table.filter(resource_groups::id.eq(id.to_string())))
                .execute(c)?;
            audit::insert(c, &with_target(audit, format!("resource_group:{id}")))?;
            Ok(())
        })
        .map_err(Into::into)
    }

    fn find_resource_groups(
        &self,
        account: AccountId,
        ids: &[ResourceGroupId],
    ) -> Result<Vec<ResourceGroup>, RepoError> {
        let mut conn = self.db.conn()?;
        let wanted: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let rows: Vec<ResourceGroupRow> = resource_groups::table
            .filter(resource_groups::account_id.eq(account.0))
            .filter(resource_groups::id.eq_any(&wanted))
            .order(resource_groups::id)
            .select(ResourceGroupRow::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        rows.into_iter()
            .map(|r| r.into_group().map_err(Into::into))
            .collect()
    }
}

// ---------------------------------------------------------------- user groups

#[derive(Queryable, Selectable)]
#[diesel(table_name = user_groups)]
struct UserGroupRow {
    id: String,
    account_id: i64,
    name: String,
    created_on: NaiveDateTime,
    modified_on: NaiveDateTime,
}

/// The policies of `groups`, by group id, in position order (three queries whatever the count).
fn policies_of(
    conn: &mut AnyConnection,
    groups: &[String],
) -> Result<HashMap<String, Vec<Policy>>, StoreError> {
    let mut query = policies::table
        .order((policies::user_group_id, policies::position))
        .select((policies::id, policies::user_group_id, policies::access))
        .into_boxed();
    // One group (the common case): `= $1`, whose plan Postgres keeps; `= ANY($1)` over a large
    // table is planned again on every call (measured by bench/scale_data.sh: authorize +0.2 ms
    // with 10,000 accounts).
    query = match groups {
        [one] => query.filter(policies::user_group_id.eq(one)),
        _ => query.filter(policies::user_group_id.eq_any(groups)),
    };
    let rows: Vec<(String, String, String)> = query.load(conn)?;
    let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let mut pgs: HashMap<String, Vec<PermissionGroupId>> = HashMap::new();
    if !ids.is_empty() {
        let pg_rows: Vec<(String, String)> = policy_permission_groups::table
            .filter(policy_permission_groups::policy_id.eq_any(&ids))
            .order((
                policy_permission_groups::policy_id,
                policy_permission_groups::permission_group_id,
            ))
            .select((
                policy_permission_groups::policy_id,
                policy_permission_groups::permission_group_id,
            ))
            .load(conn)?;
        for (policy, pg) in pg_rows {
            pgs.entry(policy)
                .or_default()
                .push(parse_hex(&pg, PermissionGroupId::parse)?);
        }
    }
    let mut rgs: HashMap<String, Vec<ResourceGroupId>> = HashMap::new();
    if !ids.is_empty() {
        let rg_rows: Vec<(String, String)> = policy_resource_groups::table
            .filter(policy_resource_groups::policy_id.eq_any(&ids))
            .order((
                policy_resource_groups::policy_id,
                policy_resource_groups::resource_group_id,
            ))
            .select((
                policy_resource_groups::policy_id,
                policy_resource_groups::resource_group_id,
            ))
            .load(conn)?;
        for (policy, rg) in rg_rows {
            rgs.entry(policy)
                .or_default()
                .push(parse_hex(&rg, ResourceGroupId::parse)?);
        }
    }
    let mut out: HashMap<String, Vec<Policy>> = HashMap::new();
    for (id, group, access) in rows {
        out.entry(group).or_default().push(Policy {
            id: parse_hex(&id, PolicyId::parse)?,
            access: effect_from_db(&access)?,
            permission_groups: pgs.remove(&id).unwrap_or_default(),
            resource_groups: rgs.remove(&id).unwrap_or_default(),
        });
    }
    Ok(out)
}

fn insert_policies(
    conn: &mut AnyConnection,
    group: &str,
    list: &[Policy],
) -> Result<(), StoreError> {
    for (position, policy) in list.iter().enumerate() {
        let id = policy.id.to_string();
        diesel::insert_into(policies::table)
            .values((
                policies::id.eq(&id),
                policies::user_group_id.eq(group),
                policies::access.eq(policy.access.as_str()),
                policies::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
            ))
            .execute(conn)
            .map_err(unique_as(Field::PolicyId))?;
        for pg in &policy.permission_groups {
            diesel::insert_into(policy_permission_groups::table)
                .values((
                    policy_permission_groups::policy_id.eq(&id),
                    policy_permission_groups::permission_group_id.eq(pg.to_string()),
                ))
                .execute(conn)
                .map_err(unique_as(Field::PermissionGroup))?;
        }
        for rg in &policy.resource_groups {
            diesel::insert_into(policy_resource_groups::table)
                .values((
                    policy_resource_groups::policy_id.eq(&id),
                    policy_resource_groups::resource_group_id.eq(rg.to_string()),
                ))
                .execute(conn)
                .map_err(unique_as(Field::ResourceGroup))?;
        }
    }
    Ok(())
}

fn load_user_group(
    conn: &mut AnyConnection,
    account: AccountId,
    id: UserGroupId,
) -> Result<UserGroup, StoreError> {
    let key = id.to_string();
    let row: UserGroupRow = user_groups::table
        .filter(user_groups::id.eq(&key))
        .filter(user_groups::account_id.eq(account.0))
        .select(UserGroupRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::Rule(RepoError::NotFound))?;
    let policies = policies_of(conn, std::slice::from_ref(&key))?
        .remove(&key)
        .unwrap_or_default();
    into_user_group(row, policies)
}

/// The groups of `rows` with their policies (one query for all of them).
fn with_policies(
    conn: &mut AnyConnection,
    rows: Vec<UserGroupRow>,
) -> Result<Vec<UserGroup>, StoreError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut policies = if ids.is_empty() {
        HashMap::new()
    } else {
        policies_of(conn, &ids)?
    };
    rows.into_iter()
        .map(|r| {
            let p = policies.remove(&r.id).unwrap_or_default();
            into_user_group(r, p)
        })
        .collect()
}

fn into_user_group(row: UserGroupRow, policies: Vec<Policy>) -> Result<UserGroup, StoreError> {
    Ok(UserGroup {
        id: parse_hex(&row.id, UserGroupId::parse)?,
        account_id: AccountId(row.account_id),
        name: row.name,
        policies,
        created_on: from_db(row.created_on),
        modified_on: from_db(row.modified_on),
    })
}

fn user_groups_filtered<'a>(
    account: AccountId,
    query: &'a ListQuery,
) -> user_groups::BoxedQuery<'a, MultiBackend> {
    let mut q = user_groups::table
        .filter(user_groups::account_id.eq(account.0))
        .into_boxed();
    if !query.hidden.is_empty() {
        q = q.filter(user_groups::id.ne_all(&query.hidden));
    }
    if let Some(name) = &query.name {
        q = q.filter(user_groups::name.eq(name.clone()));
    }
    if let Some(fuzzy) = &query.fuzzy_name {
        q = q.filter(
            lower(user_groups::name)
                .like(like_pattern(&fuzzy.to_lowercase()))
                .escape('\\'),
        );
    }
    q
}

fn members_of(conn: &mut AnyConnection, group: &str) -> Result<Vec<Member>, StoreError> {
    let rows: Vec<(i64, Option<String>, String)> = user_group_members::table
        .inner_join(users::table)
        .filter(user_group_members::user_group_id.eq(group))
        .order(user_group_members::user_id)
        .select((users::id, users::email, user_group_members::status))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, email, status)| {
            Ok(Member {
                user_id: UserId(id),
                email,
                status: MemberStatus::parse(&status)
                    .map_err(|_| StoreError::Corrupt(format!("member status {status}")))?,
            })
        })
        .collect()
}

impl UserGroupRepo for Store {
    fn create_user_group(
        &self,
        group: &UserGroup,
        audit: &AuditRecord,
    ) -> Result<UserGroup, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let id = group.id.to_string();
            diesel::insert_into(user_groups::table)
                .values((
                    user_groups::id.eq(&id),
                    user_groups::account_id.eq(group.account_id.0),
                    user_groups::name.eq(&group.name),
                    user_groups::created_on.eq(to_db(group.created_on)),
                    user_groups::modified_on.eq(to_db(group.modified_on)),
                ))
                .execute(c)
                .map_err(unique_as(Field::Name))?;
            insert_policies(c, &id, &group.policies)?;
            audit::insert(c, &with_target(audit, format!("user_group:{id}")))?;
            load_user_group(c, group.account_id, group.id)
        })
        .map_err(Into::into)
    }

    fn get_user_group(&self, account: AccountId, id: UserGroupId) -> Result<UserGroup, RepoError> {
        let mut conn = self.db.conn()?;
        load_user_group(&mut conn, account, id).map_err(Into::into)
    }

    fn list_user_groups(
        &self,
        account: AccountId,
        query: &ListQuery,
    ) -> Result<Page<UserGroup>, RepoError> {
        let mut conn = self.db.conn()?;
        let total: i64 = user_groups_filtered(account, query)
            .count()
            .get_result(&mut *conn)
            .map_err(StoreError::from)?;
        let mut q = user_groups_filtered(account, query);
        q = match (&query.after, query.descending) {
            (Some(after), false) => q.filter(user_groups::id.gt(after.clone())),
            (Some(after), true) => q.filter(user_groups::id.lt(after.clone())),
            (None, _) => q.offset(i64::try_from(query.offset).unwrap_or(i64::MAX)),
        };
        q = if query.descending {
            q.order(user_groups::id.desc())
        } else {
            q.order(user_groups::id.asc())
        };
        let rows: Vec<UserGroupRow> = q
            .limit(i64::from(query.limit))
            .select(UserGroupRow::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        let items = with_policies(&mut conn, rows)?;
        Ok(Page { items, total })
    }

    fn replace_user_group(
        &self,
        account: AccountId,
        id: UserGroupId,
        name: &str,
        policies_list: &[Policy],
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<UserGroup, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let key = id.to_string();
            let n = diesel::update(
                user_groups::table
                    .filter(user_groups::id.eq(&key))
                    .filter(user_groups::account_id.eq(account.0)),
            )
            .set((
                user_groups::name.eq(name),
                user_groups::modified_on.eq(to_db(at)),
            ))
            .execute(c)
            .map_err(unique_as(Field::Name))?;
            found(n)?;
            diesel::delete(policies::table.filter(policies::user_group_id.eq(&key))).execute(c)?;
            insert_policies(c, &key, policies_list)?;
            epoch::bump(c, account)?;
            audit::insert(c, &with_target(audit, format!("user_group:{id}")))?;
            load_user_group(c, account, id)
        })
        .map_err(Into::into)
    }

    fn delete_user_group(
        &self,
        account: AccountId,
        id: UserGroupId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let n = diesel::delete(
                user_groups::table
                    .filter(user_groups::id.eq(id.to_string()))
                    .filter(user_groups::account_id.eq(account.0)),
            )
            .execute(c)?;
            found(n)?;
            epoch::bump(c, account)?;
            audit::insert(c, &with_target(audit, format!("user_group:{id}")))?;
            Ok(())
        })
        .map_err(Into::into)
    }

    fn user_groups_using(
        &self,
        account: AccountId,
        resource_group: ResourceGroupId,
    ) -> Result<Vec<UserGroup>, RepoError> {
        let mut conn = self.db.conn()?;
        let naming = policy_resource_groups::table
            .filter(policy_resource_groups::resource_group_id.eq(resource_group.to_string()))
            .inner_join(policies::table)
            .select(policies::user_group_id);
        let rows: Vec<UserGroupRow> = user_groups::table
            .filter(user_groups::account_id.eq(account.0))
            .filter(user_groups::id.eq_any(naming))
            .order(user_groups::id)
            .select(UserGroupRow::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        with_policies(&mut conn, rows).map_err(Into::into)
    }

    fn list_members(
        &self,
        account: AccountId,
        group: UserGroupId,
    ) -> Result<Vec<Member>, RepoError> {
        let mut conn = self.db.conn()?;
        load_user_group(&mut conn, account, group)?;
        members_of(&mut conn, &group.to_string()).map_err(Into::into)
    }

    fn set_members(
        &self,
        account: AccountId,
        group: UserGroupId,
        members: &[(UserId, MemberStatus)],
        replace: bool,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Vec<Member>, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            // Concurrent replacements of one group's members would otherwise both delete, then
            // both insert the same row (a unique violation on Postgres).
            lock_account(c, account.0)?;
            load_user_group(c, account, group)?;
            let key = group.to_string();
            let wanted: Vec<i64> = members.iter().map(|(u, _)| u.0).collect();
            let known: i64 = users::table
                .filter(users::account_id.eq(account.0))
                .filter(users::id.eq_any(&wanted))
                .count()
                .get_result(c)?;
            let mut distinct = wanted.clone();
            distinct.sort_unstable();
            distinct.dedup();
            if usize::try_from(known).unwrap_or_default() != distinct.len() {
                return Err(StoreError::Rule(RepoError::NotFound));
            }
            if replace {
                diesel::delete(
                    user_group_members::table
                        .filter(user_group_members::user_group_id.eq(&key))
                        .filter(user_group_members::user_id.ne_all(&wanted)),
                )
                .execute(c)?;
            }
            for (user, status) in members {
                diesel::delete(
                    user_group_members::table
                        .filter(user_group_members::user_group_id.eq(&key))
                        .filter(user_group_members::user_id.eq(user.0)),
                )
                .execute(c)?;
                diesel::insert_into(user_group_members::table)
                    .values((
                        user_group_members::user_group_id.eq(&key),
                        user_group_members::user_id.eq(user.0),
                        user_group_members::status.eq(status.as_str()),
                        user_group_members::created_at.eq(to_db(at)),
                    ))
                    .execute(c)?;
            }
            diesel::update(user_groups::table.filter(user_groups::id.eq(&key)))
                .set(user_groups::modified_on.eq(to_db(at)))
                .execute(c)?;
            epoch::bump(c, account)?;
            audit::insert(c, &with_target(audit, format!("user_group:{group}")))?;
            members_of(c, &key)
        })
        .map_err(Into::into)
    }

    fn remove_member(
        &self,
        account: AccountId,
        group: UserGroupId,
        user: UserId,
        audit: &AuditRecord,
    ) -> Result<Member, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            lock_account(c, account.0)?;
            load_user_group(c, account, group)?;
            let key = group.to_string();
            let member = members_of(c, &key)?
                .into_iter()
                .find(|m| m.user_id == user)
                .ok_or(StoreError::Rule(RepoError::NotFound))?;
            diesel::delete(
                user_group_members::table
                    .filter(user_group_members::user_group_id.eq(&key))
                    .filter(user_group_members::user_id.eq(user.0)),
            )
            .execute(c)?;
            epoch::bump(c, account)?;
            audit::insert(c, &with_target(audit, format!("user_group:{group}")))?;
            Ok(member)
        })
        .map_err(Into::into)
    }
}

// ---------------------------------------------------------------- the engine's input

impl AuthzRepo for Store {
    fn policy_rules_for_user(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Vec<PolicyRule>, RepoError> {
        let mut conn = self.db.conn()?;
        let groups: Vec<String> = user_group_members::table
            .inner_join(user_groups::table)
            .filter(user_group_members::user_id.eq(user.0))
            .filter(user_group_members::status.eq(MemberStatus::Accepted.as_str()))
            .filter(user_groups::account_id.eq(account.0))
            .select(user_groups::id)
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let by_group = policies_of(&mut conn, &groups)?;
        let rg_ids: Vec<String> = by_group
            .values()
            .flatten()
            .flat_map(|p| p.resource_groups.iter().map(ToString::to_string))
            .collect();
        let scopes: HashMap<String, Scope> = if rg_ids.is_empty() {
            HashMap::new()
        } else {
            resource_groups::table
                .filter(resource_groups::id.eq_any(&rg_ids))
                .select((resource_groups::id, resource_groups::scope))
                .load::<(String, String)>(&mut *conn)
                .map_err(StoreError::from)?
                .into_iter()
                .map(|(id, scope)| Ok((id, scope_from_db(&scope)?)))
                .collect::<Result<_, StoreError>>()?
        };
        let mut rules = Vec::new();
        for group in &groups {
            let user_group = parse_hex(group, UserGroupId::parse)?;
            for p in by_group.get(group).into_iter().flatten() {
                rules.push(PolicyRule {
                    id: p.id,
                    user_group,
                    effect: p.access,
                    permissions: p
                        .permission_groups
                        .iter()
                        .filter_map(|pg| permission_groups::by_id(*pg).map(|g| g.permission))
                        .collect(),
                    scopes: p
                        .resource_groups
                        .iter()
                        .filter_map(|rg| scopes.get(&rg.to_string()).cloned())
                        .collect(),
                });
            }
        }
        Ok(rules)
    }

    fn authz_version(&self) -> Result<i64, RepoError> {
        let mut conn = self.db.conn()?;
        epoch::latest(&mut conn).map_err(Into::into)
    }

    fn authz_changes(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<tessera_domain::ports::AuthzChange>, RepoError> {
        let mut conn = self.db.conn()?;
        epoch::changes(&mut conn, after, limit).map_err(Into::into)
    }
}
