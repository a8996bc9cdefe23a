//! A user's own enrolment, through its own password session: enrol, confirm, read, remove.
//!
//! Only the user's session may change it — not an access key or a service key, which would
//! let a credential that never saw the second factor add one (locking the user out) or remove
//! one. An access key of the user may read the status. No permission governs these: a second
//! factor protects the user, it grants nothing.

use serde_json::json;
use tessera_domain::audit::RequestMeta;
use tessera_domain::ports::Redeemed;
use tessera_domain::user::User;
use tessera_domain::{DomainError, Entity, Secret};

use super::{Checked, MfaStatus, TotpSecret};
use crate::App;
use crate::auth::{Refusal, login_key};
use crate::error::{AppError, AppResult};
use crate::principal::{Credential, Principal};
use crate::telemetry::FailureKind;

impl App {
    /// The user `principal` is, when it acts through that user's own session (or, with
    /// `reads`, its own access key).
    ///
    /// # Errors
    /// `SessionRequired` for any other credential; `NotFound(User)` when the user is gone.
    fn own_mfa_user(&self, principal: &Principal, reads: bool) -> AppResult<User> {
        let allowed = match principal.credential {
            Credential::Session(_) => true,
            Credential::AccessKey(_) => reads,
            Credential::ServiceKey(_) | Credential::OAuthToken(_) => false,
        };
        let user = principal.user_id.filter(|_| allowed);
        let Some(user) = user else {
            return Err(AppError::SessionRequired);
        };
        self.ports
            .users
            .get_user(principal.account_id, user)
            .map_err(AppError::from_repo(Entity::User))
    }

    /// The caller's own second-factor status (its session or its own access key).
    ///
    /// # Errors
    /// `SessionRequired` for a service key; storage errors.
    pub fn mfa_status(&self, principal: &Principal) -> AppResult<MfaStatus> {
        let user = self.own_mfa_user(principal, true)?;
        let enrolment = self.ports.mfa.totp_enrolment(user.account_id, user.id)?;
        Ok(MfaStatus::from(enrolment.as_ref()))
    }

    /// Starts the caller's TOTP enrolment: a new seed, shown once, pending until a code
    /// confirms it. Calling again replaces a pending enrolment; audited as `mfa.totp.enrol`.
    ///
    /// # Errors
    /// `SessionRequired` for any credential but the user's session; `MfaEnrolled` when a
    /// confirmed enrolment exists.
    pub fn begin_totp_enrolment(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
    ) -> AppResult<TotpSecret> {
        let user = self.own_mfa_user(principal, false)?;
        let audit = self.audit_record(
            principal,
            meta,
            user.account_id,
            "mfa.totp.enrol",
            Some(format!("user:{}", user.id)),
            json!({}),
        );
        self.start_enrolment(&user, &audit)
    }

    /// Confirms the caller's pending enrolment with a current code; answers its ten recovery
    /// codes, once. Audited as `mfa.totp.confirm`.
    ///
    /// # Errors
    /// `SessionRequired`; `NotFound(TotpEnrolment)` with no enrolment; `MfaEnrolled` when it
    /// is confirmed already; `Invalid` naming `code` for a code that is not current (changing
    /// nothing).
    pub fn confirm_totp_enrolment(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        code: &Secret,
    ) -> AppResult<Vec<Secret>> {
        let user = self.own_mfa_user(principal, false)?;
        let enrolment = self
            .ports
            .mfa
            .totp_enrolment(user.account_id, user.id)?
            .ok_or(AppError::NotFound(Entity::TotpEnrolment))?;
        if enrolment.is_confirmed() {
            return Err(AppError::MfaEnrolled);
        }
        let wrong = || {
            AppError::from(DomainError::invalid(
                "code",
                "is not a current code of the authenticator being enrolled",
            ))
        };
        let Checked::Step(step) = self.check_code(&enrolment, code, false)? else {
            return Err(wrong());
        };
        let audit = self.audit_record(
            principal,
            meta,
            user.account_id,
            "mfa.totp.confirm",
            Some(format!("user:{}", user.id)),
            json!({}),
        );
        self.confirm(&enrolment, step, None, &audit)?
            .ok_or_else(wrong)
    }

    /// Removes the caller's enrolment, given a current code or an unused recovery code. A wrong
    /// code counts against the login's attempt limits, like a wrong password (a stolen session
    /// cannot guess its way to removing the second factor). Audited as `mfa.totp.remove`.
    ///
    /// # Errors
    /// `SessionRequired`; `NotFound(TotpEnrolment)`; `RateLimited` once the login or address
    /// is locked; `Invalid` naming `code` for a wrong or used code (changing nothing but the
    /// count of failures).
    pub fn remove_totp_enrolment(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        code: &Secret,
    ) -> AppResult<()> {
        let user = self.own_mfa_user(principal, false)?;
        let enrolment = self
            .ports
            .mfa
            .totp_enrolment(user.account_id, user.id)?
            .ok_or(AppError::NotFound(Entity::TotpEnrolment))?;
        let now = self.ports.clock.now();
        let key = login_key(user.account_id, user.login.as_str());
        let address = meta.client_ip.as_deref();
        let refusal = |reason: &str| Refusal {
            account: Some(user.account_id),
            who: user.login.as_str().to_owned(),
            credential: "totp",
            reason: reason.to_owned(),
        };
        let reserved = match self.reserve_attempt(Some(&key), address, now)? {
            Ok(r) => r,
            Err(lock) => {
                self.telemetry.auth_failed(if lock.by_address {
                    FailureKind::LockedAddress
                } else {
                    FailureKind::LockedLogin
                });
                self.audit_failure(
                    &refusal("the login or the client address is locked after too many failures"),
                    meta,
                    now,
                );
                return Err(AppError::RateLimited {
                    retry_after_secs: lock.retry_after_secs,
                });
            }
        };
        let checked = self.check_code(&enrolment, code, true)?;
        let redeemed = match checked {
            Checked::Step(_) | Checked::Recovery(_) => {
                self.redeem(&enrolment, checked, None, meta)?
            }
            Checked::Used | Checked::Wrong => Redeemed::CodeUsed,
        };
        if redeemed != Redeemed::Accepted {
            // The reserved attempt stays counted: a failure.
            self.telemetry.auth_failed(FailureKind::BadMfaCode);
            self.audit_failure(&refusal("wrong second-factor code"), meta, now);
            return Err(DomainError::invalid(
                "code",
                "is not a current code of your authenticator, nor an unused recovery code",
            )
            .into());
        }
        self.attempt_released(reserved)?;
        let audit = self.audit_record(
            principal,
            meta,
            user.account_id,
            "mfa.totp.remove",
            Some(format!("user:{}", user.id)),
            json!({ "confirmed": enrolment.is_confirmed() }),
        );
        self.ports
            .mfa
            .remove_totp_enrolment(user.account_id, user.id, &audit)
            .map_err(AppError::from_repo(Entity::TotpEnrolment))
    }
}
