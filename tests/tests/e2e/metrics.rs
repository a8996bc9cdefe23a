//! What operators see on `/metrics`: every metric moves with the traffic that should move it,
//! label sets stay closed whatever a client invents, and the Grafana dashboard queries only
//! metrics the server exports.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tessera_tests::{DbBackend, PASSWORD, TestApp, Via, e2e, unix_now};

/// The backend label of `tessera_build_info`.
fn backend_label(app: &TestApp) -> &'static str {
    match app.backend() {
        DbBackend::Postgres => "postgres",
        DbBackend::Sqlite => "sqlite",
    }
}

/// A request to a route that needs a credential, with `headers`; its status.
async fn authenticated_get(app: &TestApp, headers: &[(&str, &str)]) -> u16 {
    app.send("GET", "/v1/accounts/1/users", None, headers, None)
        .await
        .status()
        .as_u16()
}

/// Refused authentications of each kind, a denial, method-API calls and sign-ins each move
/// their own series by exactly what happened, and nothing else of theirs.
async fn operator_metrics_move_with_traffic(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "dev01", &["Developer"]).await;
    let before = app.scrape().await;

    assert_eq!(app.sign_in("admin", "Wrong-pass-1").await.0, 401);
    let dev = app.login(1, "dev01", PASSWORD).await;
    let creds = app.initial_credentials();
    let token = creds["access_key"]["token"].as_str().unwrap();
    let key_id = creds["access_key"]["id"].as_str().unwrap();
    let wrong_secret = format!("Bearer tsr_{key_id}_wrong");
    for (headers, kind) in [
        ([("authorization", wrong_secret.as_str())], "bad_secret"),
        ([("authorization", "Bearer tsr_nope")], "malformed"),
        ([("authorization", "Bearer not-a-jwt")], "invalid_jwt"),
        (
            [("authorization", "Bearer tss_invented")],
            "unknown_session",
        ),
    ] {
        assert_eq!(authenticated_get(&app, &headers).await, 401, "{kind}");
    }
    let expired = tessera_tests::jwt(&creds["service_key"], unix_now() - 200, unix_now() - 100);
    assert_eq!(
        authenticated_get(&app, &[("authorization", &format!("Bearer {expired}"))]).await,
        401
    );
    let (status, body) = app
        .call("GET", "/v1/accounts/1/users", Some(&dev), None)
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        authenticated_get(&app, &[("authorization", &format!("Bearer {token}"))]).await,
        200
    );
    let roles = app
        .rpc(Some(&app.owner_jwt()), Via::Form, "GetRoles", &[])
        .await;
    assert!(tessera_tests::rpc_ok(&roles).is_array(), "{roles}");
    let unknown = app.rpc(None, Via::Form, "NoSuchMethod", &[]).await;
    assert_eq!(tessera_tests::rpc_code(&unknown), 103);
    let after = app.scrape().await;

    let moved = |series: &str| after.value_or_zero(series) - before.value_or_zero(series);
    for kind in [
        "bad_password",
        "bad_secret",
        "malformed",
        "invalid_jwt",
        "unknown_session",
        "expired_jwt",
    ] {
        assert_eq!(
            moved(&format!(r#"tessera_auth_failures_total{{kind="{kind}"}}"#)),
            1.0,
            "{kind}: {}",
            after.0
        );
    }
    for kind in [
        "locked_login",
        "locked_address",
        "inactive_user",
        "sso_required",
    ] {
        assert_eq!(
            after.value(&format!(r#"tessera_auth_failures_total{{kind="{kind}"}}"#)),
            Some(0.0),
            "every kind is exported from the start, at 0"
        );
    }
    assert_eq!(
        moved(r#"tessera_authz_denials_total{capability="user_management"}"#),
        1.0,
        "{}",
        after.0
    );
    assert_eq!(
        after.value(r#"tessera_authz_denials_total{capability="whitelabeling"}"#),
        Some(0.0)
    );
    assert_eq!(
        moved(r#"tessera_sign_in_gate_total{decision="admitted"}"#),
        2.0
    );
    assert_eq!(
        after.value(r#"tessera_sign_in_gate_total{decision="rejected"}"#),
        Some(0.0)
    );
    assert_eq!(after.value("tessera_sign_in_gate_in_progress"), Some(0.0));
    assert_eq!(after.value("tessera_sign_in_gate_capacity"), Some(1000.0));
    assert_eq!(
        moved(r#"tessera_rpc_calls_total{code="ok",method="GetRoles"}"#),
        1.0,
        "{}",
        after.0
    );
    assert_eq!(
        moved(r#"tessera_rpc_calls_total{code="103",method="unknown"}"#),
        1.0
    );

    // The pool: four connections at most (the tests' pool size), none in use between requests.
    assert_eq!(after.value("tessera_db_pool_max_connections"), Some(4.0));
    let open = after.value("tessera_db_pool_connections").unwrap();
    assert!(open >= 1.0, "{open}");
    assert_eq!(
        after.value("tessera_db_pool_idle").unwrap()
            + after.value("tessera_db_pool_in_use").unwrap(),
        open
    );
    assert!(after.value("tessera_db_pool_waits_total").is_some());
    assert!(after.value("tessera_db_pool_timeouts_total").is_some());
    assert_eq!(after.value("tessera_argon2_queue_depth"), Some(0.0));
    assert_eq!(after.value("tessera_argon2_running"), Some(0.0));
    assert!(after.value("tessera_argon2_threads").unwrap() >= 1.0);

    let build = format!(
        r#"tessera_build_info{{backend="{}",git_commit="{}",version="{}"}}"#,
        backend_label(&app),
        tessera_server::startup::GIT_COMMIT,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(after.value(&build), Some(1.0), "{}", after.0);
    assert!(!tessera_server::startup::GIT_COMMIT.is_empty());

    // The process, read from /proc at each scrape (the server runs in this test's process):
    // CPU in whole seconds (the collector's resolution), as the kernel counts it around a scrape.
    assert!(after.value("process_resident_memory_bytes").unwrap() > 0.0);
    assert!(after.value("process_open_fds").unwrap() > 0.0);
    let low = cpu_seconds();
    let cpu = app
        .scrape()
        .await
        .value("process_cpu_seconds_total")
        .unwrap();
    let high = cpu_seconds();
    assert!(
        low.floor() <= cpu && cpu <= high.floor(),
        "{low} <= {cpu} <= {high}"
    );
    #[allow(clippy::cast_precision_loss)]
    let now = unix_now() as f64;
    let started = after.value("process_start_time_seconds").unwrap();
    assert!(started > 0.0 && started <= now, "{started}");
}

/// This process's CPU time from `/proc/self/stat` (user + system), seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let per_second: u64 = String::from_utf8(
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    #[allow(clippy::cast_precision_loss)]
    let secs = ticks as f64 / per_second as f64;
    secs
}

/// One round of invented names: HTTP methods and paths, method-API methods, credential
/// shapes (`basic` is base64 of `tag:tag`); each answered, none named in a metric.
async fn invent(app: &TestApp, tag: &str, basic: &str) {
    let method = reqwest::Method::from_bytes(format!("INVENT{tag}").as_bytes()).unwrap();
    app.client
        .request(method, app.url(&format!("/invented/{tag}")))
        .send()
        .await
        .unwrap();
    app.call("GET", &format!("/v1/{tag}/whatever"), None, None)
        .await;
    let answer = app
        .rpc(None, Via::Form, &format!("Invented{tag}"), &[])
        .await;
    assert_eq!(tessera_tests::rpc_code(&answer), 103);
    let answer = app
        .rpc(None, Via::Path, &format!("Invented{tag}"), &[])
        .await;
    assert_eq!(tessera_tests::rpc_code(&answer), 103);
    let basic = format!("Basic {basic}");
    let bearer = format!("Bearer tsr_{tag}");
    let scheme = format!("{tag} credential");
    for headers in [
        vec![("authorization", basic.as_str())],
        vec![("authorization", bearer.as_str())],
        vec![("authorization", scheme.as_str())],
        vec![("x-auth-email", tag), ("x-auth-key", tag)],
    ] {
        assert_eq!(authenticated_get(app, &headers).await, 401, "{headers:?}");
    }
    let answer = app
        .rpc(
            None,
            Via::Form,
            "GetRoles",
            &[("account_name", tag), ("api_key", tag)],
        )
        .await;
    assert_eq!(tessera_tests::rpc_code(&answer), 100);
    assert_eq!(app.sign_in(tag, "Wrong-pass-1").await.0, 401);
}

/// Invented names never become label values: a second round with other names adds no series.
async fn label_sets_stay_closed_whatever_clients_invent(app: TestApp) {
    // A first scrape, so that the series of `GET /metrics` itself exist before counting.
    app.scrape().await;
    invent(&app, "alpha", "YWxwaGE6YWxwaGE=").await;
    let first = app.scrape().await;
    invent(&app, "bravo", "YnJhdm86YnJhdm8=").await;
    let second = app.scrape().await;
    assert_eq!(
        second.series(),
        first.series(),
        "new series:\n{}",
        second
            .0
            .lines()
            .filter(|l| !first.0.contains(l.split(' ').next().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for tag in ["alpha", "bravo"] {
        assert!(!second.0.contains(tag), "{tag} named in a metric");
    }
    assert_eq!(
        second.value(r#"tessera_auth_failures_total{kind="malformed"}"#),
        Some(8.0),
        "a Basic pair, a tsr_ token, an X-Auth-Key and an api_key that do not parse, per round"
    );
}

/// The metric names a PromQL expression uses (ours and the process collector's).
fn metric_names(expr: &str) -> BTreeSet<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| w.starts_with("tessera_") || w.starts_with("process_"))
        .map(str::to_owned)
        .collect()
}

fn dashboard() -> Value {
    serde_json::from_str(include_str!("../../../deploy/grafana/tessera.json"))
        .expect("the dashboard is JSON")
}

/// Every expression of the dashboard: its panels' targets and its query variables.
fn expressions(dashboard: &Value) -> Vec<String> {
    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            exprs.push(target["expr"].as_str().expect("expr").to_owned());
        }
    }
    for var in dashboard["templating"]["list"]
        .as_array()
        .expect("variables")
    {
        if var["type"] == "query" {
            exprs.push(var["query"]["query"].as_str().expect("query").to_owned());
        }
    }
    exprs
}

/// The dashboard is a Grafana dashboard model over a Prometheus data-source variable, and
/// every metric its queries use is one the server exports (scraped after a sign-in failure, a
/// method-API call and a denied request).
async fn the_dashboard_queries_only_exported_metrics(app: TestApp) {
    let d = dashboard();
    assert!(d["title"].is_string() && d["uid"].is_string());
    assert!(d["schemaVersion"].as_u64().unwrap() >= 36);
    let vars = d["templating"]["list"].as_array().unwrap();
    assert!(
        vars.iter().any(|v| v["type"] == "datasource"
            && v["query"] == "prometheus"
            && v["name"] == "datasource"),
        "a Prometheus data-source variable"
    );
    let mut ids = BTreeSet::new();
    for panel in d["panels"].as_array().unwrap() {
        assert!(
            ids.insert(panel["id"].as_u64().unwrap()),
            "panel ids are unique"
        );
        for key in ["h", "w", "x", "y"] {
            assert!(panel["gridPos"][key].is_u64(), "{panel}");
        }
        if panel["type"] != "row" {
            assert_eq!(panel["datasource"]["uid"], "${datasource}", "{panel}");
            assert!(!panel["targets"].as_array().unwrap().is_empty());
        }
    }

    let owner = app.owner().await;
    app.create_user(&owner, "dev01", &["Developer"]).await;
    let dev = app.login(1, "dev01", PASSWORD).await;
    assert_eq!(app.sign_in("admin", "Wrong-pass-1").await.0, 401);
    let roles = app
        .rpc(Some(&app.owner_jwt()), Via::Form, "GetRoles", &[])
        .await;
    assert!(tessera_tests::rpc_ok(&roles).is_array(), "{roles}");
    let (status, _) = app
        .call("GET", "/v1/accounts/1/users", Some(&dev), None)
        .await;
    assert_eq!(status, 403);
    let exported = app.scrape().await.names();

    let used: BTreeSet<String> = expressions(&d)
        .iter()
        .flat_map(|e| metric_names(e))
        .collect();
    assert!(used.len() >= 20, "{used:?}");
    let missing: Vec<_> = used.difference(&exported).collect();
    assert!(missing.is_empty(), "not exported: {missing:?}");
    for family in [
        "tessera_auth_failures_total",
        "tessera_authz_denials_total",
        "tessera_rpc_calls_total",
        "tessera_db_pool_in_use",
        "tessera_argon2_queue_depth",
        "tessera_sign_in_gate_in_progress",
        "tessera_build_info",
        "process_resident_memory_bytes",
    ] {
        assert!(used.contains(family), "the dashboard shows {family}");
    }
}

e2e!(
    operator_metrics_move_with_traffic,
    label_sets_stay_closed_whatever_clients_invent,
    the_dashboard_queries_only_exported_metrics,
);

/// A storm of sign-ins against one hashing thread: the hashing queue and the gate show it
/// while it lasts (polled until seen), the gate rejects what exceeds it, and both are back to
/// zero after. (The gate and the hasher do not depend on the backend: SQLite only.)
#[tokio::test]
async fn the_hashing_queue_and_the_sign_in_gate_show_a_storm() {
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| {
        s.auth.hash_concurrency = 1;
        // Slow hashes, so that the storm lasts while the test looks at it.
        s.auth.argon2_iterations = 40;
        s.auth.sign_in_queue = 3;
        s.auth.sign_in_queue_per_address = 3;
    })
    .await
    .unwrap();
    let before = app.scrape().await;
    let storm: Vec<_> = (0..5)
        .map(|n| {
            let client = app.client.clone();
            let url = app.url("/v1/sessions");
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"account_id": 1, "login": format!("storm{n}"), "password": "Wrong-pass-1"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut seen_queue = false;
    let mut seen_gate = false;
    while !(seen_queue && seen_gate) && storm.iter().any(|s| !s.is_finished()) {
        let now = app.scrape().await;
        seen_queue |= now.value("tessera_argon2_queue_depth").unwrap() >= 1.0
            && now.value("tessera_argon2_running").unwrap() == 1.0;
        seen_gate |= now.value("tessera_sign_in_gate_in_progress").unwrap() >= 2.0;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(seen_queue, "hashes queued behind the one hashing thread");
    assert!(seen_gate, "sign-ins in the gate");
    let mut statuses = Vec::new();
    for s in storm {
        statuses.push(s.await.unwrap());
    }
    let refused = statuses.iter().filter(|s| **s == 503).count();
    let failed = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(
        (refused, failed),
        (2, 3),
        "the gate admits three, rejects the rest: {statuses:?}"
    );
    let after = app.scrape().await;
    let moved = |series: &str| after.value_or_zero(series) - before.value_or_zero(series);
    #[allow(clippy::cast_precision_loss)]
    let (refused, failed) = (refused as f64, failed as f64);
    assert_eq!(
        moved(r#"tessera_sign_in_gate_total{decision="rejected"}"#),
        refused
    );
    assert_eq!(
        moved(r#"tessera_sign_in_gate_total{decision="admitted"}"#),
        failed
    );
    assert_eq!(
        moved(r#"tessera_auth_failures_total{kind="bad_password"}"#),
        failed
    );
    assert_eq!(after.value("tessera_sign_in_gate_in_progress"), Some(0.0));
    assert_eq!(after.value("tessera_argon2_queue_depth"), Some(0.0));
    assert_eq!(after.value("tessera_argon2_threads"), Some(1.0));
}
