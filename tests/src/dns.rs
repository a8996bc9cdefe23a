//! A tiny authoritative DNS responder for tests: answers TXT questions for the domains it was
//! given (NXDOMAIN otherwise), so that the server's real resolver (hickory) verifies SSO domains
//! without the Internet.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread;

/// The responder.
pub struct DnsResponder {
    /// Where it listens (UDP).
    pub addr: SocketAddr,
    records: Arc<Mutex<HashMap<String, Vec<String>>>>,
}

fn question_end(packet: &[u8]) -> Option<(usize, String)> {
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*packet.get(i)?);
        i += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(packet.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    Some((i + 4, labels.join(".")))
}

fn answer(query: &[u8], records: &HashMap<String, Vec<String>>) -> Option<Vec<u8>> {
    let (end, name) = question_end(query)?;
    let qtype = u16::from_be_bytes([query[end - 4], query[end - 3]]);
    let found = records.get(&name);
    let txts: Vec<&String> = match (found, qtype) {
        (Some(list), 16) => list.iter().collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&query[0..2]);
    let rcode: u16 = if found.is_some() { 0 } else { 3 };
    out.extend_from_slice(&(0x8400 | 0x0100 | 0x0080 | rcode).to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&u16::try_from(txts.len()).ok()?.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&query[12..end]);
    for txt in txts {
        out.extend_from_slice(&[0xC0, 0x0C, 0, 16, 0, 1, 0, 0, 0, 0]);
        let bytes = txt.as_bytes();
        out.extend_from_slice(&u16::try_from(bytes.len() + 1).ok()?.to_be_bytes());
        out.push(u8::try_from(bytes.len()).ok()?);
        out.extend_from_slice(bytes);
    }
    Some(out)
}

impl DnsResponder {
    /// Starts on a free UDP port.
    ///
    /// # Panics
    /// When no port can be bound.
    #[must_use]
    pub fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind DNS");
        let addr = socket.local_addr().expect("DNS address");
        let records: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
        let r = records.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                let reply = answer(&buf[..n], &r.lock().expect("lock"));
                if let Some(reply) = reply {
                    let _sent = socket.send_to(&reply, from);
                }
            }
        });
        Self { addr, records }
    }

    /// Publishes TXT records for `domain` (replacing any).
    pub fn set_txt(&self, domain: &str, values: &[&str]) {
        self.records.lock().expect("lock").insert(
            domain.to_ascii_lowercase(),
            values.iter().map(|v| (*v).to_owned()).collect(),
        );
    }
}
