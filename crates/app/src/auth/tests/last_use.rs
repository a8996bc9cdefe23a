//! Last use of keys and sessions on cache hits: recorded at most once a minute per credential,
//! within a minute of the truth, by the maintenance task; the requests in between ask only the
//! cached principal.

use tessera_domain::ids::{AccessKeyId, SessionId};
use tessera_domain::ports::Used;

use super::*;

type Written<T> = StdArc<parking_lot::Mutex<Vec<Used<T>>>>;

/// What the maintenance task writes, access keys and service keys (sessions: [`session_writes`]).
fn writes(m: &mut Mocks) -> (Written<AccessKeyId>, Written<ServiceKeyId>) {
    let access = StdArc::new(parking_lot::Mutex::new(Vec::new()));
    let service = StdArc::new(parking_lot::Mutex::new(Vec::new()));
    let (a, s) = (access.clone(), service.clone());
    m.access_keys
        .expect_touch_access_keys()
        .returning(move |uses| {
            a.lock().extend_from_slice(uses);
            Ok(())
        });
    m.service_keys
        .expect_touch_service_keys()
        .returning(move |uses| {
            s.lock().extend_from_slice(uses);
            Ok(())
        });
    m.sessions
        .expect_purge_expired_sessions()
        .returning(|_| Ok(0));
    m.sso.expect_purge_sso_logins().returning(|_| Ok(0));
    m.oauth_tokens
        .expect_prune_signing_keys()
        .returning(|_| Ok(0));
    m.oauth_tokens
        .expect_prune_revoked_tokens()
        .returning(|_| Ok(0));
    m.oauth_flow.expect_purge_oauth_flow().returning(|_| Ok(0));
    (access, service)
}

/// What the maintenance task writes for sessions.
fn session_writes(m: &mut Mocks) -> Written<SessionId> {
    let sessions = StdArc::new(parking_lot::Mutex::new(Vec::new()));
    let w = sessions.clone();
    m.sessions.expect_touch_sessions().returning(move |uses| {
        w.lock().extend_from_slice(uses);
        Ok(())
    });
    sessions
}

fn at(seconds: i64) -> DateTime<Utc> {
    now() + TimeDelta::seconds(seconds)
}

fn from(address: &str) -> RequestMeta {
    RequestMeta {
        client_ip: Some(address.into()),
        request_id: None,
    }
}

/// Moves the clock to `seconds` and reads the versions (cached principals need a recent read).
fn move_to(app: &App, clock: &std::sync::atomic::AtomicI64, seconds: i64) {
    clock.store(seconds * 1000, Ordering::SeqCst);
    app.sync_authz().unwrap();
}

#[test]
fn a_cached_access_key_is_recorded_once_a_minute_from_the_address_of_that_use() {
    let mut m = Mocks::new();
    let lookups = with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    let clock = moving_clock(&mut m);
    let (access, service) = writes(&mut m);
    let app = m.app();
    let token = bearer(&format!("tsr_{KEY_ID}_s3cret"));
    app.authenticate(&token, &from("192.0.2.1")).unwrap();
    for s in 0..60 {
        move_to(&app, &clock, s);
        for _ in 0..10 {
            let hit = app.authenticate_cached(&token, &from("192.0.2.9"));
            assert!(matches!(hit, Some(Ok(_))), "second {s}");
        }
    }
    app.maintain().unwrap();
    move_to(&app, &clock, 60);
    app.authenticate_cached(&token, &from("192.0.2.2"))
        .unwrap()
        .unwrap();
    app.authenticate_cached(&token, &from("192.0.2.3"))
        .unwrap()
        .unwrap();
    app.maintain().unwrap();
    let id: AccessKeyId = KEY_ID.parse().unwrap();
    assert_eq!(
        *access.lock(),
        vec![
            Used {
                id: id.clone(),
                at: at(0),
                from: Some("192.0.2.1".into()),
            },
            Used {
                id,
                at: at(60),
                from: Some("192.0.2.2".into()),
            },
        ]
    );
    assert!(service.lock().is_empty());
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        1,
        "every other use was a hit"
    );
}

#[test]
fn a_key_used_through_two_cached_principals_is_still_recorded_within_a_minute() {
    // Bearer and X-Auth-Email are two cache entries of one key: each principal skips the
    // tracker only while the key's last recorded use is less than a minute old.
    let mut m = Mocks::new();
    with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    let clock = moving_clock(&mut m);
    let (access, _) = writes(&mut m);
    let app = m.app();
    let token = format!("tsr_{KEY_ID}_s3cret");
    let bearer = bearer(&token);
    let email = Presented::EmailKey {
        email: "dev@example.com".into(),
        key: Secret::new(token),
    };
    app.authenticate(&bearer, &meta()).unwrap();
    move_to(&app, &clock, 30);
    app.authenticate(&email, &meta()).unwrap();
    for s in [61, 90, 121, 150, 181] {
        move_to(&app, &clock, s);
        app.authenticate_cached(&email, &meta()).unwrap().unwrap();
    }
    app.maintain().unwrap();
    let recorded: Vec<_> = access.lock().iter().map(|u| u.at).collect();
    assert_eq!(recorded, vec![at(0), at(61), at(121), at(181)]);
}

#[test]
fn a_cached_service_key_jwt_and_a_cached_session_are_each_recorded_once_a_minute() {
    let pair = AwsLcKeyPairs.rsa_2048().unwrap();
    let public = pair.public_pem.clone();
    let mut m = Mocks::new();
    m.service_keys
        .expect_find_service_key()
        .returning(move |_| Ok(Some(service_key(&public, None, vec![ids::DEVELOPER]))));
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(account(true)));
    m.sessions.expect_find_session().returning(|_| {
        Ok(Some(crate::testing::stored_session(
            3,
            2,
            now(),
            now() + TimeDelta::hours(1),
        )))
    });
    m.users
        .expect_get_user()
        .returning(|_, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
    m.authz
        .expect_policy_rules_for_user()
        .returning(|_, _| Ok(vec![]));
    let clock = moving_clock(&mut m);
    let (access, service) = writes(&mut m);
    let sessions = session_writes(&mut m);
    let app = m.app();
    let t = now().timestamp();
    let token = bearer(&jwt(pair.private_pem.expose(), "1".into(), t, t + 600));
    let session = bearer("tss_session");
    app.authenticate(&token, &meta()).unwrap();
    app.authenticate(&session, &from("198.51.100.4")).unwrap();
    for s in [1, 59, 60, 61, 119, 120] {
        move_to(&app, &clock, s);
        app.authenticate_cached(&token, &meta()).unwrap().unwrap();
        app.authenticate_cached(&session, &from("198.51.100.5"))
            .unwrap()
            .unwrap();
    }
    app.maintain().unwrap();
    let recorded: Vec<_> = service.lock().iter().map(|u| (u.id, u.at)).collect();
    let key = ServiceKeyId(KID.parse().unwrap());
    assert_eq!(recorded, vec![(key, at(0)), (key, at(60)), (key, at(120))]);
    assert!(access.lock().is_empty());
    let id = SessionId(tessera_domain::ids::Hex32([3; 16]));
    let recorded: Vec<_> = sessions
        .lock()
        .iter()
        .map(|u| (u.id, u.at, u.from.clone()))
        .collect();
    assert_eq!(
        recorded,
        vec![
            (id, at(0), Some("198.51.100.4".into())),
            (id, at(60), Some("198.51.100.5".into())),
            (id, at(120), Some("198.51.100.5".into())),
        ],
        "only the first use of each minute is written, with its address"
    );
}

#[test]
fn a_principal_claims_a_use_once_a_minute_and_never_runs_ahead_of_the_tracker() {
    let last = usage::LastUse::default();
    assert!(last.claim(at(0)), "never recorded");
    assert!(
        !last.claim(at(0)),
        "claimed: concurrent requests do not all go on"
    );
    assert!(!last.claim(at(59)));
    assert!(last.claim(at(60)));
    // The tracker answered an earlier use (through another principal of the key).
    last.set(at(40));
    assert!(!last.claim(at(99)));
    assert!(last.claim(at(100)));
    assert!(!last.claim(at(50)), "a clock that went back claims nothing");
    assert!(!last.clone().claim(at(159)), "a clone keeps the time");
}
