//! The method API's own metric, calls per method and result code, and the same two values on
//! the request's access-log line. Both come from closed sets — a method of the RoleSystem or
//! `unknown`, `ok` or one of the API's error codes (the constants of `error::codes`) — so a
//! client cannot add series by inventing names.

use prometheus::{IntCounterVec, Opts, Registry};

use crate::error::RpcError;
use crate::methods::Method;

/// `tessera_rpc_calls_total{method, code}`.
#[derive(Clone)]
pub struct RpcMetrics {
    calls: IntCounterVec,
}

impl RpcMetrics {
    /// Registers the metric in `registry`.
    ///
    /// # Errors
    /// When a metric of that name is registered already.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let calls = IntCounterVec::new(
            Opts::new(
                "tessera_rpc_calls_total",
                "Method API calls, by method and result code (ok or the Voximplant error code)",
            ),
            &["method", "code"],
        )?;
        registry.register(Box::new(calls.clone()))?;
        Ok(Self { calls })
    }

    /// Counts one call, and names its method and code on the request's access-log line (the
    /// request span's `rpc_method` and `rpc_code` fields).
    pub fn observe(&self, method: Option<Method>, result: Result<(), &RpcError>) {
        let number;
        let code = match result {
            Ok(()) => "ok",
            Err(e) => {
                number = e.code.to_string();
                number.as_str()
            }
        };
        let method = method.map_or("unknown", Method::name);
        let span = tracing::Span::current();
        span.record("rpc_method", tracing::field::display(method));
        span.record("rpc_code", tracing::field::display(code));
        self.calls.with_label_values(&[method, code]).inc();
    }
}
