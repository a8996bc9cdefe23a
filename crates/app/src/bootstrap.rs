//! First start: the first account, its owner and the owner's generated password.

use serde_json::json;
use tessera_domain::Secret;
use tessera_domain::account::{Account, check_account_name};
use tessera_domain::audit::{Actor, AuditRecord, Outcome};
use tessera_domain::ports::{BootstrapRecord, NewAccount};
use tessera_domain::user::{Login, User, check_email};

use crate::App;
use crate::error::AppResult;

/// What the first account looks like (config section `bootstrap`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapSettings {
    /// The account's name.
    pub account_name: String,
    /// The account's email.
    pub account_email: String,
    /// The owner's login.
    pub owner_login: String,
    /// The owner's email.
    pub owner_email: Option<String>,
}

/// What bootstrap made, secrets included: shown once (written to a 0600 file), never logged.
#[derive(Debug, Clone)]
pub struct BootstrapCredentials {
    /// The account.
    pub account: Account,
    /// Its owner.
    pub owner: User,
    /// The owner's generated password.
    pub owner_password: Secret,
}

impl App {
    /// Creates the first account and its owner (roles `Owner` + `Administrator`) with a
    /// generated password, if the database holds no account yet.
    ///
    /// # Errors
    /// `Invalid` when the settings break a rule; storage errors.
    pub fn bootstrap(
        &self,
        settings: &BootstrapSettings,
    ) -> AppResult<Option<BootstrapCredentials>> {
        check_account_name(&settings.account_name)?;
        check_email(&settings.account_email)?;
        let owner_login = Login::parse(&settings.owner_login)?;
        if let Some(email) = &settings.owner_email {
            check_email(email)?;
        }
        if self.ports.accounts.has_accounts()? {
            return Ok(None);
        }
        let password = self.ports.ids.password();
        let hash = self.ports.hasher.hash(&password)?;
        let now = self.ports.clock.now();
        let record = BootstrapRecord {
            account: NewAccount {
                name: settings.account_name.clone(),
                email: settings.account_email.clone(),
                parent_id: None,
                owner_login: owner_login.clone(),
                owner_email: settings.owner_email.clone(),
                owner_password_hash: hash,
                created_at: now,
            },
            audit: AuditRecord {
                account_id: None,
                actor: Actor::system(),
                action: "account.bootstrap".into(),
                target: None,
                outcome: Outcome::Success,
                client_ip: None,
                request_id: None,
                at: now,
                details: json!({ "owner_login": owner_login.as_str() }),
            },
        };
        Ok(self
            .ports
            .accounts
            .bootstrap(&record)?
            .map(|made| BootstrapCredentials {
                account: made.account,
                owner: made.owner,
                owner_password: password,
            }))
    }
}

#[cfg(test)]
mod tests;
