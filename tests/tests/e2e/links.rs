//! Every local link that README.md, docs/*.md and the startup log print answers (a redirect is
//! followed; a 404 or a 5xx fails), and `/`, `/docs` and `/v1` lead to Swagger UI.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tessera_tests::TestApp;

/// What the server's own crate logs, captured since the first test that asked for it.
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capture as the process's subscriber (the server's logs go where the binary's
/// `telemetry::init` would send them, formatted by the same `fmt` layer).
fn capture_logs() {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let installed = *INSTALLED.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("tessera_server=info"))
            .with_writer(|| Capture)
            .with_ansi(false)
            .try_init()
            .is_ok()
    });
    assert!(installed, "another subscriber was installed first");
}

/// The captured lines that contain `needle`, waiting (up to 20 s) for at least one.
async fn log_lines_with(needle: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines: Vec<String> = String::from_utf8_lossy(
            &LOG.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect();
        if !lines.is_empty() || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the repository")
        .to_path_buf()
}

/// README.md and docs/*.md, each with its name.
fn documents() -> Vec<(String, String)> {
    let root = repo_root();
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a readable document");
            (
                p.strip_prefix(&root).unwrap_or(&p).display().to_string(),
                text,
            )
        })
        .collect()
}

/// The path of every URL in `text` on one of `origins` (`http://127.0.0.1:8080`), `/` when it
/// has none.
fn urls_on(text: &str, origins: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for origin in origins {
        let mut rest = text;
        while let Some(at) = rest.find(origin.as_str()) {
            let after = &rest[at + origin.len()..];
            let end = after
                .find(|c: char| c.is_whitespace() || "`\"')>],;".contains(c))
                .unwrap_or(after.len());
            let path = &after[..end];
            // `http://127.0.0.1:80801` is another origin.
            if path.is_empty() || path.starts_with(['/', '?']) {
                found.push(if path.is_empty() {
                    "/".into()
                } else {
                    path.to_owned()
                });
            }
            rest = after;
        }
    }
    found
}

/// The paths of the inline code spans outside fenced blocks that name a route: `/healthz`,
/// `GET /v1/accounts/{account_id}`, `POST|GET /platform_api`, `POST /v1/sessions {…}`.
fn route_spans(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        for span in line.split('`').skip(1).step_by(2) {
            let mut words = span.split_whitespace();
            let Some(first) = words.next() else { continue };
            let is_method = first.chars().all(|c| c.is_ascii_uppercase() || c == '|');
            let path = if is_method { words.next() } else { Some(first) };
            if let Some(path) = path.filter(|p| p.starts_with('/')) {
                found.push(path.trim_end_matches([',', '.', ';']).to_owned());
            }
        }
    }
    found
}

/// Fills the placeholders a document may use with the bootstrap account's objects.
fn fill(path: &str, values: &[(&str, String)]) -> String {
    let mut filled = path.to_owned();
    for (placeholder, value) in values {
        filled = filled.replace(placeholder, value);
    }
    assert!(
        !filled.contains(['{', '<']),
        "{path}: a placeholder this test cannot fill; add it to its values"
    );
    filled
}

async fn every_printed_link_answers(app: TestApp) {
    capture_logs();
    let creds = app.initial_credentials();
    let token = creds["access_key"]["token"].as_str().expect("token");
    let values = [
        ("{account_id}", creds["account_id"].to_string()),
        ("{user_id}", creds["owner"]["user_id"].to_string()),
        ("<Method>", "GetSubUsers".to_owned()),
        (
            "{session_id}",
            "00000000000000000000000000000000".to_owned(),
        ),
        // A callback without its state answers 400 (the route exists).
        (
            "{connector_id}",
            "00000000000000000000000000000000".to_owned(),
        ),
    ];
    let printed = [
        "http://127.0.0.1:8080".to_owned(),
        "https://127.0.0.1:8080".to_owned(),
        "http://localhost:8080".to_owned(),
    ];
    let mut links: Vec<(String, String)> = Vec::new();
    for (name, text) in documents() {
        for path in urls_on(&text, &printed)
            .into_iter()
            .chain(route_spans(&text))
        {
            links.push((name.clone(), path));
        }
    }
    assert!(
        links.iter().any(|(n, p)| n == "README.md" && p == "/docs"),
        "the extraction finds README's Swagger UI link: {links:?}"
    );
    let startup = log_lines_with(&app.addr.to_string()).await;
    let logged = urls_on(&startup.join("\n"), std::slice::from_ref(&app.base));
    assert!(
        logged.iter().any(|p| p == "/docs"),
        "the startup log prints the Swagger UI link: {startup:?}"
    );
    links.extend(
        logged
            .into_iter()
            .map(|p| ("the startup log".to_owned(), p)),
    );

    let mut broken = Vec::new();
    for (source, path) in &links {
        let path = fill(path, &values);
        let res = app
            .client
            .get(app.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent");
        let status = res.status().as_u16();
        if status == 404 || status >= 500 {
            broken.push(format!("{source}: GET {path} -> {status}"));
        }
    }
    assert!(
        broken.is_empty(),
        "printed links that do not work: {broken:#?}"
    );
}

async fn the_root_docs_and_the_rest_root_redirect_to_swagger_ui(app: TestApp) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    for path in ["/", "/docs", "/v1", "/v1/"] {
        let res = client.get(app.url(path)).send().await.expect("sent");
        assert_eq!(res.status().as_u16(), 307, "GET {path}");
        assert_eq!(res.headers()["location"], "/docs/", "GET {path}");
    }
    let res = app.client.get(app.url("/docs")).send().await.expect("sent");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.url().path(), "/docs/");
    let page = res.text().await.expect("text");
    assert!(page.contains("swagger-ui"), "{page}");
}

tessera_tests::e2e!(
    every_printed_link_answers,
    the_root_docs_and_the_rest_root_redirect_to_swagger_ui
);

#[test]
fn the_extraction_reads_urls_and_route_spans() {
    let origins = ["http://127.0.0.1:8080".to_owned()];
    assert_eq!(
        urls_on(
            "at <http://127.0.0.1:8080/docs> and http://127.0.0.1:8080, not http://127.0.0.1:80801/x",
            &origins
        ),
        ["/docs", "/"]
    );
    let md = "`/healthz`, `GET /v1/accounts/{account_id}`, `POST|GET /platform_api`, \
              `GET …/users`, `tls.cert`\n```\n`/not/a/route`\n```\n`POST /v1/sessions {a, b}`";
    assert_eq!(
        route_spans(md),
        [
            "/healthz",
            "/v1/accounts/{account_id}",
            "/platform_api",
            "/v1/sessions"
        ]
    );
}
