//! Second factors (TOTP): the signed-in user's own enrolment (`/v1/mfa`), the second step of
//! password sign-in (`/v1/sessions/mfa`, `/v1/sessions/mfa/enrol`) and an administrator's
//! reset (`/v1/accounts/{account_id}/users/{user_id}/mfa`).

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::{App, MfaChallengeToken, MfaSignIn, MfaStatus, TotpSecret};
use tessera_domain::Secret;
use tessera_domain::ids::{AccountId, UserId};
use utoipa::ToSchema;
use validator::{Validate, ValidationError, ValidationErrors};

use crate::envelope::{ApiError, Envelope, IdResult};
use crate::extract::{Caller, JsonBody, request_meta, run};
use crate::sessions::{SHED_PAUSE, SessionView};

/// Longest code accepted (a recovery code with dashes is 19 characters).
const MAX_CODE_LEN: usize = 64;
/// Longest challenge accepted (a challenge is 44 characters).
const MAX_CHALLENGE_LEN: usize = 128;

/// Adds an error under `field` when `value` is empty or longer than `max` bytes (the value is
/// never copied into the error: it is a secret).
fn check_length(errors: &mut ValidationErrors, field: &'static str, value: &Secret, max: usize) {
    let len = value.expose().len();
    if len == 0 || len > max {
        errors.add(
            field,
            ValidationError::new("length")
                .with_message(format!("must be 1 to {max} characters").into()),
        );
    }
}

fn checked(errors: ValidationErrors) -> Result<(), ValidationErrors> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A code of the authenticator app.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TotpCodeBody {
    /// The 6-digit code the app shows now; where an enrolment is removed, an unused recovery
    /// code (`xxxx-xxxx-xxxx-xxxx`) works too.
    #[schema(value_type = String, format = Password, min_length = 1, max_length = 64, example = "123456")]
    pub code: Secret,
}

impl Validate for TotpCodeBody {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_length(&mut errors, "code", &self.code, MAX_CODE_LEN);
        checked(errors)
    }
}

impl crate::extract::RequestBody for TotpCodeBody {}

/// The second step of a sign-in.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MfaCompleteBody {
    /// The challenge `POST /v1/sessions` answered.
    #[schema(value_type = String, format = Password, min_length = 1, max_length = 128)]
    pub challenge: Secret,
    /// A 6-digit code of the user's authenticator, or one of its unused recovery codes.
    #[schema(value_type = String, format = Password, min_length = 1, max_length = 64, example = "123456")]
    pub code: Secret,
    /// Also set the session cookie and answer its `csrf_token` (what the sign-in page sends;
    /// refused from another origin, 4035).
    #[serde(default)]
    pub cookie: bool,
}

impl Validate for MfaCompleteBody {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_length(&mut errors, "challenge", &self.challenge, MAX_CHALLENGE_LEN);
        check_length(&mut errors, "code", &self.code, MAX_CODE_LEN);
        checked(errors)
    }
}

impl crate::extract::RequestBody for MfaCompleteBody {}

/// An enrolment challenge.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MfaEnrolBody {
    /// The challenge `POST /v1/sessions` answered with `mfa_enrolment_required`.
    #[schema(value_type = String, format = Password, min_length = 1, max_length = 128)]
    pub challenge: Secret,
}

impl Validate for MfaEnrolBody {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_length(&mut errors, "challenge", &self.challenge, MAX_CHALLENGE_LEN);
        checked(errors)
    }
}

impl crate::extract::RequestBody for MfaEnrolBody {}

/// A new enrolment's seed, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpSecretView {
    /// The seed in base32, to type into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/…`: the same seed for a QR code (SHA-1, 6 digits, 30-second steps).
    pub otpauth_uri: String,
}

impl From<TotpSecret> for TotpSecretView {
    fn from(s: TotpSecret) -> Self {
        Self {
            secret: s.secret.expose().to_owned(),
            otpauth_uri: s.otpauth_uri.expose().to_owned(),
        }
    }
}

/// The recovery codes of a confirmed enrolment, shown once; each works once, in place of a
/// code.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodesView {
    /// Ten codes, `xxxx-xxxx-xxxx-xxxx`.
    pub recovery_codes: Vec<String>,
}

/// The caller's second-factor status.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaStatusView {
    /// Whether a confirmed TOTP enrolment protects its password sign-in.
    pub enrolled: bool,
    /// Whether an enrolment waits for its confirming code.
    pub pending: bool,
    /// When the enrolment was confirmed.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
}

impl From<MfaStatus> for MfaStatusView {
    fn from(s: MfaStatus) -> Self {
        Self {
            enrolled: s.enrolled,
            pending: s.pending,
            confirmed_at: s.confirmed_at,
            recovery_codes_left: s.recovery_codes_left,
        }
    }
}

/// The password was right; a code of the user's authenticator is due.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaRequiredView {
    /// Always `true`.
    pub mfa_required: bool,
    /// Send to `POST /v1/sessions/mfa` with a code; works once, until `expires_at`.
    pub challenge: String,
    /// Five minutes after the password.
    pub expires_at: DateTime<Utc>,
}

/// The password was right; the account requires a second factor and the user has none.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaEnrolmentRequiredView {
    /// Always `true`.
    pub mfa_enrolment_required: bool,
    /// Send to `POST /v1/sessions/mfa/enrol` (a seed), then to `POST /v1/sessions/mfa` with a
    /// code of it; works until `expires_at`.
    pub challenge: String,
    /// Five minutes after the password.
    pub expires_at: DateTime<Utc>,
}

impl MfaRequiredView {
    /// The view of a challenge.
    #[must_use]
    pub fn of(t: &MfaChallengeToken) -> Self {
        Self {
            mfa_required: true,
            challenge: t.challenge.expose().to_owned(),
            expires_at: t.expires_at,
        }
    }
}

impl MfaEnrolmentRequiredView {
    /// The view of a challenge.
    #[must_use]
    pub fn of(t: &MfaChallengeToken) -> Self {
        Self {
            mfa_enrolment_required: true,
            challenge: t.challenge.expose().to_owned(),
            expires_at: t.expires_at,
        }
    }
}

/// A session opened with a second factor; after an enrolment at sign-in, with its recovery
/// codes (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaSessionView {
    /// The session.
    #[serde(flatten)]
    pub session: SessionView,
    /// The new enrolment's ten recovery codes (only when this sign-in enrolled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

impl MfaSessionView {
    /// The answer for `s`; with its CSRF token when the session goes into the cookie.
    fn new(s: &MfaSignIn, cookie: bool) -> Self {
        Self {
            session: SessionView::new(&s.session, cookie),
            recovery_codes: s
                .recovery_codes
                .as_ref()
                .map(|codes| codes.iter().map(|c| c.expose().to_owned()).collect()),
        }
    }
}

/// A refused sign-in step (429, 503) waits before it is answered, as `POST /v1/sessions` does.
async fn shed<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
    if let Err(refused) = &result {
        if refused.retry_after.is_some() {
            actix_web::rt::time::sleep(SHED_PAUSE).await;
        }
    }
    result
}

/// The caller's own second-factor status (its session or its own access key).
#[utoipa::path(tag = "MFA",
    responses((status = 200, body = Envelope<MfaStatusView>), (status = 401), (status = 403)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/mfa")]
pub async fn get_mfa(app: web::Data<Arc<App>>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let status = run(&app, move |app| app.mfa_status(&caller.0)).await?;
    Ok(Envelope::ok(MfaStatusView::from(status)).respond())
}

/// Starts the caller's TOTP enrolment (its own session only): a new seed, shown once, pending
/// until `POST /v1/mfa/totp/confirm`; calling again replaces a pending one. 409 when a
/// confirmed enrolment exists.
#[utoipa::path(tag = "MFA",
    responses((status = 200, body = Envelope<TotpSecretView>), (status = 401), (status = 403), (status = 409)),
    security(("bearer" = [])))]
#[post("/mfa/totp")]
pub async fn begin_totp(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let meta = request_meta(&req);
    let secret = run(&app, move |app| app.begin_totp_enrolment(&caller.0, &meta)).await?;
    Ok(Envelope::ok(TotpSecretView::from(secret)).respond())
}

/// Confirms the caller's pending enrolment with a current code; answers ten recovery codes,
/// once (each works once, in place of a code).
#[utoipa::path(tag = "MFA", request_body = TotpCodeBody,
    responses((status = 200, body = Envelope<RecoveryCodesView>), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
#[post("/mfa/totp/confirm")]
pub async fn confirm_totp(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    body: JsonBody<TotpCodeBody>,
) -> Result<HttpResponse, ApiError> {
    let meta = request_meta(&req);
    let code = body.0.code;
    let codes = run(&app, move |app| {
        app.confirm_totp_enrolment(&caller.0, &meta, &code)
    })
    .await?;
    Ok(Envelope::ok(RecoveryCodesView {
        recovery_codes: codes.iter().map(|c| c.expose().to_owned()).collect(),
    })
    .respond())
}

/// Removes the caller's enrolment, given a current code or an unused recovery code; a wrong
/// code counts against the login's sign-in limits (429 once locked).
#[utoipa::path(tag = "MFA", request_body = TotpCodeBody,
    responses((status = 200, body = Envelope<MfaStatusView>), (status = 400), (status = 401), (status = 403), (status = 404), (status = 429)),
    security(("bearer" = [])))]
#[delete("/mfa/totp")]
pub async fn remove_totp(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    body: JsonBody<TotpCodeBody>,
) -> Result<HttpResponse, ApiError> {
    let meta = request_meta(&req);
    let code = body.0.code;
    let status = shed(
        run(&app, move |app| {
            app.remove_totp_enrolment(&caller.0, &meta, &code)?;
            app.mfa_status(&caller.0)
        })
        .await,
    )
    .await?;
    Ok(Envelope::ok(MfaStatusView::from(status)).respond())
}

/// Resets a user's second factor (a lost phone): User Management write and the right to manage
/// the user; not one's own. Audited as `mfa.reset`.
#[utoipa::path(tag = "Users", params(("account_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = Envelope<IdResult>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/accounts/{account_id}/users/{user_id}/mfa")]
pub async fn reset_mfa(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    let meta = request_meta(&req);
    run(&app, move |app| {
        app.reset_mfa(&caller.0, &meta, AccountId(account), UserId(user))
    })
    .await?;
    Ok(Envelope::ok(IdResult::from(user)).respond())
}

/// Completes a sign-in with the challenge `POST /v1/sessions` answered and a code of the
/// user's authenticator (or an unused recovery code): the session. After an enrolment at
/// sign-in, the code confirms it and the answer adds its recovery codes, once. Any refusal is
/// the wrong-password answer (401); wrong codes count against the sign-in limits (429).
#[utoipa::path(tag = "Sessions", request_body = MfaCompleteBody,
    responses((status = 200, body = Envelope<MfaSessionView>), (status = 400), (status = 401), (status = 403), (status = 429)))]
#[post("/sessions/mfa")]
pub async fn complete_sign_in(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    body: JsonBody<MfaCompleteBody>,
) -> Result<HttpResponse, ApiError> {
    let meta = request_meta(&req);
    let MfaCompleteBody {
        challenge,
        code,
        cookie,
    } = body.0;
    if cookie {
        // A page of another site must not sign a browser in (into the attacker's account).
        crate::session_cookie::check_origin(&req)?;
    }
    let done = shed(
        run(&app, move |app| {
            app.complete_sign_in(&meta, &challenge, &code)
        })
        .await,
    )
    .await?;
    let view = MfaSessionView::new(&done, cookie);
    let mut res = HttpResponse::Ok();
    if cookie {
        res.append_header(("Set-Cookie", view.session.cookie()));
    }
    Ok(res.json(Envelope::ok(view)))
}

/// With an enrolment challenge (the account requires a second factor and the user has none):
/// a new seed, shown once; then `POST /v1/sessions/mfa` with a code of it. Calling again
/// replaces it.
#[utoipa::path(tag = "Sessions", request_body = MfaEnrolBody,
    responses((status = 200, body = Envelope<TotpSecretView>), (status = 400), (status = 401), (status = 409), (status = 429)))]
#[post("/sessions/mfa/enrol")]
pub async fn enrol_at_sign_in(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    body: JsonBody<MfaEnrolBody>,
) -> Result<HttpResponse, ApiError> {
    let meta = request_meta(&req);
    let challenge = body.0.challenge;
    let secret = shed(run(&app, move |app| app.enrol_at_sign_in(&meta, &challenge)).await).await?;
    Ok(Envelope::ok(TotpSecretView::from(secret)).respond())
}
