//! Last use: service keys and access keys record when and from where they were last used (in
//! batches); a session records its user's last sign-in in the transaction that opens it.

use tessera_domain::ids::{AccessKeyId, ServiceKeyId, UserId};
use tessera_domain::keys::SignInMethod;
use tessera_domain::ports::{
    AccessKeyRepo, ListQuery, NewAccessKey, NewServiceKey, NewSession, ServiceKeyRepo, SessionRepo,
    Used, UserRepo,
};
use tessera_domain::roles::ids;
use tessera_store::backend_tests;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{account, at, audit_count, audit_in, new_user};

fn service_key(account: tessera_domain::ids::AccountId, n: u8) -> NewServiceKey {
    NewServiceKey {
        id: ServiceKeyId(uuid::Uuid::from_bytes([n; 16])),
        account_id: account,
        owner: None,
        name: format!("key {n}"),
        description: None,
        public_key_pem: "-----BEGIN PUBLIC KEY-----\n…".into(),
        roles: vec![ids::DEVELOPER],
        created_at: at(n.into()),
        validity: tessera_domain::keys::KeyValidity::default(),
    }
}

fn access_key(account: tessera_domain::ids::AccountId, user: UserId, n: u8) -> NewAccessKey {
    NewAccessKey {
        id: format!("AKLAST{n:014}").parse().unwrap(),
        account_id: account,
        user_id: user,
        name: None,
        secret_digest: vec![n; 32],
        created_at: at(n.into()),
        validity: tessera_domain::keys::KeyValidity::default(),
    }
}

fn service_keys_record_their_last_use_and_its_address(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let used = store
        .create_service_key(&service_key(acme, 1), 10, &audit_in(acme, "k"))
        .unwrap();
    let idle = store
        .create_service_key(&service_key(acme, 2), 10, &audit_in(acme, "k"))
        .unwrap();
    assert_eq!(
        (used.last_used_at, used.last_used_from.as_deref()),
        (None, None)
    );
    let events = audit_count(&store, acme);
    let gone = ServiceKeyId(uuid::Uuid::from_bytes([9; 16]));
    store
        .touch_service_keys(&[
            Used {
                id: used.id,
                at: at(500),
                from: Some("192.0.2.1".into()),
            },
            Used {
                id: gone,
                at: at(500),
                from: None,
            },
            Used {
                id: used.id,
                at: at(560),
                from: Some("2001:db8::1".into()),
            },
        ])
        .unwrap();
    let read = store.get_service_key(acme, used.id).unwrap();
    assert_eq!(
        (read.last_used_at, read.last_used_from.as_deref()),
        (Some(at(560)), Some("2001:db8::1"))
    );
    let found = store.find_service_key(used.id).unwrap().unwrap();
    assert_eq!(found.key.last_used_at, Some(at(560)));
    let listed = store
        .list_service_keys(acme, None, &ListQuery::default())
        .unwrap();
    let idle_listed = listed.items.iter().find(|k| k.id == idle.id).unwrap();
    assert_eq!(
        (
            idle_listed.last_used_at,
            idle_listed.last_used_from.as_deref()
        ),
        (None, None)
    );
    assert!(store.find_service_key(gone).unwrap().is_none());
    // A use is no change: nothing is audited, and an empty batch writes nothing.
    assert_eq!(audit_count(&store, acme), events);
    store.touch_service_keys(&[]).unwrap();
}

fn access_keys_record_their_address_and_list_per_account(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme");
    let other = account(&store, "other");
    let bob = store
        .create_user(
            &new_user(acme.account.id, "bobby", &[ids::DEVELOPER]),
            100,
            &audit_in(acme.account.id, "u"),
        )
        .unwrap();
    let a = acme.account.id;
    let owner_key = store
        .create_access_key(&access_key(a, acme.owner.id, 3), 2, &audit_in(a, "a"))
        .unwrap();
    let bob_old = store
        .create_access_key(&access_key(a, bob.id, 1), 2, &audit_in(a, "a"))
        .unwrap();
    let bob_new = store
        .create_access_key(&access_key(a, bob.id, 2), 2, &audit_in(a, "a"))
        .unwrap();
    let foreign = store
        .create_access_key(
            &access_key(other.account.id, other.owner.id, 4),
            2,
            &audit_in(other.account.id, "a"),
        )
        .unwrap();
    let unknown: AccessKeyId = "AKZZZZZZZZZZZZZZZZZZ".parse().unwrap();
    store
        .touch_access_keys(&[
            Used {
                id: bob_new.id.clone(),
                at: at(700),
                from: Some("198.51.100.4".into()),
            },
            Used {
                id: unknown,
                at: at(700),
                from: None,
            },
        ])
        .unwrap();
    let all = store.list_account_access_keys(a).unwrap();
    let ids: Vec<&AccessKeyId> = all.iter().map(|k| &k.id).collect();
    // By user (the owner was made first), then oldest first; nothing of the other account.
    assert_eq!(ids, vec![&owner_key.id, &bob_old.id, &bob_new.id]);
    assert!(!ids.contains(&&foreign.id));
    assert_eq!(
        (all[2].last_used_at, all[2].last_used_from.as_deref()),
        (Some(at(700)), Some("198.51.100.4"))
    );
    assert_eq!(
        (all[1].last_used_at, all[1].last_used_from.as_deref()),
        (None, None)
    );
    assert_eq!(
        store
            .list_account_access_keys(other.account.id)
            .unwrap()
            .len(),
        1
    );
}

fn a_session_records_its_users_last_sign_in(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme");
    let a = acme.account.id;
    assert_eq!(acme.owner.last_sign_in_at, None);
    for (n, from) in [(1u8, Some("203.0.113.5")), (2, None)] {
        store
            .create_session(
                &NewSession {
                    id: tessera_domain::ids::SessionId(tessera_domain::ids::Hex32([n; 16])),
                    token_digest: vec![n; 32],
                    account_id: a,
                    user_id: acme.owner.id,
                    created_at: at(i64::from(n) * 100),
                    expires_at: at(10_000),
                    from: from.map(str::to_owned),
                    method: SignInMethod::Password,
                },
                &audit_in(a, "session.create"),
            )
            .unwrap();
        let user = store.get_user(a, acme.owner.id).unwrap();
        assert_eq!(
            (user.last_sign_in_at, user.last_sign_in_from.as_deref()),
            (Some(at(i64::from(n) * 100)), from)
        );
    }
    let listed = store.list_users(a, &ListQuery::default()).unwrap();
    assert_eq!(listed.items[0].last_sign_in_at, Some(at(200)));
}

backend_tests!(
    service_keys_record_their_last_use_and_its_address,
    access_keys_record_their_address_and_list_per_account,
    a_session_records_its_users_last_sign_in
);
