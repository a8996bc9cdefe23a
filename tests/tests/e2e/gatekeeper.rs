//! The gatekeeper (`/v1/authz/check`) end to end: what each credential is allowed, refused and
//! told; every bad input of the gateway's headers with its exact answer (and nothing audited);
//! another account answered alike whether it exists or not; refusals audited and folded;
//! revocation; the Envoy form. And real nginx running the configuration of docs/oauth.md in
//! front of a small upstream that records what reaches it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tessera_tests::{DbBackend, TestApp, e2e};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::peers::{free_port, run_nginx, tool};

const CHECK: &str = "/v1/authz/check";

/// A user of account 1 with `roles` and one access key: (user id, key id, secret, token).
async fn keyed_user(
    app: &TestApp,
    owner: &str,
    login: &str,
    roles: &[&str],
) -> (i64, String, String, String) {
    let user = app.create_user(owner, login, roles).await;
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{user}/access_keys"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let r = &body["result"];
    let text = |k: &str| r[k].as_str().expect(k).to_owned();
    (user, text("id"), text("secret"), text("token"))
}

/// Asks the gatekeeper with `auth` (an `Authorization` value) and the gateway's `headers`:
/// the status, the response headers, and the JSON body (null when there is none).
async fn ask(
    app: &TestApp,
    method: &str,
    path: &str,
    auth: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, HashMap<String, String>, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.client.request(method, app.url(path));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("sent");
    let status = res.status().as_u16();
    let head = res
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
        .collect();
    let bytes = res.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, head, body)
}

fn needs<'a>(capability: &'a str, level: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("x-tessera-capability", capability),
        ("x-tessera-level", level),
    ]
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// The envelope's one error: (code, message).
fn error(body: &Value) -> (i64, String) {
    (
        body["errors"][0]["code"].as_i64().unwrap_or(0),
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    )
}

async fn every_credential_is_allowed_what_its_roles_grant(app: TestApp) {
    let owner = app.owner().await;
    let (dev, key_id, secret, token) = keyed_user(&app, &owner, "gkdev", &["Developer"]).await;
    let session = app.login(1, "gkdev", tessera_tests::PASSWORD).await;
    for auth in [basic(&key_id, &secret), bearer(&token), bearer(&session)] {
        let (status, head, body) =
            ask(&app, "GET", CHECK, Some(&auth), &needs("numbers", "write")).await;
        assert_eq!(status, 204, "{auth:.12}: {body}");
        assert_eq!(body, Value::Null, "no body");
        assert_eq!(head["x-tessera-account"], "1");
        assert_eq!(head["x-tessera-user"], dev.to_string());
        let (ptype, pid) = (
            &head["x-tessera-principal-type"],
            &head["x-tessera-principal"],
        );
        if auth.starts_with("Bearer tss_") {
            assert_eq!((ptype.as_str(), pid.clone()), ("user", dev.to_string()));
        } else {
            assert_eq!(
                (ptype.as_str(), pid.as_str()),
                ("access_key", key_id.as_str())
            );
        }
        // POST is the same question (its body is ignored).
        let (status, _, _) = ask(
            &app,
            "POST",
            CHECK,
            Some(&auth),
            &needs("call_logs", "read"),
        )
        .await;
        assert_eq!(status, 204);
        // What the role does not grant: 403 with the engine's reason.
        let (status, head, body) = ask(
            &app,
            "GET",
            CHECK,
            Some(&auth),
            &needs("call_logs", "write"),
        )
        .await;
        assert_eq!(
            (status, error(&body)),
            (
                403,
                (
                    4030,
                    "forbidden: no role or policy grants call_logs:write".into()
                )
            )
        );
        assert!(!head.contains_key("x-tessera-principal"));
    }
    // The bootstrap service key's JWT, acting as the account (its Owner).
    let (status, head, _) = ask(
        &app,
        "GET",
        CHECK,
        Some(&bearer(&app.owner_jwt())),
        &needs("user_management", "write"),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(head["x-tessera-principal-type"], "service_key");
    assert_eq!(
        head["x-tessera-principal"],
        app.initial_credentials()["service_key"]["key_id"]
            .as_str()
            .unwrap()
    );
    assert!(!head.contains_key("x-tessera-user"), "no user: {head:?}");
    // A policy on one object counts when the gateway names it.
    let (status, _, body) = ask(
        &app,
        "GET",
        CHECK,
        Some(&bearer(&token)),
        &[
            ("x-tessera-capability", "user_management"),
            ("x-tessera-level", "read"),
            ("x-tessera-resource", "com.cloudflare.api.account.user.1"),
        ],
    )
    .await;
    assert_eq!(
        (status, error(&body).1),
        (
            403,
            "forbidden: no role or policy grants user_management:read".into()
        )
    );
}

async fn no_or_bad_credentials_are_401_and_the_cookie_is_not_read(app: TestApp) {
    let owner = app.owner().await;
    let want = needs("numbers", "read");
    for (auth, code, message) in [
        (None, 4011, "authentication required"),
        (
            Some("Bearer tsr_AK00000000000000000000_nope"),
            4010,
            "authentication failed",
        ),
        (Some("Basic !!!"), 4012, "invalid token format"),
        (Some("Bearer not.a.jwt"), 4012, "invalid token format"),
    ] {
        let (status, head, body) = ask(&app, "GET", CHECK, auth, &want).await;
        assert_eq!(
            (status, error(&body)),
            (401, (code, message.to_owned())),
            "{auth:?}"
        );
        assert_eq!(head["www-authenticate"], "Bearer realm=\"tessera\"");
    }
    // The owner's session as the sign-in page's cookie: a gateway does not read it.
    let res = app
        .client
        .get(app.url(CHECK))
        .header("cookie", format!("tessera_session={owner}"))
        .header("x-tessera-capability", "numbers")
        .header("x-tessera-level", "read")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

async fn every_bad_gateway_header_is_400_naming_it_and_nothing_is_audited(app: TestApp) {
    let owner = app.owner().await;
    let before = app.audit_events(&owner, "authz.check").await.len();
    let auth = bearer(&owner);
    let huge = "a".repeat(6000);
    let huge_resource = format!("com.tessera.api.account.user.{}", "7".repeat(6000));
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("x-tessera-level", "read")],
            "X-Tessera-Capability: missing; the gateway must say which capability of the catalog the route needs",
        ),
        (
            vec![("x-tessera-capability", ""), ("x-tessera-level", "read")],
            "X-Tessera-Capability: missing; the gateway must say which capability of the catalog the route needs",
        ),
        (
            needs("zones", "read"),
            "X-Tessera-Capability: 'zones' is not a capability of the catalog",
        ),
        (
            needs(&huge, "read"),
            "X-Tessera-Capability: the value (6000 bytes, not echoed) is not a capability of the catalog",
        ),
        (
            vec![("x-tessera-capability", "numbers")],
            "X-Tessera-Level: missing; read or write expected",
        ),
        (
            needs("numbers", "admin"),
            "X-Tessera-Level: 'admin' is not read or write",
        ),
        (
            needs("numbers", "Read"),
            "X-Tessera-Level: 'Read' is not read or write",
        ),
        (
            vec![
                ("x-tessera-capability", "numbers"),
                ("x-tessera-level", "read"),
                ("x-tessera-level", "write"),
            ],
            "X-Tessera-Level: sent more than once; the gateway must set it exactly once (replacing the client's)",
        ),
        (
            vec![
                ("x-tessera-capability", "numbers"),
                ("x-tessera-level", "read"),
                ("x-tessera-account", "1"),
                ("x-tessera-account", "2"),
            ],
            "X-Tessera-Account: sent more than once; the gateway must set it exactly once (replacing the client's)",
        ),
        (
            vec![
                ("x-tessera-capability", "numbers"),
                ("x-tessera-level", "read"),
                ("x-tessera-resource", "com.tessera.api.account.number.5"),
            ],
            "X-Tessera-Resource: 'com.tessera.api.account.number.5' is not com.tessera.api.account.<resource_type>.<id>",
        ),
        (
            vec![
                ("x-tessera-capability", "numbers"),
                ("x-tessera-level", "read"),
                ("x-tessera-resource", &huge_resource),
            ],
            "X-Tessera-Resource: the value (6029 bytes, not echoed) is not com.tessera.api.account.<resource_type>.<id>",
        ),
    ];
    for (headers, message) in &cases {
        // Before authentication: a misconfigured route is told so whoever calls it.
        for auth in [Some(auth.as_str()), None] {
            let (status, _, body) = ask(&app, "GET", CHECK, auth, headers).await;
            assert_eq!(
                (status, error(&body)),
                (400, (4000, (*message).to_owned())),
                "{headers:.80?}"
            );
        }
    }
    // Not visible ASCII.
    let res = app
        .client
        .get(app.url(CHECK))
        .bearer_auth(&owner)
        .header("x-tessera-capability", "numbers")
        .header(
            "x-tessera-level",
            reqwest::header::HeaderValue::from_bytes(b"r\xe9ad").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(error(&body).1, "X-Tessera-Level: not visible ASCII");
    // A long value is not echoed; a head past the server's limit is refused before any handler
    // runs.
    let long = "a".repeat(40_000);
    let (status, _, body) = ask(&app, "GET", CHECK, Some(&auth), &needs(&long, "read")).await;
    assert_eq!(
        (status, error(&body).1),
        (
            400,
            "X-Tessera-Capability: the value (40000 bytes, not echoed) is not a capability of the catalog"
                .into()
        )
    );
    // (On a client of its own: the server closes that connection.)
    let res = reqwest::Client::new()
        .get(app.url(CHECK))
        .bearer_auth(&owner)
        .header("x-tessera-capability", "a".repeat(300_000))
        .header("x-tessera-level", "read")
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!((status.as_u16(), text.as_str()), (431, ""));
    assert_eq!(app.audit_events(&owner, "authz.check").await.len(), before);
}

async fn another_account_is_403_whether_it_exists_or_not(app: TestApp) {
    let owner = app.owner().await;
    let child = app.child_account(&owner).await["account_id"]
        .as_i64()
        .unwrap();
    let (_, _, _, dev) = keyed_user(&app, &owner, "gkother", &["Developer"]).await;
    for account in [child.to_string(), "999999".into()] {
        let mut h = needs("numbers", "read");
        h.push(("x-tessera-account", &account));
        let (status, _, body) = ask(&app, "GET", CHECK, Some(&bearer(&dev)), &h).await;
        assert_eq!(
            (status, error(&body)),
            (
                403,
                (4030, format!("forbidden: account {account} is not visible"))
            )
        );
    }
    for bad in ["0", "-1", "abc", "1 OR 1=1", "99999999999999999999"] {
        let mut h = needs("numbers", "read");
        h.push(("x-tessera-account", bad));
        let (status, _, body) = ask(&app, "GET", CHECK, Some(&bearer(&dev)), &h).await;
        assert_eq!(
            (status, error(&body)),
            (
                403,
                (
                    4030,
                    "forbidden: X-Tessera-Account is not an account id".into()
                )
            ),
            "{bad}"
        );
    }
    // Unauthenticated, the account is never looked at.
    let mut h = needs("numbers", "read");
    h.push(("x-tessera-account", "abc"));
    assert_eq!(ask(&app, "GET", CHECK, None, &h).await.0, 401);
    // The parent's owner reaches the child (Manage Enterprise Accounts), and its own account
    // named explicitly is its own.
    let (_, _, _, admin) = keyed_user(&app, &owner, "gkadmin", &["Owner"]).await;
    for account in [child.to_string(), "1".into()] {
        let mut h = needs("numbers", "write");
        h.push(("x-tessera-account", &account));
        for _ in 0..2 {
            let (status, head, body) = ask(&app, "GET", CHECK, Some(&bearer(&admin)), &h).await;
            assert_eq!(status, 204, "{body}");
            assert_eq!(head["x-tessera-account"], account);
        }
    }
}

async fn refusals_are_audited_once_per_kind_without_the_credential(app: TestApp) {
    let owner = app.owner().await;
    let (_, key_id, secret, token) = keyed_user(&app, &owner, "gkaudit", &["User Read"]).await;
    for _ in 0..5 {
        let (status, _, _) = ask(
            &app,
            "GET",
            CHECK,
            Some(&bearer(&token)),
            &needs("numbers", "write"),
        )
        .await;
        assert_eq!(status, 403);
    }
    let mut on_child = needs("numbers", "write");
    on_child.push(("x-tessera-account", "424242"));
    assert_eq!(
        ask(
            &app,
            "GET",
            CHECK,
            Some(&basic(&key_id, &secret)),
            &on_child
        )
        .await
        .0,
        403
    );
    let events = app.audit_events(&owner, "authz.check").await;
    assert_eq!(events.len(), 2, "five identical refusals fold: {events:#?}");
    let newest = &events[0];
    assert_eq!(newest["outcome"], "failure");
    assert_eq!(newest["actor"]["kind"], "access_key");
    assert_eq!(newest["actor"]["id"], key_id);
    assert_eq!(newest["details"]["account_id"], 424_242);
    assert_eq!(newest["details"]["reason"], "account 424242 is not visible");
    let first = &events[1];
    assert_eq!(first["details"]["capability"], "numbers");
    assert_eq!(first["details"]["level"], "write");
    assert_eq!(
        first["details"]["reason"],
        "no role or policy grants numbers:write"
    );
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(&secret), "no secret in the audit log");
}

async fn a_revoked_key_is_refused_at_the_next_check(app: TestApp) {
    let owner = app.owner().await;
    let (user, key_id, secret, _) = keyed_user(&app, &owner, "gkrevoked", &["Developer"]).await;
    let auth = basic(&key_id, &secret);
    let want = needs("numbers", "read");
    for _ in 0..3 {
        assert_eq!(ask(&app, "GET", CHECK, Some(&auth), &want).await.0, 204);
    }
    let (status, body) = app
        .call(
            "DELETE",
            &format!("/v1/accounts/1/users/{user}/access_keys/{key_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = ask(&app, "GET", CHECK, Some(&auth), &want).await;
    assert_eq!((status, error(&body).0), (401, 4010));
}

async fn the_envoy_form_answers_200_under_any_method_and_path(app: TestApp) {
    let owner = app.owner().await;
    let (_, _, _, reader) = keyed_user(&app, &owner, "gkenvoy", &["User Read"]).await;
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        let path = format!("{CHECK}/v1/accounts/1/numbers/42?page=2");
        let (status, head, body) = ask(
            &app,
            method,
            &path,
            Some(&bearer(&owner)),
            &needs("numbers", "write"),
        )
        .await;
        assert_eq!((status, body), (200, Value::Null), "{method}");
        assert_eq!(head["x-tessera-account"], "1");
        assert_eq!(head.get("content-length").map(String::as_str), Some("0"));
        let (status, _, body) = ask(
            &app,
            method,
            &path,
            Some(&bearer(&reader)),
            &needs("numbers", "write"),
        )
        .await;
        assert_eq!(
            (status, error(&body).1),
            (
                403,
                "forbidden: no role or policy grants numbers:write".into()
            )
        );
        let (status, _, _) = ask(&app, method, &path, None, &needs("numbers", "write")).await;
        assert_eq!(status, 401);
    }
}

/// A `client_credentials` access token of the bootstrap access key (the owner's) for `scope`.
async fn oauth_token(app: &TestApp, scope: &str) -> String {
    let creds = app.initial_credentials();
    let key = &creds["access_key"];
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(
            key["id"].as_str().unwrap(),
            Some(key["secret"].as_str().unwrap()),
        )
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn an_oauth_access_token_is_allowed_within_its_scopes(app: TestApp) {
    let token = oauth_token(&app, "numbers.read call_logs.read").await;
    let key_id = app.initial_credentials()["access_key"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..2 {
        let (status, head, body) = ask(
            &app,
            "GET",
            CHECK,
            Some(&bearer(&token)),
            &needs("numbers", "read"),
        )
        .await;
        assert_eq!(status, 204, "{body}");
        assert_eq!(head["x-tessera-account"], "1");
        assert_eq!(head["x-tessera-principal"], key_id);
        assert_eq!(head["x-tessera-principal-type"], "access_key");
    }
    // The owner holds numbers:write, the token's scopes do not.
    let (status, _, body) = ask(
        &app,
        "GET",
        CHECK,
        Some(&bearer(&token)),
        &needs("numbers", "write"),
    )
    .await;
    assert_eq!(
        (status, error(&body)),
        (
            403,
            (
                4030,
                "forbidden: the token's scopes do not include numbers:write".into()
            )
        )
    );
    let (status, _, _) = ask(
        &app,
        "GET",
        CHECK,
        Some(&bearer(&token)),
        &needs("sms", "read"),
    )
    .await;
    assert_eq!(status, 403);
    // A token that is not one of this server's.
    let payload = token.find('.').unwrap() + 8;
    let flipped = if token.as_bytes()[payload] == b'A' {
        "B"
    } else {
        "A"
    };
    let mut forged = token.clone();
    forged.replace_range(payload..=payload, flipped);
    let (status, _, _) = ask(
        &app,
        "GET",
        CHECK,
        Some(&bearer(&forged)),
        &needs("numbers", "read"),
    )
    .await;
    assert_eq!(status, 401);
}

e2e!(
    every_credential_is_allowed_what_its_roles_grant,
    no_or_bad_credentials_are_401_and_the_cookie_is_not_read,
    every_bad_gateway_header_is_400_naming_it_and_nothing_is_audited,
    another_account_is_403_whether_it_exists_or_not,
    refusals_are_audited_once_per_kind_without_the_credential,
    a_revoked_key_is_refused_at_the_next_check,
    the_envoy_form_answers_200_under_any_method_and_path,
    an_oauth_access_token_is_allowed_within_its_scopes,
);

/// The requests an upstream received: each one's lower-case headers (and `:path`).
type Seen = Arc<Mutex<Vec<HashMap<String, String>>>>;

/// A tiny HTTP upstream on a free port that records each request's headers and answers 200.
async fn recording_upstream() -> (std::net::SocketAddr, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&buf).into_owned();
                let mut lines = text.split("\r\n");
                let mut headers = HashMap::new();
                if let Some(request_line) = lines.next() {
                    let path = request_line.split(' ').nth(1).unwrap_or_default();
                    headers.insert(":path".to_owned(), path.to_owned());
                }
                for line in lines.take_while(|l| !l.is_empty()) {
                    if let Some((k, v)) = line.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                    }
                }
                log.lock().unwrap().push(headers);
                let _sent = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nupstream",
                    )
                    .await;
            });
        }
    });
    (addr, seen)
}

/// The nginx configuration of docs/oauth.md (the `<!-- snippet: nginx -->` block with
/// `auth_request`), with its addresses replaced by the test's.
fn documented_nginx_config(tessera: &str, upstream: &str, port: u16) -> String {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/oauth.md"),
    )
    .expect("docs/oauth.md");
    let mut blocks = doc
        .split("<!-- snippet: nginx -->")
        .skip(1)
        .filter_map(|after| {
            let body = after.trim_start().strip_prefix("```nginx\n")?;
            Some(body[..body.find("\n```")?].to_owned())
        });
    let config = blocks
        .find(|b| b.contains("auth_request"))
        .expect("docs/oauth.md has the gatekeeper's nginx block");
    let mut out = config;
    for (documented, ours) in [
        ("server 127.0.0.1:8080;", format!("server {tessera};")),
        ("server 127.0.0.1:9000;", format!("server {upstream};")),
        (
            "listen 127.0.0.1:8000;",
            format!("listen 127.0.0.1:{port};"),
        ),
    ] {
        assert_eq!(
            out.matches(documented).count(),
            1,
            "the documented block has `{documented}` once"
        );
        out = out.replace(documented, &ours);
    }
    out
}

/// docs/oauth.md's nginx configuration in front of a recording upstream: an allowed request
/// reaches the upstream with who the caller is (and nothing the client claimed); a refused one,
/// an unauthenticated one and a revoked key's never do.
#[tokio::test]
async fn nginx_lets_through_what_tessera_allows() {
    let Some(nginx) = tool(&["nginx"]) else {
        return;
    };
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| {
        s.server.trust_forwarded_for = true;
        s.server.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await
    .unwrap();
    let owner = app.owner().await;
    let (dev, key_id, secret, _) = keyed_user(&app, &owner, "gwdev", &["Developer"]).await;
    let (_, _, _, reader) = keyed_user(&app, &owner, "gwreader", &["User Read"]).await;
    let (upstream, seen) = recording_upstream().await;
    let port = free_port();
    let proxy = run_nginx(
        &nginx,
        port,
        &documented_nginx_config(&app.addr.to_string(), &upstream.to_string(), port),
    );
    let client = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse::<IpAddr>().unwrap()))
        .build()
        .unwrap();
    let through = |path: &str| client.get(format!("http://127.0.0.1:{port}{path}"));
    let numbers = "/v1/accounts/1/numbers/42";

    // Allowed: the upstream sees who the caller is; what the client claimed is replaced.
    let res = through(numbers)
        .basic_auth(&key_id, Some(&secret))
        .header("x-tessera-principal", "0")
        .header("x-tessera-user", "1")
        .header("x-tessera-resource", "com.tessera.api.account.user.1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", proxy.error_log());
    assert_eq!(res.text().await.unwrap(), "upstream");
    let got = seen
        .lock()
        .unwrap()
        .last()
        .cloned()
        .expect("the upstream was called");
    assert_eq!(got[":path"], numbers);
    assert_eq!(got["x-tessera-account"], "1");
    assert_eq!(got["x-tessera-principal"], key_id);
    assert_eq!(got["x-tessera-principal-type"], "access_key");
    assert_eq!(got["x-tessera-user"], dev.to_string());
    // The check sees the client's address, not nginx's: a key allowed only from another
    // address is refused (403), then let through once its `allowed_ips` names the client.
    let (status, made) = app
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{dev}/access_keys"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let fenced = made["result"]["token"].as_str().unwrap().to_owned();
    let fenced_path = format!(
        "/v1/accounts/1/users/{dev}/access_keys/{}",
        made["result"]["id"].as_str().unwrap()
    );
    let calls = seen.lock().unwrap().len();
    for (allowed, want) in [("127.0.0.3/32", 403), ("127.0.0.2/32", 200)] {
        let (status, body) = app
            .call(
                "PATCH",
                &fenced_path,
                Some(&owner),
                Some(serde_json::json!({ "allowed_ips": [allowed] })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let res = through(numbers).bearer_auth(&fenced).send().await.unwrap();
        assert_eq!(res.status(), want, "allowed from {allowed}");
    }
    assert_eq!(seen.lock().unwrap().len(), calls + 1);

    // An OAuth access token within its scopes passes; beyond them it is refused.
    let token = oauth_token(&app, "numbers.read").await;
    let res = through(numbers).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", proxy.error_log());
    let got = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(got["x-tessera-principal-type"], "access_key");
    let res = client
        .delete(format!("http://127.0.0.1:{port}{numbers}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "DELETE needs numbers:write");

    // Refused: 403, the upstream is not called.
    let calls = seen.lock().unwrap().len();
    let res = through(numbers).bearer_auth(&reader).send().await.unwrap();
    assert_eq!(res.status(), 403);
    // Unauthenticated: 401 with Tessera's challenge.
    let res = through(numbers).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"tessera\""
    );
    let res = through(numbers)
        .basic_auth(&key_id, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Another account: 403, as for one that does not exist.
    for account in [2, 999_999] {
        let res = through(&format!("/v1/accounts/{account}/numbers"))
            .basic_auth(&key_id, Some(&secret))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "account {account}");
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        calls,
        "none reached the upstream"
    );

    // Revoked on another instance: refused through nginx within the second the project
    // promises for revocation across instances.
    let other = app.another();
    let res = through(numbers)
        .basic_auth(&key_id, Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "cached before the revocation");
    let (status, body) = other
        .call(
            "DELETE",
            &format!("/v1/accounts/1/users/{dev}/access_keys/{key_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let revoked = Instant::now();
    loop {
        let status = through(numbers)
            .basic_auth(&key_id, Some(&secret))
            .send()
            .await
            .unwrap()
            .status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            revoked.elapsed() < Duration::from_secs(1),
            "a revoked key still passes a second later"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
