//! Authorization soundness, continued: denies that hide and follow, accounts that deactivate
//! their descendants, credentials that end, changes that apply entirely or not at all, limits
//! that hold under concurrency, and untrusted numbers. One regression test per defect.

use serde_json::{Value, json};
use tessera_tests::{DbBackend, PASSWORD, TestApp, Via, e2e, jwt, rpc_code as code, rpc_ok as ok};

use crate::soundness::{USERS, description, fresh_jwt, user_path};

/// Defect: a deny on an object hid it from single reads only; lists still showed it.
async fn a_deny_hides_a_user_from_every_list(app: TestApp) {
    let owner = app.owner().await;
    let secret = app.create_user(&owner, "secret1", &[]).await;
    let admin_id = app.create_user(&owner, "admin01", &["Admin"]).await;
    let admin = app.login(1, "admin01", PASSWORD).await;
    let rg = app
        .resource_group(&owner, &[&format!("com.tessera.api.account.user.{secret}")])
        .await;
    let pg = app.permission_group(&owner, "User Management Read").await;
    app.group_with_policy(&owner, "deny", &pg, &rg, admin_id)
        .await;
    let (status, list) = app.call("GET", USERS, Some(&admin), None).await;
    assert_eq!(status, 200);
    let ids: Vec<i64> = list["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, admin_id], "{list}");
    assert_eq!(list["result_info"]["total_count"], 2);
    let listed = app.rpc(Some(&admin), Via::Form, "GetSubUsers", &[]).await;
    assert_eq!(listed["total_count"], 2, "{listed}");
    assert!(
        !listed.to_string().contains("secret1"),
        "GetSubUsers: {listed}"
    );
    let one = app
        .rpc(
            Some(&admin),
            Via::Form,
            "GetSubUserRoles",
            &[("subuser_id", &secret.to_string())],
        )
        .await;
    assert_eq!(code(&one), 104);
    assert_eq!(
        app.call("GET", &user_path(secret), Some(&admin), None)
            .await
            .0,
        403
    );
    let (_, all) = app.call("GET", USERS, Some(&owner), None).await;
    assert_eq!(
        all["result_info"]["total_count"], 3,
        "the owner still sees it"
    );
}

/// Defect: a parent account's principal acting in a child ignored its own deny policies.
async fn a_parents_denies_follow_it_into_child_accounts(app: TestApp) {
    let owner = app.owner().await;
    let boss = app.create_user(&owner, "boss01", &["Owner"]).await;
    let session = app.login(1, "boss01", PASSWORD).await;
    let child = app.child_account(&owner).await;
    let child_id = child["account_id"].as_i64().unwrap();
    let rg = app.resource_group(&owner, &["*"]).await;
    let pg = app.permission_group(&owner, "User Management Write").await;
    app.group_with_policy(&owner, "deny", &pg, &rg, boss).await;
    let child_users = format!("/v1/accounts/{child_id}/users");
    assert_eq!(
        app.call("GET", &child_users, Some(&session), None).await.0,
        200,
        "reading is not denied"
    );
    let (status, body) = app
        .call(
            "POST",
            &child_users,
            Some(&session),
            Some(json!({"login": "sneaky", "roles": ["Developer"]})),
        )
        .await;
    assert_eq!(status, 403, "the deny applies in the child too: {body}");
    let (_, list) = app.call("GET", &child_users, Some(&owner), None).await;
    assert_eq!(list["result_info"]["total_count"], 1);
}

/// Defect: deactivating an account left the credentials of its grandchildren working.
async fn deactivating_an_account_refuses_all_its_descendants(app: TestApp) {
    let owner = app.owner().await;
    let child = app.child_account(&owner).await;
    let child_id = child["account_id"].as_i64().unwrap();
    let child_token = child["access_key"]["token"].as_str().unwrap().to_owned();
    let grandchild = app.child_account(&child_token).await;
    let grand_id = grandchild["account_id"].as_i64().unwrap();
    let grand_token = grandchild["access_key"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let grand_users = format!("/v1/accounts/{grand_id}/users");
    assert_eq!(
        app.call("GET", &grand_users, Some(&grand_token), None)
            .await
            .0,
        200
    );
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/v1/accounts/{child_id}"),
            Some(&owner),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.call("GET", &grand_users, Some(&grand_token), None)
            .await
            .0,
        401
    );
    let grand_key = fresh_jwt(&grandchild["service_key"]);
    let answer = app.rpc(Some(&grand_key), Via::Form, "GetRoles", &[]).await;
    assert_eq!(code(&answer), 100);
    let (status, _) = app
        .call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"account_id": grand_id, "login": "admin", "password": grandchild["owner"]["password"]})),
        )
        .await;
    assert_eq!(status, 401);
}

/// Defect: changing or resetting a password left the user's other sessions alive.
async fn a_password_change_ends_the_users_sessions(app: TestApp) {
    let owner = app.owner().await;
    let dev = app.create_user(&owner, "dev01", &["Developer"]).await;
    let first = app.login(1, "dev01", PASSWORD).await;
    let second = app.login(1, "dev01", PASSWORD).await;
    let (status, body) = app
        .call(
            "PATCH",
            &user_path(dev),
            Some(&first),
            Some(json!({"password": "N3w-Password!", "old_password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.call("GET", &user_path(dev), Some(&second), None)
            .await
            .0,
        401
    );
    // An administrator's reset over the method API ends them too.
    let third = app.login(1, "dev01", "N3w-Password!").await;
    let reset = app
        .rpc(
            Some(&app.owner_jwt()),
            Via::Form,
            "SetSubUserInfo",
            &[
                ("subuser_id", &dev.to_string()),
                ("new_subuser_password", "Th1rd-Password!"),
            ],
        )
        .await;
    assert_eq!(ok(&reset), &json!(1));
    assert_eq!(
        app.call("GET", &user_path(dev), Some(&third), None).await.0,
        401
    );
}

/// Defect: a PATCH whose role change was refused had already committed the other fields.
async fn a_refused_patch_changes_nothing(app: TestApp) {
    let owner = app.owner().await;
    let dev = app.create_user(&owner, "dev01", &["Developer"]).await;
    app.create_user(&owner, "admin01", &["Admin"]).await;
    let admin = app.login(1, "admin01", PASSWORD).await;
    let (status, body) = app
        .call(
            "PATCH",
            &user_path(dev),
            Some(&admin),
            Some(
                json!({"description": "changed", "password": "N3w-Password!", "roles": ["Owner"]}),
            ),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(description(&app, &owner, dev).await, Value::Null);
    app.login(1, "dev01", PASSWORD).await;
}

/// Defect: 8 concurrent creators ended above the user limit (the count was read outside the
/// inserting transaction).
async fn concurrent_creators_never_exceed_the_user_limit(backend: DbBackend) {
    const LIMIT: u32 = 25;
    let Some(app) = TestApp::spawn_with(backend, |s| s.limits.max_users_per_account = LIMIT).await
    else {
        return;
    };
    let owner = app.owner().await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let (app, owner) = (app.clone(), owner.clone());
        tasks.push(tokio::spawn(async move {
            let mut made = 0;
            for n in 0..6 {
                let (status, body) = app
                    .call(
                        "POST",
                        USERS,
                        Some(&owner),
                        Some(json!({"login": format!("w{worker}user{n}"), "password": PASSWORD})),
                    )
                    .await;
                match status {
                    200 => made += 1,
                    409 => assert!(body.to_string().contains("at most"), "{body}"),
                    other => panic!("unexpected {other}: {body}"),
                }
            }
            made
        }));
    }
    let mut made = 0;
    for t in tasks {
        made += t.await.unwrap();
    }
    assert_eq!(made, LIMIT - 1, "the owner counts");
    let (_, list) = app.call("GET", USERS, Some(&owner), None).await;
    assert_eq!(list["result_info"]["total_count"], LIMIT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creators_never_exceed_the_user_limit_sqlite() {
    concurrent_creators_never_exceed_the_user_limit(DbBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creators_never_exceed_the_user_limit_postgres() {
    concurrent_creators_never_exceed_the_user_limit(DbBackend::Postgres).await;
}

/// Defect: `iat = i64::MIN`, `exp = i64::MAX - 30` wrapped around into a never-expiring token.
async fn extreme_jwt_times_are_refused(app: TestApp) {
    let key = app.initial_credentials()["service_key"].clone();
    let token = jwt(&key, i64::MIN, i64::MAX - 30);
    let answer = app.rpc(Some(&token), Via::Form, "GetRoles", &[]).await;
    assert_eq!(code(&answer), 454, "{answer}");
    let (status, body) = app.call("GET", USERS, Some(&token), None).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.to_string().contains("lifetime"), "{body}");
}

e2e!(
    a_deny_hides_a_user_from_every_list,
    a_parents_denies_follow_it_into_child_accounts,
    deactivating_an_account_refuses_all_its_descendants,
    a_password_change_ends_the_users_sessions,
    a_refused_patch_changes_nothing,
    extreme_jwt_times_are_refused,
);
