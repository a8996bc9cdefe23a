#![doc = include_str!("../README.md")]

mod authz;
mod bootstrap;
mod error;
pub mod infra;
mod principal;
mod subusers;

use std::sync::Arc;

use tessera_domain::ports::{
    AccountRepo, AuditRepo, Clock, Health, IdGenerator, PasswordHasher, UserRepo,
};

pub use bootstrap::{BootstrapCredentials, BootstrapSettings};
pub use error::{AppError, AppResult, AuthFailure};
pub use principal::{Credential, Principal};
pub use subusers::{CreateSubuser, UpdateSubuser};

/// The adapters the use cases run on.
#[derive(Clone)]
pub struct Ports {
    /// Accounts.
    pub accounts: Arc<dyn AccountRepo>,
    /// Users.
    pub users: Arc<dyn UserRepo>,
    /// Audit log.
    pub audit: Arc<dyn AuditRepo>,
    /// Storage readiness.
    pub health: Arc<dyn Health>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub ids: Arc<dyn IdGenerator>,
}

/// Limits and knobs of the use cases (from the `limits` and `auth` config sections).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Most users an account may have (its owner included).
    pub max_users_per_account: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_users_per_account: 1000,
        }
    }
}

/// The use cases. Every method is synchronous and may block on storage or hashing: adapters
/// call them from a blocking pool (`web::block`).
pub struct App {
    ports: Ports,
    settings: Settings,
}

impl App {
    /// The use cases over `ports`.
    #[must_use]
    pub fn new(ports: Ports, settings: Settings) -> Self {
        Self { ports, settings }
    }

    /// Whether the storage answers.
    ///
    /// # Errors
    /// `Unavailable` when it does not.
    pub fn ready(&self) -> AppResult<()> {
        self.ports.health.ping().map_err(Into::into)
    }
}

#[cfg(test)]
mod testing;
