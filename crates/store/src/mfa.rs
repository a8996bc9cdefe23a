//! TOTP enrolments, recovery codes and sign-in challenges.
//!
//! Every acceptance of a code is a guarded `UPDATE` (a later step than the last accepted one,
//! an unused recovery code, the same sealed seed) followed, when a challenge goes with it, by a
//! guarded `DELETE` of the live challenge — in one transaction, rolled back when the second
//! finds nothing. On Postgres a concurrent request with the same code waits for the row lock
//! and then re-evaluates the guard against the committed row, so it finds nothing to update;
//! SQLite's write transactions are serial.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::mfa::{ChallengePurpose, MfaChallenge, RecoveryCode, TotpEnrolment};
use tessera_domain::ports::{
    EnrolmentStarted, MfaRepo, NewMfaChallenge, NewTotpEnrolment, Redeemed, Redemption, RepoError,
};

use crate::db::{AnyConnection, write_tx};
use crate::error::StoreError;
use crate::schema::{mfa_challenges, mfa_recovery_codes, mfa_totp, users};
use crate::time::{from_db, to_db};
use crate::{Store, audit};

/// What a transaction returns to be rolled back because its challenge was gone (the guarded
/// `DELETE` found nothing after the code was accepted): mapped to [`Redeemed::ChallengeGone`]
/// once the transaction is undone. Only this module raises it, and every read here is
/// `optional()`, so no other `NotFound` reaches that mapping.
fn challenge_gone() -> StoreError {
    StoreError::Rule(RepoError::NotFound)
}

fn outcome(result: Result<Redeemed, StoreError>) -> Result<Redeemed, RepoError> {
    match result {
        Err(StoreError::Rule(RepoError::NotFound)) => Ok(Redeemed::ChallengeGone),
        other => other.map_err(Into::into),
    }
}

/// Consumes the live challenge of `redemption`, if it names one; `Err(challenge_gone())` when
/// there is none to consume.
fn consume_challenge(conn: &mut AnyConnection, r: &Redemption) -> Result<(), StoreError> {
    let Some(digest) = &r.challenge else {
        return Ok(());
    };
    let n = diesel::delete(
        mfa_challenges::table
            .filter(mfa_challenges::token_hash.eq(digest))
            .filter(mfa_challenges::user_id.eq(r.user_id.0))
            .filter(mfa_challenges::account_id.eq(r.account_id.0))
            .filter(mfa_challenges::expires_at.gt(to_db(r.at))),
    )
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(challenge_gone())
    }
}

/// Locks the user's row until the transaction ends (Postgres; SQLite's write transactions are
/// serial) and tells whether the user exists in the account.
fn lock_user(
    conn: &mut AnyConnection,
    account: AccountId,
    user: UserId,
) -> Result<bool, StoreError> {
    let mine = users::table
        .filter(users::id.eq(user.0))
        .filter(users::account_id.eq(account.0))
        .select(users::id);
    let found: Option<i64> = match conn {
        AnyConnection::Postgresql(c) => mine.for_update().first(c).optional()?,
        AnyConnection::Sqlite(c) => mine.first(c).optional()?,
    };
    Ok(found.is_some())
}

/// The user's enrolment row, if any, as `confirmed_at`, locked until the transaction ends
/// (Postgres: a confirmation in flight is waited for and its outcome read; SQLite's write
/// transactions are serial).
fn lock_enrolment(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Option<Option<NaiveDateTime>>, StoreError> {
    let row = mfa_totp::table.find(user.0).select(mfa_totp::confirmed_at);
    Ok(match conn {
        AnyConnection::Postgresql(c) => row.for_update().first(c).optional()?,
        AnyConnection::Sqlite(c) => row.first(c).optional()?,
    })
}

type EnrolmentRow = (Vec<u8>, NaiveDateTime, Option<NaiveDateTime>, Option<i64>);

fn load_enrolment(
    conn: &mut AnyConnection,
    account: AccountId,
    user: UserId,
) -> Result<Option<TotpEnrolment>, StoreError> {
    let row: Option<EnrolmentRow> = mfa_totp::table
        .filter(mfa_totp::user_id.eq(user.0))
        .filter(mfa_totp::account_id.eq(account.0))
        .select((
            mfa_totp::sealed_secret,
            mfa_totp::created_at,
            mfa_totp::confirmed_at,
            mfa_totp::last_step,
        ))
        .first(conn)
        .optional()?;
    let Some((sealed_secret, created, confirmed, last_step)) = row else {
        return Ok(None);
    };
    let left: i64 = mfa_recovery_codes::table
        .filter(mfa_recovery_codes::user_id.eq(user.0))
        .filter(mfa_recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(Some(TotpEnrolment {
        account_id: account,
        user_id: user,
        sealed_secret,
        created_at: from_db(created),
        confirmed_at: confirmed.map(from_db),
        last_step,
        recovery_codes_left: u32::try_from(left).unwrap_or(0),
    }))
}

impl MfaRepo for Store {
    fn sealed_totp_seeds(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<(UserId, Vec<u8>)>, RepoError> {
        let mut conn = self.db.conn()?;
        let rows: Vec<(i64, Vec<u8>)> = mfa_totp::table
            .filter(mfa_totp::user_id.gt(after.map_or(i64::MIN, |u| u.0)))
            .order(mfa_totp::user_id)
            .limit(i64::from(limit))
            .select((mfa_totp::user_id, mfa_totp::sealed_secret))
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        Ok(rows.into_iter().map(|(u, s)| (UserId(u), s)).collect())
    }

    fn replace_totp_seed(&self, user: UserId, old: &[u8], new: &[u8]) -> Result<bool, RepoError> {
        let mut conn = self.db.conn()?;
        let n = diesel::update(
            mfa_totp::table
                .filter(mfa_totp::user_id.eq(user.0))
                .filter(mfa_totp::sealed_secret.eq(old)),
        )
        .set(mfa_totp::sealed_secret.eq(new))
        .execute(&mut *conn)
        .map_err(StoreError::from)?;
        Ok(n == 1)
    }

    fn totp_enrolment(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Option<TotpEnrolment>, RepoError> {
        let mut conn = self.db.conn()?;
        load_enrolment(&mut conn, account, user).map_err(Into::into)
    }

    fn unused_recovery_codes(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Vec<RecoveryCode>, RepoError> {
        let mut conn = self.db.conn()?;
        let rows: Vec<(i32, Vec<u8>)> = mfa_recovery_codes::table
            .inner_join(mfa_totp::table)
            .filter(mfa_totp::user_id.eq(user.0))
            .filter(mfa_totp::account_id.eq(account.0))
            .filter(mfa_recovery_codes::used_at.is_null())
            .order(mfa_recovery_codes::position)
            .select((mfa_recovery_codes::position, mfa_recovery_codes::digest))
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        Ok(rows
            .into_iter()
            .map(|(position, digest)| RecoveryCode { position, digest })
            .collect())
    }

    fn begin_totp_enrolment(
        &self,
        e: &NewTotpEnrolment,
        audit_record: &AuditRecord,
    ) -> Result<EnrolmentStarted, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            if !lock_user(c, e.account_id, e.user_id)? {
                return Err(StoreError::Rule(RepoError::NotFound));
            }
            // The enrolment's row is locked too: a confirmation does not take the user's lock,
            // and one committing between this read and the replacement below would otherwise
            // have its confirmed seed replaced by one nobody confirmed.
            let confirmed = lock_enrolment(c, e.user_id)?;
            match confirmed {
                Some(Some(_)) => return Ok(EnrolmentStarted::AlreadyConfirmed),
                Some(None) => {
                    diesel::delete(
                        mfa_recovery_codes::table
                            .filter(mfa_recovery_codes::user_id.eq(e.user_id.0)),
                    )
                    .execute(c)?;
                    diesel::update(mfa_totp::table.find(e.user_id.0))
                        .set((
                            mfa_totp::sealed_secret.eq(&e.sealed_secret),
                            mfa_totp::created_at.eq(to_db(e.created_at)),
                            mfa_totp::last_step.eq(None::<i64>),
                        ))
                        .execute(c)?;
                }
                None => {
                    diesel::insert_into(mfa_totp::table)
                        .values((
                            mfa_totp::user_id.eq(e.user_id.0),
                            mfa_totp::account_id.eq(e.account_id.0),
                            mfa_totp::sealed_secret.eq(&e.sealed_secret),
                            mfa_totp::created_at.eq(to_db(e.created_at)),
                        ))
                        .execute(c)?;
                }
            }
            audit::insert(c, audit_record)?;
            Ok(EnrolmentStarted::Pending)
        })
        .map_err(Into::into)
    }

    fn confirm_totp_enrolment(
        &self,
        r: &Redemption,
        step: i64,
        recovery_digests: &[Vec<u8>],
        audit_record: &AuditRecord,
    ) -> Result<Redeemed, RepoError> {
        let mut conn = self.db.conn()?;
        outcome(write_tx(&mut conn, |c| {
            let n = diesel::update(
                mfa_totp::table
                    .filter(mfa_totp::user_id.eq(r.user_id.0))
                    .filter(mfa_totp::account_id.eq(r.account_id.0))
                    .filter(mfa_totp::sealed_secret.eq(&r.sealed_secret))
                    .filter(mfa_totp::confirmed_at.is_null())
                    .filter(
                        mfa_totp::last_step
                            .is_null()
                            .or(mfa_totp::last_step.lt(step)),
                    ),
            )
            .set((
                mfa_totp::confirmed_at.eq(to_db(r.at)),
                mfa_totp::last_step.eq(step),
            ))
            .execute(c)?;
            if n == 0 {
                return Ok(Redeemed::CodeUsed);
            }
            diesel::delete(
                mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(r.user_id.0)),
            )
            .execute(c)?;
            for (position, digest) in (0i32..).zip(recovery_digests) {
                diesel::insert_into(mfa_recovery_codes::table)
                    .values((
                        mfa_recovery_codes::user_id.eq(r.user_id.0),
                        mfa_recovery_codes::position.eq(position),
                        mfa_recovery_codes::digest.eq(digest),
                    ))
                    .execute(c)?;
            }
            consume_challenge(c, r)?;
            audit::insert(c, audit_record)?;
            Ok(Redeemed::Accepted)
        }))
    }

    fn redeem_totp_step(&self, r: &Redemption, step: i64) -> Result<Redeemed, RepoError> {
        let mut conn = self.db.conn()?;
        outcome(write_tx(&mut conn, |c| {
            let n = diesel::update(
                mfa_totp::table
                    .filter(mfa_totp::user_id.eq(r.user_id.0))
                    .filter(mfa_totp::account_id.eq(r.account_id.0))
                    .filter(mfa_totp::sealed_secret.eq(&r.sealed_secret))
                    .filter(
                        mfa_totp::last_step
                            .is_null()
                            .or(mfa_totp::last_step.lt(step)),
                    ),
            )
            .set(mfa_totp::last_step.eq(step))
            .execute(c)?;
            if n == 0 {
                return Ok(Redeemed::CodeUsed);
            }
            consume_challenge(c, r)?;
            Ok(Redeemed::Accepted)
        }))
    }

    fn redeem_recovery_code(
        &self,
        r: &Redemption,
        position: i32,
        audit_record: &AuditRecord,
    ) -> Result<Redeemed, RepoError> {
        let mut conn = self.db.conn()?;
        outcome(write_tx(&mut conn, |c| {
            let same: Option<i64> = mfa_totp::table
                .filter(mfa_totp::user_id.eq(r.user_id.0))
                .filter(mfa_totp::account_id.eq(r.account_id.0))
                .filter(mfa_totp::sealed_secret.eq(&r.sealed_secret))
                .filter(mfa_totp::confirmed_at.is_not_null())
                .select(mfa_totp::user_id)
                .first(c)
                .optional()?;
            if same.is_none() {
                return Ok(Redeemed::CodeUsed);
            }
            let n = diesel::update(
                mfa_recovery_codes::table
                    .filter(mfa_recovery_codes::user_id.eq(r.user_id.0))
                    .filter(mfa_recovery_codes::position.eq(position))
                    .filter(mfa_recovery_codes::used_at.is_null()),
            )
            .set(mfa_recovery_codes::used_at.eq(to_db(r.at)))
            .execute(c)?;
            if n == 0 {
                return Ok(Redeemed::CodeUsed);
            }
            consume_challenge(c, r)?;
            audit::insert(c, audit_record)?;
            Ok(Redeemed::Accepted)
        }))
    }

    fn remove_totp_enrolment(
        &self,
        account: AccountId,
        user: UserId,
        audit_record: &AuditRecord,
    ) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let n = diesel::delete(
                mfa_totp::table
                    .filter(mfa_totp::user_id.eq(user.0))
                    .filter(mfa_totp::account_id.eq(account.0)),
            )
            .execute(c)?;
            if n == 0 {
                return Err(StoreError::Rule(RepoError::NotFound));
            }
            // The foreign key cascades; said here too, so no code outlives its enrolment.
            diesel::delete(
                mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user.0)),
            )
            .execute(c)?;
            audit::insert(c, audit_record)?;
            Ok(())
        })
        .map_err(Into::into)
    }

    fn users_with_totp(&self, account: AccountId) -> Result<Vec<UserId>, RepoError> {
        let mut conn = self.db.conn()?;
        let ids: Vec<i64> = mfa_totp::table
            .filter(mfa_totp::account_id.eq(account.0))
            .filter(mfa_totp::confirmed_at.is_not_null())
            .order(mfa_totp::user_id)
            .select(mfa_totp::user_id)
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    fn create_mfa_challenge(&self, ch: &NewMfaChallenge, max_live: u32) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |c| {
            let mine = || mfa_challenges::table.filter(mfa_challenges::user_id.eq(ch.user_id.0));
            diesel::delete(mine().filter(mfa_challenges::expires_at.le(to_db(ch.created_at))))
                .execute(c)?;
            let live: Vec<Vec<u8>> = mine()
                .order((
                    mfa_challenges::created_at.desc(),
                    mfa_challenges::token_hash,
                ))
                .select(mfa_challenges::token_hash)
                .load(c)?;
            let keep = usize::try_from(max_live.saturating_sub(1)).unwrap_or(0);
            if live.len() > keep {
                diesel::delete(
                    mfa_challenges::table.filter(mfa_challenges::token_hash.eq_any(&live[keep..])),
                )
                .execute(c)?;
            }
            diesel::insert_into(mfa_challenges::table)
                .values((
                    mfa_challenges::token_hash.eq(&ch.token_digest),
                    mfa_challenges::account_id.eq(ch.account_id.0),
                    mfa_challenges::user_id.eq(ch.user_id.0),
                    mfa_challenges::purpose.eq(ch.purpose.as_str()),
                    mfa_challenges::created_at.eq(to_db(ch.created_at)),
                    mfa_challenges::expires_at.eq(to_db(ch.expires_at)),
                ))
                .execute(c)?;
            Ok(())
        })
        .map_err(Into::into)
    }

    fn find_mfa_challenge(
        &self,
        token_digest: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<MfaChallenge>, RepoError> {
        let mut conn = self.db.conn()?;
        let row: Option<(i64, i64, String, NaiveDateTime, NaiveDateTime)> = mfa_challenges::table
            .filter(mfa_challenges::token_hash.eq(token_digest))
            .filter(mfa_challenges::expires_at.gt(to_db(now)))
            .select((
                mfa_challenges::account_id,
                mfa_challenges::user_id,
                mfa_challenges::purpose,
                mfa_challenges::created_at,
                mfa_challenges::expires_at,
            ))
            .first(&mut *conn)
            .optional()
            .map_err(StoreError::from)?;
        row.map(|(account, user, purpose, created, expires)| {
            Ok(MfaChallenge {
                account_id: AccountId(account),
                user_id: UserId(user),
                purpose: ChallengePurpose::parse(&purpose)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                created_at: from_db(created),
                expires_at: from_db(expires),
            })
        })
        .transpose()
        .map_err(|e: StoreError| e.into())
    }

    fn purge_expired_mfa_challenges(&self, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut conn = self.db.conn()?;
        let n =
            diesel::delete(mfa_challenges::table.filter(mfa_challenges::expires_at.le(to_db(now))))
                .execute(&mut *conn)
                .map_err(StoreError::from)?;
        Ok(n as u64)
    }
}
