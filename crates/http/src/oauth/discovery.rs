//! What a relying party reads first: the key set (RFC 7517) and the discovery documents
//! (OpenID Connect Discovery 1.0, RFC 8414). The issuer is `server.public_url`, or the
//! request's own origin.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use tessera_app::App;
use tessera_domain::oauth::Scope;
use utoipa::ToSchema;

use super::error::Party;
use super::{OAuthErrorBody, OAuthReply, blocking};
use crate::own_origin::{base_url, configured_public_url};

/// Seconds a verifier may cache the key set: short, so that a rotation's new key is fetched
/// soon (a verifier also fetches again on a `kid` it does not know).
const JWKS_MAX_AGE: u32 = 60;

/// Seconds a discovery document may be cached.
const DISCOVERY_MAX_AGE: u32 = 300;

/// A JWK Set (RFC 7517 §5): the public halves of the keys that sign Tessera's tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct JwkSetView {
    /// The keys: `kty` `EC`, `crv` `P-256`, `x`, `y`, `kid`, `alg` `ES256`, `use` `sig`.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

/// The authorization server's metadata (RFC 8414 §2; OpenID Connect Discovery §3).
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerMetadata {
    /// The issuer: every token's `iss`.
    pub issuer: String,
    /// Where users authorize clients.
    pub authorization_endpoint: String,
    /// Where clients get tokens.
    pub token_endpoint: String,
    /// The key set.
    pub jwks_uri: String,
    /// OpenID Connect userinfo.
    pub userinfo_endpoint: String,
    /// RFC 7662 introspection.
    pub introspection_endpoint: String,
    /// RFC 7009 revocation.
    pub revocation_endpoint: String,
    /// Every scope.
    pub scopes_supported: Vec<String>,
    /// `code`.
    pub response_types_supported: Vec<&'static str>,
    /// `query`.
    pub response_modes_supported: Vec<&'static str>,
    /// The grant types served.
    pub grant_types_supported: Vec<&'static str>,
    /// `S256`.
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// How clients authenticate at the token endpoint.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// How callers authenticate at introspection.
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// How callers authenticate at revocation.
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// `ES256`.
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    /// `public`.
    pub subject_types_supported: Vec<&'static str>,
    /// The claims userinfo and ID tokens may carry.
    pub claims_supported: Vec<&'static str>,
    /// `true`: authorization responses carry `iss` (RFC 9207), against mix-up attacks.
    pub authorization_response_iss_parameter_supported: bool,
}

fn metadata(issuer: String) -> ServerMetadata {
    let at = |path: &str| format!("{issuer}{path}");
    ServerMetadata {
        authorization_endpoint: at("/oauth/authorize"),
        token_endpoint: at("/oauth/token"),
        jwks_uri: at("/oauth/jwks"),
        userinfo_endpoint: at("/oauth/userinfo"),
        introspection_endpoint: at("/oauth/introspect"),
        revocation_endpoint: at("/oauth/revoke"),
        scopes_supported: Scope::all().map(|s| s.to_string()).collect(),
        response_types_supported: vec!["code"],
        response_modes_supported: vec!["query"],
        grant_types_supported: vec![
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ],
        code_challenge_methods_supported: vec!["S256"],
        token_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        introspection_endpoint_auth_methods_supported: vec!["client_secret_basic", "bearer"],
        revocation_endpoint_auth_methods_supported: vec!["client_secret_basic", "bearer"],
        id_token_signing_alg_values_supported: vec!["ES256"],
        subject_types_supported: vec!["public"],
        claims_supported: vec![
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "email",
            "email_verified",
            "name",
            "preferred_username",
            "auth_time",
            "nonce",
            "azp",
            "at_hash",
        ],
        authorization_response_iss_parameter_supported: true,
        issuer,
    }
}

fn cached(max_age: u32) -> (&'static str, String) {
    ("Cache-Control", format!("public, max-age={max_age}"))
}

/// A discovery document: shared caches may keep it only when its issuer is the configured
/// `server.public_url`. Derived from the request (its `Host`, and from trusted proxies
/// `X-Forwarded-Proto` or `Forwarded`), a shared cache keyed on the URL alone would serve one
/// caller's endpoints and `jwks_uri` to every relying party.
fn discovery(app: &App, req: &HttpRequest) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if configured_public_url(req).is_some() {
        response.insert_header(cached(DISCOVERY_MAX_AGE));
    } else {
        response
            .insert_header((
                "Cache-Control",
                format!("private, max-age={DISCOVERY_MAX_AGE}"),
            ))
            .insert_header(("Vary", "Host, X-Forwarded-Proto, Forwarded"));
    }
    response.json(metadata(app.oauth_issuer(&base_url(req))))
}

/// The public keys that sign Tessera's tokens (RFC 7517): verify tokens offline with them.
/// A key retired by `tessera keys rotate` stays listed until every token it signed has expired.
#[utoipa::path(tag = "OAuth",
    responses(
        (status = 200, description = "The key set", body = JwkSetView, content_type = "application/jwk-set+json"),
        (status = 503, description = "The database is unavailable", body = OAuthErrorBody)))]
#[get("/oauth/jwks")]
pub async fn jwks(app: web::Data<Arc<App>>) -> Result<HttpResponse, OAuthReply> {
    let set = blocking(&app, Party::Client, App::jwks).await?;
    Ok(HttpResponse::Ok()
        .insert_header(cached(JWKS_MAX_AGE))
        .content_type("application/jwk-set+json")
        .body(set.to_string()))
}

/// OpenID Connect discovery: the issuer, the endpoints, the scopes and algorithms.
#[utoipa::path(tag = "OAuth",
    responses((status = 200, description = "The provider's metadata", body = ServerMetadata)))]
#[get("/.well-known/openid-configuration")]
pub async fn openid_configuration(app: web::Data<Arc<App>>, req: HttpRequest) -> HttpResponse {
    discovery(&app, &req)
}

/// The authorization server's metadata (RFC 8414): the same document as OpenID Connect
/// discovery.
#[utoipa::path(tag = "OAuth",
    responses((status = 200, description = "The server's metadata", body = ServerMetadata)))]
#[get("/.well-known/oauth-authorization-server")]
pub async fn authorization_server(app: web::Data<Arc<App>>, req: HttpRequest) -> HttpResponse {
    discovery(&app, &req)
}
