//! REST and the method API are two faces of the same use cases: for every operation both serve,
//! the same principal gets the same decision from each (allowed, forbidden, not found, …).
//! Each operation runs on a fresh target per API, so neither call sees the other's effect.

use serde_json::{Value, json};
use tessera_tests::{DbBackend, PASSWORD, TestApp, Via, jwt, unix_now};

/// What a call decided, whatever the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Forbidden,
    NotFound,
    Unauthenticated,
    Invalid,
    Conflict,
}

fn rest_outcome(status: u16, body: &Value) -> Outcome {
    match status {
        200 => Outcome::Allowed,
        403 => Outcome::Forbidden,
        404 => Outcome::NotFound,
        401 => Outcome::Unauthenticated,
        400 => Outcome::Invalid,
        409 => Outcome::Conflict,
        other => panic!("unexpected REST status {other}: {body}"),
    }
}

fn rpc_outcome(answer: &Value) -> Outcome {
    match answer["error"]["code"].as_i64() {
        None => Outcome::Allowed,
        Some(104 | 435) => Outcome::Forbidden,
        Some(433 | 434) => Outcome::NotFound,
        Some(100) => Outcome::Unauthenticated,
        Some(436..=439) => Outcome::Conflict,
        Some(101 | 134 | 440 | 441 | 449 | 452 | 453 | 523 | 524) => Outcome::Invalid,
        Some(other) => panic!("unexpected RPC code {other}: {answer}"),
    }
}

/// The operations both APIs serve.
#[derive(Debug, Clone, Copy)]
enum Op {
    CreateUser,
    ListUsers,
    GetUser,
    GetUserRoles,
    GetSelf,
    DescribeUser,
    DescribeSelf,
    ResetPassword,
    AddRole,
    RemoveRole,
    DeleteUser,
    CreateKey,
    CreateKeyWithRole,
    ListKeys,
    GetKey,
    GetKeyRoles,
    RenameKey,
    SetKeyRoles,
    DeleteKey,
    Roles,
    RoleGroups,
    AccountInfo,
}

const OPS: [Op; 22] = [
    Op::CreateUser,
    Op::ListUsers,
    Op::GetUser,
    Op::GetUserRoles,
    Op::GetSelf,
    Op::DescribeUser,
    Op::DescribeSelf,
    Op::ResetPassword,
    Op::AddRole,
    Op::RemoveRole,
    Op::DeleteUser,
    Op::CreateKey,
    Op::CreateKeyWithRole,
    Op::ListKeys,
    Op::GetKey,
    Op::GetKeyRoles,
    Op::RenameKey,
    Op::SetKeyRoles,
    Op::DeleteKey,
    Op::Roles,
    Op::RoleGroups,
    Op::AccountInfo,
];

/// Who calls: its token and the user it acts as (a key's owner for a service key).
struct Caller {
    name: &'static str,
    token: String,
    user: i64,
}

/// What an operation acts on: a user (with roles Developer and Support) and an account key
/// (with role Support). Operations that change their target get a fresh one per call.
#[derive(Clone)]
struct Target {
    user: i64,
    key: String,
}

impl Op {
    /// Whether the operation changes its target user, or its target key.
    fn changes(self) -> (bool, bool) {
        match self {
            Op::DescribeUser
            | Op::ResetPassword
            | Op::AddRole
            | Op::RemoveRole
            | Op::DeleteUser => (true, false),
            Op::RenameKey | Op::SetKeyRoles | Op::DeleteKey => (false, true),
            _ => (false, false),
        }
    }
}

async fn target_user(app: &TestApp, owner: &str, login: &str) -> i64 {
    let (status, body) = app
        .call(
            "POST",
            "/v1/accounts/1/users",
            Some(owner),
            Some(json!({"login": login, "roles": ["Developer", "Support"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["result"]["id"].as_i64().unwrap()
}

async fn target_key(app: &TestApp, owner: &str, name: &str) -> String {
    let (status, body) = app
        .call(
            "POST",
            "/v1/accounts/1/keys",
            Some(owner),
            Some(json!({"name": name, "roles": ["Support"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["result"]["id"].as_str().unwrap().to_owned()
}

/// `shared`, or a fresh target where the operation changes it.
async fn target(app: &TestApp, owner: &str, shared: &Target, op: Op, name: &str) -> Target {
    let (user, key) = op.changes();
    Target {
        user: if user {
            target_user(app, owner, name).await
        } else {
            shared.user
        },
        key: if key {
            target_key(app, owner, name).await
        } else {
            shared.key.clone()
        },
    }
}

async fn rest(app: &TestApp, caller: &Caller, op: Op, t: &Target, tag: &str) -> Outcome {
    let user = format!("/v1/accounts/1/users/{}", t.user);
    let me = format!("/v1/accounts/1/users/{}", caller.user);
    let key = format!("/v1/accounts/1/keys/{}", t.key);
    let (method, path, body) = match op {
        Op::CreateUser => (
            "POST",
            "/v1/accounts/1/users".to_owned(),
            Some(json!({"login": format!("n{tag}"), "password": PASSWORD, "roles": ["Support"]})),
        ),
        Op::ListUsers => ("GET", "/v1/accounts/1/users".to_owned(), None),
        Op::GetUser | Op::GetUserRoles => ("GET", user, None),
        Op::GetSelf => ("GET", me, None),
        Op::DescribeUser => ("PATCH", user, Some(json!({"description": "d"}))),
        Op::DescribeSelf => ("PATCH", me, Some(json!({"description": "d"}))),
        Op::ResetPassword => ("PATCH", user, Some(json!({"password": "N3w-Password!"}))),
        Op::AddRole => (
            "PATCH",
            user,
            Some(json!({"roles": ["Developer", "Support", "Accountant"]})),
        ),
        Op::RemoveRole => ("PATCH", user, Some(json!({"roles": ["Developer"]}))),
        Op::DeleteUser => ("DELETE", user, None),
        Op::CreateKey => (
            "POST",
            "/v1/accounts/1/keys".to_owned(),
            Some(json!({"name": "k"})),
        ),
        Op::CreateKeyWithRole => (
            "POST",
            "/v1/accounts/1/keys".to_owned(),
            Some(json!({"name": "k", "roles": ["Support"]})),
        ),
        Op::ListKeys => ("GET", "/v1/accounts/1/keys".to_owned(), None),
        Op::GetKey | Op::GetKeyRoles => ("GET", key, None),
        Op::RenameKey => ("PATCH", key, Some(json!({"name": "renamed"}))),
        Op::SetKeyRoles => (
            "PUT",
            format!("{key}/roles"),
            Some(json!({"roles": ["Developer"]})),
        ),
        Op::DeleteKey => ("DELETE", key, None),
        Op::Roles => ("GET", "/v1/accounts/1/iam/roles".to_owned(), None),
        Op::RoleGroups => ("GET", "/v1/accounts/1/iam/role_groups".to_owned(), None),
        Op::AccountInfo => ("GET", "/v1/accounts".to_owned(), None),
    };
    let (status, answer) = app.call(method, &path, Some(&caller.token), body).await;
    rest_outcome(status, &answer)
}

async fn rpc(app: &TestApp, caller: &Caller, op: Op, t: &Target, tag: &str) -> Outcome {
    let user = t.user.to_string();
    let me = caller.user.to_string();
    let login = format!("n{tag}");
    let (method, params): (&str, Vec<(&str, &str)>) = match op {
        Op::CreateUser => (
            "AddSubUser",
            vec![
                ("new_subuser_name", &login),
                ("new_subuser_password", PASSWORD),
                ("role_name", "Support"),
            ],
        ),
        Op::ListUsers => ("GetSubUsers", vec![]),
        Op::GetUser => ("GetSubUsers", vec![("subuser_id", &user)]),
        Op::GetUserRoles => ("GetSubUserRoles", vec![("subuser_id", &user)]),
        Op::GetSelf => ("GetSubUsers", vec![("subuser_id", &me)]),
        Op::DescribeUser => (
            "SetSubUserInfo",
            vec![("subuser_id", &user), ("description", "d")],
        ),
        Op::DescribeSelf => (
            "SetSubUserInfo",
            vec![("subuser_id", &me), ("description", "d")],
        ),
        Op::ResetPassword => (
            "SetSubUserInfo",
            vec![
                ("subuser_id", &user),
                ("new_subuser_password", "N3w-Password!"),
            ],
        ),
        Op::AddRole => (
            "SetSubUserRoles",
            vec![("subuser_id", &user), ("role_name", "Accountant")],
        ),
        Op::RemoveRole => (
            "RemoveSubUserRoles",
            vec![
                ("subuser_id", &user),
                ("role_name", "Support"),
                ("force", "true"),
            ],
        ),
        Op::DeleteUser => ("DelSubUser", vec![("subuser_id", &user)]),
        Op::CreateKey => ("CreateKey", vec![("key_name", "k")]),
        Op::CreateKeyWithRole => (
            "CreateKey",
            vec![("key_name", "k"), ("role_name", "Support")],
        ),
        Op::ListKeys => ("GetKeys", vec![]),
        Op::GetKey => ("GetKeys", vec![("key_id", &t.key)]),
        Op::GetKeyRoles => ("GetKeyRoles", vec![("key_id", &t.key)]),
        Op::RenameKey => (
            "UpdateKey",
            vec![
                ("key_id", &t.key),
                ("key_name", "renamed"),
                ("description", ""),
            ],
        ),
        Op::SetKeyRoles => (
            "SetKeyRoles",
            vec![("key_id", &t.key), ("role_name", "Developer")],
        ),
        Op::DeleteKey => ("DeleteKey", vec![("key_id", &t.key)]),
        Op::Roles => ("GetRoles", vec![]),
        Op::RoleGroups => ("GetRoleGroups", vec![]),
        Op::AccountInfo => ("GetAccountInfo", vec![]),
    };
    let answer = app
        .rpc(Some(&caller.token), Via::Form, method, &params)
        .await;
    rpc_outcome(&answer)
}

/// A user of account 1 with `roles` and a session.
async fn session_of(app: &TestApp, owner: &str, login: &str, roles: &[&str]) -> (i64, String) {
    let id = app.create_user(owner, login, roles).await;
    (id, app.login(1, login, PASSWORD).await)
}

async fn callers(app: &TestApp, owner: &str) -> Vec<Caller> {
    let mut out = vec![Caller {
        name: "owner session",
        token: owner.to_owned(),
        user: 1,
    }];
    for (name, login, roles) in [
        ("Admin session", "admin01", &["Admin"][..]),
        ("Developer session", "dev01", &["Developer"][..]),
        ("Support session", "support1", &["Support"][..]),
        ("User Read session", "reader1", &["User Read"][..]),
        ("User Manager session", "manager1", &["User Manager"][..]),
    ] {
        let (user, token) = session_of(app, owner, login, roles).await;
        out.push(Caller { name, token, user });
    }
    let (admin, _) = session_of(app, owner, "admin02", &["Administrator"]).await;
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{admin}/access_keys"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    out.push(Caller {
        name: "Administrator access key",
        token: body["result"]["token"].as_str().unwrap().to_owned(),
        user: admin,
    });
    let dev = &out[2];
    let (dev_user, dev_token) = (dev.user, dev.token.clone());
    for (name, roles) in [
        ("Developer's key without roles", json!([])),
        ("Developer's key with Developer", json!(["Developer"])),
    ] {
        let (status, body) = app
            .call(
                "POST",
                "/v1/accounts/1/keys",
                Some(&dev_token),
                Some(json!({"name": name, "roles": roles})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let t = unix_now();
        out.push(Caller {
            name,
            token: jwt(&body["result"]["credentials"], t - 5, t + 600),
            user: dev_user,
        });
    }
    let t = unix_now();
    out.push(Caller {
        name: "bootstrap key (Owner)",
        token: jwt(&app.initial_credentials()["service_key"], t - 5, t + 600),
        user: 1,
    });
    out
}

async fn rest_and_rpc_decide_alike(backend: DbBackend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.limits.max_users_per_account = 10_000;
        s.limits.max_service_keys_per_owner = 10_000;
    })
    .await
    else {
        return;
    };
    let owner = app.owner().await;
    let callers = callers(&app, &owner).await;
    let shared = Target {
        user: target_user(&app, &owner, "shared1").await,
        key: target_key(&app, &owner, "shared").await,
    };
    let mut disagreements = Vec::new();
    let mut allowed = 0;
    for (ci, caller) in callers.iter().enumerate() {
        for (oi, op) in OPS.iter().enumerate() {
            let tag = format!("{ci:02}{oi:02}");
            let a = target(&app, &owner, &shared, *op, &format!("t{tag}a")).await;
            let b = target(&app, &owner, &shared, *op, &format!("t{tag}b")).await;
            let over_rest = rest(&app, caller, *op, &a, &format!("{tag}a")).await;
            let over_rpc = rpc(&app, caller, *op, &b, &format!("{tag}b")).await;
            if over_rest == Outcome::Allowed {
                allowed += 1;
            }
            if over_rest != over_rpc {
                disagreements.push(format!(
                    "{} {op:?}: REST {over_rest:?}, RPC {over_rpc:?}",
                    caller.name
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    let total = callers.len() * OPS.len();
    assert!(
        allowed > 0 && allowed < total,
        "the matrix mixes grants and refusals ({allowed} of {total} allowed)"
    );
}

#[tokio::test]
async fn rest_and_rpc_decide_alike_for_every_principal_and_operation_sqlite() {
    rest_and_rpc_decide_alike(DbBackend::Sqlite).await;
}

#[tokio::test]
async fn rest_and_rpc_decide_alike_for_every_principal_and_operation_postgres() {
    rest_and_rpc_decide_alike(DbBackend::Postgres).await;
}
