//! Service keys and SSO connectors over REST; domain verification through a local DNS
//! responder and the server's real resolver.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_tests::dns::DnsResponder;
use tessera_tests::{DbBackend, PASSWORD, TestApp, e2e};

const KEYS: &str = "/v1/accounts/1/keys";
const SSO: &str = "/v1/accounts/1/sso_connectors";

async fn service_keys_over_rest_mirror_the_method_api(app: TestApp) {
    let owner = app.owner().await;
    let (status, body) = app
        .call(
            "POST",
            KEYS,
            Some(&owner),
            Some(json!({"name": "ci", "description": "pipeline", "roles": ["Developer"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let key = body["result"].clone();
    assert_eq!(key["roles"], json!(["Developer"]));
    assert_eq!(
        key["owner_user_id"],
        Value::Null,
        "an owner's key belongs to the account"
    );
    assert_eq!(key["credentials"]["key_id"], key["id"]);
    assert!(
        key["credentials"]["private_key"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    let one = format!("{KEYS}/{}", key["id"].as_str().unwrap());
    let (_, got) = app.call("GET", &one, Some(&owner), None).await;
    assert!(
        got["result"].get("credentials").is_none(),
        "the private key is never shown again"
    );
    let (status, body) = app
        .call(
            "PATCH",
            &one,
            Some(&owner),
            Some(json!({"name": "ci-2", "description": null})),
        )
        .await;
    assert_eq!(
        (
            status,
            body["result"]["name"].clone(),
            body["result"]["description"].clone()
        ),
        (200, json!("ci-2"), Value::Null)
    );
    let (status, body) = app
        .call(
            "PUT",
            &format!("{one}/roles"),
            Some(&owner),
            Some(json!({"roles": ["Support", "Developer"]})),
        )
        .await;
    assert_eq!(
        (status, body["result"]["roles"].clone()),
        (200, json!(["Developer", "Support"]))
    );
    let (_, list) = app.call("GET", KEYS, Some(&owner), None).await;
    assert_eq!(
        list["result_info"]["total_count"], 2,
        "with the bootstrap key"
    );

    for (body, needle) in [
        (
            json!({"name": "x".repeat(51)}),
            "name: must be 1 to 50 characters",
        ),
        (json!({"name": " \r "}), "name: must not be blank"),
        (json!({"roles": ["Root"]}), "Root"),
        (json!({"roles": "Developer"}), "roles"),
    ] {
        let (status, answer) = app.call("POST", KEYS, Some(&owner), Some(body)).await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{answer}"
        );
    }
    app.create_user(&owner, "support1", &["Support"]).await;
    let support = app.login(1, "support1", PASSWORD).await;
    assert_eq!(
        app.call(
            "POST",
            KEYS,
            Some(&support),
            Some(json!({"roles": ["Developer"]}))
        )
        .await
        .0,
        403,
        "its own key, but a role it does not hold"
    );
    assert_eq!(app.call("DELETE", &one, Some(&support), None).await.0, 403);
    app.create_user(&owner, "dev01", &["Developer"]).await;
    let dev = app.login(1, "dev01", PASSWORD).await;
    let (status, body) = app
        .call(
            "POST",
            KEYS,
            Some(&dev),
            Some(json!({"roles": ["Administrator"]})),
        )
        .await;
    assert_eq!(
        status, 403,
        "a key never carries a role its creator lacks: {body}"
    );
    let (_, list) = app.call("GET", KEYS, Some(&owner), None).await;
    assert_eq!(
        list["result_info"]["total_count"], 2,
        "refused creations made nothing"
    );
    let (status, body) = app
        .call(
            "POST",
            KEYS,
            Some(&support),
            Some(json!({"roles": ["Support"]})),
        )
        .await;
    assert_eq!(
        status, 200,
        "self-service: its own key with its own role: {body}"
    );
    let (status, mine) = app.call("GET", KEYS, Some(&support), None).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(
        mine["result_info"]["total_count"], 1,
        "without API Credentials read, a user lists its own keys only: {mine}"
    );

    assert_eq!(app.call("DELETE", &one, Some(&owner), None).await.0, 200);
    assert_eq!(app.call("GET", &one, Some(&owner), None).await.0, 404);
    assert_eq!(
        app.call(
            "GET",
            &format!("{KEYS}/0b5d2c7e-1f7a-4c5e-9d42-6a3b2f1e0c9d"),
            Some(&owner),
            None
        )
        .await
        .0,
        404
    );
}

async fn sso_connectors_from_creation_to_deletion(app: TestApp) {
    let owner = app.owner().await;
    let (status, body) = app
        .call(
            "POST",
            SSO,
            Some(&owner),
            Some(json!({"email_domain": "Example.COM"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let c = body["result"].clone();
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(c["email_domain"], "example.com");
    assert_eq!(c["enabled"], false);
    assert_eq!(
        c["verification"],
        json!({"code": format!("tessera_sso={id}"), "status": "awaiting"})
    );
    let one = format!("{SSO}/{id}");
    let (status, body) = app
        .call(
            "POST",
            &format!("{one}/begin_verification"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        (status, body["result"]["verification"]["status"].clone()),
        (200, json!("pending"))
    );
    let (status, body) = app
        .call("PATCH", &one, Some(&owner), Some(json!({"enabled": true})))
        .await;
    assert_eq!(status, 400, "not verified yet: {body}");
    let (status, body) = app
        .call(
            "PATCH",
            &one,
            Some(&owner),
            Some(json!({"use_fedramp_language": true})),
        )
        .await;
    assert_eq!(
        (status, body["result"]["use_fedramp_language"].clone()),
        (200, json!(true))
    );
    let (_, list) = app.call("GET", SSO, Some(&owner), None).await;
    assert_eq!(list["result"].as_array().unwrap().len(), 1);
    for (body, status) in [
        (json!({"email_domain": "example.com"}), 409),
        (json!({"email_domain": "not a domain"}), 400),
        (json!({"email_domain": 5}), 400),
        (json!({}), 400),
    ] {
        assert_eq!(
            app.call("POST", SSO, Some(&owner), Some(body)).await.0,
            status
        );
    }
    // A Developer reads account settings but may not change them; a Turnkey developer neither.
    app.create_user(&owner, "dev01", &["Developer"]).await;
    let dev = app.login(1, "dev01", PASSWORD).await;
    assert_eq!(app.call("GET", SSO, Some(&dev), None).await.0, 200);
    assert_eq!(
        app.call(
            "POST",
            SSO,
            Some(&dev),
            Some(json!({"email_domain": "evil.com"}))
        )
        .await
        .0,
        403
    );
    assert_eq!(app.call("DELETE", &one, Some(&dev), None).await.0, 403);
    app.create_user(&owner, "turnkey1", &["Turnkey Applications Developer"])
        .await;
    let turnkey = app.login(1, "turnkey1", PASSWORD).await;
    assert_eq!(app.call("GET", SSO, Some(&turnkey), None).await.0, 403);
    let (_, list) = app.call("GET", SSO, Some(&owner), None).await;
    assert_eq!(
        list["result"].as_array().unwrap().len(),
        1,
        "refusals made nothing"
    );
    assert_eq!(
        app.call("DELETE", &one, Some(&owner), None).await.1["result"],
        json!({"id": id})
    );
    assert_eq!(app.call("GET", &one, Some(&owner), None).await.0, 404);
    assert_eq!(
        app.call(
            "GET",
            "/v1/accounts/1/sso_connectors/ffffffffffffffffffffffffffffffff",
            Some(&owner),
            None
        )
        .await
        .0,
        404
    );
}

e2e!(
    service_keys_over_rest_mirror_the_method_api,
    sso_connectors_from_creation_to_deletion
);

async fn wait_status(app: &TestApp, token: &str, path: &str, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = app.call("GET", path, Some(token), None).await;
        if body["result"]["verification"]["status"] == want || Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The TXT record published, the verifier (through hickory, asking a local DNS responder) marks
/// the domain verified; once enabled, the domain's users cannot sign in with a password.
#[tokio::test]
async fn a_verified_enabled_connector_refuses_password_sign_in_for_its_domain() {
    let dns = DnsResponder::start();
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| {
        s.sso.nameserver = dns.addr.to_string();
        s.sso.verify_interval_secs = 1;
    })
    .await
    .unwrap();
    let owner = app.owner().await;
    let (_, c) = app
        .call(
            "POST",
            SSO,
            Some(&owner),
            Some(json!({"email_domain": "corp.example", "begin_verification": true})),
        )
        .await;
    let id = c["result"]["id"].as_str().unwrap().to_owned();
    assert_eq!(c["result"]["verification"]["status"], "pending");
    let one = format!("{SSO}/{id}");
    dns.set_txt("corp.example", &["v=spf1 -all", "something else"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, still) = app.call("GET", &one, Some(&owner), None).await;
    assert_eq!(
        still["result"]["verification"]["status"], "pending",
        "the wrong record does not verify"
    );
    dns.set_txt(
        "corp.example",
        &["v=spf1 -all", &format!("tessera_sso={id}")],
    );
    let body = wait_status(&app, &owner, &one, "verified").await;
    assert_eq!(
        body["result"]["verification"]["status"], "verified",
        "{body}"
    );

    let (status, _) = app
        .call(
            "POST",
            "/v1/accounts/1/users",
            Some(&owner),
            Some(
                json!({"login": "corpuser", "password": PASSWORD, "email": "someone@corp.example"}),
            ),
        )
        .await;
    assert_eq!(status, 200);
    app.create_user(&owner, "outsider", &[]).await;
    app.login(1, "corpuser", PASSWORD).await;
    let (status, _) = app
        .call("PATCH", &one, Some(&owner), Some(json!({"enabled": true})))
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"account_id": 1, "login": "corpuser", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("corp.example"),
        "{body}"
    );
    let refused: Vec<Value> = app
        .audit_events(&owner, "auth.failure")
        .await
        .into_iter()
        .filter(|e| e["actor"]["id"] == "corpuser")
        .collect();
    assert_eq!(refused.len(), 1, "the SSO refusal is audited: {refused:?}");
    assert!(
        refused[0]["details"]["reason"]
            .as_str()
            .unwrap()
            .contains("SSO connector"),
        "{refused:?}"
    );
    app.login(1, "outsider", PASSWORD).await;
}
