use std::sync::Barrier;

use tessera_domain::ids::{AccessKeyId, ServiceKeyId, UserId};
use tessera_domain::keys::{KeyStatus, KeyValidity, SignInMethod, ValidityChange};
use tessera_domain::ports::{
    AccessKeyChanges, AccessKeyRepo, AuditFilter, AuditRepo, ExpiryFilter, ListQuery, NewAccessKey,
    NewServiceKey, NewSession, RepoError, RoleChange, ServiceKeyChanges, ServiceKeyRepo,
    SessionRepo, Used, UserRepo,
};
use tessera_domain::roles::ids;
use tessera_store::backend_tests;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{account, at, audit_in, new_user};

fn service_key(
    account: tessera_domain::ids::AccountId,
    owner: Option<UserId>,
    n: u8,
) -> NewServiceKey {
    NewServiceKey {
        id: ServiceKeyId(uuid::Uuid::from_bytes([n; 16])),
        account_id: account,
        owner,
        name: format!("key {n}"),
        description: Some("ci".into()),
        public_key_pem: "-----BEGIN PUBLIC KEY-----\n…".into(),
        roles: vec![ids::DEVELOPER],
        created_at: at(n.into()),
        validity: KeyValidity::default(),
    }
}

fn access_key(account: tessera_domain::ids::AccountId, user: UserId, n: u8) -> NewAccessKey {
    NewAccessKey {
        id: format!("AKTEST{n:014}").parse().unwrap(),
        account_id: account,
        user_id: user,
        name: Some(format!("key {n}")),
        secret_digest: vec![n; 32],
        created_at: at(n.into()),
        validity: KeyValidity::default(),
    }
}

fn service_keys_round_trip_with_roles_and_change(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let made = store
        .create_service_key(&service_key(acme, None, 1), 10, &audit_in(acme, "k"))
        .unwrap();
    assert_eq!(made.roles, vec![ids::DEVELOPER]);
    assert_eq!(made.owner, None);
    let found = store.find_service_key(made.id).unwrap().unwrap();
    assert_eq!(found.key, made);
    assert!(
        found
            .public_key_pem
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    let renamed = store
        .update_service_key(
            acme,
            made.id,
            &ServiceKeyChanges {
                name: Some("renamed".into()),
                description: Some(None),
                ..ServiceKeyChanges::default()
            },
            &audit_in(acme, "k"),
        )
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.description),
        ("renamed", None)
    );
    let set = store
        .change_service_key_roles(
            acme,
            made.id,
            &RoleChange::Replace(vec![ids::SUPPORT, ids::ADMIN]),
            &audit_in(acme, "k"),
        )
        .unwrap();
    assert_eq!(set.roles, vec![ids::ADMIN, ids::SUPPORT]);
    let epoch = store.authz_version().unwrap();
    store
        .delete_service_key(acme, made.id, &audit_in(acme, "k"))
        .unwrap();
    assert!(
        store.authz_version().unwrap() > epoch,
        "deleting a key moves the epoch"
    );
    assert!(store.find_service_key(made.id).unwrap().is_none());
    assert_eq!(
        store.get_service_key(acme, made.id),
        Err(RepoError::NotFound)
    );
}

fn another_accounts_service_key_is_not_found(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other");
    let theirs = store
        .create_service_key(
            &service_key(other.account.id, None, 1),
            10,
            &audit_in(other.account.id, "k"),
        )
        .unwrap();
    assert_eq!(
        store.get_service_key(acme, theirs.id),
        Err(RepoError::NotFound)
    );
    assert_eq!(
        store.delete_service_key(acme, theirs.id, &audit_in(acme, "k")),
        Err(RepoError::NotFound)
    );
    assert_eq!(
        store.create_service_key(
            &service_key(acme, Some(other.owner.id), 2),
            10,
            &audit_in(acme, "k")
        ),
        Err(RepoError::NotFound),
        "a key cannot belong to another account's user"
    );
}

fn the_key_limit_holds_under_concurrent_creations(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let barrier = Barrier::new(4);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4u8)
            .map(|n| {
                let store = store.clone();
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    store.create_service_key(&service_key(acme, None, n), 2, &audit_in(acme, "k"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        2,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| *r == Err(RepoError::LimitReached))
    );
    assert_eq!(
        store
            .list_service_keys(acme, None, &ListQuery::default())
            .unwrap()
            .total,
        2
    );
}

fn keys_holding_roles_and_stripping_them_with_the_users_roles(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let dev = store
        .create_user(
            &new_user(acme, "dev01", &[ids::DEVELOPER, ids::SUPPORT]),
            1000,
            &audit_in(acme, "u"),
        )
        .unwrap();
    let key = store
        .create_service_key(
            &service_key(acme, Some(dev.id), 1),
            10,
            &audit_in(acme, "k"),
        )
        .unwrap();
    assert_eq!(
        store
            .keys_holding_roles(acme, dev.id, &[ids::DEVELOPER])
            .unwrap(),
        vec![key.id]
    );
    assert!(
        store
            .keys_holding_roles(acme, dev.id, &[ids::SUPPORT])
            .unwrap()
            .is_empty()
    );
    let mine = store
        .list_service_keys(acme, Some(dev.id), &ListQuery::default())
        .unwrap();
    assert_eq!(mine.items, vec![key.clone()]);
    store
        .change_user_roles(
            acme,
            dev.id,
            &RoleChange::Remove {
                roles: vec![ids::DEVELOPER],
                from_keys: true,
            },
            at(9),
            &audit_in(acme, "u"),
        )
        .unwrap();
    assert!(
        store
            .get_service_key(acme, key.id)
            .unwrap()
            .roles
            .is_empty(),
        "force strips the key too"
    );
    store
        .delete_user(acme, dev.id, &audit_in(acme, "u"))
        .unwrap();
    assert!(
        store.find_service_key(key.id).unwrap().is_none(),
        "a user's keys go with it"
    );
}

fn access_keys_are_limited_per_user_and_keep_only_a_digest(db: &TestDatabase) {
    let store = db.store();
    let made = account(&store, "acme");
    let (acme, owner) = (made.account.id, made.owner.id);
    let a = store
        .create_access_key(&access_key(acme, owner, 1), 2, &audit_in(acme, "a"))
        .unwrap();
    store
        .create_access_key(&access_key(acme, owner, 2), 2, &audit_in(acme, "a"))
        .unwrap();
    assert_eq!(
        store.create_access_key(&access_key(acme, owner, 3), 2, &audit_in(acme, "a")),
        Err(RepoError::LimitReached)
    );
    let found = store.find_access_key(&a.id).unwrap().unwrap();
    assert_eq!(found.secret_digest, vec![1; 32]);
    assert_eq!(found.key.status, KeyStatus::Active);
    assert_eq!(store.list_access_keys(acme, owner).unwrap().len(), 2);
    let off = store
        .update_access_key(
            acme,
            owner,
            &a.id,
            &AccessKeyChanges {
                status: Some(KeyStatus::Inactive),
                ..AccessKeyChanges::default()
            },
            &audit_in(acme, "a"),
        )
        .unwrap();
    assert_eq!(
        (off.status, off.name.as_deref()),
        (KeyStatus::Inactive, Some("key 1"))
    );
    store
        .touch_access_keys(&[Used {
            id: a.id.clone(),
            at: at(500),
            from: None,
        }])
        .unwrap();
    assert_eq!(
        store
            .get_access_key(acme, owner, &a.id)
            .unwrap()
            .last_used_at,
        Some(at(500))
    );
    store
        .delete_access_key(acme, owner, &a.id, &audit_in(acme, "a"))
        .unwrap();
    assert_eq!(
        store.get_access_key(acme, owner, &a.id),
        Err(RepoError::NotFound)
    );
    let unknown: AccessKeyId = "AKZZZZZZZZZZZZZZZZZZ".parse().unwrap();
    assert!(store.find_access_key(&unknown).unwrap().is_none());
}

fn sessions_are_found_by_digest_and_purged_when_expired(db: &TestDatabase) {
    let store = db.store();
    let made = account(&store, "acme");
    let acme = made.account.id;
    for (digest, expires) in [(vec![1u8; 32], at(100)), (vec![2u8; 32], at(10))] {
        store
            .create_session(
                &NewSession {
                    id: tessera_domain::ids::SessionId(tessera_domain::ids::Hex32([digest[0]; 16])),
                    token_digest: digest,
                    account_id: acme,
                    user_id: made.owner.id,
                    created_at: at(0),
                    expires_at: expires,
                    from: None,
                    method: SignInMethod::Password,
                },
                &audit_in(acme, "session.create"),
            )
            .unwrap();
    }
    let s = store.find_session(&[1u8; 32]).unwrap().unwrap();
    assert_eq!((s.user_id, s.expires_at), (made.owner.id, at(100)));
    assert_eq!(store.purge_expired_sessions(at(50)).unwrap(), 1);
    assert!(store.find_session(&[2u8; 32]).unwrap().is_none());
    store
        .delete_session(&[1u8; 32], &audit_in(acme, "session.delete"))
        .unwrap();
    assert_eq!(
        store.delete_session(&[1u8; 32], &audit_in(acme, "session.delete")),
        Err(RepoError::NotFound)
    );
    let events = store
        .list_audit(
            acme,
            &AuditFilter {
                action: Some("session.create".into()),
                limit: 10,
                ..AuditFilter::default()
            },
        )
        .unwrap();
    assert_eq!(events.len(), 2);
}

fn validity(not_before: Option<i64>, expires_at: Option<i64>) -> KeyValidity {
    KeyValidity {
        not_before: not_before.map(at),
        expires_at: expires_at.map(at),
    }
}

fn key_validity_round_trips_and_changes_only_the_ends_named(db: &TestDatabase) {
    let store = db.store();
    let made = account(&store, "acme");
    let (acme, owner) = (made.account.id, made.owner.id);
    let mut new = service_key(acme, None, 1);
    new.validity = validity(Some(10), Some(1000));
    let key = store
        .create_service_key(&new, 10, &audit_in(acme, "k"))
        .unwrap();
    assert_eq!(key.validity, validity(Some(10), Some(1000)));
    assert_eq!(
        store
            .find_service_key(key.id)
            .unwrap()
            .unwrap()
            .key
            .validity,
        key.validity
    );
    let epoch = store.authz_version().unwrap();
    let renamed = store
        .update_service_key(
            acme,
            key.id,
            &ServiceKeyChanges {
                name: Some("renamed".into()),
                ..ServiceKeyChanges::default()
            },
            &audit_in(acme, "k"),
        )
        .unwrap();
    assert_eq!(
        renamed.validity, key.validity,
        "a rename keeps the validity"
    );
    assert_eq!(store.authz_version().unwrap(), epoch, "and the epoch");
    let extended = store
        .update_service_key(
            acme,
            key.id,
            &ServiceKeyChanges {
                validity: ValidityChange {
                    not_before: None,
                    expires_at: Some(Some(at(2000))),
                },
                ..ServiceKeyChanges::default()
            },
            &audit_in(acme, "k"),
        )
        .unwrap();
    assert_eq!(extended.validity, validity(Some(10), Some(2000)));
    assert!(
        store.authz_version().unwrap() > epoch,
        "a new validity moves the epoch: every instance drops its cached principals"
    );
    let opened = store
        .update_service_key(
            acme,
            key.id,
            &ServiceKeyChanges {
                validity: ValidityChange {
                    not_before: Some(None),
                    expires_at: None,
                },
                ..ServiceKeyChanges::default()
            },
            &audit_in(acme, "k"),
        )
        .unwrap();
    assert_eq!(opened.validity, validity(None, Some(2000)));

    let mut new = access_key(acme, owner, 1);
    new.validity = validity(None, Some(1000));
    let ak = store
        .create_access_key(&new, 2, &audit_in(acme, "a"))
        .unwrap();
    assert_eq!(ak.validity, validity(None, Some(1000)));
    assert_eq!(
        store.find_access_key(&ak.id).unwrap().unwrap().key.validity,
        ak.validity
    );
    let epoch = store.authz_version().unwrap();
    let changed = store
        .update_access_key(
            acme,
            owner,
            &ak.id,
            &AccessKeyChanges {
                validity: ValidityChange {
                    not_before: Some(Some(at(5))),
                    expires_at: Some(None),
                },
                ..AccessKeyChanges::default()
            },
            &audit_in(acme, "a"),
        )
        .unwrap();
    assert_eq!(changed.validity, validity(Some(5), None));
    assert_eq!(changed.name.as_deref(), Some("key 1"));
    assert!(store.authz_version().unwrap() > epoch);
    assert_eq!(
        store.list_access_keys(acme, owner).unwrap()[0].validity,
        changed.validity
    );
    let other = account(&store, "other");
    assert_eq!(
        store.update_access_key(
            other.account.id,
            owner,
            &ak.id,
            &AccessKeyChanges {
                validity: ValidityChange {
                    not_before: None,
                    expires_at: Some(Some(at(1))),
                },
                ..AccessKeyChanges::default()
            },
            &audit_in(other.account.id, "a"),
        ),
        Err(RepoError::NotFound)
    );
    assert_eq!(
        store.get_access_key(acme, owner, &ak.id).unwrap().validity,
        changed.validity,
        "another account's change changed nothing"
    );
}

fn key_lists_filter_on_expiry_with_paging_and_totals(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    // Keys 1–2 expire at 100 and 200, key 3 never, key 4 at 300.
    for (n, end) in [(1u8, Some(100)), (2, Some(200)), (3, None), (4, Some(300))] {
        let mut new = service_key(acme, None, n);
        new.validity = validity(None, end);
        store
            .create_service_key(&new, 10, &audit_in(acme, "k"))
            .unwrap();
    }
    let names = |expired: bool, at_s: i64, limit: u32| {
        let page = store
            .list_service_keys(
                acme,
                None,
                &ListQuery {
                    limit,
                    expiry: Some(ExpiryFilter {
                        expired,
                        at: at(at_s),
                    }),
                    ..ListQuery::default()
                },
            )
            .unwrap();
        (
            page.items.into_iter().map(|k| k.name).collect::<Vec<_>>(),
            page.total,
        )
    };
    assert_eq!(
        names(true, 200, 20),
        (vec!["key 1".into(), "key 2".into()], 2),
        "at the moment itself, expired"
    );
    assert_eq!(
        names(false, 200, 20),
        (vec!["key 3".into(), "key 4".into()], 2)
    );
    assert_eq!(names(true, 99, 20), (vec![], 0));
    assert_eq!(
        names(false, 99, 1),
        (vec!["key 1".into()], 4),
        "paged, counted in full"
    );
    assert_eq!(
        store
            .list_service_keys(acme, None, &ListQuery::default())
            .unwrap()
            .total,
        4
    );
}

backend_tests!(
    service_keys_round_trip_with_roles_and_change,
    another_accounts_service_key_is_not_found,
    the_key_limit_holds_under_concurrent_creations,
    keys_holding_roles_and_stripping_them_with_the_users_roles,
    access_keys_are_limited_per_user_and_keep_only_a_digest,
    sessions_are_found_by_digest_and_purged_when_expired,
    key_validity_round_trips_and_changes_only_the_ends_named,
    key_lists_filter_on_expiry_with_paging_and_totals
);
