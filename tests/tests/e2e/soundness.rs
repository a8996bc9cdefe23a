//! Authorization soundness, end to end: one regression test per defect the soundness review
//! found (each failed before the fix), over REST and the method API where both serve the
//! operation.

use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp, Via, e2e, jwt, rpc_code as code, rpc_ok as ok, unix_now};

pub(crate) const USERS: &str = "/v1/accounts/1/users";
const KEYS: &str = "/v1/accounts/1/keys";

pub(crate) fn user_path(id: i64) -> String {
    format!("{USERS}/{id}")
}

/// The description of user `id`, read by the owner.
pub(crate) async fn description(app: &TestApp, owner: &str, id: i64) -> Value {
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

pub(crate) fn fresh_jwt(key: &Value) -> String {
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

/// Found by the escalation hunter: a principal denied a permission on one object still
/// counted as holding it, so it could create a user with a role carrying it, and that user
/// held it on the very object the deny protects.
async fn a_deny_on_one_object_is_not_handed_around(app: TestApp) {
    let owner = app.owner().await;
    let protected = app.create_user(&owner, "protected1", &["Developer"]).await;
    let boss = app.create_user(&owner, "boss01", &["Owner"]).await;
    let session = app.login(1, "boss01", PASSWORD).await;
    let rg = app
        .resource_group(
            &owner,
            &[&format!("com.tessera.api.account.user.{protected}")],
        )
        .await;
    let pg = app.permission_group(&owner, "Role Access Write").await;
    app.group_with_policy(&owner, "deny", &pg, &rg, boss).await;
    let (status, body) = app
        .call(
            "POST",
            USERS,
            Some(&session),
            Some(json!({"login": "puppet1", "password": PASSWORD, "roles": ["Owner"]})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let added = app
        .rpc(
            Some(&session),
            Via::Form,
            "AddSubUser",
            &[
                ("new_subuser_name", "puppet2"),
                ("new_subuser_password", PASSWORD),
                ("role_name", "Owner"),
            ],
        )
        .await;
    assert_eq!(code(&added), 435, "{added}");
    let (_, list) = app.call("GET", USERS, Some(&owner), None).await;
    assert_eq!(list["result_info"]["total_count"], 3);
}

e2e!(
    a_deny_on_one_object_is_not_handed_around,
    taking_over_a_user_needs_everything_it_holds,
    reads_need_read_on_both_apis,
    the_method_api_reads_x_auth_email_and_x_auth_key,
    users_create_their_own_service_keys_on_both_apis,
    a_service_key_is_bounded_by_its_roles_even_towards_its_owner,
    taking_roles_away_is_a_grant_on_both_apis,
    a_developer_cannot_touch_the_bootstrap_key,
    denies_reach_only_principals_the_caller_may_manage,
    role_access_never_widens_what_one_may_grant,
);
