//! The client's address: the socket peer, or — behind proxies the operator trusts — the address
//! those proxies recorded, read so that a client cannot choose its own.
//!
//! The rule (the one nginx's `real_ip_recursive on` and most load balancers document): when the
//! peer is a trusted proxy, walk the forwarding chain from the right (the entry the nearest proxy
//! added) and take the first address that is not itself a trusted proxy. Entries to the left of
//! it were written by the client or by proxies nobody vouches for, and are never used. With no
//! trusted proxies, or from a peer that is not one, the forwarding headers are ignored.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// Which header the trusted proxies maintain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx's `$proxy_add_x_forwarded_for`).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// How to find the client address (`server.trust_forwarded_for`, `server.trusted_proxies`,
/// `server.forwarded_header`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress {
    /// The proxies whose forwarding entries are believed; empty = none, headers ignored.
    pub trusted: Vec<IpNet>,
    /// The header they maintain.
    pub header: ForwardedHeader,
}

impl Default for ClientAddress {
    fn default() -> Self {
        Self {
            trusted: Vec::new(),
            header: ForwardedHeader::XForwardedFor,
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is the IPv4 address: one client, one
/// key for the per-address limit and the audit log.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// One forwarding entry as an address: `192.0.2.1`, `192.0.2.1:80`, `2001:db8::1`,
/// `[2001:db8::1]:80`, quoted or not. `None` for `unknown`, obfuscated names, or garbage.
fn entry_ip(raw: &str) -> Option<IpAddr> {
    let v = raw.trim().trim_matches('"');
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sock) = v.parse::<SocketAddr>() {
        return Some(canonical(sock.ip()));
    }
    v.strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
        .map(canonical)
}

/// The comma-separated values of every `name` header, in order (the nearest proxy's last).
pub(crate) fn header_list<'h>(headers: &'h HeaderMap, name: &str) -> impl Iterator<Item = &'h str> {
    headers
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
}

/// Each element of the `Forwarded` headers, in order: its `key=` value (raw, maybe quoted), or
/// `None` when the element has no such pair (each element may carry several `;`-separated
/// pairs).
pub(crate) fn forwarded_param<'h>(
    headers: &'h HeaderMap,
    key: &'static str,
) -> impl Iterator<Item = Option<&'h str>> {
    header_list(headers, "forwarded").map(move |element| {
        element.split(';').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            k.trim().eq_ignore_ascii_case(key).then_some(v)
        })
    })
}

/// The `for=` values of `Forwarded` headers, in order (elements without one are skipped).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    forwarded_param(headers, "for")
        .flatten()
        .map(entry_ip)
        .collect()
}

fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    header_list(headers, "x-forwarded-for")
        .map(entry_ip)
        .collect()
}

impl ClientAddress {
    /// Whether `ip` is one of the trusted proxies.
    #[must_use]
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client address of a request from `peer` with `headers`.
    #[must_use]
    pub fn resolve(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.trusts(peer) {
            return Some(peer);
        }
        let chain = match self.header {
            ForwardedHeader::XForwardedFor => x_forwarded_for(headers),
            ForwardedHeader::Forwarded => forwarded_for(headers),
        };
        let mut nearest = peer;
        for entry in chain.iter().rev() {
            match entry {
                Some(ip) if self.trusts(*ip) => nearest = *ip,
                Some(ip) => return Some(*ip),
                // A trusted proxy wrote an entry it could not name: the client is unknown, and
                // the nearest address we can vouch for is the proxy's.
                None => return Some(nearest),
            }
        }
        Some(nearest)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(nets: &[&str], header: ForwardedHeader) -> ClientAddress {
        ClientAddress {
            trusted: nets.iter().map(|n| n.parse().unwrap()).collect(),
            header,
        }
    }

    #[test]
    fn without_trusted_proxies_the_headers_are_ignored() {
        let none = ClientAddress::default();
        let h = headers(&[("x-forwarded-for", "6.6.6.6"), ("forwarded", "for=6.6.6.6")]);
        assert_eq!(none.resolve(Some(ip("10.0.0.5")), &h), Some(ip("10.0.0.5")));
    }

    #[test]
    fn a_peer_that_is_not_a_trusted_proxy_is_the_client() {
        let p = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let h = headers(&[("x-forwarded-for", "6.6.6.6")]);
        assert_eq!(
            p.resolve(Some(ip("203.0.113.9")), &h),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn the_rightmost_untrusted_entry_wins_never_the_leftmost() {
        let p = proxies(
            &["10.0.0.0/8", "127.0.0.1/32"],
            ForwardedHeader::XForwardedFor,
        );
        // The client sent "6.6.6.6"; nginx appended the real address; an inner proxy appended
        // nginx's.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(
            p.resolve(Some(ip("127.0.0.1")), &h),
            Some(ip("203.0.113.9"))
        );
        let split = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(
            p.resolve(Some(ip("10.0.0.1")), &split),
            Some(ip("203.0.113.9"))
        );
        let all_trusted = headers(&[("x-forwarded-for", "10.1.1.1, 10.0.0.2")]);
        assert_eq!(
            p.resolve(Some(ip("10.0.0.1")), &all_trusted),
            Some(ip("10.1.1.1"))
        );
        let none = headers(&[]);
        assert_eq!(p.resolve(Some(ip("10.0.0.1")), &none), Some(ip("10.0.0.1")));
        let garbage = headers(&[("x-forwarded-for", "6.6.6.6, not-an-ip")]);
        assert_eq!(
            p.resolve(Some(ip("10.0.0.1")), &garbage),
            Some(ip("10.0.0.1")),
            "an entry the proxy could not name leaves the proxy's own address"
        );
    }

    #[test]
    fn forwarded_follows_the_same_rule() {
        let p = proxies(&["127.0.0.1/32"], ForwardedHeader::Forwarded);
        let h = headers(&[(
            "forwarded",
            "for=6.6.6.6;proto=https, for=\"[2001:db8:cafe::17]:4711\";by=127.0.0.1",
        )]);
        assert_eq!(
            p.resolve(Some(ip("127.0.0.1")), &h),
            Some(ip("2001:db8:cafe::17"))
        );
        let xff_only = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            p.resolve(Some(ip("127.0.0.1")), &xff_only),
            Some(ip("127.0.0.1")),
            "only the configured header counts"
        );
    }

    #[test]
    fn an_ipv4_address_written_as_ipv6_is_the_same_client() {
        let p = proxies(&["127.0.0.1/32"], ForwardedHeader::XForwardedFor);
        let h = headers(&[("x-forwarded-for", "::ffff:9.9.9.9")]);
        assert_eq!(p.resolve(Some(ip("127.0.0.1")), &h), Some(ip("9.9.9.9")));
        let none = ClientAddress::default();
        assert_eq!(
            none.resolve(Some(ip("::ffff:10.0.0.5")), &headers(&[])),
            Some(ip("10.0.0.5"))
        );
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let p = proxies(&["127.0.0.1/32"], ForwardedHeader::XForwardedFor);
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            p.resolve(Some(ip("::ffff:127.0.0.1")), &h),
            Some(ip("203.0.113.9"))
        );
    }
}
