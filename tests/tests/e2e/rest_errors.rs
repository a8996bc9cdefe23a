//! The REST envelope and its errors: malformed bodies, wrong types, unknown values, oversized
//! bodies and wrong content types are 4xx in the envelope, never 500, and change nothing.

use serde_json::{Value, json};
use tessera_tests::{TestApp, e2e};

async fn users_total(app: &TestApp, token: &str) -> Value {
    let (_, body) = app
        .call("GET", "/v1/accounts/1/users", Some(token), None)
        .await;
    body["result_info"]["total_count"].clone()
}

async fn raw(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/v1/accounts/1/users"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

fn message(body: &Value) -> &str {
    assert_eq!(body["success"], false, "{body}");
    body["errors"][0]["message"].as_str().unwrap()
}

async fn bad_bodies_are_4xx_naming_the_field_and_change_nothing(app: TestApp) {
    let owner = app.owner().await;
    let before = users_total(&app, &owner).await;
    let cases: Vec<(&str, &str, u16, &str)> = vec![
        ("application/json", "{\"login\": ", 400, ""),
        (
            "application/json",
            "{\"login\": 5}",
            400,
            "login: invalid type",
        ),
        (
            "application/json",
            "{\"password\": \"Str0ng-Pass!\"}",
            400,
            "missing field `login`",
        ),
        (
            "application/json",
            "{\"login\": \"someone\", \"status\": \"asleep\"}",
            400,
            "status: unknown variant `asleep`",
        ),
        (
            "application/json",
            "{\"login\": \"someone\", \"roles\": \"Developer\"}",
            400,
            "roles: invalid type",
        ),
        (
            "application/json",
            "{\"login\": \"someone\", \"roles\": [\"Root\"]}",
            400,
            "unknown role name 'Root'",
        ),
        (
            "application/json",
            "{\"login\": \"abc\"}",
            400,
            "login: login must be 5 to 20",
        ),
        (
            "application/json",
            "{\"login\": \"someone\", \"password\": \"weak\"}",
            400,
            "password:",
        ),
        (
            "application/json",
            "{\"login\": \"someone\", \"email\": \"nope\"}",
            400,
            "email:",
        ),
        ("application/json", "", 400, "empty"),
        (
            "application/json",
            "[\"someone\", \"Str0ng-Pass!\"]",
            400,
            "body: invalid type: an array, expected a JSON object",
        ),
        (
            "text/plain",
            "{\"login\": \"someone\"}",
            415,
            "Content-Type must be application/json",
        ),
    ];
    for (content_type, body, status, needle) in cases {
        let (got, answer) = raw(&app, &owner, content_type, body.to_owned()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(message(&answer).contains(needle), "{body}: {answer}");
    }
    let huge = format!(
        "{{\"login\": \"someone\", \"description\": \"{}\"}}",
        "x".repeat(300_000)
    );
    let (got, answer) = raw(&app, &owner, "application/json", huge).await;
    assert_eq!(got, 413, "{answer}");
    assert_eq!(
        users_total(&app, &owner).await,
        before,
        "nothing was created"
    );
}

async fn unknown_routes_and_ids_are_404_in_the_envelope(app: TestApp) {
    let owner = app.owner().await;
    for path in [
        "/v1/nothing",
        "/v1/accounts/1/users/not-a-number",
        "/v1/accounts/1/users/999",
        "/v1/accounts/1/keys/not-a-uuid",
        "/v1/accounts/1/iam/user_groups/xyz",
        "/v1/accounts/1/iam/permission_groups/00000000000000000000000000000000",
        "/v1/accounts/999/users",
    ] {
        let (status, body) = app.call("GET", path, Some(&owner), None).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["success"], false);
    }
}

/// No text field takes a NUL character (Postgres could not store one): 400, nothing changed.
async fn nul_characters_are_400_and_change_nothing(app: TestApp) {
    let owner = app.owner().await;
    let before = users_total(&app, &owner).await;
    let (status, body) = raw(
        &app,
        &owner,
        "application/json",
        r#"{"login": "someone", "description": "a\u0000b"}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("NUL"), "{body}");
    let (status, body) = app
        .call("GET", "/v1/accounts/1/users?name=a%00b", Some(&owner), None)
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("NUL"), "{body}");
    let (status, body) = app
        .call(
            "POST",
            "/v1/accounts",
            Some(&owner),
            Some(json!({"name": "child", "email": "x\u{0}y@example.com"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (_, children) = app.call("GET", "/v1/accounts", Some(&owner), None).await;
    assert!(
        !children.to_string().contains("\"child\""),
        "no child account: {children}"
    );
    assert_eq!(users_total(&app, &owner).await, before, "nothing changed");
}

async fn known_paths_under_other_methods_are_405_with_allow(app: TestApp) {
    let owner = app.owner().await;
    let before = users_total(&app, &owner).await;
    for (method, path, allow) in [
        ("TRACE", "/healthz", "GET"),
        ("POST", "/readyz", "GET"),
        ("PUT", "/v1/accounts/1/users", "GET, POST"),
        ("POST", "/v1/accounts/1/users/1", "GET, PATCH, DELETE"),
        ("DELETE", "/v1/accounts/1/iam/permission_groups", "GET"),
        ("PUT", "/platform_api/GetSubUsers", "GET, POST"),
        ("DELETE", "/platform_api", "GET, POST"),
    ] {
        let res = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&owner)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 405, "{method} {path}");
        assert_eq!(res.headers()["allow"], allow, "{method} {path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], 4050);
        assert!(message(&body).contains(allow), "{body}");
    }
    assert_eq!(users_total(&app, &owner).await, before, "nothing changed");
}

async fn list_parameters_are_checked(app: TestApp) {
    let owner = app.owner().await;
    for (query, needle) in [
        ("per_page=0", "per_page"),
        ("per_page=1001", "per_page"),
        ("page=0", "page"),
        ("per_page=abc", "per_page"),
        ("direction=sideways", "direction"),
        ("cursor=%21%21", "cursor"),
    ] {
        let (status, body) = app
            .call(
                "GET",
                &format!("/v1/accounts/1/users?{query}"),
                Some(&owner),
                None,
            )
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(message(&body).contains(needle), "{query}: {body}");
    }
}

async fn pages_follow_offsets_and_cursors_alike(app: TestApp) {
    let owner = app.owner().await;
    for i in 0..7 {
        app.create_user(&owner, &format!("pager{i}"), &[]).await;
    }
    let (_, p1) = app
        .call("GET", "/v1/accounts/1/users?per_page=3", Some(&owner), None)
        .await;
    assert_eq!(
        p1["result_info"],
        json!({"page": 1, "per_page": 3, "count": 3, "total_count": 8, "cursor": p1["result_info"]["cursor"]})
    );
    let cursor = p1["result_info"]["cursor"].as_str().unwrap();
    let (_, by_cursor) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/users?per_page=3&cursor={cursor}"),
            Some(&owner),
            None,
        )
        .await;
    let (_, by_page) = app
        .call(
            "GET",
            "/v1/accounts/1/users?per_page=3&page=2",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(by_cursor["result"], by_page["result"]);
    let (_, fuzzy) = app
        .call(
            "GET",
            "/v1/accounts/1/users?fuzzyName=PAGER",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(fuzzy["result_info"]["total_count"], 7);
    let (_, named) = app
        .call(
            "GET",
            "/v1/accounts/1/users?name=pager3",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(named["result"][0]["login"], "pager3");
    let (_, desc) = app
        .call(
            "GET",
            "/v1/accounts/1/users?direction=desc&per_page=1",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(desc["result"][0]["login"], "pager6");
}

async fn missing_or_bad_credentials_are_401(app: TestApp) {
    for token in [
        None,
        Some("tsr_AKAAAAAAAAAAAAAAAAAA_wrong"),
        Some("tss_unknown"),
        Some("not.a.jwt"),
    ] {
        let (status, body) = app.call("GET", "/v1/accounts/1/users", token, None).await;
        assert_eq!(status, 401, "{token:?}: {body}");
        assert_eq!(body["success"], false);
    }
}

e2e!(
    bad_bodies_are_4xx_naming_the_field_and_change_nothing,
    unknown_routes_and_ids_are_404_in_the_envelope,
    known_paths_under_other_methods_are_405_with_allow,
    nul_characters_are_400_and_change_nothing,
    list_parameters_are_checked,
    pages_follow_offsets_and_cursors_alike,
    missing_or_bad_credentials_are_401
);
