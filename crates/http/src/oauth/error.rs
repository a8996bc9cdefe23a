//! OAuth refusals: `{"error", "error_description"}` with the status the RFCs give, mapped from
//! the use cases' errors in exactly one function.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use tessera_app::{AppError, OAuthError};
use utoipa::ToSchema;

/// An OAuth error body (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `invalid_token`, `insufficient_scope`,
    /// `temporarily_unavailable` or `server_error`.
    pub error: &'static str,
    /// What was wrong, for a developer.
    pub error_description: String,
}

/// Who the refused credential belonged to: a client authenticating at the token,
/// introspection or revocation endpoint, or a bearer token at userinfo (RFC 6750).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// A client (`invalid_client`, `WWW-Authenticate: Basic`).
    Client,
    /// A bearer token (`invalid_token`, `WWW-Authenticate: Bearer`).
    Bearer,
}

/// A refusal, as sent.
#[derive(Debug)]
pub struct OAuthReply {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<u64>,
    challenge: Option<&'static str>,
}

impl OAuthReply {
    /// A refusal with `status` and `error`.
    #[must_use]
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            retry_after: None,
            challenge: None,
        }
    }

    /// 400 `invalid_request`.
    #[must_use]
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// Maps a use case's error, for `party`.
    #[must_use]
    pub fn from_app(e: AppError, party: Party) -> Self {
        let refused_credential = |description: String| match party {
            Party::Client => Self {
                challenge: Some("Basic realm=\"tessera\""),
                ..Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
            },
            Party::Bearer => Self {
                challenge: Some("Bearer realm=\"tessera\", error=\"invalid_token\""),
                ..Self::new(StatusCode::UNAUTHORIZED, "invalid_token", description)
            },
        };
        let message = e.to_string();
        match e {
            AppError::OAuth(o) => {
                let description = o.description();
                match o {
                    OAuthError::InvalidClient => refused_credential(description),
                    OAuthError::InvalidToken => Self {
                        challenge: Some("Bearer realm=\"tessera\", error=\"invalid_token\""),
                        ..Self::new(StatusCode::UNAUTHORIZED, o.code(), description)
                    },
                    OAuthError::InsufficientScope(_) => Self {
                        challenge: Some("Bearer realm=\"tessera\", error=\"insufficient_scope\""),
                        ..Self::new(StatusCode::FORBIDDEN, o.code(), description)
                    },
                    OAuthError::InvalidRequest(_)
                    | OAuthError::InvalidGrant(_)
                    | OAuthError::UnauthorizedClient(_)
                    | OAuthError::UnsupportedGrantType
                    | OAuthError::InvalidScope(_) => {
                        Self::new(StatusCode::BAD_REQUEST, o.code(), description)
                    }
                }
            }
            AppError::Unauthenticated(_)
            | AppError::AddressNotAuthorized
            | AppError::OAuthClient(_) => refused_credential(message),
            AppError::RateLimited { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "invalid_request", message)
            },
            AppError::Overloaded { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    message,
                )
            },
            AppError::Unavailable(_) => Self {
                retry_after: Some(1),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the database cannot be reached; retry later",
                )
            },
            AppError::Internal(_) => {
                tracing::error!(error = %message, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "internal error",
                )
            }
            AppError::Forbidden(_) | AppError::SessionRequired | AppError::SsoRequired(_) => {
                Self::new(StatusCode::FORBIDDEN, "access_denied", message)
            }
            AppError::Invalid(_)
            | AppError::NotFound(_)
            | AppError::Conflict(_)
            | AppError::LastOwner
            | AppError::InUse(_)
            | AppError::RoleNotGrantable(_)
            | AppError::ScopeNotGrantable(_)
            | AppError::TooManyOAuthClients(_)
            | AppError::TooManyUsers(_)
            | AppError::TooManyKeys(_)
            | AppError::TooManyChildAccounts(_)
            | AppError::AccountTooDeep(_)
            | AppError::KeysHoldRoles(_)
            | AppError::Sso(_)
            | AppError::OldPasswordRequired
            | AppError::WouldLockOut(_)
            | AppError::MfaEnrolled
            | AppError::TooManyAuthorizedIps(_) => Self::invalid_request(message),
        }
    }
}

impl fmt::Display for OAuthReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl ResponseError for OAuthReply {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Pragma", "no-cache"));
        if let Some(secs) = self.retry_after {
            response.insert_header(("Retry-After", secs.to_string()));
        }
        if let Some(challenge) = self.challenge {
            response.insert_header(("WWW-Authenticate", challenge));
        }
        response.json(OAuthErrorBody {
            error: self.error,
            error_description: self.description.clone(),
        })
    }
}
