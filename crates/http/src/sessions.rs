//! Sessions: `POST /v1/sessions` signs in (and, asked to, sets the session cookie) or answers
//! a second-factor challenge (`crate::mfa`), `DELETE /v1/sessions` signs out (`?all=true`: out
//! of every session of the user), `GET /v1/sessions` lists the caller's own sessions and
//! `DELETE /v1/sessions/{session_id}` ends one of them. Another user's sessions:
//! [`crate::user_sessions`].

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::{App, EndedSessions, LoginCommand, Presented, SessionToken, SignIn, UserSession};
use tessera_domain::Entity;
use tessera_domain::Secret;
use tessera_domain::ids::{AccountId, SessionId};
use tessera_domain::keys::SignInMethod;
use tessera_domain::ports::Page;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::envelope::{ApiError, Envelope, IdResult, ResultInfo};
use crate::extract::{Caller, JsonBody, QueryParams, presented, request_meta, run, via_cookie};
use crate::mfa::{MfaEnrolmentRequiredView, MfaRequiredView};
use crate::session_cookie::{check_origin, forgetting, set_cookie};

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
    /// Also set the session cookie `tessera_session` (for a browser: the sign-in page asks for
    /// it); the answer then carries the session's `csrf_token`, which every write the cookie
    /// authenticates must send in `X-CSRF-Token`. Default `false`: API clients get no cookie.
    #[serde(default)]
    pub cookie: bool,
}

impl crate::extract::RequestBody for LoginBody {}

/// A new session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    /// Send as `Authorization: Bearer <token>`; shown once.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Account.
    pub account_id: i64,
    /// User.
    pub user_id: i64,
    /// The session's id (what `GET /v1/sessions` lists and `DELETE /v1/sessions/{session_id}`
    /// names).
    pub session_id: String,
    /// With the cookie only: the `X-CSRF-Token` of every write the cookie authenticates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

impl SessionView {
    /// The answer for a new session; with its CSRF token when the session goes into the cookie.
    #[must_use]
    pub fn new(s: &SessionToken, cookie: bool) -> Self {
        Self {
            token: s.token.expose().to_owned(),
            expires_at: s.expires_at,
            account_id: s.account_id.0,
            user_id: s.user_id.0,
            session_id: s.session_id.to_string(),
            csrf_token: cookie.then(|| tessera_app::auth::csrf_token(&s.token)),
        }
    }

    /// The cookie that holds this session (`Set-Cookie`'s value).
    #[must_use]
    pub fn cookie(&self) -> String {
        set_cookie(
            &Secret::new(self.token.clone()),
            self.expires_at,
            Utc::now(),
        )
    }
}

/// The answer to a sign-in that opened session `s` (any sign-in route: password, second
/// factor): the envelope, and the session cookie when the client asked for it.
#[must_use]
pub fn signed_in(s: &SessionToken, cookie: bool) -> HttpResponse {
    let view = SessionView::new(s, cookie);
    let mut res = HttpResponse::Ok();
    if cookie {
        res.append_header(("Set-Cookie", view.cookie()));
    }
    res.json(Envelope::ok(view))
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
            SignIn::Session(t) => Self::Session(SessionView::new(&t, false)),
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
    responses((status = 200, body = Envelope<SignInView>), (status = 400), (status = 401),
        (status = 403, description = "`cookie` asked from another origin (4035)"), (status = 429)))]
#[post("/sessions")]
pub async fn create_session(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    body: JsonBody<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let meta = request_meta(&req);
    let body = body.0;
    if body.cookie {
        // A page of another site must not sign a browser in (into the attacker's account).
        check_origin(&req)?;
    }
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
    Ok(match s {
        SignIn::Session(t) => signed_in(&t, body.cookie),
        challenge => Envelope::ok(SignInView::from(challenge)).respond(),
    })
}

/// How long a refused sign-in (429, 503) waits before it is answered: the `Retry-After` of a
/// full sign-in queue.
pub(crate) const SHED_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// A session as its user sees it (never its token).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfoView {
    /// The session's id.
    pub id: String,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The client address it was opened from.
    pub created_from: Option<String>,
    /// Last use (kept to within a minute; `null` before the first).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The client address of that use.
    pub last_used_from: Option<String>,
    /// How it was opened.
    #[schema(value_type = crate::schema::SignInMethodDoc)]
    pub method: SignInMethod,
    /// Whether this request authenticated with it.
    pub current: bool,
}

impl From<UserSession> for SessionInfoView {
    fn from(s: UserSession) -> Self {
        Self {
            id: s.session.id.to_string(),
            created_at: s.session.created_at,
            expires_at: s.session.expires_at,
            created_from: s.session.created_from,
            last_used_at: s.session.last_used_at,
            last_used_from: s.session.last_used_from,
            method: s.session.method,
            current: s.current,
        }
    }
}

/// Paging of a session list (in storage: a page costs the same whatever the user holds).
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionListParams {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    #[validate(range(min = 1, max = 1_000_000, message = "must be between 1 and 1000000"))]
    pub page: Option<u64>,
    /// Sessions per page (default 20, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    #[validate(range(min = 1, max = 1000, message = "must be between 1 and 1000"))]
    pub per_page: Option<u32>,
}

impl SessionListParams {
    /// The page size.
    #[must_use]
    pub fn limit(&self) -> u32 {
        self.per_page.unwrap_or(crate::paging::DEFAULT_PER_PAGE)
    }

    /// Sessions before the page.
    #[must_use]
    pub fn offset(&self) -> u64 {
        (self.page.unwrap_or(1) - 1) * u64::from(self.limit())
    }

    /// The answer: the page in the envelope, with its `result_info`.
    #[must_use]
    pub fn respond(&self, page: Page<UserSession>) -> HttpResponse {
        let items: Vec<SessionInfoView> = page.items.into_iter().map(Into::into).collect();
        let info = ResultInfo {
            page: self.page.unwrap_or(1),
            per_page: self.limit(),
            count: items.len(),
            total_count: Some(page.total),
            cursor: None,
        };
        Envelope::page(items, info).respond()
    }
}

/// A session id in a path: one that does not parse names no session.
///
/// # Errors
/// 404.
pub fn session_id(raw: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(raw)
        .map_err(|_| ApiError::from(tessera_app::AppError::NotFound(Entity::Session)))
}

/// The caller's own live sessions (through one of its sessions or its own access key), newest
/// first; a service key has none.
#[utoipa::path(tag = "Sessions", params(SessionListParams),
    responses((status = 200, body = Envelope<Vec<SessionInfoView>>), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = []), ("session_cookie" = [])))]
#[get("/sessions")]
pub async fn list_sessions(
    app: web::Data<Arc<App>>,
    caller: Caller,
    params: QueryParams<SessionListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.0;
    let (limit, offset) = (params.limit(), params.offset());
    let page = run(&app, move |app| {
        app.list_own_sessions(&caller.0, limit, offset)
    })
    .await?;
    Ok(params.respond(page))
}

/// Which sessions `DELETE /v1/sessions` ends.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignOutParams {
    /// `true`: every session of the caller's user, this one included (also through the user's
    /// own access key); otherwise the session this request authenticates with.
    #[serde(default, deserialize_with = "crate::serde_util::query_bool")]
    pub all: Option<bool>,
}

/// What a sign-out ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedOutView {
    /// The id of the session this request authenticated with, when it was ended.
    pub id: Option<String>,
    /// How many sessions ended.
    pub ended: u64,
}

/// Signs out: ends the session this request authenticates with, or (`all=true`) every session
/// of the caller's user. A browser signed in with the cookie is told to forget it.
#[utoipa::path(tag = "Sessions", params(SignOutParams),
    responses((status = 200, body = Envelope<SignedOutView>), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = []), ("session_cookie" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/sessions")]
pub async fn delete_session(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    params: QueryParams<SignOutParams>,
) -> Result<HttpResponse, ApiError> {
    let meta = request_meta(&req);
    let cookie = via_cookie(&req);
    let current = match &caller.0.credential {
        tessera_app::Credential::Session(id) => Some(id.to_string()),
        _ => None,
    };
    if params.0.all == Some(true) {
        let ended = run(&app, move |app| app.end_own_sessions(&caller.0, &meta)).await?;
        let view = SignedOutView {
            id: current.filter(|_| ended.current),
            ended: ended.count,
        };
        return Ok(forgetting(
            Envelope::ok(view).respond(),
            cookie && ended.current,
        ));
    }
    let token = match presented(&req) {
        Some(Presented::Bearer(t)) => t,
        _ => Secret::new(""),
    };
    let id = run(&app, move |app| app.logout(&caller.0, &meta, &token)).await?;
    let view = SignedOutView {
        id: Some(id.to_string()),
        ended: 1,
    };
    Ok(forgetting(Envelope::ok(view).respond(), cookie))
}

/// Ends one of the caller's own sessions (this one included); another user's is not found.
#[utoipa::path(tag = "Sessions", params(("session_id" = String, Path, description = "32 hex digits")),
    responses((status = 200, body = Envelope<IdResult>), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = []), ("session_cookie" = [])))]
#[delete("/sessions/{session_id}")]
pub async fn delete_own_session(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = session_id(&path.into_inner())?;
    let meta = request_meta(&req);
    let cookie = via_cookie(&req);
    let ended: EndedSessions =
        run(&app, move |app| app.end_own_session(&caller.0, &meta, id)).await?;
    Ok(forgetting(
        Envelope::ok(IdResult::from(id)).respond(),
        cookie && ended.current,
    ))
}
