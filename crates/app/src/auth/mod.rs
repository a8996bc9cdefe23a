//! Authentication: a credential in, a `Principal` out — service-key JWTs, access keys (Basic,
//! Bearer `tsr_…`, Cloudflare `X-Auth-Email` + `X-Auth-Key`, legacy `account_id` + `api_key`),
//! and password sessions. Failures are rate-limited and audited; principals are cached.

pub(crate) mod cache;
mod csrf;
mod failures;
pub(crate) mod gate;
mod invalidation;
mod jwt;
pub(crate) mod limiter;
mod login;
mod oauth;
pub(crate) mod usage;
mod verify;
pub(crate) mod versions;

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use tessera_domain::Secret;
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::{AccountId, SessionId, UserId};
use tessera_domain::keys::SESSION_TOKEN_PREFIX;
use tessera_domain::oauth::TokenSubject;

use crate::App;
use crate::error::{AppError, AppResult, AuthFailure};
use crate::principal::{Credential, Principal};
use crate::telemetry::FailureKind;
pub(crate) use failures::{AuditFolder, Refusal};
use usage::KeyRef;

pub use csrf::{csrf_token, csrf_token_matches};
pub use limiter::RateLimits;
pub(crate) use limiter::login_key;

/// How the caller's account is named in a legacy (`account_id` / `account_name` + `api_key`)
/// method call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyAccount {
    /// `account_id`.
    Id(AccountId),
    /// `account_name`.
    Name(String),
}

/// A credential as a client presented it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// `Authorization: Bearer …`: a service-key JWT, an access-key token (`tsr_…`) or a session
    /// token (`tss_…`; the REST adapter reads the session cookie as one too).
    Bearer(Secret),
    /// `Authorization: Basic base64(key_id:secret)`.
    Basic {
        /// Access key id.
        key_id: String,
        /// Its secret.
        secret: Secret,
    },
    /// Cloudflare's `X-Auth-Email` (the user's email) + `X-Auth-Key` (the full `tsr_…` token).
    EmailKey {
        /// The user's email.
        email: String,
        /// The token.
        key: Secret,
    },
    /// Legacy method-API parameters.
    Legacy {
        /// The account named.
        account: LegacyAccount,
        /// An access-key token.
        api_key: Secret,
    },
}

impl Presented {
    /// The credential in a request's headers, read through `header` (a header's value by its
    /// lower-case name; absent when missing or not visible ASCII): `Authorization` (`Bearer …` or
    /// `Basic …`) first, else `X-Auth-Email` + `X-Auth-Key` together; `None` when neither is
    /// there (the method API then looks for its legacy parameters). Both adapters read a
    /// request's credential through this one function, so REST and the method API accept
    /// exactly the same forms.
    #[must_use]
    pub fn from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<Self> {
        if let Some(value) = header("authorization") {
            return Some(Self::from_authorization(value));
        }
        match (header("x-auth-email"), header("x-auth-key")) {
            (Some(email), Some(key)) => Some(Self::EmailKey {
                email: email.trim().to_owned(),
                key: Secret::new(key.trim()),
            }),
            _ => None,
        }
    }

    /// Reads an `Authorization` header value: `Bearer <token>` or `Basic base64(key_id:secret)`.
    /// Anything else is a credential that will fail.
    #[must_use]
    pub fn from_authorization(value: &str) -> Self {
        use base64::Engine;
        let value = value.trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            return Self::Bearer(Secret::new(rest));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            if let Some((key_id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
                return Self::Basic {
                    key_id: key_id.to_owned(),
                    secret: Secret::new(secret),
                };
            }
        }
        Self::Bearer(Secret::new(String::new()))
    }
}

/// A request header's value as text, when it is visible ASCII (tab allowed): what
/// `http::HeaderValue::to_str` accepts, checked without a branch per byte so that the compiler
/// checks many bytes at once (a service-key JWT is some 500 bytes, read on every request). The
/// adapters read the credential headers through it for [`Presented::from_headers`].
#[must_use]
pub fn header_text(value: &[u8]) -> Option<&str> {
    let invisible = value
        .iter()
        .map(|&b| u8::from(!(b' '..=b'~').contains(&b) && b != b'\t'))
        .fold(0u8, |n, bad| n | bad);
    if invisible != 0 {
        return None;
    }
    std::str::from_utf8(value).ok()
}

/// A password sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCommand {
    /// Account.
    pub account_id: AccountId,
    /// Login.
    pub login: String,
    /// Password.
    pub password: Secret,
}

/// A new session's token, shown once.
#[derive(Debug, Clone)]
pub struct SessionToken {
    /// The session's public id (what listings show and paths name).
    pub session_id: SessionId,
    /// `tss_…`; send as `Authorization: Bearer` (or as the session cookie).
    pub token: Secret,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Account.
    pub account_id: AccountId,
    /// User.
    pub user_id: UserId,
}

/// Why a credential was refused, with what the audit log records.
struct Refused {
    failure: AuthFailure,
    kind: FailureKind,
    account: Option<AccountId>,
    who: String,
    credential: &'static str,
}

impl Refused {
    fn audited(&self) -> Refusal {
        Refusal {
            account: self.account,
            who: self.who.clone(),
            credential: self.credential,
            reason: self.failure.to_string(),
        }
    }
}

type Verified = Result<(Principal, Option<DateTime<Utc>>), Refused>;

fn refuse(
    failure: AuthFailure,
    kind: FailureKind,
    account: Option<AccountId>,
    who: impl Into<String>,
    credential: &'static str,
) -> Verified {
    Err(Refused {
        failure,
        kind,
        account,
        who: who.into(),
        credential,
    })
}

/// Deepest account tree followed when checking that an account and its ancestors are active;
/// a deeper (or cyclic) chain counts as inactive.
const MAX_ACCOUNT_DEPTH: usize = 32;

const KIND_ACCESS_KEY: u8 = 1;
const KIND_JWT: u8 = 2;
const KIND_SESSION: u8 = 3;
const KIND_EMAIL_KEY: u8 = 4;
const KIND_LEGACY: u8 = 5;

/// The request's client address, as the adapter decided it (`None`: unknown).
pub(crate) fn client_address(meta: &RequestMeta) -> Option<IpAddr> {
    meta.client_ip.as_deref().and_then(|a| a.parse().ok())
}

pub(crate) fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn cache_key(presented: &Presented) -> cache::CacheKey {
    match presented {
        Presented::Bearer(t) => {
            let t = t.expose();
            let kind = if t.starts_with("tsr_") {
                KIND_ACCESS_KEY
            } else if t.starts_with(SESSION_TOKEN_PREFIX) {
                KIND_SESSION
            } else {
                KIND_JWT
            };
            cache::key(kind, &[t.as_bytes()])
        }
        Presented::Basic { key_id, secret } => {
            // The same entry as the equivalent `Bearer tsr_<id>_<secret>`.
            let token = format!("tsr_{key_id}_{}", secret.expose());
            cache::key(KIND_ACCESS_KEY, &[token.as_bytes()])
        }
        Presented::EmailKey { email, key } => cache::key(
            KIND_EMAIL_KEY,
            &[email.to_lowercase().as_bytes(), key.expose().as_bytes()],
        ),
        Presented::Legacy { account, api_key } => {
            let who = match account {
                LegacyAccount::Id(id) => format!("id:{id}"),
                LegacyAccount::Name(n) => format!("name:{n}"),
            };
            cache::key(KIND_LEGACY, &[who.as_bytes(), api_key.expose().as_bytes()])
        }
    }
}

impl App {
    /// Authenticates from the cache only: no IO, safe on an async worker. `None` means "ask
    /// [`App::authenticate`]" (which also refuses, and audits, a locked client address).
    pub fn authenticate_cached(
        &self,
        presented: &Presented,
        meta: &RequestMeta,
    ) -> Option<AppResult<Arc<Principal>>> {
        let now = self.ports.clock.now();
        if self
            .local_locks
            .check(meta.client_ip.as_deref(), now)
            .is_some()
        {
            return None;
        }
        let principal = self.cache.get(&cache_key(presented), now)?;
        if !principal.addresses.admits(client_address(meta)) {
            // Refused: [`App::authenticate`] refuses it again, and audits the refusal.
            return None;
        }
        self.note_use(&principal, meta, now);
        Some(Ok(principal))
    }

    /// Authenticates a credential (from the cache when possible).
    ///
    /// # Errors
    /// `Unauthenticated` with the failure's kind; `RateLimited` when the client address is
    /// locked; `Unavailable` when storage cannot be reached.
    pub fn authenticate(
        &self,
        presented: &Presented,
        meta: &RequestMeta,
    ) -> AppResult<Arc<Principal>> {
        let now = self.ports.clock.now();
        if let Some(wait) = self.address_lock(meta.client_ip.as_deref(), now)? {
            let refusal = Refusal {
                account: None,
                who: "address".into(),
                credential: "any",
                reason: "the client address is locked after too many failures".into(),
            };
            self.telemetry.auth_failed(FailureKind::LockedAddress);
            self.audit_failure(&refusal, meta, now);
            return Err(AppError::RateLimited {
                retry_after_secs: wait,
            });
        }
        if let Some(hit) = self.authenticate_cached(presented, meta) {
            return hit;
        }
        let now = self.ports.clock.now();
        let principal = match self.cache.get(&cache_key(presented), now) {
            // Cached, but not from this address: refused below.
            Some(cached) => cached,
            None => {
                if !self.cache.is_fresh(now) {
                    self.sync_unless_busy()?;
                }
                let generation = self.cache.generation();
                match self.verify(presented, now)? {
                    Ok((principal, expires_at)) => {
                        let principal = Arc::new(principal);
                        self.cache.insert(
                            cache_key(presented),
                            principal.clone(),
                            generation,
                            expires_at,
                        );
                        principal
                    }
                    Err(refused) => {
                        self.telemetry.auth_failed(refused.kind);
                        self.count_token_failure(meta.client_ip.as_deref(), now);
                        self.audit_failure(&refused.audited(), meta, now);
                        return Err(AppError::Unauthenticated(refused.failure));
                    }
                }
            }
        };
        self.admit_address(&principal, meta, now)?;
        self.note_use(&principal, meta, now);
        Ok(principal)
    }

    /// Refuses (and audits) a principal whose account's authorized IPs or key's `allowed_ips`
    /// do not admit the request's client address.
    ///
    /// # Errors
    /// `AddressNotAuthorized`.
    fn admit_address(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        if principal.addresses.admits(client_address(meta)) {
            return Ok(());
        }
        let credential = match principal.credential {
            Credential::Session(_) => "session",
            Credential::AccessKey(_) => "access_key",
            Credential::ServiceKey(_) => "service_key",
            Credential::OAuthToken(_) => "oauth_token",
        };
        let refusal = Refusal {
            account: Some(principal.account_id),
            who: principal.actor().id,
            credential,
            reason: AppError::AddressNotAuthorized.to_string(),
        };
        self.telemetry
            .auth_failed(FailureKind::AddressNotAuthorized);
        self.audit_failure(&refusal, meta, now);
        Err(AppError::AddressNotAuthorized)
    }

    /// Notes that the principal's credential (session, access or service key) was used now,
    /// from the request's client address; the maintenance task writes it (at most once a minute
    /// per credential).
    ///
    /// Within a minute of the credential's last recorded use this is one atomic load on the
    /// principal (no lock, no allocation): the cost of a cache hit is then the same for every
    /// kind of credential.
    fn note_use(&self, principal: &Principal, meta: &RequestMeta, now: DateTime<Utc>) {
        if !principal.last_use.claim(now) {
            return;
        }
        let key = match &principal.credential {
            Credential::Session(id) => KeyRef::Session(*id),
            Credential::AccessKey(id) => KeyRef::Access(id.clone()),
            Credential::ServiceKey(id) => KeyRef::Service(*id),
            Credential::OAuthToken(token) => match &token.subject {
                TokenSubject::AccessKey(id) => KeyRef::Access(id.clone()),
                TokenSubject::ServiceKey(id) => KeyRef::Service(*id),
                // A user's token is no credential of its own to track.
                TokenSubject::User(_) => return,
            },
        };
        let recorded = self.usage.note(&key, meta.client_ip.as_deref(), now);
        principal.last_use.set(recorded);
    }

    /// Periodic upkeep (every few hundred milliseconds): reads the authorization versions, writes
    /// the last use of access keys, service keys and sessions, and now and then removes expired
    /// sessions, sign-in challenges and SSO sign-ins in progress.
    ///
    /// # Errors
    /// Storage errors; the next run tries again.
    pub fn maintain(&self) -> AppResult<()> {
        self.flush_failures(self.ports.clock.now());
        self.sync_authz()?;
        let uses = self.usage.take();
        if !uses.access.is_empty() {
            self.ports.access_keys.touch_access_keys(&uses.access)?;
        }
        if !uses.service.is_empty() {
            self.ports.service_keys.touch_service_keys(&uses.service)?;
        }
        if !uses.sessions.is_empty() {
            self.ports.sessions.touch_sessions(&uses.sessions)?;
        }
        let now = self.ports.clock.now();
        let mut last = self.last_purge.lock();
        if last.is_none_or(|t| now - t > TimeDelta::minutes(10)) {
            *last = Some(now);
            self.ports.sessions.purge_expired_sessions(now)?;
            self.ports.sso.purge_sso_logins(now)?;
            self.ports.oauth_flow.purge_oauth_flow(now)?;
            self.ports.mfa.purge_expired_mfa_challenges(now)?;
            self.prune_signing_keys(now)?;
            // A revocation outlives its token by one more skew: an instance whose clock runs
            // behind must not accept the token again after the record is gone.
            self.ports.oauth_tokens.prune_revoked_tokens(
                now - TimeDelta::seconds(tessera_domain::oauth::tokens::TOKEN_SKEW_SECS),
            )?;
            self.ports
                .attempts
                .purge_attempts(now - TimeDelta::seconds(self.settings.rate_limits.window_secs))?;
        }
        Ok(())
    }
}

/// For tests and tools: the digest stored for a secret.
#[must_use]
pub fn secret_digest(secret: &Secret) -> Vec<u8> {
    digest(secret.expose()).to_vec()
}

#[cfg(test)]
mod tests;
