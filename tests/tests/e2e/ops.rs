use std::time::{Duration, Instant};

use tessera_store::testing::TestDatabase;
use tessera_tests::proxy::{Proxy, through};
use tessera_tests::{DbBackend, TestApp, e2e, settings_for};

async fn health_answers_in_the_envelope(app: TestApp) {
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    assert_eq!(body["result"]["status"], "ok");
    assert_eq!(body["errors"], serde_json::json!([]));
}

async fn readiness_checks_the_database(app: TestApp) {
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["status"], "ready");
}

async fn metrics_count_requests_per_route_and_status(app: TestApp) {
    for _ in 0..3 {
        app.get_json("/healthz").await;
    }
    app.get_json("/no/such/route").await;
    let text = app.get_text("/metrics").await;
    assert!(
        text.contains(
            r#"tessera_http_requests_total{method="GET",route="/healthz",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"tessera_http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="0.5"} 3"#));
    assert!(text.contains(r#"route="unmatched",status="404""#));
}

async fn every_response_carries_a_request_id_and_a_sane_one_is_echoed(app: TestApp) {
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc.123");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id\twith spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "bad id\twith spaces");
}

e2e!(
    health_answers_in_the_envelope,
    readiness_checks_the_database,
    metrics_count_requests_per_route_and_status,
    every_response_carries_a_request_id_and_a_sane_one_is_echoed
);

async fn wait_for(app: &TestApp, path: &str, want: u16) -> (u16, serde_json::Value) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = app.get_json(path).await;
        if got.0 == want || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The database goes away under a running server (the connection is cut, as when Postgres
/// stops): readiness answers 503 in the envelope, nothing panics, and service resumes by itself
/// when the database is back.
#[tokio::test]
async fn postgres_outage_gives_503_and_service_resumes_without_a_restart() {
    let Some(db) = TestDatabase::postgres() else {
        return;
    };
    let tessera_store::DatabaseUrl::Postgres(url) = &db.url else {
        unreachable!()
    };
    let target = std::env::var("TEST_DATABASE_URL").unwrap();
    let host = target.split_once('@').map_or("127.0.0.1:5432", |(_, h)| {
        h.split(['/', '?']).next().unwrap()
    });
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    let target_addr = tokio::net::lookup_host(host).await.unwrap().next().unwrap();
    let proxy = Proxy::start(target_addr);
    let data_dir = std::env::temp_dir().join(format!("tessera-outage-{}", std::process::id()));
    let mut settings = settings_for(&db, &data_dir);
    settings.database.url = Some(through(url, proxy.addr));
    let app = TestApp::start(db, data_dir, settings, DbBackend::Postgres);
    assert_eq!(app.get_json("/readyz").await.0, 200);

    let before = app.scrape().await;
    proxy.cut();
    let (status, body) = wait_for(&app, "/readyz", 503).await;
    assert_eq!(status, 503, "{body}");
    // The first 503 may come from a query on a connection lent without a ping (it came back
    // less than a second ago); the next checkouts ping, fail, and wait for new connections.
    let deadline = Instant::now() + Duration::from_secs(30);
    for counter in [
        "tessera_db_pool_waits_total",
        "tessera_db_pool_timeouts_total",
    ] {
        loop {
            let during = app.scrape().await;
            if during.value(counter).unwrap() > before.value(counter).unwrap() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{counter} moves while the database is away"
            );
            assert_eq!(app.get_json("/readyz").await.0, 503);
        }
    }
    assert_eq!(body["success"], false);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unavailable")
    );
    assert_eq!(
        app.get_json("/healthz").await.0,
        200,
        "liveness does not depend on the database"
    );

    proxy.restore();
    let (status, body) = wait_for(&app, "/readyz", 200).await;
    assert_eq!(status, 200, "{body}");
}
