//! The rules of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3): which errors are
//! shown to the user (an unknown client, a redirect URI the client did not register: never a
//! redirect there, §4.1.2.1) and which are sent back to the client's redirect URI.

use std::fmt;

use crate::oauth::ScopeSet;
use crate::oauth::pkce::CodeChallenge;

/// The longest `state` or `nonce` accepted (they travel back in a URL and a token).
pub const MAX_STATE_LEN: usize = 1024;

/// The longest redirect URI accepted.
pub const MAX_REDIRECT_URI_LEN: usize = 2048;

/// The query of `GET /oauth/authorize`, as received (every parameter once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeParams {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `response_type`.
    pub response_type: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `code_challenge`.
    pub code_challenge: Option<String>,
    /// `code_challenge_method`.
    pub code_challenge_method: Option<String>,
    /// `nonce`.
    pub nonce: Option<String>,
}

/// What the authorization server knows of the client, for the rules.
#[derive(Debug, Clone, Copy)]
pub struct ClientRules<'a> {
    /// Its registered redirect URIs.
    pub redirect_uris: &'a [String],
    /// The scopes it may ask for.
    pub scopes: ScopeSet,
    /// Whether it is public (`token_endpoint_auth_method` none): PKCE is then required.
    pub public: bool,
    /// Whether it may use the authorization code grant.
    pub allows_code: bool,
}

/// A valid authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    /// The client.
    pub client_id: String,
    /// Where the answer goes (one of the client's registered URIs, exactly).
    pub redirect_uri: String,
    /// Whether the request named it (then the token request must repeat it).
    pub redirect_uri_given: bool,
    /// The scopes asked for (within the client's).
    pub scopes: ScopeSet,
    /// `state`, passed back as is.
    pub state: Option<String>,
    /// The PKCE challenge.
    pub code_challenge: Option<CodeChallenge>,
    /// The OpenID Connect nonce, for the ID token.
    pub nonce: Option<String>,
}

/// An error the user sees on Tessera's own page: the redirect URI cannot be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageError {
    /// No `client_id`, or no such client.
    UnknownClient,
    /// The redirect URI is not one the client registered (or is missing while the client has
    /// several).
    BadRedirectUri,
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownClient => "The application is not known here (no such client_id).",
            Self::BadRedirectUri => {
                "The application asked to send you to an address it has not registered."
            }
        })
    }
}

/// An authorization error code sent back to the client (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizeErrorCode {
    /// A parameter is missing, repeated or malformed.
    InvalidRequest,
    /// The client may not use this grant.
    UnauthorizedClient,
    /// The user (or Tessera) refused.
    AccessDenied,
    /// Not `response_type=code`.
    UnsupportedResponseType,
    /// A scope is unknown or beyond the client's.
    InvalidScope,
    /// Something failed on Tessera's side.
    ServerError,
}

impl AuthorizeErrorCode {
    /// As written in the redirect.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
        }
    }
}

/// An error sent back to the client's (verified) redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    /// The verified redirect URI.
    pub redirect_uri: String,
    /// `error`.
    pub code: AuthorizeErrorCode,
    /// `error_description` (never a secret, never echoing input at length).
    pub description: String,
    /// `state`, passed back.
    pub state: Option<String>,
}

/// Why an authorization request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Shown on Tessera's page.
    Page(PageError),
    /// Sent back to the client.
    Redirect(RedirectError),
}

/// The redirect URI of a request: the one given, if the client registered exactly it (no
/// prefix, case or normalisation games: RFC 6749 §3.1.2.3 with the Security BCP's exact
/// matching), or the client's only one when none is given.
///
/// # Errors
/// [`PageError::BadRedirectUri`].
pub fn redirect_uri_of<'a>(
    registered: &'a [String],
    given: Option<&str>,
) -> Result<&'a str, PageError> {
    match given {
        Some(g) => registered
            .iter()
            .find(|r| r.as_str() == g)
            .map(String::as_str)
            .ok_or(PageError::BadRedirectUri),
        None => match registered {
            [only] => Ok(only.as_str()),
            _ => Err(PageError::BadRedirectUri),
        },
    }
}

/// Checks an authorization request against the client's rules (the client having been found
/// by `params.client_id`; a missing client is the caller's [`PageError::UnknownClient`]).
///
/// # Errors
/// [`AuthorizeError::Page`] when the redirect URI cannot be trusted; otherwise
/// [`AuthorizeError::Redirect`] with the RFC's error code.
pub fn check_request(
    params: &AuthorizeParams,
    client: ClientRules<'_>,
) -> Result<AuthorizeRequest, AuthorizeError> {
    let client_id = params
        .client_id
        .clone()
        .ok_or(AuthorizeError::Page(PageError::UnknownClient))?;
    let redirect_uri = redirect_uri_of(client.redirect_uris, params.redirect_uri.as_deref())
        .map_err(AuthorizeError::Page)?
        .to_owned();
    // From here on, errors go back to the client, with its state (if it is sane).
    let state = params
        .state
        .clone()
        .filter(|s| s.len() <= MAX_STATE_LEN && !s.is_empty());
    let refuse = |code: AuthorizeErrorCode, description: &str| {
        AuthorizeError::Redirect(RedirectError {
            redirect_uri: redirect_uri.clone(),
            code,
            description: description.to_owned(),
            state: state.clone(),
        })
    };
    if params
        .state
        .as_ref()
        .is_some_and(|s| s.len() > MAX_STATE_LEN)
    {
        return Err(refuse(
            AuthorizeErrorCode::InvalidRequest,
            "state is too long",
        ));
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        None => {
            return Err(refuse(
                AuthorizeErrorCode::InvalidRequest,
                "response_type is required",
            ));
        }
        Some(_) => {
            return Err(refuse(
                AuthorizeErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if !client.allows_code {
        return Err(refuse(
            AuthorizeErrorCode::UnauthorizedClient,
            "the client may not use the authorization_code grant",
        ));
    }
    let scopes = match params.scope.as_deref().map(ScopeSet::parse) {
        None => {
            return Err(refuse(
                AuthorizeErrorCode::InvalidScope,
                "scope is required",
            ));
        }
        Some(Err(_)) => {
            return Err(refuse(AuthorizeErrorCode::InvalidScope, "unknown scope"));
        }
        Some(Ok(s)) if s.is_empty() => {
            return Err(refuse(
                AuthorizeErrorCode::InvalidScope,
                "scope is required",
            ));
        }
        Some(Ok(s)) => s,
    };
    if !scopes.is_subset(&client.scopes) {
        return Err(refuse(
            AuthorizeErrorCode::InvalidScope,
            "a scope is beyond the client's",
        ));
    }
    let code_challenge = match params.code_challenge.as_deref() {
        Some(c) => Some(
            CodeChallenge::parse(c, params.code_challenge_method.as_deref())
                .map_err(|e| refuse(AuthorizeErrorCode::InvalidRequest, &e.to_string()))?,
        ),
        None if client.public => {
            return Err(refuse(
                AuthorizeErrorCode::InvalidRequest,
                "a public client must use PKCE (code_challenge with S256)",
            ));
        }
        None if params.code_challenge_method.is_some() => {
            return Err(refuse(
                AuthorizeErrorCode::InvalidRequest,
                "code_challenge_method without code_challenge",
            ));
        }
        None => None,
    };
    if params
        .nonce
        .as_ref()
        .is_some_and(|n| n.len() > MAX_STATE_LEN)
    {
        return Err(refuse(
            AuthorizeErrorCode::InvalidRequest,
            "nonce is too long",
        ));
    }
    Ok(AuthorizeRequest {
        client_id,
        redirect_uri,
        redirect_uri_given: params.redirect_uri.is_some(),
        scopes,
        state,
        code_challenge,
        nonce: params.nonce.clone().filter(|n| !n.is_empty()),
    })
}

#[cfg(test)]
#[path = "authorize_tests.rs"]
mod tests;
