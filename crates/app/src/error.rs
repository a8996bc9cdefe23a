//! The errors of the use cases.
//!
//! # Error policy
//!
//! - Every failure a client can act on has its own variant, so each adapter maps `AppError` in
//!   exactly one function, with no catch-all arm: a new variant fails to compile until both wires
//!   (REST status + Cloudflare envelope, RPC code) say what it means.
//! - An object of another account, or an account the principal cannot see, is `NotFound`, never
//!   `Forbidden`: its existence is not disclosed.
//! - Messages never contain secrets (passwords, key secrets, tokens) and never echo a credential.
//! - `Unavailable` means "try again": the database is down or saturated. `Internal` is a bug.

use tessera_domain::policy::Reason;
use tessera_domain::ports::{HashError, RepoError};
use tessera_domain::{DomainError, Entity, Field};

/// Why authentication failed. Each kind maps to its own RPC code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// Unknown principal, wrong secret, bad signature, revoked key, inactive user or account.
    #[error("authentication failed")]
    Failed,
    /// The bearer token is not a JWT.
    #[error("invalid token format")]
    TokenFormat,
    /// `exp - iat` exceeds one hour.
    #[error("token lifetime is too long")]
    TokenLifetime,
    /// `iat` lies in the future (beyond the allowed skew).
    #[error("token issued in the future")]
    TokenFromFuture,
    /// `exp` has passed.
    #[error("token expired")]
    TokenExpired,
    /// No credential at all.
    #[error("authentication required")]
    Missing,
    /// The key (access key, or the service key a JWT names) is past its `expires_at`.
    #[error("key expired")]
    KeyExpired,
    /// The key's `not_before` has not come yet.
    #[error("key not yet valid")]
    KeyNotYetValid,
}

/// Why an SSO sign-in was refused. Each is audited as `sso.login`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsoFailure {
    /// No enabled, verified connector with an identity provider serves the domain.
    #[error("no SSO sign-in is configured for this domain")]
    NotConfigured,
    /// The `state` is unknown, used, or expired (or the code is missing).
    #[error("this sign-in is unknown, used or expired; start again")]
    InvalidState,
    /// The callback came to another browser than the one that started the sign-in.
    #[error("this sign-in was started in another browser; start again")]
    WrongBrowser,
    /// The IdP answered the callback with an error (`access_denied`…).
    #[error("the identity provider refused the sign-in: {0}")]
    IdpDenied(String),
    /// The IdP's token endpoint refused the code.
    #[error("the identity provider refused the authorization code: {0}")]
    CodeRefused(String),
    /// The ID token failed verification.
    #[error("the ID token is not valid: {0}")]
    InvalidIdToken(String),
    /// The ID token has no usable email (an ASCII address) in the connector's claim.
    #[error("the ID token carries no usable '{0}' claim (an email address)")]
    EmailMissing(String),
    /// The email is outside the connector's domain.
    #[error("the email is not in {0}")]
    EmailOutsideDomain(String),
    /// The IdP says the email is not verified.
    #[error("the identity provider has not verified the email")]
    EmailNotVerified,
    /// No user has the email in the account (and the connector creates none).
    #[error("no user of the account has this email")]
    NoUser,
    /// The user (or the account) is not active.
    #[error("the user is not active")]
    UserInactive,
    /// Several active users share the email.
    #[error("several users of the account have this email")]
    AmbiguousEmail,
    /// This address (or the connector) has too many sign-ins in progress.
    #[error("too many SSO sign-ins in progress; retry later")]
    TooManySignIns,
    /// The IdP cannot be reached or answered something unusable. The detail goes to the audit
    /// log (the account's administrators), not to the caller: it may describe the network.
    #[error("the identity provider is unavailable; retry later")]
    IdpUnavailable(String),
}

impl SsoFailure {
    /// The reason audited: the message, with the detail the caller is not shown.
    #[must_use]
    pub fn audited(&self) -> String {
        match self {
            Self::IdpUnavailable(detail) => format!("{self} ({detail})"),
            other => other.to_string(),
        }
    }
}

/// Why an OAuth client could not authenticate (at the token endpoint). Adapters of the OAuth
/// protocol answer each with RFC 6749's `invalid_client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OAuthClientFailure {
    /// No client has this `client_id` (or it was deleted).
    #[error("unknown client")]
    UnknownClient,
    /// A confidential client presented no secret.
    #[error("this client must authenticate with its secret")]
    SecretRequired,
    /// A public client (`token_endpoint_auth_method` `none`) presented a secret.
    #[error("this client is public and has no secret")]
    SecretNotExpected,
    /// The secret matches neither the client's current nor its previous secret.
    #[error("client authentication failed")]
    WrongSecret,
}

/// A use case's failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppError {
    /// A value breaks a domain rule (the variant says which).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The named object does not exist (or belongs to another account).
    #[error("{0} not found")]
    NotFound(Entity),
    /// A uniqueness rule: the named value is taken.
    #[error("{0} is not unique")]
    Conflict(Field),
    /// The change would leave the account without an active owner.
    #[error("an account must keep at least one active owner")]
    LastOwner,
    /// The object is still used (a resource group named by a policy).
    #[error("still in use by {0}")]
    InUse(Entity),
    /// The principal may not do this; the reasons name the roles/policies that decided.
    #[error("forbidden: {}", reasons_text(.0))]
    Forbidden(Vec<Reason>),
    /// A role (or a key's role) the principal may not hand out: no escalation.
    #[error("role not grantable: {}", reasons_text(.0))]
    RoleNotGrantable(Vec<Reason>),
    /// An OAuth client would carry a scope whose permission the caller does not hold
    /// everywhere in the account: no escalation through a client.
    #[error("scope not grantable: {}", reasons_text(.0))]
    ScopeNotGrantable(Vec<Reason>),
    /// The account already has as many OAuth clients as allowed.
    #[error("an account may have at most {0} OAuth clients")]
    TooManyOAuthClients(u32),
    /// An OAuth client's authentication failed.
    #[error(transparent)]
    OAuthClient(#[from] OAuthClientFailure),
    /// Authentication failed.
    #[error(transparent)]
    Unauthenticated(#[from] AuthFailure),
    /// Too many failed attempts: wait before retrying.
    #[error("too many failed attempts; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the lock lifts.
        retry_after_secs: u64,
    },
    /// The account already has as many users as allowed.
    #[error("the account may have at most {0} users")]
    TooManyUsers(u32),
    /// The owner already has as many keys as allowed.
    #[error("at most {0} keys are allowed")]
    TooManyKeys(u32),
    /// The parent account already has as many child accounts as allowed.
    #[error("an account may have at most {0} child accounts")]
    TooManyChildAccounts(u32),
    /// A new account would sit deeper below its top-level account than allowed.
    #[error("accounts nest at most {0} levels below a top-level account")]
    AccountTooDeep(u32),
    /// A subuser's service keys hold roles that a removal without `force` would strand.
    #[error(
        "the subuser's keys {0:?} hold these roles; remove them from the keys first or use force"
    )]
    KeysHoldRoles(Vec<String>),
    /// An SSO sign-in was refused.
    #[error(transparent)]
    Sso(#[from] SsoFailure),
    /// Password sign-in is refused for this user's email domain: it signs in through SSO.
    #[error("password sign-in is disabled for {0}: sign in through its SSO connector")]
    SsoRequired(String),
    /// A subuser changing its own password did not give the old one.
    #[error("old_subuser_password is required to change your own password")]
    OldPasswordRequired,
    /// The credential is good, but not from this client address: its account's authorized IPs
    /// (or its key's `allowed_ips`) do not admit it.
    #[error("the client address is not authorized for this account")]
    AddressNotAuthorized,
    /// The change would make the account's authorized IPs refuse the address making it.
    #[error(
        "this change would refuse your own address ({0}); repeat it with force to make it anyway"
    )]
    WouldLockOut(String),
    /// The action is the user's own, taken through its own password session only (its second
    /// factor): another credential (an access key, a service key) is refused.
    #[error("only the user's own session may do this: sign in with a password (POST /v1/sessions)")]
    SessionRequired,
    /// The user has a confirmed TOTP enrolment already: it must be removed before another.
    #[error("a confirmed TOTP enrolment exists; remove it first (DELETE /v1/mfa/totp)")]
    MfaEnrolled,
    /// The account's authorized-IP list is full.
    #[error("an account may list at most {0} authorized IPs")]
    TooManyAuthorizedIps(u32),
    /// Too many sign-ins are in progress (or this client address has its share of them):
    /// retry shortly.
    #[error("too many sign-ins in progress; retry in {retry_after_secs} s")]
    Overloaded {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// An OAuth protocol refusal (the `/oauth` endpoints answer it in RFC 6749's format).
    #[error(transparent)]
    OAuth(#[from] crate::oauth::OAuthError),
    /// The storage is unreachable; retry later.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or corrupted data.
    #[error("internal error: {0}")]
    Internal(String),
}

fn reasons_text(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The result of a use case.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// Maps a repository error, naming what was not found or not unique.
    pub fn from_repo(what: Entity) -> impl FnOnce(RepoError) -> AppError {
        move |e| match e {
            RepoError::NotFound => AppError::NotFound(what),
            RepoError::Conflict(field) => AppError::Conflict(field),
            RepoError::LastOwner => AppError::LastOwner,
            RepoError::InUse(by) => AppError::InUse(by),
            RepoError::LimitReached => {
                AppError::Internal(format!("unexpected limit while changing {what}"))
            }
            RepoError::Unavailable(m) => AppError::Unavailable(m),
            RepoError::Internal(m) => AppError::Internal(m),
        }
    }
}

impl From<RepoError> for AppError {
    fn from(e: RepoError) -> Self {
        AppError::from_repo(Entity::Object)(e)
    }
}

impl From<HashError> for AppError {
    fn from(e: HashError) -> Self {
        AppError::Internal(e.to_string())
    }
}
