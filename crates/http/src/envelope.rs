//! The Cloudflare response envelope and the one mapping from `AppError` to a status and an
//! envelope error.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use tessera_app::{AppError, AuthFailure, OAuthError, SsoFailure};
use tessera_domain::DomainError;
use utoipa::ToSchema;

/// One entry of `errors` / `messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EnvelopeMessage {
    /// Stable numeric code (the HTTP status times 10 plus a detail digit, ≥ 1000).
    pub code: u32,
    /// Human-readable text; names the offending field when there is one.
    pub message: String,
}

/// Paging details of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResultInfo {
    /// Page number (1-based).
    pub page: u64,
    /// Page size.
    pub per_page: u32,
    /// Items in this page.
    pub count: usize,
    /// Items in all pages (absent where counting would cost what paging saves: the audit log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_count: Option<i64>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `{"success", "errors", "messages", "result", "result_info"?}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Whether the call succeeded.
    pub success: bool,
    /// Errors (empty on success).
    pub errors: Vec<EnvelopeMessage>,
    /// Informational messages.
    pub messages: Vec<EnvelopeMessage>,
    /// The result (`null` on failure).
    pub result: Option<T>,
    /// Paging, on lists only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_info: Option<ResultInfo>,
}

impl<T: Serialize> Envelope<T> {
    /// A successful result.
    pub fn ok(result: T) -> Self {
        Self {
            success: true,
            errors: Vec::new(),
            messages: Vec::new(),
            result: Some(result),
            result_info: None,
        }
    }

    /// A successful page of a list.
    pub fn page(result: T, info: ResultInfo) -> Self {
        Self {
            result_info: Some(info),
            ..Self::ok(result)
        }
    }

    /// `200 OK` with this envelope.
    pub fn respond(self) -> HttpResponse {
        HttpResponse::Ok().json(self)
    }

    /// `201 Created` with this envelope.
    pub fn created(self) -> HttpResponse {
        HttpResponse::Created().json(self)
    }
}

/// `{"id": …}`: what a DELETE answers, as Cloudflare does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IdResult {
    /// The deleted object's id.
    pub id: String,
}

impl<T: std::fmt::Display> From<T> for IdResult {
    fn from(id: T) -> Self {
        Self { id: id.to_string() }
    }
}

/// A failed call: a status and one error entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Envelope code.
    pub code: u32,
    /// Message.
    pub message: String,
    /// `Retry-After` seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status`, code `status × 10 + detail`.
    #[must_use]
    pub fn new(status: StatusCode, detail: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code: u32::from(status.as_u16()) * 10 + detail,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A 400 naming a field.
    #[must_use]
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 0, message)
    }

    /// The envelope body.
    #[must_use]
    pub fn envelope(&self) -> Envelope<()> {
        Envelope {
            success: false,
            errors: vec![EnvelopeMessage {
                code: self.code,
                message: self.message.clone(),
            }],
            messages: Vec::new(),
            result: None,
            result_info: None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            res.insert_header(("Retry-After", secs.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header(("WWW-Authenticate", "Bearer realm=\"tessera\""));
        }
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is never read: the connection cannot carry another request.
            res.force_close();
        }
        res.json(self.envelope())
    }
}

fn domain_error(e: &DomainError) -> ApiError {
    let detail = match e {
        DomainError::Invalid { .. } => 0,
        DomainError::LoginLength => 1,
        DomainError::LoginMustStartWithLetter => 2,
        DomainError::LoginCharacters => 3,
        DomainError::PasswordTooWeak(_) => 4,
        DomainError::PasswordHasWhitespace => 5,
        DomainError::UnknownRoleId(_) | DomainError::UnknownRoleName(_) => 6,
    };
    let message = match e {
        DomainError::LoginLength
        | DomainError::LoginMustStartWithLetter
        | DomainError::LoginCharacters => format!("login: {e}"),
        DomainError::PasswordTooWeak(_) | DomainError::PasswordHasWhitespace => {
            format!("password: {e}")
        }
        DomainError::UnknownRoleId(_) | DomainError::UnknownRoleName(_) => format!("roles: {e}"),
        DomainError::Invalid { .. } => e.to_string(),
    };
    ApiError::new(StatusCode::BAD_REQUEST, detail, message)
}

/// A refused SSO sign-in: one code per kind of failure the operator can act on.
fn sso_error(failure: &SsoFailure, message: String) -> ApiError {
    let (status, detail) = match failure {
        SsoFailure::NotConfigured => (StatusCode::NOT_FOUND, 1),
        SsoFailure::InvalidState => (StatusCode::BAD_REQUEST, 8),
        SsoFailure::WrongBrowser => (StatusCode::BAD_REQUEST, 9),
        SsoFailure::IdpDenied(_) => (StatusCode::UNAUTHORIZED, 8),
        SsoFailure::CodeRefused(_) | SsoFailure::InvalidIdToken(_) => (StatusCode::UNAUTHORIZED, 9),
        // 4034 and 4035 are the session cookie's CSRF refusals, 4036 a second factor's.
        SsoFailure::EmailMissing(_)
        | SsoFailure::EmailOutsideDomain(_)
        | SsoFailure::EmailNotVerified => (StatusCode::FORBIDDEN, 7),
        SsoFailure::NoUser | SsoFailure::AmbiguousEmail => (StatusCode::FORBIDDEN, 8),
        SsoFailure::UserInactive => (StatusCode::FORBIDDEN, 9),
        SsoFailure::TooManySignIns => {
            return ApiError {
                retry_after: Some(60),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, 1, message)
            };
        }
        SsoFailure::IdpUnavailable(_) => (StatusCode::BAD_GATEWAY, 0),
    };
    ApiError::new(status, detail, message)
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let message = e.to_string();
        match &e {
            AppError::Invalid(d) => domain_error(d),
            AppError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, 0, message),
            AppError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, 0, message),
            AppError::LastOwner => ApiError::new(StatusCode::CONFLICT, 1, message),
            AppError::InUse(_) => ApiError::new(StatusCode::CONFLICT, 4, message),
            AppError::KeysHoldRoles(_) => ApiError::new(StatusCode::CONFLICT, 5, message),
            AppError::SsoRequired(_) => ApiError::new(StatusCode::FORBIDDEN, 1, message),
            AppError::TooManyUsers(_) => ApiError::new(StatusCode::CONFLICT, 2, message),
            AppError::TooManyKeys(_) => ApiError::new(StatusCode::CONFLICT, 3, message),
            AppError::TooManyChildAccounts(_) => ApiError::new(StatusCode::CONFLICT, 6, message),
            AppError::AccountTooDeep(_) => ApiError::new(StatusCode::CONFLICT, 7, message),
            AppError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, 0, message),
            AppError::RoleNotGrantable(_) | AppError::ScopeNotGrantable(_) => {
                ApiError::new(StatusCode::FORBIDDEN, 2, message)
            }
            AppError::TooManyOAuthClients(_) => ApiError::new(StatusCode::CONFLICT, 3, message),
            AppError::OAuthClient(_) => ApiError::new(StatusCode::UNAUTHORIZED, 0, message),
            AppError::AddressNotAuthorized => ApiError::new(StatusCode::FORBIDDEN, 3, message),
            AppError::WouldLockOut(_) => ApiError::new(StatusCode::CONFLICT, 8, message),
            AppError::TooManyAuthorizedIps(_) => ApiError::new(StatusCode::CONFLICT, 9, message),
            AppError::SessionRequired => ApiError::new(StatusCode::FORBIDDEN, 6, message),
            // The 409 detail digits are all taken: a conflict of state, as 4090.
            AppError::MfaEnrolled => ApiError::new(StatusCode::CONFLICT, 0, message),
            AppError::Unauthenticated(failure) => {
                let detail = match failure {
                    AuthFailure::Failed => 0,
                    AuthFailure::Missing => 1,
                    AuthFailure::TokenFormat => 2,
                    AuthFailure::TokenLifetime => 3,
                    AuthFailure::TokenFromFuture => 4,
                    AuthFailure::TokenExpired => 5,
                    AuthFailure::KeyExpired => 6,
                    AuthFailure::KeyNotYetValid => 7,
                };
                ApiError::new(StatusCode::UNAUTHORIZED, detail, message)
            }
            AppError::RateLimited { retry_after_secs } => ApiError {
                retry_after: Some(*retry_after_secs),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, 0, message)
            },
            AppError::OldPasswordRequired => ApiError::new(StatusCode::BAD_REQUEST, 7, message),
            AppError::Sso(failure) => sso_error(failure, message),
            // The `/oauth` endpoints answer these in RFC 6749's format (`oauth::error`); should
            // one reach the REST API, it is a refused credential or a bad request.
            AppError::OAuth(o) => match o {
                OAuthError::InvalidClient | OAuthError::InvalidToken => {
                    ApiError::new(StatusCode::UNAUTHORIZED, 0, message)
                }
                OAuthError::InsufficientScope(_) => {
                    ApiError::new(StatusCode::FORBIDDEN, 0, message)
                }
                OAuthError::InvalidRequest(_)
                | OAuthError::InvalidGrant(_)
                | OAuthError::UnauthorizedClient(_)
                | OAuthError::UnsupportedGrantType
                | OAuthError::InvalidScope(_) => ApiError::new(StatusCode::BAD_REQUEST, 0, message),
            },
            AppError::Overloaded { retry_after_secs } => ApiError {
                retry_after: Some(*retry_after_secs),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, 1, message)
            },
            AppError::Unavailable(_) => ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    0,
                    "service unavailable: the database cannot be reached; retry later",
                )
            },
            AppError::Internal(_) => {
                tracing::error!(error = %e, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, 0, "internal error")
            }
        }
    }
}
