//! Users created at SSO sign-in (just in time): one user per address, even when two first
//! sign-ins of the address complete at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tessera_domain::ids::{Hex32, UserId};
use tessera_domain::roles::ids;

use super::signin_tests::{complete_cmd, connector, identity, idp, meta, refusals, sealing};
use super::*;
use crate::testing::{Mocks, user};

/// A callback whose IdP says `new.person@corp.example`, for a connector creating users.
fn first_sign_in() -> Mocks {
    let mut m = Mocks::new();
    sealing(&mut m);
    m.sso
        .expect_take_sso_login()
        .returning(|_, _, _| Ok(Some(super::signin_tests::stored_login())));
    m.sso
        .expect_get_sso()
        .returning(|_, _| Ok(connector(true, Some(idp(Some(ids::DEVELOPER))))));
    m.oidc
        .expect_redeem()
        .times(1)
        .returning(|_, _, _, _| Ok(identity(Some("new.person@corp.example"), Some(true))));
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(crate::testing::account(crate::testing::ACME)));
    m.ids
        .expect_secret()
        .returning(|| tessera_domain::Secret::new("abcdefghij"));
    m
}

#[test]
fn a_first_sign_in_racing_another_of_the_address_signs_into_the_user_it_created() {
    let mut m = first_sign_in();
    // Not there when this sign-in looked; there when the store was asked to create it (the
    // other sign-in's): this one creates nothing and opens a session of that user.
    let lookups = Arc::new(AtomicUsize::new(0));
    let l = lookups.clone();
    m.users.expect_find_users_by_email().returning(move |_, _| {
        if l.fetch_add(1, Ordering::SeqCst) == 0 {
            Ok(vec![])
        } else {
            let mut other = user(9, "new.person-xyzab", &[ids::DEVELOPER]);
            other.email = Some("new.person@corp.example".into());
            Ok(vec![other])
        }
    });
    m.users
        .expect_create_user_unless_email_taken()
        .times(1)
        .returning(|_, _, _| Ok(None));
    m.users.expect_create_user().times(0);
    m.ids.expect_hex32().returning(|| Hex32([3; 16]));
    m.sessions
        .expect_create_session()
        .times(1)
        .returning(|_, _| Ok(()));
    let audited = refusals(&mut m);
    let done = m.app().complete_sso(&meta(), complete_cmd()).unwrap();
    assert_eq!(done.session.user_id, UserId(9));
    assert_eq!(lookups.load(Ordering::SeqCst), 2);
    let audited: Vec<String> = audited
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.action.clone())
        .collect();
    assert!(!audited.contains(&"user.create".to_owned()), "{audited:?}");
}

#[test]
fn a_user_taken_meanwhile_but_not_active_is_refused_and_opens_nothing() {
    let mut m = first_sign_in();
    let lookups = Arc::new(Mutex::new(0));
    let l = lookups.clone();
    m.users.expect_find_users_by_email().returning(move |_, _| {
        let mut n = l.lock().unwrap();
        *n += 1;
        if *n == 1 {
            Ok(vec![])
        } else {
            let mut other = user(9, "new.person-xyzab", &[ids::DEVELOPER]);
            other.email = Some("new.person@corp.example".into());
            other.status = tessera_domain::user::UserStatus::Inactive;
            Ok(vec![other])
        }
    });
    m.users
        .expect_create_user_unless_email_taken()
        .times(1)
        .returning(|_, _, _| Ok(None));
    m.sessions.expect_create_session().times(0);
    let audited = refusals(&mut m);
    let err = m.app().complete_sso(&meta(), complete_cmd()).unwrap_err();
    assert_eq!(err, AppError::Sso(crate::error::SsoFailure::UserInactive));
    let audited = audited.lock().unwrap();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].action, "sso.login");
}
