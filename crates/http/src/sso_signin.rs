//! SSO sign-in: `GET /v1/sso/login` sends the browser to the connector's identity provider;
//! `GET /v1/sso/callback/{connector_id}` is where the IdP sends it back (register this URL at
//! the IdP: each connector has its own).

use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieAge};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use tessera_app::{App, BeginSso, CompleteSso, SsoTarget, binding_cookie_name};
use tessera_domain::Entity;
use tessera_domain::Secret;
use tessera_domain::ids::{AccountId, SsoConnectorId};
use tessera_domain::sso::{LOGIN_TTL_MINUTES, ReturnTo};
use utoipa::IntoParams;
use validator::Validate;

use crate::envelope::{ApiError, Envelope};
use crate::extract::{QueryParams, request_meta, run};
use crate::sessions::SessionView;

/// The path of the callback, below the public URL.
pub const CALLBACK_PATH: &str = "/v1/sso/callback";

/// Tessera's public URL (`server.public_url`, e.g. `https://iam.example.com`): the callback
/// registered at identity providers is `<public_url>/v1/sso/callback/<connector id>`. Without
/// it, the request's own origin is used ([`crate::own_origin::base_url`]).
#[derive(Debug, Clone, Default)]
pub struct PublicUrl(pub Option<String>);

/// Who signs in: `email`, or `account_id` and `domain`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LoginQuery {
    /// The user's email address: its domain names the connector.
    pub email: Option<String>,
    /// With `domain`: the account whose connector to use.
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    pub account_id: Option<i64>,
    /// With `account_id`: the connector's domain.
    pub domain: Option<String>,
    /// `api` (default): the callback answers the session as JSON; `page`: it sets the session
    /// cookie and shows the sign-in page.
    pub return_to: Option<String>,
}

/// The IdP's answer.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The state given at `/v1/sso/login`.
    pub state: Option<String>,
    /// The authorization code.
    pub code: Option<String>,
    /// The IdP's error (`access_denied`…).
    pub error: Option<String>,
    /// The IdP's description of it.
    pub error_description: Option<String>,
    /// The issuer (RFC 9207).
    pub iss: Option<String>,
    /// The IdP's session state (ignored).
    pub session_state: Option<String>,
}

/// Longest accepted email, domain or state.
const MAX_INPUT: usize = 320;

fn bad(field: &str, why: &str) -> ApiError {
    ApiError::bad_request(format!("{field}: {why}"))
}

/// Starts an SSO sign-in: redirects (302) to the identity provider of the enabled, verified
/// connector for the email's domain, with a binding cookie for the callback.
#[utoipa::path(tag = "SSO sign-in", params(LoginQuery),
    responses((status = 302, description = "To the identity provider"), (status = 400),
        (status = 404, description = "No SSO sign-in for this domain"), (status = 429), (status = 502)))]
#[get("/sso/login")]
pub async fn sso_login(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    query: QueryParams<LoginQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let target = match (q.email, q.account_id, q.domain) {
        (Some(email), None, None) if !email.is_empty() && email.len() <= MAX_INPUT => {
            SsoTarget::Email(email)
        }
        (None, Some(account), Some(domain)) if !domain.is_empty() && domain.len() <= MAX_INPUT => {
            SsoTarget::Domain {
                account: AccountId(account),
                domain,
            }
        }
        _ => {
            return Err(bad(
                "email",
                "give email (at most 320 characters), or account_id and domain",
            ));
        }
    };
    let return_to = match q.return_to.as_deref() {
        None => ReturnTo::Api,
        Some(r) => ReturnTo::parse(r).map_err(|_| {
            bad(
                "return_to",
                "must be api, page, or a path of /oauth/authorize",
            )
        })?,
    };
    let callback_base = format!("{}{CALLBACK_PATH}", crate::own_origin::base_url(&req));
    let meta = request_meta(&req);
    // The cookie goes back to the callback: `Secure` when the callback is reached over TLS.
    let secure = callback_base.starts_with("https://");
    let cmd = BeginSso {
        target,
        callback_base,
        return_to,
    };
    let redirect = run(&app, move |app| app.begin_sso(&meta, cmd)).await?;
    let cookie = Cookie::build(redirect.cookie_name, redirect.binding.expose().to_owned())
        .path(CALLBACK_PATH)
        .max_age(CookieAge::minutes(LOGIN_TTL_MINUTES))
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, redirect.url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .cookie(cookie)
        .finish())
}

/// Completes an SSO sign-in (the IdP redirects here): answers the session like
/// `POST /v1/sessions`, or, for a sign-in started with `return_to=page`, sets the session
/// cookie and shows the sign-in page.
#[utoipa::path(tag = "SSO sign-in", params(("connector_id" = String, Path), CallbackQuery),
    responses((status = 200, body = Envelope<SessionView>), (status = 400), (status = 401),
        (status = 403), (status = 404), (status = 502)))]
#[get("/sso/callback/{connector_id}")]
pub async fn sso_callback(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    path: web::Path<String>,
    query: QueryParams<CallbackQuery>,
) -> Result<HttpResponse, ApiError> {
    let connector = SsoConnectorId::parse(&path.into_inner())
        .map_err(|_| ApiError::from(tessera_app::AppError::NotFound(Entity::SsoConnector)))?;
    let q = query.0;
    let state = q
        .state
        .filter(|s| !s.is_empty() && s.len() <= MAX_INPUT)
        .ok_or_else(|| bad("state", "missing"))?;
    let binding = req
        .cookie(&binding_cookie_name(&state))
        .map(|c| Secret::new(c.value()));
    let expired_binding = Cookie::build(binding_cookie_name(&state), "")
        .path(CALLBACK_PATH)
        .max_age(CookieAge::ZERO)
        .finish();
    let meta = request_meta(&req);
    let cmd = CompleteSso {
        connector,
        state,
        binding,
        code: q.code,
        error: q.error,
        iss: q.iss,
    };
    let done = match run(&app, move |app| app.complete_sso(&meta, cmd)).await {
        Ok(done) => done,
        Err(refused) => {
            let mut response = actix_web::ResponseError::error_response(&refused);
            response
                .add_removal_cookie(&expired_binding)
                .map_err(|e| ApiError::from(tessera_app::AppError::Internal(e.to_string())))?;
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            return Ok(response);
        }
    };
    let mut response = match done.return_to {
        ReturnTo::Api => Envelope::ok(SessionView::new(&done.session, false)).respond(),
        ReturnTo::Page => crate::signin::signed_in_page(&SessionView::new(&done.session, true)),
        // Back to the authorization request that sent the browser to sign in (a path of
        // Tessera's own: no open redirect), now with the session cookie.
        ReturnTo::Continue(next) => HttpResponse::SeeOther()
            .append_header(("Set-Cookie", SessionView::new(&done.session, true).cookie()))
            .insert_header((header::LOCATION, next.as_str()))
            .finish(),
    };
    response
        .add_removal_cookie(&expired_binding)
        .map_err(|e| ApiError::from(tessera_app::AppError::Internal(e.to_string())))?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}
