//! User groups with allow/deny policies: `/v1/accounts/{account_id}/iam/user_groups`.

use std::collections::HashMap;
use std::sync::Arc;
use tessera_domain::Entity;

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::{App, AppError, AppResult, PolicyInput, Principal};
use tessera_domain::DomainError;
use tessera_domain::groups::{ResourceGroup, UserGroup};
use tessera_domain::ids::{AccountId, PermissionGroupId, PolicyId, ResourceGroupId, UserGroupId};
use tessera_domain::permissions::groups;
use tessera_domain::policy::Effect;
use tessera_domain::ports::Page;
use utoipa::ToSchema;
use validator::Validate;

use super::IdRef;
use super::catalog::PermissionGroupView;
use super::resource_groups::ResourceGroupView;
use crate::envelope::{ApiError, Envelope, IdResult};
use crate::extract::{Caller, JsonBody, QueryParams, Reads, request_meta, run};
use crate::paging::ListParams;

/// A policy as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    /// 32 hex digits.
    pub id: String,
    /// `allow` or `deny`.
    #[schema(value_type = crate::schema::EffectDoc)]
    pub access: Effect,
    /// Permission groups, in full.
    pub permission_groups: Vec<PermissionGroupView>,
    /// Resource groups, in full.
    pub resource_groups: Vec<ResourceGroupView>,
}

/// A user group.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserGroupView {
    /// 32 hex digits.
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time.
    pub created_on: DateTime<Utc>,
    /// Last change.
    pub modified_on: DateTime<Utc>,
    /// Policies.
    pub policies: Vec<PolicyView>,
}

/// A policy as sent (an `id`, if any, is ignored: ids are generated).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PolicyBody {
    /// On `PUT`: an id the group already has keeps that policy's id; otherwise one is generated.
    #[schema(pattern = "^[0-9a-fA-F]{32}$")]
    pub id: Option<String>,
    /// `allow` or `deny`.
    #[schema(value_type = crate::schema::EffectDoc)]
    pub access: Effect,
    /// Permission groups: `[{"id"}]`.
    #[schema(min_items = 1)]
    pub permission_groups: Vec<IdRef>,
    /// Resource groups of this account: `[{"id"}]`.
    #[schema(min_items = 1)]
    pub resource_groups: Vec<IdRef>,
}

/// A user group as sent.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UserGroupBody {
    /// Name (required to create; kept when absent on `PUT`).
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\s\u0085\u0000][^\u0000]*$"
    )]
    pub name: Option<String>,
    /// Policies (required to create; kept when absent on `PUT`).
    pub policies: Option<Vec<PolicyBody>>,
}

impl crate::extract::RequestBody for UserGroupBody {}

fn policy_inputs(bodies: Vec<PolicyBody>) -> Result<Vec<PolicyInput>, ApiError> {
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let permission_groups = p
                .permission_groups
                .iter()
                .map(|r| {
                    PermissionGroupId::parse(r.id.trim()).map_err(|_| {
                        ApiError::bad_request(format!(
                            "policies[{i}].permission_groups: expected a permission group id (32 hex digits), not '{}'",
                            r.id
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let resource_groups = p
                .resource_groups
                .iter()
                .map(|r| {
                    ResourceGroupId::parse(r.id.trim()).map_err(|_| {
                        ApiError::bad_request(format!(
                            "policies[{i}].resource_groups: expected a resource group id (32 hex digits), not '{}'",
                            r.id
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let id =
                p.id.as_deref()
                    .map(|id| {
                        PolicyId::parse(id.trim()).map_err(|_| {
                            ApiError::bad_request(format!(
                                "policies[{i}].id: expected a policy id (32 hex digits), not '{id}'"
                            ))
                        })
                    })
                    .transpose()?;
            Ok(PolicyInput {
                id,
                access: p.access,
                permission_groups,
                resource_groups,
            })
        })
        .collect()
}

/// Builds the views of `list`, loading every resource group they name in one query.
fn views(
    app: &App,
    caller: &Principal,
    account: AccountId,
    list: Vec<UserGroup>,
) -> AppResult<Vec<UserGroupView>> {
    let mut ids: Vec<ResourceGroupId> = list
        .iter()
        .flat_map(|g| {
            g.policies
                .iter()
                .flat_map(|p| p.resource_groups.iter().copied())
        })
        .collect();
    ids.sort();
    ids.dedup();
    let found: HashMap<ResourceGroupId, ResourceGroup> = if ids.is_empty() {
        HashMap::new()
    } else {
        app.find_resource_groups(caller, account, &ids)?
            .into_iter()
            .map(|g| (g.id, g))
            .collect()
    };
    Ok(list
        .into_iter()
        .map(|g| UserGroupView {
            id: g.id.to_string(),
            name: g.name,
            created_on: g.created_on,
            modified_on: g.modified_on,
            policies: g
                .policies
                .into_iter()
                .map(|p| PolicyView {
                    id: p.id.to_string(),
                    access: p.access,
                    permission_groups: p
                        .permission_groups
                        .iter()
                        .filter_map(|id| groups::by_id(*id).map(PermissionGroupView::from))
                        .collect(),
                    resource_groups: p
                        .resource_groups
                        .iter()
                        .filter_map(|id| found.get(id).cloned().map(ResourceGroupView::from))
                        .collect(),
                })
                .collect(),
        })
        .collect())
}

fn one(
    app: &App,
    caller: &Principal,
    account: AccountId,
    group: UserGroup,
) -> AppResult<UserGroupView> {
    views(app, caller, account, vec![group])?
        .pop()
        .ok_or(AppError::NotFound(Entity::UserGroup))
}

/// A user group id from the path; one that cannot be an id names no group (404).
pub(super) fn group_id(raw: &str) -> Result<UserGroupId, ApiError> {
    UserGroupId::parse(raw).map_err(|_| ApiError::from(AppError::NotFound(Entity::UserGroup)))
}

/// Lists user groups with their policies.
#[utoipa::path(tag = "User groups", params(("account_id" = i64, Path), ListParams),
    responses((status = 200, body = Envelope<Vec<UserGroupView>>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/iam/user_groups")]
pub async fn list_user_groups(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<i64>,
    params: QueryParams<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let params = params.0;
    let query = params.query()?;
    let only = params.id.clone();
    let (items, total) = run(&app, move |app| {
        let page = match only {
            // `?id=` (the Cloudflare SDK's filter): that group alone, or nothing.
            Some(id) => {
                let found = match UserGroupId::parse(&id)
                    .map(|id| app.get_user_group(&caller.0, account, id))
                {
                    Ok(Ok(g)) => vec![g],
                    Ok(Err(AppError::NotFound(_))) | Err(_) => Vec::new(),
                    Ok(Err(e)) => return Err(e),
                };
                Page::whole(found)
            }
            None => app.list_user_groups(&caller.0, account, &query)?,
        };
        Ok((views(app, &caller.0, account, page.items)?, page.total))
    })
    .await?;
    Ok(params.respond(items, total, |g| g.id.clone()))
}

/// Creates a user group; every permission group and resource group named must exist, and the
/// caller must hold every permission it attaches.
#[utoipa::path(tag = "User groups", params(("account_id" = i64, Path)), request_body = UserGroupBody,
    responses((status = 200, body = Envelope<UserGroupView>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts/{account_id}/iam/user_groups")]
pub async fn create_user_group(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: JsonBody<UserGroupBody>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let body = body.0;
    let name = body.name.ok_or_else(|| {
        ApiError::from(AppError::Invalid(DomainError::invalid(
            "name",
            "is required",
        )))
    })?;
    let policies = policy_inputs(body.policies.unwrap_or_default())?;
    let meta = request_meta(&req);
    let view = run(&app, move |app| {
        let group = app.create_user_group(&caller.0, &meta, account, name, policies)?;
        one(app, &caller.0, account, group)
    })
    .await?;
    Ok(Envelope::ok(view).respond())
}

/// One user group.
#[utoipa::path(tag = "User groups", params(("account_id" = i64, Path), ("user_group_id" = String, Path)),
    responses((status = 200, body = Envelope<UserGroupView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/iam/user_groups/{user_group_id}")]
pub async fn get_user_group(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let (account, id) = (AccountId(account), group_id(&id)?);
    let view = reads
        .run(&app, move |app| {
            let group = app.get_user_group(&caller.0, account, id)?;
            one(app, &caller.0, account, group)
        })
        .await?;
    Ok(Envelope::ok(view).respond())
}

/// Replaces a user group's name and/or policies (a policy keeps an id the group already has).
#[utoipa::path(tag = "User groups", params(("account_id" = i64, Path), ("user_group_id" = String, Path)),
    request_body = UserGroupBody,
    responses((status = 200, body = Envelope<UserGroupView>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[put("/accounts/{account_id}/iam/user_groups/{user_group_id}")]
pub async fn update_user_group(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: JsonBody<UserGroupBody>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let (account, id) = (AccountId(account), group_id(&id)?);
    let body = body.0;
    let policies = body.policies.map(policy_inputs).transpose()?;
    let meta = request_meta(&req);
    let view = run(&app, move |app| {
        let group = app.replace_user_group(&caller.0, &meta, account, id, body.name, policies)?;
        one(app, &caller.0, account, group)
    })
    .await?;
    Ok(Envelope::ok(view).respond())
}

/// Deletes a user group.
#[utoipa::path(tag = "User groups", params(("account_id" = i64, Path), ("user_group_id" = String, Path)),
    responses((status = 200, body = Envelope<IdResult>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/accounts/{account_id}/iam/user_groups/{user_group_id}")]
pub async fn delete_user_group(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = group_id(&id)?;
    let meta = request_meta(&req);
    run(&app, move |app| {
        app.delete_user_group(&caller.0, &meta, AccountId(account), id)
    })
    .await?;
    Ok(Envelope::ok(IdResult::from(id)).respond())
}
