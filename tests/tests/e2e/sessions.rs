//! Sessions a user can see and end: `GET /v1/sessions`, `DELETE /v1/sessions/{session_id}`,
//! `DELETE /v1/sessions?all=true`, and an administrator's
//! `/v1/accounts/{account_id}/users/{user_id}/sessions` — each against the real server, with
//! the attacker's moves: another user's session, another account's user, a service key, a
//! caller without the permission, malformed ids.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp};

/// Signs `login` (of account `account`) in; its token and session id.
async fn open(app: &TestApp, account: i64, login: &str, password: &str) -> (String, String) {
    let (status, body) = app
        .call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"account_id": account, "login": login, "password": password})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let r = &body["result"];
    assert!(r.get("csrf_token").is_none(), "no cookie asked: {body}");
    (
        r["token"].as_str().unwrap().to_owned(),
        r["session_id"].as_str().unwrap().to_owned(),
    )
}

/// The status of a read made with `token`.
async fn works(app: &TestApp, token: &str) -> u16 {
    app.call("GET", "/v1/sessions", Some(token), None).await.0
}

/// `GET path` with `token`: the listed sessions (200 expected).
async fn listed(app: &TestApp, path: &str, token: &str) -> (Vec<Value>, Value) {
    let (status, body) = app.call("GET", path, Some(token), None).await;
    assert_eq!(status, 200, "{body}");
    (
        body["result"].as_array().unwrap().clone(),
        body["result_info"].clone(),
    )
}

fn by_id<'a>(list: &'a [Value], id: &str) -> &'a Value {
    list.iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {list:?}"))
}

async fn a_user_lists_its_own_sessions_and_sees_which_is_current(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "lister", &["Developer"]).await;
    let (t1, id1) = open(&app, 1, "lister", PASSWORD).await;
    let (t2, id2) = open(&app, 1, "lister", PASSWORD).await;
    let (list, info) = listed(&app, "/v1/sessions", &t1).await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(info["total_count"], 2);
    assert_eq!(list[0]["id"], id2, "newest first");
    assert_eq!(by_id(&list, &id1)["current"], true);
    assert_eq!(by_id(&list, &id2)["current"], false);
    for s in &list {
        assert_eq!(s["method"], "password");
        assert_eq!(s["created_from"], "127.0.0.1");
        assert!(s["created_at"].is_string() && s["expires_at"].is_string());
        assert_eq!(
            s.as_object().unwrap().len(),
            8,
            "no more than documented: {s}"
        );
    }
    let text = serde_json::to_string(&list).unwrap();
    assert!(
        !text.contains(&t1[4..]) && !text.contains(&t2[4..]),
        "no token is listed"
    );
    // The second session's use is recorded (by the maintenance task, in its next round).
    assert_eq!(works(&app, &t2).await, 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (list, _) = listed(&app, "/v1/sessions", &t1).await;
        let s = by_id(&list, &id2);
        if s["last_used_at"].is_string() {
            assert_eq!(s["last_used_from"], "127.0.0.1");
            break;
        }
        assert!(Instant::now() < deadline, "last use never recorded: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Pages.
    let (page, info) = listed(&app, "/v1/sessions?per_page=1&page=2", &t1).await;
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["id"], id1);
    assert_eq!(
        (&info["page"], &info["per_page"], &info["total_count"]),
        (&json!(2), &json!(1), &json!(2))
    );
    for bad in ["per_page=0", "per_page=1001", "page=0", "page=x"] {
        let (status, body) = app
            .call("GET", &format!("/v1/sessions?{bad}"), Some(&t1), None)
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    // The owner's own sessions are not the user's.
    let (mine, _) = listed(&app, "/v1/sessions", &owner).await;
    assert!(mine.iter().all(|s| s["id"] != id1 && s["id"] != id2));
    assert_eq!(app.call("GET", "/v1/sessions", None, None).await.0, 401);
}

async fn a_user_ends_one_of_its_sessions_and_never_anothers(app: TestApp) {
    let owner = app.owner().await;
    let (_, owner_session) = {
        let password = app.initial_credentials()["owner"]["password"]
            .as_str()
            .unwrap()
            .to_owned();
        open(&app, 1, "admin", &password).await
    };
    app.create_user(&owner, "ender", &[]).await;
    let (t1, _) = open(&app, 1, "ender", PASSWORD).await;
    let (t2, id2) = open(&app, 1, "ender", PASSWORD).await;
    let path = format!("/v1/sessions/{id2}");
    let (status, body) = app.call("DELETE", &path, Some(&t1), None).await;
    assert_eq!(
        (status, &body["result"]["id"]),
        (200, &json!(id2)),
        "{body}"
    );
    assert_eq!(works(&app, &t2).await, 401, "ended");
    assert_eq!(works(&app, &t1).await, 200, "the other stays");
    let (status, body) = app.call("DELETE", &path, Some(&t1), None).await;
    assert_eq!(status, 404, "ended once: {body}");
    // Another user's session is not found, and stays.
    let (status, body) = app
        .call(
            "DELETE",
            &format!("/v1/sessions/{owner_session}"),
            Some(&t1),
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let (owner_list, _) = listed(&app, "/v1/sessions", &owner).await;
    assert!(owner_list.iter().any(|s| s["id"] == owner_session));
    for malformed in ["xyz", "00112233445566778899aabbccddeeff00", "%00", "..%2F"] {
        let (status, _) = app
            .call(
                "DELETE",
                &format!("/v1/sessions/{malformed}"),
                Some(&t1),
                None,
            )
            .await;
        assert_eq!(status, 404, "{malformed}");
    }
    let events = app.audit_events(&owner, "session.delete").await;
    assert!(
        events
            .iter()
            .any(|e| e["details"]["session_id"] == id2 && e["target"].as_str().is_some()),
        "{events:?}"
    );
    // Ending one's current session by id is signing out.
    let (_, id1) = by_id_current(&app, &t1).await;
    assert_eq!(
        app.call("DELETE", &format!("/v1/sessions/{id1}"), Some(&t1), None)
            .await
            .0,
        200
    );
    assert_eq!(works(&app, &t1).await, 401);
}

/// The current session's entry in the listing `token` gets.
async fn by_id_current(app: &TestApp, token: &str) -> (Value, String) {
    let (list, _) = listed(app, "/v1/sessions", token).await;
    let current = list
        .into_iter()
        .find(|s| s["current"] == true)
        .expect("a current session");
    let id = current["id"].as_str().unwrap().to_owned();
    (current, id)
}

async fn signing_out_everywhere_ends_every_session_of_the_user(app: TestApp) {
    let owner = app.owner().await;
    let user = app.create_user(&owner, "everywhere", &[]).await;
    let sessions = [
        open(&app, 1, "everywhere", PASSWORD).await,
        open(&app, 1, "everywhere", PASSWORD).await,
        open(&app, 1, "everywhere", PASSWORD).await,
    ];
    let (status, body) = app
        .call(
            "DELETE",
            "/v1/sessions?all=maybe",
            Some(&sessions[0].0),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(works(&app, &sessions[0].0).await, 200, "nothing ended");
    let (status, body) = app
        .call(
            "DELETE",
            "/v1/sessions?all=true",
            Some(&sessions[0].0),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], json!({"id": sessions[0].1, "ended": 3}));
    for (token, _) in &sessions {
        assert_eq!(works(&app, token).await, 401);
    }
    assert_eq!(works(&app, &owner).await, 200, "another user's stays");

    // Through the user's own access key: its sessions are its own.
    let (status, made) = app
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{user}/access_keys"),
            Some(&owner),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let key = made["result"]["token"].as_str().unwrap().to_owned();
    let (a, _) = open(&app, 1, "everywhere", PASSWORD).await;
    let (b, _) = open(&app, 1, "everywhere", PASSWORD).await;
    let (list, _) = listed(&app, "/v1/sessions", &key).await;
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|s| s["current"] == false));
    let (status, body) = app.call("DELETE", "/v1/sessions", Some(&key), None).await;
    assert_eq!(status, 404, "an access key is no session: {body}");
    let (status, body) = app
        .call("DELETE", "/v1/sessions?all=true", Some(&key), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], json!({"id": null, "ended": 2}));
    assert_eq!(works(&app, &a).await, 401);
    assert_eq!(works(&app, &b).await, 401);
    assert_eq!(works(&app, &key).await, 200, "the key stays");

    // A service key has no sessions of its own, and ends none.
    let jwt = app.owner_jwt();
    let (list, info) = listed(&app, "/v1/sessions", &jwt).await;
    assert!(list.is_empty());
    assert_eq!(info["total_count"], 0);
    let (owner_current, owner_id) = by_id_current(&app, &owner).await;
    assert_eq!(owner_current["current"], true);
    for (method, path) in [
        ("DELETE", format!("/v1/sessions/{owner_id}")),
        ("DELETE", "/v1/sessions?all=true".to_owned()),
        ("DELETE", "/v1/sessions".to_owned()),
    ] {
        let (status, body) = app.call(method, &path, Some(&jwt), None).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    assert_eq!(works(&app, &owner).await, 200);
    let events = app.audit_events(&owner, "session.delete_all").await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e["target"] == format!("user:{user}")));
}

async fn an_administrator_lists_and_ends_another_users_sessions(app: TestApp) {
    let owner = app.owner().await;
    let owner_id = app.initial_credentials()["owner"]["user_id"]
        .as_i64()
        .unwrap();
    let user = app.create_user(&owner, "managed", &["Developer"]).await;
    app.create_user(&owner, "bystander", &["Developer"]).await;
    app.create_user(&owner, "reader", &["User Read"]).await;
    let (ta, ida) = open(&app, 1, "managed", PASSWORD).await;
    let (tb, idb) = open(&app, 1, "managed", PASSWORD).await;
    let base = format!("/v1/accounts/1/users/{user}/sessions");
    let (list, info) = listed(&app, &base, &owner).await;
    assert_eq!(info["total_count"], 2);
    assert!(list.iter().all(|s| s["current"] == false));
    assert_eq!(list[0]["id"], idb);

    // Without User Management write: refused, nothing ended.
    for login in ["bystander", "reader"] {
        let (t, _) = open(&app, 1, login, PASSWORD).await;
        for (method, path) in [
            ("GET", base.clone()),
            ("DELETE", base.clone()),
            ("DELETE", format!("{base}/{ida}")),
        ] {
            let (status, body) = app.call(method, &path, Some(&t), None).await;
            assert_eq!(status, 403, "{login}: {method} {path}: {body}");
        }
    }
    assert_eq!(works(&app, &ta).await, 200);

    // Another user's session under this user: not found, and it stays.
    let (_, owner_session) = by_id_current(&app, &owner).await;
    let (status, body) = app
        .call(
            "DELETE",
            &format!("{base}/{owner_session}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(works(&app, &owner).await, 200);
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/v1/accounts/1/users/{owner_id}/sessions/{ida}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 404, "the user's session under another user");
    assert_eq!(works(&app, &ta).await, 200);

    // One, then all.
    let (status, body) = app
        .call("DELETE", &format!("{base}/{ida}"), Some(&owner), None)
        .await;
    assert_eq!(
        (status, &body["result"]["id"]),
        (200, &json!(ida)),
        "{body}"
    );
    assert_eq!(works(&app, &ta).await, 401);
    assert_eq!(works(&app, &tb).await, 200);
    let (status, body) = app.call("DELETE", &base, Some(&owner), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], json!({"ended": 1}));
    assert_eq!(works(&app, &tb).await, 401);
    assert_eq!(
        works(&app, &owner).await,
        200,
        "the administrator's own stays"
    );
    let events = app.audit_events(&owner, "session.delete").await;
    assert!(events.iter().any(|e| e["details"]["session_id"] == ida
        && e["actor"]["id"] == json!(owner_id.to_string())
        && e["target"] == format!("user:{user}")));

    // Unknown users, malformed ids.
    for path in [
        "/v1/accounts/1/users/999999/sessions".to_owned(),
        format!("{base}/not-an-id"),
        "/v1/accounts/1/users/x/sessions".to_owned(),
    ] {
        let (status, body) = app.call("DELETE", &path, Some(&owner), None).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
}

async fn another_accounts_users_and_sessions_are_not_found(app: TestApp) {
    let owner = app.owner().await;
    let user = app.create_user(&owner, "parented", &[]).await;
    let (t, id) = open(&app, 1, "parented", PASSWORD).await;
    let child = app.child_account(&owner).await;
    let child_id = child["account_id"].as_i64().unwrap();
    let child_owner_id = child["owner"]["user_id"].as_i64().unwrap();
    let child_password = child["owner"]["password"].as_str().unwrap().to_owned();
    let (child_owner, child_session) = open(&app, child_id, "admin", &child_password).await;
    // The child's owner cannot see account 1: every route answers 404, nothing ends.
    for (method, path) in [
        ("GET", format!("/v1/accounts/1/users/{user}/sessions")),
        ("DELETE", format!("/v1/accounts/1/users/{user}/sessions")),
        (
            "DELETE",
            format!("/v1/accounts/1/users/{user}/sessions/{id}"),
        ),
        ("DELETE", format!("/v1/sessions/{id}")),
    ] {
        let (status, body) = app.call(method, &path, Some(&child_owner), None).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
    }
    assert_eq!(works(&app, &t).await, 200);
    // Account 1's owner naming the child's user under account 1: not found.
    for (method, path) in [
        (
            "GET",
            format!("/v1/accounts/1/users/{child_owner_id}/sessions"),
        ),
        (
            "DELETE",
            format!("/v1/accounts/1/users/{child_owner_id}/sessions"),
        ),
        (
            "DELETE",
            format!("/v1/accounts/1/users/{child_owner_id}/sessions/{child_session}"),
        ),
    ] {
        let (status, body) = app.call(method, &path, Some(&owner), None).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
    }
    assert_eq!(works(&app, &child_owner).await, 200);
}

tessera_tests::e2e!(
    a_user_lists_its_own_sessions_and_sees_which_is_current,
    a_user_ends_one_of_its_sessions_and_never_anothers,
    signing_out_everywhere_ends_every_session_of_the_user,
    an_administrator_lists_and_ends_another_users_sessions,
    another_accounts_users_and_sessions_are_not_found
);
