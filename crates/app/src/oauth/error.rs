//! OAuth protocol errors (RFC 6749 §5.2, RFC 6750 §3.1): what the token, introspection,
//! revocation and userinfo endpoints answer, as `{"error", "error_description"}`.

/// A refusal of the OAuth protocol. The description is safe to show to the client (it never
/// says which key ids exist, nor quotes a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The request is malformed: a missing or repeated parameter, an unreadable value.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// The client could not be authenticated (unknown key, wrong secret, inactive key).
    #[error("invalid_client: client authentication failed")]
    InvalidClient,
    /// The grant (an assertion, a code, a refresh token) is invalid, expired or revoked.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// The client may not use this grant type.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    /// The grant type is not one Tessera serves.
    #[error("unsupported_grant_type: the grant type is not supported")]
    UnsupportedGrantType,
    /// A scope is unknown, or not held by the subject.
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// The access token is missing, malformed, expired or revoked (RFC 6750).
    #[error("invalid_token: the access token is invalid")]
    InvalidToken,
    /// The access token lacks a scope the endpoint needs (RFC 6750).
    #[error("insufficient_scope: {0}")]
    InsufficientScope(String),
}

impl OAuthError {
    /// The `error` code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope(_) => "insufficient_scope",
        }
    }

    /// The `error_description`.
    #[must_use]
    pub fn description(&self) -> String {
        match self {
            Self::InvalidRequest(d)
            | Self::InvalidGrant(d)
            | Self::UnauthorizedClient(d)
            | Self::InvalidScope(d)
            | Self::InsufficientScope(d) => d.clone(),
            Self::InvalidClient => "client authentication failed".into(),
            Self::UnsupportedGrantType => "the grant type is not supported".into(),
            Self::InvalidToken => "the access token is invalid".into(),
        }
    }
}
