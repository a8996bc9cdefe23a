//! The authorization core end to end: roles, deny policies, the explain endpoint, revocation on
//! the next request, rate limits and the audit log.

use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp, e2e};

async fn a_developer_is_refused_user_management_and_an_owner_is_not(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "dev01", &["Developer"]).await;
    let dev = app.login(1, "dev01", PASSWORD).await;
    let (status, body) = app
        .call("GET", "/v1/accounts/1/users", Some(&dev), None)
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["success"], false);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("user_management:read"),
        "{body}"
    );
    let (status, _) = app
        .call(
            "POST",
            "/v1/accounts/1/users",
            Some(&dev),
            Some(json!({"login": "sneaky", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = app
        .call("GET", "/v1/accounts/1/users", Some(&owner), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["result_info"]["total_count"], 2,
        "the refused creation changed nothing"
    );
}

async fn a_deny_policy_beats_a_role_grant_and_the_explanation_names_it(app: TestApp) {
    let owner = app.owner().await;
    let admin = app.create_user(&owner, "admin2", &["Administrator"]).await;
    let admin_token = app.login(1, "admin2", PASSWORD).await;
    let (status, _) = app
        .call("GET", "/v1/accounts/1/users", Some(&admin_token), None)
        .await;
    assert_eq!(status, 200, "the Administrator role grants user management");

    let rg = app.resource_group(&owner, &["*"]).await;
    let pg = app.permission_group(&owner, "User Management Read").await;
    let (group, policy) = app.group_with_policy(&owner, "deny", &pg, &rg, admin).await;

    let (status, body) = app
        .call("GET", "/v1/accounts/1/users", Some(&admin_token), None)
        .await;
    assert_eq!(
        status, 403,
        "deny beats the role on the very next request: {body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&policy),
        "{body}"
    );

    let (status, body) = app
        .call(
            "POST",
            "/v1/accounts/1/iam/authorize",
            Some(&owner),
            Some(json!({"principal": {"type": "user", "id": admin}, "capability": "user_management", "level": "read"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["allowed"], false);
    let reason = &body["result"]["reasons"][0];
    assert_eq!(reason["source"], "policy");
    assert_eq!(reason["effect"], "deny");
    assert_eq!(reason["policy"], policy.as_str());
    assert_eq!(reason["user_group"], group.as_str());
    assert!(
        reason["message"]
            .as_str()
            .unwrap()
            .contains("denies user_management:read")
    );

    // The owner asks about itself: allowed, by the Owner role.
    let (_, body) = app
        .call(
            "POST",
            "/v1/accounts/1/iam/authorize",
            Some(&owner),
            Some(json!({"principal": {"type": "user", "id": "1"}, "capability": "user_management", "level": "write"})),
        )
        .await;
    assert_eq!(body["result"]["allowed"], true);
    assert_eq!(body["result"]["reasons"][0]["source"], "role");
    assert_eq!(body["result"]["reasons"][0]["name"], "Owner");

    // Deleting the group lifts the deny at once.
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/v1/accounts/1/iam/user_groups/{group}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .call("GET", "/v1/accounts/1/users", Some(&admin_token), None)
        .await;
    assert_eq!(status, 200);
}

async fn an_allow_policy_grants_only_inside_its_scope(app: TestApp) {
    let owner = app.owner().await;
    let support = app.create_user(&owner, "support1", &["Support"]).await;
    let other = app.create_user(&owner, "other1", &[]).await;
    let token = app.login(1, "support1", PASSWORD).await;
    let rg = app
        .resource_group(&owner, &[&format!("com.tessera.api.account.user.{other}")])
        .await;
    let pg = app.permission_group(&owner, "User Management Read").await;
    app.group_with_policy(&owner, "allow", &pg, &rg, support)
        .await;
    let (status, _) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/users/{other}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "the object in scope");
    let (status, _) = app
        .call("GET", "/v1/accounts/1/users/1", Some(&token), None)
        .await;
    assert_eq!(status, 403, "an object out of scope");
    let (status, _) = app
        .call("GET", "/v1/accounts/1/users", Some(&token), None)
        .await;
    assert_eq!(status, 403, "a list needs an account-wide grant");

    let (status, body) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/users/{support}/effective_permissions"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let lines = body["result"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l["source"]["type"] == "role" && l["source"]["name"] == "Support")
    );
    assert!(lines.iter().any(|l| l["source"]["type"] == "policy"
        && l["scope"] == format!("com.tessera.api.account.user.{other}")
        && l["capability"] == "user_management"
        && l["effect"] == "allow"));
}

async fn revocations_take_effect_on_the_next_request(app: TestApp) {
    let owner = app.owner().await;
    let dev = app
        .create_user(&owner, "dev02", &["Developer", "User Read"])
        .await;
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{dev}/access_keys"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let key_id = body["result"]["id"].as_str().unwrap().to_owned();
    let key = body["result"]["token"].as_str().unwrap().to_owned();
    let list = "/v1/accounts/1/users";
    assert_eq!(app.call("GET", list, Some(&key), None).await.0, 200);

    // Removing the role that granted the read.
    let (status, body) = app
        .call(
            "PATCH",
            &format!("/v1/accounts/1/users/{dev}"),
            Some(&owner),
            Some(json!({"roles": ["Developer"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.call("GET", list, Some(&key), None).await.0, 403);
    app.call(
        "PATCH",
        &format!("/v1/accounts/1/users/{dev}"),
        Some(&owner),
        Some(json!({"roles": ["Developer", "User Read"]})),
    )
    .await;
    assert_eq!(app.call("GET", list, Some(&key), None).await.0, 200);

    // Deactivating the key.
    let key_path = format!("/v1/accounts/1/users/{dev}/access_keys/{key_id}");
    let (status, body) = app
        .call(
            "PATCH",
            &key_path,
            Some(&owner),
            Some(json!({"status": "inactive"})),
        )
        .await;
    assert_eq!(
        (status, body["result"]["status"].clone()),
        (200, json!("inactive"))
    );
    assert_eq!(app.call("GET", list, Some(&key), None).await.0, 401);
    app.call(
        "PATCH",
        &key_path,
        Some(&owner),
        Some(json!({"status": "active"})),
    )
    .await;
    assert_eq!(app.call("GET", list, Some(&key), None).await.0, 200);

    // Deactivating the user.
    app.call(
        "PATCH",
        &format!("/v1/accounts/1/users/{dev}"),
        Some(&owner),
        Some(json!({"status": "inactive"})),
    )
    .await;
    assert_eq!(app.call("GET", list, Some(&key), None).await.0, 401);
    app.call(
        "PATCH",
        &format!("/v1/accounts/1/users/{dev}"),
        Some(&owner),
        Some(json!({"status": "active"})),
    )
    .await;
    assert_eq!(app.call("GET", list, Some(&key), None).await.0, 200);

    // Deleting the key.
    assert_eq!(
        app.call("DELETE", &key_path, Some(&owner), None).await.0,
        200
    );
    assert_eq!(app.call("GET", list, Some(&key), None).await.0, 401);

    // Signing out.
    let session = app.login(1, "dev02", PASSWORD).await;
    assert_eq!(app.call("GET", list, Some(&session), None).await.0, 200);
    assert_eq!(
        app.call("DELETE", "/v1/sessions", Some(&session), None)
            .await
            .0,
        200
    );
    assert_eq!(app.call("GET", list, Some(&session), None).await.0, 401);
}

async fn a_login_locks_after_five_failures_even_for_the_right_password(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "target", &[]).await;
    let attempt = |password: &'static str| {
        app.call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"account_id": 1, "login": "target", "password": password})),
        )
    };
    for _ in 0..5 {
        assert_eq!(attempt("Wr0ng-pass!").await.0, 401);
    }
    let (status, body) = attempt(PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    let (status, _) = app
        .call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"account_id": 1, "login": "nobody", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 401, "other logins are not locked");
}

async fn unknown_login_and_wrong_password_answer_alike(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "someone", &[]).await;
    let (s1, b1) = app
        .call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"account_id": 1, "login": "someone", "password": "Wr0ng-pass!"})),
        )
        .await;
    let (s2, b2) = app
        .call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"account_id": 1, "login": "nobody1", "password": "Wr0ng-pass!"})),
        )
        .await;
    assert_eq!((s1, &b1["errors"]), (s2, &b2["errors"]));
    assert_eq!(s1, 401);
}

async fn mutations_and_failures_are_in_the_audit_log(app: TestApp) {
    let owner = app.owner().await;
    let dev = app.create_user(&owner, "audited", &["Developer"]).await;
    app.call(
        "POST",
        "/v1/sessions",
        None,
        Some(json!({"account_id": 1, "login": "audited", "password": "nope-Nope1"})),
    )
    .await;
    let (status, body) = app
        .call(
            "GET",
            "/v1/accounts/1/audit_logs?per_page=50",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let events = body["result"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"account.bootstrap"));
    assert!(actions.contains(&"session.create"));
    let created = events
        .iter()
        .find(|e| e["action"] == "user.create")
        .unwrap();
    assert_eq!(created["target"], format!("user:{dev}"));
    assert_eq!(created["actor"]["kind"], "user");
    assert!(!created["request_id"].as_str().unwrap().is_empty());
    let failure = events
        .iter()
        .find(|e| e["action"] == "auth.failure")
        .unwrap();
    assert_eq!(failure["outcome"], "failure");
    assert_eq!(failure["actor"]["id"], "audited");
    assert!(
        !body.to_string().contains("nope-Nope1"),
        "no password in the audit log"
    );
    assert!(!body.to_string().contains(PASSWORD));

    let (_, filtered) = app
        .call(
            "GET",
            "/v1/accounts/1/audit_logs?action=user.create",
            Some(&owner),
            None,
        )
        .await;
    assert!(
        filtered["result"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "user.create")
    );

    let dev_token = app.login(1, "audited", PASSWORD).await;
    let (status, _) = app
        .call("GET", "/v1/accounts/1/audit_logs", Some(&dev_token), None)
        .await;
    assert_eq!(status, 403, "the audit log needs Audit API read");
}

async fn audit_pages_follow_the_cursor(app: TestApp) {
    let owner = app.owner().await;
    for i in 0..5 {
        app.create_user(&owner, &format!("pager{i}"), &[]).await;
    }
    let (_, first) = app
        .call(
            "GET",
            "/v1/accounts/1/audit_logs?per_page=3",
            Some(&owner),
            None,
        )
        .await;
    let cursor = first["result_info"]["cursor"].as_str().unwrap().to_owned();
    let (_, second) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/audit_logs?per_page=3&cursor={cursor}"),
            Some(&owner),
            None,
        )
        .await;
    let ids = |v: &Value| {
        v["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    let (a, b) = (ids(&first), ids(&second));
    assert_eq!(a.len(), 3);
    assert!(
        a.iter().all(|x| b.iter().all(|y| x > y)),
        "{a:?} then {b:?}"
    );
}

e2e!(
    a_developer_is_refused_user_management_and_an_owner_is_not,
    a_deny_policy_beats_a_role_grant_and_the_explanation_names_it,
    an_allow_policy_grants_only_inside_its_scope,
    revocations_take_effect_on_the_next_request,
    a_login_locks_after_five_failures_even_for_the_right_password,
    unknown_login_and_wrong_password_answer_alike,
    mutations_and_failures_are_in_the_audit_log,
    audit_pages_follow_the_cursor
);
