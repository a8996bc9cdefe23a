//! What the use cases count for operators: refused authentications by kind, authorization
//! denials by capability, and the sign-in gate's decisions. Counting is one atomic increment,
//! only on the refusing path; adapters read a [`Counts`] snapshot when they are scraped (the
//! `http` crate renders it for Prometheus). Every label comes from a closed enum, so no input
//! can create a new series.

use std::sync::atomic::{AtomicU64, Ordering};

use tessera_domain::permissions::Capability;

macro_rules! failure_kinds {
    ($( $variant:ident = $label:literal, $doc:literal; )+) => {
        /// Why an authentication was refused, as operators count it (finer than
        /// [`AuthFailure`](crate::AuthFailure), which is what a client is told).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FailureKind {
            $(
                #[doc = $doc]
                $variant,
            )+
        }

        impl FailureKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [FailureKind] = &[$(FailureKind::$variant),+];

            /// The metric label (`bad_password`).
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(FailureKind::$variant => $label),+ }
            }
        }
    };
}

failure_kinds! {
    BadPassword = "bad_password", "A password sign-in failed: unknown login, wrong password, no password set, inactive user or account — told apart neither to the client nor here, so that a metrics reader cannot enumerate logins.";
    LockedLogin = "locked_login", "A password sign-in for a login locked after too many failures.";
    LockedAddress = "locked_address", "Any authentication from a client address locked after too many failures.";
    SsoRequired = "sso_required", "A password sign-in for a user whose email domain signs in through SSO.";
    AddressNotAuthorized = "address_not_authorized", "A credential (or a password sign-in) used from a client address its account's authorized IPs, or its key's `allowed_ips`, do not admit.";
    Malformed = "malformed", "A credential of no accepted shape (a `tsr_` token, Basic pair, `X-Auth-Key` or `api_key` that does not parse).";
    BadSecret = "bad_secret", "An access key id that does not exist, or whose secret is wrong, or a key that is not of the `X-Auth-Email` user or the legacy `account_id`/`account_name` given — one kind, so that a metrics reader cannot tell which key ids exist.";
    InactiveKey = "inactive_key", "An access key that is not active.";
    InactiveUser = "inactive_user", "A key or session of a user that is not active.";
    InactiveAccount = "inactive_account", "A key or session of an account that (or an ancestor of which) is not active.";
    UnknownSession = "unknown_session", "A session token that is not a session (signed out, purged or invented).";
    ExpiredSession = "expired_session", "A session that has expired.";
    InvalidJwt = "invalid_jwt", "A bearer token that is not a valid service-key JWT: not a JWT, bad header or claims, a key id that does not exist, another account, bad signature — one kind, so that a metrics reader cannot tell which key ids exist.";
    ExpiredJwt = "expired_jwt", "A service-key JWT whose `exp` has passed.";
    JwtLifetime = "jwt_lifetime", "A service-key JWT whose lifetime exceeds one hour.";
    JwtFromFuture = "jwt_from_future", "A service-key JWT issued in the future.";
    ExpiredKey = "expired_key", "An access key, or the service key a JWT names, past its `expires_at`.";
    KeyNotYetValid = "key_not_yet_valid", "An access key, or the service key a JWT names, before its `not_before`.";
    BadMfaCode = "bad_mfa_code", "A second factor refused at sign-in: a wrong, replayed or used TOTP or recovery code, or a challenge whose user is no longer active.";
    InvalidAccessToken = "invalid_access_token", "An OAuth access token that does not verify: not one of Tessera's, an unknown key, a bad signature, another issuer or audience, a lifetime past ten minutes or issued in the future.";
    ExpiredAccessToken = "expired_access_token", "An OAuth access token past its `exp`.";
    RevokedAccessToken = "revoked_access_token", "An OAuth access token revoked, or whose grant is revoked or whose client is gone.";
    UnknownMfaChallenge = "unknown_mfa_challenge", "A sign-in challenge that is not live (never issued, used, expired, or of an enrolment since removed).";
}

impl FailureKind {
    fn index(self) -> usize {
        self as usize
    }
}

/// The sign-in gate's decisions and load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GateCounts {
    /// Sign-ins admitted since start.
    pub admitted: u64,
    /// Sign-ins refused since start because the gate (or the address's share) was full.
    pub rejected: u64,
    /// Sign-ins in the gate now (hashing or waiting to hash).
    pub in_progress: u64,
    /// How many it admits at once.
    pub capacity: u64,
}

/// How cached principals were evicted, since start: each count is one eviction of one or more
/// accounts' principals (or of all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EvictionCounts {
    /// Another instance's change, pushed by a Postgres notification.
    pub pushed: u64,
    /// A change found by reading the versions (the poll, a request finding the cache stale,
    /// or a change made here).
    pub read: u64,
    /// Everything dropped: what changed was unknown (the listener lost or made its
    /// connection, too many changes at once, versions unreadable after a change).
    pub all: u64,
}

/// A snapshot of the counts, for an adapter to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Refused authentications per kind, every kind listed (zeros included).
    pub auth_failures: Vec<(FailureKind, u64)>,
    /// Authorization denials per capability, every capability listed (zeros included).
    pub denials: Vec<(Capability, u64)>,
    /// The sign-in gate.
    pub gate: GateCounts,
    /// Evictions from the principal cache.
    pub evictions: EvictionCounts,
}

/// The counters.
pub(crate) struct Telemetry {
    auth_failures: Vec<AtomicU64>,
    denials: Vec<AtomicU64>,
    pub(crate) gate_admitted: AtomicU64,
    pub(crate) gate_rejected: AtomicU64,
    pub(crate) evicted_pushed: AtomicU64,
    pub(crate) evicted_read: AtomicU64,
    pub(crate) evicted_all: AtomicU64,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self {
            auth_failures: FailureKind::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            denials: Capability::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            gate_admitted: AtomicU64::new(0),
            gate_rejected: AtomicU64::new(0),
            evicted_pushed: AtomicU64::new(0),
            evicted_read: AtomicU64::new(0),
            evicted_all: AtomicU64::new(0),
        }
    }
}

impl Telemetry {
    /// Counts a refused authentication.
    pub(crate) fn auth_failed(&self, kind: FailureKind) {
        if let Some(c) = self.auth_failures.get(kind.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a permission the engine refused.
    pub(crate) fn denied(&self, capability: Capability) {
        if let Some(c) = self.denials.get(capability.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counts now, with the gate's current load.
    pub(crate) fn snapshot(&self, in_progress: usize, capacity: usize) -> Counts {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Counts {
            auth_failures: FailureKind::ALL
                .iter()
                .zip(&self.auth_failures)
                .map(|(k, c)| (*k, read(c)))
                .collect(),
            denials: Capability::ALL
                .iter()
                .zip(&self.denials)
                .map(|(k, c)| (*k, read(c)))
                .collect(),
            gate: GateCounts {
                admitted: read(&self.gate_admitted),
                rejected: read(&self.gate_rejected),
                in_progress: u64::try_from(in_progress).unwrap_or(u64::MAX),
                capacity: u64::try_from(capacity).unwrap_or(u64::MAX),
            },
            evictions: EvictionCounts {
                pushed: read(&self.evicted_pushed),
                read: read(&self.evicted_read),
                all: read(&self.evicted_all),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct_snake_case_words() {
        let labels: std::collections::HashSet<_> =
            FailureKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(labels.len(), FailureKind::ALL.len());
        assert!(
            labels
                .iter()
                .all(|l| l.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
        for (i, k) in FailureKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }

    #[test]
    fn counts_list_every_kind_and_capability() {
        let t = Telemetry::default();
        t.auth_failed(FailureKind::ExpiredJwt);
        t.auth_failed(FailureKind::ExpiredJwt);
        t.denied(Capability::UserManagement);
        let c = t.snapshot(3, 8);
        assert_eq!(c.auth_failures.len(), FailureKind::ALL.len());
        assert_eq!(c.denials.len(), Capability::ALL.len());
        assert!(c.auth_failures.contains(&(FailureKind::ExpiredJwt, 2)));
        assert!(c.auth_failures.contains(&(FailureKind::BadPassword, 0)));
        assert!(c.denials.contains(&(Capability::UserManagement, 1)));
        assert_eq!((c.gate.in_progress, c.gate.capacity), (3, 8));
    }
}
