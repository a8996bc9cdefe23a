//! Sessions: what a user sees of them (public id, addresses, method, last use), listed newest
//! first and paged in storage, ended one at a time or all at once, only the named user's, each
//! ending stamping the account's authorization version.

use tessera_domain::ids::{AccountId, Hex32, SessionId, UserId};
use tessera_domain::keys::SignInMethod;
use tessera_domain::ports::{
    AuthzRepo, NewSession, RepoError, SessionPage, SessionRepo, Used, UserRepo,
};
use tessera_store::testing::TestDatabase;
use tessera_store::{Store, backend_tests};

use crate::fixtures::{account, at, audit_count, audit_in, new_user};

fn id(n: u8) -> SessionId {
    SessionId(Hex32([n; 16]))
}

/// Opens session `n` (token digest `[n; 32]`) of `user`, created at `at(created)`.
fn open(store: &Store, account: AccountId, user: UserId, n: u8, created: i64, expires: i64) {
    store
        .create_session(
            &NewSession {
                id: id(n),
                token_digest: vec![n; 32],
                account_id: account,
                user_id: user,
                created_at: at(created),
                expires_at: at(expires),
                from: Some(format!("192.0.2.{n}")),
                method: if n % 2 == 0 {
                    SignInMethod::Sso
                } else {
                    SignInMethod::PasswordTotp
                },
            },
            &audit_in(account, "session.create"),
        )
        .unwrap();
}

fn page(limit: u32, offset: u64) -> SessionPage {
    SessionPage { limit, offset }
}

fn a_session_keeps_its_id_address_and_method(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme");
    let (a, owner) = (acme.account.id, acme.owner.id);
    open(&store, a, owner, 4, 10, 1000);
    open(&store, a, owner, 5, 20, 1000);
    let s = store.find_session(&[4; 32]).unwrap().unwrap();
    assert_eq!(s.id, id(4));
    assert_eq!((s.account_id, s.user_id), (a, owner));
    assert_eq!((s.created_at, s.expires_at), (at(10), at(1000)));
    assert_eq!(s.created_from.as_deref(), Some("192.0.2.4"));
    assert_eq!(s.method, SignInMethod::Sso);
    assert_eq!((s.last_used_at, s.last_used_from), (None, None));
    let s = store.find_session(&[5; 32]).unwrap().unwrap();
    assert_eq!(s.method, SignInMethod::PasswordTotp);
    assert!(store.find_session(&[6; 32]).unwrap().is_none());
}

fn a_users_live_sessions_are_listed_newest_first_in_pages(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme");
    let (a, owner) = (acme.account.id, acme.owner.id);
    let other = store
        .create_user(&new_user(a, "other", &[]), 100, &audit_in(a, "user.create"))
        .unwrap()
        .id;
    let globex = account(&store, "globex");
    // The owner's five live sessions (two opened at the same moment), one expired; another
    // user's and another account's.
    for (n, created) in [(1, 10), (2, 30), (3, 20), (4, 40), (5, 40)] {
        open(&store, a, owner, n, created, 1000);
    }
    open(&store, a, owner, 6, 50, 100);
    open(&store, a, other, 7, 60, 1000);
    open(&store, globex.account.id, globex.owner.id, 8, 70, 1000);
    let now = at(500);
    let first = store.list_sessions(a, owner, now, page(2, 0)).unwrap();
    assert_eq!(first.total, 5, "the expired one is not counted");
    assert_eq!(
        first.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        [id(5), id(4)],
        "newest first; equal times by id, descending"
    );
    let rest = store.list_sessions(a, owner, now, page(10, 2)).unwrap();
    assert_eq!(
        rest.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        [id(2), id(3), id(1)]
    );
    assert!(
        store
            .list_sessions(a, owner, now, page(10, 5))
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        store
            .list_sessions(a, owner, at(50), page(10, 0))
            .unwrap()
            .total,
        6,
        "before it expired, the sixth is live"
    );
    let others = store.list_sessions(a, other, now, page(10, 0)).unwrap();
    assert_eq!(
        others.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        [id(7)]
    );
    // A user named under another account has no sessions there.
    let wrong = store
        .list_sessions(globex.account.id, owner, now, page(10, 0))
        .unwrap();
    assert_eq!((wrong.total, wrong.items.len()), (0, 0));
}

fn ending_a_session_by_id_ends_only_that_users_session(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme");
    let (a, owner) = (acme.account.id, acme.owner.id);
    let other = store
        .create_user(&new_user(a, "other", &[]), 100, &audit_in(a, "user.create"))
        .unwrap()
        .id;
    let globex = account(&store, "globex");
    open(&store, a, owner, 1, 10, 1000);
    open(&store, a, other, 2, 10, 1000);
    let audits = audit_count(&store, a);
    let version = store.authz_version().unwrap();
    // Another user's session, or the right user under another account: not found, untouched.
    for (account, user, session) in [(a, owner, id(2)), (globex.account.id, owner, id(1))] {
        assert_eq!(
            store.delete_session_by_id(account, user, session, &audit_in(a, "session.delete")),
            Err(RepoError::NotFound)
        );
    }
    assert!(store.find_session(&[1; 32]).unwrap().is_some());
    assert!(store.find_session(&[2; 32]).unwrap().is_some());
    assert_eq!(audit_count(&store, a), audits, "nothing audited");
    assert_eq!(store.authz_version().unwrap(), version, "nothing stamped");
    store
        .delete_session_by_id(a, other, id(2), &audit_in(a, "session.delete"))
        .unwrap();
    assert!(store.find_session(&[2; 32]).unwrap().is_none());
    assert!(store.find_session(&[1; 32]).unwrap().is_some());
    assert_eq!(audit_count(&store, a), audits + 1);
    let changes = store.authz_changes(version, 10).unwrap();
    assert!(
        changes.iter().any(|c| c.account == a),
        "the account's version moved: {changes:?}"
    );
    assert_eq!(
        store.delete_session_by_id(a, other, id(2), &audit_in(a, "session.delete")),
        Err(RepoError::NotFound),
        "ended once"
    );
}

fn ending_all_of_a_users_sessions_leaves_everyone_elses(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme");
    let (a, owner) = (acme.account.id, acme.owner.id);
    let other = store
        .create_user(&new_user(a, "other", &[]), 100, &audit_in(a, "user.create"))
        .unwrap()
        .id;
    for n in 1..=3 {
        open(&store, a, owner, n, 10, 1000);
    }
    open(&store, a, other, 4, 10, 1000);
    let version = store.authz_version().unwrap();
    assert_eq!(
        store
            .delete_user_sessions(a, owner, &audit_in(a, "session.delete_all"))
            .unwrap(),
        3
    );
    for n in 1..=3 {
        assert!(store.find_session(&[n; 32]).unwrap().is_none());
    }
    assert!(store.find_session(&[4; 32]).unwrap().is_some());
    assert!(store.authz_version().unwrap() > version);
    // None left: nothing to end, nothing stamped, the request still audited.
    let version = store.authz_version().unwrap();
    let audits = audit_count(&store, a);
    assert_eq!(
        store
            .delete_user_sessions(a, owner, &audit_in(a, "session.delete_all"))
            .unwrap(),
        0
    );
    assert_eq!(store.authz_version().unwrap(), version);
    assert_eq!(audit_count(&store, a), audits + 1);
}

fn a_sessions_last_use_is_recorded_in_batches_and_never_revives_it(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme");
    let (a, owner) = (acme.account.id, acme.owner.id);
    open(&store, a, owner, 1, 10, 1000);
    open(&store, a, owner, 2, 10, 1000);
    store
        .delete_session_by_id(a, owner, id(2), &audit_in(a, "session.delete"))
        .unwrap();
    store
        .touch_sessions(&[
            Used {
                id: id(1),
                at: at(100),
                from: Some("198.51.100.7".into()),
            },
            Used {
                id: id(2),
                at: at(100),
                from: None,
            },
        ])
        .unwrap();
    store.touch_sessions(&[]).unwrap();
    let s = store.find_session(&[1; 32]).unwrap().unwrap();
    assert_eq!(
        (s.last_used_at, s.last_used_from.as_deref()),
        (Some(at(100)), Some("198.51.100.7"))
    );
    assert!(
        store.find_session(&[2; 32]).unwrap().is_none(),
        "not revived"
    );
    let listed = store.list_sessions(a, owner, at(500), page(10, 0)).unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].last_used_at, Some(at(100)));
}

fn deleting_a_user_ends_its_sessions(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme");
    let a = acme.account.id;
    let other = store
        .create_user(&new_user(a, "other", &[]), 100, &audit_in(a, "user.create"))
        .unwrap()
        .id;
    open(&store, a, other, 1, 10, 1000);
    store
        .delete_user(a, other, &audit_in(a, "user.delete"))
        .unwrap();
    assert!(store.find_session(&[1; 32]).unwrap().is_none());
}

backend_tests!(
    a_session_keeps_its_id_address_and_method,
    a_users_live_sessions_are_listed_newest_first_in_pages,
    ending_a_session_by_id_ends_only_that_users_session,
    ending_all_of_a_users_sessions_leaves_everyone_elses,
    a_sessions_last_use_is_recorded_in_batches_and_never_revives_it,
    deleting_a_user_ends_its_sessions
);
