//! Accounts, child accounts, users and access keys over REST: success, not found,
//! cross-account (as not found), forbidden and validation, with nothing changed on refusal.

use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp, e2e};

async fn child_accounts_come_with_their_own_owner_and_keys(app: TestApp) {
    let owner = app.owner().await;
    let creds = app.child_account(&owner).await;
    let id = creds["account_id"].as_i64().unwrap();
    assert_ne!(id, 1);
    assert_eq!(creds["owner"]["login"], "admin");
    assert!(
        creds["access_key"]["token"]
            .as_str()
            .unwrap()
            .starts_with("tsr_")
    );
    assert!(
        creds["service_key"]["private_key"]
            .as_str()
            .unwrap()
            .contains("PRIVATE KEY")
    );
    assert_eq!(creds["service_key"]["account_id"], id);
    let shape: Vec<&String> = creds.as_object().unwrap().keys().collect();
    let file = app.initial_credentials();
    let file_shape: Vec<&String> = file.as_object().unwrap().keys().collect();
    assert_eq!(
        shape, file_shape,
        "the same JSON as initial-credentials.json"
    );

    let child_token = creds["access_key"]["token"].as_str().unwrap().to_owned();
    let (status, body) = app
        .call(
            "GET",
            &format!("/v1/accounts/{id}/users"),
            Some(&child_token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let child_session = app
        .login(id, "admin", creds["owner"]["password"].as_str().unwrap())
        .await;
    assert!(!child_session.is_empty());

    // The parent acts in the child (Manage Enterprise Accounts); the child sees nothing above.
    let (status, _) = app
        .call(
            "GET",
            &format!("/v1/accounts/{id}/users"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200);
    for path in [
        "/v1/accounts/1",
        "/v1/accounts/1/users",
        "/v1/accounts/1/users/1",
        "/v1/accounts/1/keys",
        "/v1/accounts/1/iam/user_groups",
    ] {
        let (status, body) = app.call("GET", path, Some(&child_token), None).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (_, list) = app.call("GET", "/v1/accounts", Some(&owner), None).await;
    let ids: Vec<i64> = list["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, id]);
    let (_, list) = app
        .call("GET", "/v1/accounts", Some(&child_token), None)
        .await;
    assert_eq!(list["result"].as_array().unwrap().len(), 1);

    // Deactivating the child refuses its credentials from the next request.
    let (status, body) = app
        .call(
            "PATCH",
            &format!("/v1/accounts/{id}"),
            Some(&owner),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(
        (status, body["result"]["active"].clone()),
        (200, json!(false)),
        "{body}"
    );
    assert_eq!(
        app.call(
            "GET",
            &format!("/v1/accounts/{id}/users"),
            Some(&child_token),
            None
        )
        .await
        .0,
        401
    );
}

async fn account_settings_are_read_and_changed_with_the_right_permissions(app: TestApp) {
    let owner = app.owner().await;
    let (status, body) = app.call("GET", "/v1/accounts/1", Some(&owner), None).await;
    assert_eq!(
        (status, body["result"]["name"].clone()),
        (200, json!("Tessera"))
    );
    let (status, body) = app
        .call(
            "PATCH",
            "/v1/accounts/1",
            Some(&owner),
            Some(json!({"name": "Acme"})),
        )
        .await;
    assert_eq!(
        (status, body["result"]["name"].clone()),
        (200, json!("Acme"))
    );
    let (status, body) = app
        .call(
            "PATCH",
            "/v1/accounts/1",
            Some(&owner),
            Some(json!({"email": "nope"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app
        .call(
            "PATCH",
            "/v1/accounts/1",
            Some(&owner),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, 400, "an account cannot deactivate itself: {body}");
    app.create_user(&owner, "dev01", &["Developer"]).await;
    let dev = app.login(1, "dev01", PASSWORD).await;
    let (status, _) = app
        .call(
            "PATCH",
            "/v1/accounts/1",
            Some(&dev),
            Some(json!({"name": "Hijacked"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call(
            "POST",
            "/v1/accounts",
            Some(&dev),
            Some(json!({"name": "X", "email": "x@example.com"})),
        )
        .await;
    assert_eq!(status, 403);
    let (_, body) = app.call("GET", "/v1/accounts/1", Some(&owner), None).await;
    assert_eq!(
        body["result"]["name"], "Acme",
        "refused changes changed nothing"
    );
    assert_eq!(body["result"]["active"], true);
}

async fn users_over_rest_from_creation_to_deletion(app: TestApp) {
    let owner = app.owner().await;
    let (status, body) = app
        .call(
            "POST",
            "/v1/accounts/1/users",
            Some(&owner),
            Some(json!({"login": "Carol.K", "password": PASSWORD, "email": "carol@example.com", "phone_number": "+1 555 0100",
                        "description": "ops", "role": "Turnkey Applications Administrator"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let user = &body["result"];
    assert_eq!(user["login"], "carol.k");
    assert_eq!(user["roles"], json!(["Turnkey Applications Administrator"]));
    assert!(user.get("password").is_none());
    let id = user["id"].as_i64().unwrap();
    let path = format!("/v1/accounts/1/users/{id}");
    let (status, body) = app.call("GET", &path, Some(&owner), None).await;
    assert_eq!(
        (status, body["result"]["phone_number"].clone()),
        (200, json!("+1 555 0100"))
    );
    let (status, body) = app
        .call(
            "PATCH",
            &path,
            Some(&owner),
            Some(json!({"status": "inactive", "description": null, "roles": ["Developer"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["status"], "inactive");
    assert_eq!(body["result"]["description"], Value::Null);
    assert_eq!(body["result"]["roles"], json!(["Developer"]));
    let (status, _) = app
        .call("PATCH", &path, Some(&owner), Some(json!({})))
        .await;
    assert_eq!(status, 400, "an empty change");
    let (status, body) = app
        .call(
            "POST",
            "/v1/accounts/1/users",
            Some(&owner),
            Some(json!({"login": "CAROL.K"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        app.call("DELETE", &path, Some(&owner), None).await,
        (
            200,
            json!({"success": true, "errors": [], "messages": [], "result": {"id": id.to_string()}})
        )
    );
    assert_eq!(app.call("GET", &path, Some(&owner), None).await.0, 404);
    assert_eq!(app.call("DELETE", &path, Some(&owner), None).await.0, 404);
}

async fn the_last_owner_stays(app: TestApp) {
    let owner = app.owner().await;
    for (method, body) in [
        ("DELETE", None),
        ("PATCH", Some(json!({"status": "inactive"}))),
        ("PATCH", Some(json!({"roles": ["Administrator"]}))),
    ] {
        let (status, answer) = app
            .call(method, "/v1/accounts/1/users/1", Some(&owner), body)
            .await;
        assert_eq!(status, 409, "{answer}");
    }
    let (_, me) = app
        .call("GET", "/v1/accounts/1/users/1", Some(&owner), None)
        .await;
    assert_eq!(me["result"]["status"], "active");
    assert_eq!(me["result"]["roles"], json!(["Owner", "Administrator"]));
}

async fn access_keys_show_their_secret_once_and_stop_at_two(app: TestApp) {
    let owner = app.owner().await;
    let dev = app.create_user(&owner, "dev01", &["Developer"]).await;
    let dev_token = app.login(1, "dev01", PASSWORD).await;
    let base = format!("/v1/accounts/1/users/{dev}/access_keys");
    let (status, body) = app
        .call(
            "POST",
            &base,
            Some(&dev_token),
            Some(json!({"name": "laptop"})),
        )
        .await;
    assert_eq!(status, 200, "users create their own keys: {body}");
    let key = body["result"].clone();
    assert!(key["secret"].as_str().unwrap().len() >= 40);
    assert_eq!(
        key["token"],
        format!(
            "tsr_{}_{}",
            key["id"].as_str().unwrap(),
            key["secret"].as_str().unwrap()
        )
    );
    let (status, _) = app.call("POST", &base, Some(&owner), None).await;
    assert_eq!(status, 200);
    let (status, body) = app.call("POST", &base, Some(&owner), None).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 2")
    );
    let (_, list) = app.call("GET", &base, Some(&dev_token), None).await;
    assert_eq!(list["result"].as_array().unwrap().len(), 2);
    assert!(
        !list.to_string().contains(key["secret"].as_str().unwrap()),
        "never shown again"
    );
    let one = format!("{base}/{}", key["id"].as_str().unwrap());
    let (status, body) = app.call("GET", &one, Some(&dev_token), None).await;
    assert_eq!((status, body["result"].get("secret")), (200, None));
    // last_used_at is set on use (and written at most once a minute).
    app.call(
        "GET",
        "/v1/accounts/1/iam/roles",
        Some(key["token"].as_str().unwrap()),
        None,
    )
    .await;
    let (status, body) = app
        .call(
            "PATCH",
            &one,
            Some(&dev_token),
            Some(json!({"status": "asleep"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app
        .call(
            "PATCH",
            &one,
            Some(&dev_token),
            Some(json!({"name": "renamed", "status": "inactive"})),
        )
        .await;
    assert_eq!(
        (
            status,
            body["result"]["name"].clone(),
            body["result"]["status"].clone()
        ),
        (200, json!("renamed"), json!("inactive"))
    );
    // Another user's keys: not without API Credentials; another account's: not found.
    app.create_user(&owner, "support1", &["Support"]).await;
    let support = app.login(1, "support1", PASSWORD).await;
    assert_eq!(app.call("GET", &base, Some(&support), None).await.0, 403);
    assert_eq!(app.call("DELETE", &one, Some(&support), None).await.0, 403);
    assert_eq!(
        app.call(
            "GET",
            &format!("/v1/accounts/1/users/{dev}/access_keys/AKZZZZZZZZZZZZZZZZZZ"),
            Some(&owner),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        app.call("DELETE", &one, Some(&dev_token), None).await.0,
        200
    );
    assert_eq!(
        app.call("DELETE", &one, Some(&dev_token), None).await.0,
        404
    );
}

e2e!(
    child_accounts_come_with_their_own_owner_and_keys,
    account_settings_are_read_and_changed_with_the_right_permissions,
    users_over_rest_from_creation_to_deletion,
    the_last_owner_stays,
    access_keys_show_their_secret_once_and_stop_at_two
);
