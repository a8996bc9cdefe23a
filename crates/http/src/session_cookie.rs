//! The session cookie (`tessera_session`) and the CSRF rule for the requests it authenticates.
//!
//! A browser signed in through `/signin` holds its session token in a cookie (`Secure`,
//! `HttpOnly`, `SameSite=Lax`, `Path=/`), which the REST API accepts wherever it accepts a
//! bearer session — only when no `Authorization` (or `X-Auth-Email` + `X-Auth-Key`) header is
//! there: a header always wins. The method API never reads it: it takes writes over `GET`.
//!
//! A browser sends a cookie with requests other sites make it send, so a write (any method but
//! `GET`, `HEAD` and `OPTIONS`) authenticated by the cookie must also prove it comes from a page
//! of Tessera's own:
//! - `X-CSRF-Token` must be the session's CSRF token ([`tessera_app::auth::csrf_token`]),
//!   compared in constant time: only a page that was given it knows it; and
//! - `Origin`, when present, must be the request's own origin (and `Sec-Fetch-Site`, when
//!   present, `same-origin` or `none`).
//!
//! Anything else is refused with 403 before the handler runs: 4034 for the token, 4035 for the
//! origin. Bearer clients are unaffected.

use actix_web::http::StatusCode;
use actix_web::http::header::{COOKIE, HeaderMap};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use chrono::{DateTime, Utc};
use tessera_app::{AppError, AuthFailure};
use tessera_domain::Secret;
use tessera_domain::keys::SESSION_TOKEN_PREFIX;

use crate::envelope::ApiError;

/// The cookie's name.
pub const SESSION_COOKIE: &str = "tessera_session";

/// The header a cookie-authenticated write carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The envelope code of a write refused for a missing or wrong CSRF token.
pub const CSRF_TOKEN_CODE: u32 = 4034;

/// The envelope code of a write refused for coming from another origin.
pub const CSRF_ORIGIN_CODE: u32 = 4035;

/// The value of `Set-Cookie` that stores `token` until `expires_at` (seen from `now`).
#[must_use]
pub fn set_cookie(token: &Secret, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    // Rounded up: the cookie never lapses before the session (and a session just opened reads
    // as its whole lifetime).
    let max_age = ((expires_at - now).num_milliseconds().max(0) + 999) / 1000;
    format!(
        "{SESSION_COOKIE}={}; Path=/; Max-Age={max_age}; Secure; HttpOnly; SameSite=Lax",
        token.expose()
    )
}

/// The value of `Set-Cookie` that makes the browser forget the cookie.
#[must_use]
pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax")
}

/// Adds the header that makes the browser forget the cookie to `res`.
pub fn forget(res: &mut HttpResponseBuilder) {
    res.append_header(("Set-Cookie", clear_cookie()));
}

/// The session token in the request's cookie: `Ok(None)` without one.
///
/// # Errors
/// 401 when the cookie holds anything but a session token, or when the request carries the
/// cookie more than once with different values (another site or subdomain planting one of its
/// own: which one the browser meant cannot be told).
pub fn cookie_token(headers: &HeaderMap) -> Result<Option<Secret>, ApiError> {
    let mut found: Option<&str> = None;
    for header in headers.get_all(COOKIE) {
        let Ok(text) = header.to_str() else { continue };
        for pair in text.split(';') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if name.trim() != SESSION_COOKIE {
                continue;
            }
            let value = value.trim().trim_matches('"');
            match found {
                Some(seen) if seen != value => return Err(refused()),
                _ => found = Some(value),
            }
        }
    }
    match found {
        None => Ok(None),
        Some(v) if v.starts_with(SESSION_TOKEN_PREFIX) && v.len() > SESSION_TOKEN_PREFIX.len() => {
            Ok(Some(Secret::new(v)))
        }
        Some(_) => Err(refused()),
    }
}

fn refused() -> ApiError {
    ApiError::from(AppError::Unauthenticated(AuthFailure::Failed))
}

/// Whether `method` changes nothing (no CSRF check).
fn is_safe(method: &actix_web::http::Method) -> bool {
    use actix_web::http::Method;
    *method == Method::GET || *method == Method::HEAD || *method == Method::OPTIONS
}

fn origin_refused(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        CSRF_ORIGIN_CODE % 10,
        format!("csrf: {why}; a cookie-authenticated write must come from this server's own pages"),
    )
}

/// `host[:port]` in lower case, without the scheme's default port.
fn authority(scheme: &str, host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    let default = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    match host.strip_suffix(default) {
        Some(bare) if !default.is_empty() => bare.to_owned(),
        _ => host,
    }
}

/// Refuses a request that a browser says comes from another site or origin: `Sec-Fetch-Site`
/// other than `same-origin` or `none`, or an `Origin` other than the request's own (`null`
/// included). A request with neither header passes (only browsers send them, and a browser
/// sends `Origin` with every cross-origin write).
///
/// # Errors
/// 403 with code 4035.
pub fn check_origin(req: &HttpRequest) -> Result<(), ApiError> {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site
            .to_str()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if site != "same-origin" && site != "none" {
            return Err(origin_refused(
                "the request comes from another site or origin",
            ));
        }
    }
    let Some(origin) = headers.get("origin") else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default().trim();
    let Some((scheme, host)) = origin.split_once("://") else {
        return Err(origin_refused("the request's Origin is not this server's"));
    };
    let scheme = scheme.to_ascii_lowercase();
    let own = crate::own_origin::own_origins(req).into_iter().any(|own| {
        let same_host = authority(&scheme, host) == authority(&own.scheme, &own.host);
        // Behind a proxy that terminates TLS the connection is plain HTTP while the page is
        // HTTPS: the scheme counts only when this server knows it serves HTTPS.
        let scheme_ok = scheme == "https" || (scheme == "http" && !own.is_https());
        same_host && scheme_ok
    });
    if own && !host.contains('/') {
        Ok(())
    } else {
        Err(origin_refused("the request's Origin is not this server's"))
    }
}

/// The CSRF rule for a request authenticated by the cookie holding `token`: a write needs the
/// session's CSRF token in `X-CSRF-Token` and no foreign `Origin`.
///
/// # Errors
/// 403: code 4035 for the origin, 4034 for a missing or wrong token.
pub fn check_csrf(req: &HttpRequest, token: &Secret) -> Result<(), ApiError> {
    if is_safe(req.method()) {
        return Ok(());
    }
    check_origin(req)?;
    let presented = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match presented {
        Some(p) if tessera_app::auth::csrf_token_matches(token, p) => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            CSRF_TOKEN_CODE % 10,
            "csrf: X-CSRF-Token is not this session's CSRF token",
        )),
        None => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            CSRF_TOKEN_CODE % 10,
            "csrf: a write authenticated by the session cookie needs the X-CSRF-Token header \
             (the csrf_token of its sign-in)",
        )),
    }
}

/// A response that also makes the browser forget the cookie, when `forget_cookie`.
#[must_use]
pub fn forgetting(mut res: HttpResponse, forget_cookie: bool) -> HttpResponse {
    if forget_cookie {
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&clear_cookie()) {
            res.headers_mut()
                .append(actix_web::http::header::SET_COOKIE, value);
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use actix_web::http::Method;
    use actix_web::test::TestRequest;

    use super::*;

    fn cookies(values: &[&str]) -> HeaderMap {
        let mut req = TestRequest::default();
        for v in values {
            req = req.append_header((COOKIE, *v));
        }
        req.to_http_request().headers().clone()
    }

    #[test]
    fn the_cookie_is_read_among_others_and_only_when_it_holds_a_session_token() {
        assert_eq!(cookie_token(&cookies(&[])).unwrap(), None);
        assert_eq!(cookie_token(&cookies(&["theme=dark"])).unwrap(), None);
        let read = cookie_token(&cookies(&["theme=dark; tessera_session=tss_abc; x=1"]))
            .unwrap()
            .unwrap();
        assert_eq!(read.expose(), "tss_abc");
        // The same value twice (two Cookie headers) is one cookie.
        assert!(
            cookie_token(&cookies(&[
                "tessera_session=tss_abc",
                "tessera_session=tss_abc"
            ]))
            .unwrap()
            .is_some()
        );
        for bad in [
            "tessera_session=tsr_AKABCDEFGHIJ01234567_secret",
            "tessera_session=",
            "tessera_session=tss_",
            "tessera_session=tss_a; tessera_session=tss_b",
        ] {
            assert_eq!(
                cookie_token(&cookies(&[bad])).unwrap_err().status,
                StatusCode::UNAUTHORIZED,
                "{bad}"
            );
        }
        // Another cookie whose name merely contains ours is not ours.
        assert_eq!(
            cookie_token(&cookies(&["xtessera_session=tss_abc"])).unwrap(),
            None
        );
    }

    #[test]
    fn set_and_clear_carry_every_attribute() {
        let now = Utc::now();
        let set = set_cookie(
            &Secret::new("tss_abc"),
            now + chrono::TimeDelta::seconds(3600),
            now,
        );
        assert_eq!(
            set,
            "tessera_session=tss_abc; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            clear_cookie(),
            "tessera_session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax"
        );
        let past = set_cookie(
            &Secret::new("tss_abc"),
            now - chrono::TimeDelta::seconds(5),
            now,
        );
        assert!(past.contains("Max-Age=0;"), "{past}");
    }

    fn request(method: Method, headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = TestRequest::default()
            .method(method)
            .insert_header(("host", "tessera.example:8443"));
        for (n, v) in headers {
            req = req.insert_header((*n, *v));
        }
        req.to_http_request()
    }

    #[test]
    fn a_cookie_write_needs_its_sessions_csrf_token() {
        let token = Secret::new("tss_abc");
        let good = tessera_app::auth::csrf_token(&token);
        assert!(check_csrf(&request(Method::GET, &[]), &token).is_ok());
        assert!(check_csrf(&request(Method::HEAD, &[]), &token).is_ok());
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let missing = check_csrf(&request(method.clone(), &[]), &token).unwrap_err();
            assert_eq!(
                (missing.status, missing.code),
                (StatusCode::FORBIDDEN, 4034)
            );
            let other = tessera_app::auth::csrf_token(&Secret::new("tss_other"));
            let wrong =
                check_csrf(&request(method.clone(), &[(CSRF_HEADER, &other)]), &token).unwrap_err();
            assert_eq!(wrong.code, 4034);
            assert!(check_csrf(&request(method, &[(CSRF_HEADER, &good)]), &token).is_ok());
        }
    }

    #[test]
    fn a_foreign_origin_is_refused_even_with_the_token() {
        let token = Secret::new("tss_abc");
        let good = tessera_app::auth::csrf_token(&token);
        let with = |extra: &[(&str, &str)]| {
            let mut h = vec![(CSRF_HEADER, good.as_str())];
            h.extend_from_slice(extra);
            check_csrf(&request(Method::POST, &h), &token)
        };
        assert!(
            with(&[]).is_ok(),
            "no Origin: not a browser's cross-origin write"
        );
        assert!(with(&[("origin", "http://tessera.example:8443")]).is_ok());
        assert!(with(&[("origin", "HTTP://Tessera.Example:8443")]).is_ok());
        assert!(with(&[("sec-fetch-site", "same-origin")]).is_ok());
        assert!(with(&[("sec-fetch-site", "none")]).is_ok());
        for (name, value) in [
            ("origin", "https://evil.example"),
            ("origin", "http://tessera.example:8444"),
            ("origin", "http://tessera.example"),
            ("origin", "http://tessera.example:8443.evil.example"),
            ("origin", "null"),
            ("origin", "tessera.example:8443"),
            ("origin", "ftp://tessera.example:8443"),
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
        ] {
            let refused = with(&[(name, value)]).unwrap_err();
            assert_eq!(
                (refused.status, refused.code),
                (StatusCode::FORBIDDEN, 4035),
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn default_ports_are_the_same_origin() {
        assert_eq!(authority("https", "Example.com:443"), "example.com");
        assert_eq!(authority("http", "example.com:80"), "example.com");
        assert_eq!(authority("http", "example.com:443"), "example.com:443");
        assert_eq!(authority("https", "[::1]:8443"), "[::1]:8443");
    }
}
