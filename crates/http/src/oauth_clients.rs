//! OAuth clients, Cloudflare-compatible: `/v1/accounts/{account_id}/oauth_clients` (create,
//! list, get, update, delete, `POST|DELETE …/rotate_secret`) and the scope catalog
//! `/v1/oauth/scopes`, with the field names and shapes of the official SDK's models.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::{App, AppError, OAuthClientUpdate, OAuthScopeInfo};
use tessera_domain::Entity;
use tessera_domain::ids::{AccountId, OAuthClientId};
use tessera_domain::oauth::{ClientInput, OAuthClient};
use utoipa::ToSchema;
use validator::Validate;

use crate::envelope::{ApiError, Envelope, IdResult};
use crate::extract::{Caller, JsonBody, QueryParams, Reads, request_meta, run};
use crate::paging::PageParams;

/// A grant type.
#[derive(ToSchema)]
#[schema(as = OAuthGrantType)]
#[allow(dead_code)]
enum GrantTypeDoc {
    #[schema(rename = "authorization_code")]
    AuthorizationCode,
    #[schema(rename = "refresh_token")]
    RefreshToken,
}

/// A response type (`token`, the implicit flow, is refused).
#[derive(ToSchema)]
#[schema(as = OAuthResponseType)]
#[allow(dead_code)]
enum ResponseTypeDoc {
    #[schema(rename = "code")]
    Code,
    #[schema(rename = "id_token")]
    IdToken,
    #[schema(rename = "token")]
    Token,
}

/// How the client authenticates at the token endpoint (`none`: a public client, no secret).
#[derive(ToSchema)]
#[schema(as = OAuthTokenEndpointAuthMethod)]
#[allow(dead_code)]
enum AuthMethodDoc {
    #[schema(rename = "none")]
    None,
    #[schema(rename = "client_secret_basic")]
    ClientSecretBasic,
    #[schema(rename = "client_secret_post")]
    ClientSecretPost,
}

/// Visibility: `private` (only its account) or `public`.
#[derive(ToSchema)]
#[schema(as = OAuthClientVisibility)]
#[allow(dead_code)]
enum VisibilityDoc {
    #[schema(rename = "private")]
    Private,
    #[schema(rename = "public")]
    Public,
}

/// An OAuth client (Cloudflare's `OAuthClient…Response`).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthClientView {
    /// The client's id: 32 hex digits.
    pub client_id: String,
    /// `private` (promotion to `public` is not offered).
    #[schema(value_type = VisibilityDoc)]
    pub visibility: &'static str,
    /// Human-readable name.
    pub client_name: String,
    /// The secret: only in the answer to the creation of a confidential client, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Grant types; `authorization_code` always.
    #[schema(value_type = Vec<GrantTypeDoc>)]
    pub grant_types: Vec<&'static str>,
    /// Response types; `code` always.
    #[schema(value_type = Vec<ResponseTypeDoc>)]
    pub response_types: Vec<&'static str>,
    /// Redirect URIs (compared exactly).
    pub redirect_uris: Vec<String>,
    /// Scopes, `offline_access` and `openid` following `grant_types` and `response_types`.
    pub scopes: Vec<String>,
    /// Scopes a user may decline at consent.
    pub optional_scopes: Vec<String>,
    /// Token endpoint authentication.
    #[schema(value_type = AuthMethodDoc)]
    pub token_endpoint_auth_method: &'static str,
    /// Whether a rotated (previous) secret is still valid.
    pub has_rotated_secret: bool,
    /// CORS origins.
    pub allowed_cors_origins: Vec<String>,
    /// Post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Home page.
    pub client_uri: Option<String>,
    /// Logo.
    pub logo_uri: Option<String>,
    /// Privacy policy.
    pub policy_uri: Option<String>,
    /// Terms of service.
    pub tos_uri: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Promotion to `public` (never, for now).
    pub promoted_at: Option<DateTime<Utc>>,
}

impl From<OAuthClient> for OAuthClientView {
    fn from(c: OAuthClient) -> Self {
        fn names<T: ToString>(v: &[T]) -> Vec<String> {
            v.iter().map(ToString::to_string).collect()
        }
        let has_rotated_secret = c.has_rotated_secret();
        let s = c.settings;
        Self {
            client_id: c.id.to_string(),
            visibility: c.visibility.as_str(),
            client_name: s.client_name,
            client_secret: None,
            grant_types: s.grant_types.iter().map(|g| g.as_str()).collect(),
            response_types: s.response_types.iter().map(|r| r.as_str()).collect(),
            redirect_uris: s.redirect_uris,
            scopes: names(&s.scopes),
            optional_scopes: names(&s.optional_scopes),
            token_endpoint_auth_method: s.token_endpoint_auth_method.as_str(),
            has_rotated_secret,
            allowed_cors_origins: s.allowed_cors_origins,
            post_logout_redirect_uris: s.post_logout_redirect_uris,
            client_uri: s.client_uri,
            logo_uri: s.logo_uri,
            policy_uri: s.policy_uri,
            tos_uri: s.tos_uri,
            created_at: c.created_at,
            updated_at: c.updated_at,
            promoted_at: c.promoted_at,
        }
    }
}

/// A new client (Cloudflare's `OAuthClientCreateParams`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateOAuthClientBody {
    /// Human-readable name (1 to 100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub client_name: String,
    /// Grant types: `authorization_code` is required, `refresh_token` optional.
    #[schema(value_type = Vec<GrantTypeDoc>)]
    pub grant_types: Vec<String>,
    /// Redirect URIs: 1 to 10 absolute `https` URLs (`http` for a loopback host only), no
    /// fragment.
    #[schema(min_items = 1, max_items = 10)]
    pub redirect_uris: Vec<String>,
    /// Response types: `code` is required; `id_token` makes `openid` a scope; `token` is
    /// refused.
    #[schema(value_type = Vec<ResponseTypeDoc>)]
    pub response_types: Vec<String>,
    /// Scopes (`GET /v1/oauth/scopes`): dot-delimited, none the caller does not hold.
    pub scopes: Vec<String>,
    /// Token endpoint authentication.
    #[schema(value_type = AuthMethodDoc)]
    pub token_endpoint_auth_method: String,
    /// CORS origins (`scheme://host[:port]`), at most 10.
    #[serde(default)]
    pub allowed_cors_origins: Vec<String>,
    /// Home page (`https`).
    pub client_uri: Option<String>,
    /// Logo (`https`).
    pub logo_uri: Option<String>,
    /// Scopes a user may decline: within `scopes`, never `openid` or `offline_access`.
    #[serde(default)]
    pub optional_scopes: Vec<String>,
    /// Privacy policy (`https`).
    pub policy_uri: Option<String>,
    /// Post-logout redirect URIs, at most 10.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Terms of service (`https`).
    pub tos_uri: Option<String>,
}

impl crate::extract::RequestBody for CreateOAuthClientBody {}

impl From<CreateOAuthClientBody> for ClientInput {
    fn from(b: CreateOAuthClientBody) -> Self {
        Self {
            client_name: b.client_name,
            grant_types: b.grant_types,
            response_types: b.response_types,
            redirect_uris: b.redirect_uris,
            scopes: b.scopes,
            optional_scopes: b.optional_scopes,
            token_endpoint_auth_method: b.token_endpoint_auth_method,
            allowed_cors_origins: b.allowed_cors_origins,
            post_logout_redirect_uris: b.post_logout_redirect_uris,
            client_uri: b.client_uri,
            logo_uri: b.logo_uri,
            policy_uri: b.policy_uri,
            tos_uri: b.tos_uri,
        }
    }
}

/// Changes to a client (Cloudflare's `OAuthClientUpdateParams`): the fields named replace the
/// current ones, and the result is checked as on creation. `""` removes an optional URL.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct UpdateOAuthClientBody {
    /// New name.
    pub client_name: Option<String>,
    /// New grant types.
    #[schema(value_type = Option<Vec<GrantTypeDoc>>)]
    pub grant_types: Option<Vec<String>>,
    /// New redirect URIs.
    pub redirect_uris: Option<Vec<String>>,
    /// New response types.
    #[schema(value_type = Option<Vec<ResponseTypeDoc>>)]
    pub response_types: Option<Vec<String>>,
    /// New scopes (none the caller does not hold; the caller must hold the client's scopes to
    /// change it at all).
    pub scopes: Option<Vec<String>>,
    /// New token endpoint authentication: `client_secret_basic` ⇄ `client_secret_post` only
    /// (a public client stays public).
    #[schema(value_type = Option<AuthMethodDoc>)]
    pub token_endpoint_auth_method: Option<String>,
    /// New CORS origins.
    pub allowed_cors_origins: Option<Vec<String>>,
    /// New home page.
    pub client_uri: Option<String>,
    /// New logo.
    pub logo_uri: Option<String>,
    /// New optional scopes.
    pub optional_scopes: Option<Vec<String>>,
    /// New privacy policy.
    pub policy_uri: Option<String>,
    /// New post-logout redirect URIs.
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// New terms of service.
    pub tos_uri: Option<String>,
    /// `public` asks for promotion: refused (it needs a verified `client_uri` host, which
    /// Tessera does not verify).
    #[schema(value_type = Option<VisibilityDoc>)]
    pub visibility: Option<String>,
}

impl crate::extract::RequestBody for UpdateOAuthClientBody {}

impl From<UpdateOAuthClientBody> for OAuthClientUpdate {
    fn from(b: UpdateOAuthClientBody) -> Self {
        Self {
            client_name: b.client_name,
            grant_types: b.grant_types,
            response_types: b.response_types,
            redirect_uris: b.redirect_uris,
            scopes: b.scopes,
            optional_scopes: b.optional_scopes,
            token_endpoint_auth_method: b.token_endpoint_auth_method,
            allowed_cors_origins: b.allowed_cors_origins,
            post_logout_redirect_uris: b.post_logout_redirect_uris,
            client_uri: b.client_uri,
            logo_uri: b.logo_uri,
            policy_uri: b.policy_uri,
            tos_uri: b.tos_uri,
            visibility: b.visibility,
        }
    }
}

/// A new secret (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecretView {
    /// The new secret; the previous one stays valid until `DELETE …/rotate_secret`.
    pub client_secret: String,
}

/// A scope of the catalog (Cloudflare's `OAuthScopeListResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthScopeView {
    /// The name to list in a client's `scopes` (`user_management.read`).
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Group in a UI.
    pub category: &'static str,
    /// The permissions it carries (`capability.level`); empty for an identity scope.
    pub scopes: Vec<String>,
}

impl From<OAuthScopeInfo> for OAuthScopeView {
    fn from(s: OAuthScopeInfo) -> Self {
        Self {
            id: s.id,
            name: s.name,
            category: s.category,
            scopes: s.permissions,
        }
    }
}

fn client_id(raw: &str) -> Result<OAuthClientId, ApiError> {
    OAuthClientId::parse(raw).map_err(|_| ApiError::from(AppError::NotFound(Entity::OAuthClient)))
}

/// Creates an OAuth client; a confidential one's `client_secret` is in this answer only.
#[utoipa::path(tag = "OAuth clients", params(("account_id" = i64, Path)), request_body = CreateOAuthClientBody,
    responses((status = 200, body = Envelope<OAuthClientView>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts/{account_id}/oauth_clients")]
pub async fn create_oauth_client(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: JsonBody<CreateOAuthClientBody>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let meta = request_meta(&req);
    let input = ClientInput::from(body.0);
    let created = run(&app, move |app| {
        app.create_oauth_client(&caller.0, &meta, account, input)
    })
    .await?;
    let mut view = OAuthClientView::from(created.client);
    view.client_secret = created.secret.map(|s| s.expose().to_owned());
    Ok(Envelope::ok(view).respond())
}

/// The account's OAuth clients, oldest first (all of them unless `per_page` is given: the
/// Cloudflare SDK reads this list as one page; at most 100 per account).
#[utoipa::path(tag = "OAuth clients", params(("account_id" = i64, Path), PageParams),
    responses((status = 200, body = Envelope<Vec<OAuthClientView>>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/oauth_clients")]
pub async fn list_oauth_clients(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<i64>,
    params: QueryParams<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let list = reads
        .run(&app, move |app| app.list_oauth_clients(&caller.0, account))
        .await?;
    let views: Vec<OAuthClientView> = list.into_iter().map(Into::into).collect();
    Ok(params.0.respond(views))
}

/// One OAuth client (never its secret).
#[utoipa::path(tag = "OAuth clients", params(("account_id" = i64, Path), ("oauth_client_id" = String, Path)),
    responses((status = 200, body = Envelope<OAuthClientView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/oauth_clients/{oauth_client_id}")]
pub async fn get_oauth_client(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = client_id(&id)?;
    let client = reads
        .run(&app, move |app| {
            app.get_oauth_client(&caller.0, AccountId(account), id)
        })
        .await?;
    Ok(Envelope::ok(OAuthClientView::from(client)).respond())
}

/// Changes an OAuth client.
#[utoipa::path(tag = "OAuth clients", params(("account_id" = i64, Path), ("oauth_client_id" = String, Path)),
    request_body = UpdateOAuthClientBody,
    responses((status = 200, body = Envelope<OAuthClientView>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[patch("/accounts/{account_id}/oauth_clients/{oauth_client_id}")]
pub async fn update_oauth_client(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: JsonBody<UpdateOAuthClientBody>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = client_id(&id)?;
    let meta = request_meta(&req);
    let update = OAuthClientUpdate::from(body.0);
    let client = run(&app, move |app| {
        app.update_oauth_client(&caller.0, &meta, AccountId(account), id, update)
    })
    .await?;
    Ok(Envelope::ok(OAuthClientView::from(client)).respond())
}

/// Deletes an OAuth client: its `client_id` is unknown from then on.
#[utoipa::path(tag = "OAuth clients", params(("account_id" = i64, Path), ("oauth_client_id" = String, Path)),
    responses((status = 200, body = Envelope<IdResult>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/accounts/{account_id}/oauth_clients/{oauth_client_id}")]
pub async fn delete_oauth_client(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = client_id(&id)?;
    let meta = request_meta(&req);
    run(&app, move |app| {
        app.delete_oauth_client(&caller.0, &meta, AccountId(account), id)
    })
    .await?;
    Ok(Envelope::ok(IdResult::from(id)).respond())
}

/// Gives a confidential client a new secret (in this answer only); the previous one stays
/// valid until `DELETE …/rotate_secret`, and `has_rotated_secret` is `true` meanwhile.
#[utoipa::path(tag = "OAuth clients", params(("account_id" = i64, Path), ("oauth_client_id" = String, Path)),
    responses((status = 200, body = Envelope<RotatedSecretView>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts/{account_id}/oauth_clients/{oauth_client_id}/rotate_secret")]
pub async fn rotate_secret(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = client_id(&id)?;
    let meta = request_meta(&req);
    let secret = run(&app, move |app| {
        app.rotate_oauth_client_secret(&caller.0, &meta, AccountId(account), id)
    })
    .await?;
    Ok(Envelope::ok(RotatedSecretView {
        client_secret: secret.expose().to_owned(),
    })
    .respond())
}

/// Drops the previous secret after a rotation (`has_rotated_secret` becomes `false`).
#[utoipa::path(tag = "OAuth clients", params(("account_id" = i64, Path), ("oauth_client_id" = String, Path)),
    responses((status = 200, body = Envelope<IdResult>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/accounts/{account_id}/oauth_clients/{oauth_client_id}/rotate_secret")]
pub async fn delete_rotated_secret(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = client_id(&id)?;
    let meta = request_meta(&req);
    run(&app, move |app| {
        app.delete_rotated_oauth_client_secret(&caller.0, &meta, AccountId(account), id)
    })
    .await?;
    Ok(Envelope::ok(IdResult::from(id)).respond())
}

/// Every scope an OAuth client may list: `openid`, `email`, `profile`, `offline_access`, and
/// one per capability and level (all of them unless `per_page` is given). Any authenticated
/// caller may read it.
#[utoipa::path(tag = "OAuth clients", params(PageParams),
    responses((status = 200, body = Envelope<Vec<OAuthScopeView>>)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/oauth/scopes")]
pub async fn list_oauth_scopes(_caller: Caller, params: QueryParams<PageParams>) -> HttpResponse {
    let scopes: Vec<OAuthScopeView> = App::oauth_scopes().into_iter().map(Into::into).collect();
    params.0.respond(scopes)
}
