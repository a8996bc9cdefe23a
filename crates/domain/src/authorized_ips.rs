//! Authorized IPs: an account's allow and deny entries (IPv4 and IPv6 networks), a key's own
//! `allowed_ips`, and the one rule deciding whether a client address may use a credential.
//!
//! The rule: a deny entry containing the address always refuses; when the account has any allow
//! entry, only an address inside one of them is admitted; a key with `allowed_ips` admits only
//! addresses inside one of those too. An account and key with no entries admit every address
//! (an unknown one included); any entry at all refuses an unknown address.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use ipnet::IpNet;

use crate::error::DomainError;

/// Most entries one account's list may hold.
pub const MAX_AUTHORIZED_IPS: usize = 1000;
/// Most networks one key's `allowed_ips` may hold.
pub const MAX_KEY_ALLOWED_IPS: usize = 50;
/// Longest description of an entry, characters.
pub const MAX_DESCRIPTION_LEN: usize = 255;
/// Longest text accepted as an address or network.
const MAX_TEXT_LEN: usize = 64;

/// An address or network, in its one canonical form: host bits cleared, an IPv4 address written
/// as IPv6 (`::ffff:192.0.2.1`) is the IPv4 address. Displays as the address alone for a single
/// address (`192.0.2.1`), else `network/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Network(IpNet);

impl Network {
    /// Parses `192.0.2.1`, `192.0.2.0/24`, `2001:db8::/32`, `2001:db8::1`; `field` names the
    /// parameter in the error. A network written with host bits (`192.0.2.7/24`) means its
    /// network (`192.0.2.0/24`).
    ///
    /// # Errors
    /// `Invalid` naming `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        let text = raw.trim();
        let bad = || {
            DomainError::invalid(
                field,
                format!(
                    "expected an IP address or a CIDR network such as 192.0.2.0/24, not '{}'",
                    shorten(text)
                ),
            )
        };
        if text.is_empty() || text.len() > MAX_TEXT_LEN {
            return Err(bad());
        }
        let net = match text.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) => IpNet::from(text.parse::<IpAddr>().map_err(|_| bad())?),
        };
        Ok(Self::canonical(net))
    }

    /// The network holding exactly `address`.
    #[must_use]
    pub fn host(address: IpAddr) -> Self {
        Self::canonical(IpNet::from(address))
    }

    fn canonical(net: IpNet) -> Self {
        let net = net.trunc();
        let IpNet::V6(v6) = net else {
            return Self(net);
        };
        let mapped = v6
            .addr()
            .to_ipv4_mapped()
            .filter(|_| v6.prefix_len() >= 96)
            .and_then(|v4| ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).ok());
        match mapped {
            Some(v4) => Self(IpNet::V4(v4.trunc())),
            None => Self(net),
        }
    }

    /// The network.
    #[must_use]
    pub fn net(&self) -> IpNet {
        self.0
    }

    /// Whether `address` lies inside.
    #[must_use]
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.contains(&canonical_address(address))
    }

    /// Whether this is a single address (`/32`, `/128`).
    #[must_use]
    pub fn is_host(&self) -> bool {
        self.0.prefix_len() == self.0.max_prefix_len()
    }
}

impl serde::Serialize for Network {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Parses networks stored or sent as one text, separated by commas or spaces (storage keeps
/// them comma-separated, canonical).
///
/// # Errors
/// `Invalid` naming `field` for the first that does not parse.
pub fn parse_networks(field: &'static str, text: &str) -> Result<Vec<Network>, DomainError> {
    text.split([',', ' '])
        .filter(|s| !s.trim().is_empty())
        .map(|s| Network::parse(field, s))
        .collect()
}

/// Networks as one comma-separated text (the inverse of [`parse_networks`]).
#[must_use]
pub fn join_networks(networks: &[Network]) -> String {
    networks
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_host() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// An IPv4 address written as IPv6 is the IPv4 address.
#[must_use]
pub fn canonical_address(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// Parses one address (`192.0.2.1`, `2001:db8::1`); `field` names the parameter in the error.
///
/// # Errors
/// `Invalid` naming `field`.
pub fn parse_address(field: &'static str, raw: &str) -> Result<IpAddr, DomainError> {
    let text = raw.trim();
    text.parse::<IpAddr>().map(canonical_address).map_err(|_| {
        DomainError::invalid(
            field,
            format!(
                "expected an IP address such as 192.0.2.1, not '{}'",
                shorten(text)
            ),
        )
    })
}

/// Checks an entry's description: at most [`MAX_DESCRIPTION_LEN`] characters, no control
/// characters.
///
/// # Errors
/// `Invalid` naming `description`.
pub fn check_description(description: &str) -> Result<(), DomainError> {
    if description.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(DomainError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
        ));
    }
    if description.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "description",
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Checks a key's `allowed_ips`: at most [`MAX_KEY_ALLOWED_IPS`] networks, none twice.
///
/// # Errors
/// `Invalid` naming `allowed_ips`.
pub fn check_key_allowed_ips(networks: &[Network]) -> Result<(), DomainError> {
    if networks.len() > MAX_KEY_ALLOWED_IPS {
        return Err(DomainError::invalid(
            "allowed_ips",
            format!("at most {MAX_KEY_ALLOWED_IPS} networks"),
        ));
    }
    for (i, n) in networks.iter().enumerate() {
        if networks[..i].contains(n) {
            return Err(DomainError::invalid(
                "allowed_ips",
                format!("{n} is listed twice"),
            ));
        }
    }
    Ok(())
}

fn shorten(text: &str) -> String {
    text.chars().take(MAX_TEXT_LEN).collect()
}

/// One entry of an account's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedIp {
    /// The address or network.
    pub network: Network,
    /// `true`: an allow entry; `false`: a deny entry.
    pub allowed: bool,
    /// What it is for.
    pub description: Option<String>,
    /// When it was added.
    pub created: DateTime<Utc>,
}

/// Whether an address may call, and the entry that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpCheck {
    /// Whether the address is admitted.
    pub allowed: bool,
    /// The deny entry that refused it, or the allow entry that admitted it; `None` when no
    /// entry matched (admitted by an empty allow list, or refused by a non-empty one).
    pub matched: Option<Network>,
}

/// What an account's list says about `address`: a deny entry containing it refuses (the most
/// specific one is named); otherwise, when there are allow entries, one containing it admits
/// (the most specific is named) and none refuses; with no allow entry, the address is admitted.
#[must_use]
pub fn check(entries: &[AuthorizedIp], address: IpAddr) -> IpCheck {
    let address = canonical_address(address);
    let most_specific = |allowed: bool| {
        entries
            .iter()
            .filter(|e| e.allowed == allowed && e.network.contains(address))
            .max_by_key(|e| e.network.net().prefix_len())
            .map(|e| e.network)
    };
    if let Some(deny) = most_specific(false) {
        return IpCheck {
            allowed: false,
            matched: Some(deny),
        };
    }
    match most_specific(true) {
        Some(allow) => IpCheck {
            allowed: true,
            matched: Some(allow),
        },
        None => IpCheck {
            allowed: !entries.iter().any(|e| e.allowed),
            matched: None,
        },
    }
}

/// The address conditions a credential carries: its account's list and its key's own
/// `allowed_ips`. Evaluated on every request, cached with the principal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressRule {
    /// The account's entries.
    pub account: Vec<AuthorizedIp>,
    /// The key's `allowed_ips` (empty: no condition of its own).
    pub key: Vec<Network>,
}

impl AddressRule {
    /// Whether a request from `address` (`None`: unknown) may use the credential.
    #[must_use]
    pub fn admits(&self, address: Option<IpAddr>) -> bool {
        if self.account.is_empty() && self.key.is_empty() {
            return true;
        }
        let Some(address) = address else {
            return false;
        };
        check(&self.account, address).allowed
            && (self.key.is_empty() || self.key.iter().any(|n| n.contains(address)))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn net(s: &str) -> Network {
        Network::parse("authorized_ip", s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn entry(s: &str, allowed: bool) -> AuthorizedIp {
        AuthorizedIp {
            network: net(s),
            allowed,
            description: None,
            created: Utc.timestamp_opt(0, 0).unwrap(),
        }
    }

    #[test]
    fn networks_have_one_canonical_form() {
        assert_eq!(net("192.0.2.1").to_string(), "192.0.2.1");
        assert_eq!(net(" 192.0.2.1/32 ").to_string(), "192.0.2.1");
        assert_eq!(net("192.0.2.7/24").to_string(), "192.0.2.0/24");
        assert_eq!(net("::ffff:192.0.2.1").to_string(), "192.0.2.1");
        assert_eq!(net("::ffff:192.0.2.0/120").to_string(), "192.0.2.0/24");
        assert_eq!(net("2001:DB8::1/32").to_string(), "2001:db8::/32");
        assert_eq!(net("2001:db8::1").to_string(), "2001:db8::1");
        assert_eq!(net("0.0.0.0/0").to_string(), "0.0.0.0/0");
    }

    #[test]
    fn malformed_networks_are_refused_naming_the_field() {
        for bad in [
            "",
            " ",
            "all",
            "192.0.2.1/33",
            "192.0.2",
            "192.0.2.256",
            "2001:db8::/129",
            "192.0.2.0/-1",
            "192.0.2.0/",
            "1.2.3.4 5.6.7.8",
            &"1".repeat(10_000),
        ] {
            let err = Network::parse("authorized_ip", bad).unwrap_err();
            assert!(
                err.to_string().starts_with("authorized_ip: expected an IP"),
                "{bad}: {err}"
            );
            assert!(err.to_string().len() < 200, "the message stays short");
        }
        assert!(parse_address("contains_ip", "192.0.2.0/24").is_err());
        assert_eq!(
            parse_address("contains_ip", "::ffff:10.0.0.1").unwrap(),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn a_deny_entry_always_refuses() {
        let list = [entry("10.0.0.0/8", true), entry("10.1.2.3", false)];
        let c = check(&list, ip("10.1.2.3"));
        assert!(!c.allowed);
        assert_eq!(c.matched, Some(net("10.1.2.3")));
        let c = check(&list, ip("10.1.2.4"));
        assert!(c.allowed);
        assert_eq!(c.matched, Some(net("10.0.0.0/8")));
    }

    #[test]
    fn allow_entries_admit_only_their_addresses() {
        assert!(check(&[], ip("203.0.113.9")).allowed);
        let deny_only = [entry("203.0.113.0/24", false)];
        assert!(check(&deny_only, ip("198.51.100.1")).allowed);
        let allow = [entry("198.51.100.0/24", true)];
        let c = check(&allow, ip("203.0.113.9"));
        assert_eq!(
            c,
            IpCheck {
                allowed: false,
                matched: None
            }
        );
        assert!(check(&allow, ip("::ffff:198.51.100.7")).allowed, "mapped");
        assert!(!check(&allow, ip("2001:db8::1")).allowed);
    }

    #[test]
    fn the_most_specific_entry_is_named() {
        let list = [
            entry("10.0.0.0/8", true),
            entry("10.1.0.0/16", true),
            entry("10.0.0.0/8", false),
        ];
        assert_eq!(
            check(&list, ip("10.1.0.1")).matched,
            Some(net("10.0.0.0/8"))
        );
        let list = [entry("10.0.0.0/8", true), entry("10.1.0.0/16", true)];
        assert_eq!(
            check(&list, ip("10.1.0.1")).matched,
            Some(net("10.1.0.0/16"))
        );
    }

    #[test]
    fn a_rule_checks_the_account_and_the_key() {
        let open = AddressRule::default();
        assert!(open.admits(None));
        assert!(open.admits(Some(ip("192.0.2.1"))));
        let key_only = AddressRule {
            account: vec![],
            key: vec![net("192.0.2.0/24")],
        };
        assert!(key_only.admits(Some(ip("192.0.2.1"))));
        assert!(!key_only.admits(Some(ip("192.0.3.1"))));
        assert!(!key_only.admits(None), "an unknown address is refused");
        let both = AddressRule {
            account: vec![entry("192.0.2.0/24", true), entry("192.0.2.66", false)],
            key: vec![net("192.0.2.0/25")],
        };
        assert!(both.admits(Some(ip("192.0.2.1"))));
        assert!(!both.admits(Some(ip("192.0.2.66"))), "the account denies");
        assert!(!both.admits(Some(ip("192.0.2.200"))), "the key refuses");
        assert!(
            !both.admits(Some(ip("198.51.100.1"))),
            "the account refuses"
        );
    }

    #[test]
    fn descriptions_and_key_lists_are_bounded() {
        assert!(check_description(&"d".repeat(MAX_DESCRIPTION_LEN)).is_ok());
        assert!(check_description(&"d".repeat(MAX_DESCRIPTION_LEN + 1)).is_err());
        assert!(check_description("line\nbreak").is_err());
        let many: Vec<Network> = (0..=MAX_KEY_ALLOWED_IPS)
            .map(|i| Network::host(IpAddr::from([10, 0, 0, u8::try_from(i).unwrap()])))
            .collect();
        assert!(check_key_allowed_ips(&many[..MAX_KEY_ALLOWED_IPS]).is_ok());
        assert!(check_key_allowed_ips(&many).is_err());
        let twice = [net("10.0.0.0/8"), net("10.1.2.3/8")];
        assert_eq!(
            check_key_allowed_ips(&twice).unwrap_err().to_string(),
            "allowed_ips: 10.0.0.0/8 is listed twice"
        );
    }
}
