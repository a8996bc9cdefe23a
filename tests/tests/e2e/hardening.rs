//! What a security review checks: no caching of secrets, browser security headers, client
//! addresses a client cannot forge, every refused sign-in audited (and folded), bounded account
//! trees.

use std::time::Duration;

use serde_json::{Value, json};
use tessera_tests::{DbBackend, PASSWORD, TestApp, e2e};

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} on {}", res.url()))
}

fn assert_not_cached(res: &reqwest::Response) {
    assert_eq!(header(res, "cache-control"), "no-store", "{}", res.url());
    assert_eq!(header(res, "pragma"), "no-cache", "{}", res.url());
}

async fn responses_carrying_secrets_are_never_cached(app: TestApp) {
    let password = app.initial_credentials()["owner"]["password"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .send(
            "POST",
            "/v1/sessions",
            None,
            &[],
            Some(json!({"account_id": 1, "login": "admin", "password": password})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_not_cached(&res);
    let token = res.json::<Value>().await.unwrap()["result"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, body) in [
        ("/v1/accounts/1/users/1/access_keys", None),
        ("/v1/accounts/1/keys", Some(json!({"name": "ci"}))),
        (
            "/v1/accounts",
            Some(json!({"name": "Child", "email": "child@example.com"})),
        ),
    ] {
        let res = app.send("POST", path, Some(&token), &[], body).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_not_cached(&res);
    }
    let res = app
        .client
        .post(app.url("/platform_api/CreateKey"))
        .bearer_auth(&token)
        .form(&[("key_name", "rpc")])
        .send()
        .await
        .unwrap();
    assert_not_cached(&res);
    assert!(
        res.json::<Value>().await.unwrap()["result"][0]["private_key"].is_string(),
        "a private key in the answer"
    );
}

async fn browser_pages_and_json_answers_are_locked_down(app: TestApp) {
    let page = app.send("GET", "/docs/", None, &[], None).await;
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "x-frame-options"), "DENY");
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    let csp = header(&page, "content-security-policy");
    for needed in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(needed), "{needed} in {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert!(!csp.contains("http"), "only Tessera's own assets: {csp}");
    for path in ["/healthz", "/v1/accounts", "/openapi.json"] {
        let res = app.send("GET", path, None, &[], None).await;
        assert_eq!(header(&res, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(
            header(&res, "content-security-policy"),
            "default-src 'none'; frame-ancestors 'none'",
            "{path}"
        );
    }
}

/// A failed sign-in of `login` with these extra headers.
async fn fail_sign_in(app: &TestApp, login: &str, headers: &[(&str, &str)]) -> u16 {
    app.send(
        "POST",
        "/v1/sessions",
        None,
        headers,
        Some(json!({"account_id": 1, "login": login, "password": "Wr0ng-Pass!"})),
    )
    .await
    .status()
    .as_u16()
}

async fn failure_addresses(app: &TestApp, owner: &str, login: &str) -> Vec<Value> {
    app.audit_events(owner, "auth.failure")
        .await
        .into_iter()
        .filter(|e| e["actor"]["id"] == login)
        .map(|e| e["client_ip"].clone())
        .collect()
}

#[tokio::test]
async fn without_trusted_proxies_forwarding_headers_are_ignored() {
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| {
        s.server.trust_forwarded_for = true;
        s.auth.max_failures_per_address = 4;
        s.auth.max_failures_per_login = 100;
    })
    .await
    .unwrap();
    let owner = app.owner().await;
    for n in 0..3 {
        let forged = format!("6.6.6.{n}");
        let status = fail_sign_in(
            &app,
            "victim1",
            &[
                ("x-forwarded-for", &forged),
                ("forwarded", &format!("for={forged}")),
            ],
        )
        .await;
        assert_eq!(status, 401);
    }
    assert_eq!(
        failure_addresses(&app, &owner, "victim1").await,
        vec![json!("127.0.0.1")],
        "the real peer, once: three identical failures from one address fold into one event"
    );
    assert_eq!(
        fail_sign_in(&app, "victim1", &[("x-forwarded-for", "6.6.6.98")]).await,
        401,
        "the fourth failure from the one real address"
    );
    assert_eq!(
        fail_sign_in(&app, "victim1", &[("x-forwarded-for", "6.6.6.99")]).await,
        429,
        "rotating a forged header does not escape the address limit"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_rightmost_untrusted_entry_is_the_client() {
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| {
        s.server.trust_forwarded_for = true;
        s.server.trusted_proxies = vec!["127.0.0.1/32".into(), "10.0.0.0/8".into()];
    })
    .await
    .unwrap();
    let owner = app.owner().await;
    // The client sent "6.6.6.6" itself; the proxies appended the real address, then their own.
    fail_sign_in(
        &app,
        "victim2",
        &[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.2.3")],
    )
    .await;
    fail_sign_in(&app, "victim2", &[("forwarded", "for=6.6.6.6")]).await;
    assert_eq!(
        failure_addresses(&app, &owner, "victim2").await,
        vec![json!("127.0.0.1"), json!("203.0.113.7")],
        "newest first: Forwarded is not the configured header, so the proxy's own address"
    );
}

#[tokio::test]
async fn every_refused_sign_in_is_audited_and_repeats_are_folded() {
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| {
        // Refused sign-ins are answered after a second: the window outlasts three.
        s.auth.audit_fold_secs = 5;
        s.auth.max_failures_per_login = 3;
    })
    .await
    .unwrap();
    let owner = app.owner().await;
    for _ in 0..3 {
        assert_eq!(fail_sign_in(&app, "ghost1", &[]).await, 401);
    }
    for _ in 0..3 {
        assert_eq!(fail_sign_in(&app, "ghost1", &[]).await, 429);
    }
    let events: Vec<Value> = app
        .audit_events(&owner, "auth.failure")
        .await
        .into_iter()
        .filter(|e| e["actor"]["id"] == "ghost1")
        .collect();
    let reasons: Vec<&str> = events
        .iter()
        .map(|e| e["details"]["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons.len(),
        2,
        "one event per kind while the window lasts: {reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("locked")), "{reasons:?}");
    tokio::time::sleep(Duration::from_millis(5500)).await;
    let folded: Vec<Value> = app
        .audit_events(&owner, "auth.failure")
        .await
        .into_iter()
        .filter(|e| e["actor"]["id"] == "ghost1" && e["details"]["repeated"].is_number())
        .collect();
    let mut counts: Vec<i64> = folded
        .iter()
        .map(|e| e["details"]["repeated"].as_i64().unwrap())
        .collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        vec![2, 2],
        "2 more wrong passwords, 2 more locked attempts"
    );
}

async fn account_trees_are_bounded() {
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| {
        s.limits.max_child_accounts = 2;
        s.limits.max_account_depth = 2;
    })
    .await
    .unwrap();
    let owner = app.owner().await;
    let child = app.child_account(&owner).await["account_id"]
        .as_i64()
        .unwrap();
    app.child_account(&owner).await;
    let new = |parent: Option<i64>| json!({"name": "Another", "email": "a@example.com", "parent_id": parent});
    let (status, body) = app
        .call("POST", "/v1/accounts", Some(&owner), Some(new(None)))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body.to_string().contains("at most 2 child accounts"),
        "{body}"
    );
    // A grandchild, created from the top through Manage Enterprise Accounts in the child.
    let (status, grand) = app
        .call("POST", "/v1/accounts", Some(&owner), Some(new(Some(child))))
        .await;
    assert_eq!(status, 200, "{grand}");
    let grand_id = grand["result"]["account_id"].as_i64().unwrap();
    let (status, body) = app
        .call(
            "POST",
            "/v1/accounts",
            Some(&owner),
            Some(new(Some(grand_id))),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("at most 2 levels"), "{body}");
    // Without Manage Enterprise Accounts, the child is not even visible.
    app.create_user(&owner, "admin01", &["Admin"]).await;
    let admin = app.login(1, "admin01", PASSWORD).await;
    let (status, _) = app
        .call("POST", "/v1/accounts", Some(&admin), Some(new(Some(child))))
        .await;
    assert_eq!(status, 404);
    let (_, list) = app.call("GET", "/v1/accounts", Some(&owner), None).await;
    assert_eq!(list["result"].as_array().unwrap().len(), 3, "{list}");
}

#[tokio::test]
async fn account_trees_are_bounded_sqlite() {
    account_trees_are_bounded().await;
}

async fn the_method_api_sends_the_same_headers(app: TestApp) {
    let res = app
        .client
        .post(app.url("/platform_api/GetRoles"))
        .bearer_auth(app.owner_jwt())
        .form(&[("cmd", "GetRoles")])
        .send()
        .await
        .unwrap();
    assert_not_cached(&res);
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    let answer: Value = res.json().await.unwrap();
    assert!(answer["result"].is_array());
}

e2e!(
    responses_carrying_secrets_are_never_cached,
    browser_pages_and_json_answers_are_locked_down,
    the_method_api_sends_the_same_headers,
);
