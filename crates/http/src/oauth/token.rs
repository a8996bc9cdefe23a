//! `POST /oauth/token` (RFC 6749 §3.2): one arm per grant type. The machine grants are served
//! here; the authorization-code flow adds `authorization_code` and `refresh_token`.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use tessera_app::{App, IssuedAccessToken, MachineGrant};
use tessera_domain::Secret;
use utoipa::ToSchema;

use super::error::Party;
use super::{OAuthErrorBody, OAuthReply, blocking, form};
use crate::extract::request_meta;

/// The JWT bearer grant's type (RFC 7523 §2.1).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A token request (form-encoded). Which fields a grant type reads is on each.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// `client_credentials` or `urn:ietf:params:oauth:grant-type:jwt-bearer`.
    grant_type: String,
    /// `client_credentials`: the access key id (or send `Authorization: Basic`).
    client_id: Option<String>,
    /// `client_credentials`: the access key's secret (or send `Authorization: Basic`).
    client_secret: Option<String>,
    /// The JWT bearer grant: the service key's RS256 JWT (`iss` = account id, `kid` = key id).
    assertion: Option<String>,
    /// Space-separated scopes; default: every permission the key holds.
    scope: Option<String>,
    /// The service the token is for (its `aud`), an absolute URI; default: Tessera's own API.
    audience: Option<String>,
    /// `authorization_code`: the code the redirect brought.
    code: Option<String>,
    /// `authorization_code`: the authorization request's `redirect_uri`, if it named one.
    redirect_uri: Option<String>,
    /// `authorization_code`: the PKCE verifier (43 to 128 characters).
    code_verifier: Option<String>,
    /// `refresh_token`: the refresh token (spent by this request).
    refresh_token: Option<String>,
}

/// A token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The access token: a JWT (RFC 9068).
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// Its scopes, space-separated.
    pub scope: String,
    /// `authorization_code` and `refresh_token`: the ID token, when `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// `authorization_code` and `refresh_token`: a new refresh token, when `offline_access`
    /// was granted (each use returns a new one; keep the newest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Answers a minted access token: `Cache-Control: no-store` (RFC 6749 §5.1).
#[must_use]
pub fn token_response(issued: &IssuedAccessToken) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(TokenResponse {
            access_token: issued.token.expose().to_owned(),
            token_type: "Bearer",
            expires_in: issued.expires_in,
            scope: issued.scopes.to_string(),
            id_token: None,
            refresh_token: None,
        })
}

/// Issues tokens: `client_credentials` with an access key (its id and secret as client id and
/// secret, by `Authorization: Basic` or in the form) and the JWT bearer grant with a service
/// key's JWT. The token acts for the key within the scopes asked (by default all it holds).
#[utoipa::path(tag = "OAuth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A token (Cache-Control: no-store)", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, invalid_scope, unsupported_grant_type", body = OAuthErrorBody),
        (status = 401, description = "invalid_client", body = OAuthErrorBody),
        (status = 429, description = "Too many failures from this address; see Retry-After", body = OAuthErrorBody),
        (status = 503, description = "The database is unavailable", body = OAuthErrorBody)))]
#[post("/oauth/token")]
pub async fn token(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthReply> {
    let form = form::read(&req, payload).await?;
    let meta = request_meta(&req);
    let issuer = app.oauth_issuer(&crate::own_origin::base_url(&req));
    let grant = match form.require("grant_type")? {
        "authorization_code" => {
            return super::flow::authorization_code(&app, &req, &form, issuer, meta).await;
        }
        "refresh_token" => {
            return super::flow::refresh_token(&app, &req, &form, issuer, meta).await;
        }
        "client_credentials" => client_credentials(&req, &form)?,
        JWT_BEARER => MachineGrant::JwtBearer {
            assertion: Secret::new(form.require("assertion")?),
        },
        _ => {
            return Err(OAuthReply::from_app(
                tessera_app::OAuthError::UnsupportedGrantType.into(),
                Party::Client,
            ));
        }
    };
    let scope = form.get("scope").map(str::to_owned);
    let audience = form.get("audience").map(str::to_owned);
    let issued = blocking(&app, Party::Client, move |app| {
        app.machine_token(
            &grant,
            scope.as_deref(),
            audience.as_deref(),
            &issuer,
            &meta,
        )
    })
    .await?;
    Ok(token_response(&issued))
}

/// The client's id and secret: `Authorization: Basic` (RFC 6749 §2.3.1, each part
/// form-encoded) or `client_id` and `client_secret` in the form — not both.
fn client_credentials(req: &HttpRequest, form: &form::Form) -> Result<MachineGrant, OAuthReply> {
    let in_form = (form.get("client_id"), form.get("client_secret"));
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| tessera_app::auth::header_text(v.as_bytes()));
    match (basic, in_form) {
        (Some(_), (Some(_), _) | (_, Some(_))) => Err(OAuthReply::invalid_request(
            "authenticate the client one way: Authorization: Basic or client_id and client_secret",
        )),
        (Some(header), _) => match tessera_app::Presented::from_authorization(header) {
            tessera_app::Presented::Basic { key_id, secret } => {
                Ok(MachineGrant::ClientCredentials {
                    key_id: decode(&key_id),
                    secret: Secret::new(decode(secret.expose())),
                })
            }
            _ => Err(OAuthReply::from_app(
                tessera_app::OAuthError::InvalidClient.into(),
                Party::Client,
            )),
        },
        (None, (Some(id), Some(secret))) => Ok(MachineGrant::ClientCredentials {
            key_id: id.to_owned(),
            secret: Secret::new(secret),
        }),
        (None, _) => Err(OAuthReply::from_app(
            tessera_app::OAuthError::InvalidClient.into(),
            Party::Client,
        )),
    }
}

/// Undoes the form-encoding of a Basic credential's part (RFC 6749 §2.3.1).
pub(super) fn decode(part: &str) -> String {
    form_urlencoded::parse(format!("v={part}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
