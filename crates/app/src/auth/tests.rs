use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::TimeDelta;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use tessera_domain::account::Account;
use tessera_domain::ids::ServiceKeyId;
use tessera_domain::keys::AccessKey;
use tessera_domain::ports::{
    AccessKeyAuth, KeyPairGenerator, RepoError, ServiceKeyAuth, UserWithSecret,
};
use tessera_domain::roles::ids;

use tessera_domain::keys::{KeyStatus, ServiceKey};
use tessera_domain::roles::RoleId;
use tessera_domain::user::UserStatus;

use super::*;
use crate::infra::AwsLcKeyPairs;
use crate::testing::{ACME, Mocks, now, user};

const KEY_ID: &str = "AKABCDEFGHIJ01234567";

fn meta() -> RequestMeta {
    RequestMeta {
        client_ip: Some("192.0.2.1".into()),
        request_id: Some("r".into()),
    }
}

fn account(active: bool) -> Account {
    Account {
        active,
        ..crate::testing::account(ACME)
    }
}

fn access_key(status: KeyStatus, secret: &str) -> AccessKeyAuth {
    AccessKeyAuth {
        key: AccessKey {
            id: KEY_ID.parse().unwrap(),
            account_id: ACME,
            user_id: UserId(2),
            name: None,
            status,
            created_at: now(),
            validity: tessera_domain::keys::KeyValidity::default(),
            last_used_at: None,
            allowed_ips: Vec::new(),
            last_used_from: None,
        },
        secret_digest: digest(secret).to_vec(),
    }
}

/// Mocks for a store holding one active account, user 2 (Developer) and one access key.
fn with_key(m: &mut Mocks, status: KeyStatus, user_status: UserStatus) -> StdArc<AtomicUsize> {
    let lookups = StdArc::new(AtomicUsize::new(0));
    let l = lookups.clone();
    m.access_keys.expect_find_access_key().returning(move |_| {
        l.fetch_add(1, Ordering::SeqCst);
        Ok(Some(access_key(status, "s3cret")))
    });
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(account(true)));
    m.users.expect_get_user().returning(move |_, _| {
        let mut u = user(2, "dev01", &[ids::DEVELOPER]);
        u.email = Some("dev@example.com".into());
        u.status = user_status;
        Ok(u)
    });
    m.authz
        .expect_policy_rules_for_user()
        .returning(|_, _| Ok(vec![]));
    lookups
}

/// How many refusals of `kind` the app counted.
fn counted(app: &App, kind: crate::FailureKind) -> u64 {
    app.counts()
        .auth_failures
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(0, |(_, n)| *n)
}

/// The total of refusals the app counted, every kind.
fn counted_all(app: &App) -> u64 {
    app.counts().auth_failures.iter().map(|(_, n)| n).sum()
}

/// A clock the test moves, in milliseconds after `now()`.
pub(super) fn moving_clock(m: &mut Mocks) -> StdArc<std::sync::atomic::AtomicI64> {
    let offset = StdArc::new(std::sync::atomic::AtomicI64::new(0));
    let o = offset.clone();
    m.clock.checkpoint();
    m.clock
        .expect_now()
        .returning(move || now() + TimeDelta::milliseconds(o.load(Ordering::SeqCst)));
    offset
}

fn bearer(token: &str) -> Presented {
    Presented::Bearer(Secret::new(token))
}

#[test]
fn an_access_key_authenticates_once_then_comes_from_the_cache() {
    let mut m = Mocks::new();
    let lookups = with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    let app = m.app();
    let token = format!("tsr_{KEY_ID}_s3cret");
    let p = app.authenticate(&bearer(&token), &meta()).unwrap();
    assert_eq!(p.user_id, Some(UserId(2)));
    assert_eq!(p.credential, Credential::AccessKey(KEY_ID.parse().unwrap()));
    assert_eq!(p.subject.roles, vec![ids::DEVELOPER]);
    for _ in 0..3 {
        app.authenticate(&bearer(&token), &meta()).unwrap();
    }
    let basic = Presented::Basic {
        key_id: KEY_ID.into(),
        secret: Secret::new("s3cret"),
    };
    app.authenticate(&basic, &meta()).unwrap();
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        1,
        "Bearer and Basic share the cache entry"
    );
    app.cache.clear();
    app.authenticate(&bearer(&token), &meta()).unwrap();
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        2,
        "a local change forces a fresh lookup"
    );
}

#[test]
fn a_wrong_secret_fails_and_is_audited_without_the_secret() {
    let mut m = Mocks::new();
    with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    m.audit
        .expect_append_audit()
        .withf(|r| {
            r.action == "auth.failure"
                && r.account_id == Some(ACME)
                && r.actor.id == KEY_ID
                && r.client_ip.as_deref() == Some("192.0.2.1")
                && !r.details.to_string().contains("wrong")
        })
        .times(1)
        .returning(|_| Ok(()));
    let app = m.app();
    let err = app
        .authenticate(&bearer(&format!("tsr_{KEY_ID}_wrong")), &meta())
        .unwrap_err();
    assert_eq!(err, AppError::Unauthenticated(AuthFailure::Failed));
    assert_eq!(counted(&app, crate::FailureKind::BadSecret), 1);
    assert_eq!(counted_all(&app), 1);
}

#[test]
fn an_inactive_key_or_user_is_refused() {
    for (key, user, kind) in [
        (
            KeyStatus::Inactive,
            UserStatus::Active,
            crate::FailureKind::InactiveKey,
        ),
        (
            KeyStatus::Active,
            UserStatus::Inactive,
            crate::FailureKind::InactiveUser,
        ),
    ] {
        let mut m = Mocks::new();
        with_key(&mut m, key, user);
        m.audit.expect_append_audit().times(1).returning(|_| Ok(()));
        let app = m.app();
        let err = app
            .authenticate(&bearer(&format!("tsr_{KEY_ID}_s3cret")), &meta())
            .unwrap_err();
        assert_eq!(err, AppError::Unauthenticated(AuthFailure::Failed));
        assert_eq!((counted(&app, kind), counted_all(&app)), (1, 1), "{kind:?}");
    }
}

#[test]
fn x_auth_email_must_be_the_keys_users_email() {
    let mut m = Mocks::new();
    with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    m.audit.expect_append_audit().returning(|_| Ok(()));
    let app = m.app();
    let token = Secret::new(format!("tsr_{KEY_ID}_s3cret"));
    let right = Presented::EmailKey {
        email: "DEV@example.com".into(),
        key: token.clone(),
    };
    assert!(app.authenticate(&right, &meta()).is_ok());
    let wrong = Presented::EmailKey {
        email: "boss@example.com".into(),
        key: token,
    };
    assert_eq!(
        app.authenticate(&wrong, &meta()).unwrap_err(),
        AppError::Unauthenticated(AuthFailure::Failed)
    );
}

#[test]
fn the_legacy_account_id_must_match_the_keys_account() {
    let mut m = Mocks::new();
    with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    m.audit.expect_append_audit().returning(|_| Ok(()));
    let app = m.app();
    let key = Secret::new(format!("tsr_{KEY_ID}_s3cret"));
    let ok = Presented::Legacy {
        account: LegacyAccount::Id(ACME),
        api_key: key.clone(),
    };
    assert!(app.authenticate(&ok, &meta()).is_ok());
    let by_name = Presented::Legacy {
        account: LegacyAccount::Name("Acme".into()),
        api_key: key.clone(),
    };
    assert!(app.authenticate(&by_name, &meta()).is_ok());
    let other = Presented::Legacy {
        account: LegacyAccount::Id(AccountId(9)),
        api_key: key,
    };
    assert_eq!(
        app.authenticate(&other, &meta()).unwrap_err(),
        AppError::Unauthenticated(AuthFailure::Failed)
    );
}

#[test]
fn fifty_failures_from_one_address_lock_it() {
    let mut m = Mocks::new();
    m.access_keys
        .expect_find_access_key()
        .returning(|_| Ok(None));
    // Three kinds of failure: 50 wrong secrets from one address (one event, the rest folded),
    // the locked address (one event), the wrong secret from another address (one event).
    m.audit.expect_append_audit().times(3).returning(|_| Ok(()));
    let app = m.app();
    for _ in 0..50 {
        assert_eq!(
            app.authenticate(&bearer(&format!("tsr_{KEY_ID}_nope")), &meta())
                .unwrap_err(),
            AppError::Unauthenticated(AuthFailure::Failed)
        );
    }
    assert!(matches!(
        app.authenticate(&bearer(&format!("tsr_{KEY_ID}_nope")), &meta()),
        Err(AppError::RateLimited { .. })
    ));
    assert_eq!(counted(&app, crate::FailureKind::BadSecret), 50);
    assert_eq!(counted(&app, crate::FailureKind::LockedAddress), 1);
    let elsewhere = RequestMeta {
        client_ip: Some("192.0.2.2".into()),
        request_id: None,
    };
    assert_eq!(
        app.authenticate(&bearer(&format!("tsr_{KEY_ID}_nope")), &elsewhere)
            .unwrap_err(),
        AppError::Unauthenticated(AuthFailure::Failed)
    );
}

#[test]
fn nothing_is_served_when_the_versions_cannot_be_read() {
    let mut m = Mocks::new();
    m.authz = tessera_domain::ports::MockAuthzRepo::new();
    m.authz
        .expect_authz_version()
        .returning(|| Err(RepoError::Unavailable("down".into())));
    assert_eq!(
        m.app()
            .authenticate(&bearer(&format!("tsr_{KEY_ID}_s3cret")), &meta())
            .unwrap_err(),
        AppError::Unavailable("down".into())
    );
}

// ---- service-key JWTs ----

const KID: &str = "0b5d2c7e-1f7a-4c5e-9d42-6a3b2f1e0c9d";

fn jwt(pem: &str, iss: serde_json::Value, iat: i64, exp: i64) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.into());
    encode(
        &header,
        &serde_json::json!({"iss": iss, "iat": iat, "exp": exp}),
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn service_key(public_pem: &str, owner: Option<UserId>, roles: Vec<RoleId>) -> ServiceKeyAuth {
    ServiceKeyAuth {
        key: ServiceKey {
            id: ServiceKeyId(KID.parse().unwrap()),
            account_id: ACME,
            owner,
            name: "ci".into(),
            description: None,
            roles,
            created_at: now(),
            validity: tessera_domain::keys::KeyValidity::default(),
            allowed_ips: Vec::new(),
            last_used_at: None,
            last_used_from: None,
        },
        public_key_pem: public_pem.to_owned(),
    }
}

#[test]
fn a_jwt_of_an_account_key_acts_as_owner_limited_by_its_roles() {
    let pair = AwsLcKeyPairs.rsa_2048().unwrap();
    let public = pair.public_pem.clone();
    let mut m = Mocks::new();
    m.service_keys
        .expect_find_service_key()
        .returning(move |_| Ok(Some(service_key(&public, None, vec![ids::DEVELOPER]))));
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(account(true)));
    let t = now().timestamp();
    let token = jwt(pair.private_pem.expose(), "1".into(), t, t + 64);
    let p = m.app().authenticate(&bearer(&token), &meta()).unwrap();
    assert_eq!(p.user_id, None);
    assert_eq!(p.subject.roles, vec![ids::OWNER]);
    assert_eq!(p.subject.key_roles, Some(vec![ids::DEVELOPER]));
    assert_eq!(p.actor().id, KID);
}

#[test]
fn jwt_failures_keep_their_kinds() {
    let pair = AwsLcKeyPairs.rsa_2048().unwrap();
    let other = AwsLcKeyPairs.rsa_2048().unwrap();
    let public = pair.public_pem.clone();
    let mut m = Mocks::new();
    m.service_keys
        .expect_find_service_key()
        .returning(move |_| Ok(Some(service_key(&public, None, vec![]))));
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(account(true)));
    m.audit.expect_append_audit().returning(|_| Ok(()));
    let app = m.app();
    let t = now().timestamp();
    let pem = pair.private_pem.expose();
    use crate::FailureKind as K;
    let cases = [
        (
            "garbage".to_owned(),
            AuthFailure::TokenFormat,
            K::InvalidJwt,
        ),
        (
            jwt(pem, "1".into(), t, t + 3601),
            AuthFailure::TokenLifetime,
            K::JwtLifetime,
        ),
        (
            jwt(pem, "1".into(), t + 60, t + 120),
            AuthFailure::TokenFromFuture,
            K::JwtFromFuture,
        ),
        (
            jwt(pem, "1".into(), t - 200, t - 100),
            AuthFailure::TokenExpired,
            K::ExpiredJwt,
        ),
        (
            jwt(pem, "2".into(), t, t + 60),
            AuthFailure::Failed,
            K::InvalidJwt,
        ),
        (
            jwt(other.private_pem.expose(), "1".into(), t, t + 60),
            AuthFailure::Failed,
            K::InvalidJwt,
        ),
    ];
    for (token, failure, kind) in cases {
        let before = counted(&app, kind);
        assert_eq!(
            app.authenticate(&bearer(&token), &meta()).unwrap_err(),
            AppError::Unauthenticated(failure)
        );
        assert_eq!(counted(&app, kind), before + 1, "{kind:?}");
    }
    assert_eq!(counted_all(&app), 6);
}

#[test]
fn a_deleted_key_fails() {
    let pair = AwsLcKeyPairs.rsa_2048().unwrap();
    let mut m = Mocks::new();
    m.service_keys
        .expect_find_service_key()
        .returning(|_| Ok(None));
    m.audit.expect_append_audit().returning(|_| Ok(()));
    let t = now().timestamp();
    let token = jwt(pair.private_pem.expose(), 1.into(), t, t + 60);
    let app = m.app();
    assert_eq!(
        app.authenticate(&bearer(&token), &meta()).unwrap_err(),
        AppError::Unauthenticated(AuthFailure::Failed)
    );
    assert_eq!(counted(&app, crate::FailureKind::InvalidJwt), 1);
}

// ---- sessions and password sign-in ----

#[test]
fn an_expired_session_fails() {
    let mut m = Mocks::new();
    m.sessions.expect_find_session().returning(|_| {
        Ok(Some(crate::testing::stored_session(
            1,
            2,
            now() - TimeDelta::hours(2),
            now() - TimeDelta::seconds(1),
        )))
    });
    m.audit.expect_append_audit().returning(|_| Ok(()));
    let app = m.app();
    assert_eq!(
        app.authenticate(&bearer("tss_abc"), &meta()).unwrap_err(),
        AppError::Unauthenticated(AuthFailure::Failed)
    );
    assert_eq!(counted(&app, crate::FailureKind::ExpiredSession), 1);
}

fn login(password: &str) -> LoginCommand {
    LoginCommand {
        account_id: ACME,
        login: "Dev01".into(),
        password: Secret::new(password),
    }
}

fn known_user(m: &mut Mocks) {
    m.users.expect_find_user_by_login().returning(|_, l| {
        Ok((l.as_str() == "dev01").then(|| UserWithSecret {
            user: user(2, "dev01", &[ids::DEVELOPER]),
            password_hash: Some("$hash".into()),
        }))
    });
    m.hasher
        .expect_verify()
        .returning(|_, p| Ok(p.expose() == "R1ght-pass"));
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(account(true)));
}

#[test]
fn signing_in_stores_only_the_tokens_digest() {
    let mut m = Mocks::new();
    known_user(&mut m);
    m.ids.expect_secret().returning(|| Secret::new("abc"));
    m.ids
        .expect_hex32()
        .returning(|| tessera_domain::ids::Hex32([0xab; 16]));
    let id = tessera_domain::ids::SessionId(tessera_domain::ids::Hex32([0xab; 16]));
    m.sessions
        .expect_create_session()
        .withf(move |s, a| {
            s.token_digest == digest("tss_abc").to_vec()
                && s.id == id
                && s.expires_at == now() + TimeDelta::seconds(3600)
                && s.method == tessera_domain::keys::SignInMethod::Password
                && s.from.as_deref() == meta().client_ip.as_deref()
                && a.action == "session.create"
                && a.details["session_id"] == id.to_string()
                && !a.details.to_string().contains("abc")
        })
        .times(1)
        .returning(|_, _| Ok(()));
    let crate::SignIn::Session(s) = m.app().login(&meta(), login("R1ght-pass")).unwrap() else {
        panic!("no second factor is due: a session");
    };
    assert_eq!(s.token.expose(), "tss_abc");
    assert_eq!(s.session_id, id);
    assert_eq!(s.user_id, UserId(2));
}

#[test]
fn an_unknown_login_does_the_same_work_and_gets_the_same_error_as_a_wrong_password() {
    let mut m = Mocks::new();
    known_user(&mut m);
    m.hasher.expect_waste_time().times(1).return_const(());
    m.audit
        .expect_append_audit()
        .withf(|r| r.action == "auth.failure" && r.details["credential"] == "password")
        .times(2)
        .returning(|_| Ok(()));
    m.sessions.expect_create_session().times(0);
    let app = m.app();
    let unknown = app
        .login(
            &meta(),
            LoginCommand {
                login: "nobody".into(),
                ..login("R1ght-pass")
            },
        )
        .unwrap_err();
    let wrong = app.login(&meta(), login("Wr0ng-pass")).unwrap_err();
    assert_eq!(unknown, wrong);
    assert_eq!(wrong, AppError::Unauthenticated(AuthFailure::Failed));
}

#[test]
fn five_failures_lock_the_login_even_for_the_right_password() {
    let mut m = Mocks::new();
    known_user(&mut m);
    // The five wrong passwords fold into one event; the locked attempt is another.
    m.audit.expect_append_audit().times(2).returning(|_| Ok(()));
    m.sessions.expect_create_session().times(0);
    let app = m.app();
    for attempt in 1..=5 {
        assert_eq!(
            app.login(&meta(), login("Wr0ng-pass")).unwrap_err(),
            AppError::Unauthenticated(AuthFailure::Failed),
            "attempt {attempt} still answers as a failure"
        );
    }
    assert_eq!(
        app.login(&meta(), login("R1ght-pass")).unwrap_err(),
        AppError::RateLimited {
            retry_after_secs: 900
        }
    );
    assert_eq!(counted(&app, crate::FailureKind::BadPassword), 5);
    assert_eq!(counted(&app, crate::FailureKind::LockedLogin), 1);
    assert_eq!(counted(&app, crate::FailureKind::LockedAddress), 0);
    let gate = app.counts().gate;
    assert_eq!((gate.admitted, gate.rejected, gate.in_progress), (6, 0, 0));
}

#[test]
fn an_inactive_user_cannot_sign_in() {
    let mut m = Mocks::new();
    m.users.expect_find_user_by_login().returning(|_, _| {
        let mut u = user(2, "dev01", &[ids::DEVELOPER]);
        u.status = UserStatus::Inactive;
        Ok(Some(UserWithSecret {
            user: u,
            password_hash: Some("$hash".into()),
        }))
    });
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(account(true)));
    m.audit.expect_append_audit().returning(|_| Ok(()));
    m.sessions.expect_create_session().times(0);
    let app = m.app();
    assert_eq!(
        app.login(&meta(), login("R1ght-pass")).unwrap_err(),
        AppError::Unauthenticated(AuthFailure::Failed)
    );
    // Counted as a bad password, as the client is told: the metric does not reveal that the
    // password was right.
    assert_eq!(counted(&app, crate::FailureKind::BadPassword), 1);
    assert_eq!(counted_all(&app), 1);
}

#[test]
fn credentials_are_read_from_the_same_headers_by_every_adapter() {
    let headers = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        }
    };
    assert_eq!(
        Presented::from_headers(headers(&[("authorization", "Bearer tss_x")])),
        Some(bearer("tss_x"))
    );
    assert_eq!(
        Presented::from_headers(headers(&[
            ("x-auth-email", " dev@example.com "),
            ("x-auth-key", "tsr_k"),
        ])),
        Some(Presented::EmailKey {
            email: "dev@example.com".into(),
            key: Secret::new("tsr_k"),
        })
    );
    assert_eq!(
        Presented::from_headers(headers(&[
            ("authorization", "Bearer tss_x"),
            ("x-auth-email", "dev@example.com"),
            ("x-auth-key", "tsr_k"),
        ])),
        Some(bearer("tss_x")),
        "Authorization wins"
    );
    assert_eq!(
        Presented::from_headers(headers(&[("x-auth-email", "dev@example.com")])),
        None,
        "an email without a key is no credential"
    );
    assert_eq!(Presented::from_headers(headers(&[])), None);
}

#[test]
fn header_text_takes_visible_ascii_and_tab_only() {
    for b in 0..=u8::MAX {
        let value = [b'a', b, b'z'];
        let visible = b == b'\t' || (32..127).contains(&b);
        assert_eq!(header_text(&value).is_some(), visible, "byte {b:#04x}");
    }
    let jwt = format!(
        "Bearer {}.{}.{}",
        "e".repeat(40),
        "p".repeat(100),
        "s-_".repeat(114)
    );
    assert_eq!(header_text(jwt.as_bytes()), Some(jwt.as_str()));
    let mut late = jwt.into_bytes();
    late.push(0x80);
    assert_eq!(
        header_text(&late),
        None,
        "a bad byte at the end of a long value"
    );
    assert_eq!(header_text(b""), Some(""));
}

#[test]
fn a_deactivated_ancestor_refuses_the_credentials_of_every_descendant() {
    let mut m = Mocks::new();
    with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    m.accounts.checkpoint();
    let child = AccountId(10);
    m.access_keys.checkpoint();
    m.access_keys.expect_find_access_key().returning(move |_| {
        let mut k = access_key(KeyStatus::Active, "s3cret");
        k.key.account_id = child;
        Ok(Some(k))
    });
    m.accounts.expect_get_account().returning(move |id| {
        Ok(match id.0 {
            10 => Account {
                id: child,
                parent_id: Some(AccountId(5)),
                ..account(true)
            },
            5 => Account {
                id: AccountId(5),
                parent_id: Some(ACME),
                ..account(true)
            },
            _ => account(false),
        })
    });
    m.audit.expect_append_audit().returning(|_| Ok(()));
    let err = m
        .app()
        .authenticate(&bearer(&format!("tsr_{KEY_ID}_s3cret")), &meta())
        .unwrap_err();
    assert_eq!(err, AppError::Unauthenticated(AuthFailure::Failed));
}

#[test]
fn concurrent_guesses_never_test_more_than_the_limit() {
    let mut m = Mocks::new();
    let hashed = StdArc::new(AtomicUsize::new(0));
    let h = hashed.clone();
    m.users.expect_find_user_by_login().returning(|_, _| {
        Ok(Some(UserWithSecret {
            user: user(2, "dev01", &[ids::DEVELOPER]),
            password_hash: Some("$hash".into()),
        }))
    });
    m.hasher.expect_verify().returning(move |_, p| {
        h.fetch_add(1, Ordering::SeqCst);
        // Slow enough that the guesses overlap.
        std::thread::sleep(std::time::Duration::from_millis(20));
        Ok(p.expose() == "R1ght-pass")
    });
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(account(true)));
    m.audit.expect_append_audit().returning(|_| Ok(()));
    m.ids.expect_secret().returning(|| Secret::new("s"));
    m.ids
        .expect_hex32()
        .returning(|| tessera_domain::ids::Hex32([1; 16]));
    m.sessions.expect_create_session().returning(|_, _| Ok(()));
    // The sign-in gate admits them all: the limit under test is the attempts'.
    m.settings.sign_in_queue = 1000;
    m.settings.sign_in_queue_per_address = 1000;
    let app = StdArc::new(m.app());
    let outcomes: Vec<AppResult<crate::SignIn>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..40)
            .map(|n| {
                let app = app.clone();
                // The right password is among the guesses.
                let password = if n == 39 { "R1ght-pass" } else { "Wr0ng-pass" };
                s.spawn(move || app.login(&meta(), login(password)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        hashed.load(Ordering::SeqCst) <= 5,
        "{} passwords tested against a limit of 5",
        hashed.load(Ordering::SeqCst)
    );
    let limited = outcomes
        .iter()
        .filter(|o| matches!(o, Err(AppError::RateLimited { .. })))
        .count();
    assert!(limited >= 35, "{limited} refused before hashing");
}

mod addresses;
mod expiry;
mod invalidation;
mod last_use;
