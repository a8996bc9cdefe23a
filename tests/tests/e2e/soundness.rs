//! Authorization soundness, end to end: one regression test per defect the soundness review
//! found (each failed before the fix), over REST and the method API where both serve the
//! operation.

use serde_json::{Value, json};
use tessera_tests::{
    DbBackend, PASSWORD, TestApp, Via, e2e, jwt, rpc_code as code, rpc_ok as ok, unix_now,
};

const USERS: &str = "/v1/accounts/1/users";
const KEYS: &str = "/v1/accounts/1/keys";

fn user_path(id: i64) -> String {
    format!("{USERS}/{id}")
}

/// The description of user `id`, read by the owner.
async fn description(app: &TestApp, owner: &str, id: i64) -> Value {
    let (status, body) = app.call("GET", &user_path(id), Some(owner), None).await;
    assert_eq!(status, 200, "{body}");
    body["result"]["description"].clone()
}

/// A service key the holder of `token` creates for itself; returns its `KeyInfo`.
async fn own_key(app: &TestApp, token: &str, roles: &[&str]) -> Value {
    let (status, body) = app
        .call(
            "POST",
            KEYS,
            Some(token),
            Some(json!({"name": "mine", "roles": roles})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["result"]["credentials"].clone()
}

fn fresh_jwt(key: &Value) -> String {
    let t = unix_now();
    jwt(key, t - 5, t + 60)
}

/// Defect: the method adapter checked its own per-method permission first, and disagreed with
/// the use case (GetSubUsers demanded User Management *write*).
async fn reads_need_read_on_both_apis(app: TestApp) {
    let owner = app.owner().await;
    let target = app.create_user(&owner, "target1", &["Developer"]).await;
    app.create_user(&owner, "reader1", &["User Read"]).await;
    let reader = app.login(1, "reader1", PASSWORD).await;
    assert_eq!(app.call("GET", USERS, Some(&reader), None).await.0, 200);
    let listed = app.rpc(Some(&reader), Via::Form, "GetSubUsers", &[]).await;
    assert_eq!(ok(&listed).as_array().unwrap().len(), 3, "{listed}");
    let id = target.to_string();
    let roles = app
        .rpc(
            Some(&reader),
            Via::Form,
            "GetSubUserRoles",
            &[("subuser_id", &id)],
        )
        .await;
    assert_eq!(ok(&roles)[0]["role_name"], "Developer");
    let write = app
        .rpc(
            Some(&reader),
            Via::Form,
            "DelSubUser",
            &[("subuser_id", &id)],
        )
        .await;
    assert_eq!(code(&write), 104, "writes still need write");
}

/// Defect: the method API ignored Cloudflare's `X-Auth-Email` + `X-Auth-Key`.
async fn the_method_api_reads_x_auth_email_and_x_auth_key(app: TestApp) {
    let owner = app.owner().await;
    let token = app.initial_credentials()["access_key"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, me) = app.call("GET", &user_path(1), Some(&owner), None).await;
    let email = me["result"]["email"].as_str().unwrap().to_owned();
    let answer = app
        .rpc_with_headers(
            &[("X-Auth-Email", &email), ("X-Auth-Key", &token)],
            "GetSubUsers",
            &[],
        )
        .await;
    assert_eq!(ok(&answer).as_array().unwrap().len(), 1, "{answer}");
    let wrong = app
        .rpc_with_headers(
            &[
                ("X-Auth-Email", "someone@else.example"),
                ("X-Auth-Key", &token),
            ],
            "GetSubUsers",
            &[],
        )
        .await;
    assert_eq!(code(&wrong), 100);
}

/// Defect: a user without API Credentials write could create its own access key but not its
/// own service key over `CreateKey`.
async fn users_create_their_own_service_keys_on_both_apis(app: TestApp) {
    let owner = app.owner().await;
    let support = app.create_user(&owner, "support1", &["Support"]).await;
    let session = app.login(1, "support1", PASSWORD).await;
    let created = app
        .rpc(
            Some(&session),
            Via::Form,
            "CreateKey",
            &[("key_name", "rpc"), ("role_name", "Support")],
        )
        .await;
    let key = ok(&created)[0].clone();
    let too_much = app
        .rpc(
            Some(&session),
            Via::Form,
            "CreateKey",
            &[("key_name", "rpc"), ("role_name", "Developer")],
        )
        .await;
    assert_eq!(code(&too_much), 435, "{too_much}");
    own_key(&app, &session, &["Support"]).await;
    let (status, _) = app
        .call(
            "POST",
            KEYS,
            Some(&session),
            Some(json!({"roles": ["Developer"]})),
        )
        .await;
    assert_eq!(status, 403);
    let (_, keys) = app.call("GET", KEYS, Some(&owner), None).await;
    let mine: Vec<&Value> = keys["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["owner_user_id"] == json!(support))
        .collect();
    assert_eq!(mine.len(), 2, "both keys belong to the user: {keys}");
    let deleted = app
        .rpc(
            Some(&session),
            Via::Form,
            "DeleteKey",
            &[("key_id", key["key_id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(ok(&deleted), &json!(1));
}

/// Defect: a service key acted as its owner for self-service (reading it, changing its
/// profile, minting access keys) whatever its own roles.
async fn a_service_key_is_bounded_by_its_roles_even_towards_its_owner(app: TestApp) {
    let owner = app.owner().await;
    let dev = app.create_user(&owner, "dev01", &["Developer"]).await;
    let session = app.login(1, "dev01", PASSWORD).await;
    let bare = fresh_jwt(&own_key(&app, &session, &[]).await);
    let id = dev.to_string();
    for (method, params) in [
        ("GetSubUsers", vec![("subuser_id", id.as_str())]),
        (
            "SetSubUserInfo",
            vec![("subuser_id", id.as_str()), ("description", "by my key")],
        ),
        (
            "SetSubUserInfo",
            vec![
                ("subuser_id", id.as_str()),
                ("old_subuser_password", PASSWORD),
                ("new_subuser_password", "Other-Pass-9!"),
            ],
        ),
    ] {
        let answer = app.rpc(Some(&bare), Via::Form, method, &params).await;
        assert_eq!(code(&answer), 104, "{method}: {answer}");
    }
    for (method, path, body) in [
        ("GET", user_path(dev), None),
        ("PATCH", user_path(dev), Some(json!({"description": "x"}))),
        ("POST", format!("{}/access_keys", user_path(dev)), None),
        (
            "GET",
            format!("{}/effective_permissions", user_path(dev)),
            None,
        ),
    ] {
        let (status, answer) = app.call(method, &path, Some(&bare), body).await;
        assert_eq!(status, 403, "{method} {path}: {answer}");
    }
    assert_eq!(description(&app, &owner, dev).await, Value::Null);
    app.login(1, "dev01", PASSWORD).await;
    // The session itself still does all of it.
    let (status, _) = app
        .call(
            "PATCH",
            &user_path(dev),
            Some(&session),
            Some(json!({"description": "by me"})),
        )
        .await;
    assert_eq!(status, 200);
}

/// Defect: replacing roles checked only the roles added, and managing a user whose Restcomm
/// roles Role Access lists did not need their permissions: an Administrator stripped roles it
/// does not hold; a key's removed roles went unchecked.
async fn taking_roles_away_is_a_grant_on_both_apis(app: TestApp) {
    let owner = app.owner().await;
    let target = app
        .create_user(
            &owner,
            "target1",
            &["Turnkey Applications Developer", "Developer"],
        )
        .await;
    app.create_user(&owner, "admin01", &["Administrator"]).await;
    let admin = app.login(1, "admin01", PASSWORD).await;
    let (status, body) = app
        .call(
            "PATCH",
            &user_path(target),
            Some(&admin),
            Some(json!({"roles": ["Developer"]})),
        )
        .await;
    assert_eq!(
        status, 403,
        "the Administrator does not hold the Turnkey capabilities: {body}"
    );
    let removed = app
        .rpc(
            Some(&admin),
            Via::Form,
            "RemoveSubUserRoles",
            &[
                ("subuser_id", &target.to_string()),
                ("role_name", "Turnkey Applications Developer"),
                ("force", "true"),
            ],
        )
        .await;
    assert_eq!(code(&removed), 104, "{removed}");
    let (_, now) = app
        .call("GET", &user_path(target), Some(&owner), None)
        .await;
    assert_eq!(
        now["result"]["roles"],
        json!(["Developer", "Turnkey Applications Developer"])
    );

    // A Developer may not re-role the bootstrap key (role Owner) down to its own roles.
    app.create_user(&owner, "dev01", &["Developer"]).await;
    let dev = app.login(1, "dev01", PASSWORD).await;
    let boot = app.initial_credentials()["service_key"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = app
        .call(
            "PUT",
            &format!("{KEYS}/{boot}/roles"),
            Some(&dev),
            Some(json!({"roles": ["Developer"]})),
        )
        .await;
    assert_eq!(status, 403);
    let set = app
        .rpc(
            Some(&dev),
            Via::Form,
            "SetKeyRoles",
            &[("key_id", &boot), ("role_name", "Developer")],
        )
        .await;
    assert_eq!(code(&set), 435);
}

/// Defect: a Developer (API Credentials write) could delete or rename the bootstrap key.
async fn a_developer_cannot_touch_the_bootstrap_key(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "dev01", &["Developer"]).await;
    let dev = app.login(1, "dev01", PASSWORD).await;
    let boot = app.initial_credentials()["service_key"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("{KEYS}/{boot}");
    assert_eq!(app.call("DELETE", &path, Some(&dev), None).await.0, 403);
    let (status, _) = app
        .call("PATCH", &path, Some(&dev), Some(json!({"name": "mine"})))
        .await;
    assert_eq!(status, 403);
    let deleted = app
        .rpc(Some(&dev), Via::Form, "DeleteKey", &[("key_id", &boot)])
        .await;
    assert_eq!(code(&deleted), 435);
    let updated = app
        .rpc(
            Some(&dev),
            Via::Form,
            "UpdateKey",
            &[
                ("key_id", &boot),
                ("key_name", "mine"),
                ("description", "mine"),
            ],
        )
        .await;
    assert_eq!(code(&updated), 435);
    // The key still works, unchanged.
    let keys = app
        .rpc(Some(&app.owner_jwt()), Via::Form, "GetKeys", &[])
        .await;
    assert_ne!(ok(&keys)[0]["key_name"], "mine", "{keys}");
}

/// Defect: membership and group changes checked only the allows handed out: anyone with User
/// Management write could put a deny on the Owner, or lift a deny from someone it could not
/// manage.
async fn denies_reach_only_principals_the_caller_may_manage(app: TestApp) {
    let owner = app.owner().await;
    let dev = app.create_user(&owner, "dev01", &["Developer"]).await;
    app.create_user(&owner, "admin01", &["Admin"]).await;
    app.create_user(&owner, "manager1", &["User Manager"]).await;
    let admin = app.login(1, "admin01", PASSWORD).await;
    let manager = app.login(1, "manager1", PASSWORD).await;
    let rg = app.resource_group(&owner, &["*"]).await;
    let pg = app.permission_group(&owner, "Call Logs Read").await;
    let (group, _) = app.group_with_policy(&owner, "deny", &pg, &rg, dev).await;
    let members = format!("/v1/accounts/1/iam/user_groups/{group}/members");

    // Nobody below the Owner puts a deny on the Owner.
    let (status, body) = app
        .call("POST", &members, Some(&admin), Some(json!([{"id": "1"}])))
        .await;
    assert_eq!(status, 403, "{body}");
    // A User Manager cannot lift a deny from a Developer it could not manage.
    let (status, _) = app
        .call("DELETE", &format!("{members}/{dev}"), Some(&manager), None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/v1/accounts/1/iam/user_groups/{group}"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (_, list) = app.call("GET", &members, Some(&owner), None).await;
    let ids: Vec<&Value> = list["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(
        ids,
        vec![&json!(dev.to_string())],
        "nothing changed: {list}"
    );
    // The Admin manages the Developer: it may.
    let (status, _) = app
        .call("DELETE", &format!("{members}/{dev}"), Some(&admin), None)
        .await;
    assert_eq!(status, 200);
}

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

/// Defect: Role Access granted the Turnkey roles to an Administrator that does not hold their
/// Turnkey capabilities (Role Access widened instead of narrowing).
async fn role_access_never_widens_what_one_may_grant(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "admin01", &["Administrator"]).await;
    let admin = app.login(1, "admin01", PASSWORD).await;
    let (status, body) = app
        .call(
            "POST",
            USERS,
            Some(&admin),
            Some(json!({"login": "turnkey1", "roles": ["Turnkey Applications Developer"]})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let added = app
        .rpc(
            Some(&admin),
            Via::Form,
            "AddSubUser",
            &[
                ("new_subuser_name", "turnkey2"),
                ("new_subuser_password", PASSWORD),
                ("role_name", "Turnkey Applications Developer"),
            ],
        )
        .await;
    assert_eq!(code(&added), 435);
    let (_, list) = app.call("GET", USERS, Some(&owner), None).await;
    assert_eq!(list["result_info"]["total_count"], 2);
}

/// Found by the escalation hunter: a user whose allow policies give it more than its roles
/// could be taken over by a caller that manages its roles only (an access key made for it, or
/// its password reset, carries everything it may do).
async fn taking_over_a_user_needs_everything_it_holds(app: TestApp) {
    let owner = app.owner().await;
    let target = app.create_user(&owner, "target1", &[]).await;
    let rg = app.resource_group(&owner, &["*"]).await;
    let pg = app
        .permission_group(&owner, "Manage Enterprise Accounts Read")
        .await;
    app.group_with_policy(&owner, "allow", &pg, &rg, target)
        .await;
    app.create_user(&owner, "admin01", &["Admin"]).await;
    let admin = app.login(1, "admin01", PASSWORD).await;
    let (status, body) = app
        .call(
            "POST",
            &format!("{}/access_keys", user_path(target)),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = app
        .call(
            "PATCH",
            &user_path(target),
            Some(&admin),
            Some(json!({"password": "N3w-Password!"})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let reset = app
        .rpc(
            Some(&admin),
            Via::Form,
            "SetSubUserInfo",
            &[
                ("subuser_id", &target.to_string()),
                ("new_subuser_password", "N3w-Password!"),
            ],
        )
        .await;
    assert_eq!(code(&reset), 104, "{reset}");
    app.login(1, "target1", PASSWORD).await;
    // Its description is still the Admin's to change: that hands nothing over.
    let (status, _) = app
        .call(
            "PATCH",
            &user_path(target),
            Some(&admin),
            Some(json!({"description": "audited"})),
        )
        .await;
    assert_eq!(status, 200);
}

e2e!(
    taking_over_a_user_needs_everything_it_holds,
    reads_need_read_on_both_apis,
    the_method_api_reads_x_auth_email_and_x_auth_key,
    users_create_their_own_service_keys_on_both_apis,
    a_service_key_is_bounded_by_its_roles_even_towards_its_owner,
    taking_roles_away_is_a_grant_on_both_apis,
    a_developer_cannot_touch_the_bootstrap_key,
    denies_reach_only_principals_the_caller_may_manage,
    a_deny_hides_a_user_from_every_list,
    a_parents_denies_follow_it_into_child_accounts,
    deactivating_an_account_refuses_all_its_descendants,
    a_password_change_ends_the_users_sessions,
    a_refused_patch_changes_nothing,
    extreme_jwt_times_are_refused,
    role_access_never_widens_what_one_may_grant,
);
