//! Metrics read when `/metrics` is scraped, not kept per request: what the use cases counted
//! (refused authentications by kind, denials by capability, the sign-in gate), the database
//! pool, the password-hashing queue, the build, and the process (from `/proc` on Linux).
//!
//! Every label value is a `&'static str` of a closed set (an enum's label, a capability slug),
//! so no request can add a series.

use std::sync::Arc;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Counter, Gauge, LabelPair, Metric, MetricFamily, MetricType};
use prometheus::{IntGaugeVec, Opts, Registry};
use tessera_app::App;
use tessera_app::infra::HashLoad;

/// A metric family rendered from a snapshot.
#[derive(Debug, Clone, Copy)]
struct Spec {
    name: &'static str,
    help: &'static str,
    kind: MetricType,
    /// The one label, when the family has one.
    label: Option<&'static str>,
}

impl Spec {
    const fn counter(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            kind: MetricType::COUNTER,
            label: None,
        }
    }

    const fn gauge(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            kind: MetricType::GAUGE,
            label: None,
        }
    }

    const fn by(self, label: &'static str) -> Self {
        Self {
            label: Some(label),
            ..self
        }
    }

    fn desc(&self) -> prometheus::Result<Desc> {
        Desc::new(
            self.name.to_owned(),
            self.help.to_owned(),
            self.label.iter().map(|l| (*l).to_owned()).collect(),
            std::collections::HashMap::new(),
        )
    }

    fn sample(&self, label: Option<&'static str>, value: f64) -> Metric {
        let mut m = Metric::default();
        if let (Some(name), Some(value)) = (self.label, label) {
            let mut pair = LabelPair::default();
            pair.set_name(name.to_owned());
            pair.set_value(value.to_owned());
            m.set_label(vec![pair]);
        }
        if self.kind == MetricType::COUNTER {
            let mut c = Counter::default();
            c.set_value(value);
            m.set_counter(c);
        } else {
            let mut g = Gauge::default();
            g.set_value(value);
            m.set_gauge(g);
        }
        m
    }

    /// The family with one sample per label value.
    fn labelled(&self, samples: impl IntoIterator<Item = (&'static str, f64)>) -> MetricFamily {
        self.family(
            samples
                .into_iter()
                .map(|(l, v)| self.sample(Some(l), v))
                .collect(),
        )
    }

    /// The family with its one sample.
    fn single(&self, value: f64) -> MetricFamily {
        self.family(vec![self.sample(None, value)])
    }

    fn family(&self, metrics: Vec<Metric>) -> MetricFamily {
        let mut f = MetricFamily::default();
        f.set_name(self.name.to_owned());
        f.set_help(self.help.to_owned());
        f.set_field_type(self.kind);
        f.set_metric(metrics);
        f
    }
}

/// A collector reading one snapshot per scrape and rendering its families from it.
struct Snapshot<T> {
    descs: Vec<Desc>,
    read: Box<dyn Fn() -> T + Send + Sync>,
    render: fn(&T) -> Vec<MetricFamily>,
}

impl<T> Snapshot<T> {
    fn register(
        registry: &Registry,
        specs: &[Spec],
        read: Box<dyn Fn() -> T + Send + Sync>,
        render: fn(&T) -> Vec<MetricFamily>,
    ) -> prometheus::Result<()>
    where
        T: 'static,
    {
        let descs = specs.iter().map(Spec::desc).collect::<Result<_, _>>()?;
        registry.register(Box::new(Self {
            descs,
            read,
            render,
        }))
    }
}

impl<T> Collector for Snapshot<T> {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        (self.render)(&(self.read)())
    }
}

#[allow(clippy::cast_precision_loss)]
fn f(n: u64) -> f64 {
    n as f64
}

const AUTH_FAILURES: Spec = Spec::counter(
    "tessera_auth_failures_total",
    "Refused authentications, by kind",
)
.by("kind");
const DENIALS: Spec = Spec::counter(
    "tessera_authz_denials_total",
    "Permissions the policy engine refused, by capability",
)
.by("capability");
const GATE_DECISIONS: Spec = Spec::counter(
    "tessera_sign_in_gate_total",
    "Password sign-ins the gate admitted or rejected (full: 503)",
)
.by("decision");
const GATE_IN_PROGRESS: Spec = Spec::gauge(
    "tessera_sign_in_gate_in_progress",
    "Password sign-ins admitted now (hashing or waiting to hash)",
);
const GATE_CAPACITY: Spec = Spec::gauge(
    "tessera_sign_in_gate_capacity",
    "Password sign-ins admitted at once (auth.sign_in_queue)",
);

const EVICTIONS: Spec = Spec::counter(
    "tessera_principal_evictions_total",
    "Evictions from the principal cache, by what caused them (pushed: another instance's change \
     notified by Postgres; read: a change found in the authorization versions; all: everything \
     dropped, what changed being unknown)",
)
.by("source");

/// Registers what the use cases count (`App::counts`, read once per scrape).
///
/// # Errors
/// When a metric of one of these names is registered already.
pub fn register_app(registry: &Registry, app: Arc<App>) -> prometheus::Result<()> {
    Snapshot::register(
        registry,
        &[
            AUTH_FAILURES,
            DENIALS,
            GATE_DECISIONS,
            GATE_IN_PROGRESS,
            GATE_CAPACITY,
            EVICTIONS,
        ],
        Box::new(move || app.counts()),
        |c| {
            vec![
                AUTH_FAILURES.labelled(c.auth_failures.iter().map(|(k, n)| (k.as_str(), f(*n)))),
                DENIALS.labelled(c.denials.iter().map(|(k, n)| (k.slug(), f(*n)))),
                GATE_DECISIONS.labelled([
                    ("admitted", f(c.gate.admitted)),
                    ("rejected", f(c.gate.rejected)),
                ]),
                GATE_IN_PROGRESS.single(f(c.gate.in_progress)),
                GATE_CAPACITY.single(f(c.gate.capacity)),
                EVICTIONS.labelled([
                    ("pushed", f(c.evictions.pushed)),
                    ("read", f(c.evictions.read)),
                    ("all", f(c.evictions.all)),
                ]),
            ]
        },
    )
}

/// The database pool at a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolLoad {
    /// Most connections the pool opens.
    pub max_size: u32,
    /// Connections open.
    pub connections: u32,
    /// Connections idle.
    pub idle: u32,
    /// Checkouts that waited for a connection, since start.
    pub waits: u64,
    /// Checkouts that timed out, since start.
    pub timeouts: u64,
}

const POOL_MAX: Spec = Spec::gauge(
    "tessera_db_pool_max_connections",
    "Most connections the database pool opens",
);
const POOL_OPEN: Spec = Spec::gauge(
    "tessera_db_pool_connections",
    "Database connections open (idle or in use)",
);
const POOL_IN_USE: Spec = Spec::gauge(
    "tessera_db_pool_in_use",
    "Database connections checked out now",
);
const POOL_IDLE: Spec = Spec::gauge("tessera_db_pool_idle", "Database connections idle now");
const POOL_WAITS: Spec = Spec::counter(
    "tessera_db_pool_waits_total",
    "Checkouts that found no idle connection and waited",
);
const POOL_TIMEOUTS: Spec = Spec::counter(
    "tessera_db_pool_timeouts_total",
    "Checkouts that got no connection in time (the request answered 503)",
);

/// Registers the database pool's metrics, read through `read` at each scrape.
///
/// # Errors
/// When a metric of one of these names is registered already.
pub fn register_pool(
    registry: &Registry,
    read: impl Fn() -> PoolLoad + Send + Sync + 'static,
) -> prometheus::Result<()> {
    Snapshot::register(
        registry,
        &[
            POOL_MAX,
            POOL_OPEN,
            POOL_IN_USE,
            POOL_IDLE,
            POOL_WAITS,
            POOL_TIMEOUTS,
        ],
        Box::new(read),
        |p| {
            vec![
                POOL_MAX.single(f64::from(p.max_size)),
                POOL_OPEN.single(f64::from(p.connections)),
                POOL_IN_USE.single(f64::from(p.connections.saturating_sub(p.idle))),
                POOL_IDLE.single(f64::from(p.idle)),
                POOL_WAITS.single(f(p.waits)),
                POOL_TIMEOUTS.single(f(p.timeouts)),
            ]
        },
    )
}

const HASH_QUEUED: Spec = Spec::gauge(
    "tessera_argon2_queue_depth",
    "Password hashes waiting for a hashing thread",
);
const HASH_RUNNING: Spec = Spec::gauge(
    "tessera_argon2_running",
    "Password hashes being computed now",
);
const HASH_THREADS: Spec = Spec::gauge(
    "tessera_argon2_threads",
    "Hashing threads (auth.hash_concurrency)",
);

/// Registers the password-hashing queue's metrics, read through `read` at each scrape.
///
/// # Errors
/// When a metric of one of these names is registered already.
pub fn register_hashing(
    registry: &Registry,
    read: impl Fn() -> HashLoad + Send + Sync + 'static,
) -> prometheus::Result<()> {
    Snapshot::register(
        registry,
        &[HASH_QUEUED, HASH_RUNNING, HASH_THREADS],
        Box::new(read),
        |h| {
            let n = |v: usize| f(u64::try_from(v).unwrap_or(u64::MAX));
            vec![
                HASH_QUEUED.single(n(h.queued)),
                HASH_RUNNING.single(n(h.running)),
                HASH_THREADS.single(n(h.threads)),
            ]
        },
    )
}

/// What `tessera_build_info` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    /// The crate version.
    pub version: &'static str,
    /// The commit built, or `unknown` outside a git checkout.
    pub git_commit: &'static str,
    /// `postgres` or `sqlite`.
    pub backend: &'static str,
}

/// Registers `tessera_build_info{version, git_commit, backend} 1`.
///
/// # Errors
/// When a metric of that name is registered already.
pub fn register_build_info(registry: &Registry, info: &BuildInfo) -> prometheus::Result<()> {
    let gauge = IntGaugeVec::new(
        Opts::new(
            "tessera_build_info",
            "The running build: version, git commit, database backend (always 1)",
        ),
        &["version", "git_commit", "backend"],
    )?;
    gauge
        .with_label_values(&[info.version, info.git_commit, info.backend])
        .set(1);
    registry.register(Box::new(gauge))
}

/// Registers the process metrics (`process_resident_memory_bytes`, `process_cpu_seconds_total`,
/// `process_open_fds`, `process_start_time_seconds`, …), read from `/proc/self` at each scrape
/// (Linux; elsewhere nothing is registered).
///
/// # Errors
/// When a metric of one of these names is registered already.
pub fn register_process(registry: &Registry) -> prometheus::Result<()> {
    #[cfg(target_os = "linux")]
    registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))?;
    #[cfg(not(target_os = "linux"))]
    let _ = registry;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(registry: &Registry) -> String {
        let mut out = Vec::new();
        prometheus::Encoder::encode(
            &prometheus::TextEncoder::new(),
            &registry.gather(),
            &mut out,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_pool_is_read_at_each_scrape() {
        let registry = Registry::new();
        let load = Arc::new(Shared::default());
        let l = load.clone();
        register_pool(&registry, move || l.get()).unwrap();
        load.set(PoolLoad {
            max_size: 8,
            connections: 3,
            idle: 1,
            waits: 5,
            timeouts: 2,
        });
        let text = render(&registry);
        for line in [
            "tessera_db_pool_max_connections 8",
            "tessera_db_pool_connections 3",
            "tessera_db_pool_in_use 2",
            "tessera_db_pool_idle 1",
            "tessera_db_pool_waits_total 5",
            "tessera_db_pool_timeouts_total 2",
            "# TYPE tessera_db_pool_waits_total counter",
            "# TYPE tessera_db_pool_idle gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
        load.set(PoolLoad {
            waits: 6,
            ..load.get()
        });
        assert!(render(&registry).contains("tessera_db_pool_waits_total 6"));
    }

    #[test]
    fn build_info_is_one_series_set_to_one() {
        let registry = Registry::new();
        register_build_info(
            &registry,
            &BuildInfo {
                version: "1.2.3",
                git_commit: "abc123",
                backend: "sqlite",
            },
        )
        .unwrap();
        assert!(render(&registry).contains(
            r#"tessera_build_info{backend="sqlite",git_commit="abc123",version="1.2.3"} 1"#
        ));
    }

    /// The pool's state as the reading closure sees it (the tests' stand-in for a pool).
    #[derive(Default)]
    struct Shared(std::sync::Mutex<PoolLoad>);

    impl Shared {
        fn get(&self) -> PoolLoad {
            *self.0.lock().unwrap()
        }
        fn set(&self, v: PoolLoad) {
            *self.0.lock().unwrap() = v;
        }
    }
}
