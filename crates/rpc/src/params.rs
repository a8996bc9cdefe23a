//! Parameters: read from the query string, an `application/x-www-form-urlencoded` body or a
//! `multipart/form-data` body (the Go client), then decoded into one typed struct per method.
//!
//! Decoding rules: a required parameter that is missing or empty → 134 naming it; a value that
//! does not parse → 101 naming it; `intlist`/`stringlist` are `;`-separated; booleans are
//! `true|false|1|0` in any case.

use std::collections::HashMap;

use actix_web::HttpRequest;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web;
use futures_util::StreamExt;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use validator::Validate;

use crate::error::{RpcError, codes};

/// Marks a required parameter that is present but empty.
const EMPTY: &str = "\u{0}empty";

/// The raw parameters of a call.
#[derive(Debug, Clone, Default)]
pub struct Params(pub HashMap<String, String>);

impl Params {
    /// One parameter, if given.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn extend_from_query(&mut self, raw: &[u8]) {
        for (k, v) in form_urlencoded::parse(raw) {
            self.0.insert(k.into_owned(), v.into_owned());
        }
    }

    /// Decodes into a method's typed parameters.
    ///
    /// # Errors
    /// 134 or 101 naming the parameter.
    pub fn decode<T: DeserializeOwned + Validate>(&self) -> Result<T, RpcError> {
        let de = serde::de::value::MapDeserializer::<_, serde::de::value::Error>::new(
            self.0.clone().into_iter(),
        );
        let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
            let inner = e.inner().to_string();
            let path = e.path().to_string();
            if let Some(rest) = inner.strip_prefix("missing field `") {
                RpcError::required(rest.trim_end_matches('`'))
            } else if inner == EMPTY {
                RpcError::required(&path)
            } else {
                RpcError::invalid(&path, inner)
            }
        })?;
        value.validate().map_err(|errs| {
            let (field, why) = errs
                .field_errors()
                .into_iter()
                .next()
                .map(|(f, es)| {
                    let why = es
                        .first()
                        .and_then(|e| e.message.as_ref().map(ToString::to_string))
                        .unwrap_or_else(|| "is invalid".into());
                    (f.to_string(), why)
                })
                .unwrap_or_else(|| ("params".into(), "are invalid".into()));
            RpcError::invalid(&field, why)
        })?;
        Ok(value)
    }
}

/// Most parts a multipart body may have (the methods take a handful of parameters).
pub const MAX_PARTS: usize = 64;
/// Longest parameter name accepted in a multipart body, bytes.
pub const MAX_NAME_LEN: usize = 64;

/// 101 for a body that could not be read, saying why.
fn unreadable(e: &actix_web::error::PayloadError) -> RpcError {
    use actix_web::error::PayloadError;
    match e {
        PayloadError::Overflow => RpcError::invalid("body", "the request body is too large"),
        PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            RpcError::invalid("body", "the request body did not arrive in time")
        }
        other => RpcError::invalid("body", other),
    }
}

/// 101 for a multipart body that could not be read.
fn unreadable_form(e: &actix_multipart::MultipartError) -> RpcError {
    match e {
        actix_multipart::MultipartError::Payload(p) => unreadable(p),
        other => RpcError::invalid("body", other),
    }
}

/// Reads the query string and the body (urlencoded or multipart); body values win. Every byte
/// of the body counts against `limit` (the server's payload is cut there as well); a multipart
/// body has at most [`MAX_PARTS`] parts named in at most [`MAX_NAME_LEN`] bytes.
///
/// # Errors
/// 101 for a body that cannot be read.
pub async fn read(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Params, RpcError> {
    let mut params = Params::default();
    params.extend_from_query(req.query_string().as_bytes());
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut form = actix_multipart::Multipart::new(req.headers(), payload);
        let mut total = 0usize;
        let mut fields = 0usize;
        while let Some(field) = form.next().await {
            let mut field = match field {
                Ok(f) => f,
                // A form with no field at all ("--boundary--") is a call without parameters.
                Err(actix_multipart::MultipartError::Incomplete) if fields == 0 => break,
                Err(e) => return Err(unreadable_form(&e)),
            };
            fields += 1;
            if fields > MAX_PARTS {
                return Err(RpcError::invalid(
                    "body",
                    format!("a form has at most {MAX_PARTS} parts"),
                ));
            }
            let name = field.name().unwrap_or_default().to_owned();
            total += name.len();
            if name.len() > MAX_NAME_LEN {
                return Err(RpcError::invalid(
                    "body",
                    format!("parameter names are at most {MAX_NAME_LEN} bytes"),
                ));
            }
            let mut value = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| unreadable_form(&e))?;
                total += chunk.len();
                if total > limit {
                    return Err(RpcError::invalid("body", "the request body is too large"));
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(value)
                .map_err(|_| RpcError::invalid(&name, "is not UTF-8 text"))?;
            params.0.insert(name, value);
        }
    } else {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| unreadable(&e))?;
            if body.len() + chunk.len() > limit {
                return Err(RpcError::invalid("body", "the request body is too large"));
            }
            body.extend_from_slice(&chunk);
        }
        if !body.is_empty() && !content_type.starts_with("application/json") {
            params.extend_from_query(&body);
        }
    }
    // No parameter takes a NUL character, and Postgres cannot store one.
    if let Some(name) = params
        .0
        .iter()
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| k.replace('\0', "%00"))
    {
        return Err(RpcError::invalid(&name, "must not contain NUL characters"));
    }
    Ok(params)
}

/// The method named by `cmd`.
///
/// # Errors
/// 102 when absent or empty.
pub fn cmd(params: &Params) -> Result<&str, RpcError> {
    params
        .get("cmd")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| RpcError::new(codes::MISSING_CMD, "Missing required parameter 'cmd'"))
}

// ---- field decoders (`#[serde(deserialize_with = …)]`) ----

fn raw<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    String::deserialize(d)
}

/// A required text; empty → 134.
///
/// # Errors
/// The marker for an empty value.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = raw(d)?;
    if s.is_empty() {
        Err(D::Error::custom(EMPTY))
    } else {
        Ok(s)
    }
}

/// An optional text (empty stays empty: it clears a description).
///
/// # Errors
/// Never beyond serde's own.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    raw(d).map(Some)
}

fn parse_int<E: serde::de::Error>(s: &str) -> Result<i64, E> {
    s.trim()
        .parse()
        .map_err(|_| E::custom(format!("expected an integer such as 42, not '{s}'")))
}

/// A required number.
///
/// # Errors
/// Empty → the marker; not a number → an explanation.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let s = raw(d)?;
    if s.trim().is_empty() {
        return Err(D::Error::custom(EMPTY));
    }
    parse_int(&s)
}

/// An optional number (empty = absent).
///
/// # Errors
/// Not a number → an explanation.
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let s = raw(d)?;
    if s.trim().is_empty() {
        Ok(None)
    } else {
        parse_int(&s).map(Some)
    }
}

/// An optional boolean: `true|false|1|0` in any case (empty = absent).
///
/// # Errors
/// Anything else → an explanation.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let s = raw(d)?;
    match s.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "1" => Ok(Some(true)),
        "false" | "0" => Ok(Some(false)),
        _ => Err(D::Error::custom(format!(
            "expected true, false, 1 or 0, not '{s}'"
        ))),
    }
}

/// An optional `;`-separated list of numbers (`intlist`); empty items are refused.
///
/// # Errors
/// An item that is not an integer.
pub fn opt_intlist<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
    let s = raw(d)?;
    if s.trim().is_empty() {
        return Err(D::Error::custom(EMPTY));
    }
    s.split(';')
        .map(|item| item.trim().parse())
        .collect::<Result<_, _>>()
        .map(Some)
        .map_err(|_| {
            D::Error::custom(format!(
                "expected integers separated by ';' such as 1;2, not '{s}'"
            ))
        })
}

/// An optional `;`-separated list of names (`stringlist`).
///
/// # Errors
/// An empty item.
pub fn opt_stringlist<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let s = raw(d)?;
    if s.trim().is_empty() {
        return Err(D::Error::custom(EMPTY));
    }
    let items: Vec<String> = s.split(';').map(|i| i.trim().to_owned()).collect();
    if items.iter().any(String::is_empty) {
        return Err(D::Error::custom(format!(
            "expected names separated by ';' such as Developer;Support, not '{s}'"
        )));
    }
    Ok(Some(items))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use validator::Validate;

    use super::*;

    #[derive(Debug, Deserialize, Validate)]
    struct Sample {
        #[serde(deserialize_with = "text")]
        name: String,
        #[serde(default, deserialize_with = "opt_int")]
        count: Option<i64>,
        #[serde(default, deserialize_with = "opt_bool")]
        flag: Option<bool>,
        #[serde(default, deserialize_with = "opt_intlist")]
        role_id: Option<Vec<i64>>,
        #[serde(default, deserialize_with = "opt_stringlist")]
        role_name: Option<Vec<String>>,
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn values_decode_and_each_failure_names_the_parameter() {
        let ok: Sample = params(&[
            ("name", "x"),
            ("count", "5"),
            ("flag", "True"),
            ("role_id", "1;2"),
            ("cmd", "X"),
        ])
        .decode()
        .unwrap();
        assert_eq!(
            (ok.name.as_str(), ok.count, ok.flag, ok.role_id),
            ("x", Some(5), Some(true), Some(vec![1, 2]))
        );
        let names: Sample = params(&[("name", "x"), ("role_name", "Developer; Support")])
            .decode()
            .unwrap();
        assert_eq!(
            names.role_name,
            Some(vec!["Developer".to_owned(), "Support".to_owned()])
        );
        let err = params(&[("count", "5")]).decode::<Sample>().unwrap_err();
        assert_eq!(err, RpcError::required("name"));
        let err = params(&[("name", "")]).decode::<Sample>().unwrap_err();
        assert_eq!(err, RpcError::required("name"));
        let err = params(&[("name", "x"), ("count", "five")])
            .decode::<Sample>()
            .unwrap_err();
        assert_eq!(err.code, codes::INVALID_ARGUMENT);
        assert_eq!(
            err.msg,
            "Invalid argument 'count': expected an integer such as 42, not 'five'"
        );
        let err = params(&[("name", "x"), ("flag", "yes")])
            .decode::<Sample>()
            .unwrap_err();
        assert_eq!(
            err.msg,
            "Invalid argument 'flag': expected true, false, 1 or 0, not 'yes'"
        );
        let err = params(&[("name", "x"), ("role_id", "1;;2")])
            .decode::<Sample>()
            .unwrap_err();
        assert_eq!(
            err.msg,
            "Invalid argument 'role_id': expected integers separated by ';' such as 1;2, not '1;;2'"
        );
        let err = params(&[("name", "x"), ("role_name", "Developer;")])
            .decode::<Sample>()
            .unwrap_err();
        assert_eq!(
            err.msg,
            "Invalid argument 'role_name': expected names separated by ';' such as Developer;Support, not 'Developer;'"
        );
        let err = params(&[("name", "x"), ("role_id", "")])
            .decode::<Sample>()
            .unwrap_err();
        assert_eq!(err, RpcError::required("role_id"));
        for (v, b) in [("FALSE", false), ("0", false), ("1", true), ("true", true)] {
            let s: Sample = params(&[("name", "x"), ("flag", v)]).decode().unwrap();
            assert_eq!(s.flag, Some(b));
        }
    }
}
