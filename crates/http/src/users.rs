//! Restcomm-style users: `/v1/accounts/{account_id}/users`.

use std::sync::Arc;

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::{App, CreateSubuser, EffectivePermission, UpdateSubuser};
use tessera_domain::Secret;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::roles::{Role, RoleId};
use tessera_domain::user::{User, UserStatus};
use utoipa::ToSchema;
use validator::Validate;

use crate::envelope::{ApiError, Envelope, IdResult};
use crate::extract::{Caller, JsonBody, QueryParams, Reads, request_meta, run};
use crate::paging::{ListParams, PageParams, numeric_cursor};
use crate::serde_util::double_option;

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Id.
    pub id: i64,
    /// Account.
    pub account_id: i64,
    /// Login.
    pub login: String,
    /// Email.
    pub email: Option<String>,
    /// Phone number.
    pub phone_number: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// `active`, `inactive` or `pending`.
    #[schema(value_type = crate::schema::UserStatusDoc)]
    pub status: UserStatus,
    /// Role names.
    pub roles: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Last password sign-in.
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// The client address of that sign-in.
    pub last_sign_in_from: Option<String>,
}

/// Role names of role ids.
pub fn role_names(ids: &[RoleId]) -> Vec<String> {
    ids.iter()
        .filter_map(|id| Role::by_id(*id).ok())
        .map(|r| r.name.to_owned())
        .collect()
}

/// Role ids of role names.
///
/// # Errors
/// 400 naming the unknown role.
pub fn role_ids(names: &[String]) -> Result<Vec<RoleId>, ApiError> {
    names
        .iter()
        .map(|n| {
            Role::by_name(n.trim())
                .map(|r| r.id)
                .map_err(|e| ApiError::from(tessera_app::AppError::Invalid(e)))
        })
        .collect()
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id.0,
            account_id: u.account_id.0,
            login: u.login.as_str().to_owned(),
            email: u.email,
            phone_number: u.phone_number,
            description: u.description,
            status: u.status,
            roles: role_names(&u.roles),
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_sign_in_at: u.last_sign_in_at,
            last_sign_in_from: u.last_sign_in_from,
        }
    }
}

/// Where a permission comes from.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    /// `role` or `policy`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The role's id or the policy's id.
    pub id: String,
    /// The role's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
    /// The policy's user group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_group: Option<String>,
}

/// One permission a user holds or is denied.
#[derive(Debug, Serialize, ToSchema)]
pub struct EffectivePermissionView {
    /// Capability slug.
    #[schema(value_type = String, example = "user_management")]
    pub capability: tessera_domain::permissions::Capability,
    /// `read` or `write`.
    #[schema(value_type = crate::schema::LevelDoc)]
    pub level: tessera_domain::permissions::Level,
    /// `*` (the whole account) or an object key.
    pub scope: String,
    /// `allow` or `deny`.
    #[schema(value_type = crate::schema::EffectDoc)]
    pub effect: tessera_domain::policy::Effect,
    /// Its source.
    pub source: SourceView,
}

impl From<EffectivePermission> for EffectivePermissionView {
    fn from(p: EffectivePermission) -> Self {
        let source = match p.source {
            tessera_app::Source::Role { id, name } => SourceView {
                kind: "role",
                id: id.to_string(),
                name: Some(name),
                user_group: None,
            },
            tessera_app::Source::Policy { id, user_group } => SourceView {
                kind: "policy",
                id: id.to_string(),
                name: None,
                user_group: Some(user_group.to_string()),
            },
        };
        Self {
            capability: p.capability,
            level: p.level,
            scope: p.scope,
            effect: p.effect,
            source,
        }
    }
}

/// A new user.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateUserBody {
    /// Login: 5–20 characters of `[a-z0-9._-]`, starting with a letter (lower-cased).
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9._-]{4,19}$")]
    pub login: String,
    /// Password: 8+ characters with upper, lower, digit and special, no whitespace.
    #[schema(value_type = Option<String>, format = Password,
        pattern = r"^(?=[^a-z]*[a-z])(?=[^A-Z]*[A-Z])(?=[^0-9]*[0-9])(?=[A-Za-z0-9]*[^A-Za-z0-9])[!-~]{8,128}$")]
    pub password: Option<Secret>,
    /// Email (at most 90 characters).
    #[schema(
        max_length = 90,
        pattern = r"^[^@\s\u0085\u0000]+@[^@\s\u0085\u0000.][^@\s\u0085\u0000]*\.[^@\s\u0085\u0000]*[^@\s\u0085\u0000.]$"
    )]
    pub email: Option<String>,
    /// Phone number.
    #[schema(max_length = 32, pattern = "^(?:[ +()-]*[0-9]){3}[0-9 +()-]*$")]
    pub phone_number: Option<String>,
    /// Description.
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    /// One Restcomm role name (`Administrator`, `Developer`, …).
    #[schema(value_type = Option<crate::schema::RoleName>)]
    pub role: Option<String>,
    /// Role names.
    #[serde(default)]
    #[schema(value_type = Vec<crate::schema::RoleName>)]
    pub roles: Vec<String>,
    /// Initial status (default `active`).
    #[schema(value_type = Option<crate::schema::UserStatusDoc>)]
    pub status: Option<UserStatus>,
}

impl crate::extract::RequestBody for CreateUserBody {}

/// Changes to a user; absent fields stay, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct UpdateUserBody {
    /// New email.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 90, pattern = r"^[^@\s\u0085\u0000]+@[^@\s\u0085\u0000.][^@\s\u0085\u0000]*\.[^@\s\u0085\u0000]*[^@\s\u0085\u0000.]$")]
    pub email: Option<Option<String>>,
    /// New phone number.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 32, pattern = "^(?:[ +()-]*[0-9]){3}[0-9 +()-]*$")]
    pub phone_number: Option<Option<String>>,
    /// New description.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 1024)]
    pub description: Option<Option<String>>,
    /// New status.
    #[schema(value_type = Option<crate::schema::UserStatusDoc>)]
    pub status: Option<UserStatus>,
    /// New password.
    #[schema(value_type = Option<String>, format = Password,
        pattern = r"^(?=[^a-z]*[a-z])(?=[^A-Z]*[A-Z])(?=[^0-9]*[0-9])(?=[A-Za-z0-9]*[^A-Za-z0-9])[!-~]{8,128}$")]
    pub password: Option<Secret>,
    /// The current password (required to change your own).
    #[schema(value_type = Option<String>, format = Password)]
    pub old_password: Option<Secret>,
    /// The complete new set of role names.
    #[schema(value_type = Option<Vec<crate::schema::RoleName>>)]
    pub roles: Option<Vec<String>>,
}

impl crate::extract::RequestBody for UpdateUserBody {}

/// Lists the account's users with their roles.
#[utoipa::path(tag = "Users", params(("account_id" = i64, Path), ListParams),
    responses((status = 200, body = Envelope<Vec<UserView>>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/users")]
pub async fn list_users(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<i64>,
    params: QueryParams<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let params = params.0;
    let query = params.query()?;
    numeric_cursor(&query)?;
    let page = run(&app, move |app| {
        app.list_subusers(&caller.0, account, &query)
    })
    .await?;
    let items: Vec<UserView> = page.items.into_iter().map(UserView::from).collect();
    Ok(params.respond(items, page.total, |u| u.id.to_string()))
}

/// Creates a user.
#[utoipa::path(tag = "Users", params(("account_id" = i64, Path)), request_body = CreateUserBody,
    responses((status = 200, body = Envelope<UserView>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts/{account_id}/users")]
pub async fn create_user(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: actix_web::HttpRequest,
    path: web::Path<i64>,
    body: JsonBody<CreateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let body = body.0;
    let mut names = body.roles;
    names.extend(body.role);
    let roles = role_ids(&names)?;
    let meta = request_meta(&req);
    let cmd = CreateSubuser {
        login: body.login,
        password: body.password,
        email: body.email,
        phone_number: body.phone_number,
        description: body.description,
        status: body.status,
        roles,
    };
    let user = run(&app, move |app| {
        app.create_subuser(&caller.0, &meta, account, cmd)
    })
    .await?;
    Ok(Envelope::ok(UserView::from(user)).respond())
}

/// One user.
#[utoipa::path(tag = "Users", params(("account_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = Envelope<UserView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/users/{user_id}")]
pub async fn get_user(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    let user = reads
        .run(&app, move |app| {
            app.get_subuser(&caller.0, AccountId(account), UserId(user))
        })
        .await?;
    Ok(Envelope::ok(UserView::from(user)).respond())
}

/// Updates a user (status, contact details, password, roles).
#[utoipa::path(tag = "Users", params(("account_id" = i64, Path), ("user_id" = i64, Path)), request_body = UpdateUserBody,
    responses((status = 200, body = Envelope<UserView>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[patch("/accounts/{account_id}/users/{user_id}")]
pub async fn update_user(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: actix_web::HttpRequest,
    path: web::Path<(i64, i64)>,
    body: JsonBody<UpdateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    let (account, user) = (AccountId(account), UserId(user));
    let body = body.0;
    let roles = body.roles.as_deref().map(role_ids).transpose()?;
    let meta = request_meta(&req);
    let cmd = UpdateSubuser {
        email: body.email,
        phone_number: body.phone_number,
        description: body.description,
        status: body.status,
        new_password: body.password,
        old_password: body.old_password,
        roles,
    };
    let updated = run(&app, move |app| {
        app.update_subuser(&caller.0, &meta, account, user, cmd)
    })
    .await?;
    Ok(Envelope::ok(UserView::from(updated)).respond())
}

/// Deletes a user with its keys and sessions.
#[utoipa::path(tag = "Users", params(("account_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = Envelope<IdResult>), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/accounts/{account_id}/users/{user_id}")]
pub async fn delete_user(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: actix_web::HttpRequest,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    let meta = request_meta(&req);
    run(&app, move |app| {
        app.delete_subuser(&caller.0, &meta, AccountId(account), UserId(user))
    })
    .await?;
    Ok(Envelope::ok(IdResult::from(user)).respond())
}

/// Every permission the user holds or is denied, with its scope and source (role or policy);
/// all of them unless `per_page` is given.
#[utoipa::path(tag = "Authorization", params(("account_id" = i64, Path), ("user_id" = i64, Path), PageParams),
    responses((status = 200, body = Envelope<Vec<EffectivePermissionView>>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/users/{user_id}/effective_permissions")]
pub async fn effective_permissions(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<(i64, i64)>,
    params: QueryParams<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    let list: Vec<EffectivePermission> = run(&app, move |app| {
        app.effective_permissions(&caller.0, AccountId(account), UserId(user))
    })
    .await?;
    let views: Vec<EffectivePermissionView> = list
        .into_iter()
        .map(EffectivePermissionView::from)
        .collect();
    Ok(params.0.respond(views))
}
