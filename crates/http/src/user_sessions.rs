//! Another user's sessions, for administrators (User Management write over that user):
//! `/v1/accounts/{account_id}/users/{user_id}/sessions`.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, delete, get, web};
use serde::Serialize;
use tessera_app::App;
use tessera_domain::ids::{AccountId, UserId};
use utoipa::ToSchema;

use crate::envelope::{ApiError, Envelope, IdResult};
use crate::extract::{Caller, QueryParams, request_meta, run, via_cookie};
use crate::session_cookie::forgetting;
use crate::sessions::{SessionInfoView, SessionListParams, session_id};

/// How many sessions ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndedSessionsView {
    /// How many.
    pub ended: u64,
}

/// The user's live sessions, newest first (where and how each was opened and last used; never
/// a token). Needs User Management write over the user (or is the user's own).
#[utoipa::path(tag = "Sessions", params(("account_id" = i64, Path), ("user_id" = i64, Path), SessionListParams),
    responses((status = 200, body = Envelope<Vec<SessionInfoView>>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = []), ("session_cookie" = [])))]
#[get("/accounts/{account_id}/users/{user_id}/sessions")]
pub async fn list_user_sessions(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<(i64, i64)>,
    params: QueryParams<SessionListParams>,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    let params = params.0;
    let (limit, offset) = (params.limit(), params.offset());
    let page = run(&app, move |app| {
        app.list_user_sessions(&caller.0, AccountId(account), UserId(user), limit, offset)
    })
    .await?;
    Ok(params.respond(page))
}

/// Ends every session of the user: each fails from the next request, on every instance.
#[utoipa::path(tag = "Sessions", params(("account_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = Envelope<EndedSessionsView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = []), ("session_cookie" = [])))]
#[delete("/accounts/{account_id}/users/{user_id}/sessions")]
pub async fn delete_user_sessions(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    let meta = request_meta(&req);
    let cookie = via_cookie(&req);
    let ended = run(&app, move |app| {
        app.end_user_sessions(&caller.0, &meta, AccountId(account), UserId(user))
    })
    .await?;
    Ok(forgetting(
        Envelope::ok(EndedSessionsView { ended: ended.count }).respond(),
        cookie && ended.current,
    ))
}

/// Ends one session of the user (another user's session is not found).
#[utoipa::path(tag = "Sessions",
    params(("account_id" = i64, Path), ("user_id" = i64, Path), ("session_id" = String, Path, description = "32 hex digits")),
    responses((status = 200, body = Envelope<IdResult>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = []), ("session_cookie" = [])))]
#[delete("/accounts/{account_id}/users/{user_id}/sessions/{session_id}")]
pub async fn delete_user_session(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, user, raw) = path.into_inner();
    let id = session_id(&raw)?;
    let meta = request_meta(&req);
    let cookie = via_cookie(&req);
    let ended = run(&app, move |app| {
        app.end_user_session(&caller.0, &meta, AccountId(account), UserId(user), id)
    })
    .await?;
    Ok(forgetting(
        Envelope::ok(IdResult::from(id)).respond(),
        cookie && ended.current,
    ))
}
