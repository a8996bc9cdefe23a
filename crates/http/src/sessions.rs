//! Password sessions: `POST /v1/sessions` signs in (or answers a second-factor challenge:
//! `crate::mfa`), `DELETE /v1/sessions` signs out.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, delete, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::{App, LoginCommand, Presented, SessionToken, SignIn};
use tessera_domain::Secret;
use tessera_domain::ids::AccountId;
use utoipa::ToSchema;
use validator::Validate;

use crate::envelope::{ApiError, Envelope, IdResult};
use crate::extract::{Caller, JsonBody, presented, request_meta, run};
use crate::mfa::{MfaEnrolmentRequiredView, MfaRequiredView};

/// A sign-in.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct LoginBody {
    /// Account.
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::serde_util::integral")]
    pub account_id: i64,
    /// Login.
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    #[schema(min_length = 1, max_length = 100)]
    pub login: String,
    /// Password.
    #[schema(value_type = String, format = Password)]
    pub password: Secret,
}

impl crate::extract::RequestBody for LoginBody {}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Send as `Authorization: Bearer <token>`; shown once.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Account.
    pub account_id: i64,
    /// User.
    pub user_id: i64,
}

impl From<SessionToken> for SessionView {
    fn from(s: SessionToken) -> Self {
        Self {
            token: s.token.expose().to_owned(),
            expires_at: s.expires_at,
            account_id: s.account_id.0,
            user_id: s.user_id.0,
        }
    }
}

/// What a sign-in answers: a session, or — the password was right but a second factor is due —
/// a challenge for `POST /v1/sessions/mfa`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SignInView {
    /// A session.
    Session(SessionView),
    /// `{"mfa_required": true, "challenge", "expires_at"}`: give a code of the user's
    /// authenticator.
    MfaRequired(MfaRequiredView),
    /// `{"mfa_enrolment_required": true, "challenge", "expires_at"}`: the account requires a
    /// second factor; enrol first.
    MfaEnrolmentRequired(MfaEnrolmentRequiredView),
}

impl From<SignIn> for SignInView {
    fn from(s: SignIn) -> Self {
        match s {
            SignIn::Session(t) => Self::Session(SessionView::from(t)),
            SignIn::MfaRequired(c) => Self::MfaRequired(MfaRequiredView::of(&c)),
            SignIn::MfaEnrolmentRequired(c) => {
                Self::MfaEnrolmentRequired(MfaEnrolmentRequiredView::of(&c))
            }
        }
    }
}

/// Signs in with a password: a session, or, for a user with a confirmed second factor (or
/// without one in an account that requires it), a challenge to complete with
/// `POST /v1/sessions/mfa`.
#[utoipa::path(tag = "Sessions", request_body = LoginBody,
    responses((status = 200, body = Envelope<SignInView>), (status = 400), (status = 401), (status = 429)))]
#[post("/sessions")]
pub async fn create_session(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    body: JsonBody<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let meta = request_meta(&req);
    let body = body.0;
    let cmd = LoginCommand {
        account_id: AccountId(body.account_id),
        login: body.login,
        password: body.password,
    };
    let s = match run(&app, move |app| app.login(&meta, cmd)).await {
        Ok(s) => s,
        Err(refused) => {
            // A sign-in turned away for load or a lock is answered after a second: a client
            // looping on sign-ins is slowed to its own pace (the pause costs a timer, not a
            // thread), so a storm of refusals cannot take the CPU from everyone else.
            if refused.retry_after.is_some() {
                actix_web::rt::time::sleep(SHED_PAUSE).await;
            }
            return Err(refused);
        }
    };
    Ok(Envelope::ok(SignInView::from(s)).respond())
}

/// How long a refused sign-in (429, 503) waits before it is answered: the `Retry-After` of a
/// full sign-in queue.
pub(crate) const SHED_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// Signs out: ends the session whose token authenticates this request.
#[utoipa::path(tag = "Sessions",
    responses((status = 200, body = Envelope<IdResult>), (status = 401), (status = 404)),
    security(("bearer" = [])))]
#[delete("/sessions")]
pub async fn delete_session(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let meta = request_meta(&req);
    let token = match presented(&req) {
        Some(Presented::Bearer(t)) => t,
        _ => Secret::new(""),
    };
    let id = tessera_app::auth::secret_digest(&token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    run(&app, move |app| app.logout(&caller.0, &meta, &token)).await?;
    Ok(Envelope::ok(IdResult::from(id)).respond())
}
