//! Tessera as an OAuth 2.0 / OpenID Connect authorization server: the clients registered to ask
//! for tokens, the scopes clients ask for and tokens carry, the tokens themselves, the keys that
//! sign them and the grants they come from, and the authorization code flow's rules (the
//! authorization request, PKCE, the stored codes and refresh tokens).

pub mod authorize;
pub mod client;
pub mod code;
pub mod pkce;
pub mod scope;
pub mod tokens;

pub use authorize::{AuthorizeParams, AuthorizeRequest, ClientRules};
pub use client::{
    ClientInput, ClientSettings, GrantType, OAuthClient, ResponseType, TokenEndpointAuthMethod,
    Visibility,
};
pub use code::{AuthorizationCode, CodeRedemption, RefreshRotation, RefreshToken};
pub use pkce::CodeChallenge;
pub use scope::{IdentityScope, Scope, ScopeSet};
pub use tokens::{
    ACCESS_TOKEN_TYPE, AccessTokenClaims, Grant, GrantId, KEY_CACHE_SECS,
    MAX_ACCESS_TOKEN_TTL_SECS, MAX_ID_TOKEN_TTL_SECS, SigningKey, TOKEN_SKEW_SECS, TokenSubject,
    key_retention,
};
