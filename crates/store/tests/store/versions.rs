//! Authorization versions: a change stamps its own account only (no row shared by all
//! accounts), deactivation stamps the subtree, a change in one account never waits for an
//! uncommitted change in another (Postgres), and notifications arrive at commit, naming the
//! account, on the schema's own channel.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use tessera_domain::ids::AccountId;
use tessera_domain::ports::{
    AccountChanges, AccountRepo, AuthzChange, AuthzRepo, RoleChange, UserRepo,
};
use tessera_domain::roles::ids;
use tessera_store::backend_tests;
use tessera_store::db::AnyConnection;
use tessera_store::listen::{ChangeListener, Heard};
use tessera_store::testing::TestDatabase;
use tessera_store::{Store, epoch};

use crate::fixtures::{account, at, audit_in, new_account, someone_waits_for_a_lock};

fn add_role(store: &Store, account: AccountId, user: tessera_domain::ids::UserId) {
    store
        .change_user_roles(
            account,
            user,
            &RoleChange::Add(vec![ids::SUPPORT]),
            at(5),
            &audit_in(account, "user.roles"),
        )
        .unwrap();
}

fn changed_accounts(changes: &[AuthzChange]) -> Vec<AccountId> {
    changes.iter().map(|c| c.account).collect()
}

fn each_change_stamps_its_own_account(db: &TestDatabase) {
    let store = db.store();
    let a = account(&store, "acme");
    let b = account(&store, "globex");
    let start = store.authz_version().unwrap();
    assert!(store.authz_changes(start, 100).unwrap().is_empty());
    add_role(&store, a.account.id, a.owner.id);
    add_role(&store, b.account.id, b.owner.id);
    let changes = store.authz_changes(start, 100).unwrap();
    assert_eq!(changed_accounts(&changes), vec![a.account.id, b.account.id]);
    assert!(changes[0].version > start && changes[1].version > changes[0].version);
    // Another change in A: A appears once, after B, with its new version.
    add_role(&store, a.account.id, a.owner.id);
    let again = store.authz_changes(start, 100).unwrap();
    assert_eq!(changed_accounts(&again), vec![b.account.id, a.account.id]);
    assert_eq!(again[1].version, store.authz_version().unwrap());
    assert_eq!(
        store.authz_changes(again[0].version, 100).unwrap(),
        vec![again[1]],
        "only what is above the version asked"
    );
    assert_eq!(store.authz_changes(start, 1).unwrap().len(), 1, "limit");
}

fn deactivating_an_account_stamps_its_subtree(db: &TestDatabase) {
    let store = db.store();
    let parent = account(&store, "parent").account.id;
    let mut child = new_account("child");
    child.parent_id = Some(parent);
    let child = store
        .create_account(&child, 100, &audit_in(parent, "account.create"))
        .unwrap()
        .account
        .id;
    let mut grandchild = new_account("grandchild");
    grandchild.parent_id = Some(child);
    let grandchild = store
        .create_account(&grandchild, 100, &audit_in(child, "account.create"))
        .unwrap()
        .account
        .id;
    let other = account(&store, "other").account.id;
    let start = store.authz_version().unwrap();
    let off = AccountChanges {
        active: Some(false),
        ..AccountChanges::default()
    };
    store
        .update_account(parent, &off, &audit_in(parent, "account.update"))
        .unwrap();
    let mut changed = changed_accounts(&store.authz_changes(start, 100).unwrap());
    changed.sort_by_key(|a| a.0);
    assert_eq!(changed, vec![parent, child, grandchild]);
    assert!(!changed.contains(&other));
    // A rename stamps the account alone (the legacy credential names the account).
    let now = store.authz_version().unwrap();
    let rename = AccountChanges {
        name: Some("renamed".into()),
        ..AccountChanges::default()
    };
    store
        .update_account(other, &rename, &audit_in(other, "account.update"))
        .unwrap();
    assert_eq!(
        changed_accounts(&store.authz_changes(now, 100).unwrap()),
        vec![other]
    );
    // The same name again alters nothing: no stamp.
    let now = store.authz_version().unwrap();
    store
        .update_account(other, &rename, &audit_in(other, "account.update"))
        .unwrap();
    assert_eq!(store.authz_version().unwrap(), now);
}

backend_tests!(
    each_change_stamps_its_own_account,
    deactivating_an_account_stamps_its_subtree
);

/// A connection of its own, in an open transaction that has stamped `account` (as any change
/// there does) and not committed.
fn uncommitted_change(db: &TestDatabase, account: AccountId) -> AnyConnection {
    let mut conn = db.db.dedicated_connection().unwrap();
    conn.batch_execute("BEGIN").unwrap();
    epoch::bump(&mut conn, account).unwrap();
    conn
}

#[test]
fn a_change_in_one_account_never_waits_for_an_uncommitted_change_in_another() {
    let Some(db) = TestDatabase::postgres() else {
        return;
    };
    let store = db.store();
    let a = account(&store, "acme");
    let b = account(&store, "globex");
    let mut holder = uncommitted_change(&db, a.account.id);

    // B's change goes through while A's transaction stays open.
    let (done, finished) = mpsc::channel();
    let (s, id) = (store.clone(), b.account.id);
    let owner = b.owner.id;
    std::thread::spawn(move || {
        add_role(&s, id, owner);
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(Duration::from_secs(20))
        .expect("a change in account B waited for account A's open transaction");

    // The control: a change in A itself does wait (so the test can tell), until A commits.
    let (done, finished) = mpsc::channel();
    let (s, id) = (store.clone(), a.account.id);
    let owner = a.owner.id;
    std::thread::spawn(move || {
        add_role(&s, id, owner);
        done.send(()).unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !someone_waits_for_a_lock(&db, "authz_versions") {
        assert!(Instant::now() < deadline, "the change in A never waited");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(finished.try_recv().is_err());
    holder.batch_execute("COMMIT").unwrap();
    finished
        .recv_timeout(Duration::from_secs(20))
        .expect("A's change after the commit");
}

fn next(listener: &mut ChangeListener, within: Duration) -> Heard {
    listener.wait(within).unwrap()
}

#[test]
fn notifications_name_the_account_at_commit_and_never_on_rollback() {
    let Some(db) = TestDatabase::postgres() else {
        return;
    };
    // Another schema of the same database: its changes are not heard here.
    let Some(elsewhere) = TestDatabase::postgres() else {
        return;
    };
    let store = db.store();
    let a = account(&store, "acme");
    let other = account(&elsewhere.store(), "acme");
    let mut listener = ChangeListener::new(&db.db).expect("postgres listens");
    assert_eq!(next(&mut listener, Duration::ZERO), Heard::Connected);
    assert_eq!(next(&mut listener, Duration::from_millis(50)), Heard::Quiet);

    let mut open = uncommitted_change(&db, a.account.id);
    assert_eq!(
        next(&mut listener, Duration::from_millis(300)),
        Heard::Quiet,
        "nothing before commit"
    );
    open.batch_execute("COMMIT").unwrap();
    assert_eq!(
        next(&mut listener, Duration::from_secs(10)),
        Heard::Changed(vec![a.account.id])
    );

    let mut open = uncommitted_change(&db, a.account.id);
    open.batch_execute("ROLLBACK").unwrap();
    add_role(&elsewhere.store(), other.account.id, other.owner.id);
    assert_eq!(
        next(&mut listener, Duration::from_millis(300)),
        Heard::Quiet,
        "a rollback, and another schema's change, say nothing here"
    );

    add_role(&store, a.account.id, a.owner.id);
    assert_eq!(
        next(&mut listener, Duration::from_secs(10)),
        Heard::Changed(vec![a.account.id]),
        "an ordinary change through the store"
    );
}

#[test]
fn sqlite_has_no_listener() {
    assert!(ChangeListener::new(&TestDatabase::sqlite().db).is_none());
}

#[test]
fn a_rename_racing_a_deactivation_never_reactivates_the_account() {
    let Some(db) = TestDatabase::postgres() else {
        return;
    };
    let store = db.store();
    let child = account(&store, "child").account.id;
    // The deactivation is in flight: its row is changed and locked, not yet committed.
    let mut deactivation = db.db.dedicated_connection().unwrap();
    deactivation.batch_execute("BEGIN").unwrap();
    diesel::sql_query("UPDATE accounts SET active = false WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(child.0)
        .execute(&mut deactivation)
        .unwrap();
    let (done, finished) = mpsc::channel();
    let s = store.clone();
    std::thread::spawn(move || {
        let rename = AccountChanges {
            name: Some("renamed".into()),
            ..AccountChanges::default()
        };
        done.send(s.update_account(child, &rename, &audit_in(child, "account.update")))
            .unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !someone_waits_for_a_lock(&db, "accounts") {
        assert!(Instant::now() < deadline, "the rename never waited");
        std::thread::sleep(Duration::from_millis(20));
    }
    deactivation.batch_execute("COMMIT").unwrap();
    let renamed = finished
        .recv_timeout(Duration::from_secs(20))
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "renamed");
    assert!(!renamed.active, "the rename wrote back a stale active flag");
    assert!(!store.get_account(child).unwrap().active);
}
