//! Operational endpoints: liveness, readiness (the database answers) and Prometheus metrics.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use serde::Serialize;
use tessera_app::App;
use utoipa::ToSchema;

use crate::envelope::{ApiError, Envelope};
use crate::observe::Metrics;

/// Liveness and readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "Operations",
    responses((status = 200, description = "Alive", body = Envelope<Status>)))]
pub async fn healthz() -> HttpResponse {
    Envelope::ok(Status { status: "ok" }).respond()
}

/// Readiness: the database answers a query.
#[utoipa::path(get, path = "/readyz", tag = "Operations",
    responses(
        (status = 200, description = "Ready", body = Envelope<Status>),
        (status = 503, description = "The database cannot be reached")))]
pub async fn readyz(app: web::Data<Arc<App>>) -> Result<HttpResponse, ApiError> {
    let app = app.get_ref().clone();
    web::block(move || app.ready())
        .await
        .map_err(|_| ApiError::from(tessera_app::AppError::Internal("blocking pool".into())))?
        .map_err(ApiError::from)?;
    Ok(Envelope::ok(Status { status: "ready" }).respond())
}

/// Prometheus metrics (text format): requests and latency per method, route and status.
#[utoipa::path(get, path = "/metrics", tag = "Operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}
