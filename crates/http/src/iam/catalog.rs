//! The fixed catalogs: roles, role groups and permission groups.

use std::sync::Arc;
use tessera_domain::Entity;

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use serde::Serialize;
use tessera_app::{App, AppError};
use tessera_domain::ids::{AccountId, PermissionGroupId};
use tessera_domain::permissions::PermissionGroup;
use tessera_domain::roles::{ROLE_GROUPS, Role};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::envelope::{ApiError, Envelope};
use crate::extract::{Caller, QueryParams, Reads};
use crate::paging::{ListParams, Listed};

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

/// A permission group's attributes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PermissionGroupMetaView {
    /// `permission`.
    pub key: Option<String>,
    /// `<capability>.<level>`, e.g. `user_management.write`.
    pub value: Option<String>,
    /// The label the `label` filter matches: the same `<capability>.<level>`.
    pub label: Option<String>,
}

/// A permission group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PermissionGroupView {
    /// 32 hex digits, stable.
    pub id: String,
    /// `User Management Write`.
    pub name: String,
    /// `{"key": "permission", "value": "user_management.write", "label": "user_management.write"}`.
    pub meta: PermissionGroupMetaView,
}

impl From<&PermissionGroup> for PermissionGroupView {
    fn from(g: &PermissionGroup) -> Self {
        Self {
            id: g.id.to_string(),
            name: g.name.clone(),
            meta: PermissionGroupMetaView {
                key: Some("permission".into()),
                value: Some(g.meta_value()),
                label: Some(g.meta_value()),
            },
        }
    }
}

impl Listed for PermissionGroupView {
    fn list_id(&self) -> String {
        self.id.clone()
    }

    fn list_name(&self) -> Option<&str> {
        Some(&self.name)
    }
}

impl Listed for RoleView {
    fn list_id(&self) -> String {
        self.id.to_string()
    }

    fn list_name(&self) -> Option<&str> {
        Some(self.name)
    }
}

impl Listed for RoleGroupView {
    fn list_id(&self) -> String {
        self.id.to_string()
    }

    fn list_name(&self) -> Option<&str> {
        Some(self.name)
    }
}

/// The role catalog (all of it unless `per_page` is given).
#[utoipa::path(tag = "Roles", params(("account_id" = i64, Path), ListParams),
    responses((status = 200, body = Envelope<Vec<RoleView>>), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/iam/roles")]
pub async fn list_roles(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<i64>,
    params: QueryParams<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let roles = reads
        .run(&app, move |app| app.roles(&caller.0, account))
        .await?;
    let roles: Vec<RoleView> = roles.iter().map(RoleView::from).collect();
    params.0.whole_by_default().respond_whole(roles)
}

/// The role groups (all of them unless `per_page` is given).
#[utoipa::path(tag = "Roles", params(("account_id" = i64, Path), ListParams),
    responses((status = 200, body = Envelope<Vec<RoleGroupView>>), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/iam/role_groups")]
pub async fn list_role_groups(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<i64>,
    params: QueryParams<ListParams>,
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
    params.0.whole_by_default().respond_whole(groups)
}

/// The permission-group filter besides the list parameters.
#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LabelParams {
    /// Only the permission group with this label (`meta.label`, e.g. `user_management.write`).
    #[param(max_length = 200)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub label: Option<String>,
}

/// The permission groups: one per capability and level (all of them unless `per_page` is
/// given).
#[utoipa::path(tag = "Permission groups", params(("account_id" = i64, Path), ListParams, LabelParams),
    responses((status = 200, body = Envelope<Vec<PermissionGroupView>>), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/iam/permission_groups")]
pub async fn list_permission_groups(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<i64>,
    params: QueryParams<ListParams>,
    label: QueryParams<LabelParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let catalog = reads
        .run(&app, move |app| app.permission_groups(&caller.0, account))
        .await?;
    let label = label.0.label;
    let groups: Vec<PermissionGroupView> = catalog
        .iter()
        .map(PermissionGroupView::from)
        .filter(|g| label.is_none() || g.meta.label == label)
        .collect();
    params.0.whole_by_default().respond_whole(groups)
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
