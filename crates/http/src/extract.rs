//! Extractors and helpers shared by every handler: the authenticated caller, the request's
//! metadata, JSON bodies and query strings that report the offending field, and running a use
//! case on the blocking pool.

use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::{LocalBoxFuture, Ready, ready};
use serde::de::DeserializeOwned;
use tessera_app::{App, AppError, AppResult, AuthFailure, Presented, Principal};
use tessera_domain::audit::RequestMeta;
use validator::{Validate, ValidationErrors};

use crate::envelope::ApiError;

/// The request's client address and request id (set by the observability middleware).
#[must_use]
pub fn request_meta(req: &HttpRequest) -> RequestMeta {
    req.extensions()
        .get::<RequestMeta>()
        .cloned()
        .unwrap_or_default()
}

/// Runs a use case on the blocking pool.
///
/// # Errors
/// The use case's error, mapped to the envelope.
pub async fn run<T, F>(app: &web::Data<Arc<App>>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&App) -> AppResult<T> + Send + 'static,
{
    let app = app.get_ref().clone();
    web::block(move || f(&app))
        .await
        .map_err(|_| ApiError::from(AppError::Internal("the blocking pool is gone".into())))?
        .map_err(ApiError::from)
}

/// Whether a read may run inline on the async worker now: set by the server when the database
/// is embedded (SQLite), answering whether a pooled connection is idle at this moment.
#[derive(Clone)]
pub struct InlineReads(pub Arc<dyn Fn() -> bool + Send + Sync>);

/// How a handler runs a short read (one object): inline on the worker when [`InlineReads`] allows
/// it — an embedded, indexed read costs microseconds, less than the hop to the blocking pool and
/// back — and on the blocking pool otherwise (a network database, or no idle connection, so the
/// worker never waits for one). Writes, lists and anything that hashes use [`run`].
pub struct Reads(Option<InlineReads>);

impl Reads {
    /// Runs `f` as described on [`Reads`].
    ///
    /// # Errors
    /// The use case's error, mapped to the envelope.
    pub async fn run<T, F>(&self, app: &web::Data<Arc<App>>, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&App) -> AppResult<T> + Send + 'static,
    {
        match &self.0 {
            Some(inline) if (inline.0)() => f(app.get_ref()).map_err(ApiError::from),
            _ => run(app, f).await,
        }
    }
}

impl FromRequest for Reads {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(
            req.app_data::<web::Data<InlineReads>>()
                .map(|d| d.get_ref().clone()),
        )))
    }
}

/// Where a request's credential came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A header ([`Presented::from_headers`]).
    Header,
    /// The session cookie ([`crate::session_cookie`]): its writes need the CSRF token.
    Cookie,
}

/// Reads the credential of a request: the forms [`Presented::from_headers`] accepts, else the
/// session cookie (a bearer session token).
///
/// # Errors
/// 401 for a cookie that holds no session token or is sent twice with different values.
pub fn presented_via(req: &HttpRequest) -> Result<Option<(Presented, Via)>, ApiError> {
    if let Some(found) = header_credential(req) {
        return Ok(Some((found, Via::Header)));
    }
    Ok(crate::session_cookie::cookie_token(req.headers())?
        .map(|token| (Presented::Bearer(token), Via::Cookie)))
}

/// The credential of a request's headers alone (the forms [`Presented::from_headers`]
/// accepts), never the session cookie: for callers a browser's cookie must not stand for (a
/// gateway's check, introspection and revocation).
#[must_use]
pub fn header_credential(req: &HttpRequest) -> Option<Presented> {
    Presented::from_headers(|name| {
        req.headers()
            .get(name)
            .and_then(|v| tessera_app::auth::header_text(v.as_bytes()))
    })
}

/// Authenticates `presented`: from the principal cache when it holds the credential (no hop to
/// the blocking pool), else on the blocking pool.
///
/// # Errors
/// The authentication's refusal; `Internal` when the blocking pool is gone.
pub async fn authenticate(
    app: &web::Data<Arc<App>>,
    presented: Presented,
    meta: RequestMeta,
) -> AppResult<Arc<Principal>> {
    if let Some(hit) = app.authenticate_cached(&presented, &meta) {
        return hit;
    }
    let app = app.get_ref().clone();
    web::block(move || app.authenticate(&presented, &meta))
        .await
        .map_err(|_| AppError::Internal("the blocking pool is gone".into()))?
}

/// Reads the credential of a request, as [`presented_via`] does (`None` for a cookie it
/// refuses).
#[must_use]
pub fn presented(req: &HttpRequest) -> Option<Presented> {
    presented_via(req).ok().flatten().map(|(p, _)| p)
}

/// Whether the request authenticates with the session cookie (no credential header).
#[must_use]
pub fn via_cookie(req: &HttpRequest) -> bool {
    matches!(presented_via(req), Ok(Some((_, Via::Cookie))))
}

/// The authenticated caller. A write authenticated by the session cookie is refused (403)
/// unless it passes the CSRF rule of [`crate::session_cookie`].
pub struct Caller(pub Arc<Principal>);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(app) = req.app_data::<web::Data<Arc<App>>>().cloned() else {
            return Box::pin(ready(Err(ApiError::from(AppError::Internal(
                "no app".into(),
            )))));
        };
        let presented = match presented_via(req) {
            Ok(Some((presented, Via::Header))) => presented,
            Ok(Some((presented, Via::Cookie))) => {
                if let Presented::Bearer(token) = &presented {
                    if let Err(refused) = crate::session_cookie::check_csrf(req, token) {
                        return Box::pin(ready(Err(refused)));
                    }
                }
                presented
            }
            Ok(None) => {
                return Box::pin(ready(Err(ApiError::from(AppError::Unauthenticated(
                    AuthFailure::Missing,
                )))));
            }
            Err(refused) => return Box::pin(ready(Err(refused))),
        };
        let meta = request_meta(req);
        if let Some(hit) = app.authenticate_cached(&presented, &meta) {
            return Box::pin(ready(hit.map(Caller).map_err(ApiError::from)));
        }
        Box::pin(async move {
            run(&app, move |app| app.authenticate(&presented, &meta))
                .await
                .map(Caller)
        })
    }
}

/// A `validator` rule: text that is not only white space.
///
/// # Errors
/// "must not be blank".
pub fn not_blank(text: &str) -> Result<(), validator::ValidationError> {
    if text.trim().is_empty() {
        Err(validator::ValidationError::new("blank").with_message("must not be blank".into()))
    } else {
        Ok(())
    }
}

/// Turns validator's errors into one message naming the first bad field.
#[must_use]
pub fn validation_error(errors: &ValidationErrors) -> ApiError {
    let message = errors.field_errors().into_iter().next().map_or_else(
        || "invalid request".to_owned(),
        |(field, errs)| {
            let why = errs
                .first()
                .and_then(|e| e.message.as_ref().map(ToString::to_string))
                .unwrap_or_else(|| "is invalid".to_owned());
            format!("{field}: {why}")
        },
    );
    ApiError::bad_request(message)
}

/// `<field path>: <why>` for a value that does not fit its field; `<whole>: <why>` (`body`,
/// `query`) when no field can be named.
fn path_message<E: std::fmt::Display>(err: &serde_path_to_error::Error<E>, whole: &str) -> String {
    let path = err.path().to_string();
    let inner = err.inner().to_string();
    let inner = inner.split(" at line ").next().unwrap_or(&inner).to_owned();
    if path == "." || path == "?" || path.is_empty() {
        format!("{whole}: {inner}")
    } else {
        format!("{path}: {inner}")
    }
}

/// The message for a JSON body that does not parse as `T`: malformed JSON (a syntax error or
/// a truncated document) is `body: ` and serde's message with its line and column, whatever
/// field the parser was in; a value that does not fit names its field.
fn json_message(err: &serde_path_to_error::Error<serde_json::Error>) -> String {
    if err.inner().is_syntax() || err.inner().is_eof() {
        format!("body: {}", err.inner())
    } else {
        path_message(err, "body")
    }
}

/// A type a JSON request body is read into.
pub trait RequestBody: DeserializeOwned + Validate + 'static {
    /// Whether the body may be a JSON array at its root. Serde reads a struct from an array of
    /// its fields in order, which no client means: such bodies are refused unless this is set.
    const ROOT_ARRAY: bool = false;
}

/// Whether a JSON text holds a NUL character (`\u0000`) in a string value: no field takes one,
/// and Postgres cannot store one. Object keys are not values (an unknown field is ignored, and
/// no known one has a NUL in its name).
fn has_nul_escape(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        // A string: find its end, noting a `\u0000` escape.
        let mut nul = false;
        i += 1;
        while i < bytes.len() && bytes[i] != b'"' {
            if bytes[i] == b'\\' {
                nul |= bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(b"0000");
                i += 2;
            } else {
                i += 1;
            }
        }
        i += 1;
        let key = bytes[i.min(bytes.len())..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            == Some(&b':');
        if nul && !key {
            return true;
        }
    }
    false
}

/// Parses JSON bytes as `T` and validates it, naming the offending field on failure.
///
/// # Errors
/// 400 with the field's path.
pub fn parse_json<T: RequestBody>(bytes: &[u8]) -> Result<T, ApiError> {
    let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Err(ApiError::bad_request(
            "the request body is empty; a JSON document is expected",
        ));
    };
    if has_nul_escape(bytes) {
        return Err(ApiError::bad_request(
            "body: text must not contain NUL characters (\\u0000)",
        ));
    }
    if *first == b'[' && !T::ROOT_ARRAY {
        return Err(ApiError::bad_request(
            "body: invalid type: an array, expected a JSON object",
        ));
    }
    if !matches!(*first, b'{' | b'[') {
        // A string, number, boolean or null (or no JSON at all: then serde's syntax error).
        let kind = match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(serde_json::Value::String(_)) => "a string",
            Ok(serde_json::Value::Number(_)) => "a number",
            Ok(serde_json::Value::Bool(_)) => "a boolean",
            Ok(_) => "null",
            Err(e) => return Err(ApiError::bad_request(format!("body: {e}"))),
        };
        return Err(ApiError::bad_request(format!(
            "body: invalid type: {kind}, expected a JSON object"
        )));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut *de)
        .map_err(|e| ApiError::bad_request(json_message(&e)))?;
    // Text after the document is malformed JSON too (serde_json stops at the document's end).
    de.end()
        .map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    value.validate().map_err(|e| validation_error(&e))?;
    Ok(value)
}

/// A JSON body: 415 without a JSON content type, 413 over the size limit, 400 naming the field
/// that does not fit.
pub struct JsonBody<T>(pub T);

impl<T: RequestBody> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|m| m == "application/json" || m.ends_with("+json"));
        if !json {
            return Box::pin(ready(Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                0,
                "Content-Type must be application/json",
            ))));
        }
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes
                .await
                .map_err(|e| match e.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        0,
                        "the request body is too large",
                    ),
                    _ => ApiError::bad_request(format!("the request body cannot be read: {e}")),
                })?;
            parse_json(&bytes).map(JsonBody)
        })
    }
}

/// Query parameters: 400 naming the parameter that does not fit.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + Validate> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if req.query_string().contains("%00") {
            return ready(Err(ApiError::bad_request(
                "query: parameters must not contain NUL characters (%00)",
            )));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(
            req.query_string().as_bytes(),
        ));
        let result = serde_path_to_error::deserialize::<_, T>(de)
            .map_err(|e| ApiError::bad_request(path_message(&e, "query")))
            .and_then(|v| {
                v.validate().map_err(|e| validation_error(&e))?;
                Ok(QueryParams(v))
            });
        ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_escapes_are_found_in_strings_only_when_they_are_escapes() {
        assert!(has_nul_escape(br#"{"a": "x\u0000y"}"#));
        assert!(has_nul_escape(br#"["\u0000"]"#));
        assert!(has_nul_escape(br#"{"a": ["b", "\u0000"]}"#));
        assert!(!has_nul_escape(br#"{"x\u0000" : 1}"#), "a key");
        assert!(has_nul_escape(br#"{"x\u0000" : "\u0000"}"#));
        assert!(
            !has_nul_escape(br#"{"a": "x\\u0000y"}"#),
            "an escaped backslash"
        );
        assert!(
            has_nul_escape(br#"{"a": "x\\\u0000y"}"#),
            "a backslash, then NUL"
        );
        assert!(!has_nul_escape(br#"{"a": "\u0001"}"#));
        assert!(!has_nul_escape(b"{}"));
    }

    #[test]
    fn credential_headers_are_read_as_header_values_read_themselves() {
        use actix_web::http::header::HeaderValue;
        for b in 0..=u8::MAX {
            let bytes = [b'x', b, b'y'];
            let ours = tessera_app::auth::header_text(&bytes);
            match HeaderValue::from_bytes(&bytes) {
                Ok(value) => assert_eq!(ours, value.to_str().ok(), "byte {b:#04x}"),
                Err(_) => assert_eq!(ours, None, "byte {b:#04x}"),
            }
        }
    }

    #[derive(Debug, serde::Deserialize, Validate)]
    struct Sample {
        #[allow(dead_code)]
        count: i64,
        #[allow(dead_code)]
        flag: Option<bool>,
    }

    impl RequestBody for Sample {}

    fn message_of(body: &str) -> String {
        parse_json::<Sample>(body.as_bytes()).unwrap_err().message
    }

    #[test]
    fn malformed_json_is_named_body_with_its_line_and_column() {
        assert_eq!(
            message_of("{\"count\": "),
            "body: EOF while parsing a value at line 1 column 10"
        );
        assert_eq!(
            message_of("{\"count\": 1,\n \"flag\": tru}"),
            "body: expected ident at line 2 column 13"
        );
        assert_eq!(
            message_of("{\"count\": 1} x"),
            "body: trailing characters at line 1 column 14"
        );
        assert_eq!(
            message_of("5"),
            "body: invalid type: a number, expected a JSON object"
        );
        assert_eq!(
            message_of("nul"),
            "body: EOF while parsing a value at line 1 column 3"
        );
        assert_eq!(
            message_of("{\"count\": 1, \"flag\": \"yes\"}"),
            "flag: invalid type: string \"yes\", expected a boolean"
        );
    }
}
