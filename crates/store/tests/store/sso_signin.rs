//! What SSO sign-in stores: connectors' identity providers, one verified domain per account,
//! sign-ins in progress (limits, single use, expiry) and users found by email.

use std::sync::{Arc, Barrier};

use tessera_domain::Field;
use tessera_domain::ids::AccountId;
use tessera_domain::ports::{RepoError, SsoRepo, UserChanges, UserRepo};
use tessera_domain::roles::ids;
use tessera_domain::sso::{IdpConfig, IdpSettings, ReturnTo, SsoLogin, VerificationStatus};
use tessera_store::backend_tests;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{account, at, audit_in};
use crate::sso::{changes, connector};

fn idp() -> IdpConfig {
    IdpConfig {
        settings: IdpSettings {
            issuer: "https://idp.example.com".into(),
            client_id: "tessera".into(),
            scopes: vec!["openid".into(), "email".into()],
            email_claim: "email".into(),
            jit_role: Some(ids::DEVELOPER),
        },
        sealed_client_secret: vec![1, 2, 3, 0, 255],
    }
}

fn login(account: AccountId, n: u8, from: Option<&str>, expires: i64) -> SsoLogin {
    SsoLogin {
        state_digest: vec![n; 32],
        connector_id: connector(account, 1, "corp.example").id,
        account_id: account,
        nonce: format!("nonce-{n}"),
        sealed_verifier: vec![n, 9, 9],
        binding_digest: vec![n; 32],
        redirect_uri: "https://iam.example.com/v1/sso/callback".into(),
        return_to: ReturnTo::Page,
        client_ip: from.map(str::to_owned),
        created_at: at(0),
        expires_at: at(expires),
    }
}

fn verified(store: &tessera_store::Store, account: AccountId, n: u8, domain: &str) {
    let c = connector(account, n, domain);
    store
        .create_sso(&c, &audit_in(account, "sso.create"))
        .unwrap();
    store
        .update_sso(
            account,
            c.id,
            &changes(Some(VerificationStatus::Verified), Some(true)),
            &audit_in(account, "sso.verified"),
        )
        .unwrap();
}

fn identity_providers_round_trip_sealed(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let mut c = connector(acme, 1, "corp.example");
    c.idp = Some(idp());
    assert_eq!(
        store.create_sso(&c, &audit_in(acme, "sso.create")).unwrap(),
        c
    );
    // Changing something else keeps the provider; `Some(None)` removes it.
    let kept = store
        .update_sso(
            acme,
            c.id,
            &changes(None, Some(false)),
            &audit_in(acme, "u"),
        )
        .unwrap();
    assert_eq!(kept.idp, Some(idp()));
    let mut removal = changes(None, None);
    removal.idp = Some(None);
    let removed = store
        .update_sso(acme, c.id, &removal, &audit_in(acme, "u"))
        .unwrap();
    assert_eq!(removed.idp, None);
}

fn a_verified_domain_belongs_to_one_account(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other").account.id;
    verified(&store, acme, 1, "corp.example");
    assert_eq!(
        store
            .find_verified_sso("corp.example")
            .unwrap()
            .map(|c| c.account_id),
        Some(acme)
    );
    assert_eq!(store.find_verified_sso("else.example").unwrap(), None);
    // Another account may not create it, nor verify one it created before.
    assert_eq!(
        store.create_sso(
            &connector(other, 2, "corp.example"),
            &audit_in(other, "sso.create")
        ),
        Err(RepoError::Conflict(Field::EmailDomain))
    );
    let mine = connector(other, 3, "later.example");
    store
        .create_sso(&mine, &audit_in(other, "sso.create"))
        .unwrap();
    verified(&store, acme, 4, "later.example");
    assert_eq!(
        store.update_sso(
            other,
            mine.id,
            &changes(Some(VerificationStatus::Verified), None),
            &audit_in(other, "sso.verified")
        ),
        Err(RepoError::Conflict(Field::EmailDomain))
    );
    assert_eq!(
        store.get_sso(other, mine.id).unwrap().verification_status,
        VerificationStatus::Awaiting,
        "unchanged"
    );
}

fn sign_ins_in_progress_are_limited_per_address_and_connector(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    store
        .create_sso(&connector(acme, 1, "corp.example"), &audit_in(acme, "c"))
        .unwrap();
    for n in 1..=2 {
        store
            .begin_sso_login(&login(acme, n, Some("203.0.113.1"), 600), 2, 3)
            .unwrap();
    }
    assert_eq!(
        store.begin_sso_login(&login(acme, 3, Some("203.0.113.1"), 600), 2, 3),
        Err(RepoError::LimitReached),
        "the address has its two"
    );
    store
        .begin_sso_login(&login(acme, 4, Some("203.0.113.2"), 600), 2, 3)
        .unwrap();
    assert_eq!(
        store.begin_sso_login(&login(acme, 5, Some("203.0.113.3"), 600), 2, 3),
        Err(RepoError::LimitReached),
        "the connector has its three"
    );
    // Expired ones do not count, and are purged.
    assert_eq!(store.purge_sso_logins(at(599)).unwrap(), 0);
    assert_eq!(store.purge_sso_logins(at(600)).unwrap(), 3);
    store
        .begin_sso_login(&login(acme, 6, Some("203.0.113.1"), 1200), 2, 3)
        .unwrap();
}

fn a_sign_in_is_taken_once_and_not_after_expiry(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    store
        .create_sso(&connector(acme, 1, "corp.example"), &audit_in(acme, "c"))
        .unwrap();
    let l = login(acme, 1, None, 600);
    store.begin_sso_login(&l, 5, 5).unwrap();
    assert_eq!(
        store.take_sso_login(&[1; 32], &[9; 32], at(10)).unwrap(),
        None,
        "another browser's binding takes nothing"
    );
    assert_eq!(
        store.take_sso_login(&[1; 32], &[1; 32], at(10)).unwrap(),
        Some(l)
    );
    assert_eq!(
        store.take_sso_login(&[1; 32], &[1; 32], at(10)).unwrap(),
        None,
        "used"
    );
    store
        .begin_sso_login(&login(acme, 2, None, 600), 5, 5)
        .unwrap();
    assert_eq!(
        store.take_sso_login(&[2; 32], &[2; 32], at(600)).unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store.take_sso_login(&[2; 32], &[2; 32], at(10)).unwrap(),
        None,
        "and gone"
    );

    // Racing callbacks with one state: exactly one gets it.
    store
        .begin_sso_login(&login(acme, 3, None, 600), 5, 5)
        .unwrap();
    let barrier = Arc::new(Barrier::new(8));
    let winners: usize = (0..8)
        .map(|_| {
            let store = store.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                store
                    .take_sso_login(&[3; 32], &[3; 32], at(10))
                    .unwrap()
                    .is_some()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| usize::from(t.join().unwrap()))
        .sum();
    assert_eq!(winners, 1);
}

fn concurrent_sign_ins_of_one_address_cannot_beat_its_limit(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    store
        .create_sso(&connector(acme, 1, "corp.example"), &audit_in(acme, "c"))
        .unwrap();
    let barrier = Arc::new(Barrier::new(10));
    let admitted: usize = (0..10u8)
        .map(|n| {
            let store = store.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                store
                    .begin_sso_login(&login(acme, n + 10, Some("198.51.100.7"), 600), 3, 1000)
                    .is_ok()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| usize::from(t.join().unwrap()))
        .sum();
    assert_eq!(admitted, 3);
}

fn users_are_found_by_email_whatever_its_case(db: &TestDatabase) {
    let store = db.store();
    let made = account(&store, "acme");
    let acme = made.account.id;
    let other = account(&store, "other");
    for (account, user) in [(acme, made.owner.id), (other.account.id, other.owner.id)] {
        store
            .update_user(
                account,
                user,
                &UserChanges {
                    email: Some(Some("Alice@Corp.Example".into())),
                    updated_at: at(1),
                    ..UserChanges::default()
                },
                &audit_in(account, "user.update"),
            )
            .unwrap();
    }
    let found = store
        .find_users_by_email(acme, "alice@corp.example")
        .unwrap();
    assert_eq!(
        found.iter().map(|u| u.id).collect::<Vec<_>>(),
        [made.owner.id]
    );
    assert_eq!(found[0].roles, made.owner.roles, "with its roles");
    assert!(
        store
            .find_users_by_email(acme, "bob@corp.example")
            .unwrap()
            .is_empty()
    );
}

/// The address an IdP asserts is ASCII; a stored address whose Unicode lower case is that
/// address (the Kelvin sign `K` and `İ` lower to `k` and `i` in Postgres' `lower`) is another
/// address: self-service may set it (its domain is not the verified one, byte for byte), so it
/// must not make the IdP's identity match that user.
fn users_are_found_by_email_in_ascii_case_only(db: &TestDatabase) {
    let store = db.store();
    let made = account(&store, "acme");
    let acme = made.account.id;
    for (n, email) in ["kate@l\u{130}nk.example", "\u{212a}ate@link.example"]
        .into_iter()
        .enumerate()
    {
        let mut user = crate::fixtures::new_user(acme, &format!("mallory{n}"), &[ids::DEVELOPER]);
        user.email = Some(email.into());
        store
            .create_user(&user, 100, &audit_in(acme, "user.create"))
            .unwrap();
    }
    assert!(
        store
            .find_users_by_email(acme, "kate@link.example")
            .unwrap()
            .is_empty(),
        "only ASCII letters compare case-insensitively"
    );
}

/// Users created at SSO sign-in: not when the account has a user with the email (in any ASCII
/// case, active or not), and of first sign-ins of one address at once, one.
fn a_user_is_created_at_sign_in_only_while_its_email_is_free(db: &TestDatabase) {
    let store = db.store();
    let made = account(&store, "acme");
    let acme = made.account.id;
    let other = account(&store, "other").account.id;
    let jit = |account, login: &str, email: &str| {
        let mut user = crate::fixtures::new_user(account, login, &[ids::DEVELOPER]);
        user.email = Some(email.into());
        user.password_hash = None;
        user
    };
    let first = store
        .create_user_unless_email_taken(
            &jit(acme, "ann-abcde", "Ann@Corp.Example"),
            100,
            &audit_in(acme, "user.create"),
        )
        .unwrap()
        .expect("created");
    let audits = crate::fixtures::audit_count(&store, acme);
    assert_eq!(
        store
            .create_user_unless_email_taken(
                &jit(acme, "ann-fghij", "ann@corp.example"),
                100,
                &audit_in(acme, "user.create"),
            )
            .unwrap(),
        None
    );
    assert_eq!(
        crate::fixtures::audit_count(&store, acme),
        audits,
        "nothing written"
    );
    assert_eq!(
        store.find_users_by_email(acme, "ann@corp.example").unwrap()[0].id,
        first.id
    );
    assert!(
        store
            .create_user_unless_email_taken(
                &jit(other, "ann-abcde", "ann@corp.example"),
                100,
                &audit_in(other, "user.create"),
            )
            .unwrap()
            .is_some(),
        "another account's user is another user"
    );
    // Racing first sign-ins of one address.
    let threads = 6;
    let barrier = Arc::new(Barrier::new(threads));
    let created: usize = (0..threads)
        .map(|n| {
            let store = store.clone();
            let barrier = barrier.clone();
            let user = jit(acme, &format!("bob-racer{n}"), "bob@corp.example");
            std::thread::spawn(move || {
                barrier.wait();
                store
                    .create_user_unless_email_taken(&user, 100, &audit_in(acme, "user.create"))
                    .unwrap()
                    .is_some()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| usize::from(t.join().unwrap()))
        .sum();
    assert_eq!(created, 1);
    assert_eq!(
        store
            .find_users_by_email(acme, "bob@corp.example")
            .unwrap()
            .len(),
        1
    );
}

backend_tests!(
    identity_providers_round_trip_sealed,
    a_verified_domain_belongs_to_one_account,
    sign_ins_in_progress_are_limited_per_address_and_connector,
    a_sign_in_is_taken_once_and_not_after_expiry,
    concurrent_sign_ins_of_one_address_cannot_beat_its_limit,
    users_are_found_by_email_whatever_its_case,
    users_are_found_by_email_in_ascii_case_only,
    a_user_is_created_at_sign_in_only_while_its_email_is_free
);
