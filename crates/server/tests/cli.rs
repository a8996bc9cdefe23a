//! The `tessera` binary as a user runs it: exit codes, one-line errors, layered configuration,
//! bootstrap output and logs that never show a secret.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_tessera");

fn temp_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tessera-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `tessera` with a private data directory, an empty config directory and quiet logs.
fn tessera(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TESSERA__DATA_DIR", dir.join("data"))
        .env("TESSERA__AUTH__ARGON2_MEMORY_KIB", "1024")
        .env("TESSERA__LOG__LEVEL", "info");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("tessera runs")
}

fn stderr_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn assert_fails_with_one_line(out: &Output, needle: &str) {
    assert!(!out.status.success(), "exit status {:?}", out.status);
    let lines = stderr_lines(out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("tessera: "), "{lines:?}");
    assert!(lines[0].contains(needle), "{lines:?} lacks {needle}");
}

#[test]
fn an_unsupported_database_url_ends_with_one_clear_line() {
    let dir = temp_dir();
    let out = run(tessera(&dir)
        .arg("migrate")
        .env("TESSERA__DATABASE__URL", "mysql://u:pw@h/db"));
    assert_fails_with_one_line(&out, "database.url");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(":pw@"),
        "no password in errors"
    );
}

#[test]
fn an_unreachable_postgres_ends_with_one_line() {
    let dir = temp_dir();
    let out = run(tessera(&dir)
        .arg("migrate")
        .env(
            "TESSERA__DATABASE__URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .env("TESSERA__DATABASE__CONNECT_TIMEOUT_SECS", "1"));
    assert_fails_with_one_line(&out, "database:");
}

#[test]
fn a_missing_tls_file_ends_with_one_line() {
    let dir = temp_dir();
    let out = run(tessera(&dir)
        .env("TESSERA__TLS__CERT", "/nonexistent/server.crt")
        .env("TESSERA__TLS__KEY", "/nonexistent/server.key"));
    assert_fails_with_one_line(&out, "tls.cert: /nonexistent/server.crt");
}

#[test]
fn a_tls_file_that_is_not_pem_ends_with_one_line() {
    let dir = temp_dir();
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let out = run(tessera(&dir)
        .env("TESSERA__SERVER__BIND", "127.0.0.1:0")
        .env("TESSERA__TLS__CERT", &junk)
        .env("TESSERA__TLS__KEY", &junk));
    assert_fails_with_one_line(&out, "tls.cert");
}

#[test]
fn an_unknown_setting_is_refused() {
    let dir = temp_dir();
    let out = run(tessera(&dir)
        .arg("migrate")
        .env("TESSERA__SERVER__BINDD", "x"));
    assert_fails_with_one_line(&out, "bindd");
}

#[test]
fn a_missing_environment_file_is_refused() {
    let dir = temp_dir();
    let out = run(tessera(&dir).arg("migrate").env("TESSERA_ENV", "staging"));
    assert_fails_with_one_line(&out, "staging.toml");
}

#[test]
fn bootstrap_prints_the_credentials_once_and_layers_apply_in_order() {
    let dir = temp_dir();
    std::fs::create_dir_all(dir.join("config")).unwrap();
    std::fs::write(
        dir.join("config/test.toml"),
        "[bootstrap]\naccount_name = \"From file\"\nowner_login = \"root1\"\n",
    )
    .unwrap();
    let out = run(tessera(&dir)
        .arg("bootstrap")
        .env("TESSERA_ENV", "test")
        .env("TESSERA__BOOTSTRAP__ACCOUNT_NAME", "From env"));
    assert!(out.status.success(), "{:?}", stderr_lines(&out));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed["account_name"], "From env",
        "environment beats the file"
    );
    assert_eq!(
        printed["owner"]["login"], "root1",
        "the file beats the defaults"
    );
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("data/initial-credentials.json")).unwrap())
            .unwrap();
    assert_eq!(file, printed);
    let password = printed["owner"]["password"].as_str().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains(password));

    let again = run(tessera(&dir).arg("bootstrap").env("TESSERA_ENV", "test"));
    assert!(again.status.success());
    assert!(again.stdout.is_empty(), "nothing printed the second time");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds an account"));
}

/// Reads the child's log until it announces its address; keeps draining the log afterwards
/// (returned through the channel) so that the child never writes into a closed pipe.
fn wait_listening(child: &mut Child) -> (String, Vec<String>, std::sync::mpsc::Receiver<String>) {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) {
        lines.push(line.clone());
        if line.contains("listening addr=") {
            let addr = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("addr="))
                .unwrap()
                .to_owned();
            return (addr, lines, rx);
        }
    }
    panic!("server never listened: {lines:?}");
}

#[test]
fn serve_bootstraps_logs_where_the_credentials_are_never_what_they_are_and_stops_gracefully() {
    let dir = temp_dir();
    let mut child = tessera(&dir)
        .env("TESSERA__SERVER__BIND", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (addr, lines, rest) = wait_listening(&mut child);
    let creds_path = std::fs::canonicalize(dir.join("data/initial-credentials.json")).unwrap();
    let creds: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&creds_path).unwrap()).unwrap();
    let password = creds["owner"]["password"].as_str().unwrap();
    let log = lines.join("\n");
    assert!(log.contains(&creds_path.display().to_string()), "{log}");
    assert!(!log.contains(password), "the password must never be logged");
    assert!(addr.starts_with("127.0.0.1:"));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            let tail: Vec<String> = rest.try_iter().collect();
            assert!(
                exit.success(),
                "graceful shutdown exits 0: {exit:?} {tail:?}"
            );
            assert!(
                tail.iter().any(|l| l.contains("graceful shutdown")),
                "{tail:?}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `POST /v1/sessions` over a plain socket; the status code.
fn sign_in(addr: &str, password: &str) -> u16 {
    use std::io::{Read, Write};
    let body = format!(r#"{{"account_id": 1, "login": "admin", "password": "{password}"}}"#);
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /v1/sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_default()
}

#[test]
fn unlock_clears_a_locked_login_with_the_server_running() {
    let dir = temp_dir();
    let mut child = tessera(&dir)
        .env("TESSERA__SERVER__BIND", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (addr, _, _rest) = wait_listening(&mut child);
    for _ in 0..5 {
        assert_eq!(sign_in(&addr, "Wr0ng-Pass!"), 401);
    }
    assert_eq!(sign_in(&addr, "Wr0ng-Pass!"), 429, "locked");
    let out = run(tessera(&dir).args(["unlock", "--account", "1", "--login", "Admin"]));
    assert!(out.status.success(), "{:?}", stderr_lines(&out));
    assert!(
        stderr_lines(&out).iter().any(|l| l.contains("cleared")),
        "{:?}",
        stderr_lines(&out)
    );
    assert_eq!(
        sign_in(&addr, "Wr0ng-Pass!"),
        401,
        "evaluated again: the lock is gone"
    );
    let again = run(tessera(&dir).args(["unlock", "--account", "1", "--login", "nobody"]));
    assert!(again.status.success());
    assert!(
        stderr_lines(&again)
            .iter()
            .any(|l| l.contains("no failed sign-ins"))
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `GET path` over a plain socket; the answer's body is not needed.
fn get(addr: &str, path: &str) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// The number after `latency_ms` in an access-log line (text `latency_ms=1.234`, JSON
/// `"latency_ms":1.234`).
fn latency_of(line: &str) -> &str {
    let at = line.find("latency_ms").unwrap() + "latency_ms".len();
    let rest = line[at..].trim_start_matches(['=', '"', ':']);
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn the_access_log_names_the_method_api_call_and_its_code_with_latency_in_milliseconds() {
    for format in ["text", "json"] {
        let dir = temp_dir();
        let mut child = tessera(&dir)
            .env("TESSERA__SERVER__BIND", "127.0.0.1:0")
            .env("TESSERA__LOG__FORMAT", format)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let (addr, _, rest) = if format == "text" {
            wait_listening(&mut child)
        } else {
            wait_listening_json(&mut child)
        };
        // No credential: GetRoles answers 100; an invented method is `unknown` with 103.
        get(&addr, "/platform_api?cmd=GetRoles");
        get(&addr, "/platform_api/Invented");
        let mut served = Vec::new();
        while served.len() < 2 {
            let line = rest
                .recv_timeout(Duration::from_secs(30))
                .expect("access-log lines");
            if line.contains("served") && line.contains("rpc_method") {
                served.push(line);
            }
        }
        let (method, code) = if format == "text" {
            (
                ["rpc_method=GetRoles", "rpc_method=unknown"],
                ["rpc_code=100", "rpc_code=103"],
            )
        } else {
            (
                [r#""rpc_method":"GetRoles""#, r#""rpc_method":"unknown""#],
                [r#""rpc_code":"100""#, r#""rpc_code":"103""#],
            )
        };
        for (i, line) in served.iter().enumerate() {
            assert!(
                line.contains(method[i]) && line.contains(code[i]),
                "{format}: {line}"
            );
            let latency = latency_of(line);
            let decimals = latency.split_once('.').map_or(0, |(_, d)| d.len());
            assert!(
                !latency.is_empty() && decimals <= 3,
                "{format}: latency {latency} in {line}"
            );
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

/// [`wait_listening`] for JSON logs: the address is the `addr` field of the `listening` line.
fn wait_listening_json(
    child: &mut Child,
) -> (String, Vec<String>, std::sync::mpsc::Receiver<String>) {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) {
        lines.push(line.clone());
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if v["message"] == "listening" {
            let addr = v["addr"].as_str().unwrap().to_owned();
            return (addr, lines, rx);
        }
    }
    panic!("server never listened: {lines:?}");
}
