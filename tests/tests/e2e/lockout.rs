//! Attempt limits under attack: concurrent guesses, several instances on one database, and the
//! administrator's way out of a lockout.

use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp, e2e};

async fn two_instances_lock_a_login_after_the_same_failures(app: TestApp) {
    let owner = app.owner().await;
    let victim = app.create_user(&owner, "victim1", &["Developer"]).await;
    let b = app.another();
    for (i, server) in [&app, &app, &b, &app, &b].into_iter().enumerate() {
        assert_eq!(
            server.sign_in("victim1", "Wr0ng-Pass!").await.0,
            401,
            "failure {i}"
        );
    }
    assert_eq!(
        app.sign_in("victim1", PASSWORD).await.0,
        429,
        "locked on the first"
    );
    assert_eq!(
        b.sign_in("victim1", PASSWORD).await.0,
        429,
        "and on the second"
    );
    let lockout = format!("/v1/accounts/1/users/{victim}/lockout");
    let (status, body) = b.call("GET", &lockout, Some(&owner), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["locked"], true);
    assert_eq!(body["result"]["failures"], 5);
    let (status, body) = b.call("DELETE", &lockout, Some(&owner), None).await;
    assert_eq!(
        (status, &body["result"]["locked"]),
        (200, &json!(false)),
        "{body}"
    );
    assert_eq!(
        app.sign_in("victim1", PASSWORD).await.0,
        200,
        "cleared on both"
    );
    let cleared = app.audit_events(&owner, "user.lockout.clear").await;
    assert_eq!(cleared.len(), 1);
    assert_eq!(cleared[0]["target"], format!("user:{victim}"));
}

async fn concurrent_guesses_test_at_most_the_limit(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "victim2", &[]).await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for n in 0..40 {
        let app = app.clone();
        let password = if n % 10 == 9 { PASSWORD } else { "Wr0ng-Pass!" };
        tasks.push(tokio::spawn(async move {
            app.sign_in("victim2", password).await.0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let evaluated = statuses.iter().filter(|s| **s != 429).count();
    assert!(
        evaluated <= 5,
        "{evaluated} passwords evaluated against a limit of 5: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 401, 429].contains(s)),
        "{statuses:?}"
    );
}

async fn clearing_a_lockout_needs_managing_the_user(app: TestApp) {
    let owner = app.owner().await;
    let dev = app.create_user(&owner, "dev01", &["Developer"]).await;
    app.create_user(&owner, "manager1", &["User Manager"]).await;
    let manager = app.login(1, "manager1", PASSWORD).await;
    for _ in 0..5 {
        app.sign_in("admin", "Wr0ng-Pass!").await;
        app.sign_in("dev01", "Wr0ng-Pass!").await;
    }
    let (status, body) = app
        .call(
            "GET",
            "/v1/accounts/1/users/1/lockout",
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(
        (status, &body["result"]["locked"]),
        (200, &json!(true)),
        "{body}"
    );
    let (status, _) = app
        .call(
            "DELETE",
            "/v1/accounts/1/users/1/lockout",
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(
        status, 403,
        "a User Manager cannot free the Owner's login to keep guessing"
    );
    let dev_lockout = format!("/v1/accounts/1/users/{dev}/lockout");
    let (status, _) = app.call("DELETE", &dev_lockout, Some(&manager), None).await;
    assert_eq!(
        status, 403,
        "nor a Developer's: it does not hold Developer's permissions"
    );
    let (status, body): (u16, Value) = app.call("DELETE", &dev_lockout, Some(&owner), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.sign_in("dev01", PASSWORD).await.0, 200);
    assert_eq!(
        app.sign_in("admin", "Wr0ng-Pass!").await.0,
        429,
        "still locked"
    );
}

#[tokio::test]
async fn a_sign_in_storm_from_one_address_leaves_room_for_others() {
    let app = TestApp::spawn_with(tessera_tests::DbBackend::Sqlite, |s| {
        s.auth.sign_in_queue = 4;
        s.auth.sign_in_queue_per_address = 2;
        s.auth.max_failures_per_login = 10_000;
        s.auth.max_failures_per_address = 10_000;
    })
    .await
    .unwrap();
    let owner = app.owner().await;
    app.create_user(&owner, "insider", &[]).await;
    let app = std::sync::Arc::new(app);
    let mut storm = Vec::new();
    for n in 0..60 {
        let app = app.clone();
        storm.push(tokio::spawn(async move {
            let res = app
                .send(
                    "POST",
                    "/v1/sessions",
                    None,
                    &[],
                    Some(json!({"account_id": 1, "login": format!("storm{n}"), "password": "Wr0ng-Pass!"})),
                )
                .await;
            let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            (res.status().as_u16(), retry)
        }));
    }
    // A sign-in from another address during the storm is admitted.
    let other = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse::<std::net::IpAddr>().unwrap()))
        .build()
        .unwrap();
    let res = other
        .post(app.url("/v1/sessions"))
        .json(&json!({"account_id": 1, "login": "insider", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "the other address is not behind the storm"
    );
    let mut shed = 0;
    for t in storm {
        let (status, retry) = t.await.unwrap();
        match status {
            401 => {}
            503 => {
                shed += 1;
                assert_eq!(retry.as_deref(), Some("1"), "503 says when to retry");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        shed > 0,
        "a storm of 60 from one address against a share of 2 is shed"
    );
}

e2e!(
    two_instances_lock_a_login_after_the_same_failures,
    concurrent_guesses_test_at_most_the_limit,
    clearing_a_lockout_needs_managing_the_user,
);
