//! This server's own origin as its users reach it: what the SSO callback, the OAuth issuer, the
//! CSRF origin rule and the binding cookie's `Secure` flag are derived from.
//!
//! `server.public_url` decides when it is set. Without it, the request's `Host` and the
//! connection's own scheme decide; a forwarded scheme (`X-Forwarded-Proto`, or RFC 7239
//! `Forwarded: proto=…`) is believed only when the peer is one of the proxies the operator
//! trusts (`server.trusted_proxies`, the rule of [`ClientAddress`]), and a forwarded host never
//! (proxies pass `Host` on). A client must not choose the issuer its tokens name, nor the
//! callback an identity provider is asked to send codes to.

use actix_web::{HttpRequest, http::header, web};

use crate::client_address::{ClientAddress, ForwardedHeader, forwarded_param, header_list};
use crate::sso_signin::PublicUrl;

/// A scheme and an authority (`host[:port]`), as a browser's `Origin` names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`, lowercase.
    pub scheme: String,
    /// `host[:port]` as sent, lowercase.
    pub host: String,
}

impl Origin {
    /// `scheme://host`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }

    /// Whether this origin is served over TLS.
    #[must_use]
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// The origin of an absolute URL (`scheme://authority[/path]`); `None` for anything else.
    #[must_use]
    pub fn of_url(url: &str) -> Option<Self> {
        let (scheme, rest) = url.trim().split_once("://")?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        (!scheme.is_empty() && !host.is_empty()).then(|| Self {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_ascii_lowercase(),
        })
    }
}

/// The configured public URL, trimmed of its trailing slash; `None` when not configured.
#[must_use]
pub fn configured_public_url(req: &HttpRequest) -> Option<String> {
    req.app_data::<web::Data<PublicUrl>>()
        .and_then(|p| p.0.as_deref())
        .map(|u| u.trim_end_matches('/').to_owned())
}

/// The base URL this server is reached at: `server.public_url` when configured (it may carry a
/// path), else [`request_origin`]'s URL.
#[must_use]
pub fn base_url(req: &HttpRequest) -> String {
    configured_public_url(req).unwrap_or_else(|| request_origin(req).url())
}

/// The rule for proxies, when the request's peer is one the operator trusts.
fn trusted_proxy_rule(req: &HttpRequest) -> Option<&ClientAddress> {
    let peer = req.peer_addr()?;
    req.app_data::<web::Data<ClientAddress>>()
        .map(|rule| rule.get_ref())
        .filter(|rule| rule.trusts(peer.ip()))
}

/// The scheme the nearest proxy says the client used: the last `X-Forwarded-Proto` value, or
/// the last `Forwarded` element's `proto=`, whichever header the proxies maintain.
fn forwarded_scheme(rule: &ClientAddress, headers: &header::HeaderMap) -> Option<String> {
    // The last element counts even without a `proto=`: an earlier one was not the nearest
    // proxy's.
    let last = match rule.header {
        ForwardedHeader::XForwardedFor => header_list(headers, "x-forwarded-proto").last(),
        ForwardedHeader::Forwarded => forwarded_param(headers, "proto")
            .last()
            .flatten()
            .map(|v| v.trim().trim_matches('"')),
    }?;
    let scheme = last.trim().to_ascii_lowercase();
    matches!(scheme.as_str(), "http" | "https").then_some(scheme)
}

/// The origin the request was made to: its `Host` header (or the request line's authority;
/// proxies pass `Host` on, as nginx's `proxy_set_header Host $host`) and the connection's own
/// scheme — or, from a trusted proxy, the scheme it forwarded (`X-Forwarded-Proto`, or
/// `Forwarded: proto=` when `server.forwarded_header = "forwarded"`). `X-Forwarded-Host` is
/// never read: a proxy that does not set it passes a client's own through.
#[must_use]
pub fn request_origin(req: &HttpRequest) -> Origin {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(ToString::to_string))
        .unwrap_or_else(|| req.app_config().host().to_owned());
    let own_scheme = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    let scheme = trusted_proxy_rule(req)
        .and_then(|rule| forwarded_scheme(rule, req.headers()))
        .unwrap_or_else(|| own_scheme.to_owned());
    Origin {
        scheme,
        host: host.to_ascii_lowercase(),
    }
}

/// The origins a browser page of this server can have: the configured public URL's, and the
/// one the request was made to.
#[must_use]
pub fn own_origins(req: &HttpRequest) -> Vec<Origin> {
    let mut origins = vec![request_origin(req)];
    if let Some(public) = configured_public_url(req)
        .as_deref()
        .and_then(Origin::of_url)
    {
        if !origins.contains(&public) {
            origins.push(public);
        }
    }
    origins
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use actix_web::test::TestRequest;

    use super::*;

    fn trusting(net: &str) -> ClientAddress {
        ClientAddress {
            trusted: vec![net.parse().unwrap()],
            ..ClientAddress::default()
        }
    }

    fn peer(ip: &str) -> SocketAddr {
        format!("{ip}:40000").parse().unwrap()
    }

    fn spoofing(req: TestRequest) -> HttpRequest {
        req.insert_header(("host", "iam.example.test"))
            .insert_header(("x-forwarded-host", "evil.example"))
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header(("forwarded", "host=evil2.example;proto=https"))
            .to_http_request()
    }

    #[test]
    fn forwarded_host_and_scheme_from_an_untrusted_peer_are_ignored() {
        let req = spoofing(
            TestRequest::default()
                .peer_addr(peer("203.0.113.9"))
                .app_data(web::Data::new(trusting("10.0.0.0/8"))),
        );
        assert_eq!(request_origin(&req).url(), "http://iam.example.test");
        // With no rule configured at all, nobody is trusted.
        let req = spoofing(TestRequest::default().peer_addr(peer("10.0.0.2")));
        assert_eq!(request_origin(&req).url(), "http://iam.example.test");
    }

    #[test]
    fn a_trusted_proxy_says_which_scheme_the_client_used_never_which_host() {
        let req = spoofing(
            TestRequest::default()
                .peer_addr(peer("10.0.0.2"))
                .app_data(web::Data::new(trusting("10.0.0.0/8"))),
        );
        assert_eq!(request_origin(&req).url(), "https://iam.example.test");
        assert!(request_origin(&req).is_https());
        // The last value is the nearest proxy's; anything but http or https is no scheme.
        let req = TestRequest::default()
            .peer_addr(peer("10.0.0.2"))
            .app_data(web::Data::new(trusting("10.0.0.0/8")))
            .insert_header(("host", "IAM.example.com"))
            .insert_header(("x-forwarded-proto", "https, http"))
            .to_http_request();
        assert_eq!(request_origin(&req).url(), "http://iam.example.com");
        let req = TestRequest::default()
            .peer_addr(peer("10.0.0.2"))
            .app_data(web::Data::new(trusting("10.0.0.0/8")))
            .insert_header(("host", "iam.example.com"))
            .insert_header(("x-forwarded-proto", "javascript"))
            .to_http_request();
        assert_eq!(request_origin(&req).url(), "http://iam.example.com");
    }

    #[test]
    fn with_forwarded_the_last_elements_proto_counts_and_x_forwarded_proto_not() {
        let rule = ClientAddress {
            header: ForwardedHeader::Forwarded,
            ..trusting("10.0.0.0/8")
        };
        let req = TestRequest::default()
            .peer_addr(peer("10.0.0.2"))
            .app_data(web::Data::new(rule.clone()))
            .insert_header(("host", "iam.example.com"))
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header((
                "forwarded",
                "for=1.2.3.4;proto=https, for=10.0.0.3;proto=http",
            ))
            .to_http_request();
        assert_eq!(request_origin(&req).url(), "http://iam.example.com");
        let req = TestRequest::default()
            .peer_addr(peer("10.0.0.2"))
            .app_data(web::Data::new(rule))
            .insert_header(("host", "iam.example.com"))
            .insert_header(("forwarded", "for=10.0.0.3;proto=\"HTTPS\""))
            .to_http_request();
        assert_eq!(request_origin(&req).url(), "https://iam.example.com");
    }

    #[test]
    fn the_public_url_is_the_base_and_one_of_the_own_origins() {
        let req = TestRequest::default()
            .peer_addr(peer("203.0.113.9"))
            .app_data(web::Data::new(PublicUrl(Some(
                "https://IAM.example.com/tessera/".into(),
            ))))
            .insert_header(("host", "127.0.0.1:8080"))
            .to_http_request();
        assert_eq!(base_url(&req), "https://IAM.example.com/tessera");
        assert_eq!(
            own_origins(&req)
                .iter()
                .map(Origin::url)
                .collect::<Vec<_>>(),
            ["http://127.0.0.1:8080", "https://iam.example.com"]
        );
        let bare = TestRequest::default()
            .insert_header(("host", "127.0.0.1:8080"))
            .to_http_request();
        assert_eq!(base_url(&bare), "http://127.0.0.1:8080");
    }

    #[test]
    fn origins_of_urls() {
        assert_eq!(
            Origin::of_url("HTTPS://Example.com:8443/a?b#c").map(|o| o.url()),
            Some("https://example.com:8443".into())
        );
        assert_eq!(Origin::of_url("example.com"), None);
        assert_eq!(Origin::of_url("https:///path"), None);
    }
}
