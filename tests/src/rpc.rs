//! The method API from the tests' side: the ways a call is sent, service-key JWTs, and the
//! answer's result or error code.

use crate::{TestApp, unix_now};

/// How a method-API call is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `POST /platform_api`, form body with `cmd`.
    Form,
    /// `GET /platform_api?cmd=…&…`.
    Query,
    /// `POST /platform_api/<Method>`, form body.
    Path,
    /// `POST /platform_api/<Method>`, multipart body (as the Go client sends).
    Multipart,
}

impl Via {
    /// Every way.
    pub const ALL: [Via; 4] = [Via::Form, Via::Query, Via::Path, Via::Multipart];
}

/// A service-key JWT as the official clients make it, from a `KeyInfo` (`key_id`,
/// `account_id`, `private_key`), with the given `iat` and `exp`.
///
/// # Panics
/// When the `KeyInfo` is malformed.
#[must_use]
pub fn jwt(key: &serde_json::Value, iat: i64, exp: i64) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key["key_id"].as_str().expect("key_id").to_owned());
    encode(
        &header,
        &serde_json::json!({"iss": key["account_id"].to_string(), "iat": iat, "exp": exp}),
        &EncodingKey::from_rsa_pem(key["private_key"].as_str().expect("private_key").as_bytes())
            .expect("an RSA key"),
    )
    .expect("a JWT")
}

/// A method-API answer's error code.
///
/// # Panics
/// When the answer is a result.
#[must_use]
pub fn rpc_code(v: &serde_json::Value) -> i64 {
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("expected an error: {v}"))
}

/// A method-API answer's result.
///
/// # Panics
/// When the answer is an error.
#[must_use]
pub fn rpc_ok(v: &serde_json::Value) -> &serde_json::Value {
    assert!(v.get("error").is_none(), "expected a result: {v}");
    &v["result"]
}

impl TestApp {
    /// Calls a method of `/platform_api`; returns the JSON answer (after checking HTTP 200).
    ///
    /// # Panics
    /// When the request cannot be sent or the answer is not HTTP 200 JSON.
    pub async fn rpc(
        &self,
        token: Option<&str>,
        via: Via,
        method: &str,
        params: &[(&str, &str)],
    ) -> serde_json::Value {
        let mut fields: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let req = match via {
            Via::Form => {
                fields.push(("cmd".into(), method.into()));
                self.client.post(self.url("/platform_api")).form(&fields)
            }
            Via::Query => {
                fields.push(("cmd".into(), method.into()));
                self.client.get(self.url("/platform_api")).query(&fields)
            }
            Via::Path => self
                .client
                .post(self.url(&format!("/platform_api/{method}")))
                .form(&fields),
            Via::Multipart => {
                let mut form = reqwest::multipart::Form::new();
                for (k, v) in fields {
                    form = form.text(k, v);
                }
                self.client
                    .post(self.url(&format!("/platform_api/{method}")))
                    .multipart(form)
            }
        };
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        Self::method_answer(req).await
    }

    /// Sends a method-API request; its JSON answer (the method API always answers HTTP 200).
    async fn method_answer(req: reqwest::RequestBuilder) -> serde_json::Value {
        let res = req.send().await.expect("request sent");
        assert_eq!(
            res.status().as_u16(),
            200,
            "the method API always answers 200"
        );
        res.json().await.expect("JSON")
    }

    /// Calls a method of `/platform_api` (form body) with these request headers instead of a
    /// bearer token; returns the JSON answer.
    ///
    /// # Panics
    /// When the request cannot be sent or the answer is not HTTP 200 JSON.
    pub async fn rpc_with_headers(
        &self,
        headers: &[(&str, &str)],
        method: &str,
        params: &[(&str, &str)],
    ) -> serde_json::Value {
        let mut req = self
            .client
            .post(self.url(&format!("/platform_api/{method}")))
            .form(params);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        Self::method_answer(req).await
    }

    /// The bootstrap service key's JWT (role Owner), valid for a minute.
    #[must_use]
    pub fn owner_jwt(&self) -> String {
        let t = unix_now();
        jwt(&self.initial_credentials()["service_key"], t - 5, t + 60)
    }
}
