//! SSO connectors: `/v1/accounts/{account_id}/sso_connectors`.

use std::sync::Arc;
use tessera_domain::Entity;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::{App, AppError, CreateSso, IdpUpdate, UpdateSso};
use tessera_domain::Secret;
use tessera_domain::ids::{AccountId, SsoConnectorId};
use tessera_domain::roles::RoleId;
use tessera_domain::sso::{IdpConfig, IdpInput, SsoConnector, VerificationStatus};
use utoipa::ToSchema;
use validator::Validate;

use crate::envelope::{ApiError, Envelope, IdResult};
use crate::extract::{Caller, JsonBody, QueryParams, Reads, request_meta, run};
use crate::paging::PageParams;

/// Verification status: `awaiting`, `pending`, `verified` or `failed`.
#[derive(ToSchema)]
#[schema(as = VerificationStatus)]
#[allow(dead_code)]
enum StatusDoc {
    #[schema(rename = "awaiting")]
    Awaiting,
    #[schema(rename = "pending")]
    Pending,
    #[schema(rename = "verified")]
    Verified,
    #[schema(rename = "failed")]
    Failed,
}

/// Where the domain's verification stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationView {
    /// The TXT record value to publish on the domain: `tessera_sso=<id>`.
    pub code: String,
    /// Status.
    #[schema(value_type = StatusDoc)]
    pub status: VerificationStatus,
}

/// A connector's identity provider as shown (the client secret never is).
#[derive(Debug, Serialize, ToSchema)]
pub struct IdpView {
    /// `oidc`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The issuer (its discovery document is `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// Tessera's client id at the IdP.
    pub client_id: String,
    /// Always `true`: a client secret is stored (sealed); it is never shown.
    pub client_secret_set: bool,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// The ID token claim holding the email.
    pub email_claim: String,
    /// Users signing in for the first time are created with this role; `null`: only existing
    /// users sign in.
    #[schema(value_type = Option<i64>)]
    pub jit_role_id: Option<RoleId>,
}

impl From<IdpConfig> for IdpView {
    fn from(c: IdpConfig) -> Self {
        Self {
            kind: tessera_domain::sso::IDP_TYPE_OIDC,
            issuer: c.settings.issuer,
            client_id: c.settings.client_id,
            client_secret_set: true,
            scopes: c.settings.scopes,
            email_claim: c.settings.email_claim,
            jit_role_id: c.settings.jit_role,
        }
    }
}

/// A connector's identity provider as set (Tessera extension; Cloudflare's fields keep their
/// shape).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdpBody {
    /// `oidc`.
    #[serde(rename = "type")]
    #[schema(example = "oidc")]
    pub kind: String,
    /// The issuer URL (`https`), exactly as the ID tokens' `iss`.
    #[validate(length(min = 1, max = 2000, message = "must be 1 to 2000 characters"))]
    pub issuer: String,
    /// Tessera's client id at the IdP.
    #[validate(length(min = 1, max = 255, message = "must be 1 to 255 characters"))]
    pub client_id: String,
    /// The client secret (write-only; stored sealed). Required the first time; omitted on
    /// update keeps the current one.
    #[schema(value_type = Option<String>, format = Password)]
    pub client_secret: Option<Secret>,
    /// Scopes (`openid` is always asked); default `openid email profile`.
    #[serde(default)]
    #[validate(length(max = 20, message = "at most 20 scopes"))]
    pub scopes: Vec<String>,
    /// The ID token claim holding the email; default `email`.
    pub email_claim: Option<String>,
    /// Create users signing in for the first time, with this role (never Owner; one the caller
    /// may grant); omitted or `null`: only existing users sign in.
    #[schema(value_type = Option<i64>)]
    pub jit_role_id: Option<RoleId>,
}

impl From<IdpBody> for IdpUpdate {
    fn from(b: IdpBody) -> Self {
        Self {
            input: IdpInput {
                kind: b.kind,
                issuer: b.issuer,
                client_id: b.client_id,
                scopes: b.scopes,
                email_claim: b.email_claim,
                jit_role: b.jit_role_id,
            },
            client_secret: b.client_secret,
        }
    }
}

/// An SSO connector.
#[derive(Debug, Serialize, ToSchema)]
pub struct SsoView {
    /// 32 hex digits.
    pub id: String,
    /// Creation time.
    pub created_on: DateTime<Utc>,
    /// The email domain.
    pub email_domain: String,
    /// Whether password sign-in is refused for the domain (once verified).
    pub enabled: bool,
    /// Last change.
    pub updated_on: DateTime<Utc>,
    /// FedRAMP language at sign-in.
    pub use_fedramp_language: bool,
    /// Verification.
    pub verification: VerificationView,
    /// The identity provider users sign in through (Tessera extension); absent until set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp: Option<IdpView>,
}

impl From<SsoConnector> for SsoView {
    fn from(c: SsoConnector) -> Self {
        Self {
            id: c.id.to_string(),
            created_on: c.created_on,
            email_domain: c.email_domain,
            enabled: c.enabled,
            updated_on: c.updated_on,
            use_fedramp_language: c.use_fedramp_language,
            verification: VerificationView {
                code: c.verification_code,
                status: c.verification_status,
            },
            idp: c.idp.map(IdpView::from),
        }
    }
}

/// A new connector.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateSsoBody {
    /// The email domain.
    #[validate(length(min = 1, max = 253, message = "must be 1 to 253 characters"))]
    #[schema(
        min_length = 1,
        max_length = 253,
        pattern = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
    )]
    pub email_domain: String,
    /// Start verification at once.
    #[serde(default)]
    pub begin_verification: bool,
    /// FedRAMP language at sign-in.
    #[serde(default)]
    pub use_fedramp_language: bool,
    /// The identity provider users sign in through (Tessera extension).
    #[validate(nested)]
    pub idp: Option<IdpBody>,
}

impl crate::extract::RequestBody for CreateSsoBody {}

/// Changes to a connector.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct UpdateSsoBody {
    /// Enable (once verified) or disable.
    pub enabled: Option<bool>,
    /// FedRAMP language at sign-in.
    pub use_fedramp_language: Option<bool>,
    /// A new identity provider (Tessera extension); `null` removes it.
    #[serde(default, deserialize_with = "crate::serde_util::double_option")]
    #[validate(nested)]
    #[schema(value_type = Option<IdpBody>)]
    pub idp: Option<Option<IdpBody>>,
}

impl crate::extract::RequestBody for UpdateSsoBody {}

fn sso_id(raw: &str) -> Result<SsoConnectorId, ApiError> {
    SsoConnectorId::parse(raw).map_err(|_| ApiError::from(AppError::NotFound(Entity::SsoConnector)))
}

/// The account's SSO connectors (all of them unless `per_page` is given: the Cloudflare SDK
/// reads this list as one page).
#[utoipa::path(tag = "SSO", params(("account_id" = i64, Path), PageParams),
    responses((status = 200, body = Envelope<Vec<SsoView>>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/sso_connectors")]
pub async fn list_sso(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<i64>,
    params: QueryParams<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let list = run(&app, move |app| app.list_sso(&caller.0, account)).await?;
    let views: Vec<SsoView> = list.into_iter().map(Into::into).collect();
    Ok(params.0.respond(views))
}

/// Creates a connector for an email domain.
#[utoipa::path(tag = "SSO", params(("account_id" = i64, Path)), request_body = CreateSsoBody,
    responses((status = 200, body = Envelope<SsoView>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts/{account_id}/sso_connectors")]
pub async fn create_sso(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: JsonBody<CreateSsoBody>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let meta = request_meta(&req);
    let b = body.0;
    let c = run(&app, move |app| {
        app.create_sso(
            &caller.0,
            &meta,
            account,
            CreateSso {
                email_domain: b.email_domain,
                begin_verification: b.begin_verification,
                use_fedramp_language: b.use_fedramp_language,
                idp: b.idp.map(IdpUpdate::from),
            },
        )
    })
    .await?;
    Ok(Envelope::ok(SsoView::from(c)).respond())
}

/// One connector.
#[utoipa::path(tag = "SSO", params(("account_id" = i64, Path), ("sso_connector_id" = String, Path)),
    responses((status = 200, body = Envelope<SsoView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/sso_connectors/{sso_connector_id}")]
pub async fn get_sso(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = sso_id(&id)?;
    let c = reads
        .run(&app, move |app| {
            app.get_sso(&caller.0, AccountId(account), id)
        })
        .await?;
    Ok(Envelope::ok(SsoView::from(c)).respond())
}

/// Enables, disables, or sets FedRAMP language.
#[utoipa::path(tag = "SSO", params(("account_id" = i64, Path), ("sso_connector_id" = String, Path)),
    request_body = UpdateSsoBody,
    responses((status = 200, body = Envelope<SsoView>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[patch("/accounts/{account_id}/sso_connectors/{sso_connector_id}")]
pub async fn update_sso(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: JsonBody<UpdateSsoBody>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = sso_id(&id)?;
    let meta = request_meta(&req);
    let b = body.0;
    let cmd = UpdateSso {
        enabled: b.enabled,
        use_fedramp_language: b.use_fedramp_language,
        idp: b.idp.map(|i| i.map(IdpUpdate::from)),
    };
    let c = run(&app, move |app| {
        app.update_sso(&caller.0, &meta, AccountId(account), id, cmd)
    })
    .await?;
    Ok(Envelope::ok(SsoView::from(c)).respond())
}

/// Deletes a connector.
#[utoipa::path(tag = "SSO", params(("account_id" = i64, Path), ("sso_connector_id" = String, Path)),
    responses((status = 200, body = Envelope<IdResult>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/accounts/{account_id}/sso_connectors/{sso_connector_id}")]
pub async fn delete_sso(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = sso_id(&id)?;
    let meta = request_meta(&req);
    run(&app, move |app| {
        app.delete_sso(&caller.0, &meta, AccountId(account), id)
    })
    .await?;
    Ok(Envelope::ok(IdResult::from(id)).respond())
}

/// Starts verification: status `pending`; publish `verification.code` as a TXT record on the
/// domain and the verifier marks it `verified`.
#[utoipa::path(tag = "SSO", params(("account_id" = i64, Path), ("sso_connector_id" = String, Path)),
    responses((status = 200, body = Envelope<SsoView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts/{account_id}/sso_connectors/{sso_connector_id}/begin_verification")]
pub async fn begin_verification(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = sso_id(&id)?;
    let meta = request_meta(&req);
    let c = run(&app, move |app| {
        app.begin_sso_verification(&caller.0, &meta, AccountId(account), id)
    })
    .await?;
    Ok(Envelope::ok(SsoView::from(c)).respond())
}
