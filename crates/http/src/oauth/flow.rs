//! The token endpoint's arms of the authorization code flow (`authorization_code`,
//! `refresh_token`) and the revocation of refresh tokens: the client authenticates as its
//! `token_endpoint_auth_method` says (`client_secret_basic`, `client_secret_post`, or `none`
//! with its `client_id` alone).

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use tessera_app::{App, ClientCredentials, CodeExchange, FlowTokens, RefreshExchange};
use tessera_domain::Secret;
use tessera_domain::audit::RequestMeta;
use tessera_domain::oauth::TokenEndpointAuthMethod;

use super::error::Party;
use super::form::Form;
use super::token::TokenResponse;
use super::{OAuthReply, blocking};

fn answer(tokens: &FlowTokens) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(TokenResponse {
            access_token: tokens.access.token.expose().to_owned(),
            token_type: "Bearer",
            expires_in: tokens.access.expires_in,
            scope: tokens.access.scopes.to_string(),
            id_token: tokens.id_token.as_ref().map(|t| t.expose().to_owned()),
            refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose().to_owned()),
        })
}

fn invalid_client() -> OAuthReply {
    OAuthReply::from_app(tessera_app::OAuthError::InvalidClient.into(), Party::Client)
}

/// How the client authenticated: `Authorization: Basic` (each part form-encoded, RFC 6749
/// §2.3.1), `client_id` and `client_secret` in the form, or `client_id` alone (a public
/// client) — one way only.
///
/// # Errors
/// `invalid_request` for two ways at once; `invalid_client` for none or an unreadable one.
pub fn oauth_client(req: &HttpRequest, form: &Form) -> Result<ClientCredentials, OAuthReply> {
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| tessera_app::auth::header_text(v.as_bytes()));
    match (basic, form.get("client_id"), form.get("client_secret")) {
        (Some(_), _, Some(_)) => Err(OAuthReply::invalid_request(
            "authenticate the client one way: Authorization: Basic or client_secret",
        )),
        (Some(header), in_form, None) => match tessera_app::Presented::from_authorization(header) {
            tessera_app::Presented::Basic { key_id, secret } => {
                let client_id = super::token::decode(&key_id);
                if in_form.is_some_and(|id| id != client_id) {
                    return Err(OAuthReply::invalid_request(
                        "client_id differs from the Authorization header's",
                    ));
                }
                Ok(ClientCredentials {
                    client_id,
                    secret: Some(Secret::new(super::token::decode(secret.expose()))),
                    method: TokenEndpointAuthMethod::ClientSecretBasic,
                })
            }
            _ => Err(invalid_client()),
        },
        (None, Some(id), Some(secret)) => Ok(ClientCredentials {
            client_id: id.to_owned(),
            secret: Some(Secret::new(secret)),
            method: TokenEndpointAuthMethod::ClientSecretPost,
        }),
        (None, Some(id), None) => Ok(ClientCredentials {
            client_id: id.to_owned(),
            secret: None,
            method: TokenEndpointAuthMethod::None,
        }),
        (None, None, _) => Err(invalid_client()),
    }
}

/// `grant_type=authorization_code`.
///
/// # Errors
/// The exchange's refusal.
pub async fn authorization_code(
    app: &web::Data<Arc<App>>,
    req: &HttpRequest,
    form: &Form,
    issuer: String,
    meta: RequestMeta,
) -> Result<HttpResponse, OAuthReply> {
    let exchange = CodeExchange {
        client: oauth_client(req, form)?,
        code: Secret::new(form.require("code")?),
        redirect_uri: form.get("redirect_uri").map(str::to_owned),
        code_verifier: form.get("code_verifier").map(str::to_owned),
        issuer,
    };
    let tokens = blocking(app, Party::Client, move |app| {
        app.exchange_code(&exchange, &meta)
    })
    .await?;
    Ok(answer(&tokens))
}

/// `grant_type=refresh_token`.
///
/// # Errors
/// The exchange's refusal.
pub async fn refresh_token(
    app: &web::Data<Arc<App>>,
    req: &HttpRequest,
    form: &Form,
    issuer: String,
    meta: RequestMeta,
) -> Result<HttpResponse, OAuthReply> {
    let exchange = RefreshExchange {
        client: oauth_client(req, form)?,
        refresh_token: Secret::new(form.require("refresh_token")?),
        scope: form.get("scope").map(str::to_owned),
        issuer,
    };
    let tokens = blocking(app, Party::Client, move |app| {
        app.refresh_tokens(&exchange, &meta)
    })
    .await?;
    Ok(answer(&tokens))
}

/// Revokes a refresh token's grant for the client that holds it (RFC 7009: 200 whether or not
/// there was anything to revoke).
///
/// # Errors
/// `invalid_client` when the client does not authenticate.
pub async fn revoke_refresh_token(
    app: &web::Data<Arc<App>>,
    req: &HttpRequest,
    form: &Form,
    token: Secret,
    meta: RequestMeta,
) -> Result<(), OAuthReply> {
    let client = oauth_client(req, form)?;
    blocking(app, Party::Client, move |app| {
        app.revoke_refresh_token(&client, &token, &meta)
    })
    .await?;
    Ok(())
}
