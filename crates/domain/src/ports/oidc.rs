//! The OpenID Connect relying party: what SSO sign-in needs from a customer's identity provider.

use crate::Secret;
use crate::sso::{IdpIdentity, IdpSettings};

/// Why the identity provider could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdpError {
    /// The provider (discovery, JWKS or token endpoint) could not be reached or answered
    /// something unusable: try again later or fix the connector.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The token endpoint refused the code (used, expired, or another client's).
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// The ID token failed verification (signature, issuer, audience, nonce, times).
    #[error("the ID token is not valid: {0}")]
    InvalidIdToken(String),
}

/// One sign-in's parameters at the provider.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizationRequest<'a> {
    /// Where the provider sends the browser back.
    pub redirect_uri: &'a str,
    /// The `state` echoed to the callback.
    pub state: &'a str,
    /// The `nonce` the ID token must carry.
    pub nonce: &'a str,
    /// The PKCE verifier (the request carries its S256 challenge).
    pub pkce_verifier: &'a str,
}

/// An OpenID Connect relying party (discovery, JWKS and token endpoint calls).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait OidcRelyingParty: Send + Sync {
    /// The provider's authorization URL for this sign-in (code flow, PKCE S256).
    ///
    /// # Errors
    /// `Unavailable` when the provider's discovery document cannot be had.
    fn authorization_url<'a>(
        &self,
        idp: &IdpSettings,
        request: AuthorizationRequest<'a>,
    ) -> Result<String, IdpError>;

    /// Redeems `code` at the token endpoint (with the client secret and the PKCE verifier) and
    /// verifies the ID token: signature by the provider's JWKS, `iss`, `aud`, `nonce`, `exp`,
    /// `iat`.
    ///
    /// # Errors
    /// `Unavailable`, `Refused` or `InvalidIdToken`.
    fn redeem<'a>(
        &self,
        idp: &IdpSettings,
        client_secret: &Secret,
        request: AuthorizationRequest<'a>,
        code: &str,
    ) -> Result<IdpIdentity, IdpError>;
}
