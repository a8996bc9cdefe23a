//! The audit log: `GET /v1/accounts/{account_id}/audit_logs`.

use std::sync::Arc;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tessera_app::App;
use tessera_domain::audit::AuditEvent;
use tessera_domain::ids::AccountId;
use tessera_domain::ports::AuditFilter;
use utoipa::IntoParams;
use validator::Validate;

use crate::envelope::{ApiError, Envelope, ResultInfo};
use crate::extract::{Caller, QueryParams, run};
use crate::paging::{decode_cursor, encode_cursor, not_a_cursor};

/// One audit event.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEventView {
    /// Monotonic id.
    pub id: i64,
    /// Account.
    pub account_id: Option<i64>,
    /// Who: `{kind, id}` (kind `user`, `service_key`, `access_key`, `system` or `anonymous`).
    #[schema(value_type = Object)]
    pub actor: serde_json::Value,
    /// `user.create`, `auth.failure`, …
    pub action: String,
    /// What was acted on.
    pub target: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Client address.
    pub client_ip: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// Details (never a secret).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        let r = e.record;
        Self {
            id: e.id,
            account_id: r.account_id.map(|a| a.0),
            actor: serde_json::to_value(&r.actor).unwrap_or_default(),
            action: r.action,
            target: r.target,
            outcome: r.outcome.as_str().to_owned(),
            client_ip: r.client_ip,
            request_id: r.request_id,
            at: r.at,
            details: r.details,
        }
    }
}

/// Filters, newest first.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only this actor (user id, key id, or the login of a failed sign-in).
    #[param(max_length = 100)]
    #[validate(length(max = 100, message = "must be at most 100 characters"))]
    pub actor: Option<String>,
    /// Only this action (`user.create`, `auth.failure`, …).
    #[param(max_length = 100)]
    #[validate(length(max = 100, message = "must be at most 100 characters"))]
    pub action: Option<String>,
    /// At or after (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    #[serde(default, deserialize_with = "crate::serde_util::query_time")]
    pub since: Option<DateTime<Utc>>,
    /// Before (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    #[serde(default, deserialize_with = "crate::serde_util::query_time")]
    pub before: Option<DateTime<Utc>>,
    /// Page number, from 1 (how the Cloudflare SDK pages; `cursor` costs less on deep pages).
    #[param(minimum = 1, maximum = 1_000_000)]
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    #[validate(range(min = 1, max = 1_000_000, message = "must be between 1 and 1000000"))]
    pub page: Option<u64>,
    /// Events per page (default 20, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    #[validate(range(min = 1, max = 1000, message = "must be between 1 and 1000"))]
    pub per_page: Option<u32>,
    /// `result_info.cursor` of the previous page (the page after it; `page` then counts
    /// from there).
    #[validate(length(max = 100, message = "is not a cursor"))]
    pub cursor: Option<String>,
}

/// The account's audit events, newest first, paged by keyset cursor.
#[utoipa::path(tag = "Audit", params(("account_id" = i64, Path), AuditParams),
    responses((status = 200, body = Envelope<Vec<AuditEventView>>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/audit_logs")]
pub async fn list_audit_logs(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<i64>,
    params: QueryParams<AuditParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let p = params.0;
    let per_page = p.per_page.unwrap_or(crate::paging::DEFAULT_PER_PAGE);
    let page = p.page.unwrap_or(1);
    let before_id = p
        .cursor
        .as_deref()
        .map(|c| decode_cursor(c)?.parse::<i64>().map_err(|_| not_a_cursor()))
        .transpose()?;
    let filter = AuditFilter {
        actor: p.actor,
        action: p.action,
        since: p.since,
        before: p.before,
        before_id,
        offset: (page - 1) * u64::from(per_page),
        limit: per_page,
    };
    let events: Vec<AuditEvent> = run(&app, move |app| {
        app.list_audit_events(&caller.0, account, &filter)
    })
    .await?;
    let cursor = (events.len() == per_page as usize)
        .then(|| events.last().map(|e| encode_cursor(&e.id.to_string())))
        .flatten();
    let info = ResultInfo {
        page,
        per_page,
        count: events.len(),
        total_count: None,
        cursor,
    };
    let views: Vec<AuditEventView> = events.into_iter().map(AuditEventView::from).collect();
    Ok(Envelope::page(views, info).respond())
}
