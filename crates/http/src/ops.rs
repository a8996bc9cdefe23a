//! Operational endpoints: liveness, readiness (the database answers) and Prometheus metrics.

use std::sync::Arc;

use actix_web::{HttpResponse, get, web};
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
#[utoipa::path(tag = "Operations",
    responses((status = 200, description = "Alive", body = Envelope<Status>)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    Envelope::ok(Status { status: "ok" }).respond()
}

/// Readiness: the database answers a query.
#[utoipa::path(tag = "Operations",
    responses(
        (status = 200, description = "Ready", body = Envelope<Status>),
        (status = 503, description = "The database cannot be reached")))]
#[get("/readyz")]
pub async fn readyz(app: web::Data<Arc<App>>) -> Result<HttpResponse, ApiError> {
    let app = app.get_ref().clone();
    web::block(move || app.ready())
        .await
        .map_err(|_| ApiError::from(tessera_app::AppError::Internal("blocking pool".into())))?
        .map_err(ApiError::from)?;
    Ok(Envelope::ok(Status { status: "ready" }).respond())
}

/// Prometheus metrics (text format): requests and latency per method, route and status.
#[utoipa::path(tag = "Operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}
