//! A parameter or body that does not parse is refused with a message naming the parameter and
//! the form it expects, and nothing changes.

use serde_json::{Value, json};
use tessera_tests::{TestApp, Via, e2e};

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or_default()
}

async fn query_parameters_name_the_form_they_expect(app: TestApp) {
    let owner = app.owner().await;
    let time = "expected an RFC 3339 time such as 2026-01-01T00:00:00Z";
    let number = "expected a positive integer such as 2";
    for (path, expected) in [
        (
            "/v1/accounts/1/audit_logs?since=yesterday",
            format!("since: {time}"),
        ),
        (
            "/v1/accounts/1/audit_logs?before=2026-13-01",
            format!("before: {time}"),
        ),
        ("/v1/accounts/1/audit_logs?since=", format!("since: {time}")),
        (
            "/v1/accounts/1/audit_logs?page=last",
            format!("page: {number}"),
        ),
        (
            "/v1/accounts/1/audit_logs?per_page=1.5",
            format!("per_page: {number}"),
        ),
        ("/v1/accounts/1/users?page=x", format!("page: {number}")),
        (
            "/v1/accounts/1/users?per_page=",
            format!("per_page: {number}"),
        ),
        (
            "/v1/accounts/1/iam/permission_groups?page=-2",
            format!("page: {number}"),
        ),
        (
            "/v1/accounts/1/sso_connectors?per_page=ten",
            format!("per_page: {number}"),
        ),
        (
            "/v1/accounts/1/iam/user_groups/00000000000000000000000000000000/members?page=x",
            format!("page: {number}"),
        ),
        (
            "/v1/accounts/1/users?direction=up",
            "direction: unknown variant `up`, expected `asc` or `desc`".to_owned(),
        ),
    ] {
        let (status, body) = app.call("GET", path, Some(&owner), None).await;
        assert_eq!((status, message(&body)), (400, expected.as_str()), "{path}");
    }
    // The same values, well formed, are accepted.
    let (status, body) = app
        .call(
            "GET",
            "/v1/accounts/1/audit_logs?since=2026-01-01T00:00:00Z&page=1&per_page=5",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn users_total(app: &TestApp, token: &str) -> Value {
    let (_, body) = app
        .call("GET", "/v1/accounts/1/users", Some(token), None)
        .await;
    body["result_info"]["total_count"].clone()
}

async fn malformed_json_is_the_bodys_fault_with_its_line_and_column(app: TestApp) {
    let owner = app.owner().await;
    let before = users_total(&app, &owner).await;
    for (body, expected) in [
        (
            "{\"login\": ",
            "body: EOF while parsing a value at line 1 column 10",
        ),
        (
            "{\"login\": \"someone1\",\n \"password\": Str0ng}",
            "body: expected value at line 2 column 14",
        ),
        (
            "{\"login\": \"someone1\"} {}",
            "body: trailing characters at line 1 column 23",
        ),
        (
            "\"someone1\"",
            "body: invalid type: a string, expected a JSON object",
        ),
        ("null", "body: invalid type: null, expected a JSON object"),
        (
            "{\"login\": 5}",
            "login: invalid type: integer `5`, expected a string",
        ),
    ] {
        let res = app
            .client
            .post(app.url("/v1/accounts/1/users"))
            .bearer_auth(&owner)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let answer: Value = res.json().await.unwrap();
        assert_eq!((status, message(&answer)), (400, expected), "{body}");
    }
    assert_eq!(users_total(&app, &owner).await, before, "nothing created");
}

async fn body_ids_name_the_form_they_expect(app: TestApp) {
    let owner = app.owner().await;
    let pg = app.permission_group(&owner, "Usage Read").await;
    let rg = app.resource_group(&owner, &["*"]).await;
    let user = app.create_user(&owner, "member1", &[]).await;
    let (group, policy) = app.group_with_policy(&owner, "allow", &pg, &rg, user).await;
    let path = format!("/v1/accounts/1/iam/user_groups/{group}");
    let (_, before) = app.call("GET", &path, Some(&owner), None).await;
    let policy_with = |pgs: &str, rgs: &str, id: &str| {
        json!({"policies": [{"id": id, "access": "allow",
                             "permission_groups": [{"id": pgs}], "resource_groups": [{"id": rgs}]}]})
    };
    for (body, expected) in [
        (
            policy_with("zz", &rg, &policy),
            "policies[0].permission_groups: expected a permission group id (32 hex digits), not 'zz'",
        ),
        (
            policy_with(&pg, "zz", &policy),
            "policies[0].resource_groups: expected a resource group id (32 hex digits), not 'zz'",
        ),
        (
            policy_with(&pg, &rg, "p1"),
            "policies[0].id: expected a policy id (32 hex digits), not 'p1'",
        ),
    ] {
        let (status, answer) = app.call("PUT", &path, Some(&owner), Some(body)).await;
        assert_eq!((status, message(&answer)), (400, expected));
    }
    let (status, answer) = app
        .call(
            "PUT",
            &format!("{path}/members"),
            Some(&owner),
            Some(json!([{"id": "alice"}])),
        )
        .await;
    assert_eq!(
        (status, message(&answer)),
        (
            400,
            "members[0].id: expected a user id such as \"42\", not 'alice'"
        )
    );
    let (_, after) = app.call("GET", &path, Some(&owner), None).await;
    assert_eq!(after, before, "nothing changed");
    let (_, members) = app
        .call("GET", &format!("{path}/members"), Some(&owner), None)
        .await;
    assert_eq!(members["result_info"]["count"], json!(1), "{members}");
}

async fn method_api_parameters_name_the_form_they_expect(app: TestApp) {
    let jwt = app.owner_jwt();
    for (method, params, expected) in [
        (
            "GetSubUsers",
            vec![("count", "many")],
            "Invalid argument 'count': expected an integer such as 42, not 'many'",
        ),
        (
            "GetSubUsers",
            vec![("with_roles", "yes")],
            "Invalid argument 'with_roles': expected true, false, 1 or 0, not 'yes'",
        ),
        (
            "DelSubUser",
            vec![("subuser_id", "x1")],
            "Invalid argument 'subuser_id': expected an integer such as 42, not 'x1'",
        ),
    ] {
        let answer = app.rpc(Some(&jwt), Via::Form, method, &params).await;
        assert_eq!(answer["error"]["code"], json!(101), "{method}: {answer}");
        assert_eq!(answer["error"]["msg"], expected, "{method}");
    }
    let answer = app.rpc(Some(&jwt), Via::Form, "GetSubUsers", &[]).await;
    assert!(answer.get("error").is_none(), "{answer}");
}

e2e!(
    query_parameters_name_the_form_they_expect,
    malformed_json_is_the_bodys_fault_with_its_line_and_column,
    body_ids_name_the_form_they_expect,
    method_api_parameters_name_the_form_they_expect
);
