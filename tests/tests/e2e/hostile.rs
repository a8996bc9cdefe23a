//! Hostile traffic before any credential is checked: bodies that never end or never arrive,
//! invented names that would inflate metrics, smuggling-shaped requests, far-off dates, and
//! the files the server leaves on disk.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::{Value, json};
use tessera_tests::{DbBackend, TestApp, e2e};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The server's count of request body bytes read.
async fn body_bytes_read(app: &TestApp) -> u64 {
    let text = app.get_text("/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix("tessera_http_request_body_bytes_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// Sends `head` then up to `total` bytes of `filler` (in 64 KiB writes) until the server stops
/// reading; returns the answer's status line and body.
async fn stream_body(app: &TestApp, head: &str, filler: &[u8], total: usize) -> String {
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    // One continuous repetition of `filler`, written 64 KiB at a time.
    let mut bytes = filler.iter().copied().cycle();
    let mut sent = 0;
    while sent < total {
        let chunk: Vec<u8> = bytes.by_ref().take(65_536).collect();
        if s.write_all(&chunk).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let mut answer = Vec::new();
    let _read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn bodies_count_every_byte_and_stop_at_the_limit(app: TestApp) {
    let limit = app.settings.server.max_body_bytes as u64;
    let before = body_bytes_read(&app).await;
    // 100,000 multipart parts with long names, streamed, several at once.
    let boundary = "XyZ";
    let part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\nv\r\n",
        "n".repeat(200)
    );
    let head = format!(
        "POST /platform_api/GetRoles HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    // Chunked encoding of one part per chunk.
    let chunked = format!("{:x}\r\n{part}\r\n", part.len());
    let total = chunked.len() * 100_000;
    let answers = futures_join(
        (0..4)
            .map(|_| stream_body(&app, &head, chunked.as_bytes(), total))
            .collect(),
    )
    .await;
    for a in &answers {
        assert!(a.starts_with("HTTP/1.1 200"), "{a}");
        assert!(
            a.contains("at most 64 parts")
                || a.contains("too large")
                || a.contains("at most 64 bytes"),
            "{a}"
        );
    }
    // A 200 MB JSON body without a length, and one with its length declared.
    let json_head = "POST /v1/sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let filler = b"10000\r\n"
        .iter()
        .copied()
        .chain(std::iter::repeat_n(b' ', 65_536))
        .chain(*b"\r\n")
        .collect::<Vec<u8>>();
    let a = stream_body(&app, json_head, &filler, 200 << 20).await;
    assert!(a.starts_with("HTTP/1.1 413"), "{a}");
    let declared = "POST /v1/sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\n\r\n";
    let a = stream_body(&app, declared, b" ", 200 << 20).await;
    assert!(a.starts_with("HTTP/1.1 413"), "{a}");
    assert!(a.to_ascii_lowercase().contains("connection: close"), "{a}");
    let read = body_bytes_read(&app).await - before;
    assert!(
        read <= 6 * (limit + 65_536 * 2),
        "five bodies of about 200 MB each, {read} bytes read (limit {limit})"
    );
}

/// Runs the futures to completion, concurrently.
async fn futures_join<F: std::future::Future<Output = String>>(list: Vec<F>) -> Vec<String> {
    let mut handles = Vec::new();
    for f in list {
        handles.push(f);
    }
    let mut out = Vec::new();
    // Poll them together: join_all without pulling in futures-util.
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = handles.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<String>> = vec![None; pinned.len()];
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if done[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => done[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.extend(done.into_iter().flatten());
    out
}

#[tokio::test]
async fn a_slow_body_is_cut() {
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| s.server.body_timeout_secs = 1)
        .await
        .unwrap();
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(
        b"POST /v1/sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"acc",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("did not arrive in time"), "{answer}");
}

async fn metric_labels_come_from_closed_sets(app: TestApp) {
    for n in 0..20 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{n}").as_bytes()).unwrap();
        app.client
            .request(method, app.url(&format!("/nowhere/{n}")))
            .send()
            .await
            .unwrap();
        let answer = app
            .rpc(None, tessera_tests::Via::Form, &format!("Bogus{n}"), &[])
            .await;
        assert_eq!(answer["error"]["code"], 103);
    }
    app.rpc(
        Some(&app.owner_jwt()),
        tessera_tests::Via::Form,
        "GetRoles",
        &[],
    )
    .await;
    let metrics = app.get_text("/metrics").await;
    assert!(!metrics.contains("INVENTED"), "no invented HTTP method");
    assert!(!metrics.contains("Bogus"), "no invented RPC method");
    assert!(!metrics.contains("/nowhere"), "no raw path");
    assert!(metrics.contains("method=\"OTHER\""), "{metrics}");
    assert!(metrics.contains("route=\"unmatched\""));
    assert!(
        metrics.contains("tessera_rpc_calls_total{code=\"103\",method=\"unknown\"} 20"),
        "{metrics}"
    );
    assert!(metrics.contains("tessera_rpc_calls_total{code=\"ok\",method=\"GetRoles\"} 1"));
}

async fn smuggling_shaped_requests_are_refused_and_the_connection_closed(app: TestApp) {
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(
        b"POST /v1/sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("Content-Length and Transfer-Encoding"),
        "{answer}"
    );
    assert!(
        !answer.contains("200 OK") && !answer.contains("\"status\":\"ok\""),
        "the smuggled request is never served: {answer}"
    );
}

async fn head_is_answered_wherever_get_is(app: TestApp) {
    let token = app.owner().await;
    for (path, auth) in [
        ("/healthz", false),
        ("/readyz", false),
        ("/openapi.json", false),
        ("/docs/", false),
        ("/v1/accounts", true),
        ("/v1/accounts/1/users/1", true),
    ] {
        let mut req = app.client.head(app.url(path));
        if auth {
            req = req.bearer_auth(&token);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200, "HEAD {path}");
        assert!(
            res.bytes().await.unwrap().is_empty(),
            "HEAD {path} has no body"
        );
    }
    let res = app
        .client
        .head(app.url("/v1/accounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "HEAD decides like GET");
}

async fn audit_filters_refuse_far_dates_and_compare_the_same_on_both_backends(app: TestApp) {
    let owner = app.owner().await;
    let audit = |q: &str| format!("/v1/accounts/1/audit_logs?{q}");
    for q in [
        "since=-4713-01-01T00:00:00Z",
        "since=%2B99999-01-01T00:00:00Z",
        "before=1969-12-31T23:59:59Z",
    ] {
        let (status, body) = app.call("GET", &audit(q), Some(&owner), None).await;
        assert_eq!(status, 400, "{q}: {body}");
        assert!(body.to_string().contains("must be between"), "{body}");
    }
    let count = |body: &Value| body["result"].as_array().unwrap().len();
    let (status, late) = app
        .call(
            "GET",
            &audit("since=9999-12-31T23:59:59Z"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!((status, count(&late)), (200, 0), "nothing is that late");
    let (_, early) = app
        .call(
            "GET",
            &audit("before=1970-01-02T00:00:00Z"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(count(&early), 0, "nothing is that early");
    let (_, all) = app
        .call(
            "GET",
            &audit("since=2000-01-01T00:00:00Z"),
            Some(&owner),
            None,
        )
        .await;
    assert!(count(&all) >= 2, "the bootstrap and the sign-in: {all}");
}

#[tokio::test]
async fn the_data_directory_and_the_database_are_private() {
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| {
        s.data_dir = s.data_dir.join("fresh").join("data");
        s.database.url = None;
    })
    .await
    .unwrap();
    let owner = app.owner().await;
    let (status, _) = app
        .call(
            "POST",
            "/v1/accounts/1/users",
            Some(&owner),
            Some(json!({"login": "writer1"})),
        )
        .await;
    assert_eq!(status, 200);
    let dir = &app.settings.data_dir;
    let mode = |p: std::path::PathBuf| std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir.clone()), 0o700, "{}", dir.display());
    for file in [
        "tessera.db",
        "tessera.db-wal",
        "tessera.db-shm",
        "initial-credentials.json",
        "credentials.json",
    ] {
        assert_eq!(mode(dir.join(file)), 0o600, "{file}");
    }
}

e2e!(
    bodies_count_every_byte_and_stop_at_the_limit,
    metric_labels_come_from_closed_sets,
    smuggling_shaped_requests_are_refused_and_the_connection_closed,
    head_is_answered_wherever_get_is,
    audit_filters_refuse_far_dates_and_compare_the_same_on_both_backends,
);
