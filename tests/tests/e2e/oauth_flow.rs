//! The authorization code flow end to end, a browser played by plain HTTP (the session cookie,
//! the consent form's fields): every refusal the RFCs ask for — a redirect URI never
//! registered, a replayed code (and its grant revoked after), PKCE missing, wrong or `plain`,
//! an expired code, a replayed refresh token (and the newest tokens of its grant failing
//! too), a scope the user does not hold, a deleted client, a consent POST without its CSRF
//! token, from another origin or for another request, and `return_to` pointing anywhere but
//! the authorization endpoint.

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

/// The whole flow on both backends: a code for tokens once; the ID token's claims; the access
/// token reads as the user within its scope; the code again is refused and revokes the grant,
/// and the access token it gave fails from then on.
async fn the_code_flow_issues_tokens_once_and_a_replayed_code_revokes_the_grant(
    backend: DbBackend,
) {
    let Some(w) = World::new(backend, "client_secret_basic", &["Administrator"]).await else {
        return;
    };
    let code = w
        .code("openid email offline_access user_management.read")
        .await;
    assert!(code.starts_with("tsc_"), "{code}");
    let (status, tokens) = w.exchange(&code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(
        tokens["scope"],
        "openid email offline_access user_management.read"
    );
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    assert!(
        tokens["refresh_token"]
            .as_str()
            .is_some_and(|r| r.starts_with("tsf_"))
    );
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(id_token.split('.').nth(1).expect("payload"))
            .expect("base64"),
    )
    .expect("json");
    assert_eq!(claims["aud"], w.client_id);
    assert_eq!(claims["azp"], w.client_id);
    assert_eq!(claims["iss"], w.app.base);
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["email"], "alice01@example.com");
    assert!(claims["auth_time"].as_i64().is_some(), "{claims}");
    assert!(
        claims.get("preferred_username").is_none(),
        "no profile scope"
    );

    assert_eq!(w.userinfo(&access).await, 200);
    let (status, _) = w
        .app
        .call("GET", "/v1/accounts/1/users", Some(&access), None)
        .await;
    assert_eq!(status, 200, "user_management.read reads users");
    let (status, _) = w
        .app
        .call(
            "POST",
            "/v1/accounts/1/users",
            Some(&access),
            Some(json!({"login": "bobby01", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 403, "no write scope: no write");

    // The code again: refused, and the grant with it.
    let (status, again) = w.exchange(&code, VERIFIER).await;
    assert_eq!(
        (status, error_of(&again)),
        (400, "invalid_grant"),
        "{again}"
    );
    assert_eq!(w.userinfo(&access).await, 401, "the grant is revoked");
    let (status, refreshed) = w.refresh(tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, error_of(&refreshed)), (400, "invalid_grant"));
    let replays = w.app.audit_events(&w.owner, "oauth.code.replay").await;
    assert_eq!(replays.len(), 1);
    let audit = serde_json::to_string(&w.app.audit_events(&w.owner, "").await).unwrap();
    assert!(
        !audit.contains(&code) && !audit.contains(&access),
        "no token in the audit"
    );
}

#[tokio::test]
async fn the_code_flow_issues_tokens_once_and_a_replayed_code_revokes_the_grant_sqlite() {
    the_code_flow_issues_tokens_once_and_a_replayed_code_revokes_the_grant(DbBackend::Sqlite).await;
}

#[tokio::test]
async fn the_code_flow_issues_tokens_once_and_a_replayed_code_revokes_the_grant_postgres() {
    the_code_flow_issues_tokens_once_and_a_replayed_code_revokes_the_grant(DbBackend::Postgres)
        .await;
}

/// Eight clients racing with one code: exactly one gets tokens.
#[tokio::test]
async fn of_eight_concurrent_redemptions_of_a_code_one_gets_tokens() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    let w = Arc::new(w);
    let code = w.code("openid user_management.read").await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let w = w.clone();
            let code = code.clone();
            tokio::spawn(async move { w.exchange(&code, VERIFIER).await.0 })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
}

/// A redirect URI the client did not register is shown on Tessera's page, never redirected
/// to; at the token endpoint, another registered URI than the request's is refused.
#[tokio::test]
async fn a_wrong_redirect_uri_is_shown_never_redirected_to_and_must_match_at_the_token_endpoint() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    for bad in [
        "https://evil.example/callback",
        "https://app.example/callback/",
        "https://app.example/callback?x=1",
    ] {
        let (status, location, page) = w
            .authorize(&w.authorize_query("openid", &[("redirect_uri", bad)]))
            .await;
        assert_eq!((status, location), (400, None), "{bad}");
        assert!(page.contains("not registered"), "{page}");
    }
    let (status, location, _) = w
        .authorize(&w.authorize_query(
            "openid",
            &[("client_id", "0123456789abcdef0123456789abcdef")],
        ))
        .await;
    assert_eq!((status, location), (400, None), "an unknown client");
    // Other errors go back to the client, with its state and the issuer.
    let (status, location, _) = w
        .authorize(&w.authorize_query("openid", &[("response_type", "token")]))
        .await;
    assert_eq!(status, 302);
    let params = params_of(&location.unwrap());
    assert_eq!(params["error"], "unsupported_response_type");
    assert_eq!(params["state"], "st-1");
    assert_eq!(params["iss"], w.app.base);

    let code = w.code("openid").await;
    let (status, body) = w
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://app.example/other"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"), "{body}");
}

/// PKCE: a public client must send a challenge; `plain` is refused; the verifier must match;
/// a confidential client's code with a challenge needs its verifier too.
#[tokio::test]
async fn pkce_is_required_for_a_public_client_plain_is_refused_and_the_verifier_must_match() {
    let Some(w) = World::new(DbBackend::Sqlite, "none", &["Administrator"]).await else {
        return;
    };
    assert_eq!(w.client_secret, None);
    for (extra, why) in [
        (
            vec![("code_challenge", ""), ("code_challenge_method", "")],
            "missing",
        ),
        (vec![("code_challenge_method", "plain")], "plain"),
        (vec![("code_challenge_method", "")], "no method means plain"),
    ] {
        let (status, location, _) = w.authorize(&w.authorize_query("openid", &extra)).await;
        assert_eq!(status, 302, "{why}");
        assert_eq!(
            params_of(&location.unwrap())["error"],
            "invalid_request",
            "{why}"
        );
    }
    let code = w.code("openid").await;
    let (status, body) = w.exchange(&code, &format!("{VERIFIER}x")).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"), "{body}");
    // The code was spent by the failed attempt: the right verifier is too late (and revokes).
    let (status, body) = w.exchange(&code, VERIFIER).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"), "{body}");
    let code = w.code("openid").await;
    let (status, body) = w
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(
        (status, error_of(&body)),
        (400, "invalid_grant"),
        "no verifier: {body}"
    );
    let code = w.code("openid").await;
    let (status, body) = w.exchange(&code, VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("refresh_token").is_none(),
        "no offline_access asked"
    );
}

/// An expired code is refused.
#[tokio::test]
async fn an_expired_code_is_refused() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    let code = w.code("openid").await;
    expire_codes(&w.app);
    let (status, body) = w.exchange(&code, VERIFIER).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"), "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
}

/// Moves every code's expiry to the past, in the database.
fn expire_codes(app: &TestApp) {
    use diesel::RunQueryDsl;
    let mut conn = app.db().db.conn().expect("a connection");
    let sql = "UPDATE oauth_codes SET expires_at = created_at";
    let n = match &mut *conn {
        tessera_store::db::AnyConnection::Postgresql(c) => diesel::sql_query(sql).execute(c),
        tessera_store::db::AnyConnection::Sqlite(c) => diesel::sql_query(sql).execute(c),
    }
    .expect("update");
    assert!(n > 0);
}

/// Refresh: each use returns a new token and spends the old; the old one again revokes the
/// grant: the newest refresh token and access token fail too. A refresh may narrow the scope,
/// never widen it.
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_grant(backend: DbBackend) {
    let Some(w) = World::new(backend, "client_secret_basic", &["Administrator"]).await else {
        return;
    };
    let code = w.code("openid offline_access user_management.read").await;
    let (_, first) = w.exchange(&code, VERIFIER).await;
    let r1 = first["refresh_token"].as_str().expect("refresh").to_owned();

    let (status, wider) = w
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r1),
            ("scope", "openid user_management.write"),
        ])
        .await;
    assert_eq!(
        (status, error_of(&wider)),
        (400, "invalid_scope"),
        "{wider}"
    );
    let (status, narrower) = w
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r1),
            ("scope", "openid"),
        ])
        .await;
    assert_eq!(status, 200, "{narrower}");
    assert_eq!(narrower["scope"], "openid");
    let r2 = narrower["refresh_token"]
        .as_str()
        .expect("a new one")
        .to_owned();
    assert_ne!(r1, r2);
    let (status, second) = w.refresh(&r2).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        second["scope"], "openid offline_access user_management.read",
        "the grant's scope, not the narrowed one"
    );
    let r3 = second["refresh_token"].as_str().unwrap().to_owned();
    let a3 = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(w.userinfo(&a3).await, 200);

    // r1 again: a replay. The grant goes: r3 and a3 fail too.
    let (status, replay) = w.refresh(&r1).await;
    assert_eq!(
        (status, error_of(&replay)),
        (400, "invalid_grant"),
        "{replay}"
    );
    let (status, newest) = w.refresh(&r3).await;
    assert_eq!(
        (status, error_of(&newest)),
        (400, "invalid_grant"),
        "{newest}"
    );
    assert_eq!(w.userinfo(&a3).await, 401);
    assert_eq!(
        w.app
            .audit_events(&w.owner, "oauth.refresh.reuse")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_grant_sqlite() {
    refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_grant(DbBackend::Sqlite).await;
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_grant_postgres() {
    refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_grant(DbBackend::Postgres).await;
}

/// A scope whose permission the user does not hold is shown as not granted, and the tokens do
/// not carry it.
#[tokio::test]
async fn a_scope_the_user_does_not_hold_is_not_granted() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Developer"]).await else {
        return;
    };
    let (status, _, page) = w
        .authorize(&w.authorize_query("openid user_management.write", &[]))
        .await;
    assert_eq!(status, 200, "{page}");
    let refused = &page[page.find("id=\"refused\"").expect("a not-granted list")..];
    assert!(
        refused.contains("<code>user_management.write</code>"),
        "{page}"
    );
    let code = w.code("openid user_management.write").await;
    let (status, tokens) = w.exchange(&code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    let scope = tokens["scope"].as_str().unwrap();
    assert!(!scope.contains("user_management.write"), "{scope}");
}

/// A deleted client can neither redeem a code it was given nor refresh.
#[tokio::test]
async fn a_deleted_client_can_neither_redeem_nor_refresh() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    let code = w.code("openid offline_access").await;
    let (_, tokens) = w
        .exchange(&w.code("openid offline_access").await, VERIFIER)
        .await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = w
        .app
        .call(
            "DELETE",
            &format!("/v1/accounts/1/oauth_clients/{}", w.client_id),
            Some(&w.owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = w.exchange(&code, VERIFIER).await;
    assert_eq!((status, error_of(&body)), (401, "invalid_client"), "{body}");
    let (status, body) = w.refresh(&refresh).await;
    assert_eq!((status, error_of(&body)), (401, "invalid_client"), "{body}");
    let (status, location, _) = w.authorize(&w.authorize_query("openid", &[])).await;
    assert_eq!((status, location), (400, None), "an unknown client now");
}

/// The consent POST needs the session's CSRF token, Tessera's own origin, and the binding of
/// the very request shown; each refusal issues no code.
#[tokio::test]
async fn the_consent_post_needs_its_csrf_token_origin_and_request_binding() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    let (_, _, page) = w
        .authorize(&w.authorize_query("openid user_management.read", &[]))
        .await;
    let own = w.app.base.clone();
    let cases: Vec<(&str, Tamper, Option<&str>)> = vec![
        (
            "no CSRF token",
            Box::new(|f| f.retain(|(n, _)| n != "csrf_token")),
            Some(&own),
        ),
        (
            "another session's CSRF token",
            Box::new(|f| {
                for (n, v) in f.iter_mut() {
                    if n == "csrf_token" {
                        *v = "AAAA".into();
                    }
                }
            }),
            Some(&own),
        ),
        (
            "another origin",
            Box::new(|_| {}),
            Some("https://evil.example"),
        ),
        (
            "a wider scope than shown",
            Box::new(|f| {
                for (n, v) in f.iter_mut() {
                    if n == "scope" {
                        *v = "openid user_management.write".into();
                    }
                }
            }),
            Some(&own),
        ),
        (
            "another redirect URI than shown",
            Box::new(|f| f.push(("redirect_uri".into(), "https://app.example/other".into()))),
            Some(&own),
        ),
        (
            "another state than shown",
            Box::new(|f| {
                for (n, v) in f.iter_mut() {
                    if n == "state" {
                        *v = "forged".into();
                    }
                }
            }),
            Some(&own),
        ),
    ];
    for (why, tamper, origin) in cases {
        let (status, location, _) = w.decide(&page, "allow", tamper, origin).await;
        assert!(
            location.is_none() && status == 403,
            "{why}: {status} {location:?}"
        );
    }
    assert!(
        w.app
            .audit_events(&w.owner, "oauth.code.issue")
            .await
            .is_empty()
    );
    // Without the cookie: no decision either.
    let res = w
        .http
        .post(w.app.url("/oauth/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("decision=allow")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    // Deny: access_denied to the client.
    let (status, location, _) = w.decide(&page, "deny", |_| {}, Some(&own)).await;
    assert_eq!(status, 302);
    let params = params_of(&location.unwrap());
    assert_eq!(
        (params["error"].as_str(), params["state"].as_str()),
        ("access_denied", "st-1")
    );
    // The untampered form still works.
    let (status, location, _) = w.decide(&page, "allow", |_| {}, Some(&own)).await;
    assert_eq!(status, 302);
    assert!(params_of(&location.unwrap()).contains_key("code"));
}

/// Without a session the browser goes to sign in, and comes back only to the authorization
/// endpoint: `return_to` pointing anywhere else is ignored by the page and refused by SSO.
#[tokio::test]
async fn sign_in_returns_only_to_the_authorization_endpoint() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    let q = w.authorize_query("openid", &[]);
    let pairs: Vec<(&str, &str)> = q.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let res = w
        .http
        .get(w.app.url(&format!("/oauth/authorize{}", query(&pairs))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/signin?return_to=%2Foauth%2Fauthorize%3F"),
        "{location}"
    );
    let page = w.app.get_text(&location).await;
    assert!(
        page.contains("data-return-to=\"/oauth/authorize?"),
        "{page}"
    );

    for evil in [
        "https://evil.example/",
        "//evil.example/oauth/authorize",
        "/\\evil.example",
        "/oauth/authorizex",
        "javascript:alert(1)",
        "/oauth/authorize#frag",
    ] {
        let page = w
            .app
            .get_text(&format!("/signin?return_to={}", urlencode(evil)))
            .await;
        assert!(!page.contains("data-return-to"), "{evil}");
        assert!(page.contains("name=\"return_to\" value=\"page\""), "{evil}");
        let (status, _) = w
            .app
            .get_json(&format!(
                "/v1/sso/login?email=a@corp.example&return_to={}",
                urlencode(evil)
            ))
            .await;
        assert_eq!(status, 400, "{evil}");
    }
}
