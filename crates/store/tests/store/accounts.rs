use tessera_domain::ids::AccountId;
use tessera_domain::ports::{
    AccountChanges, AccountRepo, AuditFilter, AuditRepo, BootstrapRecord, RepoError, UserRepo,
};
use tessera_domain::roles::ids;
use tessera_store::backend_tests;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{audit, audit_in, new_account};

fn bootstrap_creates_the_account_and_its_owner_once(db: &TestDatabase) {
    let store = db.store();
    let record = BootstrapRecord {
        account: new_account("acme"),
        audit: audit("account.bootstrap"),
    };
    let made = store
        .bootstrap(&record)
        .unwrap()
        .expect("first bootstrap creates");
    assert_eq!(made.account.name, "acme");
    assert!(made.account.active);
    assert_eq!(made.owner.login.as_str(), "admin");
    assert_eq!(made.owner.roles, vec![ids::OWNER, ids::ADMINISTRATOR]);
    assert!(
        store.bootstrap(&record).unwrap().is_none(),
        "second bootstrap creates nothing"
    );
    assert_eq!(store.count_users(made.account.id).unwrap(), 1);
    assert!(matches!(
        store.get_account(AccountId(made.account.id.0 + 1)),
        Err(RepoError::NotFound)
    ));
    let events = store
        .list_audit(
            made.account.id,
            &AuditFilter {
                limit: 10,
                ..AuditFilter::default()
            },
        )
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].record.action, "account.bootstrap");
    assert_eq!(
        events[0].record.target.as_deref(),
        Some(&*format!("account:{}", made.account.id))
    );
}

fn concurrent_bootstraps_create_one_account(db: &TestDatabase) {
    let store = db.store();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                s.spawn(move || {
                    store
                        .bootstrap(&BootstrapRecord {
                            account: new_account("acme"),
                            audit: audit("account.bootstrap"),
                        })
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_some()).count(), 1);
}

fn a_child_account_needs_an_existing_parent(db: &TestDatabase) {
    let store = db.store();
    let parent = store
        .create_account(&new_account("parent"), 100, &audit("account.create"))
        .unwrap();
    let mut child = new_account("child");
    child.parent_id = Some(parent.account.id);
    let made = store
        .create_account(&child, 100, &audit("account.create"))
        .unwrap();
    assert_eq!(made.account.parent_id, Some(parent.account.id));
    child.parent_id = Some(AccountId(999_999));
    assert_eq!(
        store.create_account(&child, 100, &audit("account.create")),
        Err(RepoError::NotFound)
    );
}

fn children_are_listed_under_their_parent_only(db: &TestDatabase) {
    let store = db.store();
    let parent = store
        .create_account(&new_account("parent"), 100, &audit("account.create"))
        .unwrap()
        .account
        .id;
    let other = store
        .create_account(&new_account("other"), 100, &audit("account.create"))
        .unwrap()
        .account
        .id;
    let mut made = Vec::new();
    for name in ["one", "two"] {
        let mut child = new_account(name);
        child.parent_id = Some(parent);
        made.push(
            store
                .create_account(&child, 100, &audit("account.create"))
                .unwrap()
                .account
                .id,
        );
    }
    let listed: Vec<_> = store
        .list_child_accounts(parent)
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(listed, made);
    assert_eq!(store.list_child_accounts(other).unwrap(), vec![]);
    assert_eq!(store.list_child_accounts(made[0]).unwrap(), vec![]);
}

fn an_update_changes_only_what_it_names_and_is_audited(db: &TestDatabase) {
    let store = db.store();
    let made = store
        .create_account(&new_account("acme"), 100, &audit("account.create"))
        .unwrap()
        .account;
    let renamed = store
        .update_account(
            made.id,
            &AccountChanges {
                name: Some("Acme Corp".into()),
                ..AccountChanges::default()
            },
            &audit_in(made.id, "account.update"),
        )
        .unwrap();
    assert_eq!(renamed.name, "Acme Corp");
    assert_eq!(renamed.email, made.email);
    assert!(renamed.active);
    let frozen = store
        .update_account(
            made.id,
            &AccountChanges {
                email: Some("ops@acme.example".into()),
                active: Some(false),
                max_key_lifetime_days: Some(Some(90)),
                ..AccountChanges::default()
            },
            &audit_in(made.id, "account.update"),
        )
        .unwrap();
    assert_eq!(frozen.name, "Acme Corp");
    assert_eq!(frozen.email, "ops@acme.example");
    assert!(!frozen.active);
    assert_eq!(frozen.max_key_lifetime_days, Some(90));
    let kept = store
        .update_account(
            made.id,
            &AccountChanges {
                name: Some("Acme".into()),
                ..AccountChanges::default()
            },
            &audit_in(made.id, "account.update"),
        )
        .unwrap();
    assert_eq!(
        kept.max_key_lifetime_days,
        Some(90),
        "not named, not changed"
    );
    let frozen = store
        .update_account(
            made.id,
            &AccountChanges {
                name: Some("Acme Corp".into()),
                max_key_lifetime_days: Some(None),
                ..AccountChanges::default()
            },
            &audit_in(made.id, "account.update"),
        )
        .unwrap();
    assert_eq!(frozen.max_key_lifetime_days, None, "null removes the limit");
    assert_eq!(store.get_account(made.id).unwrap(), frozen);
    assert_eq!(
        store.update_account(
            AccountId(made.id.0 + 100),
            &AccountChanges {
                name: Some("ghost".into()),
                ..AccountChanges::default()
            },
            &audit_in(made.id, "account.update"),
        ),
        Err(RepoError::NotFound)
    );
    let updates = store
        .list_audit(
            made.id,
            &AuditFilter {
                limit: 10,
                ..AuditFilter::default()
            },
        )
        .unwrap()
        .into_iter()
        .filter(|e| e.record.action == "account.update")
        .count();
    assert_eq!(updates, 4, "the failed update wrote no event");
}

fn concurrent_creations_never_exceed_the_child_limit(db: &TestDatabase) {
    let store = db.store();
    let parent = store
        .create_account(&new_account("parent"), 100, &audit("account.create"))
        .unwrap()
        .account
        .id;
    let made: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|n| {
                let store = store.clone();
                s.spawn(move || {
                    let mut child = new_account(&format!("child{n}"));
                    child.parent_id = Some(parent);
                    match store.create_account(&child, 3, &audit("account.create")) {
                        Ok(_) => 1,
                        Err(RepoError::LimitReached) => 0,
                        Err(e) => panic!("{e:?}"),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(made, 3);
    assert_eq!(store.list_child_accounts(parent).unwrap().len(), 3);
}

backend_tests!(
    bootstrap_creates_the_account_and_its_owner_once,
    concurrent_creations_never_exceed_the_child_limit,
    concurrent_bootstraps_create_one_account,
    a_child_account_needs_an_existing_parent,
    children_are_listed_under_their_parent_only,
    an_update_changes_only_what_it_names_and_is_audited
);
