//! Second factors under concurrent writes on Postgres (SQLite's write transactions are serial):
//! an enrolment started while a confirmation of the pending one commits must not replace the
//! seed that confirmation made the user's second factor.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use tessera_domain::ports::{EnrolmentStarted, MfaRepo, NewTotpEnrolment, UserRepo};
use tessera_store::testing::TestDatabase;

use crate::fixtures::{account, at, audit_in, new_user, someone_waits_for_a_lock};

#[test]
fn an_enrolment_started_while_a_confirmation_commits_leaves_the_confirmed_seed() {
    let Some(db) = TestDatabase::postgres() else {
        return;
    };
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let alice = store
        .create_user(
            &new_user(acme, "alice", &[]),
            100,
            &audit_in(acme, "user.create"),
        )
        .unwrap()
        .id;
    let pending = |sealed: &[u8]| NewTotpEnrolment {
        account_id: acme,
        user_id: alice,
        sealed_secret: sealed.to_vec(),
        created_at: at(10),
    };
    assert_eq!(
        store
            .begin_totp_enrolment(&pending(b"seed-a"), &audit_in(acme, "mfa.totp.enrol"))
            .unwrap(),
        EnrolmentStarted::Pending
    );
    // The confirmation of seed-a (what `confirm_totp_enrolment` writes), in a transaction that
    // has not committed yet.
    let mut confirming = db.db.dedicated_connection().unwrap();
    confirming
        .batch_execute(&format!(
            "BEGIN; \
             UPDATE mfa_totp SET confirmed_at = TIMESTAMP '2026-09-22 10:00:00', last_step = 1000 \
             WHERE user_id = {id} AND confirmed_at IS NULL; \
             INSERT INTO mfa_recovery_codes (user_id, position, digest) \
             VALUES ({id}, 0, '\\x00');",
            id = alice.0
        ))
        .unwrap();

    // Another request of the user starts a new enrolment meanwhile.
    let (done, finished) = mpsc::channel();
    let s = store.clone();
    let new = pending(b"seed-b");
    std::thread::spawn(move || {
        let started = s.begin_totp_enrolment(&new, &audit_in(acme, "mfa.totp.enrol"));
        done.send(started).unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !someone_waits_for_a_lock(&db, "mfa_totp") {
        assert!(
            Instant::now() < deadline,
            "the new enrolment never waited for the confirmation"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    confirming.batch_execute("COMMIT").unwrap();
    let started = finished
        .recv_timeout(Duration::from_secs(20))
        .expect("the new enrolment after the commit")
        .unwrap();

    assert_eq!(
        started,
        EnrolmentStarted::AlreadyConfirmed,
        "the enrolment was confirmed before this one could replace it"
    );
    let e = store.totp_enrolment(acme, alice).unwrap().unwrap();
    assert_eq!(
        (
            e.sealed_secret.as_slice(),
            e.last_step,
            e.recovery_codes_left
        ),
        (b"seed-a".as_slice(), Some(1000), 1),
        "the confirmed seed, its step and its recovery code stay"
    );
    assert!(e.is_confirmed());
}
