//! Response headers a security review asks for, set on every answer (REST, the method API,
//! Swagger UI, the operational endpoints) unless a handler set them itself:
//!
//! | header | value |
//! |---|---|
//! | `Cache-Control` | `no-store` — answers carry secrets (tokens, private keys) and account data |
//! | `Pragma` | `no-cache` (HTTP/1.0 caches) |
//! | `X-Content-Type-Options` | `nosniff` |
//! | `X-Frame-Options` | `DENY` |
//! | `Referrer-Policy` | `no-referrer` |
//! | `Content-Security-Policy` | HTML: only Tessera's own compiled-in assets ([`HTML_CSP`]); anything else: nothing at all ([`API_CSP`]) |

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue,
    PRAGMA, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use actix_web::middleware::Next;

/// The policy of HTML pages (Swagger UI): scripts, styles, images and fonts from Tessera itself
/// only (images also as `data:` URIs, which Swagger UI's stylesheet uses for its icons; the one
/// `<style>` element the vendored Swagger UI bundle inserts, pinned by its hash), no plugins, no
/// framing, forms and requests to Tessera only.
pub const HTML_CSP: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The policy of every other answer (JSON, text): it loads nothing and is never framed.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

fn set_default(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// Adds the headers to `headers` (those already present are kept).
pub fn apply(headers: &mut HeaderMap) {
    let html = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    set_default(headers, CACHE_CONTROL, "no-store");
    set_default(headers, PRAGMA, "no-cache");
    set_default(headers, X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(headers, X_FRAME_OPTIONS, "DENY");
    set_default(headers, REFERRER_POLICY, "no-referrer");
    set_default(
        headers,
        CONTENT_SECURITY_POLICY,
        if html { HTML_CSP } else { API_CSP },
    );
}

/// The middleware (`actix_web::middleware::from_fn(secure_headers)`).
///
/// # Errors
/// Whatever the wrapped service returns.
pub async fn secure_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let mut res = next.call(req).await?;
    apply(res.headers_mut());
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_gets_the_page_policy_and_everything_gets_the_rest() {
        let mut html = HeaderMap::new();
        html.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        apply(&mut html);
        assert_eq!(html.get(CONTENT_SECURITY_POLICY).unwrap(), HTML_CSP);
        let mut json = HeaderMap::new();
        json.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        apply(&mut json);
        assert_eq!(json.get(CONTENT_SECURITY_POLICY).unwrap(), API_CSP);
        for h in [&html, &json] {
            assert_eq!(h.get(CACHE_CONTROL).unwrap(), "no-store");
            assert_eq!(h.get(PRAGMA).unwrap(), "no-cache");
            assert_eq!(h.get(X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
            assert_eq!(h.get(X_FRAME_OPTIONS).unwrap(), "DENY");
            assert_eq!(h.get(REFERRER_POLICY).unwrap(), "no-referrer");
        }
    }

    #[test]
    fn a_handlers_own_header_is_kept() {
        let mut h = HeaderMap::new();
        h.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
        apply(&mut h);
        assert_eq!(h.get(CACHE_CONTROL).unwrap(), "max-age=60");
    }
}
