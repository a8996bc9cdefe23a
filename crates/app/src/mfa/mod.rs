//! Second factors of password sign-in: TOTP (RFC 6238) and recovery codes.
//!
//! - A user enrols through its own session (`own`): a pending enrolment is shown once (seed and
//!   `otpauth://` URI), confirmed with a code (which answers ten recovery codes, once), read,
//!   and removed with a current code or a recovery code. An administrator who may manage the
//!   user resets it (`reset`).
//! - Password sign-in (`signin`): a user with a confirmed enrolment gets a short-lived
//!   challenge instead of a session, and completes it with a code; in an account that requires
//!   a second factor, a user without one enrols with its challenge first.
//!
//! Seeds are sealed with the `Sealer` port (purpose `totp:<user id>`); recovery codes and
//! challenges are kept as SHA-256 digests. A code is accepted once: the step it belongs to
//! must be later than the last accepted one, which one guarded write records (the
//! repository's contract), so replays and concurrent uses of one code fail. Wrong codes at
//! sign-in count against the same attempt limits as wrong passwords.

mod codes;
mod own;
mod reset;
mod signin;

use chrono::{DateTime, Utc};
use serde_json::json;
use tessera_domain::audit::{Actor, ActorKind, AuditRecord, Outcome, RequestMeta};
use tessera_domain::mfa::TotpEnrolment;
use tessera_domain::ports::{NewTotpEnrolment, Redeemed, Redemption};
use tessera_domain::user::User;
use tessera_domain::{Entity, Secret};
use zeroize::Zeroizing;

use crate::App;
use crate::auth::SessionToken;
use crate::error::{AppError, AppResult};

pub use codes::normalise_recovery_code;
pub(crate) use codes::seal_purpose;
use codes::{CodeForm, StepMatch};

/// A new enrolment's seed, shown once.
#[derive(Debug, Clone)]
pub struct TotpSecret {
    /// The seed in base32 (RFC 4648, no padding), to type into an authenticator app.
    pub secret: Secret,
    /// `otpauth://totp/Tessera:<login> (account <id>)?secret=…&issuer=Tessera`, for a QR code.
    pub otpauth_uri: Secret,
}

/// A user's own second-factor status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaStatus {
    /// Whether a confirmed TOTP enrolment protects its password sign-in.
    pub enrolled: bool,
    /// Whether an enrolment waits for its confirming code.
    pub pending: bool,
    /// When the enrolment was confirmed.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
}

impl From<Option<&TotpEnrolment>> for MfaStatus {
    fn from(e: Option<&TotpEnrolment>) -> Self {
        Self {
            enrolled: e.is_some_and(TotpEnrolment::is_confirmed),
            pending: e.is_some_and(|e| !e.is_confirmed()),
            confirmed_at: e.and_then(|e| e.confirmed_at),
            recovery_codes_left: e
                .filter(|e| e.is_confirmed())
                .map_or(0, |e| e.recovery_codes_left),
        }
    }
}

/// A sign-in challenge, shown once: the password was right, a second factor is due.
#[derive(Debug, Clone)]
pub struct MfaChallengeToken {
    /// Opaque; send back to `POST /v1/sessions/mfa` (and `/enrol`).
    pub challenge: Secret,
    /// When it stops working (five minutes after the password).
    pub expires_at: DateTime<Utc>,
}

/// What a password sign-in answers.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// A session: no second factor is due.
    Session(SessionToken),
    /// A code of the user's enrolment (or a recovery code) is due.
    MfaRequired(MfaChallengeToken),
    /// The account requires a second factor and the user has none: enrol, then give a code.
    MfaEnrolmentRequired(MfaChallengeToken),
}

/// A completed second factor: the session, and the recovery codes when the completion
/// confirmed a new enrolment (shown once).
#[derive(Debug, Clone)]
pub struct MfaSignIn {
    /// The session.
    pub session: SessionToken,
    /// The new enrolment's recovery codes.
    pub recovery_codes: Option<Vec<Secret>>,
}

/// What a typed code is for an enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    /// The TOTP code of this step, not used yet.
    Step(i64),
    /// The unused recovery code at this position.
    Recovery(i32),
    /// A code used already (a replayed step).
    Used,
    /// Not a code of this enrolment.
    Wrong,
}

impl App {
    /// The seed of `enrolment`, unsealed.
    ///
    /// # Errors
    /// `Internal` when it does not open (sealed under a key this server lacks, or damaged).
    fn open_seed(&self, enrolment: &TotpEnrolment) -> AppResult<Zeroizing<Vec<u8>>> {
        self.ports
            .sealer
            .open(
                &codes::seal_purpose(enrolment.user_id),
                &enrolment.sealed_secret,
            )
            .map(Zeroizing::new)
            .map_err(|e| AppError::Internal(format!("the TOTP seed of a user: {e}")))
    }

    /// Starts (or restarts) `user`'s pending enrolment with a new seed; the answer shows it.
    ///
    /// # Errors
    /// `MfaEnrolled` when the user has a confirmed enrolment; storage errors.
    fn start_enrolment(&self, user: &User, audit: &AuditRecord) -> AppResult<TotpSecret> {
        let seed = codes::new_seed(self.ports.ids.as_ref());
        let totp = codes::generator(&seed, codes::label(user.login.as_str(), user.account_id))?;
        let sealed = self.ports.sealer.seal(&codes::seal_purpose(user.id), &seed);
        let started = self
            .ports
            .mfa
            .begin_totp_enrolment(
                &NewTotpEnrolment {
                    account_id: user.account_id,
                    user_id: user.id,
                    sealed_secret: sealed,
                    created_at: self.ports.clock.now(),
                },
                audit,
            )
            .map_err(AppError::from_repo(Entity::User))?;
        match started {
            tessera_domain::ports::EnrolmentStarted::Pending => Ok(TotpSecret {
                secret: Secret::new(totp.get_secret_base32()),
                otpauth_uri: Secret::new(totp.get_url()),
            }),
            tessera_domain::ports::EnrolmentStarted::AlreadyConfirmed => Err(AppError::MfaEnrolled),
        }
    }

    /// What `code` is for `enrolment` at `now`: recovery codes count only when `recovery`
    /// allows them (a confirmed enrolment has them).
    fn check_code(
        &self,
        enrolment: &TotpEnrolment,
        code: &Secret,
        recovery: bool,
    ) -> AppResult<Checked> {
        Ok(match codes::read_code(code) {
            CodeForm::Totp(digits) => {
                let seed = self.open_seed(enrolment)?;
                let totp = codes::generator(&seed, String::new())?;
                match codes::matching_step(
                    &totp,
                    &digits,
                    self.ports.clock.now(),
                    enrolment.last_step,
                ) {
                    StepMatch::Step(s) => Checked::Step(s),
                    StepMatch::Used => Checked::Used,
                    StepMatch::None => Checked::Wrong,
                }
            }
            CodeForm::Recovery(normalised) if recovery && enrolment.is_confirmed() => {
                let unused = self
                    .ports
                    .mfa
                    .unused_recovery_codes(enrolment.account_id, enrolment.user_id)?;
                codes::matching_recovery_code(&unused, &codes::recovery_digest(&normalised))
                    .map_or(Checked::Wrong, Checked::Recovery)
            }
            CodeForm::Recovery(_) | CodeForm::Malformed => Checked::Wrong,
        })
    }

    /// Uses up a checked code (a step or a recovery code) of a confirmed enrolment, with the
    /// challenge, if any, in one guarded write.
    fn redeem(
        &self,
        enrolment: &TotpEnrolment,
        checked: Checked,
        challenge: Option<Vec<u8>>,
        meta: &RequestMeta,
    ) -> AppResult<Redeemed> {
        let redemption = Redemption {
            account_id: enrolment.account_id,
            user_id: enrolment.user_id,
            sealed_secret: enrolment.sealed_secret.clone(),
            challenge,
            at: self.ports.clock.now(),
        };
        Ok(match checked {
            Checked::Step(step) => self.ports.mfa.redeem_totp_step(&redemption, step)?,
            Checked::Recovery(position) => {
                let audit = self.user_audit(
                    meta,
                    enrolment.account_id,
                    enrolment.user_id,
                    "mfa.recovery_code.use",
                    json!({ "position": position }),
                );
                self.ports
                    .mfa
                    .redeem_recovery_code(&redemption, position, &audit)?
            }
            Checked::Used | Checked::Wrong => Redeemed::CodeUsed,
        })
    }

    /// Confirms a pending enrolment with the code of `step`, issuing its recovery codes (shown
    /// once, stored as digests) and consuming the challenge, if any.
    fn confirm(
        &self,
        enrolment: &TotpEnrolment,
        step: i64,
        challenge: Option<Vec<u8>>,
        audit: &AuditRecord,
    ) -> AppResult<Option<Vec<Secret>>> {
        let shown: Vec<Secret> = (0..codes::RECOVERY_CODES)
            .map(|_| codes::new_recovery_code(self.ports.ids.as_ref()))
            .collect();
        let digests: Vec<Vec<u8>> = shown
            .iter()
            .map(|c| {
                normalise_recovery_code(c.expose())
                    .map(|n| codes::recovery_digest(&n))
                    .ok_or_else(|| AppError::Internal("a recovery code of the wrong form".into()))
            })
            .collect::<AppResult<_>>()?;
        let redemption = Redemption {
            account_id: enrolment.account_id,
            user_id: enrolment.user_id,
            sealed_secret: enrolment.sealed_secret.clone(),
            challenge,
            at: self.ports.clock.now(),
        };
        let done = self
            .ports
            .mfa
            .confirm_totp_enrolment(&redemption, step, &digests, audit)?;
        Ok((done == Redeemed::Accepted).then_some(shown))
    }

    /// An audit record of `user` acting for itself (before it has a session: at sign-in).
    fn user_audit(
        &self,
        meta: &RequestMeta,
        account: tessera_domain::ids::AccountId,
        user: tessera_domain::ids::UserId,
        action: &str,
        details: serde_json::Value,
    ) -> AuditRecord {
        AuditRecord {
            account_id: Some(account),
            actor: Actor {
                kind: ActorKind::User,
                id: user.to_string(),
            },
            action: action.to_owned(),
            target: Some(format!("user:{user}")),
            outcome: Outcome::Success,
            client_ip: meta.client_ip.clone(),
            request_id: meta.request_id.clone(),
            at: self.ports.clock.now(),
            details,
        }
    }
}

#[cfg(test)]
mod tests;
