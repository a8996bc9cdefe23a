//! The codes themselves: TOTP (RFC 6238 through `totp-rs`: HMAC-SHA-1, 6 digits, 30-second
//! steps, one step of skew either way), seeds, recovery codes and how a typed code is read.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_domain::Secret;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::ports::IdGenerator;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult};

/// The issuer authenticator apps show.
pub(crate) const ISSUER: &str = "Tessera";
/// Seconds per time step.
pub(crate) const STEP_SECS: i64 = 30;
/// Digits of a code.
const DIGITS: usize = 6;
/// Steps accepted either side of the current one (clock drift, a code typed at a step's end).
pub(crate) const SKEW_STEPS: i64 = 1;
/// Bytes of a seed: 160 bits, RFC 4226's recommendation.
const SEED_BYTES: usize = 20;
/// Recovery codes issued with an enrolment.
pub(crate) const RECOVERY_CODES: usize = 10;
/// Hex digits of a recovery code (64 bits).
const RECOVERY_HEX: usize = 16;

/// The sealing purpose of a user's seed: a sealed seed copied to another user's row does not
/// open there.
pub(crate) fn seal_purpose(user: UserId) -> String {
    format!("totp:{user}")
}

/// A new random seed.
pub(crate) fn new_seed(ids: &dyn IdGenerator) -> Zeroizing<Vec<u8>> {
    let mut seed = Zeroizing::new(Vec::with_capacity(32));
    seed.extend_from_slice(&ids.hex32().0);
    seed.extend_from_slice(&ids.hex32().0);
    seed.truncate(SEED_BYTES);
    seed
}

/// The generator for `seed`, labelled for an authenticator app.
///
/// # Errors
/// `Internal` for a seed shorter than 128 bits (never one this module made).
pub(crate) fn generator(seed: &[u8], label: String) -> AppResult<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        u8::try_from(SKEW_STEPS).unwrap_or(1),
        u64::try_from(STEP_SECS).unwrap_or(30),
        seed.to_vec(),
        Some(ISSUER.to_owned()),
        label,
    )
    .map_err(|e| AppError::Internal(format!("TOTP generator: {e}")))
}

/// The label of a user's enrolment in an authenticator app: its login and account (never `:`,
/// which logins cannot hold).
pub(crate) fn label(login: &str, account: AccountId) -> String {
    format!("{login} (account {account})")
}

/// The time step of `at`.
pub(crate) fn step_at(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(STEP_SECS)
}

/// The code of `step`.
pub(crate) fn code_at(totp: &TOTP, step: i64) -> String {
    totp.generate(u64::try_from(step.max(0) * STEP_SECS).unwrap_or(0))
}

/// What checking a TOTP code against the steps around `now` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepMatch {
    /// The code of this step, later than the last accepted one (the earliest such).
    Step(i64),
    /// The code of a step accepted already (or an earlier one): a replay.
    Used,
    /// No step around now has this code.
    None,
}

/// Finds the step within `SKEW_STEPS` of `now` whose code is `code`, comparing every
/// candidate in constant time (no early exit).
pub(crate) fn matching_step(
    totp: &TOTP,
    code: &str,
    now: DateTime<Utc>,
    last_step: Option<i64>,
) -> StepMatch {
    let current = step_at(now);
    let mut found = StepMatch::None;
    for step in (current - SKEW_STEPS)..=(current + SKEW_STEPS) {
        let same: bool = code_at(totp, step).as_bytes().ct_eq(code.as_bytes()).into();
        let fresh = last_step.is_none_or(|last| step > last);
        found = match (found, same, fresh) {
            (StepMatch::Step(s), _, _) => StepMatch::Step(s),
            (_, true, true) => StepMatch::Step(step),
            (_, true, false) => StepMatch::Used,
            (other, false, _) => other,
        };
    }
    found
}

/// How a typed code reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CodeForm {
    /// Six digits: a TOTP code.
    Totp(String),
    /// A recovery code, normalised (16 lower-case hex digits).
    Recovery(Zeroizing<String>),
    /// Neither.
    Malformed,
}

/// Reads a typed code: spaces and dashes are ignored, letters' case too.
pub(crate) fn read_code(code: &Secret) -> CodeForm {
    let text: Zeroizing<String> = Zeroizing::new(
        code.expose()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect(),
    );
    if text.len() == DIGITS && text.bytes().all(|b| b.is_ascii_digit()) {
        return CodeForm::Totp(text.to_string());
    }
    normalise_recovery_code(&text).map_or(CodeForm::Malformed, CodeForm::Recovery)
}

/// A recovery code as stored (16 lower-case hex digits, no dashes), when `text` is one.
#[must_use]
pub fn normalise_recovery_code(text: &str) -> Option<Zeroizing<String>> {
    let text: Zeroizing<String> = Zeroizing::new(
        text.chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect(),
    );
    (text.len() == RECOVERY_HEX && text.bytes().all(|b| b.is_ascii_hexdigit())).then_some(text)
}

/// The digest stored for a normalised recovery code.
pub(crate) fn recovery_digest(normalised: &str) -> Vec<u8> {
    Sha256::digest(normalised.as_bytes()).to_vec()
}

/// A new recovery code, as shown: `xxxx-xxxx-xxxx-xxxx` (64 random bits, hex).
pub(crate) fn new_recovery_code(ids: &dyn IdGenerator) -> Secret {
    let hex = Zeroizing::new(ids.hex32().to_string());
    let groups: Vec<&str> = (0..RECOVERY_HEX / 4)
        .map(|i| &hex[i * 4..i * 4 + 4])
        .collect();
    Secret::new(groups.join("-"))
}

/// Which unused recovery code (by position) has `digest`: every code is compared, in
/// constant time.
pub(crate) fn matching_recovery_code(
    codes: &[tessera_domain::mfa::RecoveryCode],
    digest: &[u8],
) -> Option<i32> {
    let mut found = None;
    for code in codes {
        let same: bool = code.digest.as_slice().ct_eq(digest).into();
        if same && found.is_none() {
            found = Some(code.position);
        }
    }
    found
}

#[cfg(test)]
mod tests;
