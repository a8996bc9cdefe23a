//! The findings of an adversarial review of the operator metrics, paging and error-message
//! work (i12), one regression test each.

use tessera_tests::{TestApp, e2e, jwt, unix_now};

/// Every `tessera_auth_failures_total` series, as `(kind, value)`.
fn failures(scrape: &tessera_tests::metrics::Scrape) -> Vec<(String, f64)> {
    scrape
        .0
        .lines()
        .filter_map(|l| l.strip_prefix("tessera_auth_failures_total{kind=\""))
        .filter_map(|l| {
            let (kind, rest) = l.split_once("\"} ")?;
            Some((kind.to_owned(), rest.parse().ok()?))
        })
        .collect()
}

/// How each failure kind moved while `bearer` was refused once.
async fn moved_by(app: &TestApp, bearer: &str) -> Vec<(String, f64)> {
    let before = failures(&app.scrape().await);
    let status = app
        .send(
            "GET",
            "/v1/accounts/1/users",
            None,
            &[("authorization", &format!("Bearer {bearer}"))],
            None,
        )
        .await
        .status()
        .as_u16();
    assert_eq!(status, 401, "{bearer}");
    let after = failures(&app.scrape().await);
    assert_eq!(before.len(), after.len());
    after
        .into_iter()
        .zip(before)
        .map(|((kind, a), (_, b))| (kind, a - b))
        .collect()
}

/// R1: `/metrics` (unauthenticated) told which key ids exist: an invented access key id moved
/// `unknown_key`, a real one with a wrong secret `bad_secret`; a JWT naming an invented
/// service key id `unknown_key`, a real one with a bad signature `invalid_jwt`. Whoever could
/// read the metrics and send a request learnt whether a key id (say, of a revoked key) was
/// still there. Now each pair moves the same series.
async fn metrics_do_not_tell_which_key_ids_exist(app: TestApp) {
    let creds = app.initial_credentials();
    let key_id = creds["access_key"]["id"].as_str().unwrap();
    let real = moved_by(&app, &format!("tsr_{key_id}_wrong")).await;
    let invented = moved_by(&app, "tsr_AKZZZZZZZZZZZZZZZZZZ_wrong").await;
    assert_eq!(real, invented, "access keys");
    assert!(real.iter().any(|(k, d)| k == "bad_secret" && *d == 1.0));

    let now = unix_now();
    let token = jwt(&creds["service_key"], now - 5, now + 60);
    let (head, signature) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", signature.chars().rev().collect::<String>());
    let mut other = creds["service_key"].clone();
    other["key_id"] = "0b5d2c7e-1f7a-4c5e-9d42-6a3b2f1e0c9d".into();
    let unknown = jwt(&other, now - 5, now + 60);
    let real = moved_by(&app, &forged).await;
    let invented = moved_by(&app, &unknown).await;
    assert_eq!(real, invented, "service keys");
    assert!(real.iter().any(|(k, d)| k == "invalid_jwt" && *d == 1.0));
    assert!(
        failures(&app.scrape().await)
            .iter()
            .all(|(k, _)| k != "unknown_key"),
        "no kind tells an unknown key apart"
    );
}

/// R2: `GET /v1/accounts` by a user without Manage Enterprise Accounts read answered 200 (its
/// own account) and counted a denial of `enterprise_accounts` each time — so a client paging
/// the list (the Cloudflare SDK asks twice) showed as refused, and the denial series no longer
/// meant "someone was refused". Likewise a service key listing itself without API Credentials
/// read. Choosing how to serve a request is not a refusal.
async fn serving_a_request_another_way_is_no_denial(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "dev01", &["Developer"]).await;
    let dev = app.login(1, "dev01", tessera_tests::PASSWORD).await;
    let series = r#"tessera_authz_denials_total{capability="enterprise_accounts"}"#;
    let before = app.scrape().await.value_or_zero(series);
    for page in 1..=2 {
        let (status, body) = app
            .call(
                "GET",
                &format!("/v1/accounts?page={page}"),
                Some(&dev),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, body) = app.call("GET", "/v1/accounts", Some(&dev), None).await;
    assert_eq!(body["result"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(app.scrape().await.value_or_zero(series), before);

    // A real refusal still counts.
    let refused = r#"tessera_authz_denials_total{capability="user_management"}"#;
    let before = app.scrape().await.value_or_zero(refused);
    let (status, _) = app
        .call("GET", "/v1/accounts/1/users", Some(&dev), None)
        .await;
    assert_eq!(status, 403);
    assert_eq!(app.scrape().await.value_or_zero(refused), before + 1.0);
}

e2e!(
    metrics_do_not_tell_which_key_ids_exist,
    serving_a_request_another_way_is_no_denial,
);
