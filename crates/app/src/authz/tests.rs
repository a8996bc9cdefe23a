use tessera_domain::account::Account;
use tessera_domain::permissions::Capability;
use tessera_domain::policy::Reason;
use tessera_domain::ports::RepoError;
use tessera_domain::roles::ids;

use super::*;
use crate::testing::{ACME, Mocks, now, principal};

const CHILD: AccountId = AccountId(10);
const UM_WRITE: Permission = Permission::write(Capability::UserManagement);

fn account(id: AccountId, parent: Option<AccountId>) -> Account {
    Account {
        id,
        name: format!("a{id}"),
        email: "a@example.com".into(),
        parent_id: parent,
        active: true,
        created_at: now(),
        max_key_lifetime_days: None,
        require_mfa: false,
    }
}

fn hierarchy(m: &mut Mocks) {
    m.accounts.expect_get_account().returning(|id| match id.0 {
        1 => Ok(account(ACME, None)),
        10 => Ok(account(CHILD, Some(ACME))),
        11 => Ok(account(AccountId(11), None)),
        _ => Err(RepoError::NotFound),
    });
}

#[test]
fn own_account_grants_and_refusals_name_their_reason() {
    let app = Mocks::new().app();
    assert!(
        app.authorize(&principal(1, &[ids::OWNER]), ACME, UM_WRITE, None)
            .is_ok()
    );
    let err = app
        .authorize(&principal(2, &[ids::DEVELOPER]), ACME, UM_WRITE, None)
        .unwrap_err();
    assert_eq!(
        err,
        AppError::Forbidden(vec![Reason::NotGranted {
            permission: UM_WRITE
        }])
    );
}

fn denials(app: &App, capability: Capability) -> u64 {
    app.counts()
        .denials
        .iter()
        .find(|(c, _)| *c == capability)
        .map_or(0, |(_, n)| *n)
}

#[test]
fn refusals_are_counted_by_capability_and_grants_are_not() {
    let app = Mocks::new().app();
    app.authorize(&principal(1, &[ids::OWNER]), ACME, UM_WRITE, None)
        .unwrap();
    assert_eq!(denials(&app, Capability::UserManagement), 0);
    for _ in 0..2 {
        app.authorize(&principal(2, &[ids::DEVELOPER]), ACME, UM_WRITE, None)
            .unwrap_err();
    }
    assert_eq!(denials(&app, Capability::UserManagement), 2);
    assert_eq!(
        app.counts().denials.iter().map(|(_, n)| n).sum::<u64>(),
        2,
        "no other capability moved"
    );
}

#[test]
fn a_parent_owner_acts_in_a_child_account_and_others_see_nothing() {
    let mut m = Mocks::new();
    hierarchy(&mut m);
    let app = m.app();
    assert!(
        app.authorize(&principal(1, &[ids::OWNER]), CHILD, UM_WRITE, None)
            .is_ok()
    );
    assert_eq!(
        app.authorize(&principal(3, &[ids::ADMIN]), CHILD, UM_WRITE, None),
        Err(AppError::NotFound(Entity::Account)),
        "no Manage Enterprise Accounts: the child is invisible"
    );
    assert_eq!(
        app.authorize(&principal(1, &[ids::OWNER]), AccountId(11), UM_WRITE, None),
        Err(AppError::NotFound(Entity::Account)),
        "an unrelated account is invisible"
    );
    assert_eq!(
        app.authorize(&principal(1, &[ids::OWNER]), AccountId(99), UM_WRITE, None),
        Err(AppError::NotFound(Entity::Account)),
        "a missing account looks the same"
    );
}

#[test]
fn storage_errors_while_reading_the_hierarchy_are_not_hidden() {
    let mut m = Mocks::new();
    m.accounts
        .expect_get_account()
        .returning(|_| Err(RepoError::Unavailable("down".into())));
    assert_eq!(
        m.app()
            .authorize(&principal(1, &[ids::OWNER]), CHILD, UM_WRITE, None),
        Err(AppError::Unavailable("down".into()))
    );
}

#[test]
fn granting_a_role_needs_role_access_covering_it() {
    let app = Mocks::new().app();
    let admin = principal(3, &[ids::ADMINISTRATOR]);
    assert!(
        app.authorize_role_grants(&admin, ACME, &[ids::DEVELOPER])
            .is_ok()
    );
    assert!(
        matches!(
            app.authorize_role_grants(&admin, ACME, &[ids::TURNKEY_DEVELOPER]),
            Err(AppError::RoleNotGrantable(_))
        ),
        "listed by Role Access, but its Turnkey capabilities are not held"
    );
    assert_eq!(
        app.authorize_role_grants(&admin, ACME, &[ids::SUPPORT]),
        Err(AppError::RoleNotGrantable(vec![
            Reason::RoleAccessMissing {
                role_id: ids::SUPPORT
            }
        ]))
    );
    assert!(matches!(
        app.authorize_role_grants(&admin, ACME, &[tessera_domain::roles::RoleId(77)]),
        Err(AppError::Invalid(_))
    ));
}
