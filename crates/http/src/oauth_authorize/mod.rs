//! `/oauth/authorize` (RFC 6749 §4.1.1, RFC 7636, RFC 9207): the browser's side of the
//! authorization code flow.
//!
//! - `GET`: the request is checked against its client. An unknown client or a redirect URI it
//!   did not register is shown on a page here, never redirected to (§4.1.2.1); other errors go
//!   back to the client. A browser without a session goes to `/signin?return_to=…`, which
//!   comes back here once signed in (password, TOTP or SSO). A signed-in user sees the consent
//!   screen.
//! - `POST`: the decision, authenticated by the session cookie. It must come from Tessera's own
//!   page (`Origin` / `Sec-Fetch-Site`), carry the session's CSRF token and the `consent`
//!   binding of this exact request ([`tessera_app::consent_binding`]). Allow → a single-use
//!   code; Deny → `access_denied`. Both redirect with `state` and `iss`.

pub mod page;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY,
};
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_app::{App, Presented, consent_binding, consent_binding_matches};
use tessera_domain::Secret;
use tessera_domain::oauth::AuthorizeParams;
use tessera_domain::oauth::authorize::{
    AuthorizeError, AuthorizeErrorCode, PageError, RedirectError,
};
use tessera_domain::sso::{CONTINUATION_PATH, MAX_CONTINUATION_LEN};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::extract::{request_meta, run};
use crate::session_cookie::{check_origin, cookie_token};
use crate::signin::PAGE_CSP;

/// The longest form a consent decision may post.
const MAX_FORM: usize = 16 * 1024;

/// Registers `GET` and `POST /oauth/authorize` (browser pages, outside the OpenAPI document).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.route(CONTINUATION_PATH, web::get().to(authorize))
        .route(CONTINUATION_PATH, web::post().to(decide));
}

/// An HTML page with the pages' policy, never cached. Its referrer policy is `same-origin`,
/// not the server's `no-referrer`: under `no-referrer` a browser sends `Origin: null` with the
/// consent form's POST, which the origin check must refuse (found by Chromium); `same-origin`
/// still sends nothing to any other site.
fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CONTENT_SECURITY_POLICY, PAGE_CSP))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((REFERRER_POLICY, "same-origin"))
        .body(body)
}

fn error_page(error: PageError) -> HttpResponse {
    html(StatusCode::BAD_REQUEST, page::error_page(error))
}

fn refused(status: StatusCode, why: &str) -> HttpResponse {
    html(status, page::refused_page(why))
}

/// A 302 to `url`, never cached.
fn found(url: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((LOCATION, url))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish()
}

/// `redirect_uri` with `pairs` added to its query.
fn with_query(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{sep}{}", query.finish())
}

/// The issuer, for `iss` (RFC 9207): the tokens' own.
fn issuer(app: &App, req: &HttpRequest) -> String {
    app.oauth_issuer(&crate::own_origin::base_url(req))
}

/// An error sent back to the client.
fn redirect_error(e: &RedirectError, iss: &str) -> HttpResponse {
    let mut pairs = vec![
        ("error", e.code.as_str()),
        ("error_description", &e.description),
    ];
    if let Some(state) = &e.state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", iss));
    found(&with_query(&e.redirect_uri, &pairs))
}

fn refusal(e: &AuthorizeError, iss: &str) -> HttpResponse {
    match e {
        AuthorizeError::Page(p) => error_page(*p),
        AuthorizeError::Redirect(r) => redirect_error(r, iss),
    }
}

/// The authorization parameters of a query or form, and whether one of them was repeated
/// (RFC 6749 §3.1: each at most once).
fn params_of(pairs: &[(String, String)]) -> (AuthorizeParams, bool) {
    let mut p = AuthorizeParams::default();
    let mut repeated = false;
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "client_id" => &mut p.client_id,
            "redirect_uri" => &mut p.redirect_uri,
            "response_type" => &mut p.response_type,
            "scope" => &mut p.scope,
            "state" => &mut p.state,
            "code_challenge" => &mut p.code_challenge,
            "code_challenge_method" => &mut p.code_challenge_method,
            "nonce" => &mut p.nonce,
            _ => continue,
        };
        repeated |= slot.is_some();
        *slot = Some(value.clone());
    }
    (p, repeated)
}

fn pairs(text: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(text)
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect()
}

/// What the app's answer to an authorization step means for the browser.
enum Step {
    Refused(AuthorizeError),
    Ready(tessera_app::Authorization),
}

async fn check(app: &web::Data<Arc<App>>, params: AuthorizeParams) -> Result<Step, HttpResponse> {
    match run(app, move |app| app.check_authorization(&params)).await {
        Ok(Ok(ready)) => Ok(Step::Ready(ready)),
        Ok(Err(refusal)) => Ok(Step::Refused(refusal)),
        Err(_) => Err(refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "The service is unavailable right now: try again in a moment.",
        )),
    }
}

/// `GET /oauth/authorize`.
async fn authorize(app: web::Data<Arc<App>>, req: HttpRequest) -> HttpResponse {
    let (params, repeated) = params_of(&pairs(req.query_string().as_bytes()));
    let iss = issuer(&app, &req);
    let ready = match check(&app, params).await {
        Ok(Step::Ready(ready)) => ready,
        Ok(Step::Refused(e)) => return refusal(&e, &iss),
        Err(page) => return page,
    };
    if repeated {
        return redirect_error(
            &RedirectError {
                redirect_uri: ready.request.redirect_uri,
                code: AuthorizeErrorCode::InvalidRequest,
                description: "a parameter is repeated".into(),
                state: ready.request.state,
            },
            &iss,
        );
    }
    let sign_in = || {
        let here = format!("{CONTINUATION_PATH}?{}", req.query_string());
        if here.len() > MAX_CONTINUATION_LEN {
            return refused(StatusCode::BAD_REQUEST, "The request is too long.");
        }
        let mut to = form_urlencoded::Serializer::new(String::new());
        to.append_pair("return_to", &here);
        found(&format!("/signin?{}", to.finish()))
    };
    let Ok(Some(token)) = cookie_token(req.headers()) else {
        return sign_in();
    };
    let meta = request_meta(&req);
    let presented = Presented::Bearer(token.clone());
    let principal = match run(&app, move |app| app.authenticate(&presented, &meta)).await {
        Ok(principal) => principal,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => return sign_in(),
        Err(_) => {
            return refused(
                StatusCode::FORBIDDEN,
                "This session cannot sign in to apps.",
            );
        }
    };
    let request = ready.request.clone();
    let consent = match run(&app, move |app| app.consent(&principal, &request)).await {
        Ok(consent) => consent,
        Err(_) => {
            return refused(
                StatusCode::FORBIDDEN,
                "Only a person signed in with a session can allow an application.",
            );
        }
    };
    let csrf = tessera_app::auth::csrf_token(&token);
    let binding = consent_binding(&token, &ready.request);
    html(
        StatusCode::OK,
        page::consent_page(
            &ready.client_name,
            &ready.request,
            &consent,
            &csrf,
            &binding,
        ),
    )
}

/// `POST /oauth/authorize`: the consent decision.
async fn decide(app: web::Data<Arc<App>>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if body.len() > MAX_FORM {
        return refused(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.");
    }
    let Ok(Some(token)) = cookie_token(req.headers()) else {
        return refused(
            StatusCode::UNAUTHORIZED,
            "You are not signed in (or your session ended): start again from the application.",
        );
    };
    if check_origin(&req).is_err() {
        return refused(
            StatusCode::FORBIDDEN,
            "The decision did not come from Tessera's own page.",
        );
    }
    let form = pairs(&body);
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if !field("csrf_token").is_some_and(|c| tessera_app::auth::csrf_token_matches(&token, c)) {
        return refused(
            StatusCode::FORBIDDEN,
            "The decision did not carry this session's CSRF token.",
        );
    }
    let allow = match field("decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => return refused(StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    };
    let binding = field("consent").unwrap_or_default().to_owned();
    let (params, repeated) = params_of(&form);
    let iss = issuer(&app, &req);
    let ready = match check(&app, params).await {
        Ok(Step::Ready(ready)) => ready,
        Ok(Step::Refused(e)) => return refusal(&e, &iss),
        Err(page) => return page,
    };
    if repeated || !consent_binding_matches(&token, &ready.request, &binding) {
        return refused(
            StatusCode::FORBIDDEN,
            "The decision does not match the request it was shown for.",
        );
    }
    decided(app, req, token, ready, allow, iss).await
}

async fn decided(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    token: Secret,
    ready: tessera_app::Authorization,
    allow: bool,
    iss: String,
) -> HttpResponse {
    let meta = request_meta(&req);
    let request = ready.request.clone();
    let session = token.clone();
    let outcome = run(&app, move |app| {
        let principal = app.authenticate(&Presented::Bearer(session.clone()), &meta)?;
        if allow {
            app.approve_authorization(&principal, &session, &request, &meta)
                .map(Some)
        } else {
            app.deny_authorization(&principal, &request, &meta)
                .map(|()| None)
        }
    })
    .await;
    let state = ready.request.state.as_deref();
    match outcome {
        Ok(Some(code)) => {
            let mut pairs = vec![("code", code.expose())];
            if let Some(state) = state {
                pairs.push(("state", state));
            }
            pairs.push(("iss", &iss));
            found(&with_query(&ready.request.redirect_uri, &pairs))
        }
        Ok(None) => redirect_error(
            &RedirectError {
                redirect_uri: ready.request.redirect_uri.clone(),
                code: AuthorizeErrorCode::AccessDenied,
                description: "the user denied the request".into(),
                state: ready.request.state.clone(),
            },
            &iss,
        ),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => refused(
            StatusCode::UNAUTHORIZED,
            "You are not signed in (or your session ended): start again from the application.",
        ),
        Err(e) if e.status == StatusCode::FORBIDDEN => refused(
            StatusCode::FORBIDDEN,
            "Only a person signed in with a session can allow an application.",
        ),
        Err(_) => redirect_error(
            &RedirectError {
                redirect_uri: ready.request.redirect_uri.clone(),
                code: AuthorizeErrorCode::ServerError,
                description: "the authorization could not be recorded".into(),
                state: ready.request.state.clone(),
            },
            &iss,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parameters_are_read_once_and_a_repeat_is_noticed() {
        let (params, repeated) = params_of(&p(&[
            ("client_id", "c"),
            ("scope", "openid"),
            ("other", "x"),
        ]));
        assert_eq!(params.client_id.as_deref(), Some("c"));
        assert_eq!(params.scope.as_deref(), Some("openid"));
        assert!(!repeated);
        let (_, repeated) = params_of(&p(&[("state", "a"), ("state", "b")]));
        assert!(repeated);
    }

    #[test]
    fn answers_are_added_to_the_redirect_uris_own_query() {
        assert_eq!(
            with_query("https://a.example/cb", &[("code", "x y"), ("state", "&s")]),
            "https://a.example/cb?code=x+y&state=%26s"
        );
        assert_eq!(
            with_query("https://a.example/cb?app=1", &[("code", "c")]),
            "https://a.example/cb?app=1&code=c"
        );
    }
}
