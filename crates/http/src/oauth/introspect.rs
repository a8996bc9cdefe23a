//! Introspection (RFC 7662), revocation (RFC 7009) and userinfo (OpenID Connect Core §5.3).
//! The callers of introspection and revocation authenticate as anywhere in the API
//! (`Authorization: Basic` with an access key, or `Bearer` with a service-key JWT or an access
//! token).

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;
use tessera_app::{App, AppError, AuthFailure, Principal};
use tessera_domain::Secret;
use utoipa::ToSchema;

use super::error::Party;
use super::{OAuthErrorBody, OAuthReply, blocking, form};
use crate::extract::{authenticate, header_credential, request_meta};

/// An introspection answer (RFC 7662 §2.2): `{"active": false}` alone for anything inactive.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct IntrospectionView {
    /// Whether the token is usable now.
    pub active: bool,
    /// Its scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client it was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `Bearer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Expiry, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issue time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Its subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// `user`, `access_key` or `service_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// Its audience.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Its issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Its id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Its subject's account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<i64>,
    /// The grant it comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
}

/// The request's credential (header only), authenticated.
async fn caller(
    app: &web::Data<Arc<App>>,
    req: &HttpRequest,
    party: Party,
) -> Result<Arc<Principal>, OAuthReply> {
    let presented = header_credential(req).ok_or_else(|| {
        OAuthReply::from_app(AppError::Unauthenticated(AuthFailure::Missing), party)
    })?;
    authenticate(app, presented, request_meta(req))
        .await
        .map_err(|e| OAuthReply::from_app(e, party))
}

fn no_store() -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"));
    response
}

/// Describes an access token (RFC 7662) to an authenticated caller of its account: its own
/// tokens, or any with API Credentials read. Anything else — malformed, forged, expired,
/// revoked, another account's — is `{"active": false}`.
#[utoipa::path(tag = "OAuth",
    request_body(content = String, description = "token=<access token>[&token_type_hint=access_token]", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The token's state", body = IntrospectionView),
        (status = 400, description = "invalid_request", body = OAuthErrorBody),
        (status = 401, description = "invalid_client: the caller did not authenticate", body = OAuthErrorBody)))]
#[post("/oauth/introspect")]
pub async fn introspect(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthReply> {
    let form = form::read(&req, payload).await?;
    let token = form.require("token")?.to_owned();
    let principal = caller(&app, &req, Party::Client).await?;
    let info = blocking(&app, Party::Client, move |app| {
        app.introspect(&principal, &token)
    })
    .await?;
    let view = match info {
        None => IntrospectionView::default(),
        Some(info) => {
            let c = info.claims;
            IntrospectionView {
                active: true,
                scope: Some(c.scope),
                client_id: Some(c.client_id),
                token_type: Some("Bearer"),
                exp: Some(c.exp),
                iat: Some(c.iat),
                sub: Some(c.sub),
                sub_type: Some(c.sub_type),
                aud: Some(c.aud),
                iss: Some(c.iss),
                jti: Some(c.jti),
                account_id: Some(c.account_id),
                grant_id: c.grant_id,
            }
        }
    };
    Ok(no_store().json(view))
}

/// Revokes an access token (RFC 7009) until it expires: the caller's own, or any of its
/// account's with API Credentials write. Anything else is ignored: the answer is 200 either
/// way.
#[utoipa::path(tag = "OAuth",
    request_body(content = String, description = "token=<access token>[&token_type_hint=access_token]", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke"),
        (status = 400, description = "invalid_request", body = OAuthErrorBody),
        (status = 401, description = "invalid_client: the caller did not authenticate", body = OAuthErrorBody)))]
#[post("/oauth/revoke")]
pub async fn revoke(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthReply> {
    let form = form::read(&req, payload).await?;
    let token = form.require("token")?.to_owned();
    let meta = request_meta(&req);
    if token.starts_with(tessera_domain::oauth::code::REFRESH_PREFIX) {
        // A refresh token: its client revokes it, and its grant with it.
        super::flow::revoke_refresh_token(&app, &req, &form, Secret::new(token), meta).await?;
        return Ok(no_store().finish());
    }
    let principal = caller(&app, &req, Party::Client).await?;
    blocking(&app, Party::Client, move |app| {
        app.revoke_access_token(&principal, &token, &meta)
    })
    .await?;
    Ok(no_store().finish())
}

async fn userinfo(app: web::Data<Arc<App>>, req: HttpRequest) -> Result<HttpResponse, OAuthReply> {
    let principal = caller(&app, &req, Party::Bearer).await?;
    let claims = blocking(&app, Party::Bearer, move |app| app.userinfo(&principal)).await?;
    Ok(no_store().json(claims))
}

/// The signed-in user's claims (OpenID Connect Core §5.3), for an access token with `openid`:
/// `sub`; `email`, `email_verified` with `email`; `name`, `preferred_username` with `profile`.
#[utoipa::path(tag = "OAuth",
    responses(
        (status = 200, description = "The user's claims", body = Object),
        (status = 401, description = "invalid_token", body = OAuthErrorBody),
        (status = 403, description = "insufficient_scope", body = OAuthErrorBody)),
    security(("bearer" = [])))]
#[get("/oauth/userinfo")]
pub async fn userinfo_get(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
) -> Result<HttpResponse, OAuthReply> {
    userinfo(app, req).await
}

/// The same as `GET /oauth/userinfo`.
#[utoipa::path(tag = "OAuth",
    responses(
        (status = 200, description = "The user's claims", body = Object),
        (status = 401, description = "invalid_token", body = OAuthErrorBody),
        (status = 403, description = "insufficient_scope", body = OAuthErrorBody)),
    security(("bearer" = [])))]
#[post("/oauth/userinfo")]
pub async fn userinfo_post(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
) -> Result<HttpResponse, OAuthReply> {
    userinfo(app, req).await
}
