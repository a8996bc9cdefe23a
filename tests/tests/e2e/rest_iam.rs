//! Cloudflare-compatible IAM over REST: permission groups, resource groups, user groups with
//! policies, and members.

use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp, e2e};

const RG: &str = "/v1/accounts/1/iam/resource_groups";
const UG: &str = "/v1/accounts/1/iam/user_groups";

fn scope(objects: &[&str]) -> Value {
    json!({"key": "com.tessera.api.account.1", "objects": objects.iter().map(|o| json!({"key": o})).collect::<Vec<_>>()})
}

async fn count(app: &TestApp, token: &str, path: &str) -> i64 {
    let (_, body) = app.call("GET", path, Some(token), None).await;
    body["result_info"]["total_count"].as_i64().unwrap()
}

async fn permission_groups_are_a_fixed_catalog(app: TestApp) {
    let owner = app.owner().await;
    let (status, body) = app
        .call(
            "GET",
            "/v1/accounts/1/iam/permission_groups?per_page=1000",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let all = body["result"].as_array().unwrap();
    assert_eq!(all.len(), 92);
    assert!(all.iter().all(|g| g["id"].as_str().unwrap().len() == 32));
    let id = app.permission_group(&owner, "User Management Write").await;
    assert_eq!(id, "e6a972b83582072f0d52887cfcd7518d");
    let (status, body) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/iam/permission_groups/{id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["result"]["meta"],
        json!({"key": "permission", "value": "user_management.write", "label": "user_management.write"})
    );
    let (_, by_id) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/iam/permission_groups?id={id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(by_id["result"].as_array().unwrap().len(), 1);
    let (_, fuzzy) = app
        .call(
            "GET",
            "/v1/accounts/1/iam/permission_groups?fuzzyName=user%20management",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(fuzzy["result_info"]["total_count"], 2);
    assert_eq!(
        app.call(
            "GET",
            "/v1/accounts/1/iam/permission_groups/ffffffffffffffffffffffffffffffff",
            Some(&owner),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        app.call(
            "GET",
            "/v1/accounts/2/iam/permission_groups",
            Some(&owner),
            None
        )
        .await
        .0,
        404
    );
}

/// Creates a resource group covering the whole account; returns its id.
async fn whole_account_group(app: &TestApp, owner: &str) -> String {
    let (status, body) = app
        .call(
            "POST",
            RG,
            Some(owner),
            Some(json!({"name": "all", "scope": scope(&["*"])})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["result"]["id"].as_str().unwrap().to_owned()
}

async fn resource_groups_from_creation_to_deletion(app: TestApp) {
    let owner = app.owner().await;
    let (status, body) = app
        .call(
            "POST",
            RG,
            Some(&owner),
            Some(json!({"name": "ops users", "scope": scope(&["com.tessera.api.account.user.7"])})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let group = body["result"].clone();
    assert_eq!(
        group["scope"],
        json!([scope(&["com.tessera.api.account.user.7"])]),
        "always a list"
    );
    let id = group["id"].as_str().unwrap();
    let one = format!("{RG}/{id}");
    assert_eq!(
        app.call("GET", &one, Some(&owner), None).await.1["result"],
        group
    );
    let (status, body) = app
        .call(
            "PUT",
            &one,
            Some(&owner),
            Some(json!({"scope": [scope(&["*"])], "meta": {"key": "team", "value": "ops"}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["name"], "ops users", "an absent name stays");
    assert_eq!(body["result"]["scope"][0]["objects"], json!([{"key": "*"}]));
    let (_, by_id) = app
        .call("GET", &format!("{RG}?id={id}"), Some(&owner), None)
        .await;
    assert_eq!(by_id["result"][0]["id"], id);

    let before = count(&app, &owner, RG).await;
    for (body, needle) in [
        (
            json!({"name": "x", "scope": {"key": "com.tessera.api.account.2", "objects": [{"key": "*"}]}}),
            "scope.key",
        ),
        (
            json!({"name": "x", "scope": {"key": "com.tessera.api.account.1", "objects": [{"key": "zone.1"}]}}),
            "scope.objects.key",
        ),
        (
            json!({"name": "x", "scope": {"key": "com.tessera.api.account.1", "objects": []}}),
            "scope.objects",
        ),
        (json!({"name": "x"}), "scope"),
        (
            json!({"name": "ops users", "scope": scope(&["*"])}),
            "name is not unique",
        ),
    ] {
        let (status, answer) = app.call("POST", RG, Some(&owner), Some(body)).await;
        assert!(status == 400 || status == 409, "{answer}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{needle}: {answer}"
        );
    }
    assert_eq!(count(&app, &owner, RG).await, before);
    assert_eq!(
        app.call("DELETE", &one, Some(&owner), None).await.1["result"],
        json!({"id": id})
    );
    assert_eq!(app.call("GET", &one, Some(&owner), None).await.0, 404);
    assert_eq!(app.call("DELETE", &one, Some(&owner), None).await.0, 404);
}

async fn user_groups_with_policies_and_members(app: TestApp) {
    let owner = app.owner().await;
    let alice = app.create_user(&owner, "alice", &[]).await;
    let bob = app.create_user(&owner, "bobby", &[]).await;
    let rg = whole_account_group(&app, &owner).await;
    let read = app.permission_group(&owner, "Usage Read").await;
    let write = app.permission_group(&owner, "Recordings Write").await;
    let (status, body) = app
        .call(
            "POST",
            UG,
            Some(&owner),
            Some(json!({"name": "support", "policies": [
                {"access": "allow", "permission_groups": [{"id": read}], "resource_groups": [{"id": rg}]},
                {"access": "deny", "permission_groups": [{"id": write}], "resource_groups": [{"id": rg}]},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let group = body["result"].clone();
    let gid = group["id"].as_str().unwrap().to_owned();
    assert_eq!(
        group["policies"][0]["permission_groups"][0]["name"],
        "Usage Read"
    );
    assert_eq!(group["policies"][1]["access"], "deny");
    assert_eq!(
        group["policies"][0]["resource_groups"][0]["scope"][0]["key"],
        "com.tessera.api.account.1"
    );
    assert_eq!(group["policies"][0]["id"].as_str().unwrap().len(), 32);

    // Unknown references are 400 naming them; nothing is created.
    let before = count(&app, &owner, UG).await;
    for (policy, needle) in [
        (
            json!({"access": "allow", "permission_groups": [{"id": "ffffffffffffffffffffffffffffffff"}], "resource_groups": [{"id": rg}]}),
            "unknown permission group ffffffffffffffffffffffffffffffff",
        ),
        (
            json!({"access": "allow", "permission_groups": [{"id": read}], "resource_groups": [{"id": "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}]}),
            "unknown resource group eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
        ),
        (
            json!({"access": "maybe", "permission_groups": [{"id": read}], "resource_groups": [{"id": rg}]}),
            "access",
        ),
        (
            json!({"access": "allow", "permission_groups": [{"id": "short"}], "resource_groups": [{"id": rg}]}),
            "permission_groups",
        ),
    ] {
        let (status, answer) = app
            .call(
                "POST",
                UG,
                Some(&owner),
                Some(json!({"name": "bad", "policies": [policy]})),
            )
            .await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{needle}: {answer}"
        );
    }
    assert_eq!(
        app.call("POST", UG, Some(&owner), Some(json!({"policies": []})))
            .await
            .0,
        400,
        "a name is required"
    );
    assert_eq!(count(&app, &owner, UG).await, before);

    // Members: a bare array with a string id, or {"members": [...]} with numbers.
    let members = format!("{UG}/{gid}/members");
    let (status, body) = app
        .call(
            "POST",
            &members,
            Some(&owner),
            Some(json!([{"id": alice.to_string()}])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["result"],
        json!([{"id": alice.to_string(), "email": "alice@example.com", "status": "accepted"}])
    );
    let (_, body) = app
        .call(
            "POST",
            &members,
            Some(&owner),
            Some(json!({"members": [{"id": bob, "status": "pending"}]})),
        )
        .await;
    assert_eq!(body["result"].as_array().unwrap().len(), 2);
    let (_, listed) = app
        .call(
            "GET",
            &format!("{members}?per_page=1&page=2"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(listed["result"][0]["id"], bob.to_string());
    assert_eq!(listed["result_info"]["total_count"], 2);
    let (_, replaced) = app
        .call(
            "PUT",
            &members,
            Some(&owner),
            Some(json!([{"id": bob.to_string()}])),
        )
        .await;
    assert_eq!(
        replaced["result"],
        json!([{"id": bob.to_string(), "email": "bobby@example.com", "status": "accepted"}])
    );
    assert_eq!(
        app.call(
            "POST",
            &members,
            Some(&owner),
            Some(json!([{"id": "9999"}]))
        )
        .await
        .0,
        404
    );
    assert_eq!(
        app.call("POST", &members, Some(&owner), Some(json!([{"id": "x"}])))
            .await
            .0,
        400
    );
    let (status, removed) = app
        .call("DELETE", &format!("{members}/{bob}"), Some(&owner), None)
        .await;
    assert_eq!(
        (status, removed["result"]["id"].clone()),
        (200, json!(bob.to_string()))
    );
    assert_eq!(
        app.call("DELETE", &format!("{members}/{bob}"), Some(&owner), None)
            .await
            .0,
        404
    );

    // PUT replaces the policies; an id the group has is kept (read-modify-write keeps ids), an
    // unknown one is replaced by a new id, a malformed one is 400; an absent name stays.
    let kept = group["policies"][1]["id"].as_str().unwrap().to_owned();
    let (status, answer) = app
        .call("PUT", &format!("{UG}/{gid}"), Some(&owner), Some(json!({"policies": [
            {"id": "not-an-id", "access": "allow", "permission_groups": [{"id": write}], "resource_groups": [{"id": rg}]}]})))
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("policies[0].id"),
        "{answer}"
    );
    let (_, unchanged) = app
        .call("GET", &format!("{UG}/{gid}"), Some(&owner), None)
        .await;
    assert_eq!(
        unchanged["result"]["policies"], group["policies"],
        "nothing changed"
    );
    let (status, body) = app
        .call("PUT", &format!("{UG}/{gid}"), Some(&owner), Some(json!({"policies": [
            {"id": kept, "access": "allow", "permission_groups": [{"id": write}], "resource_groups": [{"id": rg}]},
            {"id": "ffffffffffffffffffffffffffffffff", "access": "deny", "permission_groups": [{"id": read}], "resource_groups": [{"id": rg}]}]})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["name"], "support");
    let policies = body["result"]["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 2);
    assert_eq!(policies[0]["id"], kept.as_str());
    assert_eq!(
        policies[0]["access"], "allow",
        "the kept id carries the new content"
    );
    assert_ne!(policies[1]["id"], "ffffffffffffffffffffffffffffffff");
    assert_ne!(policies[1]["id"], group["policies"][0]["id"]);
    assert_eq!(policies[1]["id"].as_str().unwrap().len(), 32);
    let (_, by_id) = app
        .call("GET", &format!("{UG}?id={gid}"), Some(&owner), None)
        .await;
    assert_eq!(by_id["result"][0]["id"], gid.as_str());
    assert_eq!(
        app.call("DELETE", &format!("{RG}/{rg}"), Some(&owner), None)
            .await
            .0,
        409,
        "still in use"
    );
    assert_eq!(
        app.call("DELETE", &format!("{UG}/{gid}"), Some(&owner), None)
            .await
            .1["result"],
        json!({"id": gid})
    );
    assert_eq!(
        app.call("GET", &format!("{UG}/{gid}"), Some(&owner), None)
            .await
            .0,
        404
    );
}

async fn no_escalation_through_groups(app: TestApp) {
    let owner = app.owner().await;
    let manager = app.create_user(&owner, "manager", &["User Manager"]).await;
    let token = app.login(1, "manager", PASSWORD).await;
    let rg = whole_account_group(&app, &owner).await;
    let audit = app.permission_group(&owner, "Audit API Read").await;
    let (status, body) = app
        .call("POST", UG, Some(&token), Some(json!({"name": "sneaky", "policies": [
            {"access": "allow", "permission_groups": [{"id": audit}], "resource_groups": [{"id": rg}]}]})))
        .await;
    assert_eq!(
        status, 403,
        "attaching a permission one does not hold: {body}"
    );
    let (_, owned) = app
        .call("POST", UG, Some(&owner), Some(json!({"name": "auditors", "policies": [
            {"access": "allow", "permission_groups": [{"id": audit}], "resource_groups": [{"id": rg}]}]})))
        .await;
    let gid = owned["result"]["id"].as_str().unwrap();
    let (status, _) = app
        .call(
            "POST",
            &format!("{UG}/{gid}/members"),
            Some(&token),
            Some(json!([{"id": manager.to_string()}])),
        )
        .await;
    assert_eq!(
        status, 403,
        "joining a group that grants what one does not hold"
    );
    assert_eq!(
        app.call("GET", "/v1/accounts/1/audit_logs", Some(&token), None)
            .await
            .0,
        403
    );
}

async fn another_accounts_groups_are_not_found(app: TestApp) {
    let owner = app.owner().await;
    let child = app.child_account(&owner).await;
    let child_token = child["access_key"]["token"].as_str().unwrap().to_owned();
    let rg = whole_account_group(&app, &owner).await;
    let (_, ug) = app
        .call(
            "POST",
            UG,
            Some(&owner),
            Some(json!({"name": "g", "policies": []})),
        )
        .await;
    let ug = ug["result"]["id"].as_str().unwrap().to_owned();
    let child_id = child["account_id"].as_i64().unwrap();
    for path in [
        format!("/v1/accounts/{child_id}/iam/resource_groups/{rg}"),
        format!("/v1/accounts/{child_id}/iam/user_groups/{ug}"),
    ] {
        assert_eq!(
            app.call("GET", &path, Some(&child_token), None).await.0,
            404,
            "{path}"
        );
        assert_eq!(
            app.call("DELETE", &path, Some(&child_token), None).await.0,
            404,
            "{path}"
        );
    }
    let (status, body) = app
        .call("POST", &format!("/v1/accounts/{child_id}/iam/user_groups"), Some(&child_token), Some(json!({"name": "x", "policies": [
            {"access": "allow", "permission_groups": [{"id": "e6a972b83582072f0d52887cfcd7518d"}], "resource_groups": [{"id": rg}]}]})))
        .await;
    assert_eq!(
        status, 400,
        "a resource group of another account is unknown: {body}"
    );
    assert_eq!(
        app.call("GET", &format!("{RG}/{rg}"), Some(&owner), None)
            .await
            .0,
        200,
        "untouched"
    );
}

e2e!(
    permission_groups_are_a_fixed_catalog,
    resource_groups_from_creation_to_deletion,
    user_groups_with_policies_and_members,
    no_escalation_through_groups,
    another_accounts_groups_are_not_found
);
