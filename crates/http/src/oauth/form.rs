//! Form-encoded request bodies (RFC 6749 §3.2): bounded, each parameter at most once.

use std::collections::HashMap;

use actix_web::HttpRequest;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web;
use futures_util::StreamExt;

use super::OAuthReply;

/// Largest body accepted by the OAuth endpoints, bytes (an assertion is about 1 KB).
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// Most parameters in one request.
const MAX_PARAMETERS: usize = 32;

/// A request's parameters.
#[derive(Debug, Default)]
pub struct Form(HashMap<String, String>);

impl Form {
    /// A parameter's value; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A required parameter.
    ///
    /// # Errors
    /// `invalid_request` naming it.
    pub fn require(&self, name: &str) -> Result<&str, OAuthReply> {
        self.get(name)
            .ok_or_else(|| OAuthReply::invalid_request(format!("{name} is required")))
    }
}

/// Reads a form body: `application/x-www-form-urlencoded`, at most [`MAX_FORM_BYTES`], each
/// parameter once.
///
/// # Errors
/// `invalid_request` for another content type, a larger body, a repeated parameter, or too
/// many.
pub async fn read(req: &HttpRequest, mut payload: web::Payload) -> Result<Form, OAuthReply> {
    let form_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthReply::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| OAuthReply::invalid_request("the body could not be read"))?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(OAuthReply::invalid_request(format!(
                "the body is larger than {MAX_FORM_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    parse(&body)
}

/// Parses form-encoded `body`.
///
/// # Errors
/// `invalid_request` for a repeated parameter, or too many.
pub fn parse(body: &[u8]) -> Result<Form, OAuthReply> {
    let mut form = HashMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        if form.len() >= MAX_PARAMETERS {
            return Err(OAuthReply::invalid_request("too many parameters"));
        }
        let name = name.into_owned();
        if form.contains_key(&name) {
            let shown: String = name.chars().take(64).collect();
            return Err(OAuthReply::invalid_request(format!(
                "{shown} must not be repeated"
            )));
        }
        form.insert(name, value.into_owned());
    }
    Ok(Form(form))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_or_too_many_parameters_are_refused() {
        let form = parse(b"grant_type=client_credentials&scope=&a=%20b").unwrap();
        assert_eq!(form.get("grant_type"), Some("client_credentials"));
        assert_eq!(form.get("scope"), None, "empty is absent");
        assert_eq!(form.get("a"), Some(" b"));
        assert!(form.require("assertion").is_err());
        assert!(parse(b"scope=a&scope=b").is_err());
        let many: Vec<String> = (0..40).map(|i| format!("p{i}=x")).collect();
        assert!(parse(many.join("&").as_bytes()).is_err());
        // Invalid UTF-8 is replaced, never a panic.
        assert!(parse(b"x=%ff%fe").is_ok());
    }
}
