//! `tessera healthcheck`: one HTTP/1.1 `GET` over a plain socket, or over TLS trusting exactly
//! the server's own certificate (`tls.cert`), within a deadline.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::Uri;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, StreamOwned,
};

use crate::cause::Cause;

/// The most of the answer read to find its status line.
const MAX_STATUS_LINE: usize = 1024;

/// Why the probe did not see a ready server.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// `--url` is not usable.
    #[error("healthcheck: '{0}' is not an http:// or https:// URL with a host")]
    BadUrl(String),
    /// An https URL without a certificate to expect.
    #[error("healthcheck: {0} is https, but tls.cert (the certificate to expect) is not set")]
    NoCertificate(String),
    /// The certificate to expect cannot be read.
    #[error("healthcheck: tls.cert {0}")]
    Certificate(String),
    /// No connection.
    #[error("healthcheck: cannot reach {url}: {cause}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// Why.
        cause: Cause,
    },
    /// The exchange failed (TLS included) or took longer than the deadline.
    #[error("healthcheck: {url}: {cause}")]
    Exchange {
        /// The URL asked.
        url: String,
        /// Why.
        cause: Cause,
    },
    /// Over TLS, the server presented another certificate than the one in `tls.cert`.
    #[error("healthcheck: {0}: the server's certificate is not the one in tls.cert")]
    WrongCertificate(String),
    /// The answer has no HTTP status line.
    #[error("healthcheck: {0} did not answer HTTP")]
    NotHttp(String),
    /// The server answered, but not 200.
    #[error("healthcheck: {url} answered {status}")]
    NotReady {
        /// The URL asked.
        url: String,
        /// The status.
        status: u16,
    },
}

/// Where to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Whether to speak TLS.
    pub tls: bool,
    /// Host name or address (without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Path and query.
    pub path: String,
}

impl Target {
    /// Parses an `http://` or `https://` URL (port defaulting to 80 or 443, path to `/`).
    ///
    /// # Errors
    /// `BadUrl`.
    pub fn parse(url: &str) -> Result<Self, ProbeError> {
        let bad = || ProbeError::BadUrl(url.to_owned());
        let uri: Uri = url.parse().map_err(|_| bad())?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(bad()),
        };
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(bad)?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        // `Uri::port` is `None` for a port out of range too: read it from the authority.
        let authority = uri.authority().ok_or_else(bad)?.as_str();
        let port = match authority.rsplit_once(':').filter(|(_, p)| !p.contains(']')) {
            Some((_, port)) => port.parse::<u16>().map_err(|_| bad())?,
            None if tls => 443,
            None => 80,
        };
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        Ok(Self {
            tls,
            host,
            port,
            path: if path.is_empty() { "/".into() } else { path },
        })
    }

    /// `/readyz` of a server listening on `bind`; an unspecified address (`0.0.0.0`, `::`) is
    /// asked on the loopback.
    #[must_use]
    pub fn readyz(bind: SocketAddr, tls: bool) -> Self {
        let ip = match bind.ip() {
            IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        Self {
            tls,
            host: ip.to_string(),
            port: bind.port(),
            path: "/readyz".into(),
        }
    }

    /// `host:port` as the `Host` header and a URL write it.
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL, for messages.
    #[must_use]
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority(), self.path)
    }
}

/// Sends `GET` to `target` and reads the status; `Ok` only for 200. Over TLS the server must
/// present exactly the first certificate of `certificate` (PEM) and prove it holds its key.
///
/// # Errors
/// `ProbeError` saying what went wrong.
pub fn probe(
    target: &Target,
    certificate: Option<&Path>,
    timeout: Duration,
) -> Result<(), ProbeError> {
    let deadline = Instant::now() + timeout;
    let url = target.url();
    let tls = if target.tls {
        let path = certificate.ok_or_else(|| ProbeError::NoCertificate(url.clone()))?;
        Some(client_config(path)?)
    } else {
        None
    };
    let tcp = connect(target, deadline)?;
    let exchange = |e: std::io::Error| ProbeError::Exchange {
        url: url.clone(),
        cause: Cause(e),
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: tessera-healthcheck\r\nConnection: close\r\n\r\n",
        target.path,
        target.authority()
    );
    let tcp = Deadlined {
        socket: tcp,
        deadline,
    };
    let head = match tls {
        None => exchange_on(tcp, &request),
        Some(config) => {
            let name = ServerName::try_from(target.host.clone())
                .map_err(|_| ProbeError::BadUrl(url.clone()))?;
            let conn = ClientConnection::new(config, name)
                .map_err(|e| exchange(std::io::Error::other(e)))?;
            let stream = StreamOwned::new(conn, tcp);
            exchange_on(stream, &request)
        }
    }
    .map_err(|e| {
        if refused_as_not_pinned(&e) {
            ProbeError::WrongCertificate(url.clone())
        } else {
            exchange(e)
        }
    })?;
    let status = status_of(&head).ok_or_else(|| ProbeError::NotHttp(url.clone()))?;
    if status == 200 {
        Ok(())
    } else {
        Err(ProbeError::NotReady { url, status })
    }
}

/// Whether the handshake failed because [`Pinned`] refused the server's certificate.
fn refused_as_not_pinned(error: &std::io::Error) -> bool {
    let Some(rustls::Error::InvalidCertificate(CertificateError::Other(other))) = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    else {
        return false;
    };
    other.0.is::<NotPinned>()
}

/// Connects to the first address of the target's host that answers before the deadline.
fn connect(target: &Target, deadline: Instant) -> Result<TcpStream, ProbeError> {
    let unreachable = |cause: std::io::Error| ProbeError::Unreachable {
        url: target.url(),
        cause: Cause(cause),
    };
    let addrs = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(unreachable)?;
    let mut last = std::io::Error::from(std::io::ErrorKind::NotFound);
    for addr in addrs {
        let left = remaining(deadline).map_err(unreachable)?;
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(unreachable(last))
}

/// The time left, or `TimedOut`.
fn remaining(deadline: Instant) -> std::io::Result<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::TimedOut))
}

/// A socket whose every read and write waits at most until the deadline: the timeout is set
/// to what is left before each call, so neither a silent peer nor one that dribbles its
/// answer (or, over TLS, its handshake) a byte at a time keeps the probe past the deadline.
struct Deadlined {
    socket: TcpStream,
    deadline: Instant,
}

impl Read for Deadlined {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.socket
            .set_read_timeout(Some(remaining(self.deadline)?))?;
        self.socket.read(buf)
    }
}

impl Write for Deadlined {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.socket
            .set_write_timeout(Some(remaining(self.deadline)?))?;
        self.socket.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.socket.flush()
    }
}

/// Writes the request and reads until the end of the status line (at most
/// [`MAX_STATUS_LINE`] bytes); every step (the TLS handshake's included) within what is left
/// of the deadline.
fn exchange_on(mut stream: impl Read + Write, request: &str) -> std::io::Result<Vec<u8>> {
    stream.write_all(request.as_bytes())?;
    stream.flush()?;
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < MAX_STATUS_LINE {
        match stream.read(&mut buf)? {
            0 => break,
            n => head.extend_from_slice(buf.get(..n).unwrap_or_default()),
        }
    }
    Ok(head)
}

/// The status code of `HTTP/1.x NNN …`.
fn status_of(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split_whitespace();
    if !words.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let code = words.next()?;
    (code.len() == 3).then(|| code.parse().ok()).flatten()
}

/// A TLS client that accepts exactly the first certificate in `path`.
fn client_config(path: &Path) -> Result<Arc<ClientConfig>, ProbeError> {
    let certificate = CertificateDer::from_pem_file(path)
        .map_err(|e| ProbeError::Certificate(format!("{}: {e}", path.display())))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::Certificate(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned {
            certificate,
            provider,
        }))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The server presented another certificate than the one expected.
#[derive(Debug, thiserror::Error)]
#[error("not the certificate in tls.cert")]
struct NotPinned;

/// Accepts the one certificate the server is configured with (whatever names it carries), and
/// checks the handshake's signatures against it as usual.
#[derive(Debug)]
struct Pinned {
    certificate: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.certificate.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(NotPinned)),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_default_ports_and_paths() {
        let t = Target::parse("https://tessera-1/readyz?x=1").unwrap();
        assert_eq!((t.tls, t.host.as_str(), t.port), (true, "tessera-1", 443));
        assert_eq!(t.path, "/readyz?x=1");
        let t = Target::parse("http://[::1]:8080").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("::1", 8080, "/")
        );
        assert_eq!(t.url(), "http://[::1]:8080/");
        for bad in [
            "ftp://h/",
            "127.0.0.1:8080",
            "http://",
            "",
            "http://h:99999/",
        ] {
            assert!(
                matches!(Target::parse(bad), Err(ProbeError::BadUrl(_))),
                "{bad}: {:?}",
                Target::parse(bad)
            );
        }
    }

    #[test]
    fn an_unspecified_bind_address_is_asked_on_the_loopback() {
        let t = Target::readyz("0.0.0.0:8080".parse().unwrap(), false);
        assert_eq!(t.url(), "http://127.0.0.1:8080/readyz");
        let t = Target::readyz("[::]:8443".parse().unwrap(), true);
        assert_eq!(t.url(), "https://[::1]:8443/readyz");
    }

    #[test]
    fn only_an_http_status_line_has_a_status() {
        assert_eq!(
            status_of(b"HTTP/1.1 503 Service Unavailable\r\n"),
            Some(503)
        );
        assert_eq!(status_of(b"HTTP/1.0 200 OK\r\n"), Some(200));
        assert_eq!(status_of(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status_of(b"HTTP/1.1 2000 x\r\n"), None);
        assert_eq!(status_of(b""), None);
    }
}
