//! Ports: what the use cases need from the outside world, as traits. Adapters (the `store` crate,
//! the crypto adapters in `app`) implement them; `app`'s tests mock them with mockall.
//!
//! Every method is synchronous: adapters move whole use cases onto a blocking pool.

mod access_keys;
mod accounts;
mod attempts;
mod audit;
mod authorized_ips;
mod error;
mod groups;
mod mfa;
mod oauth;
mod oauth_clients;
mod oauth_flow;
mod oidc;
mod paging;
mod sealing;
mod service_keys;
mod sessions;
mod sso;
mod system;
mod usage;
mod users;

pub use access_keys::{AccessKeyAuth, AccessKeyChanges, AccessKeyRepo, NewAccessKey};
pub use accounts::{
    AccountChanges, AccountRepo, BootstrapRecord, BootstrappedAccount, InitialAccessKey,
    InitialServiceKey, NewAccount,
};
pub use attempts::{AttemptCount, AttemptKey, AttemptRepo, Reservation};
pub use audit::{AuditFilter, AuditRepo};
pub use authorized_ips::AuthorizedIpRepo;
pub use error::RepoError;
pub use groups::{AuthzChange, AuthzRepo, ResourceGroupRepo, UserGroupRepo};
pub use mfa::{EnrolmentStarted, MfaRepo, NewMfaChallenge, NewTotpEnrolment, Redeemed, Redemption};
pub use oauth::OAuthTokenRepo;
pub use oauth_clients::OAuthClientRepo;
pub use oauth_flow::OAuthFlowRepo;
pub use oidc::{AuthorizationRequest, IdpError, OidcRelyingParty};
pub use paging::{ExpiryFilter, ListQuery, Page};
pub use sealing::{SealError, Sealer};
pub use service_keys::{NewServiceKey, ServiceKeyAuth, ServiceKeyChanges, ServiceKeyRepo};
pub use sessions::{NewSession, SessionPage, SessionRepo};
pub use sso::{DnsResolver, SsoChanges, SsoRepo};
pub use system::{
    Clock, GeneratedKeyPair, HashError, Health, IdGenerator, KeyPairGenerator, PasswordHasher,
};
pub use usage::Used;
pub use users::{NewUser, RoleChange, UserChanges, UserRepo, UserWithSecret};

#[cfg(feature = "mocks")]
pub use access_keys::MockAccessKeyRepo;
#[cfg(feature = "mocks")]
pub use accounts::MockAccountRepo;
#[cfg(feature = "mocks")]
pub use attempts::MockAttemptRepo;
#[cfg(feature = "mocks")]
pub use audit::MockAuditRepo;
#[cfg(feature = "mocks")]
pub use authorized_ips::MockAuthorizedIpRepo;
#[cfg(feature = "mocks")]
pub use groups::{MockAuthzRepo, MockResourceGroupRepo, MockUserGroupRepo};
#[cfg(feature = "mocks")]
pub use mfa::MockMfaRepo;
#[cfg(feature = "mocks")]
pub use oauth::MockOAuthTokenRepo;
#[cfg(feature = "mocks")]
pub use oauth_clients::MockOAuthClientRepo;
#[cfg(feature = "mocks")]
pub use oauth_flow::MockOAuthFlowRepo;
#[cfg(feature = "mocks")]
pub use oidc::MockOidcRelyingParty;
#[cfg(feature = "mocks")]
pub use sealing::MockSealer;
#[cfg(feature = "mocks")]
pub use service_keys::MockServiceKeyRepo;
#[cfg(feature = "mocks")]
pub use sessions::MockSessionRepo;
#[cfg(feature = "mocks")]
pub use sso::{MockDnsResolver, MockSsoRepo};
#[cfg(feature = "mocks")]
pub use system::{
    MockClock, MockHealth, MockIdGenerator, MockKeyPairGenerator, MockPasswordHasher,
};
#[cfg(feature = "mocks")]
pub use users::MockUserRepo;
