//! The gatekeeper on mocked ports: what it decides from memory alone (a mock with no
//! expectation panics when called), what it reads once and remembers, how refusals are
//! answered, audited and folded.

use std::sync::{Arc, Mutex};

use tessera_domain::account::Account;
use tessera_domain::audit::{ActorKind, AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::{AccountId, Hex32, PolicyId, UserGroupId};
use tessera_domain::permissions::{Capability, Level, Permission};
use tessera_domain::policy::{
    Effect, PolicyRule, Reason, ResourceKey, ResourceType, Scope, ScopeObjects,
};
use tessera_domain::ports::RepoError;
use tessera_domain::roles::ids;

use super::{CHECK_REFUSED, Check};
use crate::AppError;
use crate::testing::{ACME, Mocks, key_principal, now, principal, principal_with};

const CHILD: AccountId = AccountId(10);
const UM_WRITE: Permission = Permission::write(Capability::UserManagement);
const UM_READ: Permission = Permission::read(Capability::UserManagement);

fn meta() -> RequestMeta {
    RequestMeta {
        client_ip: Some("192.0.2.7".into()),
        request_id: Some("req-1".into()),
    }
}

fn check(account: Option<AccountId>, permission: Permission) -> Check {
    Check {
        account,
        permission,
        resource: None,
    }
}

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

/// ACME (1) with its child 10; account 11 stands alone; nothing else exists. Each read is
/// counted.
fn hierarchy(m: &mut Mocks) -> Arc<Mutex<Vec<AccountId>>> {
    let reads = Arc::new(Mutex::new(Vec::new()));
    let seen = reads.clone();
    m.accounts.expect_get_account().returning(move |id| {
        seen.lock().unwrap().push(id);
        match id.0 {
            1 => Ok(account(ACME, None)),
            10 => Ok(account(CHILD, Some(ACME))),
            11 => Ok(account(AccountId(11), None)),
            _ => Err(RepoError::NotFound),
        }
    });
    reads
}

/// Every audit record written.
fn recorded(m: &mut Mocks) -> Arc<Mutex<Vec<AuditRecord>>> {
    let written = Arc::new(Mutex::new(Vec::new()));
    let w = written.clone();
    m.audit.expect_append_audit().returning(move |r| {
        w.lock().unwrap().push(r.clone());
        Ok(())
    });
    written
}

fn not_visible(account: AccountId) -> AppError {
    AppError::Forbidden(vec![Reason::OtherAccount { account }])
}

#[test]
fn the_own_account_is_decided_from_memory() {
    // No expectation on any port: a read would panic.
    let app = Mocks::new().app();
    let owner = principal(1, &[ids::OWNER]);
    assert_eq!(
        app.check_cached(&owner, &meta(), &check(None, UM_WRITE)),
        Some(Ok(ACME))
    );
    assert_eq!(
        app.check_cached(&owner, &meta(), &check(Some(ACME), UM_WRITE)),
        Some(Ok(ACME)),
        "the own account named"
    );
    assert_eq!(app.check(&owner, &meta(), &check(None, UM_WRITE)), Ok(ACME));
}

#[test]
fn a_refusal_is_audited_once_then_folded_from_memory() {
    let mut m = Mocks::new();
    let written = recorded(&mut m);
    let app = m.app();
    let dev = principal(2, &[ids::DEVELOPER]);
    let ask = check(None, UM_WRITE);
    assert_eq!(
        app.check_cached(&dev, &meta(), &ask),
        None,
        "the first refusal of its kind is written: not from memory"
    );
    let refused = AppError::Forbidden(vec![Reason::NotGranted {
        permission: UM_WRITE,
    }]);
    assert_eq!(app.check(&dev, &meta(), &ask), Err(refused.clone()));
    for _ in 0..5 {
        assert_eq!(
            app.check_cached(&dev, &meta(), &ask),
            Some(Err(refused.clone()))
        );
    }
    assert_eq!(app.check(&dev, &meta(), &ask), Err(refused));
    let events = written.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "identical refusals fold: {events:#?}");
    let e = &events[0];
    assert_eq!(e.action, CHECK_REFUSED);
    assert_eq!(e.outcome, Outcome::Failure);
    assert_eq!(e.account_id, Some(ACME));
    assert_eq!((e.actor.kind, e.actor.id.as_str()), (ActorKind::User, "2"));
    assert_eq!(e.client_ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(e.details["capability"], "user_management");
    assert_eq!(e.details["level"], "write");
    assert_eq!(e.details["account_id"], 1);
    assert_eq!(e.details["resource"], serde_json::Value::Null);
    assert_eq!(
        e.details["reason"],
        "no role or policy grants user_management:write"
    );

    // The folded repeats are written, with their count, when the window ends.
    app.flush_failures(now() + chrono::TimeDelta::seconds(61));
    let events = written.lock().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].details["repeated"], 6);

    // The denials are counted like any other.
    let denied = app
        .counts()
        .denials
        .into_iter()
        .find(|(c, _)| *c == Capability::UserManagement)
        .map(|(_, n)| n);
    assert_eq!(denied, Some(7));
}

#[test]
fn distinct_refusals_are_distinct_events() {
    let mut m = Mocks::new();
    let written = recorded(&mut m);
    let app = m.app();
    let dev = principal(2, &[ids::DEVELOPER]);
    let other = RequestMeta {
        client_ip: Some("192.0.2.8".into()),
        ..meta()
    };
    let mut on_user = check(None, UM_WRITE);
    on_user.resource = Some(ResourceKey::new(ResourceType::User, 9));
    for (ask, meta) in [
        (check(None, UM_WRITE), meta()),
        (check(None, Permission::write(Capability::AuditApi)), meta()),
        (on_user, meta()),
        (check(None, UM_WRITE), other),
    ] {
        assert!(app.check(&dev, &meta, &ask).is_err());
    }
    let events = written.lock().unwrap().clone();
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[2].details["resource"],
        "com.tessera.api.account.user.9"
    );
}

#[test]
fn another_account_is_refused_without_storage_when_no_child_account_is_reachable() {
    let mut m = Mocks::new();
    let written = recorded(&mut m);
    // No expectation on the accounts: a read would panic.
    let app = m.app();
    let dev = principal(2, &[ids::DEVELOPER]);
    // The same answer for an account that exists elsewhere and for one that does not.
    for account in [CHILD, AccountId(11), AccountId(999_999)] {
        assert_eq!(
            app.check(&dev, &meta(), &check(Some(account), UM_READ)),
            Err(not_visible(account))
        );
    }
    assert_eq!(written.lock().unwrap().len(), 3);
    // From memory too once folding (the first of its kind is written).
    let reader = principal(3, &[ids::USER_READ]);
    assert_eq!(
        app.check_cached(&reader, &meta(), &check(Some(CHILD), UM_READ))
            .map(|r| r.is_err()),
        None,
        "first of its kind: written"
    );
    assert_eq!(
        app.check(&reader, &meta(), &check(Some(CHILD), UM_READ)),
        Err(not_visible(CHILD))
    );
}

#[test]
fn a_parent_reaches_its_child_after_one_read_of_the_ancestry() {
    let mut m = Mocks::new();
    let reads = hierarchy(&mut m);
    let app = m.app();
    let owner = principal(1, &[ids::OWNER]);
    let ask = check(Some(CHILD), UM_WRITE);
    assert_eq!(
        app.check_cached(&owner, &meta(), &ask),
        None,
        "not read yet"
    );
    assert_eq!(app.check(&owner, &meta(), &ask), Ok(CHILD));
    assert_eq!(*reads.lock().unwrap(), vec![CHILD, ACME]);
    // Remembered: accounts never change parents.
    assert_eq!(app.check_cached(&owner, &meta(), &ask), Some(Ok(CHILD)));
    assert_eq!(
        app.check_cached(&owner, &meta(), &check(Some(CHILD), UM_READ)),
        Some(Ok(CHILD))
    );
    assert_eq!(app.check(&owner, &meta(), &ask), Ok(CHILD));
    assert_eq!(reads.lock().unwrap().len(), 2, "no second read");
}

#[test]
fn a_parent_is_refused_an_unrelated_or_missing_account_alike() {
    let mut m = Mocks::new();
    let reads = hierarchy(&mut m);
    let _written = recorded(&mut m);
    let app = m.app();
    let owner = principal(1, &[ids::OWNER]);
    for account in [AccountId(11), AccountId(12)] {
        assert_eq!(
            app.check(&owner, &meta(), &check(Some(account), UM_WRITE)),
            Err(not_visible(account))
        );
    }
    // A missing account is not remembered (it may be created): read again.
    let before = reads.lock().unwrap().len();
    assert!(
        app.check(&owner, &meta(), &check(Some(AccountId(12)), UM_READ))
            .is_err()
    );
    assert_eq!(reads.lock().unwrap().len(), before + 1);
}

#[test]
fn storage_failures_are_not_decisions() {
    let mut m = Mocks::new();
    m.accounts
        .expect_get_account()
        .returning(|_| Err(RepoError::Unavailable("down".into())));
    let app = m.app();
    let owner = principal(1, &[ids::OWNER]);
    assert!(matches!(
        app.check(&owner, &meta(), &check(Some(CHILD), UM_READ)),
        Err(AppError::Unavailable(_))
    ));
}

#[test]
fn a_service_key_gets_no_more_than_its_roles() {
    let mut m = Mocks::new();
    let _written = recorded(&mut m);
    let app = m.app();
    let key = key_principal(None, &[], &[ids::USER_READ]);
    assert_eq!(app.check(&key, &meta(), &check(None, UM_READ)), Ok(ACME));
    assert_eq!(
        app.check(&key, &meta(), &check(None, UM_WRITE)),
        Err(AppError::Forbidden(vec![Reason::KeyRolesMissing {
            permission: UM_WRITE
        }]))
    );
}

#[test]
fn a_deny_on_the_object_named_refuses_what_the_role_grants() {
    let mut m = Mocks::new();
    let _written = recorded(&mut m);
    let app = m.app();
    let deny = PolicyRule {
        id: PolicyId(Hex32([1; 16])),
        user_group: UserGroupId(Hex32([2; 16])),
        effect: Effect::Deny,
        permissions: vec![Permission::new(Capability::UserManagement, Level::Read)],
        scopes: vec![Scope {
            account: ACME,
            objects: ScopeObjects::Only(vec![ResourceKey::new(ResourceType::User, 9)]),
        }],
    };
    let admin = principal_with(2, &[ids::OWNER], &[deny]);
    let mut on_nine = check(None, UM_READ);
    assert_eq!(app.check(&admin, &meta(), &on_nine), Ok(ACME));
    on_nine.resource = Some(ResourceKey::new(ResourceType::User, 9));
    assert!(matches!(
        app.check(&admin, &meta(), &on_nine),
        Err(AppError::Forbidden(reasons))
            if matches!(reasons[..], [Reason::Policy { effect: Effect::Deny, .. }])
    ));
    on_nine.resource = Some(ResourceKey::new(ResourceType::User, 8));
    assert_eq!(app.check(&admin, &meta(), &on_nine), Ok(ACME));
}
