#![doc = include_str!("../README.md")]

pub mod envelope;
pub mod observe;
pub mod ops;

use actix_web::web;

/// Registers the REST routes and the operational endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics));
}
