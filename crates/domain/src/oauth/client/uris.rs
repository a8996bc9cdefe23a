//! The URL rules of a client: redirect URIs and origins (`https`, or `http` for a loopback
//! host), and informational URLs (`https`).

use super::{MAX_URI_LEN, MAX_URIS, shorten};
use crate::error::DomainError;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum UriKind {
    Redirect,
    Origin,
}

/// Whether `host` is a loopback host (RFC 8252 §7.3, and `localhost`).
pub(super) fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Checks one redirect URI or origin.
fn check_uri(raw: &str, kind: UriKind) -> Result<(), String> {
    if raw.len() > MAX_URI_LEN {
        return Err(format!("longer than {MAX_URI_LEN} bytes"));
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("is not an absolute URL ({e})"))?;
    let host = url.host().ok_or("has no host")?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => return Err("must be https (http only for a loopback host)".into()),
        _ => return Err("must be an https URL".into()),
    }
    if url.fragment().is_some() || raw.contains('#') {
        return Err("must not have a fragment".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    if kind == UriKind::Origin {
        let origin = url.origin().ascii_serialization();
        if origin != raw.trim_end_matches('/') || url.query().is_some() {
            return Err(format!(
                "must be an origin (scheme://host[:port]) such as {origin}"
            ));
        }
    }
    Ok(())
}

/// A list of redirect URIs or origins: at most [`MAX_URIS`], each checked, duplicates dropped.
pub(super) fn uri_list(
    raw: &[String],
    field: &'static str,
    kind: UriKind,
) -> Result<Vec<String>, DomainError> {
    if raw.len() > MAX_URIS {
        return Err(DomainError::invalid(
            field,
            format!("at most {MAX_URIS} entries"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for uri in raw {
        let uri = if kind == UriKind::Origin {
            uri.trim_end_matches('/')
        } else {
            uri.as_str()
        };
        check_uri(uri, kind)
            .map_err(|why| DomainError::invalid(field, format!("'{}' {why}", shorten(uri))))?;
        if !out.iter().any(|u| u == uri) {
            out.push(uri.to_owned());
        }
    }
    Ok(out)
}

/// An optional informational URL (`client_uri` & co.): absolute `https`, at most
/// [`MAX_URI_LEN`] bytes; an empty string is none.
pub(super) fn web_url(
    raw: Option<&str>,
    field: &'static str,
) -> Result<Option<String>, DomainError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let bad = |why: &str| DomainError::invalid(field, format!("'{}' {why}", shorten(raw)));
    if raw.len() > MAX_URI_LEN {
        return Err(bad("is too long"));
    }
    let url = url::Url::parse(raw).map_err(|_| bad("is not an absolute URL"))?;
    if url.scheme() != "https" || url.host().is_none() {
        return Err(bad("must be an https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry a user name or password"));
    }
    Ok(Some(raw.to_owned()))
}
