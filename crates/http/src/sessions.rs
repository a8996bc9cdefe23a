//! Password sessions: `POST /v1/sessions` signs in, `DELETE /v1/sessions` signs out.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, delete, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::{App, LoginCommand, Presented};
use tessera_domain::Secret;
use tessera_domain::ids::AccountId;
use utoipa::ToSchema;
use validator::Validate;

use crate::envelope::{ApiError, Envelope, IdResult};
use crate::extract::{Caller, JsonBody, presented, request_meta, run};

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

impl From<&tessera_app::SessionToken> for SessionView {
    fn from(s: &tessera_app::SessionToken) -> Self {
        Self {
            token: s.token.expose().to_owned(),
            expires_at: s.expires_at,
            account_id: s.account_id.0,
            user_id: s.user_id.0,
        }
    }
}

/// Signs in with a password.
#[utoipa::path(tag = "Sessions", request_body = LoginBody,
    responses((status = 200, body = Envelope<SessionView>), (status = 400), (status = 401), (status = 429)))]
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
    Ok(Envelope::ok(SessionView::from(&s)).respond())
}

/// How long a refused sign-in (429, 503) waits before it is answered: the `Retry-After` of a
/// full sign-in queue.
const SHED_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

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
