//! Tessera as an OAuth 2.0 authorization server: its signing keys and JWKS, access tokens
//! (issued, verified at use, introspected, revoked), grants, and the machine-to-machine grants
//! (`client_credentials` with an access key, the JWT bearer grant with a service key).
//!
//! The authorization-code flow, refresh tokens and ID tokens build on these: they create a
//! [`Grant`](tessera_domain::oauth::Grant) with [`App::create_grant`](crate::App::create_grant),
//! mint with [`App::issue_access_token`](crate::App::issue_access_token) and sign ID tokens with
//! [`App::sign_id_token`](crate::App::sign_id_token).

mod error;
mod grants;
mod introspect;
mod keys;
mod machine;
mod tokens;
mod verify;

#[cfg(test)]
mod tests;

pub use error::OAuthError;
pub use introspect::AccessTokenInfo;
pub(crate) use keys::KeyRing;
pub use machine::MachineGrant;
pub(crate) use machine::held_permissions;
pub(crate) use tokens::subject_actor;
pub use tokens::{IssuedAccessToken, NewAccessToken};
pub(crate) use verify::{Audience, TokenFault, is_access_token};

use tessera_domain::oauth::{GrantId, ScopeSet, TokenSubject};

/// What an OAuth access token says about its principal (the credential of a
/// [`Principal`](crate::Principal) that authenticated with one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthToken {
    /// The token's `jti`.
    pub jti: String,
    /// Who it acts for.
    pub subject: TokenSubject,
    /// The client it was issued to.
    pub client_id: String,
    /// The grant it comes from, if any.
    pub grant: Option<GrantId>,
    /// Its scopes.
    pub scopes: ScopeSet,
}
