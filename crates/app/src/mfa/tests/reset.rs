//! An administrator's reset of a user's second factor: user management's rules.

use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::roles::ids;
use tessera_domain::{DomainError, Entity};

use super::{OTHER, fixture, meta};
use crate::testing::{ACME, key_principal, principal};
use crate::{AppError, Principal};

fn owner() -> Principal {
    principal(1, &[ids::OWNER, ids::ADMINISTRATOR])
}

#[test]
fn an_owner_resets_a_developers_second_factor_and_it_is_audited() {
    let fx = fixture(false, |_| {});
    fx.enrol(2, &[ids::DEVELOPER]);
    fx.app
        .reset_mfa(&owner(), &meta(), ACME, UserId(2))
        .unwrap();
    assert!(fx.enrolment(2).is_none());
    let reset = fx.audited("mfa.reset");
    assert_eq!(reset.len(), 1);
    assert_eq!(reset[0].target.as_deref(), Some("user:2"));
    assert_eq!(reset[0].actor.id, "1");
    // The next sign-in needs no code.
    assert!(matches!(fx.sign_in("dev01"), crate::SignIn::Session(_)));
    assert_eq!(
        fx.app
            .reset_mfa(&owner(), &meta(), ACME, UserId(2))
            .unwrap_err(),
        AppError::NotFound(Entity::TotpEnrolment),
        "nothing left to reset"
    );
}

#[test]
fn resetting_needs_user_management_write_and_managing_the_user() {
    let fx = fixture(false, |_| {});
    fx.enrol(1, &[ids::OWNER, ids::ADMINISTRATOR]);
    fx.enrol(2, &[ids::DEVELOPER]);
    let developer = principal(2, &[ids::DEVELOPER]);
    let manager = principal(3, &[ids::USER_MANAGER]);
    let cases: [(&Principal, i64); 4] = [
        // No User Management write at all.
        (&developer, 1),
        // Not above the Owner.
        (&manager, 1),
        // Nor the Developer: a User Manager does not hold a Developer's permissions.
        (&manager, 2),
        // A key of the Owner with only the Developer role.
        (&key_principal(Some(1), &[ids::OWNER], &[ids::DEVELOPER]), 2),
    ];
    for (who, target) in cases {
        let err = fx
            .app
            .reset_mfa(who, &meta(), ACME, UserId(target))
            .unwrap_err();
        assert!(
            matches!(err, AppError::Forbidden(_)),
            "{:?} on {target}: {err:?}",
            who.subject.roles
        );
        assert!(fx.enrolment(target).unwrap().is_confirmed(), "unchanged");
    }
    assert!(fx.audited("mfa.reset").is_empty());
}

#[test]
fn ones_own_second_factor_is_not_reset_as_an_administrator() {
    let fx = fixture(false, |_| {});
    fx.enrol(1, &[ids::OWNER, ids::ADMINISTRATOR]);
    let err = fx
        .app
        .reset_mfa(&owner(), &meta(), ACME, UserId(1))
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::Invalid(DomainError::Invalid {
                field: "user_id",
                ..
            })
        ),
        "{err:?}"
    );
    assert!(fx.enrolment(1).unwrap().is_confirmed());
}

#[test]
fn another_accounts_user_and_an_unknown_user_are_not_found() {
    let fx = fixture(false, |_| {});
    let err = fx
        .app
        .reset_mfa(&owner(), &meta(), OTHER, UserId(2))
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
    let err = fx
        .app
        .reset_mfa(&owner(), &meta(), ACME, UserId(99))
        .unwrap_err();
    assert_eq!(err, AppError::NotFound(Entity::User));
    let stranger = Principal::user(AccountId(2), UserId(1), vec![ids::OWNER], &[]);
    let err = fx
        .app
        .reset_mfa(&stranger, &meta(), ACME, UserId(2))
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
}
