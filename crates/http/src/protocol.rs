//! HTTP hygiene in front of every route, before anything reads a body:
//!
//! - a request with both `Content-Length` and `Transfer-Encoding` is answered 400 and its
//!   connection closed (RFC 9112 §6.3: such a message is how requests are smuggled past
//!   proxies that pick the other header);
//! - a body larger than `server.max_body_bytes` is refused: at once when `Content-Length` says
//!   so (413), otherwise when the bytes read pass the limit — whatever reads the body (JSON,
//!   form, multipart: every byte counts, part headers and field names included); a body that
//!   does not arrive within `server.body_timeout_secs` is cut; either way the connection is
//!   closed, so the rest is never read;
//! - `HEAD` is answered wherever `GET` is (same status and headers, no body).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::http::{ConnectionType, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use futures_util::StreamExt;

use crate::envelope::ApiError;
use crate::observe::Metrics;

/// The limits the middleware applies (from `[server]`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Largest body, bytes.
    pub max_bytes: usize,
    /// How long the whole body may take to arrive.
    pub timeout: Duration,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            max_bytes: 262_144,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Per connection: set once a request on it was refused as malformed. actix reads pipelined
/// requests ahead, so a request smuggled behind a malformed one may already be queued when the
/// refusal is sent; every later request on a poisoned connection is refused too.
#[derive(Debug, Clone, Default)]
pub struct ConnectionGuard(Rc<Cell<bool>>);

/// Registers a [`ConnectionGuard`] on each new connection (`HttpServer::on_connect`).
pub fn on_connect(_: &dyn std::any::Any, ext: &mut actix_web::dev::Extensions) {
    ext.insert(ConnectionGuard::default());
}

/// What happened to a body while it was read.
#[derive(Default)]
struct Cut {
    overflow: Cell<bool>,
    timed_out: Cell<bool>,
}

fn closing(status: StatusCode, detail: u32, message: &str) -> HttpResponse {
    let mut res = ApiError::new(status, detail, message).error_response();
    res.head_mut().set_connection_type(ConnectionType::Close);
    res
}

/// Why a body was cut.
#[derive(Debug, Clone, Copy)]
enum CutBy {
    Size,
    Time,
}

impl CutBy {
    fn error(self) -> PayloadError {
        match self {
            Self::Size => PayloadError::Overflow,
            Self::Time => PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            )),
        }
    }
}

/// `payload`, cut once it passes `limits.max_bytes` or `limits.timeout`: from then on every
/// read answers the same error (a reader that tries again never sees a plain end of body).
fn bounded(
    payload: Payload,
    limits: BodyLimits,
    cut: Rc<Cut>,
    metrics: Option<actix_web::web::Data<Metrics>>,
) -> Payload {
    let deadline = actix_web::rt::time::Instant::now() + limits.timeout;
    let stream = futures_util::stream::unfold(
        (payload, 0usize, None::<CutBy>),
        move |(mut inner, read, failed)| {
            let cut = cut.clone();
            let metrics = metrics.clone();
            async move {
                if let Some(by) = failed {
                    return Some((Err(by.error()), (inner, read, failed)));
                }
                let left = deadline.saturating_duration_since(actix_web::rt::time::Instant::now());
                let by = match actix_web::rt::time::timeout(left, inner.next()).await {
                    Err(_) => {
                        cut.timed_out.set(true);
                        CutBy::Time
                    }
                    Ok(None) => return None,
                    Ok(Some(Err(e))) => return Some((Err(e), (inner, read, None))),
                    Ok(Some(Ok(chunk))) => {
                        if let Some(m) = &metrics {
                            m.count_body(chunk.len());
                        }
                        let read = read + chunk.len();
                        if read <= limits.max_bytes {
                            return Some((Ok(chunk), (inner, read, None)));
                        }
                        cut.overflow.set(true);
                        CutBy::Size
                    }
                };
                Some((Err(by.error()), (inner, read, Some(by))))
            }
        },
    );
    // Fused: multipart readers poll again after the end.
    Payload::Stream {
        payload: Box::pin(stream.fuse()),
    }
}

/// The middleware (`actix_web::middleware::from_fn(hygiene)`); the limits come from app data
/// (`web::Data<BodyLimits>`), the defaults otherwise.
///
/// # Errors
/// Whatever the wrapped service returns.
pub async fn hygiene(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static, BoxBody>>, actix_web::Error> {
    let limits = req
        .app_data::<actix_web::web::Data<BodyLimits>>()
        .map_or_else(BodyLimits::default, |l| *l.get_ref());
    let guard = req.conn_data::<ConnectionGuard>().cloned();
    if guard.as_ref().is_some_and(|g| g.0.get()) {
        let res = closing(
            StatusCode::BAD_REQUEST,
            1,
            "this connection is closing after a malformed request",
        );
        return Ok(req.into_response(res).map_into_right_body());
    }
    let headers = req.headers();
    if headers.contains_key(CONTENT_LENGTH) && headers.contains_key(TRANSFER_ENCODING) {
        if let Some(g) = &guard {
            g.0.set(true);
        }
        let res = closing(
            StatusCode::BAD_REQUEST,
            1,
            "a request may not carry both Content-Length and Transfer-Encoding",
        );
        return Ok(req.into_response(res).map_into_right_body());
    }
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_bytes as u64) {
        let res = closing(
            StatusCode::PAYLOAD_TOO_LARGE,
            0,
            "the request body is too large",
        );
        return Ok(req.into_response(res).map_into_right_body());
    }
    let head = req.method() == Method::HEAD;
    if head {
        req.head_mut().method = Method::GET;
    }
    let cut = Rc::new(Cut::default());
    let payload = req.take_payload();
    let metrics = req.app_data::<actix_web::web::Data<Metrics>>().cloned();
    req.set_payload(bounded(payload, limits, cut.clone(), metrics));
    let mut res = next.call(req).await?;
    if cut.overflow.get() || cut.timed_out.get() {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    if head {
        return Ok(res.map_body(|_, _| BoxBody::new(())).map_into_right_body());
    }
    Ok(res.map_into_left_body())
}
