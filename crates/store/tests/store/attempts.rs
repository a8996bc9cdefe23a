use chrono::{TimeDelta, TimeZone, Utc};
use tessera_domain::ports::{AttemptKey, AttemptRepo, Reservation};
use tessera_store::backend_tests;
use tessera_store::testing::TestDatabase;

fn key(k: &str, max: u32) -> AttemptKey {
    AttemptKey { key: k.into(), max }
}

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()
}

fn attempts_lock_at_the_limit_until_the_window_ends(db: &TestDatabase) {
    let store = db.store();
    for n in 0..3 {
        assert_eq!(
            store
                .reserve_attempt(&[key("login:1:bob", 3)], 60, t0() + TimeDelta::seconds(n))
                .unwrap(),
            Reservation::Granted
        );
    }
    assert_eq!(
        store
            .reserve_attempt(&[key("login:1:bob", 3)], 60, t0() + TimeDelta::seconds(10))
            .unwrap(),
        Reservation::Locked {
            until: t0() + TimeDelta::seconds(60)
        }
    );
    let count = store
        .attempt_count("login:1:bob", 60, t0() + TimeDelta::seconds(10))
        .unwrap()
        .unwrap();
    assert_eq!((count.attempts, count.since), (3, t0()));
    assert_eq!(
        store
            .reserve_attempt(&[key("login:1:bob", 3)], 60, t0() + TimeDelta::seconds(61))
            .unwrap(),
        Reservation::Granted,
        "a new window"
    );
}

fn a_locked_key_counts_nothing_under_the_others(db: &TestDatabase) {
    let store = db.store();
    store
        .reserve_attempt(&[key("address:10.0.0.1", 1)], 60, t0())
        .unwrap();
    let both = [key("login:1:bob", 5), key("address:10.0.0.1", 1)];
    assert!(matches!(
        store.reserve_attempt(&both, 60, t0()).unwrap(),
        Reservation::Locked { .. }
    ));
    assert_eq!(
        store.attempt_count("login:1:bob", 60, t0()).unwrap(),
        None,
        "the login's count was given back"
    );
}

fn released_and_cleared_attempts_no_longer_count(db: &TestDatabase) {
    let store = db.store();
    let keys = [key("login:1:amy", 2), key("address:10.0.0.2", 2)];
    store.reserve_attempt(&keys, 60, t0()).unwrap();
    store.reserve_attempt(&keys, 60, t0()).unwrap();
    store
        .release_attempt(&["address:10.0.0.2".to_owned()])
        .unwrap();
    assert_eq!(
        store
            .attempt_count("address:10.0.0.2", 60, t0())
            .unwrap()
            .unwrap()
            .attempts,
        1
    );
    assert!(store.clear_attempts("login:1:amy").unwrap());
    assert!(!store.clear_attempts("login:1:amy").unwrap());
    assert_eq!(
        store.reserve_attempt(&keys, 60, t0()).unwrap(),
        Reservation::Granted
    );
    store.purge_attempts(t0() + TimeDelta::seconds(1)).unwrap();
    assert_eq!(
        store.attempt_count("address:10.0.0.2", 60, t0()).unwrap(),
        None
    );
}

fn concurrent_reservations_never_pass_the_limit(db: &TestDatabase) {
    let store = db.store();
    let granted: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let store = store.clone();
                s.spawn(move || {
                    (0..4)
                        .filter(|_| {
                            store
                                .reserve_attempt(
                                    &[key("login:1:eve", 5), key("address:10.0.0.9", 50)],
                                    900,
                                    t0(),
                                )
                                .unwrap()
                                == Reservation::Granted
                        })
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(granted, 5);
}

/// Successful sign-ins clear a login's counter while others reserve attempts on it: a
/// reservation never fails because the row vanished between its statements.
fn reservations_survive_concurrent_clears(db: &TestDatabase) {
    let store = db.store();
    std::thread::scope(|s| {
        let clearer = s.spawn(|| {
            for _ in 0..300 {
                store.clear_attempts("login:1:busy").unwrap();
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        });
        let reservers: Vec<_> = (0..2)
            .map(|_| {
                let store = store.clone();
                s.spawn(move || {
                    (0..300)
                        .filter(|_| {
                            store
                                .reserve_attempt(&[key("login:1:busy", 1_000_000)], 900, t0())
                                .is_err()
                        })
                        .count()
                })
            })
            .collect();
        let failed: usize = reservers.into_iter().map(|r| r.join().unwrap()).sum();
        clearer.join().unwrap();
        assert_eq!(
            failed, 0,
            "reservations failed while the counter was being cleared"
        );
    });
}

backend_tests!(
    reservations_survive_concurrent_clears,
    attempts_lock_at_the_limit_until_the_window_ends,
    a_locked_key_counts_nothing_under_the_others,
    released_and_cleared_attempts_no_longer_count,
    concurrent_reservations_never_pass_the_limit
);
