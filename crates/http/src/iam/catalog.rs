//! The fixed catalogs: roles, role groups and permission groups.

use std::sync::Arc;
use tessera_domain::Entity;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use tessera_app::{App, AppError};
use tessera_domain::ids::{AccountId, PermissionGroupId};
use tessera_domain::permissions::PermissionGroup;
use tessera_domain::roles::{ROLE_GROUPS, Role};
use utoipa::ToSchema;

use super::MetaView;
use crate::envelope::{ApiError, Envelope};
use crate::extract::{Caller, QueryParams, Reads};
use crate::paging::ListParams;

/// A role of the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    /// Stable id.
    pub id: i64,
    /// Name.
    pub name: &'static str,
    /// Role groups listing it.
    pub groups: Vec<&'static str>,
    /// Parent role.
    pub parent_id: Option<i64>,
    /// Child roles.
    pub child_ids: Vec<i64>,
    /// What it grants: `capability:level`, highest level per capability.
    pub permissions: Vec<String>,
}

impl From<&Role> for RoleView {
    fn from(r: &Role) -> Self {
        Self {
            id: r.id.0,
            name: r.name,
            groups: r
                .groups
                .iter()
                .filter_map(|g| ROLE_GROUPS.iter().find(|rg| rg.id == *g).map(|rg| rg.name))
                .collect(),
            parent_id: r.parent.map(|p| p.0),
            child_ids: r.children().map(|c| c.id.0).collect(),
            permissions: r.permissions().highest().map(|p| p.to_string()).collect(),
        }
    }
}

/// A role group.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleGroupView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: &'static str,
}

/// A permission group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PermissionGroupView {
    /// 32 hex digits, stable.
    pub id: String,
    /// `User Management Write`.
    pub name: String,
    /// `{"key": "permission", "value": "user_management.write"}`.
    pub meta: MetaView,
}

impl From<&PermissionGroup> for PermissionGroupView {
    fn from(g: &PermissionGroup) -> Self {
        Self {
            id: g.id.to_string(),
            name: g.name.clone(),
            meta: MetaView {
                key: Some("permission".into()),
                value: Some(g.meta_value()),
            },
        }
    }
}

/// The role catalog.
#[utoipa::path(tag = "Roles", params(("account_id" = i64, Path)),
    responses((status = 200, body = Envelope<Vec<RoleView>>), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/iam/roles")]
pub async fn list_roles(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let roles = reads
        .run(&app, move |app| app.roles(&caller.0, account))
        .await?;
    let roles: Vec<RoleView> = roles.iter().map(RoleView::from).collect();
    Ok(Envelope::ok(roles).respond())
}

/// The role groups.
#[utoipa::path(tag = "Roles", params(("account_id" = i64, Path)),
    responses((status = 200, body = Envelope<Vec<RoleGroupView>>), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/iam/role_groups")]
pub async fn list_role_groups(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let groups = reads
        .run(&app, move |app| app.role_groups(&caller.0, account))
        .await?;
    let groups: Vec<RoleGroupView> = groups
        .iter()
        .map(|g| RoleGroupView {
            id: g.id.0,
            name: g.name,
        })
        .collect();
    Ok(Envelope::ok(groups).respond())
}

/// The permission groups: one per capability and level.
#[utoipa::path(tag = "Permission groups", params(("account_id" = i64, Path), ListParams),
    responses((status = 200, body = Envelope<Vec<PermissionGroupView>>), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/iam/permission_groups")]
pub async fn list_permission_groups(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<i64>,
    params: QueryParams<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let catalog = reads
        .run(&app, move |app| app.permission_groups(&caller.0, account))
        .await?;
    let params = params.0;
    let query = params.query()?;
    let fuzzy = query.fuzzy_name.as_deref().map(str::to_lowercase);
    let mut matching: Vec<&PermissionGroup> = catalog
        .iter()
        .filter(|g| query.name.as_deref().is_none_or(|n| g.name == n))
        .filter(|g| params.id.as_deref().is_none_or(|id| g.id.to_string() == id))
        .filter(|g| {
            fuzzy
                .as_deref()
                .is_none_or(|f| g.name.to_lowercase().contains(f))
        })
        .collect();
    if query.descending {
        matching.reverse();
    }
    let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
    let start = match &query.after {
        Some(after) => matching
            .iter()
            .position(|g| g.id.to_string() == *after)
            .map_or(matching.len(), |p| p + 1),
        None => usize::try_from(query.offset).unwrap_or(usize::MAX),
    };
    let page: Vec<PermissionGroupView> = matching
        .iter()
        .skip(start)
        .take(query.limit as usize)
        .map(|g| PermissionGroupView::from(*g))
        .collect();
    Ok(params.respond(page, total, |g| g.id.clone()))
}

/// One permission group.
#[utoipa::path(tag = "Permission groups", params(("account_id" = i64, Path), ("permission_group_id" = String, Path)),
    responses((status = 200, body = Envelope<PermissionGroupView>), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/iam/permission_groups/{permission_group_id}")]
pub async fn get_permission_group(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = PermissionGroupId::parse(&id).map_err(|_| AppError::NotFound(Entity::PermissionGroup));
    let group = reads
        .run(&app, move |app| {
            app.permission_group(&caller.0, AccountId(account), id?)
        })
        .await?;
    Ok(Envelope::ok(PermissionGroupView::from(group)).respond())
}
