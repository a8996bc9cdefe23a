use std::sync::Barrier;
use tessera_domain::Field;

use tessera_domain::ports::{
    AuditFilter, AuditRepo, ListQuery, RepoError, RoleChange, UserChanges, UserRepo,
};
use tessera_domain::roles::ids;
use tessera_domain::user::{Login, UserStatus};
use tessera_store::backend_tests;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{account, at, audit_count, audit_in, new_user};

fn created_users_read_back_with_their_roles(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let made = store
        .create_user(
            &new_user(acme, "Alice.W", &[ids::DEVELOPER, ids::SUPPORT]),
            1000,
            &audit_in(acme, "user.create"),
        )
        .unwrap();
    assert_eq!(made.login.as_str(), "alice.w");
    assert_eq!(made.roles, vec![ids::DEVELOPER, ids::SUPPORT]);
    assert_eq!(made.created_at, at(1));
    assert_eq!(UserRepo::get_user(&store, acme, made.id).unwrap(), made);
    let found = store
        .find_user_by_login(acme, &Login::parse("alice.w").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(found.user, made);
    assert_eq!(found.password_hash.as_deref(), Some("$argon2id$fake"));
    assert!(
        store
            .find_user_by_login(acme, &Login::parse("nobody").unwrap())
            .unwrap()
            .is_none()
    );
    let events = store
        .list_audit(
            acme,
            &AuditFilter {
                action: Some("user.create".into()),
                limit: 10,
                ..AuditFilter::default()
            },
        )
        .unwrap();
    assert_eq!(
        events[0].record.target.as_deref(),
        Some(&*format!("user:{}", made.id))
    );
}

fn another_accounts_user_is_not_found(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other");
    let theirs = other.owner.id;
    assert_eq!(
        UserRepo::get_user(&store, acme, theirs),
        Err(RepoError::NotFound)
    );
    let before = audit_count(&store, acme);
    let changes = UserChanges {
        description: Some(Some("hijacked".into())),
        updated_at: at(5),
        ..UserChanges::default()
    };
    assert_eq!(
        store.update_user(acme, theirs, &changes, &audit_in(acme, "user.update")),
        Err(RepoError::NotFound)
    );
    assert_eq!(
        store.delete_user(acme, theirs, &audit_in(acme, "user.delete")),
        Err(RepoError::NotFound)
    );
    assert_eq!(
        store.change_user_roles(
            acme,
            theirs,
            &RoleChange::Add(vec![ids::SUPPORT]),
            at(5),
            &audit_in(acme, "x")
        ),
        Err(RepoError::NotFound)
    );
    assert_eq!(
        UserRepo::get_user(&store, other.account.id, theirs).unwrap(),
        other.owner
    );
    assert_eq!(
        audit_count(&store, acme),
        before,
        "failed changes write no audit event"
    );
}

fn a_login_is_unique_per_account_only(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other").account.id;
    store
        .create_user(
            &new_user(acme, "bobby", &[]),
            1000,
            &audit_in(acme, "user.create"),
        )
        .unwrap();
    let before = audit_count(&store, acme);
    assert_eq!(
        store.create_user(
            &new_user(acme, "BOBBY", &[ids::SUPPORT]),
            1000,
            &audit_in(acme, "user.create")
        ),
        Err(RepoError::Conflict(Field::Login))
    );
    assert_eq!(audit_count(&store, acme), before);
    assert_eq!(store.count_users(acme).unwrap(), 2);
    store
        .create_user(
            &new_user(other, "bobby", &[]),
            1000,
            &audit_in(other, "user.create"),
        )
        .unwrap();
}

/// The account's user count (the total of unfiltered lists, and what the user limit reads)
/// follows creations and deletions, and a refused one changes nothing.
fn the_user_count_follows_creations_and_deletions(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other").account.id;
    let total = |account| {
        store
            .list_users(account, &ListQuery::default())
            .unwrap()
            .total
    };
    assert_eq!((store.count_users(acme).unwrap(), total(acme)), (1, 1));
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|n| {
                let store = store.clone();
                s.spawn(move || {
                    store.create_user(
                        &new_user(acme, &format!("user{n}"), &[]),
                        1000,
                        &audit_in(acme, "user.create"),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let made: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!((store.count_users(acme).unwrap(), total(acme)), (7, 7));
    assert_eq!(
        store.create_user(
            &new_user(acme, "user0", &[]),
            1000,
            &audit_in(acme, "user.create")
        ),
        Err(RepoError::Conflict(Field::Login))
    );
    store
        .delete_user(acme, made[0].id, &audit_in(acme, "user.delete"))
        .unwrap();
    assert_eq!(
        store.delete_user(acme, made[0].id, &audit_in(acme, "user.delete")),
        Err(RepoError::NotFound)
    );
    assert_eq!(
        store.delete_user(other, made[1].id, &audit_in(other, "user.delete")),
        Err(RepoError::NotFound)
    );
    assert_eq!((store.count_users(acme).unwrap(), total(acme)), (6, 6));
    assert_eq!((store.count_users(other).unwrap(), total(other)), (1, 1));
    let counted = store
        .list_users(
            acme,
            &ListQuery {
                limit: 1000,
                ..ListQuery::default()
            },
        )
        .unwrap()
        .items
        .len();
    assert_eq!(counted, 6, "the counter matches the rows");
}

fn concurrent_inserts_of_one_login_give_one_row_and_one_conflict(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let barrier = Barrier::new(2);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let store = store.clone();
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    store.create_user(
                        &new_user(acme, "racer", &[ids::SUPPORT]),
                        1000,
                        &audit_in(acme, "user.create"),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results.contains(&Err(RepoError::Conflict(Field::Login))),
        "{results:?}"
    );
    let page = store
        .list_users(
            acme,
            &ListQuery {
                name: Some("racer".into()),
                ..ListQuery::default()
            },
        )
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].roles, vec![ids::SUPPORT]);
}

fn updates_change_only_what_they_name(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let u = store
        .create_user(
            &new_user(acme, "carol", &[]),
            1000,
            &audit_in(acme, "user.create"),
        )
        .unwrap();
    let changed = store
        .update_user(
            acme,
            u.id,
            &UserChanges {
                email: Some(None),
                description: Some(Some("ops".into())),
                status: Some(UserStatus::Inactive),
                password_hash: Some("$argon2id$new".into()),
                updated_at: at(9),
                ..UserChanges::default()
            },
            &audit_in(acme, "user.update"),
        )
        .unwrap();
    assert_eq!(changed.email, None);
    assert_eq!(changed.description.as_deref(), Some("ops"));
    assert_eq!(changed.status, UserStatus::Inactive);
    assert_eq!(changed.phone_number, u.phone_number);
    assert_eq!(changed.updated_at, at(9));
    assert_eq!(changed.created_at, u.created_at);
    let hash = store
        .find_user_by_login(acme, &u.login)
        .unwrap()
        .unwrap()
        .password_hash;
    assert_eq!(hash.as_deref(), Some("$argon2id$new"));
}

fn the_last_active_owner_cannot_be_removed_deactivated_or_demoted(db: &TestDatabase) {
    let store = db.store();
    let made = account(&store, "acme");
    let (acme, owner) = (made.account.id, made.owner.id);
    let before = audit_count(&store, acme);
    assert_eq!(
        store.delete_user(acme, owner, &audit_in(acme, "user.delete")),
        Err(RepoError::LastOwner)
    );
    let deactivate = UserChanges {
        status: Some(UserStatus::Inactive),
        updated_at: at(3),
        ..UserChanges::default()
    };
    assert_eq!(
        store.update_user(acme, owner, &deactivate, &audit_in(acme, "user.update")),
        Err(RepoError::LastOwner)
    );
    let demote = RoleChange::Remove {
        roles: vec![ids::OWNER],
        from_keys: false,
    };
    assert_eq!(
        store.change_user_roles(acme, owner, &demote, at(3), &audit_in(acme, "user.roles")),
        Err(RepoError::LastOwner)
    );
    assert_eq!(
        store.change_user_roles(
            acme,
            owner,
            &RoleChange::Replace(vec![ids::ADMIN]),
            at(3),
            &audit_in(acme, "user.roles")
        ),
        Err(RepoError::LastOwner)
    );
    assert_eq!(
        UserRepo::get_user(&store, acme, owner).unwrap(),
        made.owner,
        "nothing changed"
    );
    assert_eq!(audit_count(&store, acme), before);

    // With a second active owner, the first may go.
    let second = store
        .create_user(
            &new_user(acme, "second", &[ids::OWNER]),
            1000,
            &audit_in(acme, "user.create"),
        )
        .unwrap();
    store
        .change_user_roles(acme, owner, &demote, at(4), &audit_in(acme, "user.roles"))
        .unwrap();
    assert_eq!(
        store.update_user(acme, second.id, &deactivate, &audit_in(acme, "user.update")),
        Err(RepoError::LastOwner)
    );
    store
        .delete_user(acme, owner, &audit_in(acme, "user.delete"))
        .unwrap();
    assert_eq!(
        UserRepo::get_user(&store, acme, owner),
        Err(RepoError::NotFound)
    );
}

fn role_changes_add_remove_and_replace(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let u = store
        .create_user(
            &new_user(acme, "dave1", &[ids::SUPPORT]),
            1000,
            &audit_in(acme, "user.create"),
        )
        .unwrap();
    let add = RoleChange::Add(vec![ids::SUPPORT, ids::DEVELOPER]);
    let after_add = store
        .change_user_roles(acme, u.id, &add, at(2), &audit_in(acme, "r"))
        .unwrap();
    assert_eq!(
        after_add.roles,
        vec![ids::DEVELOPER, ids::SUPPORT],
        "adding a held role is a no-op"
    );
    assert_eq!(after_add.updated_at, at(2));
    let remove = RoleChange::Remove {
        roles: vec![ids::SUPPORT, ids::OWNER],
        from_keys: false,
    };
    let after_remove = store
        .change_user_roles(acme, u.id, &remove, at(3), &audit_in(acme, "r"))
        .unwrap();
    assert_eq!(after_remove.roles, vec![ids::DEVELOPER]);
    let replace = RoleChange::Replace(vec![ids::USER_READ, ids::CALL_HISTORY]);
    let after_replace = store
        .change_user_roles(acme, u.id, &replace, at(4), &audit_in(acme, "r"))
        .unwrap();
    assert_eq!(after_replace.roles, vec![ids::CALL_HISTORY, ids::USER_READ]);
}

fn listing_pages_by_offset_or_cursor_with_filters(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other").account.id;
    for i in 0..7 {
        store
            .create_user(
                &new_user(acme, &format!("user{i}"), &[ids::SUPPORT]),
                1000,
                &audit_in(acme, "c"),
            )
            .unwrap();
    }
    store
        .create_user(&new_user(other, "user9", &[]), 1000, &audit_in(other, "c"))
        .unwrap();

    let first = store
        .list_users(
            acme,
            &ListQuery {
                limit: 3,
                ..ListQuery::default()
            },
        )
        .unwrap();
    assert_eq!(first.total, 8, "7 users and the owner");
    assert_eq!(first.items.len(), 3);
    assert_eq!(first.items[0].login.as_str(), "admin");
    assert!(
        first
            .items
            .iter()
            .skip(1)
            .all(|u| u.roles == vec![ids::SUPPORT])
    );

    let by_offset = store
        .list_users(
            acme,
            &ListQuery {
                limit: 3,
                offset: 3,
                ..ListQuery::default()
            },
        )
        .unwrap();
    let by_cursor = store
        .list_users(
            acme,
            &ListQuery {
                limit: 3,
                after: Some(first.items[2].id.to_string()),
                ..ListQuery::default()
            },
        )
        .unwrap();
    assert_eq!(by_offset.items, by_cursor.items);

    let desc = store
        .list_users(
            acme,
            &ListQuery {
                limit: 2,
                descending: true,
                ..ListQuery::default()
            },
        )
        .unwrap();
    assert_eq!(desc.items[0].login.as_str(), "user6");
    let desc_next = store
        .list_users(
            acme,
            &ListQuery {
                limit: 2,
                descending: true,
                after: Some(desc.items[1].id.to_string()),
                ..ListQuery::default()
            },
        )
        .unwrap();
    assert_eq!(desc_next.items[0].login.as_str(), "user4");

    let fuzzy = store
        .list_users(
            acme,
            &ListQuery {
                fuzzy_name: Some("SER".into()),
                ..ListQuery::default()
            },
        )
        .unwrap();
    assert_eq!(fuzzy.total, 7);
    let wildcard = store
        .list_users(
            acme,
            &ListQuery {
                fuzzy_name: Some("%".into()),
                ..ListQuery::default()
            },
        )
        .unwrap();
    assert_eq!(
        wildcard.total, 0,
        "LIKE wildcards in the filter are literal"
    );
    let exact = store
        .list_users(
            acme,
            &ListQuery {
                name: Some("user3".into()),
                ..ListQuery::default()
            },
        )
        .unwrap();
    assert_eq!(exact.items.len(), 1);
    assert_eq!(exact.items[0].login.as_str(), "user3");
}

backend_tests!(
    the_user_count_follows_creations_and_deletions,
    created_users_read_back_with_their_roles,
    another_accounts_user_is_not_found,
    a_login_is_unique_per_account_only,
    concurrent_inserts_of_one_login_give_one_row_and_one_conflict,
    updates_change_only_what_they_name,
    the_last_active_owner_cannot_be_removed_deactivated_or_demoted,
    role_changes_add_remove_and_replace,
    listing_pages_by_offset_or_cursor_with_filters
);
