//! Authorized IPs end to end: the REST routes and the four methods, the rule applied to every
//! credential (access keys, sessions, service keys, sign-in, cached or not), a key's own
//! `allowed_ips`, bad input, and two instances on one database. Client addresses come from
//! `X-Forwarded-For`, the server trusting the loopback as its proxy.

use std::time::Duration;

use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp, rpc_code, rpc_ok};

const LIST: &str = "/v1/accounts/1/authorized_ips";

async fn behind_a_proxy(backend: tessera_tests::DbBackend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |s| {
        s.server.trust_forwarded_for = true;
        s.server.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await
}

/// A REST call from client address `ip`.
async fn from(
    app: &TestApp,
    ip: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let res = app
        .send(method, path, Some(token), &[("x-forwarded-for", ip)], body)
        .await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A method call from client address `ip`.
async fn rpc_from(
    app: &TestApp,
    ip: &str,
    token: &str,
    method: &str,
    params: &[(&str, &str)],
) -> Value {
    let auth = format!("Bearer {token}");
    app.rpc_with_headers(
        &[("x-forwarded-for", ip), ("authorization", &auth)],
        method,
        params,
    )
    .await
}

async fn sign_in_from(app: &TestApp, ip: &str, login: &str, password: &str) -> u16 {
    app.send(
        "POST",
        "/v1/sessions",
        None,
        &[("x-forwarded-for", ip)],
        Some(json!({"account_id": 1, "login": login, "password": password})),
    )
    .await
    .status()
    .as_u16()
}

fn access_token(app: &TestApp) -> String {
    app.initial_credentials()["access_key"]["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// The audit events of account 1 with `action`, newest first, read from client address `ip`.
async fn audit_from(app: &TestApp, token: &str, ip: &str, action: &str) -> Vec<Value> {
    let (status, body) = from(
        app,
        ip,
        "GET",
        &format!("/v1/accounts/1/audit_logs?per_page=1000&action={action}"),
        token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["result"].as_array().expect("events").clone()
}

async fn entries(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = from(app, "203.0.113.9", "GET", LIST, token, None).await;
    assert_eq!(status, 200, "{body}");
    body["result"].as_array().expect("a list").clone()
}

fn error_code(body: &Value) -> i64 {
    body["errors"][0]["code"].as_i64().unwrap_or_default()
}

async fn the_list_governs_every_credential_of_the_account(app: TestApp) {
    let token = access_token(&app);
    let session = app.owner().await;
    let outside = "198.51.100.1";
    let inside = "203.0.113.9";
    // Everything works from anywhere while the list is empty.
    let (status, _) = from(&app, outside, "GET", "/v1/accounts/1/users", &token, None).await;
    assert_eq!(status, 200);
    // An allow list that leaves the caller out needs force; refused, it changes nothing.
    let (status, body) = from(
        &app,
        outside,
        "POST",
        LIST,
        &token,
        Some(json!({"authorized_ip": "203.0.113.0/24", "description": "office"})),
    )
    .await;
    assert_eq!((status, error_code(&body)), (409, 4098), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("198.51.100.1"),
        "{body}"
    );
    assert!(entries(&app, &token).await.is_empty());
    // From inside it needs none.
    let (status, body) = from(
        &app,
        inside,
        "POST",
        LIST,
        &token,
        Some(json!({"authorized_ip": "203.0.113.7/24", "description": "office"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["authorized_ip"], "203.0.113.0/24");
    assert_eq!(body["result"]["allowed"], true);
    assert_eq!(body["result"]["description"], "office");
    // Now the access key, the session (cached by the calls above) and the method API are
    // refused from outside, and from the proxy itself.
    for ip in [outside, "127.0.0.1", "::ffff:198.51.100.1"] {
        for t in [&token, &session] {
            let (status, body) = from(&app, ip, "GET", "/v1/accounts/1/users", t, None).await;
            assert_eq!((status, error_code(&body)), (403, 4033), "{ip}: {body}");
        }
    }
    let answer = rpc_from(&app, outside, &token, "GetSubUsers", &[]).await;
    assert_eq!(rpc_code(&answer), 100, "{answer}");
    let (status, _) = from(&app, inside, "GET", "/v1/accounts/1/users", &session, None).await;
    assert_eq!(status, 200);
    // Sign-in from outside answers as a wrong password; from inside it works.
    let creds = app.initial_credentials();
    let password = creds["owner"]["password"].as_str().unwrap();
    assert_eq!(sign_in_from(&app, outside, "admin", password).await, 401);
    assert_eq!(sign_in_from(&app, inside, "admin", password).await, 200);
    // A deny entry inside the allowed network refuses that address.
    let (status, body) = from(
        &app,
        inside,
        "POST",
        LIST,
        &token,
        Some(json!({"authorized_ip": "203.0.113.66", "allowed": false})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = from(
        &app,
        "203.0.113.66",
        "GET",
        "/v1/accounts/1/users",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = from(
        &app,
        inside,
        "GET",
        &format!("{LIST}/check?ip=203.0.113.66"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["result"],
        json!({"ip": "203.0.113.66", "allowed": false, "authorized_ip": "203.0.113.66"})
    );
    // The list, filtered.
    let (status, body) = from(
        &app,
        inside,
        "GET",
        &format!("{LIST}?allowed=false"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"].as_array().unwrap().len(), 1);
    assert_eq!(body["result_info"]["total_count"], 1);
    let (_, body) = from(
        &app,
        inside,
        "GET",
        &format!("{LIST}?contains_ip=203.0.113.1"),
        &token,
        None,
    )
    .await;
    assert_eq!(body["result"][0]["authorized_ip"], "203.0.113.0/24");
    // Removing every entry lifts the rule (it would not refuse the caller: no force needed).
    let (status, body) = from(
        &app,
        inside,
        "DELETE",
        &format!("{LIST}?authorized_ip=all"),
        &token,
        None,
    )
    .await;
    assert_eq!(
        (status, &body["result"]["removed"]),
        (200, &json!(2)),
        "{body}"
    );
    let (status, _) = from(&app, outside, "GET", "/v1/accounts/1/users", &token, None).await;
    assert_eq!(status, 200);
    // IPv6 entries, over REST.
    let (status, body) = from(
        &app,
        "2001:db8::5",
        "POST",
        LIST,
        &token,
        Some(json!({"authorized_ip": "2001:DB8::/32"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["authorized_ip"], "2001:db8::/32");
    let (status, _) = from(
        &app,
        "2001:db8::7",
        "GET",
        "/v1/accounts/1/users",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = from(
        &app,
        "2001:db9::7",
        "GET",
        "/v1/accounts/1/users",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 403);
    // Every change is audited, with the address that made it.
    let added = audit_from(&app, &token, "2001:db8::5", "authorized_ip.add").await;
    assert_eq!(added.len(), 3, "{added:?}");
    assert_eq!(added[0]["client_ip"], "2001:db8::5");
    let removed = audit_from(&app, &token, "2001:db8::5", "authorized_ip.delete").await;
    assert_eq!(removed.len(), 1);
    let refused = audit_from(&app, &token, "2001:db8::5", "auth.failure").await;
    assert!(
        refused
            .iter()
            .any(|e| e["details"]["reason"]
                == "the client address is not authorized for this account"),
        "{refused:?}"
    );
}

async fn a_keys_allowed_ips_are_checked_besides_the_accounts_list(app: TestApp) {
    let owner = app.owner().await;
    let dev = app.create_user(&owner, "dev01", &["Developer"]).await;
    let session = app.login(1, "dev01", PASSWORD).await;
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{dev}/access_keys"),
            Some(&session),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let key = body["result"]["token"].as_str().unwrap().to_owned();
    let id = body["result"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/accounts/1/users/{dev}/access_keys/{id}");
    let (status, _) = from(
        &app,
        "192.0.2.1",
        "GET",
        "/v1/accounts/1/iam/roles",
        &key,
        None,
    )
    .await;
    assert_eq!(status, 200, "the key is cached before its condition is set");
    let (status, body) = from(
        &app,
        "192.0.2.1",
        "PATCH",
        &path,
        &session,
        Some(json!({"allowed_ips": ["198.51.100.0/24", "2001:db8::1"]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["result"]["allowed_ips"],
        json!(["198.51.100.0/24", "2001:db8::1"])
    );
    let (status, _) = from(
        &app,
        "192.0.2.1",
        "GET",
        "/v1/accounts/1/iam/roles",
        &key,
        None,
    )
    .await;
    assert_eq!(status, 403, "the cached principal is dropped");
    let (status, _) = from(
        &app,
        "198.51.100.20",
        "GET",
        "/v1/accounts/1/iam/roles",
        &key,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = from(
        &app,
        "192.0.2.1",
        "GET",
        "/v1/accounts/1/iam/roles",
        &session,
        None,
    )
    .await;
    assert_eq!(status, 200, "the user's other credentials are not the key");
    // Bad networks are refused, naming the field, and change nothing.
    for bad in [
        json!(["nope"]),
        json!(["10.0.0.0/33"]),
        json!(["10.0.0.0/8", "10.1.0.0/8"]),
    ] {
        let (status, body) = app
            .call(
                "PATCH",
                &path,
                Some(&session),
                Some(json!({ "allowed_ips": bad })),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("allowed_ips: "),
            "{body}"
        );
    }
    let many: Vec<String> = (0..51).map(|n| format!("10.0.0.{n}")).collect();
    let (status, _) = app
        .call(
            "PATCH",
            &path,
            Some(&session),
            Some(json!({ "allowed_ips": many })),
        )
        .await;
    assert_eq!(status, 400);
    let (_, body) = app.call("GET", &path, Some(&session), None).await;
    assert_eq!(
        body["result"]["allowed_ips"],
        json!(["198.51.100.0/24", "2001:db8::1"])
    );
    // `[]` lifts the condition.
    let (status, _) = app
        .call(
            "PATCH",
            &path,
            Some(&session),
            Some(json!({"allowed_ips": []})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = from(
        &app,
        "192.0.2.1",
        "GET",
        "/v1/accounts/1/iam/roles",
        &key,
        None,
    )
    .await;
    assert_eq!(status, 200);
    // A service key too.
    let (status, body) = app
        .call(
            "POST",
            "/v1/accounts/1/keys",
            Some(&owner),
            Some(json!({"name": "ci", "roles": ["Developer"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let info = body["result"]["credentials"].clone();
    let key_id = body["result"]["id"].as_str().unwrap().to_owned();
    let now = tessera_tests::unix_now();
    let jwt = tessera_tests::jwt(&info, now - 5, now + 600);
    let (status, body) = app
        .call(
            "PATCH",
            &format!("/v1/accounts/1/keys/{key_id}"),
            Some(&owner),
            Some(json!({"allowed_ips": ["198.51.100.0/24"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["allowed_ips"], json!(["198.51.100.0/24"]));
    let answer = rpc_from(&app, "192.0.2.1", &jwt, "GetRoles", &[]).await;
    assert_eq!(rpc_code(&answer), 100, "{answer}");
    let answer = rpc_from(&app, "198.51.100.9", &jwt, "GetRoles", &[]).await;
    let _ = rpc_ok(&answer);
}

async fn bad_input_is_refused_and_changes_nothing(app: TestApp) {
    let token = access_token(&app);
    let owner = app.owner().await;
    app.create_user(&owner, "support1", &["Support"]).await;
    let support = app.login(1, "support1", PASSWORD).await;
    let at = "203.0.113.9";
    let cases: Vec<(&str, String, Option<Value>, u16, &str)> = vec![
        (
            "POST",
            LIST.into(),
            Some(json!({"authorized_ip": "nope"})),
            400,
            "authorized_ip: expected an IP address or a CIDR network",
        ),
        (
            "POST",
            LIST.into(),
            Some(json!({"authorized_ip": "192.0.2.0/33"})),
            400,
            "authorized_ip: expected",
        ),
        (
            "POST",
            LIST.into(),
            Some(json!({"authorized_ip": ""})),
            400,
            "authorized_ip: must be 1 to 64 characters",
        ),
        (
            "POST",
            LIST.into(),
            Some(json!({"authorized_ip": "1".repeat(65)})),
            400,
            "authorized_ip: must be 1 to 64 characters",
        ),
        (
            "POST",
            LIST.into(),
            Some(json!({})),
            400,
            "body: missing field `authorized_ip`",
        ),
        (
            "POST",
            LIST.into(),
            Some(json!({"authorized_ip": "192.0.2.0/24", "allowed": "yes"})),
            400,
            "allowed",
        ),
        (
            "POST",
            LIST.into(),
            Some(json!({"authorized_ip": "192.0.2.0/24", "description": "d".repeat(256)})),
            400,
            "description: must be at most 255 characters",
        ),
        (
            "POST",
            LIST.into(),
            Some(json!({"authorized_ip": "192.0.2.0/24", "description": "a\u{1}b"})),
            400,
            "description: must not contain control characters",
        ),
        (
            "DELETE",
            LIST.into(),
            None,
            400,
            "authorized_ip: name the network",
        ),
        (
            "DELETE",
            format!("{LIST}?authorized_ip=10.0.0.0/8&contains_ip=10.0.0.1"),
            None,
            400,
            "contains_ip: authorized_ip and contains_ip cannot be used together",
        ),
        (
            "DELETE",
            format!("{LIST}?contains_ip=10.0.0.0/8"),
            None,
            400,
            "contains_ip: expected an IP address",
        ),
        (
            "GET",
            format!("{LIST}/check?ip=10.0.0.0/8"),
            None,
            400,
            "ip: expected an IP address",
        ),
        (
            "GET",
            format!("{LIST}/check"),
            None,
            400,
            "query: missing field `ip`",
        ),
        ("GET", format!("{LIST}?allowed=maybe"), None, 400, "allowed"),
        (
            "GET",
            format!("{LIST}?contains_ip=x"),
            None,
            400,
            "contains_ip: expected an IP address",
        ),
        // Another account, or none: not found, never forbidden.
        (
            "POST",
            "/v1/accounts/999/authorized_ips".into(),
            Some(json!({"authorized_ip": "192.0.2.0/24", "force": true})),
            404,
            "account not found",
        ),
        (
            "GET",
            "/v1/accounts/999/authorized_ips".into(),
            None,
            404,
            "account not found",
        ),
        (
            "DELETE",
            "/v1/accounts/999/authorized_ips?authorized_ip=all".into(),
            None,
            404,
            "account not found",
        ),
    ];
    let (_, body) = from(
        &app,
        at,
        "POST",
        LIST,
        &token,
        Some(json!({"authorized_ip": "203.0.113.0/24"})),
    )
    .await;
    assert_eq!(body["success"], true, "{body}");
    let before = entries(&app, &token).await;
    for (method, path, body, want, message) in cases {
        let (status, answer) = from(&app, at, method, &path, &token, body.clone()).await;
        assert_eq!(status, want, "{method} {path} {body:?}: {answer}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with(message),
            "{method} {path} {body:?}: {answer}"
        );
        assert_eq!(
            entries(&app, &token).await,
            before,
            "{method} {path}: nothing changed"
        );
    }
    // Support reads the list (Account Settings read) but may not change it.
    let (status, _) = from(&app, at, "GET", LIST, &support, None).await;
    assert_eq!(status, 200);
    let (status, body) = from(
        &app,
        at,
        "POST",
        LIST,
        &support,
        Some(json!({"authorized_ip": "203.0.113.5", "allowed": false})),
    )
    .await;
    assert_eq!((status, error_code(&body)), (403, 4030), "{body}");
    let (status, _) = from(
        &app,
        at,
        "DELETE",
        &format!("{LIST}?authorized_ip=all&force=true"),
        &support,
        None,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(entries(&app, &token).await, before);
    // A network listed twice is a conflict.
    let (status, body) = from(
        &app,
        at,
        "POST",
        LIST,
        &token,
        Some(json!({"authorized_ip": "203.0.113.1/24"})),
    )
    .await;
    assert_eq!((status, error_code(&body)), (409, 4090), "{body}");
    assert_eq!(entries(&app, &token).await, before);
}

async fn the_methods_answer_as_the_official_client_expects(app: TestApp) {
    let token = access_token(&app);
    let at = "192.0.2.10";
    let answer = rpc_from(
        &app,
        at,
        &token,
        "AddAuthorizedAccountIP",
        &[("authorized_ip", "192.0.2.0/24"), ("description", "office")],
    )
    .await;
    assert_eq!(rpc_ok(&answer), &json!(1));
    let answer = rpc_from(
        &app,
        at,
        &token,
        "AddAuthorizedAccountIP",
        &[("authorized_ip", "192.0.2.99"), ("allowed", "False")],
    )
    .await;
    assert_eq!(rpc_ok(&answer), &json!(1));
    let answer = rpc_from(
        &app,
        at,
        &token,
        "AddAuthorizedAccountIP",
        &[("authorized_ip", "198.51.100.0/24"), ("allowed", "True")],
    )
    .await;
    assert_eq!(rpc_ok(&answer), &json!(1));
    let answer = rpc_from(&app, at, &token, "GetAuthorizedAccountIPs", &[]).await;
    let list = rpc_ok(&answer).as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(
        (answer["total_count"].as_i64(), answer["count"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(list[0]["authorized_ip"], "192.0.2.0/24");
    assert_eq!(list[0]["allowed"], true);
    assert_eq!(list[0]["description"], "office");
    let created = list[0]["created"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%d %H:%M:%S").is_ok(),
        "the API's date format: {created}"
    );
    let answer = rpc_from(
        &app,
        at,
        &token,
        "GetAuthorizedAccountIPs",
        &[("allowed", "false")],
    )
    .await;
    assert_eq!(rpc_ok(&answer)[0]["authorized_ip"], "192.0.2.99");
    let answer = rpc_from(
        &app,
        at,
        &token,
        "GetAuthorizedAccountIPs",
        &[
            ("contains_ip", "198.51.100.4"),
            ("count", "1"),
            ("offset", "0"),
        ],
    )
    .await;
    assert_eq!(rpc_ok(&answer)[0]["authorized_ip"], "198.51.100.0/24");
    let answer = rpc_from(
        &app,
        at,
        &token,
        "GetAuthorizedAccountIPs",
        &[("count", "1"), ("offset", "1")],
    )
    .await;
    assert_eq!(
        (answer["total_count"].as_i64(), answer["count"].as_i64()),
        (Some(3), Some(1))
    );
    for (ip, expected) in [
        (
            "192.0.2.99",
            json!({"result": false, "authorized_ip": "192.0.2.99"}),
        ),
        (
            "192.0.2.5",
            json!({"result": true, "authorized_ip": "192.0.2.0/24"}),
        ),
        ("203.0.113.1", json!({"result": false})),
    ] {
        let answer = rpc_from(
            &app,
            at,
            &token,
            "CheckAuthorizedAccountIP",
            &[("authorized_ip", ip)],
        )
        .await;
        assert_eq!(answer, expected, "{ip}");
    }
    // Errors: required, malformed, both targets, lockout without force.
    for (method, params, code) in [
        ("AddAuthorizedAccountIP", vec![], 134),
        ("AddAuthorizedAccountIP", vec![("authorized_ip", "")], 134),
        (
            "AddAuthorizedAccountIP",
            vec![("authorized_ip", "300.1.1.1")],
            101,
        ),
        (
            "AddAuthorizedAccountIP",
            vec![("authorized_ip", "10.0.0.0/8"), ("allowed", "perhaps")],
            101,
        ),
        (
            "AddAuthorizedAccountIP",
            vec![("authorized_ip", "192.0.2.0/24")],
            101,
        ),
        (
            "AddAuthorizedAccountIP",
            vec![("authorized_ip", "192.0.2.10"), ("allowed", "false")],
            101,
        ),
        ("DelAuthorizedAccountIP", vec![], 134),
        (
            "DelAuthorizedAccountIP",
            vec![
                ("authorized_ip", "192.0.2.0/24"),
                ("contains_ip", "192.0.2.1"),
            ],
            101,
        ),
        ("DelAuthorizedAccountIP", vec![("contains_ip", "nope")], 101),
        (
            "DelAuthorizedAccountIP",
            vec![("authorized_ip", "192.0.2.0/24")],
            101,
        ),
        ("GetAuthorizedAccountIPs", vec![("count", "1001")], 101),
        (
            "GetAuthorizedAccountIPs",
            vec![("contains_ip", "1.2.3")],
            101,
        ),
        ("CheckAuthorizedAccountIP", vec![], 134),
        (
            "CheckAuthorizedAccountIP",
            vec![("authorized_ip", "192.0.2.0/24")],
            101,
        ),
    ] {
        let answer = rpc_from(&app, at, &token, method, &params).await;
        assert_eq!(rpc_code(&answer), code, "{method} {params:?}: {answer}");
        let answer = rpc_from(&app, at, &token, "GetAuthorizedAccountIPs", &[]).await;
        assert_eq!(
            answer["total_count"], 3,
            "{method} {params:?} changed nothing"
        );
    }
    let lockout = rpc_from(
        &app,
        at,
        &token,
        "DelAuthorizedAccountIP",
        &[("authorized_ip", "192.0.2.0/24")],
    )
    .await;
    assert!(
        lockout["error"]["msg"].as_str().unwrap().contains("force"),
        "{lockout}"
    );
    // Removal: by network and kind, containing an address, and all (an empty list refuses
    // nobody: no force needed).
    let answer = rpc_from(
        &app,
        at,
        &token,
        "DelAuthorizedAccountIP",
        &[("authorized_ip", "192.0.2.99"), ("allowed", "true")],
    )
    .await;
    assert_eq!(
        rpc_ok(&answer),
        &json!(0),
        "the deny entry is not an allow entry"
    );
    let answer = rpc_from(
        &app,
        at,
        &token,
        "DelAuthorizedAccountIP",
        &[("contains_ip", "192.0.2.99"), ("allowed", "False")],
    )
    .await;
    assert_eq!(rpc_ok(&answer), &json!(1));
    let answer = rpc_from(
        &app,
        at,
        &token,
        "DelAuthorizedAccountIP",
        &[("authorized_ip", "all")],
    )
    .await;
    assert_eq!(rpc_ok(&answer), &json!(2));
    let answer = rpc_from(&app, at, &token, "GetAuthorizedAccountIPs", &[]).await;
    assert_eq!(answer, json!({"result": [], "total_count": 0, "count": 0}));
}

async fn a_list_added_on_one_instance_is_enforced_by_another_within_a_second(app: TestApp) {
    let token = access_token(&app);
    let b = app.another();
    // B has the key cached, from the address the list is about to leave out.
    let (status, _) = from(
        &b,
        "198.51.100.1",
        "GET",
        "/v1/accounts/1/users",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = from(
        &b,
        "198.51.100.1",
        "GET",
        "/v1/accounts/1/users",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = from(
        &app,
        "203.0.113.9",
        "POST",
        LIST,
        &token,
        Some(json!({"authorized_ip": "203.0.113.0/24"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // B trusts its cache only while it read the authorization epoch at most a second ago, and
    // drops it when the epoch moved: a second after the change (and a clock tick), it cannot
    // admit the old address, whatever its polling did meanwhile.
    tokio::time::sleep(Duration::from_millis(1010)).await;
    let (status, body) = from(
        &b,
        "198.51.100.1",
        "GET",
        "/v1/accounts/1/users",
        &token,
        None,
    )
    .await;
    assert_eq!((status, error_code(&body)), (403, 4033), "{body}");
    let (status, _) = from(
        &b,
        "203.0.113.9",
        "GET",
        "/v1/accounts/1/users",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    // And a removal on B lifts it on A likewise (A holds the principal with the list cached).
    let (status, _) = from(
        &app,
        "203.0.113.9",
        "GET",
        "/v1/accounts/1/users",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = from(
        &b,
        "203.0.113.9",
        "DELETE",
        &format!("{LIST}?authorized_ip=203.0.113.0/24"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(1010)).await;
    let (status, _) = from(
        &app,
        "198.51.100.1",
        "GET",
        "/v1/accounts/1/users",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
}

/// Like `e2e!`, each test on both backends, on a server behind a trusted proxy (the loopback).
macro_rules! behind_a_proxy {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let app = super::behind_a_proxy(tessera_tests::DbBackend::Sqlite).await.expect("sqlite");
                    super::$name(app).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(app) = super::behind_a_proxy(tessera_tests::DbBackend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )+
        }
    };
}

behind_a_proxy!(
    the_list_governs_every_credential_of_the_account,
    a_keys_allowed_ips_are_checked_besides_the_accounts_list,
    bad_input_is_refused_and_changes_nothing,
    the_methods_answer_as_the_official_client_expects,
    a_list_added_on_one_instance_is_enforced_by_another_within_a_second
);
