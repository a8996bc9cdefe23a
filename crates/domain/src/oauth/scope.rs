//! OAuth scopes: one per capability and level of the permission catalog
//! (`user_management.read`, `user_management.write`), plus the OpenID Connect identity scopes
//! (`openid`, `email`, `profile`) and `offline_access` (a refresh token).
//!
//! A token's scopes narrow what its subject may do: its effective permissions are the
//! permissions its scopes name ∩ its subject's permissions at the time of use. `write` implies
//! `read`, as everywhere in the catalog.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::permissions::{Capability, Level, PermSet, Permission};

/// The longest scope string a request may carry (every scope of the catalog, space-separated,
/// is about 2.4 KB).
pub const MAX_SCOPE_STRING: usize = 4096;

/// An OpenID Connect identity scope, or `offline_access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentityScope {
    /// `openid`: an ID token, and `/oauth/userinfo`.
    OpenId,
    /// `email`: the `email` (and `email_verified`) claims.
    Email,
    /// `profile`: the `name` and `preferred_username` claims.
    Profile,
    /// `offline_access`: a refresh token.
    OfflineAccess,
}

impl IdentityScope {
    /// Every identity scope.
    pub const ALL: [IdentityScope; 4] = [
        IdentityScope::OpenId,
        IdentityScope::Email,
        IdentityScope::Profile,
        IdentityScope::OfflineAccess,
    ];

    /// The scope as written on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenId => "openid",
            Self::Email => "email",
            Self::Profile => "profile",
            Self::OfflineAccess => "offline_access",
        }
    }

    /// A human-readable name (the consent screen, `/v1/oauth/scopes`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::OpenId => "Sign you in (OpenID Connect)",
            Self::Email => "Your email address",
            Self::Profile => "Your name and login",
            Self::OfflineAccess => "Stay signed in (refresh tokens)",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// One scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// An identity scope.
    Identity(IdentityScope),
    /// A permission of the catalog (`user_management.read`).
    Permission(Permission),
}

impl Scope {
    /// Every scope: the identity scopes, then each capability at `read` and `write`.
    pub fn all() -> impl Iterator<Item = Scope> {
        IdentityScope::ALL
            .into_iter()
            .map(Scope::Identity)
            .chain(Capability::ALL.iter().flat_map(|c| {
                Level::ALL
                    .into_iter()
                    .map(move |l| Scope::Permission(Permission::new(*c, l)))
            }))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Identity(i) => f.write_str(i.as_str()),
            Self::Permission(p) => write!(f, "{}.{}", p.capability.slug(), p.level.as_str()),
        }
    }
}

impl FromStr for Scope {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(identity) = IdentityScope::ALL.into_iter().find(|i| i.as_str() == s) {
            return Ok(Self::Identity(identity));
        }
        let unknown = || DomainError::invalid("scope", format!("unknown scope '{}'", shorten(s)));
        let (capability, level) = s.rsplit_once('.').ok_or_else(unknown)?;
        let capability = Capability::from_slug(capability).ok_or_else(unknown)?;
        let level = level.parse::<Level>().map_err(|_| unknown())?;
        Ok(Self::Permission(Permission::new(capability, level)))
    }
}

/// At most 64 characters of a hostile value, for an error message.
fn shorten(s: &str) -> String {
    s.chars().take(64).collect()
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A set of scopes: identity scopes as bits, permissions as a [`PermSet`] (so `write` brings
/// `read`, and narrowing a subject is one mask operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet {
    identity: u8,
    permissions: PermSet,
}

impl ScopeSet {
    /// No scope.
    pub const EMPTY: ScopeSet = ScopeSet {
        identity: 0,
        permissions: PermSet::EMPTY,
    };

    /// Parses a space-delimited scope string (RFC 6749 §3.3): any run of spaces separates,
    /// duplicates are harmless, an unknown scope is an error naming it.
    ///
    /// # Errors
    /// An unknown scope, or a string longer than [`MAX_SCOPE_STRING`].
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.len() > MAX_SCOPE_STRING {
            return Err(DomainError::invalid(
                "scope",
                format!("at most {MAX_SCOPE_STRING} bytes"),
            ));
        }
        s.split(' ')
            .filter(|w| !w.is_empty())
            .map(str::parse::<Scope>)
            .collect()
    }

    /// Adds a scope.
    pub fn insert(&mut self, scope: Scope) {
        match scope {
            Scope::Identity(i) => self.identity |= i.bit(),
            Scope::Permission(p) => self.permissions.insert(p),
        }
    }

    /// Whether the set holds `scope` (a `write` scope holds its `read`).
    #[must_use]
    pub fn contains(&self, scope: Scope) -> bool {
        match scope {
            Scope::Identity(i) => self.identity & i.bit() != 0,
            Scope::Permission(p) => self.permissions.contains(p),
        }
    }

    /// Whether the set holds the identity scope `scope`.
    #[must_use]
    pub fn has(&self, scope: IdentityScope) -> bool {
        self.contains(Scope::Identity(scope))
    }

    /// The permissions the set's scopes name.
    #[must_use]
    pub fn permissions(&self) -> PermSet {
        self.permissions
    }

    /// The scopes in both sets.
    #[must_use]
    pub fn intersection(&self, other: &Self) -> Self {
        Self {
            identity: self.identity & other.identity,
            permissions: self.permissions.intersection(other.permissions),
        }
    }

    /// Whether every scope of `self` is in `other`.
    #[must_use]
    pub fn is_subset(&self, other: &Self) -> bool {
        self.identity & !other.identity == 0 && self.permissions.is_subset(other.permissions)
    }

    /// Keeps the identity scopes and only the permissions of `allowed`.
    #[must_use]
    pub fn narrowed_to(&self, allowed: PermSet) -> Self {
        Self {
            identity: self.identity,
            permissions: self.permissions.intersection(allowed),
        }
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.identity == 0 && self.permissions.is_empty()
    }

    /// The scopes, identity scopes first, then permissions in catalog order (`read` before
    /// `write`; a `write` scope lists its `read` too).
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        IdentityScope::ALL
            .into_iter()
            .filter(|i| self.has(*i))
            .map(Scope::Identity)
            .chain(self.permissions.iter().map(Scope::Permission))
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = Self::EMPTY;
        for scope in iter {
            set.insert(scope);
        }
        set
    }
}

impl fmt::Display for ScopeSet {
    /// Space-delimited, in [`ScopeSet::iter`] order (the `scope` of a token response).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{scope}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_scope_round_trips_through_its_name() {
        let all: Vec<Scope> = Scope::all().collect();
        assert_eq!(all.len(), 4 + Capability::ALL.len() * 2);
        for scope in all {
            assert_eq!(scope.to_string().parse::<Scope>().unwrap(), scope);
        }
        assert_eq!(
            "user_management.read".parse::<Scope>().unwrap(),
            Scope::Permission(Permission::read(Capability::UserManagement))
        );
    }

    #[test]
    fn unknown_or_malformed_scopes_are_refused_by_name() {
        for bad in [
            "",
            "user_management",
            "user_management.admin",
            "user_management:read",
            "nothing.read",
            "OPENID",
            ".read",
            "user_management.read.write",
        ] {
            let err = bad.parse::<Scope>().unwrap_err();
            assert!(err.to_string().contains("unknown scope"), "{bad}: {err}");
        }
        assert!(ScopeSet::parse(&"openid ".repeat(1000)).is_err());
    }

    #[test]
    fn a_scope_string_splits_on_spaces_and_write_brings_read() {
        let set = ScopeSet::parse("  openid  user_management.write openid ").unwrap();
        assert!(set.has(IdentityScope::OpenId));
        assert!(!set.has(IdentityScope::OfflineAccess));
        assert!(set.contains(Scope::Permission(Permission::read(
            Capability::UserManagement
        ))));
        assert_eq!(
            set.to_string(),
            "openid user_management.read user_management.write"
        );
        assert_eq!(ScopeSet::parse("").unwrap(), ScopeSet::EMPTY);
    }

    fn any_scopes() -> impl Strategy<Value = ScopeSet> {
        let all: Vec<Scope> = Scope::all().collect();
        proptest::sample::subsequence(all.clone(), 0..all.len())
            .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn printing_and_parsing_a_set_is_the_identity(set in any_scopes()) {
            prop_assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set);
        }

        #[test]
        fn an_intersection_is_within_both(a in any_scopes(), b in any_scopes()) {
            let both = a.intersection(&b);
            prop_assert!(both.is_subset(&a) && both.is_subset(&b));
            for s in Scope::all() {
                prop_assert_eq!(both.contains(s), a.contains(s) && b.contains(s));
            }
        }
    }
}
