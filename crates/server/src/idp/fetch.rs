//! The outbound HTTP of SSO: what Tessera fetches from customers' identity providers, guarded
//! against being turned on Tessera's own network (SSRF) and against hostile answers.
//!
//! - Only `https` unless local providers are allowed (`sso.allow_local_idp`, development).
//! - Names resolve through a resolver that drops loopback, private, link-local and other
//!   non-public addresses (unless local providers are allowed); an address literal in the URL is
//!   checked the same way, since it is never resolved.
//! - No redirects are followed, no proxy is used (a proxy would resolve names itself, past the
//!   filter); 2 s to connect, 5 s in all; answers larger than 512 KiB are cut off and refused.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Largest answer read from an identity provider.
pub const MAX_ANSWER_BYTES: usize = 512 * 1024;

/// Why a fetch failed (a message for logs and the audit trail; never a secret).
pub type FetchError = String;

/// Whether `ip` is an address of the public internet (not loopback, private, link-local,
/// shared, documentation, multicast or unspecified).
#[must_use]
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            // An allowlist: global unicast (2000::/3) only, without the ranges that tunnel to
            // IPv4 or are reserved (6to4 2002::/16, Teredo and the other 2001::/23 protocol
            // assignments, documentation 2001:db8::/32).
            let s = v6.segments();
            (s[0] & 0xe000) == 0x2000
                && s[0] != 0x2002
                && !(s[0] == 0x2001 && s[1] < 0x0200)
                && !(s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

/// Makes aws-lc-rs the process's default TLS provider when none is (reqwest builds its clients
/// on the default one; Tessera never links ring).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Resolves through the system, keeping only public addresses.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// The guarded HTTP client.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    allow_local: bool,
}

/// An answer: status, `Cache-Control` max age (seconds, when given), body.
pub struct Answer {
    /// Status.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body, at most `MAX_ANSWER_BYTES`.
    pub body: Vec<u8>,
}

impl Fetcher {
    /// A client; `allow_local` admits `http` and non-public addresses.
    ///
    /// # Errors
    /// A message when the TLS configuration cannot be built.
    pub fn new(allow_local: bool) -> Result<Self, String> {
        install_crypto_provider();
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS for identity providers: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")));
        if !allow_local {
            builder = builder
                .https_only(true)
                .dns_resolver(std::sync::Arc::new(PublicOnly));
        }
        let client = builder
            .build()
            .map_err(|e| format!("HTTP client for identity providers: {e}"))?;
        Ok(Self {
            client,
            allow_local,
        })
    }

    /// Refuses a URL the guard does not admit (scheme, address literal).
    fn admit(&self, url: &reqwest::Url) -> Result<(), FetchError> {
        if self.allow_local {
            return match url.scheme() {
                "https" | "http" => Ok(()),
                other => Err(format!("unsupported scheme {other}")),
            };
        }
        if url.scheme() != "https" {
            return Err(format!("{url} is not https"));
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(format!("{url} has no host")),
        };
        match literal {
            Some(ip) if !is_public(ip) => Err(format!("{ip} is not a public address")),
            _ => Ok(()),
        }
    }

    /// Sends `request` (built on this client), reading at most `MAX_ANSWER_BYTES`.
    ///
    /// # Errors
    /// A message naming what failed.
    pub async fn send(&self, request: reqwest::Request) -> Result<Answer, FetchError> {
        self.admit(request.url())?;
        let url = request.url().clone();
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| format!("{url}: {}", without_url(&e)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("{url}: {}", without_url(&e)))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(format!(
                    "{url}: the answer is larger than {MAX_ANSWER_BYTES} bytes"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// GETs a JSON document.
    ///
    /// # Errors
    /// A message when it cannot be fetched or its status is not 200.
    pub async fn get_json(&self, url: &str) -> Result<Answer, FetchError> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
        let request = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .build()
            .map_err(|e| format!("{url}: {e}"))?;
        let answer = self.send(request).await?;
        if answer.status == 200 {
            Ok(answer)
        } else {
            Err(format!("{url} answered {}", answer.status))
        }
    }

    /// The client, to build requests on.
    #[must_use]
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// A reqwest error's text without its URL (which the caller names once).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text
            .replace(&format!(" ({url})"), "")
            .replace(url.as_str(), "");
    }
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        format!("cannot connect: {text}")
    } else {
        text
    }
}

/// Seconds a document may be kept, from `Cache-Control`: `no-store`/`no-cache` → 0,
/// `max-age=N` → N, otherwise `default`; at most a day.
#[must_use]
pub fn max_age(headers: &reqwest::header::HeaderMap, default: u64) -> u64 {
    let mut age = default;
    for value in headers.get_all(reqwest::header::CACHE_CONTROL) {
        let Ok(text) = value.to_str() else { continue };
        for directive in text.split(',').map(str::trim) {
            let lower = directive.to_ascii_lowercase();
            if lower == "no-store" || lower == "no-cache" {
                return 0;
            }
            if let Some(n) = lower.strip_prefix("max-age=") {
                if let Ok(n) = n.trim_matches('"').parse::<u64>() {
                    age = n;
                }
            }
        }
    }
    age.min(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{CACHE_CONTROL, HeaderMap, HeaderValue};

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::a00:1",
            "::7f00:1",
            "2002:a00:1::1",
            "2002:7f00:1::1",
            "fec0::1",
            "::ffff:0:a00:1",
            "2001:0:4136:e378::1",
            "100::1",
            "2001:db8::1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn the_guard_refuses_http_and_private_literals_unless_local_is_allowed() {
        let strict = Fetcher::new(false).unwrap();
        for bad in [
            "http://idp.example.com/x",
            "https://127.0.0.1/x",
            "https://[::1]/x",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1:8443/x",
        ] {
            assert!(strict.admit(&bad.parse().unwrap()).is_err(), "{bad}");
        }
        assert!(
            strict
                .admit(&"https://idp.example.com/x".parse().unwrap())
                .is_ok()
        );
        let local = Fetcher::new(true).unwrap();
        assert!(
            local
                .admit(&"http://127.0.0.1:9000/x".parse().unwrap())
                .is_ok()
        );
        assert!(local.admit(&"file:///etc/passwd".parse().unwrap()).is_err());
    }

    #[test]
    fn cache_control_sets_the_age() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(CACHE_CONTROL, HeaderValue::from_str(v).unwrap());
            m
        };
        assert_eq!(max_age(&HeaderMap::new(), 300), 300);
        assert_eq!(max_age(&h("public, max-age=60"), 300), 60);
        assert_eq!(max_age(&h("max-age=999999"), 300), 86_400);
        assert_eq!(max_age(&h("no-store"), 300), 0);
        assert_eq!(max_age(&h("max-age=60, no-cache"), 300), 0);
        assert_eq!(max_age(&h("max-age=abc"), 300), 300);
    }
}
