//! Stopping on signals. `SIGTERM` stops gracefully: the listener closes at once and the requests
//! in flight finish (up to `server.shutdown_timeout_secs`); from then on every response also
//! closes its connection, so that a client holding a kept-alive connection (a load balancer's
//! pool) goes to another instance instead of keeping this one busy until the timeout cuts it
//! off. `SIGINT` and `SIGQUIT` stop at once, as actix-web does by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::rt::signal::unix::{SignalKind, signal};
use actix_web::web;
use futures_util::future::{FutureExt, select_all};

/// Set once a graceful shutdown has begun.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// Whether a graceful shutdown has begun.
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Marks the shutdown as begun: later responses close their connections.
    pub fn begin(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The middleware (`from_fn(close_when_draining)`, with `web::Data<Draining>`): once draining,
/// a response (including one to a request that arrived before) carries `Connection: close` and
/// ends its connection.
///
/// # Errors
/// The inner service's.
pub async fn close_when_draining(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let draining = req.app_data::<web::Data<Draining>>().cloned();
    let mut res = next.call(req).await?;
    if draining.is_some_and(|d| d.is_draining()) {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}

/// Stops `server` on the first of `SIGTERM` (gracefully, `draining` set first), `SIGINT` or
/// `SIGQUIT` (at once). Call from within the server's runtime, before it starts.
///
/// # Errors
/// When the signal handlers cannot be installed.
pub fn stop_on_signals(server: ServerHandle, draining: Draining) -> std::io::Result<()> {
    let kinds = [
        (SignalKind::terminate(), "SIGTERM", true),
        (SignalKind::interrupt(), "SIGINT", false),
        (SignalKind::quit(), "SIGQUIT", false),
    ];
    let mut waits = Vec::new();
    for (kind, name, graceful) in kinds {
        let mut stream = signal(kind)?;
        waits.push(
            async move {
                stream.recv().await;
                (name, graceful)
            }
            .boxed_local(),
        );
    }
    actix_web::rt::spawn(async move {
        let ((name, graceful), _, _) = select_all(waits).await;
        if graceful {
            draining.begin();
            tracing::info!(
                "{name} received; starting graceful shutdown: no new connections, responses close theirs"
            );
        } else {
            tracing::info!("{name} received; stopping at once");
        }
        server.stop(graceful).await;
    });
    Ok(())
}
