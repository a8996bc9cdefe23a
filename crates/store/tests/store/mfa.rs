//! Second factors in storage: enrolments, guarded acceptance of steps and recovery codes with
//! their challenge (all or nothing), concurrency, challenges' bounds and expiry, cascades.

use std::sync::Barrier;

use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::mfa::ChallengePurpose;
use tessera_domain::ports::{
    AccountChanges, AccountRepo, EnrolmentStarted, MfaRepo, NewMfaChallenge, NewTotpEnrolment,
    Redeemed, Redemption, RepoError, UserChanges, UserRepo,
};
use tessera_store::testing::TestDatabase;
use tessera_store::{Store, backend_tests};

use crate::fixtures::{account, at, audit_count, audit_in, new_user};

struct World {
    store: Store,
    acme: AccountId,
    alice: UserId,
    bob: UserId,
    other: AccountId,
}

fn world(db: &TestDatabase) -> World {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other").account.id;
    let alice = store
        .create_user(
            &new_user(acme, "alice", &[]),
            100,
            &audit_in(acme, "user.create"),
        )
        .unwrap()
        .id;
    let bob = store
        .create_user(
            &new_user(acme, "bobby", &[]),
            100,
            &audit_in(acme, "user.create"),
        )
        .unwrap()
        .id;
    World {
        store,
        acme,
        alice,
        bob,
        other,
    }
}

fn pending(w: &World, user: UserId, sealed: &[u8]) -> NewTotpEnrolment {
    NewTotpEnrolment {
        account_id: w.acme,
        user_id: user,
        sealed_secret: sealed.to_vec(),
        created_at: at(10),
    }
}

fn redemption(w: &World, user: UserId, sealed: &[u8], challenge: Option<&[u8]>) -> Redemption {
    Redemption {
        account_id: w.acme,
        user_id: user,
        sealed_secret: sealed.to_vec(),
        challenge: challenge.map(<[u8]>::to_vec),
        at: at(100),
    }
}

fn digests() -> Vec<Vec<u8>> {
    (0u8..10).map(|n| vec![n; 32]).collect()
}

/// Alice with a confirmed enrolment (`sealed`, last step 1000, ten codes).
fn confirmed(w: &World, sealed: &[u8]) {
    assert_eq!(
        w.store
            .begin_totp_enrolment(
                &pending(w, w.alice, sealed),
                &audit_in(w.acme, "mfa.totp.enrol")
            )
            .unwrap(),
        EnrolmentStarted::Pending
    );
    assert_eq!(
        w.store
            .confirm_totp_enrolment(
                &redemption(w, w.alice, sealed, None),
                1000,
                &digests(),
                &audit_in(w.acme, "mfa.totp.confirm"),
            )
            .unwrap(),
        Redeemed::Accepted
    );
}

fn challenge(w: &World, user: UserId, token: &[u8], expires: i64) {
    w.store
        .create_mfa_challenge(
            &NewMfaChallenge {
                token_digest: token.to_vec(),
                account_id: w.acme,
                user_id: user,
                purpose: ChallengePurpose::Verify,
                created_at: at(50),
                expires_at: at(expires),
            },
            5,
        )
        .unwrap();
}

fn an_enrolment_is_pending_until_confirmed_and_then_not_replaced(db: &TestDatabase) {
    let w = world(db);
    assert_eq!(w.store.totp_enrolment(w.acme, w.alice).unwrap(), None);
    let audits = audit_count(&w.store, w.acme);
    w.store
        .begin_totp_enrolment(
            &pending(&w, w.alice, b"first"),
            &audit_in(w.acme, "mfa.totp.enrol"),
        )
        .unwrap();
    w.store
        .redeem_totp_step(&redemption(&w, w.alice, b"first", None), 5)
        .unwrap();
    w.store
        .begin_totp_enrolment(
            &pending(&w, w.alice, b"second"),
            &audit_in(w.acme, "mfa.totp.enrol"),
        )
        .unwrap();
    let e = w.store.totp_enrolment(w.acme, w.alice).unwrap().unwrap();
    assert_eq!(e.sealed_secret, b"second");
    assert_eq!(e.last_step, None, "a replaced enrolment starts afresh");
    assert!(!e.is_confirmed());
    assert_eq!(audit_count(&w.store, w.acme), audits + 2);
    assert_eq!(
        w.store
            .confirm_totp_enrolment(
                &redemption(&w, w.alice, b"first", None),
                7,
                &digests(),
                &audit_in(w.acme, "mfa.totp.confirm"),
            )
            .unwrap(),
        Redeemed::CodeUsed,
        "the replaced seed confirms nothing"
    );
    w.store
        .confirm_totp_enrolment(
            &redemption(&w, w.alice, b"second", None),
            7,
            &digests(),
            &audit_in(w.acme, "mfa.totp.confirm"),
        )
        .unwrap();
    let e = w.store.totp_enrolment(w.acme, w.alice).unwrap().unwrap();
    assert_eq!(
        (e.confirmed_at, e.last_step, e.recovery_codes_left),
        (Some(at(100)), Some(7), 10)
    );
    assert_eq!(
        w.store
            .begin_totp_enrolment(
                &pending(&w, w.alice, b"third"),
                &audit_in(w.acme, "mfa.totp.enrol")
            )
            .unwrap(),
        EnrolmentStarted::AlreadyConfirmed
    );
    assert_eq!(
        w.store
            .totp_enrolment(w.acme, w.alice)
            .unwrap()
            .unwrap()
            .sealed_secret,
        b"second",
        "unchanged"
    );
    assert_eq!(w.store.users_with_totp(w.acme).unwrap(), vec![w.alice]);
    assert_eq!(w.store.users_with_totp(w.other).unwrap(), vec![]);
    assert_eq!(
        w.store.totp_enrolment(w.other, w.alice).unwrap(),
        None,
        "another account's user is not found"
    );
    let unknown = NewTotpEnrolment {
        account_id: w.other,
        ..pending(&w, w.alice, b"x")
    };
    assert_eq!(
        w.store
            .begin_totp_enrolment(&unknown, &audit_in(w.other, "mfa.totp.enrol"))
            .unwrap_err(),
        RepoError::NotFound
    );
}

fn a_step_is_accepted_once_and_only_after_the_last(db: &TestDatabase) {
    let w = world(db);
    confirmed(&w, b"seed");
    let r = redemption(&w, w.alice, b"seed", None);
    assert_eq!(
        w.store.redeem_totp_step(&r, 1000).unwrap(),
        Redeemed::CodeUsed
    );
    assert_eq!(
        w.store.redeem_totp_step(&r, 999).unwrap(),
        Redeemed::CodeUsed
    );
    assert_eq!(
        w.store.redeem_totp_step(&r, 1001).unwrap(),
        Redeemed::Accepted
    );
    assert_eq!(
        w.store.redeem_totp_step(&r, 1001).unwrap(),
        Redeemed::CodeUsed
    );
    let other_seed = redemption(&w, w.alice, b"not the seed", None);
    assert_eq!(
        w.store.redeem_totp_step(&other_seed, 2000).unwrap(),
        Redeemed::CodeUsed
    );
    let e = w.store.totp_enrolment(w.acme, w.alice).unwrap().unwrap();
    assert_eq!(e.last_step, Some(1001));
}

fn a_code_with_a_gone_challenge_changes_nothing(db: &TestDatabase) {
    let w = world(db);
    confirmed(&w, b"seed");
    challenge(&w, w.alice, b"live", 200);
    challenge(&w, w.alice, b"expired", 90);
    challenge(&w, w.bob, b"bobs", 200);
    let audits = audit_count(&w.store, w.acme);
    for token in [&b"expired"[..], b"bobs", b"never issued"] {
        let r = redemption(&w, w.alice, b"seed", Some(token));
        assert_eq!(
            w.store.redeem_totp_step(&r, 1005).unwrap(),
            Redeemed::ChallengeGone,
            "{token:?}"
        );
        assert_eq!(
            w.store
                .redeem_recovery_code(&r, 2, &audit_in(w.acme, "mfa.recovery_code.use"))
                .unwrap(),
            Redeemed::ChallengeGone
        );
    }
    let e = w.store.totp_enrolment(w.acme, w.alice).unwrap().unwrap();
    assert_eq!(e.last_step, Some(1000), "the step was rolled back");
    assert_eq!(
        e.recovery_codes_left, 10,
        "the recovery code was rolled back"
    );
    assert_eq!(
        audit_count(&w.store, w.acme),
        audits,
        "nor was anything audited"
    );
    assert!(
        w.store
            .find_mfa_challenge(b"bobs", at(100))
            .unwrap()
            .is_some()
    );
    let r = redemption(&w, w.alice, b"seed", Some(b"live"));
    assert_eq!(
        w.store.redeem_totp_step(&r, 1005).unwrap(),
        Redeemed::Accepted
    );
    assert!(
        w.store
            .find_mfa_challenge(b"live", at(100))
            .unwrap()
            .is_none()
    );
    assert_eq!(
        w.store.redeem_totp_step(&r, 1006).unwrap(),
        Redeemed::ChallengeGone,
        "used"
    );
}

fn a_recovery_code_is_used_once(db: &TestDatabase) {
    let w = world(db);
    confirmed(&w, b"seed");
    let r = redemption(&w, w.alice, b"seed", None);
    let use_audit = audit_in(w.acme, "mfa.recovery_code.use");
    assert_eq!(
        w.store.redeem_recovery_code(&r, 3, &use_audit).unwrap(),
        Redeemed::Accepted
    );
    assert_eq!(
        w.store.redeem_recovery_code(&r, 3, &use_audit).unwrap(),
        Redeemed::CodeUsed
    );
    assert_eq!(
        w.store.redeem_recovery_code(&r, 42, &use_audit).unwrap(),
        Redeemed::CodeUsed
    );
    let unused = w.store.unused_recovery_codes(w.acme, w.alice).unwrap();
    assert_eq!(unused.len(), 9);
    assert!(unused.iter().all(|c| c.position != 3));
    assert_eq!(unused[0].digest, vec![0u8; 32]);
    assert!(
        w.store
            .unused_recovery_codes(w.other, w.alice)
            .unwrap()
            .is_empty()
    );
    let wrong_seed = redemption(&w, w.alice, b"other", None);
    assert_eq!(
        w.store
            .redeem_recovery_code(&wrong_seed, 4, &use_audit)
            .unwrap(),
        Redeemed::CodeUsed
    );
}

fn concurrent_uses_of_one_code_accept_one(db: &TestDatabase) {
    const THREADS: usize = 12;
    let w = world(db);
    confirmed(&w, b"seed");
    for n in 0..THREADS {
        challenge(&w, w.alice, format!("c{n}").as_bytes(), 200);
    }
    // Five stay live at most per user.
    let live: Vec<usize> = (0..THREADS)
        .filter(|n| {
            w.store
                .find_mfa_challenge(format!("c{n}").as_bytes(), at(100))
                .unwrap()
                .is_some()
        })
        .collect();
    assert_eq!(live.len(), 5);
    let barrier = Barrier::new(THREADS);
    let outcomes: Vec<Redeemed> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|n| {
                let (store, barrier, w) = (w.store.clone(), &barrier, &w);
                // Half the threads share one challenge, the rest use their own.
                let token = format!("c{}", live[if n % 2 == 0 { 0 } else { n % live.len() }]);
                s.spawn(move || {
                    barrier.wait();
                    let r = redemption(w, w.alice, b"seed", Some(token.as_bytes()));
                    store.redeem_totp_step(&r, 1001).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let accepted = outcomes
        .iter()
        .filter(|o| **o == Redeemed::Accepted)
        .count();
    assert_eq!(accepted, 1, "{outcomes:?}");
    let barrier = Barrier::new(THREADS);
    let used: Vec<Redeemed> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (store, barrier, w) = (w.store.clone(), &barrier, &w);
                s.spawn(move || {
                    barrier.wait();
                    let r = redemption(w, w.alice, b"seed", None);
                    store
                        .redeem_recovery_code(&r, 6, &audit_in(w.acme, "mfa.recovery_code.use"))
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        used.iter().filter(|o| **o == Redeemed::Accepted).count(),
        1,
        "{used:?}"
    );
    assert_eq!(
        w.store
            .totp_enrolment(w.acme, w.alice)
            .unwrap()
            .unwrap()
            .last_step,
        Some(1001)
    );
}

fn concurrent_enrolments_leave_one_pending_row(db: &TestDatabase) {
    const THREADS: usize = 8;
    let w = world(db);
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for n in 0..THREADS {
            let (store, barrier, w) = (w.store.clone(), &barrier, &w);
            s.spawn(move || {
                barrier.wait();
                let sealed = format!("seed{n}");
                store
                    .begin_totp_enrolment(
                        &pending(w, w.bob, sealed.as_bytes()),
                        &audit_in(w.acme, "mfa.totp.enrol"),
                    )
                    .unwrap()
            });
        }
    });
    let e = w.store.totp_enrolment(w.acme, w.bob).unwrap().unwrap();
    assert!(e.sealed_secret.starts_with(b"seed") && !e.is_confirmed());
}

fn challenges_expire_and_are_bounded_per_user(db: &TestDatabase) {
    let w = world(db);
    for n in 0..3 {
        w.store
            .create_mfa_challenge(
                &NewMfaChallenge {
                    token_digest: vec![n; 32],
                    account_id: w.acme,
                    user_id: w.alice,
                    purpose: ChallengePurpose::Enrol,
                    created_at: at(i64::from(n)),
                    expires_at: at(300 + i64::from(n)),
                },
                2,
            )
            .unwrap();
    }
    assert!(
        w.store
            .find_mfa_challenge(&[0; 32], at(10))
            .unwrap()
            .is_none(),
        "dropped"
    );
    let found = w
        .store
        .find_mfa_challenge(&[2; 32], at(10))
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.user_id, found.purpose, found.expires_at),
        (w.alice, ChallengePurpose::Enrol, at(302))
    );
    assert!(
        w.store
            .find_mfa_challenge(&[1; 32], at(301))
            .unwrap()
            .is_none(),
        "expired"
    );
    challenge(&w, w.bob, b"bob", 1000);
    assert_eq!(w.store.purge_expired_mfa_challenges(at(302)).unwrap(), 2);
    assert!(
        w.store
            .find_mfa_challenge(b"bob", at(302))
            .unwrap()
            .is_some()
    );
}

fn removing_an_enrolment_removes_its_codes_and_a_deleted_user_takes_everything(db: &TestDatabase) {
    let w = world(db);
    assert_eq!(
        w.store
            .remove_totp_enrolment(w.acme, w.alice, &audit_in(w.acme, "mfa.reset"))
            .unwrap_err(),
        RepoError::NotFound
    );
    confirmed(&w, b"seed");
    assert_eq!(
        w.store
            .remove_totp_enrolment(w.other, w.alice, &audit_in(w.other, "mfa.reset"))
            .unwrap_err(),
        RepoError::NotFound,
        "another account's user"
    );
    w.store
        .remove_totp_enrolment(w.acme, w.alice, &audit_in(w.acme, "mfa.reset"))
        .unwrap();
    assert_eq!(w.store.totp_enrolment(w.acme, w.alice).unwrap(), None);
    assert!(
        w.store
            .unused_recovery_codes(w.acme, w.alice)
            .unwrap()
            .is_empty()
    );
    // A new enrolment starts with no codes.
    confirmed(&w, b"again");
    challenge(&w, w.alice, b"alice", 1000);
    w.store
        .delete_user(w.acme, w.alice, &audit_in(w.acme, "user.delete"))
        .unwrap();
    assert_eq!(w.store.totp_enrolment(w.acme, w.alice).unwrap(), None);
    assert!(
        w.store
            .find_mfa_challenge(b"alice", at(100))
            .unwrap()
            .is_none()
    );
    assert!(w.store.users_with_totp(w.acme).unwrap().is_empty());
}

fn a_new_password_ends_the_users_challenges(db: &TestDatabase) {
    let w = world(db);
    challenge(&w, w.alice, b"alice", 1000);
    challenge(&w, w.bob, b"bob", 1000);
    w.store
        .update_user(
            w.acme,
            w.alice,
            &UserChanges {
                description: Some(Some("renamed".into())),
                updated_at: at(60),
                ..UserChanges::default()
            },
            &audit_in(w.acme, "user.update"),
        )
        .unwrap();
    assert!(
        w.store
            .find_mfa_challenge(b"alice", at(100))
            .unwrap()
            .is_some(),
        "other changes leave it"
    );
    w.store
        .update_user(
            w.acme,
            w.alice,
            &UserChanges {
                password_hash: Some("$argon2id$new".into()),
                updated_at: at(61),
                ..UserChanges::default()
            },
            &audit_in(w.acme, "user.update"),
        )
        .unwrap();
    assert!(
        w.store
            .find_mfa_challenge(b"alice", at(100))
            .unwrap()
            .is_none()
    );
    assert!(
        w.store
            .find_mfa_challenge(b"bob", at(100))
            .unwrap()
            .is_some()
    );
}

fn an_account_requires_a_second_factor_only_when_told(db: &TestDatabase) {
    let w = world(db);
    assert!(
        !w.store.get_account(w.acme).unwrap().require_mfa,
        "off by default"
    );
    let on = w
        .store
        .update_account(
            w.acme,
            &AccountChanges {
                require_mfa: Some(true),
                ..AccountChanges::default()
            },
            &audit_in(w.acme, "account.update"),
        )
        .unwrap();
    assert!(on.require_mfa);
    let renamed = w
        .store
        .update_account(
            w.acme,
            &AccountChanges {
                name: Some("Acme 2".into()),
                ..AccountChanges::default()
            },
            &audit_in(w.acme, "account.update"),
        )
        .unwrap();
    assert!(renamed.require_mfa, "other changes leave it");
    assert!(!w.store.get_account(w.other).unwrap().require_mfa);
}

backend_tests!(
    an_enrolment_is_pending_until_confirmed_and_then_not_replaced,
    a_step_is_accepted_once_and_only_after_the_last,
    a_code_with_a_gone_challenge_changes_nothing,
    a_recovery_code_is_used_once,
    concurrent_uses_of_one_code_accept_one,
    concurrent_enrolments_leave_one_pending_row,
    challenges_expire_and_are_bounded_per_user,
    removing_an_enrolment_removes_its_codes_and_a_deleted_user_takes_everything,
    a_new_password_ends_the_users_challenges,
    an_account_requires_a_second_factor_only_when_told
);
