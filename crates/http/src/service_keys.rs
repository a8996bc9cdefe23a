//! Service keys over REST: `/v1/accounts/{account_id}/keys`, the same use cases as the method
//! API's `CreateKey` & co.

use std::sync::Arc;
use tessera_domain::Entity;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::{App, AppError, CreateServiceKey};
use tessera_domain::ids::{AccountId, ServiceKeyId};
use tessera_domain::keys::{KeyValidity, ServiceKey, ValidityChange};
use tessera_domain::ports::{RoleChange, ServiceKeyChanges};
use utoipa::ToSchema;
use validator::Validate;

use crate::access_keys::ExpiryParams;
use crate::accounts::ServiceKeyCredentials;
use crate::envelope::{ApiError, Envelope, IdResult};
use crate::extract::{Caller, JsonBody, QueryParams, Reads, request_meta, run};
use crate::paging::ListParams;
use crate::serde_util::{body_time, body_time_or_null, double_option};
use crate::users::{role_ids, role_names};

/// A service key (never its private half).
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceKeyView {
    /// Id (the JWT's `kid`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The user it belongs to (`null`: the account).
    pub owner_user_id: Option<i64>,
    /// Role names.
    pub roles: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Its JWTs are refused before this time (`null`: from creation).
    pub not_before: Option<DateTime<Utc>>,
    /// Its JWTs are refused from this time on (`null`: never expires).
    pub expires_at: Option<DateTime<Utc>>,
    /// The only networks the key may be used from, besides the account's authorized IPs
    /// (empty: no condition of its own).
    pub allowed_ips: Vec<String>,
    /// Last use (kept to within a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The client address of that use.
    pub last_used_from: Option<String>,
}

impl From<ServiceKey> for ServiceKeyView {
    fn from(k: ServiceKey) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name,
            description: k.description,
            owner_user_id: k.owner.map(|u| u.0),
            roles: role_names(&k.roles),
            created_at: k.created_at,
            not_before: k.validity.not_before,
            expires_at: k.validity.expires_at,
            allowed_ips: crate::authorized_ips::shown(&k.allowed_ips),
            last_used_at: k.last_used_at,
            last_used_from: k.last_used_from,
        }
    }
}

/// A created key: its view and, once, its credentials file.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedServiceKeyView {
    /// The key.
    #[serde(flatten)]
    pub key: ServiceKeyView,
    /// The credentials file the official clients load; shown once.
    pub credentials: ServiceKeyCredentials,
}

/// A new service key.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct CreateServiceKeyBody {
    /// Name, 1–50 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\u0000]*[^\s\u0085\u0000][^\u0000]*$"
    )]
    #[validate(
        length(min = 1, max = 50, message = "must be 1 to 50 characters"),
        custom(function = "crate::extract::not_blank")
    )]
    pub name: Option<String>,
    /// Description.
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    /// Role names.
    #[serde(default)]
    #[schema(value_type = Vec<crate::schema::RoleName>)]
    pub roles: Vec<String>,
    /// Its JWTs are refused before this time (RFC 3339).
    #[serde(default, deserialize_with = "body_time")]
    pub not_before: Option<DateTime<Utc>>,
    /// Its JWTs are refused from this time on (RFC 3339, in the future; at most the account's
    /// `max_key_lifetime_days` from now, which is also the default when the account sets it).
    #[serde(default, deserialize_with = "body_time")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl crate::extract::RequestBody for CreateServiceKeyBody {}

/// Changes to a key.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct UpdateServiceKeyBody {
    /// New name, 1–50 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\u0000]*[^\s\u0085\u0000][^\u0000]*$"
    )]
    #[validate(
        length(min = 1, max = 50, message = "must be 1 to 50 characters"),
        custom(function = "crate::extract::not_blank")
    )]
    pub name: Option<String>,
    /// New description (`null` clears it).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 1024)]
    pub description: Option<Option<String>>,
    /// Its JWTs are refused before this time (RFC 3339; `null`: from now on).
    #[serde(default, deserialize_with = "body_time_or_null")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub not_before: Option<Option<DateTime<Utc>>>,
    /// Its JWTs are refused from this time on (RFC 3339, in the future, at most the account's
    /// `max_key_lifetime_days` from now; `null`: never, unless the account sets that limit).
    #[serde(default, deserialize_with = "body_time_or_null")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// The only networks (addresses or CIDRs, IPv4 or IPv6) the key may be used from, besides
    /// the account's authorized IPs; `[]` lifts the condition. In effect from the next request.
    #[validate(length(max = 50, message = "at most 50 networks"))]
    #[schema(max_items = 50)]
    pub allowed_ips: Option<Vec<String>>,
}

impl crate::extract::RequestBody for UpdateServiceKeyBody {}

/// A key's complete set of roles.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct KeyRolesBody {
    /// Role names.
    #[schema(value_type = Vec<crate::schema::RoleName>)]
    pub roles: Vec<String>,
}

impl crate::extract::RequestBody for KeyRolesBody {}

fn key_id(raw: &str) -> Result<ServiceKeyId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::from(AppError::NotFound(Entity::ServiceKey)))
}

/// Lists service keys (all with API Credentials read, otherwise one's own); `expired` filters
/// on `expires_at`.
#[utoipa::path(tag = "Service keys", params(("account_id" = i64, Path), ListParams, ExpiryParams),
    responses((status = 200, body = Envelope<Vec<ServiceKeyView>>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/keys")]
pub async fn list_keys(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<i64>,
    params: QueryParams<ListParams>,
    expiry: QueryParams<ExpiryParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let params = params.0;
    let query = params.query()?;
    let expired = expiry.0.expired;
    let page = run(&app, move |app| {
        app.list_service_keys(&caller.0, account, &query, expired)
    })
    .await?;
    let items: Vec<ServiceKeyView> = page.items.into_iter().map(Into::into).collect();
    Ok(params.respond(items, page.total, |k| k.id.clone()))
}

/// Creates a service key (an RSA-2048 pair); the private key is in this answer only.
#[utoipa::path(tag = "Service keys", params(("account_id" = i64, Path)), request_body = CreateServiceKeyBody,
    responses((status = 200, body = Envelope<CreatedServiceKeyView>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts/{account_id}/keys")]
pub async fn create_key(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: JsonBody<CreateServiceKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let b = body.0;
    let roles = role_ids(&b.roles)?;
    let meta = request_meta(&req);
    let cmd = CreateServiceKey {
        name: b.name,
        description: b.description,
        roles,
        validity: KeyValidity {
            not_before: b.not_before,
            expires_at: b.expires_at,
        },
    };
    let created = run(&app, move |app| {
        app.create_service_key(&caller.0, &meta, account, cmd)
    })
    .await?;
    let credentials = ServiceKeyCredentials {
        account_email: created.account_email.clone(),
        account_id: created.key.account_id.0,
        key_id: created.key.id.to_string(),
        private_key: created.private_key.expose().to_owned(),
    };
    Ok(Envelope::ok(CreatedServiceKeyView {
        key: created.key.into(),
        credentials,
    })
    .respond())
}

/// One service key.
#[utoipa::path(tag = "Service keys", params(("account_id" = i64, Path), ("key_id" = String, Path)),
    responses((status = 200, body = Envelope<ServiceKeyView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/keys/{key_id}")]
pub async fn get_key(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = key_id(&id)?;
    let key = reads
        .run(&app, move |app| {
            app.get_service_key(&caller.0, AccountId(account), id)
        })
        .await?;
    Ok(Envelope::ok(ServiceKeyView::from(key)).respond())
}

/// Renames or re-describes a key, changes when it works, or sets the networks it may be used
/// from.
#[utoipa::path(tag = "Service keys", params(("account_id" = i64, Path), ("key_id" = String, Path)),
    request_body = UpdateServiceKeyBody,
    responses((status = 200, body = Envelope<ServiceKeyView>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[patch("/accounts/{account_id}/keys/{key_id}")]
pub async fn update_key(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: JsonBody<UpdateServiceKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = key_id(&id)?;
    let meta = request_meta(&req);
    let b = body.0;
    let changes = ServiceKeyChanges {
        name: b.name,
        description: b.description,
        validity: ValidityChange {
            not_before: b.not_before,
            expires_at: b.expires_at,
        },
        allowed_ips: crate::authorized_ips::allowed_ips(b.allowed_ips)?,
    };
    let key = run(&app, move |app| {
        app.update_service_key(&caller.0, &meta, AccountId(account), id, changes)
    })
    .await?;
    Ok(Envelope::ok(ServiceKeyView::from(key)).respond())
}

/// Replaces a key's roles.
#[utoipa::path(tag = "Service keys", params(("account_id" = i64, Path), ("key_id" = String, Path)),
    request_body = KeyRolesBody,
    responses((status = 200, body = Envelope<ServiceKeyView>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[put("/accounts/{account_id}/keys/{key_id}/roles")]
pub async fn set_key_roles(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: JsonBody<KeyRolesBody>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = key_id(&id)?;
    let roles = role_ids(&body.0.roles)?;
    let meta = request_meta(&req);
    let key = run(&app, move |app| {
        app.change_service_key_roles(
            &caller.0,
            &meta,
            AccountId(account),
            id,
            RoleChange::Replace(roles),
        )
    })
    .await?;
    Ok(Envelope::ok(ServiceKeyView::from(key)).respond())
}

/// Deletes a key: its JWTs fail from the next request.
#[utoipa::path(tag = "Service keys", params(("account_id" = i64, Path), ("key_id" = String, Path)),
    responses((status = 200, body = Envelope<IdResult>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/accounts/{account_id}/keys/{key_id}")]
pub async fn delete_key(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = key_id(&id)?;
    let meta = request_meta(&req);
    run(&app, move |app| {
        app.delete_service_key(&caller.0, &meta, AccountId(account), id)
    })
    .await?;
    Ok(Envelope::ok(IdResult::from(id)).respond())
}
