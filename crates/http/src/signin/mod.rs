//! The sign-in page, `GET /signin`: a small server-rendered page (no build step, no external
//! assets: its script and stylesheet are compiled into the binary and served beside it, so it
//! works offline) under a strict Content-Security-Policy ([`PAGE_CSP`]: no inline script or
//! style).
//!
//! Its script signs in through the API: `POST /v1/sessions` with `"cookie": true` (the server
//! sets the session cookie and answers the session's CSRF token), then, when the account asks
//! for a second factor, `POST /v1/sessions/mfa` (and `POST /v1/sessions/mfa/enrol` to set one
//! up); SSO is a plain form to `GET /v1/sso/login?email=…&return_to=page`, whose callback
//! answers with [`signed_in_page`]. Signed in, the page shows the session token once (for API
//! clients, with a copy button) and its expiry, and signs out through `DELETE /v1/sessions`
//! (which clears the cookie).

pub mod html;
mod page;

use actix_web::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use utoipa_actix_web::service_config::ServiceConfig;

use tessera_domain::sso::Continuation;

use crate::sessions::SessionView;

/// The pages' Content-Security-Policy: everything from Tessera itself only, no inline script or
/// style, no plugins, no framing, requests to Tessera only. No `form-action`: browsers apply it
/// to a form's whole redirect chain, and the SSO form's `/v1/sso/login` redirects to the
/// customer's identity provider, whose origin no list can name (the page writes no markup from
/// input, so there is no injected form to restrict).
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; \
     object-src 'none'; frame-ancestors 'none'";

/// The page's script.
const SCRIPT: &str = include_str!("signin.js");

/// The page's stylesheet.
const STYLE: &str = include_str!("signin.css");

/// Registers `/signin` and its two assets (pages, not API operations: outside the OpenAPI
/// document).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.route("/signin", web::get().to(signin))
        .route(html::SCRIPT, web::get().to(script))
        .route(html::STYLESHEET, web::get().to(style));
}

/// An HTML page with the pages' policy.
fn page(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CONTENT_SECURITY_POLICY, PAGE_CSP))
        .body(body)
}

/// `GET /signin[?return_to=/oauth/authorize?…]`: a `return_to` other than a path of the
/// authorization endpoint is ignored (no open redirect: the page never sends the browser
/// anywhere else).
async fn signin(req: actix_web::HttpRequest) -> HttpResponse {
    let next = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(name, _)| name == "return_to")
        .and_then(|(_, value)| Continuation::parse(&value).ok());
    page(page::form_page(next.as_ref()))
}

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .body(SCRIPT)
}

async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .body(STYLE)
}

/// The answer of a sign-in made by a browser outside the page's script (the SSO callback, when
/// its flow was started with `return_to=page`): sets the session cookie and renders the
/// signed-in page, which shows the token once, its expiry, and a sign-out button. `view`
/// should carry its `csrf_token` ([`SessionView::new`] with `cookie` set): the page's
/// sign-out sends it.
#[must_use]
pub fn signed_in_page(view: &SessionView) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.append_header(("Set-Cookie", view.cookie()))
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CONTENT_SECURITY_POLICY, PAGE_CSP));
    res.body(page::signed_in_page(view))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, Utc};

    use super::*;

    fn view(token: &str) -> SessionView {
        SessionView {
            token: token.into(),
            expires_at: Utc::now() + TimeDelta::hours(1),
            account_id: 1,
            user_id: 2,
            session_id: "00112233445566778899aabbccddeeff".into(),
            csrf_token: Some("csrf-value".into()),
        }
    }

    fn body_text(res: HttpResponse) -> String {
        let bytes = actix_web::body::to_bytes(res.into_body());
        let bytes = futures_util::FutureExt::now_or_never(bytes)
            .expect("a ready body")
            .unwrap_or_default();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn the_signed_in_page_sets_the_cookie_and_shows_the_token_once_escaped() {
        let res = signed_in_page(&view("tss_abc\"><script>x</script>"));
        let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
        assert!(cookie.starts_with("tessera_session=tss_abc"), "{cookie}");
        for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert_eq!(
            res.headers().get("content-security-policy").unwrap(),
            PAGE_CSP
        );
        let body = body_text(res);
        assert!(
            body.contains("value=\"tss_abc&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""),
            "{body}"
        );
        assert!(!body.contains("<script>x"));
        assert!(body.contains("data-csrf=\"csrf-value\""));
        assert!(body.contains("<section id=\"signed-in\" class=\"step\""));
        assert!(!body.contains("data-csrf=\"csrf-value\" hidden"), "shown");
    }

    #[test]
    fn the_form_page_labels_every_input_and_asks_browsers_to_fill_them() {
        let body = page::form_page(None);
        for id in [
            "account_id",
            "login",
            "password",
            "code",
            "enrol-code",
            "email",
            "token",
        ] {
            assert!(body.contains(&format!("<label for=\"{id}\">")), "{id}");
            assert!(body.contains(&format!("id=\"{id}\"")), "{id}");
        }
        for wanted in [
            "autocomplete=\"username\"",
            "autocomplete=\"current-password\"",
            "autocomplete=\"one-time-code\"",
            "inputmode=\"numeric\"",
            "autocomplete=\"email\"",
            "aria-live=\"polite\"",
            "aria-live=\"assertive\"",
            "action=\"/v1/sso/login\"",
            "name=\"return_to\" value=\"page\"",
        ] {
            assert!(body.contains(wanted), "{wanted}");
        }
        assert!(
            !body.contains(" style="),
            "no inline style: the policy forbids it"
        );
        assert!(
            !has_event_handler(&body),
            "no inline handler: the policy forbids it"
        );
        assert_eq!(body.matches("<script").count(), 1, "the one script, by src");
        assert_eq!(body.matches("<h1").count(), 1);
    }

    #[test]
    fn an_authorization_request_continues_both_ways_of_signing_in_escaped() {
        let next = Continuation::parse("/oauth/authorize?client_id=a&state=%22x%22").unwrap();
        let body = page::form_page(Some(&next));
        assert!(body.contains(
            "<form id=\"password-form\" novalidate data-return-to=\"/oauth/authorize?client_id=a&amp;state=%22x%22\">"
        ));
        assert!(body.contains(
            "name=\"return_to\" value=\"/oauth/authorize?client_id=a&amp;state=%22x%22\""
        ));
        let plain = page::form_page(None);
        assert!(!plain.contains("data-return-to"));
        assert!(plain.contains("name=\"return_to\" value=\"page\""));
    }

    /// Whether `html` holds an attribute like ` onclick=`.
    fn has_event_handler(html: &str) -> bool {
        html.match_indices(" on").any(|(at, _)| {
            let rest = &html[at + 3..];
            let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        })
    }

    #[test]
    fn the_handler_check_finds_handlers_and_not_words() {
        assert!(has_event_handler("<a onclick=\"x\">"));
        assert!(!has_event_handler("<p>one-time code on the device</p>"));
    }

    #[test]
    fn the_script_only_writes_text_never_markup() {
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!SCRIPT.contains(sink), "{sink}");
        }
    }
}
