//! Users cannot leave (or enter) a domain an SSO connector of their account has verified by
//! changing their own email: through REST and through the method API, whatever the case, on
//! both backends. Administrators (User Management write) still can.

use serde_json::{Value, json};
use tessera_tests::Via;
use tessera_tests::dns::DnsResponder;
use tessera_tests::{DbBackend, PASSWORD, TestApp};

const DOMAIN: &str = "link.example";

async fn email_of(app: &TestApp, owner: &str, id: i64) -> Value {
    let (status, u) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/users/{id}"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{u}");
    u["result"]["email"].clone()
}

async fn own_email_change_is_refused_into_and_out_of_a_verified_domain(backend: DbBackend) {
    let dns = DnsResponder::start();
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.sso.nameserver = dns.addr.to_string();
        s.sso.verify_interval_secs = 1;
    })
    .await
    else {
        eprintln!("{backend:?}: skipped");
        return;
    };
    let owner = app.owner().await;
    let (status, c) = app
        .call(
            "POST",
            "/v1/accounts/1/sso_connectors",
            Some(&owner),
            Some(json!({"email_domain": DOMAIN, "begin_verification": true})),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    let connector = c["result"]["id"].as_str().unwrap().to_owned();
    app.verify_and_enable_sso(&owner, &dns, &connector, DOMAIN)
        .await;
    let dev = app.create_user(&owner, "dev01", &["Developer"]).await;
    let token = app.login(1, "dev01", PASSWORD).await;
    let own = format!("/v1/accounts/1/users/{dev}");
    let patch = |email: &'static str| {
        let (app, token, own) = (&app, token.clone(), own.clone());
        async move {
            app.call("PATCH", &own, Some(&token), Some(json!({ "email": email })))
                .await
        }
    };
    // Into the domain, in any case: refused, nothing changed.
    for into in ["dev@link.example", "Dev@LINK.Example", "dev@link.EXAMPLE"] {
        let (status, body) = patch(into).await;
        assert_eq!(status, 400, "{into}: {body}");
        assert_eq!(body["errors"][0]["code"], 4000, "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(DOMAIN),
            "{body}"
        );
        assert_eq!(email_of(&app, &owner, dev).await, "dev01@example.com");
    }
    // A subdomain is not the verified domain (SSO refuses its addresses): self-service.
    let (status, body) = patch("dev@sub.link.example").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = patch("dev01@example.com").await;
    assert_eq!(status, 200, "{body}");
    // The method API has no way to change an email: a stray `email` changes nothing.
    let _answer = app
        .rpc(
            Some(&token),
            Via::Form,
            "SetSubUserInfo",
            &[
                ("subuser_id", &dev.to_string()),
                ("email", "dev@link.example"),
                ("description", "mine"),
            ],
        )
        .await;
    assert_eq!(email_of(&app, &owner, dev).await, "dev01@example.com");
    // An administrator moves the user into the domain; the user cannot move out, nor change
    // the address's case.
    let (status, body) = app
        .call(
            "PATCH",
            &own,
            Some(&owner),
            Some(json!({"email": "dev@link.example"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for out in [
        "dev01@example.com",
        "Dev@Link.Example",
        "dev@sub.link.example",
    ] {
        let (status, body) = patch(out).await;
        assert_eq!(status, 400, "{out}: {body}");
        assert_eq!(email_of(&app, &owner, dev).await, "dev@link.example");
    }
    let (status, body) = app
        .call("PATCH", &own, Some(&token), Some(json!({"email": null})))
        .await;
    assert_eq!(status, 400, "clearing it leaves the domain too: {body}");
    assert_eq!(email_of(&app, &owner, dev).await, "dev@link.example");
}

#[tokio::test]
async fn own_email_change_is_refused_into_and_out_of_a_verified_domain_on_sqlite() {
    own_email_change_is_refused_into_and_out_of_a_verified_domain(DbBackend::Sqlite).await;
}

#[tokio::test]
async fn postgres_own_email_change_is_refused_into_and_out_of_a_verified_domain() {
    own_email_change_is_refused_into_and_out_of_a_verified_domain(DbBackend::Postgres).await;
}
