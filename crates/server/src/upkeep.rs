//! The background threads that keep an instance current: the periodic upkeep (authorization
//! versions, key usage, expired sessions), the Postgres change listener (push invalidation),
//! and the SSO domain verifier.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tessera_app::App;
use tessera_store::Database;
use tessera_store::listen::{ChangeListener, Heard};

/// Runs the periodic upkeep every `every` (`database.poll_interval_ms`, 250 ms) until `stop` is
/// set. On Postgres it is the safety net
/// behind the change listener; on SQLite it is how instances learn of each other's changes.
pub(crate) fn spawn_maintenance(app: Arc<App>, stop: Arc<AtomicBool>, every: Duration) {
    std::thread::Builder::new()
        .name("tessera-maintenance".into())
        .spawn(move || {
            let mut failing = false;
            while !stop.load(Ordering::Relaxed) {
                match app.maintain() {
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!("storage reachable again");
                    }
                    Ok(()) => {}
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(error = %e, "maintenance failed; cached principals are not trusted until it succeeds");
                    }
                    Err(_) => {}
                }
                std::thread::sleep(every);
            }
        })
        .expect("spawn the maintenance thread");
}

/// On Postgres, listens for other instances' changes on a connection of its own and evicts
/// the cached principals of the accounts they name as soon as they commit. When the connection
/// is lost (or made), what changed meanwhile is unknown: every cached principal goes. Nothing
/// on SQLite (no notifications; the upkeep polls).
pub(crate) fn spawn_change_listener(app: Arc<App>, db: &Database, stop: Arc<AtomicBool>) {
    let Some(mut listener) = ChangeListener::new(db) else {
        return;
    };
    std::thread::Builder::new()
        .name("tessera-change-listener".into())
        .spawn(move || {
            let mut failing = false;
            while !stop.load(Ordering::Relaxed) {
                match listener.wait(Duration::from_millis(500)) {
                    Ok(Heard::Changed(accounts)) => app.authz_changed(&accounts),
                    Ok(Heard::Connected) => {
                        app.authz_unknown();
                        let _ignored = app.sync_authz();
                        if failing {
                            failing = false;
                            tracing::info!("change listener connected again");
                        }
                    }
                    // Half a second without news: read the versions anyway (a query on an index
                    // that usually answers nothing), so that the cache is trusted only while the
                    // database answers the pool too, whatever the poll interval.
                    Ok(Heard::Quiet) => {
                        let _ignored = app.sync_authz();
                    }
                    Err(e) => {
                        app.authz_unknown();
                        if !failing {
                            failing = true;
                            tracing::warn!(error = %e, "change listener lost its connection; reconnecting");
                        }
                        std::thread::sleep(Duration::from_millis(250));
                    }
                }
            }
        })
        .expect("spawn the change listener thread");
}

/// Runs the SSO verifier every `interval` until `stop` is set.
pub(crate) fn spawn_verifier(app: Arc<App>, stop: Arc<AtomicBool>, interval: Duration) {
    std::thread::Builder::new()
        .name("tessera-sso-verifier".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match app.verify_pending_sso() {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(connectors = n, "SSO verification statuses changed"),
                    Err(e) => tracing::debug!(error = %e, "SSO verifier pass failed"),
                }
                let mut slept = Duration::ZERO;
                while slept < interval && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    slept += Duration::from_millis(100);
                }
            }
        })
        .expect("spawn the SSO verifier thread");
}
