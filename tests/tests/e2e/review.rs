//! The findings of an adversarial review (a tester who knew only the documentation), one
//! regression test each. The setup of most: an Administrator `A` denied User Management read on
//! a Developer `X` (by a user group the Owner made and put `A` in).

use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp, Via, e2e, jwt, rpc_code as code, unix_now};

const UG: &str = "/v1/accounts/1/iam/user_groups";
const RG: &str = "/v1/accounts/1/iam/resource_groups";

struct Setup {
    owner: String,
    a: String,
    a_id: i64,
    x: i64,
    group: String,
    rg: String,
}

async fn denied(app: &TestApp) -> Setup {
    let owner = app.owner().await;
    let a_id = app.create_user(&owner, "admin01", &["Administrator"]).await;
    let x = app.create_user(&owner, "ceo01", &["Developer"]).await;
    let rg = app
        .resource_group(&owner, &[&format!("com.tessera.api.account.user.{x}")])
        .await;
    let pg = app.permission_group(&owner, "User Management Read").await;
    let (group, _) = app.group_with_policy(&owner, "deny", &pg, &rg, a_id).await;
    let a = app.login(1, "admin01", PASSWORD).await;
    let (status, _) = app
        .call("GET", &format!("/v1/accounts/1/users/{x}"), Some(&a), None)
        .await;
    assert_eq!(status, 403, "the deny holds");
    Setup {
        owner,
        a,
        a_id,
        x,
        group,
        rg,
    }
}

/// F1: the denied principal lifted its own deny (left the group, emptied it, replaced or
/// deleted its policy, narrowed the resource group).
async fn a_denied_principal_cannot_lift_its_own_deny(app: TestApp) {
    let s = denied(&app).await;
    let members = format!("{UG}/{}/members", s.group);
    let allow_pg = app.permission_group(&s.owner, "Call Logs Read").await;
    let attempts: Vec<(&str, String, Option<Value>)> = vec![
        ("DELETE", format!("{members}/{}", s.a_id), None),
        ("PUT", members.clone(), Some(json!([]))),
        (
            "PUT",
            format!("{UG}/{}", s.group),
            Some(
                json!({"policies": [{"access": "allow", "permission_groups": [{"id": allow_pg}], "resource_groups": [{"id": s.rg}]}]}),
            ),
        ),
        (
            "PUT",
            format!("{RG}/{}", s.rg),
            Some(
                json!({"name": "elsewhere", "scope": {"key": "com.tessera.api.account.1", "objects": [{"key": "com.tessera.api.account.user.99999"}]}}),
            ),
        ),
        ("DELETE", format!("{UG}/{}", s.group), None),
    ];
    for (method, path, body) in attempts {
        let (status, answer) = app.call(method, &path, Some(&s.a), body).await;
        assert_eq!(status, 403, "{method} {path}: {answer}");
    }
    let (status, _) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/users/{}", s.x),
            Some(&s.a),
            None,
        )
        .await;
    assert_eq!(status, 403, "the deny still holds");
}

/// F2: the denied principal listed, changed and minted the hidden user's access keys.
async fn a_deny_on_a_user_covers_its_access_keys(app: TestApp) {
    let s = denied(&app).await;
    let keys = format!("/v1/accounts/1/users/{}/access_keys", s.x);
    let (status, _) = app.call("GET", &keys, Some(&s.a), None).await;
    assert_eq!(status, 403);
    let (status, _) = app.call("POST", &keys, Some(&s.a), None).await;
    assert_eq!(status, 403);
    let (_, list) = app.call("GET", &keys, Some(&s.owner), None).await;
    assert_eq!(
        list["result"].as_array().unwrap().len(),
        0,
        "nothing was made"
    );
}

/// F3 and F4: the denied principal moved the hidden user in and out of groups, and handed the
/// hidden user to someone else through a new group.
async fn a_hidden_user_is_neither_moved_nor_handed_on(app: TestApp) {
    let s = denied(&app).await;
    let other_rg = app.resource_group(&s.owner, &["*"]).await;
    let logs = app.permission_group(&s.owner, "Call Logs Read").await;
    let (open_group, _) = app
        .group_with_policy(&s.owner, "allow", &logs, &other_rg, s.a_id)
        .await;
    let members = format!("{UG}/{open_group}/members");
    let (status, _) = app
        .call(
            "POST",
            &members,
            Some(&s.a),
            Some(json!([{"id": s.x.to_string()}])),
        )
        .await;
    assert_eq!(status, 403, "adding the hidden user");
    let (status, body) = app
        .call(
            "POST",
            RG,
            Some(&s.a),
            Some(json!({"name": "just x", "scope": {"key": "com.tessera.api.account.1", "objects": [{"key": format!("com.tessera.api.account.user.{}", s.x)}]}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let rg = body["result"]["id"].as_str().unwrap().to_owned();
    let um_write = app
        .permission_group(&s.owner, "User Management Write")
        .await;
    let (status, body) = app
        .call(
            "POST",
            UG,
            Some(&s.a),
            Some(json!({"name": "hand over", "policies": [{"access": "allow", "permission_groups": [{"id": um_write}], "resource_groups": [{"id": rg}]}]})),
        )
        .await;
    assert_eq!(status, 403, "an allow on what the caller is denied: {body}");
}

/// F5: the explain endpoint and the service-key list showed the hidden user.
async fn a_hidden_user_is_hidden_from_explanations_and_key_owners(app: TestApp) {
    let s = denied(&app).await;
    let x_session = app.login(1, "ceo01", PASSWORD).await;
    let (status, body) = app
        .call(
            "POST",
            "/v1/accounts/1/keys",
            Some(&x_session),
            Some(json!({"name": "x's key"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let key = body["result"]["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .call(
            "POST",
            "/v1/accounts/1/iam/authorize",
            Some(&s.a),
            Some(json!({"principal": {"type": "user", "id": s.x.to_string()}, "capability": "numbers", "level": "write"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, list) = app
        .call("GET", "/v1/accounts/1/keys", Some(&s.a), None)
        .await;
    assert_eq!(status, 200);
    assert!(
        !list.to_string().contains(&key)
            && !list
                .to_string()
                .contains(&format!("\"owner_user_id\":{}", s.x)),
        "{list}"
    );
    let (status, _) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/keys/{key}"),
            Some(&s.a),
            None,
        )
        .await;
    assert_eq!(status, 403);
}

/// F6: a user's own service key (Administrator) set the user's password without the old one.
async fn a_service_key_needs_the_old_password_of_its_owner(app: TestApp) {
    let owner = app.owner().await;
    let s_id = app
        .create_user(&owner, "keyowner", &["Administrator"])
        .await;
    let session = app.login(1, "keyowner", PASSWORD).await;
    let (status, body) = app
        .call(
            "POST",
            "/v1/accounts/1/keys",
            Some(&session),
            Some(json!({"name": "mine", "roles": ["Administrator"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let t = unix_now();
    let key = jwt(&body["result"]["credentials"], t - 5, t + 60);
    let (status, answer) = app
        .call(
            "PATCH",
            &format!("/v1/accounts/1/users/{s_id}"),
            Some(&key),
            Some(json!({"password": "N3w!Passw0rd"})),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    let reset = app
        .rpc(
            Some(&key),
            Via::Form,
            "SetSubUserInfo",
            &[
                ("subuser_id", &s_id.to_string()),
                ("new_subuser_password", "N3w!Passw0rd"),
            ],
        )
        .await;
    assert_eq!(code(&reset), 448, "{reset}");
    app.login(1, "keyowner", PASSWORD).await;
}

/// F7: huge resource groups compiled into every member's decisions grew memory without bound.
async fn policies_name_a_bounded_number_of_objects(app: TestApp) {
    let owner = app.owner().await;
    let objects = |n: usize, from: usize| {
        (from..from + n)
            .map(|i| json!({"key": format!("com.tessera.api.account.user.{i}")}))
            .collect::<Vec<_>>()
    };
    let (status, body) = app
        .call(
            "POST",
            RG,
            Some(&owner),
            Some(json!({"name": "too big", "scope": {"key": "com.tessera.api.account.1", "objects": objects(1001, 0)}})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("at most 1000 objects"), "{body}");
    let mut rgs = Vec::new();
    for n in 0..11 {
        let (status, body) = app
            .call(
                "POST",
                RG,
                Some(&owner),
                Some(json!({"name": format!("big {n}"), "scope": {"key": "com.tessera.api.account.1", "objects": objects(1000, n * 1000)}})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        rgs.push(json!({"id": body["result"]["id"]}));
    }
    let pg = app.permission_group(&owner, "Call Logs Read").await;
    let (status, body) = app
        .call(
            "POST",
            UG,
            Some(&owner),
            Some(json!({"name": "huge", "policies": [{"access": "allow", "permission_groups": [{"id": pg}], "resource_groups": rgs}]})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("at most 10000 objects"), "{body}");
}

e2e!(
    a_denied_principal_cannot_lift_its_own_deny,
    a_deny_on_a_user_covers_its_access_keys,
    a_hidden_user_is_neither_moved_nor_handed_on,
    a_hidden_user_is_hidden_from_explanations_and_key_owners,
    a_service_key_needs_the_old_password_of_its_owner,
    policies_name_a_bounded_number_of_objects,
);
