//! Restcomm access keys: `/v1/accounts/{account_id}/users/{user_id}/access_keys`.

use std::sync::Arc;
use tessera_domain::Entity;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::App;
use tessera_domain::ids::{AccessKeyId, AccountId, UserId};
use tessera_domain::keys::{AccessKey, KeyStatus, KeyValidity, ValidityChange};
use tessera_domain::ports::AccessKeyChanges;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::envelope::{ApiError, Envelope, IdResult};
use crate::extract::{Caller, JsonBody, QueryParams, Reads, request_meta, run};
use crate::paging::{ListParams, Listed};
use crate::serde_util::{body_time, body_time_or_null, double_option};

/// An access key (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessKeyView {
    /// `AK` + 18 characters.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// `active` or `inactive`.
    #[schema(value_type = crate::schema::KeyStatusDoc)]
    pub status: KeyStatus,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last use (kept to within a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Refused before this time (`null`: from creation).
    pub not_before: Option<DateTime<Utc>>,
    /// Refused from this time on (`null`: never expires).
    pub expires_at: Option<DateTime<Utc>>,
    /// The only networks the key may be used from, besides the account's authorized IPs
    /// (empty: no condition of its own).
    pub allowed_ips: Vec<String>,
    /// The client address of that use.
    pub last_used_from: Option<String>,
}

impl Listed for AccessKeyView {
    fn list_id(&self) -> String {
        self.id.clone()
    }

    fn list_name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl From<AccessKey> for AccessKeyView {
    fn from(k: AccessKey) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name,
            status: k.status,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            not_before: k.validity.not_before,
            expires_at: k.validity.expires_at,
            allowed_ips: crate::authorized_ips::shown(&k.allowed_ips),
            last_used_from: k.last_used_from,
        }
    }
}

/// A created access key: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAccessKeyView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// The secret: store it now, it is never shown again.
    pub secret: String,
    /// `tsr_<id>_<secret>`: send as `Authorization: Bearer`.
    pub token: String,
    /// `active`.
    #[schema(value_type = crate::schema::KeyStatusDoc)]
    pub status: KeyStatus,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Refused before this time (`null`: from creation).
    pub not_before: Option<DateTime<Utc>>,
    /// Refused from this time on (`null`: never expires).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new access key.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct CreateAccessKeyBody {
    /// Name.
    #[validate(length(max = 100, message = "must be at most 100 characters"))]
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// Refused before this time (RFC 3339).
    #[serde(default, deserialize_with = "body_time")]
    pub not_before: Option<DateTime<Utc>>,
    /// Refused from this time on (RFC 3339, in the future; at most the account's
    /// `max_key_lifetime_days` from now, which is also the default when the account sets it).
    #[serde(default, deserialize_with = "body_time")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl crate::extract::RequestBody for CreateAccessKeyBody {}

/// Changes to an access key.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct UpdateAccessKeyBody {
    /// `active` or `inactive`.
    #[schema(value_type = Option<crate::schema::KeyStatusDoc>)]
    pub status: Option<KeyStatus>,
    /// New name (`null` clears it).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub name: Option<Option<String>>,
    /// Refused before this time (RFC 3339; `null`: from now on).
    #[serde(default, deserialize_with = "body_time_or_null")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub not_before: Option<Option<DateTime<Utc>>>,
    /// Refused from this time on (RFC 3339, in the future, at most the account's
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

impl crate::extract::RequestBody for UpdateAccessKeyBody {}

/// Which keys a list shows.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpiryParams {
    /// `true`: only the keys whose `expires_at` has passed; `false`: only the others.
    #[serde(default, deserialize_with = "crate::serde_util::query_bool")]
    pub expired: Option<bool>,
}

fn key_id(raw: &str) -> Result<AccessKeyId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::from(tessera_app::AppError::NotFound(Entity::AccessKey)))
}

/// The user's access keys (all of them unless `per_page` is given); `expired` filters on
/// `expires_at`.
#[utoipa::path(tag = "Access keys", params(("account_id" = i64, Path), ("user_id" = i64, Path), ListParams, ExpiryParams),
    responses((status = 200, body = Envelope<Vec<AccessKeyView>>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/users/{user_id}/access_keys")]
pub async fn list_access_keys(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<(i64, i64)>,
    params: QueryParams<ListParams>,
    expiry: QueryParams<ExpiryParams>,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    let params = params.0.whole_by_default();
    let expired = expiry.0.expired;
    let keys = run(&app, move |app| {
        app.list_access_keys(&caller.0, AccountId(account), UserId(user), expired)
    })
    .await?;
    let views: Vec<AccessKeyView> = keys.into_iter().map(AccessKeyView::from).collect();
    params.respond_whole(views)
}

/// Creates an access key (at most two per user); the secret is in this answer only.
#[utoipa::path(tag = "Access keys", params(("account_id" = i64, Path), ("user_id" = i64, Path)),
    request_body = CreateAccessKeyBody,
    responses((status = 200, body = Envelope<CreatedAccessKeyView>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts/{account_id}/users/{user_id}/access_keys")]
pub async fn create_access_key(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    // The body is optional: `{}`, `{"name": …}` or nothing at all.
    let body: CreateAccessKeyBody = if body.iter().all(u8::is_ascii_whitespace) {
        CreateAccessKeyBody::default()
    } else {
        crate::extract::parse_json(&body)?
    };
    let meta = request_meta(&req);
    let created = run(&app, move |app| {
        app.create_access_key(
            &caller.0,
            &meta,
            AccountId(account),
            UserId(user),
            body.name,
            KeyValidity {
                not_before: body.not_before,
                expires_at: body.expires_at,
            },
        )
    })
    .await?;
    Ok(Envelope::ok(CreatedAccessKeyView {
        id: created.key.id.to_string(),
        name: created.key.name,
        secret: created.secret.expose().to_owned(),
        token: created.token.expose().to_owned(),
        status: created.key.status,
        created_at: created.key.created_at,
        not_before: created.key.validity.not_before,
        expires_at: created.key.validity.expires_at,
    })
    .respond())
}

/// One access key.
#[utoipa::path(tag = "Access keys", params(("account_id" = i64, Path), ("user_id" = i64, Path), ("key_id" = String, Path)),
    responses((status = 200, body = Envelope<AccessKeyView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/users/{user_id}/access_keys/{key_id}")]
pub async fn get_access_key(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<(i64, i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, user, id) = path.into_inner();
    let id = key_id(&id)?;
    let key = reads
        .run(&app, move |app| {
            app.get_access_key(&caller.0, AccountId(account), UserId(user), &id)
        })
        .await?;
    Ok(Envelope::ok(AccessKeyView::from(key)).respond())
}

/// Activates, deactivates or renames an access key, changes when it works, or sets the networks
/// it may be used from.
#[utoipa::path(tag = "Access keys", params(("account_id" = i64, Path), ("user_id" = i64, Path), ("key_id" = String, Path)),
    request_body = UpdateAccessKeyBody,
    responses((status = 200, body = Envelope<AccessKeyView>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[patch("/accounts/{account_id}/users/{user_id}/access_keys/{key_id}")]
pub async fn update_access_key(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, i64, String)>,
    body: JsonBody<UpdateAccessKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let (account, user, id) = path.into_inner();
    let id = key_id(&id)?;
    let meta = request_meta(&req);
    let b = body.0;
    let changes = AccessKeyChanges {
        status: b.status,
        name: b.name,
        validity: ValidityChange {
            not_before: b.not_before,
            expires_at: b.expires_at,
        },
        allowed_ips: crate::authorized_ips::allowed_ips(b.allowed_ips)?,
    };
    let key = run(&app, move |app| {
        app.update_access_key(
            &caller.0,
            &meta,
            AccountId(account),
            UserId(user),
            &id,
            changes,
        )
    })
    .await?;
    Ok(Envelope::ok(AccessKeyView::from(key)).respond())
}

/// Deletes an access key.
#[utoipa::path(tag = "Access keys", params(("account_id" = i64, Path), ("user_id" = i64, Path), ("key_id" = String, Path)),
    responses((status = 200, body = Envelope<IdResult>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/accounts/{account_id}/users/{user_id}/access_keys/{key_id}")]
pub async fn delete_access_key(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, user, id) = path.into_inner();
    let id = key_id(&id)?;
    let meta = request_meta(&req);
    let shown = id.to_string();
    run(&app, move |app| {
        app.delete_access_key(&caller.0, &meta, AccountId(account), UserId(user), &id)
    })
    .await?;
    Ok(Envelope::ok(IdResult::from(shown)).respond())
}
