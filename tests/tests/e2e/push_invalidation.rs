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

/// Ending a session on one instance reaches the other within a second: the user ends one of its
/// sessions on A (`DELETE /v1/sessions/{id}`), an administrator ends all of them on A, and B —
/// which reads the versions once a minute but hears Postgres's notifications — refuses each
/// token the next moment, though it had it cached.
#[tokio::test]
async fn an_ended_session_fails_on_the_other_instance_within_a_second() {
    let Some(a) = TestApp::spawn_with(DbBackend::Postgres, |s| {
        s.database.poll_interval_ms = 60_000;
    })
    .await
    else {
        return;
    };
    let b = a.another();
    let owner = a.owner().await;
    let user = a.create_user(&owner, "roaming", &[]).await;
    let sign_in = || async {
        let (status, body) = a
            .call(
                "POST",
                "/v1/sessions",
                None,
                Some(json!({"account_id": 1, "login": "roaming", "password": tessera_tests::PASSWORD})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        (
            body["result"]["token"].as_str().unwrap().to_owned(),
            body["result"]["session_id"].as_str().unwrap().to_owned(),
        )
    };
    let read = "/v1/sessions";
    for _ in 0..3 {
        let (kept, _) = sign_in().await;
        let (ended, id) = sign_in().await;
        // Cached on B, and trusted past a second (the listener's heartbeat keeps it fresh).
        assert_eq!(b.call("GET", read, Some(&ended), None).await.0, 200);
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(b.call("GET", read, Some(&ended), None).await.0, 200);
        let (status, body) = a
            .call("DELETE", &format!("/v1/sessions/{id}"), Some(&kept), None)
            .await;
        assert_eq!(status, 200, "{body}");
        until_status(&b, read, &ended, 401).await;
        assert_eq!(b.call("GET", read, Some(&kept), None).await.0, 200);
    }
    let (first, _) = sign_in().await;
    let (second, _) = sign_in().await;
    for token in [&first, &second] {
        assert_eq!(b.call("GET", read, Some(token), None).await.0, 200);
    }
    let (status, body) = a
        .call(
            "DELETE",
            &format!("/v1/accounts/1/users/{user}/sessions"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    until_status(&b, read, &first, 401).await;
    until_status(&b, read, &second, 401).await;
    let pushed = b.scrape().await.value_or_zero(PUSHED);
    assert!(
        pushed >= 4.0,
        "the endings reached B by notification: {pushed}"
    );
}
