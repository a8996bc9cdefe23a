//! The second step of a password sign-in.
//!
//! After a right password, a user with a confirmed enrolment (or without one, in an account
//! that requires it) gets a challenge: an opaque token, stored as its digest, bound to the
//! user, live for five minutes, used once. `complete_sign_in` takes it with a code and opens
//! the session; `enrol_at_sign_in` shows a new seed to a user who must enrol first.
//!
//! What holds the line:
//! - the password step gives back its attempt without clearing the login's failures, and every
//!   code is checked under an attempt reserved on the login and the client address (the same
//!   atomic limits as passwords): a guesser who knows the password still gets at most
//!   `auth.max_failures_per_login` codes per window, however many challenges it opens;
//! - a code and its challenge are used up in one guarded write, so replays and concurrent
//!   completions with one code fail (only one wins);
//! - every refusal is the wrong-password answer (401 `authentication failed`), audited like
//!   one; the account's authorized IPs, the user's and account's status and SSO enforcement
//!   are checked again.

use chrono::TimeDelta;
use serde_json::json;
use tessera_domain::audit::RequestMeta;
use tessera_domain::keys::SignInMethod;
use tessera_domain::mfa::{ChallengePurpose, MfaChallenge, TotpEnrolment};
use tessera_domain::ports::{NewMfaChallenge, Redeemed};
use tessera_domain::user::{User, UserStatus};
use tessera_domain::{Entity, Secret};

use super::{Checked, MfaChallengeToken, MfaSignIn, SignIn, TotpSecret};
use crate::App;
use crate::auth::{Refusal, secret_digest};
use crate::error::{AppError, AppResult, AuthFailure};
use crate::telemetry::FailureKind;

/// How long a challenge lives, seconds.
pub(crate) const CHALLENGE_TTL_SECS: i64 = 300;
/// Most live challenges one user may hold (more password sign-ins drop the oldest).
pub(crate) const MAX_LIVE_CHALLENGES: u32 = 5;
/// Prefix of a challenge token.
pub(crate) const CHALLENGE_PREFIX: &str = "tsm_";

/// What a completion checks the code against.
enum Mode {
    /// The confirmed enrolment: a TOTP or a recovery code.
    Verify(TotpEnrolment),
    /// The pending enrolment of an enrolment challenge: a TOTP code confirms it.
    Enrol(TotpEnrolment),
}

impl App {
    /// Which second factor a user whose password was right owes: `None` (a session now),
    /// `Verify` (a confirmed enrolment), or `Enrol` (none, in an account that requires one).
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) fn second_factor(&self, user: &User) -> AppResult<Option<ChallengePurpose>> {
        let enrolment = self.ports.mfa.totp_enrolment(user.account_id, user.id)?;
        if enrolment.is_some_and(|e| e.is_confirmed()) {
            return Ok(Some(ChallengePurpose::Verify));
        }
        let account = self
            .ports
            .accounts
            .get_account(user.account_id)
            .map_err(AppError::from_repo(Entity::Account))?;
        Ok(account.require_mfa.then_some(ChallengePurpose::Enrol))
    }

    /// Issues a challenge for `user` (whose password was right).
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) fn issue_challenge(
        &self,
        user: &User,
        purpose: ChallengePurpose,
    ) -> AppResult<SignIn> {
        let now = self.ports.clock.now();
        let challenge = Secret::new(format!(
            "{CHALLENGE_PREFIX}{}",
            self.ports.ids.secret().expose()
        ));
        let expires_at = now + TimeDelta::seconds(CHALLENGE_TTL_SECS);
        self.ports.mfa.create_mfa_challenge(
            &NewMfaChallenge {
                token_digest: secret_digest(&challenge),
                account_id: user.account_id,
                user_id: user.id,
                purpose,
                created_at: now,
                expires_at,
            },
            MAX_LIVE_CHALLENGES,
        )?;
        let token = MfaChallengeToken {
            challenge,
            expires_at,
        };
        Ok(match purpose {
            ChallengePurpose::Verify => SignIn::MfaRequired(token),
            ChallengePurpose::Enrol => SignIn::MfaEnrolmentRequired(token),
        })
    }

    /// Refuses (audits, counts) a challenge that is not live, or whose user is gone: under the
    /// client address only, as an unknown token is (it is not guessable).
    fn unknown_challenge(&self, meta: &RequestMeta) -> AppError {
        let now = self.ports.clock.now();
        self.telemetry.auth_failed(FailureKind::UnknownMfaChallenge);
        self.count_token_failure(meta.client_ip.as_deref(), now);
        self.audit_failure(
            &Refusal {
                account: None,
                who: "challenge".into(),
                credential: "mfa_challenge",
                reason: AuthFailure::Failed.to_string(),
            },
            meta,
            now,
        );
        AppError::Unauthenticated(AuthFailure::Failed)
    }

    /// The live challenge `token` names and its user, refusing early from a locked address.
    fn live_challenge(
        &self,
        meta: &RequestMeta,
        token: &Secret,
    ) -> AppResult<(MfaChallenge, User, Vec<u8>)> {
        let now = self.ports.clock.now();
        if let Some(wait) = self.address_lock(meta.client_ip.as_deref(), now)? {
            self.telemetry.auth_failed(FailureKind::LockedAddress);
            self.audit_failure(
                &Refusal {
                    account: None,
                    who: "address".into(),
                    credential: "mfa_challenge",
                    reason: "the client address is locked after too many failures".into(),
                },
                meta,
                now,
            );
            return Err(AppError::RateLimited {
                retry_after_secs: wait,
            });
        }
        let digest = secret_digest(token);
        let Some(challenge) = self.ports.mfa.find_mfa_challenge(&digest, now)? else {
            return Err(self.unknown_challenge(meta));
        };
        let user = match self
            .ports
            .users
            .get_user(challenge.account_id, challenge.user_id)
        {
            Ok(u) => u,
            Err(tessera_domain::ports::RepoError::NotFound) => {
                return Err(self.unknown_challenge(meta));
            }
            Err(e) => return Err(e.into()),
        };
        if !self.sign_in_address_admitted(user.account_id, meta)? {
            // As at the password step: refused like a wrong code, counted under the address
            // only (an outsider cannot lock the login out).
            self.telemetry
                .auth_failed(FailureKind::AddressNotAuthorized);
            self.count_token_failure(meta.client_ip.as_deref(), now);
            self.audit_failure(
                &Refusal {
                    account: Some(user.account_id),
                    who: user.login.as_str().to_owned(),
                    credential: "mfa_challenge",
                    reason: AppError::AddressNotAuthorized.to_string(),
                },
                meta,
                now,
            );
            return Err(AppError::Unauthenticated(AuthFailure::Failed));
        }
        Ok((challenge, user, digest))
    }

    /// Shows a new seed to the holder of an enrolment challenge (its account requires a second
    /// factor and it has none); calling again replaces it. The seed is confirmed by
    /// [`App::complete_sign_in`] with a code. Audited as `mfa.totp.enrol`.
    ///
    /// # Errors
    /// `Unauthenticated(Failed)` for a challenge that is not a live enrolment challenge, or
    /// whose user or account is no longer active; `MfaEnrolled` when the user has enrolled
    /// meanwhile; `RateLimited` from a locked address.
    pub fn enrol_at_sign_in(&self, meta: &RequestMeta, token: &Secret) -> AppResult<TotpSecret> {
        let (challenge, user, _) = self.live_challenge(meta, token)?;
        if challenge.purpose != ChallengePurpose::Enrol {
            return Err(self.unknown_challenge(meta));
        }
        if user.status != UserStatus::Active || !self.account_active(user.account_id)? {
            return Err(self.refuse_code(meta, &user, "the user or its account is not active"));
        }
        let audit = self.user_audit(
            meta,
            user.account_id,
            user.id,
            "mfa.totp.enrol",
            json!({ "at_sign_in": true }),
        );
        self.start_enrolment(&user, &audit)
    }

    /// Audits a refused code (or an inactive user at completion) like a wrong password.
    fn refuse_code(&self, meta: &RequestMeta, user: &User, reason: &str) -> AppError {
        self.telemetry.auth_failed(FailureKind::BadMfaCode);
        self.audit_failure(
            &Refusal {
                account: Some(user.account_id),
                who: user.login.as_str().to_owned(),
                credential: "totp",
                reason: reason.to_owned(),
            },
            meta,
            self.ports.clock.now(),
        );
        AppError::Unauthenticated(AuthFailure::Failed)
    }

    /// Completes a sign-in: the challenge with a TOTP code (or a recovery code) of the user's
    /// enrolment opens the session (`password_totp`). With an enrolment challenge, the code
    /// confirms the enrolment just shown, and the answer carries its recovery codes, once.
    ///
    /// # Errors
    /// `Unauthenticated(Failed)` — the wrong-password answer — for a challenge that is not
    /// live, a wrong, replayed or used code, an inactive user or account; `RateLimited` once
    /// the login or the address is locked; `SsoRequired` when the user's domain has moved to
    /// SSO meanwhile.
    pub fn complete_sign_in(
        &self,
        meta: &RequestMeta,
        token: &Secret,
        code: &Secret,
    ) -> AppResult<MfaSignIn> {
        let (challenge, user, digest) = self.live_challenge(meta, token)?;
        let now = self.ports.clock.now();
        let key = crate::auth::login_key(user.account_id, user.login.as_str());
        let reserved = match self.reserve_attempt(Some(&key), meta.client_ip.as_deref(), now)? {
            Ok(r) => r,
            Err(lock) => {
                self.telemetry.auth_failed(if lock.by_address {
                    FailureKind::LockedAddress
                } else {
                    FailureKind::LockedLogin
                });
                self.audit_failure(
                    &Refusal {
                        account: Some(user.account_id),
                        who: user.login.as_str().to_owned(),
                        credential: "totp",
                        reason: "the login or the client address is locked after too many \
                                 failures"
                            .into(),
                    },
                    meta,
                    now,
                );
                return Err(AppError::RateLimited {
                    retry_after_secs: lock.retry_after_secs,
                });
            }
        };
        // From here on every refusal leaves the reserved attempt counted: a failure.
        if user.status != UserStatus::Active || !self.account_active(user.account_id)? {
            return Err(self.refuse_code(meta, &user, "the user or its account is not active"));
        }
        let mode = match self.ports.mfa.totp_enrolment(user.account_id, user.id)? {
            Some(e) if e.is_confirmed() => Mode::Verify(e),
            Some(e) if challenge.purpose == ChallengePurpose::Enrol => Mode::Enrol(e),
            _ => {
                return Err(self.refuse_code(
                    meta,
                    &user,
                    "no enrolment to check the code against",
                ));
            }
        };
        let recovery_codes = match &mode {
            Mode::Verify(enrolment) => {
                let checked = self.check_code(enrolment, code, true)?;
                let redeemed = self.redeem(enrolment, checked, Some(digest), meta)?;
                if redeemed != Redeemed::Accepted {
                    return Err(self.refuse_code(meta, &user, refusal_reason(checked, redeemed)));
                }
                None
            }
            Mode::Enrol(enrolment) => {
                let checked = self.check_code(enrolment, code, false)?;
                let Checked::Step(step) = checked else {
                    let reason = refusal_reason(checked, Redeemed::CodeUsed);
                    return Err(self.refuse_code(meta, &user, reason));
                };
                let audit = self.user_audit(
                    meta,
                    user.account_id,
                    user.id,
                    "mfa.totp.confirm",
                    json!({ "at_sign_in": true }),
                );
                match self.confirm(enrolment, step, Some(digest), &audit)? {
                    Some(codes) => Some(codes),
                    None => {
                        let reason = "the enrolment changed, or the challenge was used";
                        return Err(self.refuse_code(meta, &user, reason));
                    }
                }
            }
        };
        // Both factors were right: the login's failures are forgotten.
        self.attempt_succeeded(reserved)?;
        if let Err(refused) = self.check_sso_for_password(&user) {
            let refusal = Refusal {
                account: Some(user.account_id),
                who: user.login.as_str().to_owned(),
                credential: "password",
                reason: refused.to_string(),
            };
            self.telemetry.auth_failed(FailureKind::SsoRequired);
            self.audit_failure(&refusal, meta, now);
            return Err(refused);
        }
        let session = self.open_session(meta, &user, SignInMethod::PasswordTotp)?;
        Ok(MfaSignIn {
            session,
            recovery_codes,
        })
    }
}

/// Why a code was refused, for the audit log (never for the client, which gets one answer).
fn refusal_reason(checked: Checked, redeemed: Redeemed) -> &'static str {
    match (checked, redeemed) {
        (Checked::Wrong, _) => "wrong second-factor code",
        (Checked::Used, _) | (_, Redeemed::CodeUsed) => "second-factor code used already",
        (_, Redeemed::ChallengeGone) => "the challenge was used meanwhile",
        (_, Redeemed::Accepted) => "refused",
    }
}
