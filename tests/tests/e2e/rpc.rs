//! The method API end to end: all 16 RoleSystem methods over every transport, every error code
//! of the spec, and service-key JWTs signed with the key `CreateKey` returned.

use serde_json::{Value, json};
use tessera_tests::{DbBackend, PASSWORD, TestApp, Via, e2e, jwt};

fn now() -> i64 {
    tessera_tests::unix_now()
}

fn code(v: &Value) -> i64 {
    tessera_tests::rpc_code(v)
}

fn ok(v: &Value) -> &Value {
    tessera_tests::rpc_ok(v)
}

/// The bootstrap service key's JWT (role Owner).
fn owner_jwt(app: &TestApp) -> String {
    app.owner_jwt()
}

async fn every_method_works_over_every_transport(app: TestApp) {
    let token = owner_jwt(&app);
    let t = Some(token.as_str());
    for (i, via) in Via::ALL.into_iter().enumerate() {
        let login = format!("user{i}x");
        let added = app
            .rpc(
                t,
                via,
                "AddSubUser",
                &[
                    ("new_subuser_name", &login),
                    ("new_subuser_password", PASSWORD),
                    ("role_name", "Developer"),
                    ("description", "tour"),
                ],
            )
            .await;
        let id = ok(&added)["subuser_id"].as_i64().unwrap().to_string();

        let users = app
            .rpc(
                t,
                via,
                "GetSubUsers",
                &[("with_roles", "True"), ("count", "50")],
            )
            .await;
        let me = ok(&users)
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["subuser_name"] == login.as_str())
            .unwrap()
            .clone();
        assert_eq!(me["roles"][0]["role_name"], "Developer");
        assert_eq!(me["description"], "tour");
        assert!(users["total_count"].as_i64().unwrap() >= 2);
        let one = app.rpc(t, via, "GetSubUsers", &[("subuser_id", &id)]).await;
        assert_eq!(
            (one["count"].as_i64(), ok(&one)[0].get("roles")),
            (Some(1), None)
        );

        ok(&app
            .rpc(
                t,
                via,
                "SetSubUserInfo",
                &[
                    ("subuser_id", &id),
                    ("description", "changed"),
                    ("new_subuser_password", "N3w-Password!"),
                ],
            )
            .await);
        ok(&app
            .rpc(
                t,
                via,
                "SetSubUserRoles",
                &[("subuser_id", &id), ("role_id", "11;4")],
            )
            .await);
        let roles = app
            .rpc(
                t,
                via,
                "GetSubUserRoles",
                &[("subuser_id", &id), ("with_expanded_roles", "1")],
            )
            .await;
        let names: Vec<&str> = ok(&roles)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["role_name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"User Read") && names.contains(&"Support"),
            "{names:?}"
        );
        let inherited = ok(&roles)
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["role_name"] == "User Read")
            .unwrap();
        assert_eq!(
            (
                inherited["inherited"].as_bool(),
                inherited["parent_role_id"].as_i64()
            ),
            (Some(true), Some(11))
        );
        ok(&app
            .rpc(
                t,
                via,
                "RemoveSubUserRoles",
                &[("subuser_id", &id), ("role_name", "Support")],
            )
            .await);

        let created = app
            .rpc(
                t,
                via,
                "CreateKey",
                &[("key_name", &format!("k{i}")), ("role_name", "Developer")],
            )
            .await;
        let key = ok(&created)[0].clone();
        assert_eq!(key["account_id"], 1);
        assert_eq!(key["account_email"], "owner@tessera.local");
        assert!(
            key["private_key"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        let key_id = key["key_id"].as_str().unwrap().to_owned();
        ok(&app
            .rpc(
                t,
                via,
                "UpdateKey",
                &[
                    ("key_id", &key_id),
                    ("description", "d"),
                    ("key_name", "renamed"),
                ],
            )
            .await);
        ok(&app
            .rpc(
                t,
                via,
                "SetKeyRoles",
                &[("key_id", &key_id), ("role_id", "3;4")],
            )
            .await);
        ok(&app
            .rpc(
                t,
                via,
                "RemoveKeyRoles",
                &[("key_id", &key_id), ("role_id", "4")],
            )
            .await);
        let key_roles = app.rpc(t, via, "GetKeyRoles", &[("key_id", &key_id)]).await;
        assert_eq!(
            ok(&key_roles),
            &json!([{"role_id": 3, "role_name": "Developer", "gui_only": false}])
        );
        let keys = app
            .rpc(
                t,
                via,
                "GetKeys",
                &[("key_id", &key_id), ("with_roles", "true")],
            )
            .await;
        let view = &ok(&keys)[0];
        assert_eq!(
            (view["key_name"].as_str(), view["description"].as_str()),
            (Some("renamed"), Some("d"))
        );
        assert!(
            view.get("private_key").is_none(),
            "the private key is never shown again"
        );
        ok(&app.rpc(t, via, "DeleteKey", &[("key_id", &key_id)]).await);

        let all = app.rpc(t, via, "GetRoles", &[]).await;
        assert_eq!(ok(&all).as_array().unwrap().len(), 19);
        let restcomm = app
            .rpc(t, via, "GetRoles", &[("group_name", "Restcomm")])
            .await;
        assert_eq!(ok(&restcomm).as_array().unwrap().len(), 4);
        let groups = app.rpc(t, via, "GetRoleGroups", &[]).await;
        assert_eq!(ok(&groups)[0], json!({"id": 1, "name": "Account"}));

        ok(&app.rpc(t, via, "DelSubUser", &[("subuser_id", &id)]).await);
        assert_eq!(
            code(&app.rpc(t, via, "GetSubUsers", &[("subuser_id", &id)]).await),
            434
        );
    }
}

async fn a_jwt_from_create_key_works_until_the_key_is_deleted(app: TestApp) {
    let owner = owner_jwt(&app);
    let created = app
        .rpc(
            Some(&owner),
            Via::Form,
            "CreateKey",
            &[("role_name", "Developer")],
        )
        .await;
    let key = ok(&created)[0].clone();
    let t = now();
    let token = jwt(&key, t - 5, t + 24);
    let keys = app.rpc(Some(&token), Via::Form, "GetKeys", &[]).await;
    assert!(
        ok(&keys)
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["key_id"] == key["key_id"])
    );
    ok(&app
        .rpc(
            Some(&owner),
            Via::Form,
            "DeleteKey",
            &[("key_id", key["key_id"].as_str().unwrap())],
        )
        .await);
    assert_eq!(
        code(&app.rpc(Some(&token), Via::Form, "GetKeys", &[]).await),
        100,
        "the very next call"
    );
}

async fn a_key_without_roles_reaches_only_the_basic_methods(app: TestApp) {
    let owner = owner_jwt(&app);
    let created = app
        .rpc(
            Some(&owner),
            Via::Form,
            "CreateKey",
            &[("key_name", "bare")],
        )
        .await;
    let key = ok(&created)[0].clone();
    let t = now();
    let bare = jwt(&key, t, t + 60);
    ok(&app.rpc(Some(&bare), Via::Form, "GetRoles", &[]).await);
    ok(&app.rpc(Some(&bare), Via::Form, "GetRoleGroups", &[]).await);
    let own = app.rpc(Some(&bare), Via::Form, "GetKeys", &[]).await;
    assert_eq!(
        ok(&own).as_array().unwrap().len(),
        1,
        "only its own key: {own}"
    );
    assert_eq!(ok(&own)[0]["key_id"], key["key_id"]);
    assert_eq!(
        code(&app.rpc(Some(&bare), Via::Form, "GetSubUsers", &[]).await),
        104
    );
    assert_eq!(
        code(&app.rpc(Some(&bare), Via::Form, "CreateKey", &[]).await),
        104
    );
}

async fn legacy_account_id_and_api_key_authenticate(app: TestApp) {
    let creds = app.initial_credentials();
    let token = creds["access_key"]["token"].as_str().unwrap();
    let v = app
        .rpc(
            None,
            Via::Form,
            "GetSubUsers",
            &[("account_id", "1"), ("api_key", token)],
        )
        .await;
    assert_eq!(ok(&v).as_array().unwrap()[0]["subuser_name"], "admin");
    let v = app
        .rpc(
            None,
            Via::Query,
            "GetRoleGroups",
            &[("account_name", "Tessera"), ("api_key", token)],
        )
        .await;
    ok(&v);
    let v = app
        .rpc(
            None,
            Via::Form,
            "GetSubUsers",
            &[("account_id", "2"), ("api_key", token)],
        )
        .await;
    assert_eq!(code(&v), 100);
}

/// An expected code, a token, a method and its parameters.
type Case<'a> = (i64, Option<&'a str>, &'a str, Vec<(&'a str, &'a str)>);

/// Each error code of the spec, with the request that provokes it; every rejected change leaves
/// the data as it was.
async fn every_error_code_of_the_spec(app: TestApp) {
    let owner = owner_jwt(&app);
    let o = Some(owner.as_str());
    let add = |login: &'static str, password: &'static str| {
        vec![
            ("new_subuser_name", login),
            ("new_subuser_password", password),
        ]
    };
    let dev_id = ok(&app
        .rpc(
            o,
            Via::Form,
            "AddSubUser",
            &[
                ("new_subuser_name", "dev01"),
                ("new_subuser_password", PASSWORD),
                ("role_name", "Developer"),
            ],
        )
        .await)["subuser_id"]
        .to_string();
    let _admin_id = ok(&app
        .rpc(
            o,
            Via::Form,
            "AddSubUser",
            &[
                ("new_subuser_name", "admin2"),
                ("new_subuser_password", PASSWORD),
                ("role_name", "Administrator"),
            ],
        )
        .await)["subuser_id"]
        .to_string();
    let dev = app.login(1, "dev01", PASSWORD).await;
    let admin = app.login(1, "admin2", PASSWORD).await;
    let t = now();
    let key = app.initial_credentials()["service_key"].clone();

    let cases: Vec<Case<'_>> = vec![
        (100, None, "GetRoles", vec![]),
        (
            100,
            Some("tsr_AKAAAAAAAAAAAAAAAAAA_nope"),
            "GetRoles",
            vec![],
        ),
        (101, o, "DelSubUser", vec![("subuser_id", "abc")]),
        (101, o, "GetSubUsers", vec![("with_roles", "maybe")]),
        (
            101,
            o,
            "SetKeyRoles",
            vec![("key_id", "not-a-uuid"), ("role_id", "3")],
        ),
        (103, o, "NoSuchMethod", vec![]),
        (104, Some(&dev), "AddSubUser", add("sneaky1", PASSWORD)),
        (134, o, "AddSubUser", vec![("new_subuser_name", "someone")]),
        (
            134,
            o,
            "AddSubUser",
            vec![("new_subuser_name", ""), ("new_subuser_password", PASSWORD)],
        ),
        (
            134,
            o,
            "SetKeyRoles",
            vec![("key_id", "0b5d2c7e-1f7a-4c5e-9d42-6a3b2f1e0c9d")],
        ),
        (
            433,
            o,
            "DeleteKey",
            vec![("key_id", "0b5d2c7e-1f7a-4c5e-9d42-6a3b2f1e0c9d")],
        ),
        (434, o, "DelSubUser", vec![("subuser_id", "9999")]),
        (
            435,
            Some(&admin),
            "AddSubUser",
            vec![
                ("new_subuser_name", "owner2"),
                ("new_subuser_password", PASSWORD),
                ("role_name", "Owner"),
            ],
        ),
        (436, o, "AddSubUser", add("DEV01", PASSWORD)),
        (
            440,
            o,
            "AddSubUser",
            vec![
                ("new_subuser_name", "someone"),
                ("new_subuser_password", PASSWORD),
                ("role_id", "999"),
            ],
        ),
        (
            441,
            o,
            "AddSubUser",
            vec![
                ("new_subuser_name", "someone"),
                ("new_subuser_password", PASSWORD),
                ("role_name", "Root"),
            ],
        ),
        (
            449,
            o,
            "AddSubUser",
            vec![
                ("new_subuser_name", "someone"),
                ("new_subuser_password", PASSWORD),
                ("role_id", "3"),
                ("role_name", "Developer"),
            ],
        ),
        (
            448,
            Some(&dev),
            "SetSubUserInfo",
            vec![
                ("subuser_id", &dev_id),
                ("new_subuser_password", "N3w-Password!"),
            ],
        ),
        (452, o, "AddSubUser", add("abc", PASSWORD)),
        (453, o, "AddSubUser", add("1abcdef", PASSWORD)),
        (523, o, "AddSubUser", add("weakling", "password")),
        (524, o, "AddSubUser", add("spacey1", "Pass word1!")),
        (447, Some("garbage"), "GetRoles", vec![]),
    ];
    for (expected, token, method, params) in &cases {
        let v = app.rpc(*token, Via::Form, method, params).await;
        assert_eq!(code(&v), *expected, "{method} {params:?}: {v}");
        assert!(!v["error"]["msg"].as_str().unwrap().is_empty());
    }
    // 101 and 134 name the parameter.
    let v = app
        .rpc(o, Via::Form, "DelSubUser", &[("subuser_id", "abc")])
        .await;
    assert!(
        v["error"]["msg"].as_str().unwrap().contains("subuser_id"),
        "{v}"
    );
    let v = app
        .rpc(
            o,
            Via::Form,
            "AddSubUser",
            &[("new_subuser_name", "someone")],
        )
        .await;
    assert!(
        v["error"]["msg"]
            .as_str()
            .unwrap()
            .contains("new_subuser_password"),
        "{v}"
    );

    // The token rules (454, 455, 456).
    for (expected, iat, exp) in [
        (454, t, t + 3601),
        (455, t + 120, t + 180),
        (456, t - 600, t - 300),
    ] {
        let v = app
            .rpc(Some(&jwt(&key, iat, exp)), Via::Form, "GetRoles", &[])
            .await;
        assert_eq!(code(&v), expected);
    }

    // 102: no cmd at all.
    let res = app
        .client
        .post(app.url("/platform_api"))
        .bearer_auth(&owner)
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(code(&res.json::<Value>().await.unwrap()), 102);

    // Nothing was created or changed by the refused calls.
    let users = app
        .rpc(o, Via::Form, "GetSubUsers", &[("with_roles", "1")])
        .await;
    let names: Vec<&str> = ok(&users)
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["subuser_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["admin", "dev01", "admin2"]);
    assert_eq!(
        app.login(1, "dev01", PASSWORD).await.len(),
        44,
        "the password did not change"
    );
}

async fn removing_roles_held_by_a_subusers_key_needs_force(app: TestApp) {
    let owner = owner_jwt(&app);
    let o = Some(owner.as_str());
    let id = ok(&app
        .rpc(
            o,
            Via::Form,
            "AddSubUser",
            &[
                ("new_subuser_name", "keyholder"),
                ("new_subuser_password", PASSWORD),
                ("role_name", "Developer"),
            ],
        )
        .await)["subuser_id"]
        .to_string();
    let session = app.login(1, "keyholder", PASSWORD).await;
    let created = app
        .rpc(
            Some(&session),
            Via::Form,
            "CreateKey",
            &[("role_name", "Developer")],
        )
        .await;
    let key_id = ok(&created)[0]["key_id"].as_str().unwrap().to_owned();
    let keys = app
        .rpc(o, Via::Form, "GetKeys", &[("key_id", &key_id)])
        .await;
    assert_eq!(
        ok(&keys)[0]["subuser"][0]["subuser_name"],
        "keyholder",
        "a subuser's key belongs to it"
    );
    let v = app
        .rpc(
            o,
            Via::Form,
            "RemoveSubUserRoles",
            &[("subuser_id", &id), ("role_name", "Developer")],
        )
        .await;
    assert_eq!(code(&v), 439);
    let roles = app
        .rpc(o, Via::Form, "GetSubUserRoles", &[("subuser_id", &id)])
        .await;
    assert_eq!(ok(&roles).as_array().unwrap().len(), 1, "nothing removed");
    ok(&app
        .rpc(
            o,
            Via::Form,
            "RemoveSubUserRoles",
            &[
                ("subuser_id", &id),
                ("role_name", "Developer"),
                ("force", "True"),
            ],
        )
        .await);
    let key_roles = app
        .rpc(o, Via::Form, "GetKeyRoles", &[("key_id", &key_id)])
        .await;
    assert_eq!(ok(&key_roles), &json!([]), "force strips the key too");
}

async fn a_subuser_changes_its_own_password_with_the_old_one(app: TestApp) {
    let owner = owner_jwt(&app);
    let id = ok(&app
        .rpc(
            Some(&owner),
            Via::Form,
            "AddSubUser",
            &[
                ("new_subuser_name", "selfie"),
                ("new_subuser_password", PASSWORD),
            ],
        )
        .await)["subuser_id"]
        .to_string();
    let session = app.login(1, "selfie", PASSWORD).await;
    let v = app
        .rpc(
            Some(&session),
            Via::Form,
            "SetSubUserInfo",
            &[
                ("subuser_id", &id),
                ("old_subuser_password", "Wr0ng-old!"),
                ("new_subuser_password", "N3w-Password!"),
            ],
        )
        .await;
    assert_eq!(code(&v), 101);
    ok(&app
        .rpc(
            Some(&session),
            Via::Form,
            "SetSubUserInfo",
            &[
                ("subuser_id", &id),
                ("old_subuser_password", PASSWORD),
                ("new_subuser_password", "N3w-Password!"),
            ],
        )
        .await);
    app.login(1, "selfie", "N3w-Password!").await;
}

async fn the_key_limit_answers_437(app: TestApp) {
    let owner = owner_jwt(&app);
    // The bootstrap key counts: nine more reach the limit of ten.
    for _ in 0..9 {
        ok(&app.rpc(Some(&owner), Via::Form, "CreateKey", &[]).await);
    }
    assert_eq!(
        code(&app.rpc(Some(&owner), Via::Form, "CreateKey", &[]).await),
        437
    );
    let keys = app.rpc(Some(&owner), Via::Form, "GetKeys", &[]).await;
    assert_eq!(keys["total_count"], 10);
}

async fn the_address_locks_after_fifty_failures(app: TestApp) {
    for _ in 0..50 {
        let v = app
            .rpc(
                None,
                Via::Form,
                "GetRoles",
                &[
                    ("account_id", "1"),
                    ("api_key", "tsr_AKAAAAAAAAAAAAAAAAAA_nope"),
                ],
            )
            .await;
        assert_eq!(code(&v), 100);
    }
    let v = app
        .rpc(Some(&owner_jwt(&app)), Via::Form, "GetRoles", &[])
        .await;
    assert_eq!(code(&v), 340, "even a good credential from that address");
}

/// No parameter takes a NUL character (Postgres could not store one): 101 naming it, whatever
/// the transport, and nothing is created.
async fn nul_characters_are_refused_on_every_transport(app: TestApp) {
    let owner = owner_jwt(&app);
    for via in [Via::Form, Via::Query, Via::Path, Via::Multipart] {
        let answer = app
            .rpc(
                Some(&owner),
                via,
                "AddSubUser",
                &[
                    ("new_subuser_name", "nulls01"),
                    ("new_subuser_password", PASSWORD),
                    ("description", "a\0b"),
                ],
            )
            .await;
        assert_eq!(code(&answer), 101, "{via:?}: {answer}");
        let msg = answer["error"]["msg"].as_str().unwrap();
        assert!(
            msg.contains("description") && msg.contains("NUL"),
            "{via:?}: {msg}"
        );
    }
    let users = app.rpc(Some(&owner), Via::Form, "GetSubUsers", &[]).await;
    assert!(
        !ok(&users)
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["subuser_name"] == "nulls01"),
        "{users}"
    );
}

e2e!(
    every_method_works_over_every_transport,
    nul_characters_are_refused_on_every_transport,
    a_jwt_from_create_key_works_until_the_key_is_deleted,
    a_key_without_roles_reaches_only_the_basic_methods,
    legacy_account_id_and_api_key_authenticate,
    every_error_code_of_the_spec,
    removing_roles_held_by_a_subusers_key_needs_force,
    a_subuser_changes_its_own_password_with_the_old_one,
    the_key_limit_answers_437,
    the_address_locks_after_fifty_failures
);

/// 438 needs a small user limit.
#[tokio::test]
async fn the_subuser_limit_answers_438() {
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| s.limits.max_users_per_account = 2)
        .await
        .unwrap();
    let owner = owner_jwt(&app);
    ok(&app
        .rpc(
            Some(&owner),
            Via::Form,
            "AddSubUser",
            &[
                ("new_subuser_name", "second"),
                ("new_subuser_password", PASSWORD),
            ],
        )
        .await);
    let v = app
        .rpc(
            Some(&owner),
            Via::Form,
            "AddSubUser",
            &[
                ("new_subuser_name", "third"),
                ("new_subuser_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(code(&v), 438);
}
