//! Accounts: reading and changing settings, and child (enterprise) accounts.

use serde_json::json;
use tessera_domain::DomainError;
use tessera_domain::Entity;
use tessera_domain::account::{Account, check_account_name};
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::AccountId;
use tessera_domain::keys::check_max_key_lifetime;
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::ports::{AccountChanges, RepoError};
use tessera_domain::user::check_email;

use crate::App;
use crate::bootstrap::{AccountSpec, BootstrapCredentials};
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

const SETTINGS_READ: Permission = Permission::read(Capability::AccountSettings);
const SETTINGS_WRITE: Permission = Permission::write(Capability::AccountSettings);
const ENTERPRISE_READ: Permission = Permission::read(Capability::EnterpriseAccounts);
const ENTERPRISE_WRITE: Permission = Permission::write(Capability::EnterpriseAccounts);

/// A new child account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateChildAccount {
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Its owner's login (default `admin`).
    pub owner_login: Option<String>,
    /// Its owner's email (default: the account's).
    pub owner_email: Option<String>,
    /// The account to create it under (default: the caller's); needs Manage Enterprise
    /// Accounts write there, like any other action in that account.
    pub parent_id: Option<AccountId>,
}

/// Changes to an account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateAccount {
    /// New name.
    pub name: Option<String>,
    /// New email.
    pub email: Option<String>,
    /// Activate or deactivate (a parent account's principal only).
    pub active: Option<bool>,
    /// The longest lifetime of the account's keys, in days (`Some(None)` removes the limit).
    pub max_key_lifetime_days: Option<Option<u32>>,
    /// Whether its password users must sign in with a second factor.
    pub require_mfa: Option<bool>,
}

impl App {
    /// An account's settings.
    ///
    /// # Errors
    /// `NotFound(Entity::Account)`; `Forbidden` without Account Settings read.
    pub fn get_account(&self, principal: &Principal, account: AccountId) -> AppResult<Account> {
        self.authorize(principal, account, SETTINGS_READ, None)?;
        self.ports
            .accounts
            .get_account(account)
            .map_err(AppError::from_repo(Entity::Account))
    }

    /// The caller's own account: its id, name, email, active flag and creation time. A basic
    /// method (Voximplant's `GetAccountInfo`): every principal reads its own account, whatever
    /// its roles — a service key without roles included; nothing of another account.
    ///
    /// # Errors
    /// Storage errors.
    pub fn own_account(&self, principal: &Principal) -> AppResult<Account> {
        self.ports
            .accounts
            .get_account(principal.account_id)
            .map_err(AppError::from_repo(Entity::Account))
    }

    /// The caller's account and, with Manage Enterprise Accounts read, its children.
    ///
    /// # Errors
    /// Storage errors.
    pub fn list_accounts(&self, principal: &Principal) -> AppResult<Vec<Account>> {
        let own = principal.account_id;
        let mut list = vec![
            self.ports
                .accounts
                .get_account(own)
                .map_err(AppError::from_repo(Entity::Account))?,
        ];
        if self.holds(principal, own, ENTERPRISE_READ, None)? {
            list.extend(self.ports.accounts.list_child_accounts(own)?);
        }
        Ok(list)
    }

    /// Changes an account's name, email, longest key lifetime or second-factor requirement
    /// (Account Settings write), or, from its parent, its active flag (Manage Enterprise
    /// Accounts write). Deactivation refuses every credential of the account from the next
    /// request. A key lifetime applies to keys created, or given a new expiry, from then on;
    /// `require_mfa` to password sign-ins from then on (sessions already open stay).
    ///
    /// # Errors
    /// `Invalid`; `NotFound`; `Forbidden`.
    pub fn update_account(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        cmd: UpdateAccount,
    ) -> AppResult<Account> {
        if cmd.name.is_some()
            || cmd.email.is_some()
            || cmd.max_key_lifetime_days.is_some()
            || cmd.require_mfa.is_some()
        {
            self.authorize(principal, account, SETTINGS_WRITE, None)?;
        }
        if cmd.active.is_some() {
            if account == principal.account_id {
                return Err(DomainError::invalid(
                    "active",
                    "an account cannot change its own active flag; its parent can",
                )
                .into());
            }
            self.authorize(principal, account, ENTERPRISE_WRITE, None)?;
        }
        if cmd == UpdateAccount::default() {
            self.authorize(principal, account, SETTINGS_READ, None)?;
        }
        if let Some(n) = &cmd.name {
            check_account_name(n)?;
        }
        if let Some(e) = &cmd.email {
            check_email(e)?;
        }
        if let Some(Some(days)) = cmd.max_key_lifetime_days {
            check_max_key_lifetime(days)?;
        }
        let mut details = json!({ "name": cmd.name, "email": cmd.email, "active": cmd.active });
        if let (Some(days), Some(map)) = (cmd.max_key_lifetime_days, details.as_object_mut()) {
            map.insert("max_key_lifetime_days".into(), json!(days));
        }
        if let (Some(required), Some(map)) = (cmd.require_mfa, details.as_object_mut()) {
            map.insert("require_mfa".into(), json!(required));
        }
        let audit = self.audit_record(principal, meta, account, "account.update", None, details);
        let changes = AccountChanges {
            name: cmd.name,
            email: cmd.email,
            active: cmd.active,
            max_key_lifetime_days: cmd.max_key_lifetime_days,
            require_mfa: cmd.require_mfa,
        };
        self.invalidating(
            self.ports
                .accounts
                .update_account(account, &changes, &audit)
                .map_err(AppError::from_repo(Entity::Account)),
        )
    }

    /// Creates a child account (of the caller's account, or of `parent_id`) with its own owner,
    /// access key and service key; the answer holds their secrets, once.
    ///
    /// # Errors
    /// `Forbidden` without Manage Enterprise Accounts write in the parent (`NotFound` for a
    /// parent the caller cannot see); `Invalid`; `TooManyChildAccounts` (checked in the
    /// inserting transaction); `AccountTooDeep`.
    pub fn create_child_account(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        cmd: CreateChildAccount,
    ) -> AppResult<BootstrapCredentials> {
        let parent = cmd.parent_id.unwrap_or(principal.account_id);
        self.authorize(principal, parent, ENTERPRISE_WRITE, None)?;
        let depth_limit = self.settings.max_account_depth;
        let depth = u32::try_from(self.ancestors_of(parent)?.len()).unwrap_or(u32::MAX);
        if depth >= depth_limit {
            return Err(AppError::AccountTooDeep(depth_limit));
        }
        let now = self.ports.clock.now();
        let owner_login = cmd.owner_login.unwrap_or_else(|| "admin".into());
        let owner_email = cmd.owner_email.unwrap_or_else(|| cmd.email.clone());
        let (account, secrets) = self.new_account(
            &AccountSpec {
                name: &cmd.name,
                email: &cmd.email,
                parent: Some(parent),
                owner_login: &owner_login,
                owner_email: Some(&owner_email),
            },
            now,
        )?;
        let audit = self.audit_record(
            principal,
            meta,
            parent,
            "account.create",
            None,
            json!({ "name": cmd.name, "parent_id": parent }),
        );
        // The record lands in the new account's log; the parent's gets its own line.
        let children = self.settings.max_child_accounts;
        let made = self
            .ports
            .accounts
            .create_account(&account, children, &audit)
            .map_err(|e| match e {
                RepoError::LimitReached => AppError::TooManyChildAccounts(children),
                other => AppError::from_repo(Entity::Account)(other),
            })?;
        let mut parent_record = audit;
        parent_record.account_id = Some(parent);
        parent_record.target = Some(format!("account:{}", made.account.id));
        if let Err(e) = self.ports.audit.append_audit(&parent_record) {
            tracing::warn!(error = %e, "could not record the child account in the parent's log");
        }
        Ok(secrets.into_credentials(made.account, made.owner))
    }
}

#[cfg(test)]
mod tests {
    use tessera_domain::roles::ids;

    use super::*;
    use crate::testing::{ACME, Mocks, principal};

    #[test]
    fn an_account_cannot_flip_its_own_active_flag() {
        let mut m = Mocks::new();
        m.accounts.expect_update_account().times(0);
        let err = m
            .app()
            .update_account(
                &principal(1, &[ids::OWNER]),
                &RequestMeta::default(),
                ACME,
                UpdateAccount {
                    active: Some(false),
                    ..UpdateAccount::default()
                },
            )
            .unwrap_err();
        assert!(matches!(
            err,
            AppError::Invalid(DomainError::Invalid {
                field: "active",
                ..
            })
        ));
    }

    #[test]
    fn child_accounts_need_manage_enterprise_accounts() {
        let mut m = Mocks::new();
        m.accounts.expect_create_account().times(0);
        let err = m
            .app()
            .create_child_account(
                &principal(3, &[ids::ADMIN]),
                &RequestMeta::default(),
                CreateChildAccount {
                    name: "Child".into(),
                    email: "child@example.com".into(),
                    owner_login: None,
                    owner_email: None,
                    parent_id: None,
                },
            )
            .unwrap_err();
        assert!(matches!(err, AppError::Forbidden(_)), "{err:?}");
    }

    #[test]
    fn settings_changes_need_account_settings_write() {
        let mut m = Mocks::new();
        m.accounts.expect_update_account().times(0);
        let err = m
            .app()
            .update_account(
                &principal(4, &[ids::ACCOUNTANT]),
                &RequestMeta::default(),
                ACME,
                UpdateAccount {
                    name: Some("New".into()),
                    ..UpdateAccount::default()
                },
            )
            .unwrap_err();
        assert!(matches!(err, AppError::Forbidden(_)));
    }

    #[test]
    fn requiring_a_second_factor_needs_account_settings_write() {
        let mut m = Mocks::new();
        m.accounts.expect_update_account().times(0);
        let app = m.app();
        for roles in [
            &[ids::ACCOUNTANT][..],
            &[ids::DEVELOPER],
            &[ids::USER_MANAGER],
        ] {
            let err = app
                .update_account(
                    &principal(4, roles),
                    &RequestMeta::default(),
                    ACME,
                    UpdateAccount {
                        require_mfa: Some(true),
                        ..UpdateAccount::default()
                    },
                )
                .unwrap_err();
            assert!(matches!(err, AppError::Forbidden(_)), "{roles:?}: {err:?}");
        }
    }

    #[test]
    fn the_requirement_is_changed_and_audited_by_an_owner() {
        let mut m = Mocks::new();
        m.accounts
            .expect_update_account()
            .withf(|id, c, a| {
                *id == ACME
                    && c.require_mfa == Some(true)
                    && c.name.is_none()
                    && a.action == "account.update"
                    && a.details["require_mfa"] == true
            })
            .times(1)
            .returning(|id, _, _| {
                Ok(Account {
                    require_mfa: true,
                    ..crate::testing::account(id)
                })
            });
        let a = m
            .app()
            .update_account(
                &principal(1, &[ids::OWNER]),
                &RequestMeta::default(),
                ACME,
                UpdateAccount {
                    require_mfa: Some(true),
                    ..UpdateAccount::default()
                },
            )
            .unwrap();
        assert!(a.require_mfa);
    }
}
