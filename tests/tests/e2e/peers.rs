//! Real peers nobody here wrote: nginx as the reverse proxy in front of Tessera, and Chromium
//! running Swagger UI under Tessera's Content-Security-Policy. Each test needs its tool on the
//! PATH; without it the test says so and passes, unless `TESSERA_REQUIRE_PEERS=1` (CI sets it,
//! after installing both from Debian's packages in `.ci/run`), which makes a missing tool fail.

use std::io::Write;
use std::net::{IpAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tessera_tests::{DbBackend, TestApp};

/// The tool's path, or `None` (after saying so) when it is missing and not required.
fn tool(names: &[&str]) -> Option<PathBuf> {
    let found = names.iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .chain([PathBuf::from("/usr/sbin")])
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        assert!(
            std::env::var("TESSERA_REQUIRE_PEERS").as_deref() != Ok("1"),
            "{names:?} is required (TESSERA_REQUIRE_PEERS=1) but not installed"
        );
        eprintln!("peers: skipped, {names:?} is not installed");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _killed = self.child.kill();
        let _waited = self.child.wait();
        let _removed = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_nginx(binary: &PathBuf, port: u16, upstream: &str) -> Nginx {
    let dir = std::env::temp_dir().join(format!("tessera-nginx-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("nginx.conf");
    let d = dir.display();
    let mut f = std::fs::File::create(&conf).unwrap();
    write!(
        f,
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
           server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
               proxy_pass http://{upstream};\n\
               proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
               proxy_set_header Host $host;\n    }}\n  }}\n}}\n"
    )
    .unwrap();
    let child = Command::new(binary)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Nginx { child, dir }
}

/// Behind real nginx (`proxy_add_x_forwarded_for`), a client connecting from 127.0.0.2 that
/// sends its own `X-Forwarded-For` is recorded as 127.0.0.2, never as what it sent.
#[tokio::test]
async fn behind_nginx_the_client_cannot_choose_its_address() {
    let Some(nginx) = tool(&["nginx"]) else {
        return;
    };
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| {
        s.server.trust_forwarded_for = true;
        s.server.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await
    .unwrap();
    let owner = app.owner().await;
    let port = free_port();
    let _proxy = start_nginx(&nginx, port, &app.addr.to_string());
    let client = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse::<IpAddr>().unwrap()))
        .build()
        .unwrap();
    let res = client
        .post(format!("http://127.0.0.1:{port}/v1/sessions"))
        .header("x-forwarded-for", "6.6.6.6")
        .json(&json!({"account_id": 1, "login": "victim3", "password": "Wr0ng-Pass!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "through nginx");
    let addresses: Vec<Value> = app
        .audit_events(&owner, "auth.failure")
        .await
        .into_iter()
        .filter(|e| e["actor"]["id"] == "victim3")
        .map(|e| e["client_ip"].clone())
        .collect();
    assert_eq!(addresses, vec![json!("127.0.0.2")]);
}

/// Swagger UI renders in Chromium with no Content-Security-Policy violation: every script and
/// style it runs is one Tessera serves.
#[tokio::test]
async fn swagger_ui_runs_under_its_content_security_policy_in_chromium() {
    let Some(chromium) = tool(&["chromium", "chromium-browser", "google-chrome"]) else {
        return;
    };
    let app = TestApp::spawn(DbBackend::Sqlite).await.unwrap();
    let profile = app.data_dir.join("chromium-profile");
    let url = app.url("/docs/");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(chromium)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=10000",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .output()
            .expect("chromium runs")
    })
    .await
    .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        dom.contains("/v1/accounts/{account_id}/users") && dom.contains("/platform_api/AddSubUser"),
        "Swagger UI rendered the operations: {}",
        &dom[..dom.len().min(500)]
    );
    let violations: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Content Security Policy"))
        .collect();
    assert!(violations.is_empty(), "{violations:#?}");
}
