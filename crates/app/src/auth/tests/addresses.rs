//! The account's authorized IPs and a key's own `allowed_ips`: checked on every request, cached
//! principal or not; a sign-in from outside answers as a wrong password.

use super::*;

fn listed(network: &str, allowed: bool) -> tessera_domain::authorized_ips::AuthorizedIp {
    tessera_domain::authorized_ips::AuthorizedIp {
        network: tessera_domain::authorized_ips::Network::parse("authorized_ip", network).unwrap(),
        allowed,
        description: None,
        created: now(),
    }
}

fn from_address(ip: &str) -> RequestMeta {
    RequestMeta {
        client_ip: Some(ip.into()),
        request_id: Some("r".into()),
    }
}

#[test]
fn an_access_key_is_refused_from_an_address_its_account_does_not_admit_cached_or_not() {
    let mut m = Mocks::new();
    let lookups = with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    m.authorized_ips
        .expect_list_authorized_ips()
        .withf(|a| *a == ACME)
        .returning(|_| {
            Ok(vec![
                listed("192.0.2.0/24", true),
                listed("192.0.2.66", false),
            ])
        });
    // One event per address (each is the first of its kind in the fold window).
    m.audit
        .expect_append_audit()
        .withf(|r| {
            r.action == "auth.failure"
                && r.account_id == Some(ACME)
                && r.details["reason"] == "the client address is not authorized for this account"
                && r.details["credential"] == "access_key"
                && r.actor.id == KEY_ID
        })
        .times(4)
        .returning(|_| Ok(()));
    let app = m.app();
    let token = bearer(&format!("tsr_{KEY_ID}_s3cret"));
    // First from outside the list: refused (the principal is cached all the same).
    assert_eq!(
        app.authenticate(&token, &from_address("203.0.113.5"))
            .unwrap_err(),
        AppError::AddressNotAuthorized
    );
    // From inside: admitted, and cached.
    app.authenticate(&token, &from_address("192.0.2.1"))
        .unwrap();
    assert!(
        app.authenticate_cached(&token, &from_address("192.0.2.1"))
            .is_some()
    );
    // The cached principal does not pass from elsewhere: the full path refuses it.
    assert!(
        app.authenticate_cached(&token, &from_address("192.0.2.66"))
            .is_none()
    );
    assert_eq!(
        app.authenticate(&token, &from_address("192.0.2.66"))
            .unwrap_err(),
        AppError::AddressNotAuthorized,
        "a deny entry inside the allowed network refuses"
    );
    assert_eq!(
        app.authenticate(&token, &from_address("::ffff:203.0.113.5"))
            .unwrap_err(),
        AppError::AddressNotAuthorized,
        "the IPv4-mapped form is the same address"
    );
    assert_eq!(
        app.authenticate(&token, &RequestMeta::default())
            .unwrap_err(),
        AppError::AddressNotAuthorized,
        "an unknown address is refused when there is a list"
    );
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        1,
        "one lookup: the principal is cached, refused or not, and the address checked on \
         every request"
    );
    assert_eq!(counted(&app, crate::FailureKind::AddressNotAuthorized), 4);
    assert_eq!(
        counted_all(&app),
        4,
        "counted as nothing else, and not as a bad secret"
    );
}

#[test]
fn a_keys_own_allowed_ips_are_checked_besides_the_accounts_list() {
    let mut m = Mocks::new();
    m.access_keys.expect_find_access_key().returning(|_| {
        let mut k = access_key(KeyStatus::Active, "s3cret");
        k.key.allowed_ips = vec![
            tessera_domain::authorized_ips::Network::parse("allowed_ips", "198.51.100.0/24")
                .unwrap(),
        ];
        Ok(Some(k))
    });
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(account(true)));
    m.users
        .expect_get_user()
        .returning(|_, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
    m.authz
        .expect_policy_rules_for_user()
        .returning(|_, _| Ok(vec![]));
    m.audit.expect_append_audit().times(1).returning(|_| Ok(()));
    let app = m.app();
    let token = bearer(&format!("tsr_{KEY_ID}_s3cret"));
    app.authenticate(&token, &from_address("198.51.100.7"))
        .unwrap();
    assert_eq!(
        app.authenticate(&token, &from_address("192.0.2.1"))
            .unwrap_err(),
        AppError::AddressNotAuthorized
    );
}

#[test]
fn a_sign_in_from_outside_the_list_answers_as_a_wrong_password_without_checking_it() {
    let mut m = Mocks::new();
    m.authorized_ips
        .expect_list_authorized_ips()
        .returning(|_| Ok(vec![listed("192.0.2.0/24", true)]));
    m.users.expect_find_user_by_login().times(0);
    m.hasher.expect_verify().times(0);
    m.hasher.expect_waste_time().times(1).return_const(());
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(account(true)));
    m.sessions.expect_create_session().times(0);
    m.audit
        .expect_append_audit()
        .withf(|r| {
            r.action == "auth.failure"
                && r.details["credential"] == "password"
                && r.details["reason"] == "the client address is not authorized for this account"
        })
        .times(1)
        .returning(|_| Ok(()));
    let app = m.app();
    assert_eq!(
        app.login(&from_address("203.0.113.5"), login("R1ght-pass"))
            .unwrap_err(),
        AppError::Unauthenticated(AuthFailure::Failed)
    );
    assert_eq!(counted(&app, crate::FailureKind::AddressNotAuthorized), 1);
    assert_eq!(
        app.lockout_of(ACME, "dev01").unwrap().failures,
        0,
        "the login's own count is untouched: an outsider cannot lock it"
    );
}
