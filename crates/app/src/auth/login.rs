//! Password sign-in (sessions) and sign-out.

use std::sync::atomic::Ordering;

use chrono::TimeDelta;
use serde_json::json;
use tessera_domain::audit::{Actor, ActorKind, AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::SessionId;
use tessera_domain::keys::{SESSION_TOKEN_PREFIX, SignInMethod};
use tessera_domain::ports::NewSession;
use tessera_domain::user::{Login, User, UserStatus};
use tessera_domain::{Entity, Secret};

use super::limiter::login_key;
use super::{LoginCommand, Refusal, SessionToken, digest};
use crate::App;
use crate::error::{AppError, AppResult, AuthFailure};
use crate::mfa::SignIn;
use crate::principal::{Credential, Principal};
use crate::telemetry::FailureKind;

impl App {
    /// Signs in with a password and opens a session — or, when a second factor is due (a
    /// confirmed TOTP enrolment, or none in an account that requires one), answers a
    /// challenge to complete with [`App::complete_sign_in`].
    ///
    /// # Errors
    /// `Unauthenticated(Failed)` for an unknown login, a wrong password or an inactive user —
    /// the same error, after the same work; `RateLimited` once the login or the address is
    /// locked; `Overloaded` when the sign-in queue (or this address's share) is full;
    /// `SsoRequired` when the user's email domain signs in through SSO.
    pub fn login(&self, meta: &RequestMeta, cmd: LoginCommand) -> AppResult<SignIn> {
        let now = self.ports.clock.now();
        let login_key = login_key(cmd.account_id, &cmd.login);
        let address = meta.client_ip.as_deref();
        let who = cmd.login.trim().to_lowercase();
        let _pass = match self.gate.enter(address) {
            Ok(pass) => {
                self.telemetry.gate_admitted.fetch_add(1, Ordering::Relaxed);
                pass
            }
            Err(full) => {
                self.telemetry.gate_rejected.fetch_add(1, Ordering::Relaxed);
                return Err(full);
            }
        };
        if !self.sign_in_address_admitted(cmd.account_id, meta)? {
            // Answered as a wrong password, after the same work: an address outside the list
            // learns neither whether the password was right nor that the list exists, and
            // cannot lock the login out. Counted under the address only.
            self.ports.hasher.waste_time(&cmd.password);
            self.count_token_failure(address, now);
            let refusal = Refusal {
                account: self
                    .account_active(cmd.account_id)?
                    .then_some(cmd.account_id),
                who,
                credential: "password",
                reason: AppError::AddressNotAuthorized.to_string(),
            };
            self.telemetry
                .auth_failed(FailureKind::AddressNotAuthorized);
            self.audit_failure(&refusal, meta, now);
            return Err(AppError::Unauthenticated(AuthFailure::Failed));
        }
        let reserved = match self.reserve_attempt(Some(&login_key), address, now)? {
            Ok(r) => r,
            Err(lock) => {
                self.telemetry.auth_failed(if lock.by_address {
                    FailureKind::LockedAddress
                } else {
                    FailureKind::LockedLogin
                });
                let refusal = Refusal {
                    account: self
                        .account_active(cmd.account_id)?
                        .then_some(cmd.account_id),
                    who,
                    credential: "password",
                    reason: "the login or the client address is locked after too many failures"
                        .into(),
                };
                self.audit_failure(&refusal, meta, now);
                return Err(AppError::RateLimited {
                    retry_after_secs: lock.retry_after_secs,
                });
            }
        };
        let found = match Login::parse(&cmd.login) {
            Ok(login) => self
                .ports
                .users
                .find_user_by_login(cmd.account_id, &login)?,
            Err(_) => None,
        };
        let user = match found {
            Some(u) => match &u.password_hash {
                Some(hash) => self
                    .ports
                    .hasher
                    .verify(hash, &cmd.password)?
                    .then_some(u.user),
                None => {
                    self.ports.hasher.waste_time(&cmd.password);
                    None
                }
            },
            None => {
                self.ports.hasher.waste_time(&cmd.password);
                None
            }
        };
        let user = match user {
            Some(u) if u.status == UserStatus::Active && self.account_active(cmd.account_id)? => u,
            _ => {
                // The reserved attempt stays counted: a failure.
                let account = self
                    .account_active(cmd.account_id)?
                    .then_some(cmd.account_id);
                let refusal = Refusal {
                    account,
                    who,
                    credential: "password",
                    reason: AuthFailure::Failed.to_string(),
                };
                self.telemetry.auth_failed(FailureKind::BadPassword);
                self.audit_failure(&refusal, meta, now);
                return Err(AppError::Unauthenticated(AuthFailure::Failed));
            }
        };
        // The password was right: the attempt does not count against the login or address —
        // but while a second factor is due, the login's earlier failures stay counted.
        let second = self.second_factor(&user)?;
        if second.is_some() {
            self.attempt_released(reserved)?;
        } else {
            self.attempt_succeeded(reserved)?;
        }
        if let Err(refused) = self.check_sso_for_password(&user) {
            let refusal = Refusal {
                account: Some(cmd.account_id),
                who,
                credential: "password",
                reason: refused.to_string(),
            };
            self.telemetry.auth_failed(FailureKind::SsoRequired);
            self.audit_failure(&refusal, meta, now);
            return Err(refused);
        }
        match second {
            None => self
                .open_session(meta, &user, SignInMethod::Password)
                .map(SignIn::Session),
            Some(purpose) => self.issue_challenge(&user, purpose),
        }
    }

    /// Opens a session for `user` (whose sign-in has been checked in full) and audits it as
    /// `session.create` with how it was opened.
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) fn open_session(
        &self,
        meta: &RequestMeta,
        user: &User,
        method: SignInMethod,
    ) -> AppResult<SessionToken> {
        let now = self.ports.clock.now();
        let token = Secret::new(format!(
            "{SESSION_TOKEN_PREFIX}{}",
            self.ports.ids.secret().expose()
        ));
        let expires_at = now + TimeDelta::seconds(self.settings.session_ttl_secs);
        let id = SessionId(self.ports.ids.hex32());
        let audit = AuditRecord {
            account_id: Some(user.account_id),
            actor: Actor {
                kind: ActorKind::User,
                id: user.id.to_string(),
            },
            action: "session.create".into(),
            target: Some(format!("user:{}", user.id)),
            outcome: Outcome::Success,
            client_ip: meta.client_ip.clone(),
            request_id: meta.request_id.clone(),
            at: now,
            details: json!({
                "session_id": id,
                "expires_at": expires_at,
                "method": method.as_str(),
            }),
        };
        self.ports.sessions.create_session(
            &NewSession {
                id,
                token_digest: digest(token.expose()).to_vec(),
                account_id: user.account_id,
                user_id: user.id,
                created_at: now,
                expires_at,
                from: meta.client_ip.clone(),
                method,
            },
            &audit,
        )?;
        Ok(SessionToken {
            session_id: id,
            token,
            expires_at,
            account_id: user.account_id,
            user_id: user.id,
        })
    }

    /// Ends the session whose token the principal authenticated with; answers its id.
    ///
    /// # Errors
    /// `NotFound(Entity::Session)` when `token` is not a live session of this principal.
    pub fn logout(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        token: &Secret,
    ) -> AppResult<SessionId> {
        let Credential::Session(id) = principal.credential else {
            return Err(AppError::NotFound(Entity::Session));
        };
        if !token.expose().starts_with(SESSION_TOKEN_PREFIX) {
            return Err(AppError::NotFound(Entity::Session));
        }
        let audit = self.audit_record(
            principal,
            meta,
            principal.account_id,
            "session.delete",
            principal.user_id.map(|u| format!("user:{u}")),
            json!({ "session_id": id }),
        );
        self.ports
            .sessions
            .delete_session(&digest(token.expose()), &audit)
            .map_err(AppError::from_repo(Entity::Session))?;
        self.after_change();
        Ok(id)
    }
}
