//! Small serde helpers for request bodies.

use std::borrow::Cow;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

/// A query parameter read from its text with `FromStr`; a value that does not parse fails with
/// `expected <expected>` (the caller's path names the parameter).
fn query_parsed<'de, D, T>(d: D, expected: &str) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
{
    let text = Cow::<str>::deserialize(d)?;
    text.trim()
        .parse()
        .map(Some)
        .map_err(|_| de::Error::custom(format!("expected {expected}")))
}

/// For numeric query parameters (`page`, `per_page`) with `#[serde(default)]`: an integer,
/// also written as a float without a fraction (`2.0`: the Cloudflare SDK types these
/// parameters as floats).
///
/// # Errors
/// `expected a positive integer such as 2` for text that is not a whole number.
pub fn query_number<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
{
    let text = Cow::<str>::deserialize(d)?;
    let text = text.trim();
    text.parse()
        .ok()
        .or_else(|| {
            text.parse::<f64>()
                .ok()
                .filter(|v| v.fract() == 0.0 && v.abs() < 9.0e15)
                .and_then(|v| format!("{v:.0}").parse().ok())
        })
        .map(Some)
        .ok_or_else(|| de::Error::custom("expected a positive integer such as 2"))
}

/// For time query parameters (`since`, `before`) with `#[serde(default)]`.
///
/// # Errors
/// `expected an RFC 3339 time such as 2026-01-01T00:00:00Z` for text that is not one.
pub fn query_time<'de, D>(d: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    query_parsed(d, RFC3339)
}

/// The form a time is expected in.
const RFC3339: &str = "an RFC 3339 time such as 2026-01-01T00:00:00Z";

/// A JSON value read as an RFC 3339 time; `null` is `None`.
fn json_time<'de, D>(d: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(text) => DateTime::parse_from_rfc3339(text.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| de::Error::custom(format!("expected {RFC3339}"))),
        _ => Err(de::Error::custom(format!("expected {RFC3339}"))),
    }
}

/// For optional time fields of a JSON body with `#[serde(default)]`: absent or `null` → `None`.
///
/// # Errors
/// `expected an RFC 3339 time such as 2026-01-01T00:00:00Z` for anything else that is not one.
pub fn body_time<'de, D>(d: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    json_time(d)
}

/// For time fields of a JSON body that `null` clears, with `#[serde(default)]`: absent →
/// `None`, `null` → `Some(None)`, a time → `Some(Some(t))`.
///
/// # Errors
/// As [`body_time`].
pub fn body_time_or_null<'de, D>(d: D) -> Result<Option<Option<DateTime<Utc>>>, D::Error>
where
    D: Deserializer<'de>,
{
    json_time(d).map(Some)
}

/// For boolean query parameters (`expired`) with `#[serde(default)]`: `true` or `false`.
///
/// # Errors
/// `expected true or false` for anything else.
pub fn query_bool<'de, D>(d: D) -> Result<Option<bool>, D::Error>
where
    D: Deserializer<'de>,
{
    query_parsed(d, "true or false")
}

/// For `Option<Option<T>>` fields with `#[serde(default)]`: absent → `None`, `null` →
/// `Some(None)`, a value → `Some(Some(v))`.
///
/// # Errors
/// When the value is not a `T`.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A whole number written as an integer or as a float without a fraction (`24` or `24.0`, both
/// integers to JSON Schema).
pub struct Integral(pub i64);

impl<'de> Deserialize<'de> for Integral {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Integral;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Integral, E> {
                Ok(Integral(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Integral, E> {
                i64::try_from(v)
                    .map(Integral)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Integral, E> {
                if v.fract() == 0.0 && v.abs() < 9.0e15 {
                    Ok(Integral(v as i64))
                } else {
                    Err(E::invalid_type(de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// For integer fields: see [`Integral`].
///
/// # Errors
/// When the value is not a whole number.
pub fn integral<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Integral::deserialize(d).map(|i| i.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_takes_whole_numbers_only() {
        let parse = |s: &str| serde_json::from_str::<Integral>(s).map(|i| i.0);
        assert_eq!(parse("24").unwrap(), 24);
        assert_eq!(parse("-3").unwrap(), -3);
        assert_eq!(parse("24.0").unwrap(), 24);
        assert!(parse("24.5").is_err());
        assert!(parse("1e300").is_err());
        assert!(parse("\"24\"").is_err());
        assert!(parse("18446744073709551615").is_err());
    }

    #[derive(Debug, Deserialize)]
    struct Times {
        #[serde(default, deserialize_with = "body_time")]
        at: Option<DateTime<Utc>>,
        #[serde(default, deserialize_with = "body_time_or_null")]
        end: Option<Option<DateTime<Utc>>>,
    }

    #[test]
    fn body_times_are_rfc_3339_and_null_clears() {
        let parse = |b: &str| serde_json::from_str::<Times>(b).map_err(|e| e.to_string());
        let t = parse(r#"{"at": "2026-12-01T10:00:00+02:00", "end": null}"#).unwrap();
        assert_eq!(t.at, Some("2026-12-01T08:00:00Z".parse().unwrap()));
        assert_eq!(t.end, Some(None));
        let t = parse("{}").unwrap();
        assert_eq!((t.at, t.end), (None, None));
        assert_eq!(parse(r#"{"at": null}"#).unwrap().at, None);
        for bad in [
            r#""2026-12-01""#,
            "5",
            "true",
            r#""tomorrow""#,
            "[]",
            r#""2026-13-01T00:00:00Z""#,
        ] {
            let err = parse(&format!(r#"{{"end": {bad}}}"#)).unwrap_err();
            assert!(
                err.starts_with(&format!("expected {RFC3339}")),
                "{bad}: {err}"
            );
        }
    }

    #[derive(Debug, Deserialize)]
    struct Flags {
        #[serde(default, deserialize_with = "query_bool")]
        expired: Option<bool>,
    }

    #[test]
    fn query_booleans_are_true_or_false() {
        let parse = |q: &str| serde_urlencoded::from_str::<Flags>(q).map_err(|e| e.to_string());
        assert_eq!(parse("expired=true").unwrap().expired, Some(true));
        assert_eq!(parse("expired=false").unwrap().expired, Some(false));
        assert_eq!(parse("").unwrap().expired, None);
        for bad in ["expired=1", "expired=yes", "expired=", "expired=TRUE"] {
            assert_eq!(parse(bad).unwrap_err(), "expected true or false", "{bad}");
        }
    }

    #[derive(Debug, Deserialize)]
    struct Query {
        #[serde(default, deserialize_with = "query_number")]
        page: Option<u32>,
        #[serde(default, deserialize_with = "query_time")]
        since: Option<DateTime<Utc>>,
    }

    #[test]
    fn query_numbers_and_times_name_their_form() {
        let parse = |q: &str| serde_urlencoded::from_str::<Query>(q).map_err(|e| e.to_string());
        assert_eq!(parse("page=2").unwrap().page, Some(2));
        assert_eq!(parse("page=2.0").unwrap().page, Some(2));
        assert_eq!(parse("").unwrap().page, None);
        for bad in [
            "page=2.5",
            "page=-1",
            "page=x",
            "page=",
            "page=NaN",
            "page=inf",
            "page=1e20",
        ] {
            assert_eq!(
                parse(bad).unwrap_err(),
                "expected a positive integer such as 2",
                "{bad}"
            );
        }
        assert!(parse("since=2026-01-01T00:00:00Z").unwrap().since.is_some());
        assert_eq!(
            parse("since=2026-01-01").unwrap_err(),
            "expected an RFC 3339 time such as 2026-01-01T00:00:00Z"
        );
    }
}
