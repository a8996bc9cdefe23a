//! Tessera as an OAuth 2.0 / OpenID Connect authorization server: the scopes clients ask for and
//! tokens carry.

pub mod scope;

pub use scope::{IdentityScope, Scope, ScopeSet};
