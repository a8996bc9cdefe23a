//! Keys outside their validity: refused like a deleted key, each with its own reason, counted
//! and audited; a cached principal stops at its key's `expires_at`.

use tessera_domain::keys::KeyValidity;

use super::*;

/// Mocks for `with_key`'s access key, valid as `validity` says.
fn with_key_valid(m: &mut Mocks, validity: KeyValidity) -> StdArc<AtomicUsize> {
    let lookups = with_key(m, KeyStatus::Active, UserStatus::Active);
    m.access_keys.checkpoint();
    let l = lookups.clone();
    m.access_keys.expect_find_access_key().returning(move |_| {
        l.fetch_add(1, Ordering::SeqCst);
        let mut k = access_key(KeyStatus::Active, "s3cret");
        k.key.validity = validity;
        Ok(Some(k))
    });
    lookups
}

fn audited_reasons(m: &mut Mocks) -> StdArc<parking_lot::Mutex<Vec<String>>> {
    let reasons = StdArc::new(parking_lot::Mutex::new(Vec::new()));
    let r = reasons.clone();
    m.audit.expect_append_audit().returning(move |rec| {
        assert_eq!(rec.action, "auth.failure");
        r.lock().push(
            rec.details["reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
        Ok(())
    });
    reasons
}

#[test]
fn an_access_key_outside_its_validity_is_refused_with_its_own_reason() {
    let cases = [
        (
            KeyValidity {
                not_before: None,
                expires_at: Some(now()),
            },
            AuthFailure::KeyExpired,
            crate::FailureKind::ExpiredKey,
            "key expired",
        ),
        (
            KeyValidity {
                not_before: Some(now() + TimeDelta::milliseconds(1)),
                expires_at: None,
            },
            AuthFailure::KeyNotYetValid,
            crate::FailureKind::KeyNotYetValid,
            "key not yet valid",
        ),
    ];
    for (validity, failure, kind, reason) in cases {
        let mut m = Mocks::new();
        with_key_valid(&mut m, validity);
        let reasons = audited_reasons(&mut m);
        let app = m.app();
        for presented in [
            bearer(&format!("tsr_{KEY_ID}_s3cret")),
            Presented::Basic {
                key_id: KEY_ID.into(),
                secret: Secret::new("s3cret"),
            },
        ] {
            assert_eq!(
                app.authenticate(&presented, &RequestMeta::default())
                    .unwrap_err(),
                AppError::Unauthenticated(failure)
            );
        }
        assert_eq!(counted(&app, kind), 2, "{kind:?}");
        assert_eq!(reasons.lock().first().map(String::as_str), Some(reason));
        // The wrong secret of such a key says nothing about it.
        assert_eq!(
            app.authenticate(&bearer(&format!("tsr_{KEY_ID}_wrong")), &meta())
                .unwrap_err(),
            AppError::Unauthenticated(AuthFailure::Failed)
        );
    }
}

#[test]
fn a_key_works_from_its_not_before_on() {
    let mut m = Mocks::new();
    let clock = moving_clock(&mut m);
    with_key_valid(
        &mut m,
        KeyValidity {
            not_before: Some(now() + TimeDelta::seconds(2)),
            expires_at: None,
        },
    );
    m.audit.expect_append_audit().returning(|_| Ok(()));
    let app = m.app();
    let token = bearer(&format!("tsr_{KEY_ID}_s3cret"));
    assert_eq!(
        app.authenticate(&token, &meta()).unwrap_err(),
        AppError::Unauthenticated(AuthFailure::KeyNotYetValid)
    );
    clock.store(1999, Ordering::SeqCst);
    assert!(
        app.authenticate(&token, &meta()).is_err(),
        "a refusal is never cached"
    );
    clock.store(2000, Ordering::SeqCst);
    assert_eq!(
        app.authenticate(&token, &meta()).unwrap().user_id,
        Some(UserId(2))
    );
}

#[test]
fn a_cached_access_key_stops_at_its_expiry() {
    let mut m = Mocks::new();
    let clock = moving_clock(&mut m);
    let lookups = with_key_valid(
        &mut m,
        KeyValidity {
            not_before: None,
            expires_at: Some(now() + TimeDelta::seconds(10)),
        },
    );
    m.audit.expect_append_audit().returning(|_| Ok(()));
    let app = m.app();
    let token = bearer(&format!("tsr_{KEY_ID}_s3cret"));
    app.authenticate(&token, &meta()).unwrap();
    // The upkeep reads the (unchanged) versions as time goes by: the entry stays trusted.
    clock.store(9_999, Ordering::SeqCst);
    app.sync_authz().unwrap();
    app.authenticate(&token, &meta()).unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 1, "served from the cache");
    clock.store(10_000, Ordering::SeqCst);
    app.sync_authz().unwrap();
    assert!(
        app.authenticate_cached(&token, &meta()).is_none(),
        "the entry stops with the key"
    );
    assert_eq!(
        app.authenticate(&token, &meta()).unwrap_err(),
        AppError::Unauthenticated(AuthFailure::KeyExpired)
    );
    assert_eq!(lookups.load(Ordering::SeqCst), 2);
}

#[test]
fn a_service_key_outside_its_validity_refuses_its_jwts_and_its_cached_principal_stops() {
    let pair = AwsLcKeyPairs.rsa_2048().unwrap();
    let other = AwsLcKeyPairs.rsa_2048().unwrap();
    let public = pair.public_pem.clone();
    let mut m = Mocks::new();
    let clock = moving_clock(&mut m);
    m.service_keys
        .expect_find_service_key()
        .returning(move |_| {
            let mut k = service_key(&public, None, vec![ids::DEVELOPER]);
            k.key.validity = KeyValidity {
                not_before: Some(now() - TimeDelta::seconds(1)),
                expires_at: Some(now() + TimeDelta::seconds(10)),
            };
            Ok(Some(k))
        });
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(account(true)));
    let reasons = audited_reasons(&mut m);
    let app = m.app();
    let t = now().timestamp();
    // The token outlives the key: the key's end wins.
    let token = bearer(&jwt(pair.private_pem.expose(), "1".into(), t, t + 60));
    app.authenticate(&token, &meta()).unwrap();
    clock.store(9_999, Ordering::SeqCst);
    app.sync_authz().unwrap();
    assert!(app.authenticate_cached(&token, &meta()).is_some());
    clock.store(10_000, Ordering::SeqCst);
    app.sync_authz().unwrap();
    assert!(app.authenticate_cached(&token, &meta()).is_none());
    assert_eq!(
        app.authenticate(&token, &meta()).unwrap_err(),
        AppError::Unauthenticated(AuthFailure::KeyExpired)
    );
    assert_eq!(counted(&app, crate::FailureKind::ExpiredKey), 1);
    assert_eq!(reasons.lock().as_slice(), ["key expired"]);
    // A token signed by someone else is a bad signature, expired key or not.
    let forged = bearer(&jwt(other.private_pem.expose(), "1".into(), t, t + 60));
    assert_eq!(
        app.authenticate(&forged, &meta()).unwrap_err(),
        AppError::Unauthenticated(AuthFailure::Failed)
    );
    clock.store(-2_000, Ordering::SeqCst);
    let early = bearer(&jwt(pair.private_pem.expose(), "1".into(), t - 2, t + 30));
    assert_eq!(
        app.authenticate(&early, &meta()).unwrap_err(),
        AppError::Unauthenticated(AuthFailure::KeyNotYetValid)
    );
}
