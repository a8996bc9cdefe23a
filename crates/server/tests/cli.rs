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

/// The exact single line on stderr, exit code 1, no panic.
fn assert_fails_with_exactly(out: &Output, line: &str) {
    assert_eq!(out.status.code(), Some(1), "exit status {:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr_lines(out), [line], "{stderr}");
}

/// Nothing of a bootstrap was written: no database, no credential file.
fn assert_nothing_written(data: &Path) {
    for file in ["initial-credentials.json", "credentials.json", "tessera.db"] {
        assert!(!data.join(file).exists(), "{file} was written");
    }
}

#[test]
fn a_busy_address_ends_with_one_line_before_anything_is_written() {
    let dir = temp_dir();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    for args in [&[][..], &["serve"][..]] {
        let out = run(tessera(&dir)
            .args(args)
            .env("TESSERA__SERVER__BIND", addr.to_string()));
        assert_fails_with_exactly(
            &out,
            &format!(
                "tessera: cannot listen on {addr}: address in use; set server.bind or TESSERA__SERVER__BIND"
            ),
        );
        assert!(!dir.join("data").exists(), "the data directory was created");
    }
}

#[test]
fn an_address_of_another_host_ends_with_one_line() {
    let dir = temp_dir();
    // TEST-NET-1 (RFC 5737): never an address of this host.
    let out = run(tessera(&dir).env("TESSERA__SERVER__BIND", "192.0.2.1:8080"));
    assert_fails_with_exactly(
        &out,
        "tessera: cannot listen on 192.0.2.1:8080: address not available on this host; \
         set server.bind or TESSERA__SERVER__BIND",
    );
    assert!(!dir.join("data").exists());
}

#[test]
fn an_unusable_data_directory_ends_with_one_line() {
    let dir = temp_dir();
    std::fs::write(dir.join("file"), "not a directory").unwrap();
    let data = dir.join("file/data");
    for command in ["serve", "bootstrap", "migrate"] {
        let out = run(tessera(&dir)
            .arg(command)
            .env("TESSERA__SERVER__BIND", "127.0.0.1:0")
            .env("TESSERA__DATA_DIR", &data));
        assert_fails_with_exactly(
            &out,
            &format!(
                "tessera: cannot use the data directory {}: not a directory; \
                 set data_dir or TESSERA__DATA_DIR",
                data.display()
            ),
        );
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "nothing but the file"
    );
}

#[test]
fn a_database_that_refuses_the_connection_ends_with_one_line() {
    let dir = temp_dir();
    for command in ["serve", "migrate"] {
        let out = run(tessera(&dir)
            .arg(command)
            .env("TESSERA__SERVER__BIND", "127.0.0.1:0")
            .env(
                "TESSERA__DATABASE__URL",
                "postgres://nobody:secret@127.0.0.1:1/none",
            )
            .env("TESSERA__DATABASE__CONNECT_TIMEOUT_SECS", "1"));
        assert_fails_with_exactly(
            &out,
            "tessera: database: cannot connect to postgres://nobody:***@127.0.0.1:1/none: \
             connection to server at \"127.0.0.1\", port 1 failed: Connection refused \
             Is the server running on that host and accepting TCP/IP connections?; \
             set database.url or TESSERA__DATABASE__URL",
        );
        assert_nothing_written(&dir.join("data"));
    }
}

#[test]
fn a_missing_tls_file_ends_with_one_line() {
    let dir = temp_dir();
    let out = run(tessera(&dir)
        .env("TESSERA__SERVER__BIND", "127.0.0.1:0")
        .env("TESSERA__TLS__CERT", "/nonexistent/server.crt")
        .env("TESSERA__TLS__KEY", "/nonexistent/server.key"));
    assert_fails_with_exactly(
        &out,
        "tessera: cannot read the TLS certificate /nonexistent/server.crt: \
         no such file or directory; set tls.cert or TESSERA__TLS__CERT",
    );
    assert!(!dir.join("data").exists());
    let cert = dir.join("server.crt");
    std::fs::write(&cert, "").unwrap();
    let out = run(tessera(&dir)
        .env("TESSERA__SERVER__BIND", "127.0.0.1:0")
        .env("TESSERA__TLS__CERT", &cert)
        .env("TESSERA__TLS__KEY", &dir));
    assert_fails_with_exactly(
        &out,
        &format!(
            "tessera: cannot read the TLS key {}: is a directory; set tls.key or TESSERA__TLS__KEY",
            dir.display()
        ),
    );
    assert!(!dir.join("data").exists());
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
    assert!(!dir.join("data").exists());
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

/// Reads the child's log until `address` finds the listening address in a line; keeps draining
/// the log afterwards (returned through the channel) so that the child never writes into a
/// closed pipe.
fn wait_for_address(
    child: &mut Child,
    address: impl Fn(&str) -> Option<String>,
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
        if let Some(addr) = address(&line) {
            return (addr, lines, rx);
        }
    }
    panic!("server never listened: {lines:?}");
}

/// [`wait_for_address`] for text logs: `… listening addr=127.0.0.1:port`.
fn wait_listening(child: &mut Child) -> (String, Vec<String>, std::sync::mpsc::Receiver<String>) {
    wait_for_address(child, |line| {
        line.contains("listening addr=").then(|| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix("addr="))
                .unwrap()
                .to_owned()
        })
    })
}

#[test]
fn serve_bootstraps_logs_where_the_credentials_are_never_what_they_are_and_stops_gracefully() {
    let dir = temp_dir();
    let mut child = tessera(&dir)
        .env("TESSERA__SERVER__BIND", "127.0.0.1:0")
        // A connection some other test opened to a reused port must not hold the drain for the
        // default 30 s: the graceful path is what is under test, not its timeout.
        .env("TESSERA__SERVER__SHUTDOWN_TIMEOUT_SECS", "3")
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
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
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
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let tail: Vec<String> = rest.try_iter().collect();
            panic!("did not stop on SIGTERM within 30 s; its log after listening: {tail:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A data directory others can read is worth one warning at startup, not one per part of the
/// server that opens it.
#[test]
fn a_shared_data_directory_is_warned_about_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = tessera(&dir)
        .env("TESSERA__SERVER__BIND", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (_, lines, _rest) = wait_listening(&mut child);
    let warnings = lines
        .iter()
        .filter(|l| l.contains("the data directory is readable by other users"))
        .count();
    assert_eq!(warnings, 1, "{lines:?}");
    child.kill().unwrap();
    child.wait().unwrap();
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

/// The kids `GET /oauth/jwks` lists, current first.
fn published_kids(addr: &str) -> Vec<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /oauth/jwks HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let set: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    set["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k["kid"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn keys_rotate_makes_a_new_current_key_that_a_running_server_publishes() {
    let dir = temp_dir();
    let mut child = tessera(&dir)
        .env("TESSERA__SERVER__BIND", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (addr, _, _rest) = wait_listening(&mut child);
    let first = published_kids(&addr);
    assert_eq!(
        first.len(),
        1,
        "the server made one key at startup: {first:?}"
    );
    let out = run(tessera(&dir).args(["keys", "rotate"]));
    assert!(out.status.success(), "{:?}", stderr_lines(&out));
    let kid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(!kid.is_empty() && kid != first[0], "{kid}");
    let mut kids = Vec::new();
    for _ in 0..100 {
        kids = published_kids(&addr);
        if kids.len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        kids,
        vec![kid, first[0].clone()],
        "the new key first, the old one kept"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn help_describes_the_product_its_commands_and_its_environment() {
    let dir = temp_dir();
    let out = run(tessera(&dir).arg("--help"));
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("identity and access management"), "{help}");
    for command in [
        "serve",
        "migrate",
        "bootstrap",
        "healthcheck",
        "openapi",
        "unlock",
        "keys",
    ] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{command} "))),
            "{command} is not listed: {help}"
        );
    }
    for variable in [
        "TESSERA__SERVER__BIND",
        "TESSERA__DATA_DIR",
        "TESSERA__DATABASE__URL",
        "TESSERA__TLS__CERT",
        "TESSERA__LOG__LEVEL",
    ] {
        assert!(help.contains(variable), "{variable}: {help}");
    }
    let serve = run(tessera(&dir).args(["serve", "--help"]));
    let serve = String::from_utf8_lossy(&serve.stdout);
    for option in ["--bind", "--data-dir", "TESSERA__SERVER__BIND"] {
        assert!(serve.contains(option), "{option}: {serve}");
    }
}

#[test]
fn every_variable_the_help_lists_is_a_setting() {
    let dir = temp_dir();
    let help = String::from_utf8_lossy(&run(tessera(&dir).arg("--help")).stdout).into_owned();
    let listed: Vec<&str> = help
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("TESSERA__") && w.len() > "TESSERA__".len())
        .collect();
    assert!(listed.len() >= 8, "{listed:?}");
    // A name that is not a setting is refused by name ("unknown field"); a real one passes the
    // key check, whatever its value then does.
    for name in listed {
        let out = run(tessera(&dir)
            .args(["healthcheck", "--url", "http://127.0.0.1:1/"])
            .env(name, "x"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("unknown field"), "{name}: {stderr}");
    }
    let out = run(tessera(&dir)
        .args(["healthcheck", "--url", "http://127.0.0.1:1/"])
        .env("TESSERA__SERVER__BINDD", "x"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field"));
}

/// Starts `tessera serve` on a free port; the child and its address.
fn serve(dir: &Path, extra: &[(&str, &std::ffi::OsStr)]) -> (Child, String) {
    let mut cmd = tessera(dir);
    cmd.env("TESSERA__SERVER__BIND", "127.0.0.1:0");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (addr, _, rest) = wait_listening(&mut child);
    // Keep draining the log.
    std::thread::spawn(move || for _ in rest {});
    (child, addr)
}

#[test]
fn serve_options_beat_the_environment() {
    let dir = temp_dir();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut child = tessera(&dir)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("elsewhere"))
        .env(
            "TESSERA__SERVER__BIND",
            taken.local_addr().unwrap().to_string(),
        )
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (addr, _, _rest) = wait_listening(&mut child);
    assert_ne!(addr, taken.local_addr().unwrap().to_string());
    assert!(dir.join("elsewhere/initial-credentials.json").is_file());
    assert!(!dir.join("data").exists(), "TESSERA__DATA_DIR lost");
    child.kill().unwrap();
    child.wait().unwrap();

    let out = run(tessera(&dir).args(["serve", "--bind", "nowhere"]));
    assert_fails_with_exactly(
        &out,
        "tessera: configuration: server.bind: 'nowhere' is not an address:port",
    );
}

#[test]
fn healthcheck_exits_0_for_a_ready_server_and_1_otherwise() {
    let dir = temp_dir();
    let (mut child, addr) = serve(&dir, &[]);
    let port = addr.rsplit(':').next().unwrap().to_owned();

    let out = run(tessera(&dir).args(["healthcheck", "--url", &format!("http://{addr}/readyz")]));
    assert_eq!(out.status.code(), Some(0), "{:?}", stderr_lines(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("http://{addr}/readyz: ready")
    );
    // The configured address, and the wildcard one asked on the loopback.
    for bind in [addr.clone(), format!("0.0.0.0:{port}")] {
        let out = run(tessera(&dir)
            .arg("healthcheck")
            .env("TESSERA__SERVER__BIND", &bind));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{bind}: {:?}",
            stderr_lines(&out)
        );
    }
    let out = run(tessera(&dir).args(["healthcheck", "--url", &format!("http://{addr}/nope")]));
    assert_fails_with_exactly(
        &out,
        &format!("tessera: healthcheck: http://{addr}/nope answered 404"),
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let out = run(tessera(&dir)
        .arg("healthcheck")
        .env("TESSERA__SERVER__BIND", &addr));
    assert_fails_with_exactly(
        &out,
        &format!("tessera: healthcheck: cannot reach http://{addr}/readyz: connection refused"),
    );
    let out = run(tessera(&dir).args(["healthcheck", "--url", "ftp://x/"]));
    assert_fails_with_exactly(
        &out,
        "tessera: healthcheck: 'ftp://x/' is not an http:// or https:// URL with a host",
    );
}

#[test]
fn healthcheck_gives_up_on_a_peer_that_is_not_http_or_silent() {
    use std::io::Write;
    let dir = temp_dir();
    let liar = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let liar_addr = liar.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in liar.incoming() {
            let _ = stream.and_then(|mut s| s.write_all(b"SSH-2.0-OpenSSH_9.2\r\n"));
        }
    });
    let out = run(tessera(&dir).args(["healthcheck", "--url", &format!("http://{liar_addr}/")]));
    assert_fails_with_exactly(
        &out,
        &format!("tessera: healthcheck: http://{liar_addr}/ did not answer HTTP"),
    );
    // Accepts (the kernel's backlog does) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let out = run(tessera(&dir).args([
        "healthcheck",
        "--timeout",
        "1",
        "--url",
        &format!("http://{silent_addr}/readyz"),
    ]));
    assert_fails_with_exactly(
        &out,
        &format!("tessera: healthcheck: http://{silent_addr}/readyz: timed out"),
    );
    drop(silent);
}

/// Runs `cmd` and returns its output, or `None` when it is still running after `limit`
/// (it is killed then).
fn run_within(cmd: &mut Command, limit: Duration) -> Option<Output> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tessera runs");
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    None
}

#[test]
fn healthcheck_over_tls_gives_up_on_a_silent_or_dribbling_peer_within_its_timeout() {
    use std::io::Write;
    let dir = temp_dir();
    let pair = rcgen::generate_simple_self_signed(vec!["tessera.example".into()]).unwrap();
    let cert = dir.join("server.crt");
    let key = dir.join("server.key");
    std::fs::write(&cert, pair.cert.pem()).unwrap();
    std::fs::write(&key, pair.signing_key.serialize_pem()).unwrap();
    // Accepts (the kernel's backlog does) and never sends its half of the handshake.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    // Sends a TLS record header a byte at a time, each just inside a one-second timeout.
    let dribbler = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dribbler_addr = dribbler.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in dribbler.incoming() {
            std::thread::spawn(move || {
                let Ok(mut s) = stream else { return };
                for b in [0x16u8, 0x03, 0x03, 0x40, 0x00].iter().cycle().take(60) {
                    std::thread::sleep(Duration::from_millis(700));
                    if s.write_all(&[*b]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    for addr in [silent_addr, dribbler_addr] {
        let url = format!("https://{addr}/readyz");
        let out = run_within(
            tessera(&dir)
                .args(["healthcheck", "--timeout", "1", "--url", &url])
                .env("TESSERA__TLS__CERT", &cert)
                .env("TESSERA__TLS__KEY", &key),
            Duration::from_secs(10),
        )
        .unwrap_or_else(|| panic!("healthcheck of {url} still ran after 10 s (--timeout 1)"));
        assert_fails_with_exactly(&out, &format!("tessera: healthcheck: {url}: timed out"));
    }
    drop(silent);
}

#[test]
fn healthcheck_speaks_tls_trusting_exactly_the_configured_certificate() {
    let dir = temp_dir();
    let write_pair = |name: &str| {
        let pair = rcgen::generate_simple_self_signed(vec!["tessera.example".into()]).unwrap();
        let cert = dir.join(format!("{name}.crt"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, pair.cert.pem()).unwrap();
        std::fs::write(&key, pair.signing_key.serialize_pem()).unwrap();
        (cert, key)
    };
    let (cert, key) = write_pair("server");
    let (other, _) = write_pair("other");
    let (mut child, addr) = serve(
        &dir,
        &[
            ("TESSERA__TLS__CERT", cert.as_os_str()),
            ("TESSERA__TLS__KEY", key.as_os_str()),
        ],
    );
    let out = run(tessera(&dir)
        .arg("healthcheck")
        .env("TESSERA__SERVER__BIND", &addr)
        .env("TESSERA__TLS__CERT", &cert)
        .env("TESSERA__TLS__KEY", &key));
    assert_eq!(out.status.code(), Some(0), "{:?}", stderr_lines(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("https://{addr}/readyz: ready")
    );
    // Another certificate is not the server's: refused.
    let out = run(tessera(&dir)
        .arg("healthcheck")
        .env("TESSERA__SERVER__BIND", &addr)
        .env("TESSERA__TLS__CERT", &other)
        .env("TESSERA__TLS__KEY", &key));
    assert_fails_with_exactly(
        &out,
        &format!(
            "tessera: healthcheck: https://{addr}/readyz: \
             the server's certificate is not the one in tls.cert"
        ),
    );
    // https without a certificate to expect.
    let out = run(tessera(&dir).args(["healthcheck", "--url", &format!("https://{addr}/readyz")]));
    assert_fails_with_exactly(
        &out,
        &format!(
            "tessera: healthcheck: https://{addr}/readyz is https, but tls.cert (the certificate to expect) is not set"
        ),
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `GET path` over a plain socket: status and body (the server sends a `content-length`).
fn http_get(addr: &str, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    assert!(!head.to_ascii_lowercase().contains("chunked"), "{head}");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, answer[split + 4..].to_vec())
}

#[test]
fn openapi_prints_the_document_the_server_serves() {
    let dir = temp_dir();
    let out = run(tessera(&dir).arg("openapi"));
    assert!(out.status.success(), "{:?}", stderr_lines(&out));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!dir.join("data").exists(), "openapi touches no database");
    let (mut child, addr) = serve(&dir, &[]);
    let (status, body) = http_get(&addr, "/openapi.json");
    assert_eq!(status, 200);
    let served: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(printed, served);
    assert_eq!(printed["openapi"], "3.1.0");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `GET path` over a plain socket, which must answer 200; the body is not needed.
fn get(addr: &str, path: &str) {
    let (status, body) = http_get(addr, path);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
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

/// [`wait_for_address`] for JSON logs: the address is the `addr` field of the `listening` line.
fn wait_listening_json(
    child: &mut Child,
) -> (String, Vec<String>, std::sync::mpsc::Receiver<String>) {
    wait_for_address(child, |line| {
        let v = serde_json::from_str::<serde_json::Value>(line).ok()?;
        (v["message"] == "listening").then(|| v["addr"].as_str().unwrap().to_owned())
    })
}
