//! A TCP forwarder that a test can cut and restore, to take the database away from a running
//! server without disturbing the tests that share the same Postgres.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

struct State {
    up: AtomicBool,
    open: Mutex<Vec<TcpStream>>,
}

/// Forwards connections from `addr` to a target until cut.
pub struct Proxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    state: Arc<State>,
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _done = io::copy(&mut from, &mut to);
    let _closed = to.shutdown(Shutdown::Both);
    let _closed = from.shutdown(Shutdown::Both);
}

impl Proxy {
    /// Starts forwarding to `target`.
    ///
    /// # Panics
    /// When no local port can be bound.
    #[must_use]
    pub fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(State {
            up: AtomicBool::new(true),
            open: Mutex::new(Vec::new()),
        });
        let s = state.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !s.up.load(Ordering::SeqCst) {
                    let _closed = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                if let (Ok(c3), Ok(s3)) = (client.try_clone(), server.try_clone()) {
                    s.open.lock().expect("lock").extend([c3, s3]);
                }
                thread::spawn(move || pipe(client, server));
                thread::spawn(move || pipe(s2, c2));
            }
        });
        Self { addr, state }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.state.up.store(false, Ordering::SeqCst);
        for stream in self.state.open.lock().expect("lock").drain(..) {
            let _closed = stream.shutdown(Shutdown::Both);
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.state.up.store(true, Ordering::SeqCst);
    }
}

/// `url` with its `host:port` replaced by `addr` (`postgres://user@host:port/db?…`).
#[must_use]
pub fn through(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (userinfo, hostpart) = match rest.split_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), rest),
    };
    let path = hostpart.find(['/', '?']).map_or("", |i| &hostpart[i..]);
    format!("{scheme}://{userinfo}{addr}{path}")
}

#[cfg(test)]
mod tests {
    use super::through;

    #[test]
    fn urls_are_redirected_through_the_proxy() {
        let addr = "127.0.0.1:9999".parse().unwrap();
        assert_eq!(
            through("postgres://postgres@127.0.0.1:5432/test?options=x", addr),
            "postgres://postgres@127.0.0.1:9999/test?options=x"
        );
        assert_eq!(
            through("postgres://localhost/test", addr),
            "postgres://127.0.0.1:9999/test"
        );
    }
}
