//! SSO connectors: domains whose users sign in through SSO once the domain is verified by a
//! DNS TXT record and the connector is enabled; `signin` is the sign-in through the connector's
//! identity provider.

#[cfg(test)]
mod idp_tests;
#[cfg(test)]
mod jit_tests;
mod signin;
#[cfg(test)]
mod signin_tests;

pub use signin::{BeginSso, CompleteSso, SsoRedirect, SsoSession, SsoTarget, binding_cookie_name};

use chrono::TimeDelta;
use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::audit::{Actor, AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::{AccountId, SsoConnectorId};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{ResourceKey, ResourceType};
use tessera_domain::ports::RepoError;
use tessera_domain::ports::SsoChanges;
use tessera_domain::sso::{IdpConfig, IdpInput, check_client_secret};
use tessera_domain::sso::{SsoConnector, VerificationStatus, domain_of, parse_email_domain};
use tessera_domain::user::User;
use tessera_domain::{DomainError, Field, Secret};

use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

const READ: Permission = Permission::read(Capability::AccountSettings);
const WRITE: Permission = Permission::write(Capability::AccountSettings);

/// Changes to a connector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateSso {
    /// Enable (only once verified) or disable.
    pub enabled: Option<bool>,
    /// FedRAMP language.
    pub use_fedramp_language: Option<bool>,
    /// A new identity provider; `Some(None)` removes it.
    pub idp: Option<Option<IdpUpdate>>,
}

/// A new connector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateSso {
    /// The email domain.
    pub email_domain: String,
    /// Start verification at once (status `pending`, else `awaiting`).
    pub begin_verification: bool,
    /// FedRAMP language at sign-in.
    pub use_fedramp_language: bool,
    /// The identity provider.
    pub idp: Option<IdpUpdate>,
}

/// A connector's identity provider as an administrator sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpUpdate {
    /// The provider.
    pub input: IdpInput,
    /// The client secret; `None` keeps the current one (required the first time).
    pub client_secret: Option<Secret>,
}

fn sso_key(id: SsoConnectorId) -> ResourceKey {
    ResourceKey::new(ResourceType::SsoConnector, id)
}

impl App {
    /// Checks an identity provider and seals its secret for connector `id`; `current` is the
    /// connector's present provider (whose secret is kept when none is given). A role given
    /// to users created at sign-in must be one the principal may grant.
    fn checked_idp(
        &self,
        principal: &Principal,
        account: AccountId,
        id: SsoConnectorId,
        update: IdpUpdate,
        current: Option<&IdpConfig>,
    ) -> AppResult<IdpConfig> {
        // Whoever chooses the IdP chooses who signs in as every user of the domain, Owners
        // included: only a caller with an Owner's power (every permission, and the right to
        // manage Owners) may set or change it.
        self.authorize_holds(
            principal,
            account,
            tessera_domain::permissions::Capability::ALL
                .iter()
                .map(|c| Permission::write(*c)),
        )?;
        self.authorize_manage(principal, account, &[tessera_domain::roles::ids::OWNER])?;
        let settings = update.input.parse(self.settings.sso_allow_http_issuers)?;
        let same_client = current.is_some_and(|c| {
            c.settings.issuer == settings.issuer && c.settings.client_id == settings.client_id
        });
        if let Some(role) = settings.jit_role {
            let roles = crate::subusers::checked_roles(&[role])?;
            self.authorize_role_grants(principal, account, &roles)?;
        }
        let sealed_client_secret = match (update.client_secret, current) {
            (Some(secret), _) => {
                check_client_secret(secret.expose())?;
                self.ports.sealer.seal(
                    &SsoConnector::secret_purpose(id),
                    secret.expose().as_bytes(),
                )
            }
            // The stored secret stays only with the client it belongs to: it never follows a
            // new issuer (whose token endpoint would receive it) or a new client id.
            (None, Some(current)) if same_client => current.sealed_client_secret.clone(),
            (None, _) => {
                return Err(DomainError::invalid(
                    "idp.client_secret",
                    "is required when the identity provider, its issuer or its client id is set",
                )
                .into());
            }
        };
        Ok(IdpConfig {
            settings,
            sealed_client_secret,
        })
    }

    fn load_sso(&self, account: AccountId, id: SsoConnectorId) -> AppResult<SsoConnector> {
        self.ports
            .sso
            .get_sso(account, id)
            .map_err(AppError::from_repo(Entity::SsoConnector))
    }

    /// Creates a connector for `email_domain` (status `awaiting`, or `pending` with
    /// `begin_verification`).
    ///
    /// # Errors
    /// `Invalid` for a bad domain; `Conflict(Field::EmailDomain)`; `Forbidden`.
    pub fn create_sso(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        cmd: CreateSso,
    ) -> AppResult<SsoConnector> {
        let CreateSso {
            email_domain,
            begin_verification,
            use_fedramp_language,
            idp,
        } = cmd;
        self.authorize(principal, account, WRITE, None)?;
        let domain = parse_email_domain(&email_domain)?;
        let id = SsoConnectorId(self.ports.ids.hex32());
        let idp = idp
            .map(|u| self.checked_idp(principal, account, id, u, None))
            .transpose()?;
        let now = self.ports.clock.now();
        let connector = SsoConnector {
            id,
            account_id: account,
            email_domain: domain,
            enabled: false,
            use_fedramp_language,
            verification_code: SsoConnector::code_for(id),
            verification_status: if begin_verification {
                VerificationStatus::Pending
            } else {
                VerificationStatus::Awaiting
            },
            created_on: now,
            updated_on: now,
            idp,
        };
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "sso_connector.create",
            None,
            json!({
                "email_domain": connector.email_domain,
                "begin_verification": begin_verification,
                "idp": connector.idp.as_ref().map(|i| &i.settings),
            }),
        );
        self.ports
            .sso
            .create_sso(&connector, &audit)
            .map_err(AppError::from_repo(Entity::SsoConnector))
    }

    /// One connector.
    ///
    /// # Errors
    /// `NotFound(Entity::SsoConnector)`; `Forbidden`.
    pub fn get_sso(
        &self,
        principal: &Principal,
        account: AccountId,
        id: SsoConnectorId,
    ) -> AppResult<SsoConnector> {
        self.authorize(principal, account, READ, Some(&sso_key(id)))?;
        self.load_sso(account, id)
    }

    /// The account's connectors.
    ///
    /// # Errors
    /// `Forbidden`.
    pub fn list_sso(
        &self,
        principal: &Principal,
        account: AccountId,
    ) -> AppResult<Vec<SsoConnector>> {
        self.authorize(principal, account, READ, None)?;
        let hidden = Self::hidden(principal, ResourceType::SsoConnector, READ);
        let mut connectors = self.ports.sso.list_sso(account)?;
        connectors.retain(|c| !hidden.contains(&c.id.to_string()));
        Ok(connectors)
    }

    /// Enables, disables, or sets FedRAMP language.
    ///
    /// # Errors
    /// `Invalid` when enabling an unverified connector; `NotFound`; `Forbidden`.
    pub fn update_sso(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: SsoConnectorId,
        cmd: UpdateSso,
    ) -> AppResult<SsoConnector> {
        self.authorize(principal, account, WRITE, Some(&sso_key(id)))?;
        let current = self.load_sso(account, id)?;
        if cmd.enabled == Some(true) && current.verification_status != VerificationStatus::Verified
        {
            return Err(DomainError::invalid(
                "enabled",
                "verify the domain before enabling the connector",
            )
            .into());
        }
        let idp = match cmd.idp {
            Some(Some(update)) => Some(Some(self.checked_idp(
                principal,
                account,
                id,
                update,
                current.idp.as_ref(),
            )?)),
            Some(None) => Some(None),
            None => None,
        };
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "sso_connector.update",
            None,
            json!({
                "enabled": cmd.enabled,
                "use_fedramp_language": cmd.use_fedramp_language,
                "idp": idp.as_ref().map(|i| i.as_ref().map(|c| &c.settings)),
            }),
        );
        let changes = SsoChanges {
            enabled: cmd.enabled,
            use_fedramp_language: cmd.use_fedramp_language,
            verification_status: None,
            idp,
            updated_on: self.ports.clock.now(),
        };
        self.invalidating(
            self.ports
                .sso
                .update_sso(account, id, &changes, &audit)
                .map_err(AppError::from_repo(Entity::SsoConnector)),
        )
    }

    /// Deletes a connector.
    ///
    /// # Errors
    /// `NotFound`; `Forbidden`.
    pub fn delete_sso(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: SsoConnectorId,
    ) -> AppResult<()> {
        self.authorize(principal, account, WRITE, Some(&sso_key(id)))?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "sso_connector.delete",
            None,
            json!({}),
        );
        self.invalidating(
            self.ports
                .sso
                .delete_sso(account, id, &audit)
                .map_err(AppError::from_repo(Entity::SsoConnector)),
        )
    }

    /// Starts (or restarts) verification: status `pending`; the verifier then looks for the TXT
    /// record `tessera_sso=<id>` on the domain.
    ///
    /// # Errors
    /// `NotFound`; `Forbidden`.
    pub fn begin_sso_verification(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: SsoConnectorId,
    ) -> AppResult<SsoConnector> {
        self.authorize(principal, account, WRITE, Some(&sso_key(id)))?;
        self.load_sso(account, id)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "sso_connector.begin_verification",
            None,
            json!({}),
        );
        let changes = SsoChanges {
            verification_status: Some(VerificationStatus::Pending),
            updated_on: self.ports.clock.now(),
            ..SsoChanges::default()
        };
        self.ports
            .sso
            .update_sso(account, id, &changes, &audit)
            .map_err(AppError::from_repo(Entity::SsoConnector))
    }

    /// One pass of the verifier: looks up the TXT records of every pending connector's domain;
    /// the code found → `verified`; not found once the verification is older than the timeout
    /// → `failed`; a failed lookup leaves it pending. Returns how many connectors changed.
    ///
    /// # Errors
    /// Storage errors.
    pub fn verify_pending_sso(&self) -> AppResult<usize> {
        let timeout = TimeDelta::seconds(self.settings.sso_verification_timeout_secs);
        let mut changed = 0;
        for c in self.ports.sso.pending_sso()? {
            let now = self.ports.clock.now();
            let status = match self.ports.dns.txt_records(&c.email_domain) {
                Ok(records) if records.iter().any(|r| r.trim() == c.verification_code) => {
                    VerificationStatus::Verified
                }
                Ok(_) if now - c.updated_on > timeout => VerificationStatus::Failed,
                Ok(_) => continue,
                Err(e) => {
                    tracing::debug!(domain = %c.email_domain, error = %e, "TXT lookup failed; will retry");
                    continue;
                }
            };
            let audit = AuditRecord {
                account_id: Some(c.account_id),
                actor: Actor::system(),
                action: format!("sso_connector.{}", status.as_str()),
                target: Some(format!("sso_connector:{}", c.id)),
                outcome: Outcome::Success,
                client_ip: None,
                request_id: None,
                at: now,
                details: json!({ "email_domain": c.email_domain }),
            };
            let changes = SsoChanges {
                verification_status: Some(status),
                updated_on: now,
                ..SsoChanges::default()
            };
            match self
                .ports
                .sso
                .update_sso(c.account_id, c.id, &changes, &audit)
            {
                Ok(_) => {}
                Err(RepoError::Conflict(Field::EmailDomain)) => {
                    // Another account verified the domain first: one domain, one account.
                    let failed = SsoChanges {
                        verification_status: Some(VerificationStatus::Failed),
                        updated_on: now,
                        ..SsoChanges::default()
                    };
                    let audit = AuditRecord {
                        action: "sso_connector.failed".into(),
                        details: json!({
                            "email_domain": c.email_domain,
                            "reason": "the domain is verified by another account",
                        }),
                        ..audit
                    };
                    self.ports
                        .sso
                        .update_sso(c.account_id, c.id, &failed, &audit)?;
                }
                Err(e) => return Err(e.into()),
            }
            changed += 1;
        }
        if changed > 0 {
            self.after_change();
        }
        Ok(changed)
    }

    /// The domain of `email` when an enabled, verified connector of `account` enforces SSO
    /// for it.
    pub(crate) fn enforced_sso_domain(
        &self,
        account: AccountId,
        email: &str,
    ) -> AppResult<Option<String>> {
        let Some(domain) = domain_of(email) else {
            return Ok(None);
        };
        let enforced = self
            .ports
            .sso
            .list_sso(account)?
            .iter()
            .any(|c| c.enforced() && c.email_domain == domain);
        Ok(enforced.then_some(domain))
    }

    /// The domain of `email` when a connector of `account` has verified it (enabled or not).
    pub(crate) fn verified_sso_domain(
        &self,
        account: AccountId,
        email: &str,
    ) -> AppResult<Option<String>> {
        let Some(domain) = domain_of(email) else {
            return Ok(None);
        };
        let verified = self.ports.sso.list_sso(account)?.iter().any(|c| {
            c.verification_status == VerificationStatus::Verified && c.email_domain == domain
        });
        Ok(verified.then_some(domain))
    }

    /// Refuses password sign-in when the user's email domain has an enabled, verified connector
    /// in its account.
    pub(crate) fn check_sso_for_password(&self, user: &User) -> AppResult<()> {
        let Some(email) = user.email.as_deref() else {
            return Ok(());
        };
        match self.enforced_sso_domain(user.account_id, email)? {
            Some(domain) => Err(AppError::SsoRequired(domain)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use tessera_domain::ids::Hex32;
    use tessera_domain::roles::ids;

    use super::*;
    use crate::testing::{ACME, Mocks, now, principal, user};

    fn connector(status: VerificationStatus, enabled: bool, age_secs: i64) -> SsoConnector {
        let id = SsoConnectorId(Hex32([9; 16]));
        SsoConnector {
            id,
            account_id: ACME,
            email_domain: "example.com".into(),
            enabled,
            use_fedramp_language: false,
            verification_code: SsoConnector::code_for(id),
            verification_status: status,
            created_on: now() - TimeDelta::seconds(age_secs),
            updated_on: now() - TimeDelta::seconds(age_secs),
            idp: None,
        }
    }

    fn verifier_sets(
        records: Result<Vec<String>, String>,
        age: i64,
        expected: Option<VerificationStatus>,
    ) {
        let mut m = Mocks::new();
        m.sso
            .expect_pending_sso()
            .returning(move || Ok(vec![connector(VerificationStatus::Pending, false, age)]));
        m.dns
            .expect_txt_records()
            .returning(move |_| records.clone());
        match expected {
            Some(status) => {
                m.sso
                    .expect_update_sso()
                    .withf(move |_, _, c, a| {
                        c.verification_status == Some(status)
                            && a.action == format!("sso_connector.{}", status.as_str())
                    })
                    .times(1)
                    .returning(move |_, _, _, _| Ok(connector(status, false, 0)));
            }
            None => {
                m.sso.expect_update_sso().times(0);
            }
        }
        assert_eq!(
            m.app().verify_pending_sso().unwrap(),
            usize::from(expected.is_some())
        );
    }

    #[test]
    fn the_verifier_verifies_waits_fails_or_retries() {
        let code = SsoConnector::code_for(SsoConnectorId(Hex32([9; 16])));
        verifier_sets(
            Ok(vec!["v=spf1".into(), code]),
            10,
            Some(VerificationStatus::Verified),
        );
        verifier_sets(Ok(vec!["v=spf1".into()]), 10, None);
        verifier_sets(Ok(vec![]), 86_401, Some(VerificationStatus::Failed));
        verifier_sets(Err("timeout".into()), 86_401, None);
    }

    #[test]
    fn an_unverified_connector_cannot_be_enabled() {
        let mut m = Mocks::new();
        m.sso
            .expect_get_sso()
            .returning(|_, _| Ok(connector(VerificationStatus::Pending, false, 0)));
        m.sso.expect_update_sso().times(0);
        let err = m
            .app()
            .update_sso(
                &principal(1, &[ids::OWNER]),
                &RequestMeta::default(),
                ACME,
                SsoConnectorId(Hex32([9; 16])),
                UpdateSso {
                    enabled: Some(true),
                    ..UpdateSso::default()
                },
            )
            .unwrap_err();
        assert!(matches!(
            err,
            AppError::Invalid(DomainError::Invalid {
                field: "enabled",
                ..
            })
        ));
    }

    #[test]
    fn an_enforced_domain_refuses_password_sign_in_and_others_do_not() {
        let mut u = user(2, "dev01", &[ids::DEVELOPER]);
        u.email = Some("dev@Example.com".into());
        let mut m = Mocks::new();
        m.sso
            .expect_list_sso()
            .returning(|_| Ok(vec![connector(VerificationStatus::Verified, true, 0)]));
        let app = m.app();
        assert_eq!(
            app.check_sso_for_password(&u),
            Err(AppError::SsoRequired("example.com".into()))
        );
        u.email = Some("dev@other.org".into());
        assert_eq!(app.check_sso_for_password(&u), Ok(()));

        let mut m = Mocks::new();
        m.sso
            .expect_list_sso()
            .returning(|_| Ok(vec![connector(VerificationStatus::Verified, false, 0)]));
        u.email = Some("dev@example.com".into());
        assert_eq!(
            m.app().check_sso_for_password(&u),
            Ok(()),
            "a disabled connector does not block"
        );
    }
}
