//! SIGTERM as a load balancer in front of several instances sees it: the listener closes at
//! once (new connections are refused, so the balancer tries the next instance), and a
//! connection the balancer keeps alive gets its next answer with `Connection: close` and is
//! closed, instead of keeping the stopping instance busy until the shutdown timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tessera");

/// One `GET` on `conn`: the status code and the lower-cased headers.
fn get(conn: &mut TcpStream, path: &str) -> (u16, Vec<(String, String)>) {
    get_or_closed(conn, path).expect("an answer")
}

/// Like [`get`], or `None` when the server has closed the connection (the request cannot be
/// written, or no status line comes back).
fn get_or_closed(conn: &mut TcpStream, path: &str) -> Option<(u16, Vec<(String, String)>)> {
    if write!(conn, "GET {path} HTTP/1.1\r\nHost: tessera\r\n\r\n").is_err() {
        return None;
    }
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut status = String::new();
    match reader.read_line(&mut status) {
        Ok(0) | Err(_) => return None,
        Ok(_) => {}
    }
    let code = status.split_whitespace().nth(1)?.parse().ok()?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap_or(0));
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((code, headers))
}

fn closes(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .any(|(k, v)| k == "connection" && v == "close")
}

#[test]
fn sigterm_refuses_new_connections_and_closes_kept_alive_ones_after_their_next_answer() {
    let dir = std::env::temp_dir().join(format!("tessera-shutdown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(BIN)
        .current_dir(&dir)
        .env_clear()
        .env("TESSERA__DATA_DIR", dir.join("data"))
        .env("TESSERA__SERVER__BIND", "127.0.0.1:0")
        .env("TESSERA__SERVER__SHUTDOWN_TIMEOUT_SECS", "20")
        .env("TESSERA__AUTH__ARGON2_MEMORY_KIB", "1024")
        .env("TESSERA__LOG__LEVEL", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = log
        .by_ref()
        .map_while(Result::ok)
        .filter(|l| l.contains("listening"))
        .find_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("addr="))
                .map(str::to_owned)
        })
        .expect("the server logs where it listens");
    // Keep draining the log so that the server never writes into a full pipe.
    let rest = std::thread::spawn(move || log.map_while(Result::ok).collect::<Vec<_>>());

    let mut kept = TcpStream::connect(&addr).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (status, headers) = get(&mut kept, "/healthz");
    assert_eq!(status, 200);
    assert!(!closes(&headers), "kept alive while serving: {headers:?}");

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(&addr).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }

    // The kept-alive connection is either answered once more, with `Connection: close`, and
    // closed; or, idle when the signal came, closed already (the request then meets a closed
    // socket, which a balancer retries elsewhere). Never kept open for more.
    if let Some((status, headers)) = get_or_closed(&mut kept, "/healthz") {
        assert_eq!(status, 200, "a kept-alive connection is still answered");
        assert!(closes(&headers), "…with Connection: close: {headers:?}");
        let mut byte = [0];
        assert_eq!(kept.read(&mut byte).unwrap_or(0), 0, "and then closed");
    }

    let stopped = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(5),
            "drained long before the 20 s timeout"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let tail = rest.join().unwrap();
    assert!(
        tail.iter()
            .any(|l| l.contains("SIGTERM received; starting graceful shutdown")),
        "{tail:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
