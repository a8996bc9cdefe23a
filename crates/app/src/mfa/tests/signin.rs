//! The second step of password sign-in: challenges, codes (skew, replay, recovery), attempt
//! limits, and the account's requirement.

use std::sync::Arc;

use tessera_domain::Secret;
use tessera_domain::keys::SignInMethod;
use tessera_domain::roles::ids;

use super::{fixture, hotp, login_as, meta};
use crate::auth::secret_digest;
use crate::testing::ACME;
use crate::{AppError, AuthFailure, SignIn};

const FAILED: AppError = AppError::Unauthenticated(AuthFailure::Failed);

#[test]
fn a_user_without_a_second_factor_gets_a_session_at_once() {
    let fx = fixture(false, |_| {});
    assert!(matches!(fx.sign_in("dev01"), SignIn::Session(_)));
    assert_eq!(fx.sessions.lock()[0].method, SignInMethod::Password);
    // A pending enrolment protects nothing yet.
    fx.app
        .begin_totp_enrolment(&crate::testing::principal(2, &[ids::DEVELOPER]), &meta())
        .unwrap();
    assert!(matches!(fx.sign_in("dev01"), SignIn::Session(_)));
}

#[test]
fn a_confirmed_enrolment_turns_the_password_into_a_challenge_and_a_code_into_a_session() {
    let fx = fixture(false, |_| {});
    let (seed, _) = fx.enrol(2, &[ids::DEVELOPER]);
    let challenge = fx.challenge("dev01");
    assert_eq!(fx.sessions_opened(), 0, "no session for the password alone");
    assert!(challenge.challenge.expose().starts_with("tsm_"));
    assert_eq!(
        challenge.expires_at,
        fx.now() + chrono::TimeDelta::minutes(5)
    );
    let stored = fx.mfa.challenges.lock();
    assert!(
        stored.contains_key(&secret_digest(&challenge.challenge)),
        "stored as its digest"
    );
    drop(stored);
    let done = fx
        .app
        .complete_sign_in(&meta(), &challenge.challenge, &fx.code(&seed, 0))
        .unwrap();
    assert!(done.recovery_codes.is_none());
    assert_eq!(done.session.user_id.0, 2);
    let sessions = fx.sessions.lock();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].method, SignInMethod::PasswordTotp);
    assert!(
        fx.mfa.challenges.lock().is_empty(),
        "the challenge is used up"
    );
}

#[test]
fn a_challenge_works_once() {
    let fx = fixture(false, |_| {});
    let (seed, _) = fx.enrol(2, &[ids::DEVELOPER]);
    let challenge = fx.challenge("dev01");
    fx.app
        .complete_sign_in(&meta(), &challenge.challenge, &fx.code(&seed, 0))
        .unwrap();
    fx.next_step();
    let again = fx
        .app
        .complete_sign_in(&meta(), &challenge.challenge, &fx.code(&seed, 0))
        .unwrap_err();
    assert_eq!(again, FAILED);
    assert_eq!(fx.sessions_opened(), 1);
    assert_eq!(
        fx.enrolment(2).unwrap().last_step,
        Some(fx.step() - 1),
        "the fresh code was not used up by the refused challenge"
    );
}

#[test]
fn a_code_is_accepted_once_and_never_an_earlier_one() {
    let fx = fixture(false, |_| {});
    let (seed, _) = fx.enrol(2, &[ids::DEVELOPER]);
    let code = fx.code(&seed, 0);
    let first = fx.challenge("dev01");
    fx.app
        .complete_sign_in(&meta(), &first.challenge, &code)
        .unwrap();
    let second = fx.challenge("dev01");
    assert_eq!(
        fx.app
            .complete_sign_in(&meta(), &second.challenge, &code)
            .unwrap_err(),
        FAILED,
        "the same step again"
    );
    assert_eq!(
        fx.app
            .complete_sign_in(&meta(), &second.challenge, &fx.code(&seed, -1))
            .unwrap_err(),
        FAILED,
        "an earlier step"
    );
    assert!(
        fx.mfa
            .challenges
            .lock()
            .contains_key(&secret_digest(&second.challenge)),
        "a refused code leaves the challenge"
    );
    fx.next_step();
    fx.app
        .complete_sign_in(&meta(), &second.challenge, &fx.code(&seed, 0))
        .unwrap();
    assert_eq!(fx.sessions_opened(), 2);
}

#[test]
fn one_step_of_skew_either_way_is_accepted_and_two_are_not() {
    for (offset, accepted) in [(-2, false), (-1, true), (1, true), (2, false), (0, true)] {
        let fx = fixture(false, |_| {});
        let (seed, _) = fx.enrol(2, &[ids::DEVELOPER]);
        // Far enough from the confirming step that -2 is not a replay of it.
        fx.advance(300);
        let c = fx.challenge("dev01");
        let result = fx
            .app
            .complete_sign_in(&meta(), &c.challenge, &fx.code(&seed, offset));
        assert_eq!(result.is_ok(), accepted, "offset {offset}: {result:?}");
        if !accepted {
            assert_eq!(result.unwrap_err(), FAILED);
            assert_eq!(fx.sessions_opened(), 0);
        }
    }
}

#[test]
fn after_a_code_of_the_next_step_the_current_one_is_refused() {
    let fx = fixture(false, |_| {});
    let (seed, _) = fx.enrol(2, &[ids::DEVELOPER]);
    let c = fx.challenge("dev01");
    fx.app
        .complete_sign_in(&meta(), &c.challenge, &fx.code(&seed, 1))
        .unwrap();
    let c = fx.challenge("dev01");
    assert_eq!(
        fx.app
            .complete_sign_in(&meta(), &c.challenge, &fx.code(&seed, 0))
            .unwrap_err(),
        FAILED
    );
}

#[test]
fn a_recovery_code_works_once_in_place_of_a_code() {
    let fx = fixture(false, |_| {});
    let (_, codes) = fx.enrol(2, &[ids::DEVELOPER]);
    let c = fx.challenge("dev01");
    let upper = Secret::new(codes[0].expose().to_uppercase().replace('-', " "));
    fx.app
        .complete_sign_in(&meta(), &c.challenge, &upper)
        .unwrap();
    assert_eq!(fx.enrolment(2).unwrap().recovery_codes_left, 9);
    let used = fx.audited("mfa.recovery_code.use");
    assert_eq!(used.len(), 1);
    assert!(
        !used[0].details.to_string().contains(codes[0].expose()),
        "no code in the audit log"
    );
    let c = fx.challenge("dev01");
    assert_eq!(
        fx.app
            .complete_sign_in(&meta(), &c.challenge, &codes[0])
            .unwrap_err(),
        FAILED,
        "used"
    );
    fx.app
        .complete_sign_in(&meta(), &c.challenge, &codes[1])
        .unwrap();
    assert_eq!(fx.enrolment(2).unwrap().recovery_codes_left, 8);
}

#[test]
fn an_expired_unknown_or_foreign_challenge_is_the_wrong_password_answer() {
    let fx = fixture(false, |_| {});
    let (seed, _) = fx.enrol(2, &[ids::DEVELOPER]);
    let (owner_seed, _) = fx.enrol(1, &[ids::OWNER, ids::ADMINISTRATOR]);
    let last = fx.enrolment(2).unwrap().last_step;
    let c = fx.challenge("dev01");
    // The owner's code on the developer's challenge.
    assert_eq!(
        fx.app
            .complete_sign_in(&meta(), &c.challenge, &fx.code(&owner_seed, 0))
            .unwrap_err(),
        FAILED
    );
    for made_up in ["tsm_nothing", "", "tss_not-a-challenge"] {
        assert_eq!(
            fx.app
                .complete_sign_in(&meta(), &Secret::new(made_up), &fx.code(&seed, 0))
                .unwrap_err(),
            FAILED
        );
    }
    fx.advance(5 * 60);
    assert_eq!(
        fx.app
            .complete_sign_in(&meta(), &c.challenge, &fx.code(&seed, 0))
            .unwrap_err(),
        FAILED,
        "expired after five minutes"
    );
    assert_eq!(fx.sessions_opened(), 0);
    assert_eq!(fx.enrolment(2).unwrap().last_step, last, "no code used");
    let failures = fx.audited("auth.failure");
    assert!(failures.len() >= 2, "{failures:?}");
}

#[test]
fn wrong_codes_count_against_the_login_and_a_right_password_does_not_wipe_them() {
    let fx = fixture(false, |_| {});
    let (seed, _) = fx.enrol(2, &[ids::DEVELOPER]);
    let right = fx.code(&seed, 0).expose().to_owned();
    let wrong = Secret::new(format!(
        "{:06}",
        (right.parse::<u32>().unwrap() + 1) % 1_000_000
    ));
    for _ in 0..4 {
        let c = fx.challenge("dev01");
        assert_eq!(
            fx.app
                .complete_sign_in(&meta(), &c.challenge, &wrong)
                .unwrap_err(),
            FAILED
        );
    }
    assert_eq!(fx.app.lockout_of(ACME, "dev01").unwrap().failures, 4);
    // The fifth guess, from a new challenge after the right password again, reaches the limit.
    let c = fx.challenge("dev01");
    assert_eq!(
        fx.app
            .complete_sign_in(&meta(), &c.challenge, &wrong)
            .unwrap_err(),
        FAILED
    );
    let err = fx
        .app
        .complete_sign_in(&meta(), &c.challenge, &Secret::new(right))
        .unwrap_err();
    assert!(matches!(err, AppError::RateLimited { .. }), "{err:?}");
    let err = fx
        .app
        .login(&meta(), login_as("dev01", "R1ght-pass"))
        .unwrap_err();
    assert!(
        matches!(err, AppError::RateLimited { .. }),
        "the password is locked out too: {err:?}"
    );
    assert_eq!(fx.sessions_opened(), 0);
}

#[test]
fn a_completed_sign_in_forgets_the_logins_failures() {
    let fx = fixture(false, |_| {});
    let (seed, _) = fx.enrol(2, &[ids::DEVELOPER]);
    let c = fx.challenge("dev01");
    fx.app
        .complete_sign_in(&meta(), &c.challenge, &Secret::new("000000x"))
        .unwrap_err();
    assert_eq!(fx.app.lockout_of(ACME, "dev01").unwrap().failures, 1);
    fx.app
        .complete_sign_in(&meta(), &c.challenge, &fx.code(&seed, 0))
        .unwrap();
    assert_eq!(fx.app.lockout_of(ACME, "dev01").unwrap().failures, 0);
}

#[test]
fn concurrent_completions_with_one_code_open_one_session() {
    let fx = Arc::new(fixture(false, |_| {}));
    let (seed, _) = fx.enrol(2, &[ids::DEVELOPER]);
    let code = fx.code(&seed, 0);
    let challenges: Vec<_> = (0..4).map(|_| fx.challenge("dev01")).collect();
    let results: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = challenges
            .iter()
            .flat_map(|c| [c, c])
            .map(|c| {
                let fx = fx.clone();
                let code = code.clone();
                s.spawn(move || {
                    fx.app
                        .complete_sign_in(&meta(), &c.challenge, &code)
                        .is_ok()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "{results:?}");
    assert_eq!(fx.sessions_opened(), 1);
}

#[test]
fn an_inactive_user_cannot_complete() {
    // User 4 is inactive in the fixture; its enrolment is put straight into storage.
    let fx = fixture(false, |_| {});
    let seed = vec![7u8; 20];
    let sealed = tessera_domain::ports::Sealer::seal(fx.sealer.as_ref(), "totp:4", &seed);
    fx.mfa.enrolments.lock().insert(
        tessera_domain::ids::UserId(4),
        (
            tessera_domain::mfa::TotpEnrolment {
                account_id: ACME,
                user_id: tessera_domain::ids::UserId(4),
                sealed_secret: sealed,
                created_at: fx.now(),
                confirmed_at: Some(fx.now()),
                last_step: None,
                recovery_codes_left: 0,
            },
            Vec::new(),
        ),
    );
    // A challenge issued while it was active.
    let token = Secret::new("tsm_issued-before");
    fx.mfa.challenges.lock().insert(
        secret_digest(&token),
        tessera_domain::mfa::MfaChallenge {
            account_id: ACME,
            user_id: tessera_domain::ids::UserId(4),
            purpose: tessera_domain::mfa::ChallengePurpose::Verify,
            created_at: fx.now(),
            expires_at: fx.now() + chrono::TimeDelta::minutes(5),
        },
    );
    let code = Secret::new(hotp(&seed, u64::try_from(fx.step()).unwrap(), 6));
    assert_eq!(
        fx.app.complete_sign_in(&meta(), &token, &code).unwrap_err(),
        FAILED
    );
    assert_eq!(fx.sessions_opened(), 0);
    assert_eq!(fx.app.lockout_of(ACME, "gone1").unwrap().failures, 1);
}

#[test]
fn an_account_that_requires_a_second_factor_makes_a_user_enrol_at_sign_in() {
    let fx = fixture(true, |_| {});
    let SignIn::MfaEnrolmentRequired(c) = fx.sign_in("dev01") else {
        panic!("enrolment is due");
    };
    assert_eq!(fx.sessions_opened(), 0);
    assert_eq!(
        fx.app
            .complete_sign_in(&meta(), &c.challenge, &Secret::new("123456"))
            .unwrap_err(),
        FAILED,
        "nothing enrolled yet"
    );
    let shown = fx.app.enrol_at_sign_in(&meta(), &c.challenge).unwrap();
    let seed = super::seed_of(&shown);
    let done = fx
        .app
        .complete_sign_in(&meta(), &c.challenge, &fx.code(&seed, 0))
        .unwrap();
    assert_eq!(done.recovery_codes.as_ref().map(Vec::len), Some(10));
    assert_eq!(fx.sessions.lock()[0].method, SignInMethod::PasswordTotp);
    assert!(fx.enrolment(2).unwrap().is_confirmed());
    // From then on a code is due.
    fx.next_step();
    let next = fx.challenge("dev01");
    fx.app
        .complete_sign_in(&meta(), &next.challenge, &fx.code(&seed, 0))
        .unwrap();
    // And the enrolment challenge is spent: it shows no seed again.
    assert_eq!(
        fx.app.enrol_at_sign_in(&meta(), &c.challenge).unwrap_err(),
        FAILED
    );
}

#[test]
fn a_code_challenge_shows_no_seed_and_an_enrolled_user_is_not_re_enrolled() {
    let fx = fixture(true, |_| {});
    let SignIn::MfaEnrolmentRequired(enrol) = fx.sign_in("dev01") else {
        panic!("enrolment is due");
    };
    fx.enrol(2, &[ids::DEVELOPER]);
    let verify = fx.challenge("dev01");
    assert_eq!(
        fx.app
            .enrol_at_sign_in(&meta(), &verify.challenge)
            .unwrap_err(),
        FAILED
    );
    let before = fx.enrolment(2).unwrap();
    assert_eq!(
        fx.app
            .enrol_at_sign_in(&meta(), &enrol.challenge)
            .unwrap_err(),
        AppError::MfaEnrolled,
        "enrolled meanwhile: the old challenge cannot replace the seed"
    );
    assert_eq!(fx.enrolment(2).unwrap(), before);
}

#[test]
fn a_user_holds_at_most_five_live_challenges() {
    let fx = fixture(false, |_| {});
    let (seed, _) = fx.enrol(2, &[ids::DEVELOPER]);
    let first = fx.challenge("dev01");
    for _ in 0..9 {
        fx.advance(1);
        fx.challenge("dev01");
    }
    assert_eq!(fx.mfa.challenges.lock().len(), 5);
    assert_eq!(
        fx.app
            .complete_sign_in(&meta(), &first.challenge, &fx.code(&seed, 0))
            .unwrap_err(),
        FAILED,
        "the oldest went"
    );
}
