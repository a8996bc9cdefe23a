//! New accounts with their first credentials: the first account at bootstrap, and child accounts
//! (see `accounts.rs`). Each comes with its owner's generated password, an access key for the
//! owner and a service key of the account (role `Owner`), created in one transaction.

use chrono::{DateTime, Utc};
use serde_json::json;
use tessera_domain::account::{Account, check_account_name};
use tessera_domain::audit::{Actor, AuditRecord, Outcome};
use tessera_domain::ids::{AccessKeyId, AccountId, ServiceKeyId};
use tessera_domain::keys::access_token;
use tessera_domain::ports::{BootstrapRecord, InitialAccessKey, InitialServiceKey, NewAccount};
use tessera_domain::roles::ids as role_ids;
use tessera_domain::user::{Login, User, check_email};
use tessera_domain::{DomainError, Secret};

use crate::App;
use crate::auth::secret_digest;
use crate::error::{AppError, AppResult};

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

/// An access key's secret parts, shown once.
#[derive(Debug, Clone)]
pub struct AccessKeySecret {
    /// Id.
    pub id: AccessKeyId,
    /// Secret.
    pub secret: Secret,
    /// `tsr_<id>_<secret>`.
    pub token: Secret,
}

/// A service key's credentials file, shown once.
#[derive(Debug, Clone)]
pub struct ServiceKeySecret {
    /// Id.
    pub key_id: ServiceKeyId,
    /// PKCS#8 PEM.
    pub private_key: Secret,
}

/// A new account's credentials, secrets included: shown once (written to a 0600 file, or in
/// the one response that creates the account), never logged.
#[derive(Debug, Clone)]
pub struct BootstrapCredentials {
    /// The account.
    pub account: Account,
    /// Its owner.
    pub owner: User,
    /// The owner's generated password.
    pub owner_password: Secret,
    /// The owner's access key.
    pub access_key: AccessKeySecret,
    /// The account's service key (role `Owner`).
    pub service_key: ServiceKeySecret,
}

/// The secrets of an account about to be made.
pub(crate) struct Secrets {
    password: Secret,
    access_key: AccessKeySecret,
    service_key: ServiceKeySecret,
}

impl Secrets {
    pub(crate) fn into_credentials(self, account: Account, owner: User) -> BootstrapCredentials {
        BootstrapCredentials {
            account,
            owner,
            owner_password: self.password,
            access_key: self.access_key,
            service_key: self.service_key,
        }
    }
}

/// The settings of a new account.
pub(crate) struct AccountSpec<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub parent: Option<AccountId>,
    pub owner_login: &'a str,
    pub owner_email: Option<&'a str>,
}

impl App {
    /// Checks `spec`, generates the owner's password and the first keys, and builds the
    /// account to store.
    pub(crate) fn new_account(
        &self,
        spec: &AccountSpec<'_>,
        now: DateTime<Utc>,
    ) -> AppResult<(NewAccount, Secrets)> {
        check_account_name(spec.name)?;
        check_email(spec.email)?;
        let owner_login = Login::parse(spec.owner_login)?;
        if let Some(email) = spec.owner_email {
            check_email(email)?;
        }
        let password = self.ports.ids.password();
        let hash = self.ports.hasher.hash(&password)?;
        let key_id: AccessKeyId = self
            .ports
            .ids
            .access_key_id()
            .parse()
            .map_err(|e: DomainError| AppError::Internal(e.to_string()))?;
        let key_secret = self.ports.ids.secret();
        let pair = self
            .ports
            .key_pairs
            .rsa_2048()
            .map_err(AppError::Internal)?;
        let service_key_id = ServiceKeyId(self.ports.ids.uuid());
        let account = NewAccount {
            name: spec.name.to_owned(),
            email: spec.email.to_owned(),
            parent_id: spec.parent,
            owner_login,
            owner_email: spec.owner_email.map(str::to_owned),
            owner_password_hash: hash,
            created_at: now,
            owner_access_key: Some(InitialAccessKey {
                id: key_id.clone(),
                secret_digest: secret_digest(&key_secret),
            }),
            service_key: Some(InitialServiceKey {
                id: service_key_id,
                name: "initial".into(),
                public_key_pem: pair.public_pem,
                roles: vec![role_ids::OWNER],
            }),
        };
        let secrets = Secrets {
            password,
            access_key: AccessKeySecret {
                token: access_token(&key_id, &key_secret),
                id: key_id,
                secret: key_secret,
            },
            service_key: ServiceKeySecret {
                key_id: service_key_id,
                private_key: pair.private_pem,
            },
        };
        Ok((account, secrets))
    }

    /// Creates the first account — its owner (roles `Owner` + `Administrator`) with a generated
    /// password, an access key for the owner and a service key of the account — if the
    /// database holds no account yet.
    ///
    /// # Errors
    /// `Invalid` when the settings break a rule; storage errors.
    pub fn bootstrap(
        &self,
        settings: &BootstrapSettings,
    ) -> AppResult<Option<BootstrapCredentials>> {
        check_account_name(&settings.account_name)?;
        check_email(&settings.account_email)?;
        Login::parse(&settings.owner_login)?;
        if let Some(email) = &settings.owner_email {
            check_email(email)?;
        }
        if self.ports.accounts.has_accounts()? {
            return Ok(None);
        }
        let now = self.ports.clock.now();
        let (account, secrets) = self.new_account(
            &AccountSpec {
                name: &settings.account_name,
                email: &settings.account_email,
                parent: None,
                owner_login: &settings.owner_login,
                owner_email: settings.owner_email.as_deref(),
            },
            now,
        )?;
        let record = BootstrapRecord {
            audit: AuditRecord {
                account_id: None,
                actor: Actor::system(),
                action: "account.bootstrap".into(),
                target: None,
                outcome: Outcome::Success,
                client_ip: None,
                request_id: None,
                at: now,
                details: json!({ "owner_login": account.owner_login.as_str() }),
            },
            account,
        };
        Ok(self
            .ports
            .accounts
            .bootstrap(&record)?
            .map(|made| secrets.into_credentials(made.account, made.owner)))
    }
}

#[cfg(test)]
mod tests;
