use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::ids::{AccountId, UserId};
use crate::mfa::{ChallengePurpose, MfaChallenge, RecoveryCode, TotpEnrolment};

use super::RepoError;

/// A pending enrolment to store (the seed sealed already).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTotpEnrolment {
    /// Account.
    pub account_id: AccountId,
    /// User.
    pub user_id: UserId,
    /// The seed, sealed for `totp:<user id>`.
    pub sealed_secret: Vec<u8>,
    /// Now.
    pub created_at: DateTime<Utc>,
}

/// What starting an enrolment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolmentStarted {
    /// The pending enrolment is stored (any earlier pending one is replaced).
    Pending,
    /// The user has a confirmed enrolment: nothing changed.
    AlreadyConfirmed,
}

/// Where an accepted code came from, and what it consumes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    /// Account.
    pub account_id: AccountId,
    /// User.
    pub user_id: UserId,
    /// The sealed seed the code was checked against: the enrolment must still hold exactly it
    /// (a reset, or a new enrolment, in between refuses the code).
    pub sealed_secret: Vec<u8>,
    /// The digest of the sign-in challenge to consume with the code (`None`: a signed-in
    /// user's own request, no challenge).
    pub challenge: Option<Vec<u8>>,
    /// Now (a challenge that expired by now is gone).
    pub at: DateTime<Utc>,
}

/// The outcome of redeeming a code (or confirming an enrolment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeemed {
    /// The code is used up (its step, or the recovery code) and the challenge, if any,
    /// consumed — in one transaction.
    Accepted,
    /// The challenge is gone (used, expired, another user's): nothing changed.
    ChallengeGone,
    /// The code was used already (its step or a later one was accepted, or the recovery code
    /// was used) or the enrolment changed meanwhile: nothing changed.
    CodeUsed,
}

/// A sign-in challenge to store (its token's digest only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMfaChallenge {
    /// SHA-256 of the token.
    pub token_digest: Vec<u8>,
    /// Account.
    pub account_id: AccountId,
    /// User.
    pub user_id: UserId,
    /// What it allows.
    pub purpose: ChallengePurpose,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// TOTP enrolments, recovery codes and sign-in challenges.
///
/// Every acceptance of a code is one guarded write: a step is accepted only when it is later
/// than the last accepted one, a recovery code only while unused, a challenge only while live
/// — so two concurrent requests with the same code (on one instance or several) cannot both
/// succeed.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait MfaRepo: Send + Sync {
    /// The user's enrolment, pending or confirmed.
    ///
    /// # Errors
    /// Storage errors only; no enrolment is `Ok(None)`.
    fn totp_enrolment(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Option<TotpEnrolment>, RepoError>;

    /// The unused recovery codes of the user's enrolment.
    ///
    /// # Errors
    /// Storage errors only.
    fn unused_recovery_codes(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Vec<RecoveryCode>, RepoError>;

    /// Stores a pending enrolment, replacing a pending one (with its accepted step), unless the
    /// user has a confirmed one — decided under the user's and the enrolment's row locks, so a
    /// confirmation committing meanwhile is seen (and its seed never replaced).
    ///
    /// # Errors
    /// `NotFound` when the user does not exist in the account.
    fn begin_totp_enrolment(
        &self,
        enrolment: &NewTotpEnrolment,
        audit: &AuditRecord,
    ) -> Result<EnrolmentStarted, RepoError>;

    /// Confirms the pending enrolment holding `redemption.sealed_secret` with the code of
    /// `step` (recorded as the last accepted step), stores the recovery codes' digests and
    /// consumes the challenge, if any — all or nothing.
    ///
    /// # Errors
    /// Storage errors only; an enrolment that is not that pending one is `CodeUsed`.
    fn confirm_totp_enrolment(
        &self,
        redemption: &Redemption,
        step: i64,
        recovery_digests: &[Vec<u8>],
        audit: &AuditRecord,
    ) -> Result<Redeemed, RepoError>;

    /// Accepts the code of `step` for the enrolment holding `redemption.sealed_secret`, when
    /// `step` is later than its last accepted step, and consumes the challenge, if any — both
    /// or neither.
    ///
    /// # Errors
    /// Storage errors only.
    fn redeem_totp_step(&self, redemption: &Redemption, step: i64) -> Result<Redeemed, RepoError>;

    /// Marks the recovery code at `position` used, when it is unused and the enrolment still
    /// holds `redemption.sealed_secret`, and consumes the challenge, if any; writes `audit` —
    /// all or nothing.
    ///
    /// # Errors
    /// Storage errors only.
    fn redeem_recovery_code(
        &self,
        redemption: &Redemption,
        position: i32,
        audit: &AuditRecord,
    ) -> Result<Redeemed, RepoError>;

    /// Removes the user's enrolment (pending or confirmed) with its recovery codes.
    ///
    /// # Errors
    /// `NotFound` when the user has none.
    fn remove_totp_enrolment(
        &self,
        account: AccountId,
        user: UserId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;

    /// The users of `account` with a confirmed enrolment (for the credential report).
    ///
    /// # Errors
    /// Storage errors only.
    fn users_with_totp(&self, account: AccountId) -> Result<Vec<UserId>, RepoError>;

    /// Stores a challenge; the user's expired challenges are removed, and beyond `max_live`
    /// live ones the oldest go, in the same transaction (one user's challenges stay bounded).
    ///
    /// # Errors
    /// Storage errors only.
    fn create_mfa_challenge(
        &self,
        challenge: &NewMfaChallenge,
        max_live: u32,
    ) -> Result<(), RepoError>;

    /// The live challenge (not expired at `now`) whose token has this digest.
    ///
    /// # Errors
    /// Storage errors only; an unknown or expired one is `Ok(None)`.
    fn find_mfa_challenge(
        &self,
        token_digest: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<MfaChallenge>, RepoError>;

    /// Up to `limit` sealed TOTP seeds, by user id after `after`, for re-sealing under a new
    /// key.
    ///
    /// # Errors
    /// Storage errors only.
    fn sealed_totp_seeds(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<(UserId, Vec<u8>)>, RepoError>;

    /// Replaces user `user`'s sealed seed `old` by `new`; `false` when it is no longer `old`.
    ///
    /// # Errors
    /// Storage errors only.
    fn replace_totp_seed(&self, user: UserId, old: &[u8], new: &[u8]) -> Result<bool, RepoError>;

    /// Removes the challenges that expired by `now`; returns how many.
    ///
    /// # Errors
    /// Storage errors only.
    fn purge_expired_mfa_challenges(&self, now: DateTime<Utc>) -> Result<u64, RepoError>;
}
