//! Tessera as an OAuth 2.0 / OpenID Connect authorization server: the scopes clients ask for and
//! tokens carry, and the authorization code flow's rules (the authorization request, PKCE, the
//! stored codes and refresh tokens).

pub mod authorize;
pub mod code;
pub mod pkce;
pub mod scope;

pub use authorize::{AuthorizeParams, AuthorizeRequest, ClientRules};
pub use code::{AuthorizationCode, CodeRedemption, RefreshRotation, RefreshToken};
pub use pkce::CodeChallenge;
pub use scope::{IdentityScope, Scope, ScopeSet};
