//! Configuration written for Cloudflare works unchanged: its scope-key prefix
//! `com.cloudflare.api.account.` is a synonym of Tessera's on input (answers keep Tessera's),
//! resource groups answer `scope` as a list, and permission groups filter by `label`.

use serde_json::{Value, json};
use tessera_tests::{TestApp, e2e};

const RG: &str = "/v1/accounts/1/iam/resource_groups";
const PG: &str = "/v1/accounts/1/iam/permission_groups";

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or_default()
}

async fn all_groups(app: &TestApp, token: &str) -> Value {
    let (status, body) = app.call("GET", RG, Some(token), None).await;
    assert_eq!(status, 200, "{body}");
    body["result"].clone()
}

async fn cloudflare_scope_keys_are_synonyms_and_answers_keep_tesseras(app: TestApp) {
    let owner = app.owner().await;
    let user = app.create_user(&owner, "scoped1", &[]).await;
    let cloudflare = json!({
        "key": "com.cloudflare.api.account.1",
        "objects": [{"key": format!("com.cloudflare.api.account.user.{user}")}],
    });
    let (status, created) = app
        .call(
            "POST",
            RG,
            Some(&owner),
            Some(json!({"name": "from cloudflare", "scope": cloudflare})),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let tessera = json!([{
        "key": "com.tessera.api.account.1",
        "objects": [{"key": format!("com.tessera.api.account.user.{user}")}],
    }]);
    assert_eq!(
        created["result"]["scope"], tessera,
        "a list, Tessera's prefix"
    );
    let id = created["result"]["id"].as_str().unwrap().to_owned();
    let (status, updated) = app
        .call(
            "PUT",
            &format!("{RG}/{id}"),
            Some(&owner),
            Some(json!({"scope": [{"key": "com.cloudflare.api.account.1", "objects": [{"key": "*"}]}]})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["result"]["scope"],
        json!([{"key": "com.tessera.api.account.1", "objects": [{"key": "*"}]}])
    );
    let (_, listed) = app
        .call("GET", &format!("{RG}?id={id}"), Some(&owner), None)
        .await;
    assert_eq!(listed["result"][0]["scope"], updated["result"]["scope"]);

    // The explain endpoint reads object keys the same way.
    let mut decisions = Vec::new();
    for prefix in ["com.cloudflare.api.account", "com.tessera.api.account"] {
        let (status, decision) = app
            .call(
                "POST",
                "/v1/accounts/1/iam/authorize",
                Some(&owner),
                Some(json!({
                    "principal": {"type": "user", "id": user},
                    "capability": "user_management",
                    "level": "read",
                    "resource": format!("{prefix}.user.{user}"),
                })),
            )
            .await;
        assert_eq!(status, 200, "{decision}");
        decisions.push(decision["result"].clone());
    }
    assert_eq!(decisions[0], decisions[1], "the same question");

    // Bad keys, with either prefix: the exact 400, nothing created or changed.
    let before = all_groups(&app, &owner).await;
    for (scope, expected) in [
        (
            json!({"key": "com.cloudflare.api.account.2", "objects": [{"key": "*"}]}),
            "scope.key: must be com.tessera.api.account.1 (this account)",
        ),
        (
            json!({"key": "com.cloudflare.api.zone.1", "objects": [{"key": "*"}]}),
            "scope.key: 'com.cloudflare.api.zone.1' is not com.tessera.api.account.<account_id>",
        ),
        (
            json!({"key": "com.cloudflare.api.account.1", "objects": [{"key": "com.cloudflare.api.account.zone.1"}]}),
            "scope.objects.key: 'com.cloudflare.api.account.zone.1' is not '*' or com.tessera.api.account.<resource_type>.<id>",
        ),
    ] {
        let (status, body) = app
            .call(
                "POST",
                RG,
                Some(&owner),
                Some(json!({"name": "refused", "scope": scope})),
            )
            .await;
        assert_eq!((status, message(&body)), (400, expected), "{scope}");
        let (status, body) = app
            .call(
                "PUT",
                &format!("{RG}/{id}"),
                Some(&owner),
                Some(json!({"name": "refused", "scope": scope})),
            )
            .await;
        assert_eq!((status, message(&body)), (400, expected), "PUT {scope}");
    }
    assert_eq!(all_groups(&app, &owner).await, before, "nothing changed");
}

async fn permission_groups_filter_by_label(app: TestApp) {
    let owner = app.owner().await;
    let (status, body) = app
        .call(
            "GET",
            &format!("{PG}?label=user_management.write"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result_info"]["count"], json!(1), "{body}");
    let group = &body["result"][0];
    assert_eq!(group["name"], "User Management Write");
    assert_eq!(
        group["meta"],
        json!({"key": "permission", "value": "user_management.write", "label": "user_management.write"})
    );
    let (_, none) = app
        .call(
            "GET",
            &format!("{PG}?label=nothing.write"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(none["result"], json!([]), "{none}");
    let (_, both) = app
        .call(
            "GET",
            &format!("{PG}?label=user_management.write&name=Usage%20Read"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(both["result"], json!([]), "the filters combine: {both}");
    let (status, body) = app
        .call(
            "GET",
            &format!("{PG}?label={}", "x".repeat(201)),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        (status, message(&body)),
        (400, "label: must be at most 200 characters")
    );
}

e2e!(
    cloudflare_scope_keys_are_synonyms_and_answers_keep_tesseras,
    permission_groups_filter_by_label
);
