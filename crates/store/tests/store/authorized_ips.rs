use std::sync::Barrier;

use tessera_domain::Field;
use tessera_domain::authorized_ips::{AuthorizedIp, Network};
use tessera_domain::ids::{AccountId, ServiceKeyId};
use tessera_domain::ports::{
    AccessKeyChanges, AccessKeyRepo, AuditFilter, AuditRepo, AuthorizedIpRepo, NewAccessKey,
    NewServiceKey, RepoError, ServiceKeyChanges, ServiceKeyRepo,
};
use tessera_store::backend_tests;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{account, at, audit_in};

fn net(s: &str) -> Network {
    Network::parse("authorized_ip", s).unwrap()
}

fn entry(s: &str, allowed: bool, secs: i64) -> AuthorizedIp {
    AuthorizedIp {
        network: net(s),
        allowed,
        description: Some(format!("for {s}")),
        created: at(secs),
    }
}

fn actions(store: &tessera_store::Store, account: AccountId) -> Vec<String> {
    store
        .list_audit(
            account,
            &AuditFilter {
                limit: 100,
                ..AuditFilter::default()
            },
        )
        .unwrap()
        .into_iter()
        .map(|e| e.record.action)
        .collect()
}

fn entries_round_trip_stay_in_their_account_and_bump_the_epoch(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other").account.id;
    let epoch = store.authz_version().unwrap();
    let v4 = entry("192.0.2.0/24", true, 2);
    let v6 = entry("2001:db8::/32", false, 1);
    let host = AuthorizedIp {
        description: None,
        ..entry("198.51.100.7", true, 3)
    };
    for e in [&v4, &v6, &host] {
        store
            .add_authorized_ip(acme, e, 1000, &audit_in(acme, "authorized_ip.add"))
            .unwrap();
    }
    assert!(store.authz_version().unwrap() >= epoch + 3, "each addition");
    assert_eq!(
        store.list_authorized_ips(acme).unwrap(),
        vec![v6.clone(), v4.clone(), host.clone()],
        "oldest first, exactly as stored"
    );
    assert_eq!(store.list_authorized_ips(other).unwrap(), vec![]);
    // Another account's removal touches nothing of this one, and writes nothing.
    let before = store.authz_version().unwrap();
    assert_eq!(
        store
            .delete_authorized_ips(other, &[v4.network], None, &audit_in(other, "d"))
            .unwrap(),
        0
    );
    assert_eq!(store.authz_version().unwrap(), before);
    assert!(actions(&store, other).iter().all(|a| a != "d"));
    // `allowed` narrows a removal.
    assert_eq!(
        store
            .delete_authorized_ips(
                acme,
                &[v4.network, v6.network],
                Some(false),
                &audit_in(acme, "authorized_ip.delete")
            )
            .unwrap(),
        1
    );
    assert!(store.authz_version().unwrap() > before);
    assert_eq!(store.list_authorized_ips(acme).unwrap(), vec![v4, host]);
    let audited = actions(&store, acme);
    assert_eq!(
        audited.iter().filter(|a| *a == "authorized_ip.add").count(),
        3
    );
    assert_eq!(
        audited
            .iter()
            .filter(|a| *a == "authorized_ip.delete")
            .count(),
        1
    );
}

fn a_network_is_listed_once_per_account(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other").account.id;
    let e = entry("192.0.2.0/24", true, 1);
    store
        .add_authorized_ip(acme, &e, 1000, &audit_in(acme, "a"))
        .unwrap();
    let epoch = store.authz_version().unwrap();
    assert_eq!(
        store.add_authorized_ip(
            acme,
            &AuthorizedIp {
                allowed: false,
                ..e.clone()
            },
            1000,
            &audit_in(acme, "again")
        ),
        Err(RepoError::Conflict(Field::AuthorizedIp))
    );
    assert_eq!(store.authz_version().unwrap(), epoch, "nothing changed");
    assert!(!actions(&store, acme).contains(&"again".to_owned()));
    assert_eq!(store.list_authorized_ips(acme).unwrap(), vec![e.clone()]);
    store
        .add_authorized_ip(other, &e, 1000, &audit_in(other, "a"))
        .unwrap();
}

fn the_limit_holds_under_concurrent_additions(db: &TestDatabase) {
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
                    store.add_authorized_ip(
                        acme,
                        &entry(&format!("10.0.0.{n}"), true, n.into()),
                        2,
                        &audit_in(acme, "a"),
                    )
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
    assert_eq!(store.list_authorized_ips(acme).unwrap().len(), 2);
}

fn keys_keep_their_allowed_ips(db: &TestDatabase) {
    let store = db.store();
    let made = account(&store, "acme");
    let acme = made.account.id;
    let owner = made.owner.id;
    let id: tessera_domain::ids::AccessKeyId = "AKABCDEFGHIJ01234567".parse().unwrap();
    store
        .create_access_key(
            &NewAccessKey {
                id: id.clone(),
                account_id: acme,
                user_id: owner,
                name: None,
                secret_digest: vec![1; 32],
                created_at: at(0),
                validity: tessera_domain::keys::KeyValidity::default(),
            },
            2,
            &audit_in(acme, "k"),
        )
        .unwrap();
    let nets = vec![net("192.0.2.0/24"), net("2001:db8::1")];
    let epoch = store.authz_version().unwrap();
    let key = store
        .update_access_key(
            acme,
            owner,
            &id,
            &AccessKeyChanges {
                allowed_ips: Some(nets.clone()),
                ..AccessKeyChanges::default()
            },
            &audit_in(acme, "k"),
        )
        .unwrap();
    assert_eq!(key.allowed_ips, nets);
    assert!(
        store.authz_version().unwrap() > epoch,
        "a new condition drops cached principals"
    );
    assert_eq!(
        store.find_access_key(&id).unwrap().unwrap().key.allowed_ips,
        nets
    );
    let key = store
        .update_access_key(
            acme,
            owner,
            &id,
            &AccessKeyChanges {
                name: Some(Some("renamed".into())),
                ..AccessKeyChanges::default()
            },
            &audit_in(acme, "k"),
        )
        .unwrap();
    assert_eq!(key.allowed_ips, nets, "a rename keeps them");
    let key = store
        .update_access_key(
            acme,
            owner,
            &id,
            &AccessKeyChanges {
                allowed_ips: Some(vec![]),
                ..AccessKeyChanges::default()
            },
            &audit_in(acme, "k"),
        )
        .unwrap();
    assert_eq!(key.allowed_ips, vec![]);
    let service = store
        .create_service_key(
            &NewServiceKey {
                id: ServiceKeyId(uuid::Uuid::from_bytes([9; 16])),
                account_id: acme,
                owner: None,
                name: "ci".into(),
                description: None,
                public_key_pem: "-----BEGIN PUBLIC KEY-----\n…".into(),
                roles: vec![],
                created_at: at(0),
                validity: tessera_domain::keys::KeyValidity::default(),
            },
            10,
            &audit_in(acme, "k"),
        )
        .unwrap();
    assert_eq!(service.allowed_ips, vec![], "none until set");
    let epoch = store.authz_version().unwrap();
    let key = store
        .update_service_key(
            acme,
            service.id,
            &ServiceKeyChanges {
                allowed_ips: Some(vec![net("198.51.100.0/24")]),
                ..ServiceKeyChanges::default()
            },
            &audit_in(acme, "k"),
        )
        .unwrap();
    assert_eq!(key.allowed_ips, vec![net("198.51.100.0/24")]);
    assert!(store.authz_version().unwrap() > epoch);
    assert_eq!(
        store
            .find_service_key(service.id)
            .unwrap()
            .unwrap()
            .key
            .allowed_ips,
        vec![net("198.51.100.0/24")]
    );
}

backend_tests!(
    entries_round_trip_stay_in_their_account_and_bump_the_epoch,
    a_network_is_listed_once_per_account,
    the_limit_holds_under_concurrent_additions,
    keys_keep_their_allowed_ips
);
