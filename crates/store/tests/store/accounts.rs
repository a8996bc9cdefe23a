use tessera_domain::ids::AccountId;
use tessera_domain::ports::{
    AccountRepo, AuditFilter, AuditRepo, BootstrapRecord, RepoError, UserRepo,
};
use tessera_domain::roles::ids;
use tessera_store::backend_tests;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{audit, new_account};

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
        .create_account(&new_account("parent"), &audit("account.create"))
        .unwrap();
    let mut child = new_account("child");
    child.parent_id = Some(parent.account.id);
    let made = store
        .create_account(&child, &audit("account.create"))
        .unwrap();
    assert_eq!(made.account.parent_id, Some(parent.account.id));
    child.parent_id = Some(AccountId(999_999));
    assert_eq!(
        store.create_account(&child, &audit("account.create")),
        Err(RepoError::NotFound)
    );
}

backend_tests!(
    bootstrap_creates_the_account_and_its_owner_once,
    concurrent_bootstraps_create_one_account,
    a_child_account_needs_an_existing_parent
);
