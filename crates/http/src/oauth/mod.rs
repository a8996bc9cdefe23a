//! The OAuth 2.0 / OpenID Connect endpoints (`/oauth/*`, `/.well-known/*`): not Cloudflare's
//! envelope but the RFCs' shapes — form-encoded requests, `{"error", "error_description"}`
//! refusals (RFC 6749 §5.2) and `Cache-Control: no-store` on anything holding a token.

pub mod discovery;
mod error;
pub mod flow;
mod form;
pub mod introspect;
pub mod token;

use utoipa_actix_web::service_config::ServiceConfig;

pub use error::{OAuthErrorBody, OAuthReply};

use std::sync::Arc;

use actix_web::web;
use error::Party;
use tessera_app::{App, AppError, AppResult};

/// Registers the OAuth endpoints, each with its OpenAPI entry.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(token::token)
        .service(discovery::jwks)
        .service(discovery::openid_configuration)
        .service(discovery::authorization_server)
        .service(introspect::userinfo_get)
        .service(introspect::userinfo_post)
        .service(introspect::introspect)
        .service(introspect::revoke);
}

/// Runs a use case on the blocking pool; its refusal as `party`'s.
async fn blocking<T, F>(app: &web::Data<Arc<App>>, party: Party, f: F) -> Result<T, OAuthReply>
where
    T: Send + 'static,
    F: FnOnce(&App) -> AppResult<T> + Send + 'static,
{
    let app = app.get_ref().clone();
    web::block(move || f(&app))
        .await
        .map_err(|_| OAuthReply::from_app(AppError::Internal("blocking pool".into()), party))?
        .map_err(|e| OAuthReply::from_app(e, party))
}
