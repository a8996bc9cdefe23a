//! Push invalidation on Postgres: two instances share a database and read the authorization
//! versions only once a minute (`database.poll_interval_ms = 60000`). The second refuses a
//! credential revoked on the first within a second, its `/metrics` shows the eviction came from
//! a notification, and a change in another account evicts nothing there.

use std::time::{Duration, Instant};

use serde_json::json;
use tessera_tests::{DbBackend, TestApp};

const PUSHED: &str = r#"tessera_principal_evictions_total{source="pushed"}"#;
const ALL: &str = r#"tessera_principal_evictions_total{source="all"}"#;

/// Asks `b` with `token` until it answers `want`, for at most a second; how long it took.
async fn until_status(b: &TestApp, path: &str, token: &str, want: u16) -> Duration {
    let start = Instant::now();
    loop {
        let (status, body) = b.call("GET", path, Some(token), None).await;
        if status == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "still {status} {body} a second after the change on the other instance"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_revocation_on_one_instance_reaches_the_other_by_notification() {
    let Some(a) = TestApp::spawn_with(DbBackend::Postgres, |s| {
        s.database.poll_interval_ms = 60_000;
    })
    .await
    else {
        return;
    };
    let b = a.another();
    let owner = a.owner().await;
    let user = a.create_user(&owner, "pushed", &["Administrator"]).await;
    let read = format!("/v1/accounts/1/users/{user}");
    for trial in 0..5 {
        let (status, made) = a
            .call(
                "POST",
                &format!("/v1/accounts/1/users/{user}/access_keys"),
                Some(&owner),
                Some(json!({"name": format!("trial {trial}")})),
            )
            .await;
        assert_eq!(status, 200, "{made}");
        let token = made["result"]["token"].as_str().unwrap().to_owned();
        let id = made["result"]["id"].as_str().unwrap().to_owned();
        // Cached on B; more than a second later B still trusts its cache (the listener's
        // heartbeat keeps it fresh while the poll sleeps).
        assert_eq!(b.call("GET", &read, Some(&token), None).await.0, 200);
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(b.call("GET", &read, Some(&token), None).await.0, 200);
        let (status, body) = a
            .call(
                "DELETE",
                &format!("/v1/accounts/1/users/{user}/access_keys/{id}"),
                Some(&owner),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        until_status(&b, &read, &token, 401).await;
    }
    let scraped = b.scrape().await;
    let (pushed, flushed) = (scraped.value_or_zero(PUSHED), scraped.value_or_zero(ALL));
    assert!(
        pushed >= 5.0,
        "each deletion reached B by notification: {pushed}"
    );

    // Another account's change: B hears it, evicts that account's (absent) entries only, and
    // the key cached on B keeps being served from its cache.
    let (status, made) = a
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{user}/access_keys"),
            Some(&owner),
            Some(json!({"name": "stays cached"})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let token = made["result"]["token"].as_str().unwrap().to_owned();
    assert_eq!(b.call("GET", &read, Some(&token), None).await.0, 200);
    let child = a.child_account(&owner).await;
    let child_id = child["account_id"].as_i64().unwrap();
    let (status, body) = a
        .call(
            "PATCH",
            &format!("/v1/accounts/{child_id}"),
            Some(&owner),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while b.scrape().await.value_or_zero(PUSHED) <= pushed {
        assert!(
            Instant::now() < deadline,
            "B never heard of the child's change"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let scraped = b.scrape().await;
    assert_eq!(
        scraped.value_or_zero(ALL),
        flushed,
        "nothing dropped wholesale on B"
    );
    assert_eq!(b.call("GET", &read, Some(&token), None).await.0, 200);

    // A narrowing travels the same way: the user loses User Management read on A; B refuses
    // its session the next moment.
    let session = a.login(1, "pushed", tessera_tests::PASSWORD).await;
    let other = format!(
        "/v1/accounts/1/users/{}",
        a.initial_credentials()["owner"]["user_id"]
    );
    assert_eq!(b.call("GET", &other, Some(&session), None).await.0, 200);
    let (status, body) = a
        .call(
            "PATCH",
            &format!("/v1/accounts/1/users/{user}"),
            Some(&owner),
            Some(json!({"roles": []})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    until_status(&b, &other, &session, 403).await;
}
