//! Per-request observability, wrapped around every route: a request id (taken from a sane
//! `x-request-id` header or generated), a tracing span carrying it (and, for a method-API call,
//! the method and its result code, which the `rpc` adapter records into the span's empty
//! `rpc_method` and `rpc_code` fields), one access-log line (latency in milliseconds, three decimals at most), the
//! Prometheus request counter and latency histogram (per method, route pattern and status), and
//! the request's `RequestMeta` (client address, request id) for the audit trail.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};
use tessera_domain::audit::RequestMeta;
use tracing::Instrument;

use crate::client_address::ClientAddress;

/// The request-id header, read and echoed.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A latency as the access log writes it: milliseconds, at most three decimals (whole
/// microseconds).
#[must_use]
pub fn latency_ms(elapsed: std::time::Duration) -> f64 {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    #[allow(clippy::cast_precision_loss)]
    let micros = micros as f64;
    micros / 1000.0
}

/// The Prometheus registry and the HTTP metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    body_bytes: IntCounter,
}

impl Metrics {
    /// Registers the metrics.
    ///
    /// # Panics
    /// Never in practice: the names are constant and registered once.
    #[must_use]
    pub fn new() -> Self {
        let registry = Registry::new();
        let labels = ["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new("tessera_http_requests_total", "HTTP requests served"),
            &labels,
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "tessera_http_request_duration_seconds",
                "HTTP request latency, seconds",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &labels,
        )
        .expect("valid metric");
        registry
            .register(Box::new(requests.clone()))
            .expect("register");
        registry
            .register(Box::new(latency.clone()))
            .expect("register");
        let body_bytes = IntCounter::new(
            "tessera_http_request_body_bytes_total",
            "Request body bytes read (what a client sent beyond the limit is never read)",
        )
        .expect("valid metric");
        registry
            .register(Box::new(body_bytes.clone()))
            .expect("register");
        Self {
            registry,
            requests,
            latency,
            body_bytes,
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// Counts request body bytes read.
    pub fn count_body(&self, bytes: usize) {
        self.body_bytes
            .inc_by(u64::try_from(bytes).unwrap_or(u64::MAX));
    }

    /// The registry, for other adapters' metrics.
    #[must_use]
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The registry in Prometheus' text format.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let encoder = TextEncoder::new();
        if encoder.encode(&self.registry.gather(), &mut out).is_err() {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

fn client_ip(req: &ServiceRequest) -> Option<String> {
    let peer = req.peer_addr().map(|a| a.ip());
    match req.app_data::<web::Data<ClientAddress>>() {
        Some(rule) => rule.resolve(peer, req.headers()),
        None => peer,
    }
    .map(|ip| ip.to_string())
}

/// The method as a metric label: a standard method, or `OTHER` (a client must not be able to
/// invent label values: each one is a new series, kept forever).
fn method_label(method: &Method) -> &'static str {
    [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ]
    .iter()
    .find(|m| *m == method)
    .map_or("OTHER", Method::as_str)
}

/// The middleware (`actix_web::middleware::from_fn(observe)`).
///
/// # Errors
/// Whatever the wrapped service returns.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let meta = RequestMeta {
        client_ip: client_ip(&req),
        request_id: Some(id.clone()),
    };
    req.extensions_mut().insert(meta);
    let method = method_label(req.method());
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    // The path only: query strings can carry credentials (legacy api_key).
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path(),
        rpc_method = tracing::field::Empty,
        rpc_code = tracing::field::Empty,
    );
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = match &result {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    if let Some(m) = metrics {
        m.observe(method, &route, status, elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = latency_ms(elapsed),
            route = %route,
            "served"
        );
    });
    result.map(|mut res| {
        if let Ok(v) = HeaderValue::from_str(&id) {
            res.headers_mut().insert(REQUEST_ID, v);
        }
        res
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn latency_is_logged_in_milliseconds_with_three_decimals_at_most() {
        for (elapsed, logged) in [
            (Duration::from_nanos(1_234_567), "1.234"),
            (Duration::from_nanos(999), "0"),
            (Duration::from_micros(1), "0.001"),
            (Duration::from_micros(250_000), "250"),
            (Duration::from_nanos(12_345_678_901), "12345.678"),
        ] {
            assert_eq!(latency_ms(elapsed).to_string(), logged, "{elapsed:?}");
        }
    }
}
