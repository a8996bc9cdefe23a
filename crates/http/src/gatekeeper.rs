//! The gatekeeper: `/v1/authz/check`, asked by a gateway (nginx `auth_request`, Envoy
//! `ext_authz` over HTTP) before it lets a request through to another service of the platform.
//!
//! The gateway forwards the caller's credential headers (`Authorization`, or `X-Auth-Email` +
//! `X-Auth-Key`; the session cookie is not read: a gateway cannot hold the CSRF rule a cookie
//! needs) and says what its route needs:
//! - `X-Tessera-Capability`: a capability slug of the catalog (`numbers`, `call_logs`, …);
//! - `X-Tessera-Level`: `read` or `write`;
//! - `X-Tessera-Account` (optional): the account id the route acts in (from its path); absent
//!   or empty, the caller's own account;
//! - `X-Tessera-Resource` (optional): an object key, as resource groups name objects
//!   (`com.tessera.api.account.user.42`).
//!
//! Answers: 204 (200 on the Envoy form, `/v1/authz/check` followed by the original path: Envoy's HTTP
//! authorization service lets only a 200 through) with `X-Tessera-Account`,
//! `X-Tessera-Principal`, `X-Tessera-Principal-Type` and, for a user's credential,
//! `X-Tessera-User`, for the gateway to pass upstream; 401 (no or bad credential, with
//! `WWW-Authenticate`); 403 (not allowed, an account the caller cannot see — whether it exists
//! or not —, or an `X-Tessera-Account` that is no account id), in the envelope; 400 when the
//! gateway's own headers are missing, repeated or malformed (its configuration is wrong: nginx
//! logs "auth request unexpected status: 400" and answers 500). The decision is the app's
//! ([`App::check`]); with a cached credential nothing leaves memory (no blocking-pool hop).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use tessera_app::{App, AppError, AuthFailure, Check, Principal};
use tessera_domain::ids::AccountId;
use tessera_domain::permissions::{Capability, Level, Permission};
use tessera_domain::policy::ResourceKey;

use crate::envelope::ApiError;
use crate::extract::{authenticate, header_credential, request_meta, run};

/// The capability the route needs (request).
pub const CAPABILITY: HeaderName = HeaderName::from_static("x-tessera-capability");
/// `read` or `write` (request).
pub const LEVEL: HeaderName = HeaderName::from_static("x-tessera-level");
/// The account the route acts in (request), and the account decided in (answer).
pub const ACCOUNT: HeaderName = HeaderName::from_static("x-tessera-account");
/// The object the route acts on (request).
pub const RESOURCE: HeaderName = HeaderName::from_static("x-tessera-resource");
/// Who the caller is (answer): a user id, an access key id or a service key id.
pub const PRINCIPAL: HeaderName = HeaderName::from_static("x-tessera-principal");
/// `user`, `access_key` or `service_key` (answer).
pub const PRINCIPAL_TYPE: HeaderName = HeaderName::from_static("x-tessera-principal-type");
/// The user the caller acts as, when it is one (answer).
pub const USER: HeaderName = HeaderName::from_static("x-tessera-user");

/// Longest header value echoed in a 400's message.
const ECHOED: usize = 64;

/// What `X-Tessera-Account` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AccountAsked {
    /// Absent or empty: the caller's own.
    Own,
    /// An account id.
    Id(AccountId),
    /// Not an account id: refused (403) once the caller is authenticated.
    Invalid,
}

/// The route's needs, read from the gateway's headers.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Needs {
    permission: Permission,
    resource: Option<ResourceKey>,
    account: AccountAsked,
}

fn misconfigured(header: &HeaderName, why: &str) -> ApiError {
    ApiError::bad_request(format!("{}: {why}", display_name(header)))
}

/// `X-Tessera-Capability` for `x-tessera-capability`.
fn display_name(header: &HeaderName) -> String {
    header
        .as_str()
        .split('-')
        .map(|w| match w {
            "x" => "X".to_owned(),
            w => {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `value` quoted when short and plain enough to echo, else a note that it is not echoed.
fn echo(value: &str) -> String {
    if value.len() <= ECHOED
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        format!("'{value}'")
    } else {
        format!("the value ({} bytes, not echoed)", value.len())
    }
}

/// A header the gateway sets once: `None` when absent; 400 when repeated or not visible ASCII.
fn single<'a>(req: &'a HttpRequest, header: &HeaderName) -> Result<Option<&'a str>, ApiError> {
    let mut values = req.headers().get_all(header);
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(misconfigured(
            header,
            "sent more than once; the gateway must set it exactly once (replacing the client's)",
        ));
    }
    tessera_app::auth::header_text(first.as_bytes())
        .map(|v| Some(v.trim()))
        .ok_or_else(|| misconfigured(header, "not visible ASCII"))
}

/// Reads the route's needs.
///
/// # Errors
/// 400 naming the header that is missing, repeated or malformed.
fn needs(req: &HttpRequest) -> Result<Needs, ApiError> {
    let capability = match single(req, &CAPABILITY)? {
        None | Some("") => {
            return Err(misconfigured(
                &CAPABILITY,
                "missing; the gateway must say which capability of the catalog the route needs",
            ));
        }
        Some(slug) => Capability::from_slug(slug).ok_or_else(|| {
            misconfigured(
                &CAPABILITY,
                &format!("{} is not a capability of the catalog", echo(slug)),
            )
        })?,
    };
    let level = match single(req, &LEVEL)? {
        Some("read") => Level::Read,
        Some("write") => Level::Write,
        None | Some("") => return Err(misconfigured(&LEVEL, "missing; read or write expected")),
        Some(other) => {
            return Err(misconfigured(
                &LEVEL,
                &format!("{} is not read or write", echo(other)),
            ));
        }
    };
    let resource = match single(req, &RESOURCE)? {
        None | Some("") => None,
        Some(key) => Some(ResourceKey::parse(key).map_err(|_| {
            misconfigured(
                &RESOURCE,
                &format!(
                    "{} is not com.tessera.api.account.<resource_type>.<id>",
                    echo(key)
                ),
            )
        })?),
    };
    let account = match single(req, &ACCOUNT)? {
        None | Some("") => AccountAsked::Own,
        Some(id) => id
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map_or(AccountAsked::Invalid, |id| AccountAsked::Id(AccountId(id))),
    };
    Ok(Needs {
        permission: Permission::new(capability, level),
        resource,
        account,
    })
}

/// The allowed answer: `status`, no body, and who the caller is for the upstream.
fn allowed(status: StatusCode, account: AccountId, principal: &Principal) -> HttpResponse {
    let actor = principal.actor();
    let mut res = HttpResponse::build(status);
    res.insert_header((ACCOUNT, account.to_string()));
    if let Ok(id) = HeaderValue::from_str(&actor.id) {
        res.insert_header((PRINCIPAL, id));
    }
    res.insert_header((PRINCIPAL_TYPE, actor.kind.as_str()));
    if let Some(user) = principal.user_id {
        res.insert_header((USER, user.to_string()));
    }
    res.finish()
}

/// Authenticates the caller and asks the app, from memory when the credential is cached.
async fn gate(
    req: &HttpRequest,
    app: &web::Data<Arc<App>>,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let needs = needs(req)?;
    let presented = header_credential(req)
        .ok_or_else(|| ApiError::from(AppError::Unauthenticated(AuthFailure::Missing)))?;
    let meta = request_meta(req);
    let principal = authenticate(app, presented, meta.clone()).await?;
    let account = match needs.account {
        AccountAsked::Own => None,
        AccountAsked::Id(id) => Some(id),
        AccountAsked::Invalid => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                0,
                "forbidden: X-Tessera-Account is not an account id",
            ));
        }
    };
    let asked = Check {
        account,
        permission: needs.permission,
        resource: needs.resource,
    };
    let decided = match app.check_cached(&principal, &meta, &asked) {
        Some(done) => done?,
        None => {
            let principal = principal.clone();
            run(app, move |app| app.check(&principal, &meta, &asked)).await?
        }
    };
    Ok(allowed(status, decided, &principal))
}

/// Whether the caller may do what the gateway's route needs (nginx `auth_request`, or any
/// gateway that lets a 2xx through): the route's needs in `X-Tessera-Capability`,
/// `X-Tessera-Level`, `X-Tessera-Account` and `X-Tessera-Resource`, the caller's credential as
/// it sent it. 204 with the caller's identity in headers for the upstream.
#[utoipa::path(tag = "Gatekeeper",
    params(
        ("X-Tessera-Capability" = String, Header, description = "The capability slug the route needs (`numbers`, `call_logs`, …)", example = "numbers"),
        ("X-Tessera-Level" = crate::schema::LevelDoc, Header, description = "`read` or `write`"),
        ("X-Tessera-Account" = Option<i64>, Header, description = "The account the route acts in (from its path); absent or empty: the caller's own"),
        ("X-Tessera-Resource" = Option<String>, Header, description = "The object acted on, as resource groups name it (`com.tessera.api.account.user.42`)"),
    ),
    responses(
        (status = 204, description = "Allowed (no body)",
            headers(
                ("X-Tessera-Account" = i64, description = "The account decided in"),
                ("X-Tessera-Principal" = String, description = "The caller: a user id, an access key id or a service key id"),
                ("X-Tessera-Principal-Type" = String, description = "`user`, `access_key` or `service_key`"),
                ("X-Tessera-User" = Option<i64>, description = "The user the caller acts as, when it is one"))),
        (status = 400, description = "The gateway's headers are missing, repeated or malformed"),
        (status = 401, description = "No credential, or a bad one"),
        (status = 403, description = "Not allowed (an account the caller cannot see, whether it exists or not, included)")),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/authz/check")]
pub async fn check(req: HttpRequest, app: web::Data<Arc<App>>) -> Result<HttpResponse, ApiError> {
    gate(&req, &app, StatusCode::NO_CONTENT).await
}

/// The same check by POST (its body is not read).
#[utoipa::path(tag = "Gatekeeper",
    params(
        ("X-Tessera-Capability" = String, Header, description = "The capability slug the route needs (`numbers`, `call_logs`, …)", example = "numbers"),
        ("X-Tessera-Level" = crate::schema::LevelDoc, Header, description = "`read` or `write`"),
        ("X-Tessera-Account" = Option<i64>, Header, description = "The account the route acts in (from its path); absent or empty: the caller's own"),
        ("X-Tessera-Resource" = Option<String>, Header, description = "The object acted on, as resource groups name it (`com.tessera.api.account.user.42`)"),
    ),
    responses(
        (status = 204, description = "Allowed (no body)",
            headers(
                ("X-Tessera-Account" = i64, description = "The account decided in"),
                ("X-Tessera-Principal" = String, description = "The caller: a user id, an access key id or a service key id"),
                ("X-Tessera-Principal-Type" = String, description = "`user`, `access_key` or `service_key`"),
                ("X-Tessera-User" = Option<i64>, description = "The user the caller acts as, when it is one"))),
        (status = 400, description = "The gateway's headers are missing, repeated or malformed"),
        (status = 401, description = "No credential, or a bad one"),
        (status = 403, description = "Not allowed (an account the caller cannot see, whether it exists or not, included)")),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/authz/check")]
pub async fn check_post(
    req: HttpRequest,
    app: web::Data<Arc<App>>,
) -> Result<HttpResponse, ApiError> {
    gate(&req, &app, StatusCode::NO_CONTENT).await
}

/// The same check for Envoy's `ext_authz` HTTP service (`path_prefix: /v1/authz/check`): Envoy
/// sends the original path after the prefix and the original method — every method is answered
/// alike ([`envoy_any`]) — and lets only a 200 through, so the allowed answer is 200 with no
/// body. The path is not read: the route's needs are in the headers.
#[utoipa::path(tag = "Gatekeeper",
    params(
        ("path" = String, Path, description = "The original request's path (not read)"),
        ("X-Tessera-Capability" = String, Header, description = "The capability slug the route needs", example = "numbers"),
        ("X-Tessera-Level" = crate::schema::LevelDoc, Header, description = "`read` or `write`"),
        ("X-Tessera-Account" = Option<i64>, Header, description = "The account the route acts in; absent or empty: the caller's own"),
        ("X-Tessera-Resource" = Option<String>, Header, description = "The object acted on (`com.tessera.api.account.user.42`)"),
    ),
    responses(
        (status = 200, description = "Allowed (no body); every other method of the original request is answered alike",
            headers(
                ("X-Tessera-Account" = i64, description = "The account decided in"),
                ("X-Tessera-Principal" = String, description = "The caller: a user id, an access key id or a service key id"),
                ("X-Tessera-Principal-Type" = String, description = "`user`, `access_key` or `service_key`"),
                ("X-Tessera-User" = Option<i64>, description = "The user the caller acts as, when it is one"))),
        (status = 400, description = "The gateway's headers are missing, repeated or malformed"),
        (status = 401, description = "No credential, or a bad one"),
        (status = 403, description = "Not allowed (an account the caller cannot see, whether it exists or not, included)")),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/authz/check/{path:.*}")]
pub async fn check_envoy(
    req: HttpRequest,
    app: web::Data<Arc<App>>,
) -> Result<HttpResponse, ApiError> {
    envoy_any(req, app).await
}

/// [`check_envoy`] under the other methods Envoy forwards (`POST`, `PUT`, `PATCH`, `DELETE`,
/// `HEAD`, `OPTIONS`…), registered as a plain route beside it.
///
/// # Errors
/// As [`check_envoy`].
pub async fn envoy_any(
    req: HttpRequest,
    app: web::Data<Arc<App>>,
) -> Result<HttpResponse, ApiError> {
    gate(&req, &app, StatusCode::OK).await
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn read(headers: &[(&'static str, &str)]) -> Result<Needs, String> {
        let mut req = TestRequest::default();
        for (k, v) in headers {
            req = req.append_header((*k, *v));
        }
        needs(&req.to_http_request()).map_err(|e| format!("{} {}", e.code, e.message))
    }

    const NUMBERS_WRITE: [(&str, &str); 2] = [
        ("x-tessera-capability", "numbers"),
        ("x-tessera-level", "write"),
    ];

    #[test]
    fn the_needs_are_read_from_the_gateways_headers() {
        assert_eq!(
            read(&NUMBERS_WRITE),
            Ok(Needs {
                permission: Permission::write(Capability::Numbers),
                resource: None,
                account: AccountAsked::Own,
            })
        );
        let mut all = NUMBERS_WRITE.to_vec();
        all.extend([
            ("x-tessera-account", "42"),
            ("x-tessera-resource", "com.cloudflare.api.account.user.7"),
        ]);
        assert_eq!(
            read(&all),
            Ok(Needs {
                permission: Permission::write(Capability::Numbers),
                resource: Some(ResourceKey::new(
                    tessera_domain::policy::ResourceType::User,
                    7
                )),
                account: AccountAsked::Id(AccountId(42)),
            })
        );
        for (empty_or_bad, want) in [
            ("", AccountAsked::Own),
            ("0", AccountAsked::Invalid),
            ("-4", AccountAsked::Invalid),
            ("4x", AccountAsked::Invalid),
            ("99999999999999999999999", AccountAsked::Invalid),
        ] {
            let mut h = NUMBERS_WRITE.to_vec();
            h.push(("x-tessera-account", empty_or_bad));
            assert_eq!(read(&h).map(|n| n.account), Ok(want), "{empty_or_bad:?}");
        }
    }

    #[test]
    fn a_misconfigured_gateway_is_told_which_header_is_wrong() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("x-tessera-level", "read")],
                "4000 X-Tessera-Capability: missing; the gateway must say which capability of the catalog the route needs",
            ),
            (
                &[
                    ("x-tessera-capability", "zones"),
                    ("x-tessera-level", "read"),
                ],
                "4000 X-Tessera-Capability: 'zones' is not a capability of the catalog",
            ),
            (
                &[("x-tessera-capability", "numbers")],
                "4000 X-Tessera-Level: missing; read or write expected",
            ),
            (
                &[
                    ("x-tessera-capability", "numbers"),
                    ("x-tessera-level", "READ"),
                ],
                "4000 X-Tessera-Level: 'READ' is not read or write",
            ),
            (
                &[
                    ("x-tessera-capability", "numbers"),
                    ("x-tessera-capability", "sms"),
                    ("x-tessera-level", "read"),
                ],
                "4000 X-Tessera-Capability: sent more than once; the gateway must set it exactly once (replacing the client's)",
            ),
            (
                &[
                    ("x-tessera-capability", "numbers"),
                    ("x-tessera-level", "read"),
                    ("x-tessera-resource", "com.tessera.api.account.zone.1"),
                ],
                "4000 X-Tessera-Resource: 'com.tessera.api.account.zone.1' is not com.tessera.api.account.<resource_type>.<id>",
            ),
        ];
        for (headers, want) in cases {
            assert_eq!(read(headers).unwrap_err(), *want);
        }
        let long = format!("com.tessera.api.account.user.{}", "9".repeat(5000));
        let mut h = NUMBERS_WRITE.to_vec();
        h.push(("x-tessera-resource", &long));
        assert_eq!(
            read(&h).unwrap_err(),
            "4000 X-Tessera-Resource: the value (5029 bytes, not echoed) is not com.tessera.api.account.<resource_type>.<id>"
        );
    }
}
