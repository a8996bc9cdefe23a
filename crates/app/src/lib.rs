#![doc = include_str!("../README.md")]

mod access_keys;
mod accounts;
pub mod auth;
mod authorized_ips;
mod authz;
mod bootstrap;
mod catalog;
mod credential_report;
mod error;
mod explain;
mod gatekeeper;
mod groups;
pub mod infra;
mod key_validity;
mod lockouts;
mod mfa;
mod oauth;
mod oauth_clients;
mod oauth_flow;
mod principal;
mod reseal;
mod service_keys;
mod sessions;
mod sso;
mod subusers;
mod telemetry;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use tessera_domain::ports::{
    AccessKeyRepo, AccountRepo, AttemptRepo, AuditRepo, AuthorizedIpRepo, AuthzRepo, Clock,
    DnsResolver, Health, IdGenerator, KeyPairGenerator, MfaRepo, OAuthClientRepo, OAuthFlowRepo,
    OAuthTokenRepo, OidcRelyingParty, PasswordHasher, ResourceGroupRepo, Sealer, ServiceKeyRepo,
    SessionRepo, SsoRepo, UserGroupRepo, UserRepo,
};

use crate::auth::AuditFolder;
use crate::auth::cache::PrincipalCache;
use crate::auth::gate::SignInGate;
use crate::auth::limiter::LocalLocks;
use crate::auth::usage::UsageTracker;
use crate::telemetry::Telemetry;

pub use access_keys::CreatedAccessKey;
pub use accounts::{CreateChildAccount, UpdateAccount};
pub use auth::{LegacyAccount, LoginCommand, Presented, RateLimits, SessionToken};
pub use authorized_ips::{
    AddAuthorizedIp, AuthorizedIpFilter, AuthorizedIpPage, DeleteAuthorizedIps, IpTarget,
};
pub use bootstrap::{AccessKeySecret, BootstrapCredentials, BootstrapSettings, ServiceKeySecret};
pub use credential_report::{
    CredentialKind, CredentialReport, CredentialRow, CredentialStatus, MAX_UNUSED_DAYS,
    ReportFilter,
};
pub use error::{AppError, AppResult, AuthFailure, OAuthClientFailure, SsoFailure};
pub use explain::{EffectivePermission, PrincipalRef, Source};
pub use gatekeeper::{CHECK_REFUSED, Check};
pub use groups::{PolicyInput, ResourceGroupInput};
pub use lockouts::Lockout;
pub use mfa::{
    MfaChallengeToken, MfaSignIn, MfaStatus, SignIn, TotpSecret, normalise_recovery_code,
};
pub use oauth::{
    AccessTokenInfo, IssuedAccessToken, MachineGrant, NewAccessToken, OAuthError, OAuthToken,
};
pub use oauth_clients::{CreatedOAuthClient, OAuthClientUpdate, OAuthScopeInfo};
pub use oauth_flow::{
    Authorization, ClientCredentials, CodeExchange, Consent, ConsentScope, FlowTokens,
    RefreshExchange, consent_binding, consent_binding_matches,
};
pub use principal::{Credential, Principal};
pub use reseal::Resealed;
pub use service_keys::{CreateServiceKey, CreatedServiceKey};
pub use sessions::{EndedSessions, MAX_SESSIONS_PER_PAGE, UserSession};
pub use sso::{
    BeginSso, CompleteSso, CreateSso, IdpUpdate, SsoRedirect, SsoSession, SsoTarget, UpdateSso,
    binding_cookie_name,
};
pub use subusers::{CreateSubuser, UpdateSubuser};
pub use telemetry::{Counts, EvictionCounts, FailureKind, GateCounts};

/// The adapters the use cases run on.
#[derive(Clone)]
pub struct Ports {
    /// Accounts.
    pub accounts: Arc<dyn AccountRepo>,
    /// Users.
    pub users: Arc<dyn UserRepo>,
    /// Attempt limits (failed sign-ins per login and address).
    pub attempts: Arc<dyn AttemptRepo>,
    /// Audit log.
    pub audit: Arc<dyn AuditRepo>,
    /// Service keys.
    pub service_keys: Arc<dyn ServiceKeyRepo>,
    /// Access keys.
    pub access_keys: Arc<dyn AccessKeyRepo>,
    /// Sessions.
    pub sessions: Arc<dyn SessionRepo>,
    /// User groups.
    pub user_groups: Arc<dyn UserGroupRepo>,
    /// Resource groups.
    pub resource_groups: Arc<dyn ResourceGroupRepo>,
    /// What the engine loads.
    pub authz: Arc<dyn AuthzRepo>,
    /// SSO connectors.
    pub sso: Arc<dyn SsoRepo>,
    /// Accounts' authorized-IP lists.
    pub authorized_ips: Arc<dyn AuthorizedIpRepo>,
    /// TOTP enrolments, recovery codes and sign-in challenges.
    pub mfa: Arc<dyn MfaRepo>,
    /// OAuth signing keys, revoked tokens and grants.
    pub oauth_tokens: Arc<dyn OAuthTokenRepo>,
    /// The authorization code flow's codes and refresh tokens.
    pub oauth_flow: Arc<dyn OAuthFlowRepo>,
    /// OAuth clients.
    pub oauth_clients: Arc<dyn OAuthClientRepo>,
    /// DNS TXT lookups.
    pub dns: Arc<dyn DnsResolver>,
    /// Storage readiness.
    pub health: Arc<dyn Health>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub ids: Arc<dyn IdGenerator>,
    /// RSA key pairs.
    pub key_pairs: Arc<dyn KeyPairGenerator>,
    /// Secrets kept encrypted at rest.
    pub sealer: Arc<dyn Sealer>,
    /// Customers' OpenID Connect providers.
    pub oidc: Arc<dyn OidcRelyingParty>,
}

/// The ports no database serves: DNS, hashing, time, randomness, key generation.
#[derive(Clone)]
pub struct SystemPorts {
    /// DNS TXT lookups.
    pub dns: Arc<dyn DnsResolver>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub ids: Arc<dyn IdGenerator>,
    /// RSA key pairs.
    pub key_pairs: Arc<dyn KeyPairGenerator>,
    /// Secrets kept encrypted at rest.
    pub sealer: Arc<dyn Sealer>,
    /// Customers' OpenID Connect providers.
    pub oidc: Arc<dyn OidcRelyingParty>,
}

impl Ports {
    /// Every storage port served by one adapter, with the system ports given.
    pub fn with_storage<S>(storage: &Arc<S>, system: SystemPorts) -> Self
    where
        S: AccountRepo
            + UserRepo
            + AttemptRepo
            + AuditRepo
            + ServiceKeyRepo
            + AccessKeyRepo
            + SessionRepo
            + UserGroupRepo
            + ResourceGroupRepo
            + AuthzRepo
            + SsoRepo
            + AuthorizedIpRepo
            + MfaRepo
            + OAuthTokenRepo
            + OAuthFlowRepo
            + OAuthClientRepo
            + Health
            + 'static,
    {
        Self {
            accounts: storage.clone(),
            users: storage.clone(),
            attempts: storage.clone(),
            audit: storage.clone(),
            service_keys: storage.clone(),
            access_keys: storage.clone(),
            sessions: storage.clone(),
            user_groups: storage.clone(),
            resource_groups: storage.clone(),
            authz: storage.clone(),
            sso: storage.clone(),
            authorized_ips: storage.clone(),
            mfa: storage.clone(),
            oauth_tokens: storage.clone(),
            oauth_flow: storage.clone(),
            oauth_clients: storage.clone(),
            health: storage.clone(),
            dns: system.dns,
            hasher: system.hasher,
            clock: system.clock,
            ids: system.ids,
            key_pairs: system.key_pairs,
            sealer: system.sealer,
            oidc: system.oidc,
        }
    }
}

/// Limits and knobs of the use cases (from the `limits` and `auth` config sections).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Most users an account may have (its owner included).
    pub max_users_per_account: u32,
    /// Most service keys one owner (a user, or the account) may hold.
    pub max_service_keys_per_owner: u32,
    /// Most child accounts one account may have.
    pub max_child_accounts: u32,
    /// Most levels of accounts below a top-level account.
    pub max_account_depth: u32,
    /// How long a password session lasts, seconds.
    pub session_ttl_secs: i64,
    /// Failed-authentication limits.
    pub rate_limits: RateLimits,
    /// How old the last read of the authorization versions may be before cached principals are
    /// distrusted, milliseconds.
    pub cache_staleness_ms: i64,
    /// How long a pending SSO verification may go unconfirmed before it fails, seconds.
    pub sso_verification_timeout_secs: i64,
    /// Whether connectors may name `http://` issuers (development and tests only).
    pub sso_allow_http_issuers: bool,
    /// SSO sign-ins in progress one client address may have.
    pub sso_logins_per_address: u32,
    /// SSO sign-ins in progress one connector may have (0: no limit).
    pub sso_logins_per_connector: u32,
    /// Identical authentication failures from one address within this many seconds are
    /// audited as one event with a count.
    pub audit_fold_secs: i64,
    /// Most password sign-ins admitted at once (hashing or waiting to hash).
    pub sign_in_queue: usize,
    /// Most of them from one client address.
    pub sign_in_queue_per_address: usize,
    /// The OAuth issuer (`server.public_url`); `None`: each request's own origin.
    pub oauth_issuer: Option<String>,
    /// How long an OAuth access token lasts, seconds (at most 600).
    pub access_token_ttl_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_users_per_account: 1000,
            max_service_keys_per_owner: 10,
            max_child_accounts: 100,
            max_account_depth: 3,
            session_ttl_secs: 3600,
            rate_limits: RateLimits::default(),
            cache_staleness_ms: 1000,
            sso_verification_timeout_secs: 86_400,
            sso_allow_http_issuers: false,
            sso_logins_per_address: 20,
            sso_logins_per_connector: 0,
            audit_fold_secs: 60,
            sign_in_queue: 16,
            sign_in_queue_per_address: 2,
            oauth_issuer: None,
            access_token_ttl_secs: tessera_domain::oauth::MAX_ACCESS_TOKEN_TTL_SECS,
        }
    }
}

/// The use cases. Every method is synchronous and may block on storage or hashing: adapters
/// call them from a blocking pool (`web::block`).
pub struct App {
    ports: Ports,
    settings: Settings,
    cache: PrincipalCache,
    versions: Mutex<crate::auth::versions::Versions>,
    local_locks: LocalLocks,
    gate: SignInGate,
    folder: AuditFolder,
    ancestries: crate::gatekeeper::Ancestries,
    usage: UsageTracker,
    telemetry: Telemetry,
    last_purge: Mutex<Option<DateTime<Utc>>>,
    signing_keys: crate::oauth::KeyRing,
}

impl App {
    /// The use cases over `ports`.
    #[must_use]
    pub fn new(ports: Ports, settings: Settings) -> Self {
        Self {
            cache: PrincipalCache::new(settings.cache_staleness_ms),
            versions: Mutex::default(),
            local_locks: LocalLocks::default(),
            gate: SignInGate::new(settings.sign_in_queue, settings.sign_in_queue_per_address),
            folder: AuditFolder::new(settings.audit_fold_secs),
            ancestries: crate::gatekeeper::Ancestries::default(),
            usage: UsageTracker::default(),
            telemetry: Telemetry::default(),
            last_purge: Mutex::new(None),
            signing_keys: crate::oauth::KeyRing::default(),
            ports,
            settings,
        }
    }

    /// Whether the storage answers.
    ///
    /// # Errors
    /// `Unavailable` when it does not.
    pub fn ready(&self) -> AppResult<()> {
        self.ports.health.ping().map_err(Into::into)
    }

    /// What the use cases counted so far (refused authentications, authorization denials,
    /// the sign-in gate), for an adapter to render when it is scraped.
    #[must_use]
    pub fn counts(&self) -> Counts {
        let (in_progress, capacity) = self.gate.load();
        self.telemetry.snapshot(in_progress, capacity)
    }
}

#[cfg(test)]
mod testing;
