//! The authorization code flow end to end, a browser played by plain HTTP (the session cookie,
//! the consent form's fields): every refusal the RFCs ask for — a redirect URI never
//! registered, a replayed code (and its grant revoked after), PKCE missing, wrong or `plain`,
//! an expired code, a replayed refresh token (and the newest tokens of its grant failing
//! too), a scope the user does not hold, a deleted client, a consent POST without its CSRF
//! token, from another origin or for another request, and `return_to` pointing anywhere but
//! the authorization endpoint.

mod codes;
mod grants;

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tessera_tests::{DbBackend, PASSWORD, TestApp};

/// A change to the consent form before it is posted.
type Tamper = Box<dyn FnOnce(&mut Vec<(String, String)>)>;

const REDIRECT: &str = "https://app.example/callback";
const VERIFIER: &str = "a-verifier-of-forty-three-characters-or-more-0123";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A client that does not follow redirects (the flow's answers are redirects).
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A query string.
fn query(pairs: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded_pairs(pairs);
    q.insert(0, '?');
    q
}

fn form_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The query parameters of a URL.
fn params_of(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    q.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(n, v)| (n.to_owned(), urldecode(v)))
        .collect()
}

fn urldecode(v: &str) -> String {
    let bytes = v.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            if let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

/// The value of the hidden field `name` of a page.
fn hidden(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &page[at + name.len() + 15..];
    let end = rest.find('"')?;
    Some(
        rest[..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// A test world: the server, its owner, a user, and a client.
struct World {
    app: TestApp,
    http: reqwest::Client,
    owner: String,
    /// The user's session token (the browser's cookie).
    session: String,
    client_id: String,
    client_secret: Option<String>,
}

/// Creates an OAuth client; answers its id and secret.
async fn create_client(app: &TestApp, owner: &str, body: Value) -> (String, Option<String>) {
    let (status, created) = app
        .call(
            "POST",
            "/v1/accounts/1/oauth_clients",
            Some(owner),
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    (
        created["result"]["client_id"]
            .as_str()
            .expect("client_id")
            .to_owned(),
        created["result"]["client_secret"]
            .as_str()
            .map(str::to_owned),
    )
}

fn client_body(auth: &str, scopes: &[&str]) -> Value {
    json!({
        "client_name": "Example <App>",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code", "id_token"],
        "redirect_uris": [REDIRECT, "https://app.example/other"],
        "scopes": scopes,
        "token_endpoint_auth_method": auth,
    })
}

const SCOPES: &[&str] = &[
    "openid",
    "email",
    "profile",
    "offline_access",
    "user_management.read",
    "user_management.write",
];

impl World {
    async fn new(backend: DbBackend, auth: &str, roles: &[&str]) -> Option<Self> {
        let app = TestApp::spawn(backend).await?;
        let owner = app.owner().await;
        app.create_user(&owner, "alice01", roles).await;
        let session = app.login(1, "alice01", PASSWORD).await;
        let (client_id, client_secret) =
            create_client(&app, &owner, client_body(auth, SCOPES)).await;
        Some(Self {
            app,
            http: no_redirects(),
            owner,
            session,
            client_id,
            client_secret,
        })
    }

    fn cookie(&self) -> String {
        format!("tessera_session={}", self.session)
    }

    /// The authorization request's query.
    fn authorize_query(&self, scope: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let challenge = challenge(VERIFIER);
        let mut q: Vec<(String, String)> = vec![
            ("response_type".into(), "code".into()),
            ("client_id".into(), self.client_id.clone()),
            ("redirect_uri".into(), REDIRECT.into()),
            ("scope".into(), scope.into()),
            ("state".into(), "st-1".into()),
            ("nonce".into(), "n-1".into()),
            ("code_challenge".into(), challenge),
            ("code_challenge_method".into(), "S256".into()),
        ];
        for (n, v) in extra {
            q.retain(|(name, _)| name != n);
            if !v.is_empty() {
                q.push(((*n).into(), (*v).into()));
            }
        }
        q
    }

    /// `GET /oauth/authorize` with the cookie: status, Location, body.
    async fn authorize(&self, q: &[(String, String)]) -> (u16, Option<String>, String) {
        let pairs: Vec<(&str, &str)> = q.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let res = self
            .http
            .get(self.app.url(&format!("/oauth/authorize{}", query(&pairs))))
            .header("cookie", self.cookie())
            .send()
            .await
            .expect("sent");
        answer(res).await
    }

    /// Posts the consent form built from `page` with `decision`, changed by `tamper`.
    async fn decide(
        &self,
        page: &str,
        decision: &str,
        tamper: impl FnOnce(&mut Vec<(String, String)>),
        origin: Option<&str>,
    ) -> (u16, Option<String>, String) {
        let mut form: Vec<(String, String)> = [
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
            "nonce",
            "csrf_token",
            "consent",
        ]
        .iter()
        .filter_map(|n| hidden(page, n).map(|v| ((*n).to_owned(), v)))
        .collect();
        form.push(("decision".into(), decision.into()));
        tamper(&mut form);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let mut req = self
            .http
            .post(self.app.url("/oauth/authorize"))
            .header("cookie", self.cookie())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_urlencoded_pairs(&pairs));
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        answer(req.send().await.expect("sent")).await
    }

    /// The whole browser side: consent page, Allow; answers the code.
    async fn code(&self, scope: &str) -> String {
        let (status, location, page) = self.authorize(&self.authorize_query(scope, &[])).await;
        assert_eq!(status, 200, "{location:?} {page}");
        let (status, location, body) = self
            .decide(&page, "allow", |_| {}, Some(&self.app.base))
            .await;
        assert_eq!(status, 302, "{body}");
        let location = location.expect("Location");
        assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
        let params = params_of(&location);
        assert_eq!(params["state"], "st-1");
        assert_eq!(params["iss"], self.app.base);
        params["code"].clone()
    }

    /// `POST /oauth/token` with the client's credentials (Basic for a confidential client).
    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let mut pairs = form.to_vec();
        let mut req = self.http.post(self.app.url("/oauth/token"));
        match &self.client_secret {
            Some(secret) => req = req.basic_auth(&self.client_id, Some(secret)),
            None => pairs.push(("client_id", &self.client_id)),
        }
        let res = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_urlencoded_pairs(&pairs))
            .send()
            .await
            .expect("sent");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn exchange(&self, code: &str, verifier: &str) -> (u16, Value) {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .await
    }

    async fn refresh(&self, token: &str) -> (u16, Value) {
        self.token(&[("grant_type", "refresh_token"), ("refresh_token", token)])
            .await
    }

    /// `GET /oauth/userinfo` with an access token: the status.
    async fn userinfo(&self, access: &str) -> u16 {
        self.app
            .call("GET", "/oauth/userinfo", Some(access), None)
            .await
            .0
    }
}

async fn answer(res: reqwest::Response) -> (u16, Option<String>, String) {
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, location, res.text().await.unwrap_or_default())
}

fn error_of(body: &Value) -> &str {
    body["error"].as_str().unwrap_or("")
}
