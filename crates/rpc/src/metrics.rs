//! The method API's own metric: calls per method and outcome. Both labels come from closed
//! sets — a method of the RoleSystem or `unknown`, `ok` or one of the API's error codes — so a
//! client cannot add series by inventing names.

use prometheus::{IntCounterVec, Opts, Registry};

use crate::error::RpcError;
use crate::methods::Method;

/// `tessera_rpc_calls_total{method, outcome}`.
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
                "Method API calls, by method and outcome (ok or the error code)",
            ),
            &["method", "outcome"],
        )?;
        registry.register(Box::new(calls.clone()))?;
        Ok(Self { calls })
    }

    /// Counts one call.
    pub fn observe(&self, method: Option<Method>, result: Result<(), &RpcError>) {
        let code;
        let outcome = match result {
            Ok(()) => "ok",
            Err(e) => {
                code = e.code.to_string();
                code.as_str()
            }
        };
        let method = method.map_or("unknown", Method::name);
        self.calls.with_label_values(&[method, outcome]).inc();
    }
}
