//! A user's sign-in lockout: `/v1/accounts/{account_id}/users/{user_id}/lockout`.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, delete, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tessera_app::{App, Lockout};
use tessera_domain::ids::{AccountId, UserId};
use utoipa::ToSchema;

use crate::envelope::{ApiError, Envelope};
use crate::extract::{Caller, request_meta, run};

/// A login's failed sign-ins in the current window.
#[derive(Debug, Serialize, ToSchema)]
pub struct LockoutView {
    /// Attempts counted (failures, and sign-ins in flight).
    pub failures: u32,
    /// Whether sign-in is refused (429) until `until`.
    pub locked: bool,
    /// When the window, and the lock, end.
    pub until: Option<DateTime<Utc>>,
}

impl From<Lockout> for LockoutView {
    fn from(l: Lockout) -> Self {
        Self {
            failures: l.failures,
            locked: l.locked,
            until: l.until,
        }
    }
}

/// The user's failed sign-ins and whether its login is locked (User Management read).
#[utoipa::path(tag = "Users", params(("account_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = Envelope<LockoutView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/users/{user_id}/lockout")]
pub async fn get_lockout(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    let lockout = run(&app, move |app| {
        app.lockout(&caller.0, AccountId(account), UserId(user))
    })
    .await?;
    Ok(Envelope::ok(LockoutView::from(lockout)).respond())
}

/// Clears the user's failed sign-ins and lifts its lock (User Management write and the right
/// to manage the user); audited as `user.lockout.clear`.
#[utoipa::path(tag = "Users", params(("account_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = Envelope<LockoutView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/accounts/{account_id}/users/{user_id}/lockout")]
pub async fn clear_lockout(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    let meta = request_meta(&req);
    let lockout = run(&app, move |app| {
        app.clear_lockout(&caller.0, &meta, AccountId(account), UserId(user))
    })
    .await?;
    Ok(Envelope::ok(LockoutView::from(lockout)).respond())
}
