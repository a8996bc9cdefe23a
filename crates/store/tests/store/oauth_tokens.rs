//! OAuth tokens' storage: one current signing key however many instances start together,
//! rotations, pruning, revocations that happen once under concurrency and stamp the account,
//! and grants.

use std::sync::{Arc, Barrier};

use tessera_domain::Field;
use tessera_domain::ids::{AccountId, Hex32};
use tessera_domain::oauth::{Grant, GrantId, ScopeSet, SigningKey};
use tessera_domain::ports::{OAuthTokenRepo, RepoError};
use tessera_store::testing::TestDatabase;
use tessera_store::{Store, backend_tests};

use crate::fixtures::{account, at, audit, audit_count, audit_in};

fn key(kid: &str, created: i64) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        public_jwk: format!(r#"{{"kid":"{kid}"}}"#),
        sealed_private: format!("sealed:{kid}").into_bytes(),
        created_at: at(created),
        retired_at: None,
    }
}

fn current(store: &Store) -> Vec<String> {
    store
        .signing_keys()
        .unwrap()
        .into_iter()
        .filter(|k| k.retired_at.is_none())
        .map(|k| k.kid)
        .collect()
}

/// Runs `f(i)` on `n` threads released together; their answers.
fn together<T: Send + 'static>(
    store: &Store,
    n: usize,
    f: impl Fn(&Store, usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(n));
    let f = Arc::new(f);
    (0..n)
        .map(|i| {
            let (store, barrier, f) = (store.clone(), barrier.clone(), f.clone());
            std::thread::spawn(move || {
                barrier.wait();
                f(&store, i)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect()
}

fn instances_starting_together_agree_on_one_current_key(db: &TestDatabase) {
    let store = db.store();
    let created = together(&store, 8, |s, i| {
        s.create_first_signing_key(&key(&format!("k{i}"), 0))
            .unwrap()
    });
    assert_eq!(created.iter().filter(|c| **c).count(), 1, "{created:?}");
    assert_eq!(store.signing_keys().unwrap().len(), 1);
    assert_eq!(current(&store).len(), 1);
    // Later starts find it.
    assert!(!store.create_first_signing_key(&key("late", 5)).unwrap());
    assert_eq!(store.signing_keys().unwrap().len(), 1);
}

fn a_rotation_retires_the_current_key_and_pruning_drops_old_ones(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    assert!(store.create_first_signing_key(&key("k1", 0)).unwrap());
    let before = audit_count(&store, acme);
    store
        .rotate_signing_key(&key("k2", 100), &audit_in(acme, "oauth.key.rotate"))
        .unwrap();
    let keys = store.signing_keys().unwrap();
    assert_eq!(
        keys.iter()
            .map(|k| (k.kid.as_str(), k.retired_at))
            .collect::<Vec<_>>(),
        vec![("k2", None), ("k1", Some(at(100)))],
        "newest first; the old one retired at the rotation"
    );
    assert_eq!(keys[0].sealed_private, b"sealed:k2");
    assert_eq!(
        audit_count(&store, acme),
        before + 1,
        "audited with the change"
    );
    // Concurrent rotations: each commits or is told to retry; one key stays current.
    let results = together(&store, 4, |s, i| {
        s.rotate_signing_key(&key(&format!("r{i}"), 200), &audit("oauth.key.rotate"))
    });
    for r in &results {
        assert!(
            matches!(r, Ok(()) | Err(RepoError::Conflict(Field::Value))),
            "{r:?}"
        );
    }
    assert!(results.iter().any(Result::is_ok));
    assert_eq!(current(&store).len(), 1);
    assert_eq!(store.prune_signing_keys(at(150)).unwrap(), 1, "k1 only");
    assert!(store.signing_keys().unwrap().iter().all(|k| k.kid != "k1"));
    assert_eq!(current(&store).len(), 1, "the current key is never pruned");
    let retired = store.signing_keys().unwrap().len() - 1;
    assert_eq!(
        store.prune_signing_keys(at(10_000)).unwrap() as usize,
        retired
    );
    assert_eq!(store.signing_keys().unwrap().len(), 1);
}

fn a_sealed_key_is_replaced_only_while_unchanged(db: &TestDatabase) {
    let store = db.store();
    store.create_first_signing_key(&key("k1", 0)).unwrap();
    assert!(
        !store
            .replace_sealed_signing_key("k1", b"other", b"new")
            .unwrap()
    );
    assert!(
        store
            .replace_sealed_signing_key("k1", b"sealed:k1", b"new")
            .unwrap()
    );
    assert_eq!(store.signing_keys().unwrap()[0].sealed_private, b"new");
    assert!(
        !store
            .replace_sealed_signing_key("k1", b"sealed:k1", b"again")
            .unwrap()
    );
}

fn a_token_is_revoked_once_however_many_revoke_it_together(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let version = store.authz_version().unwrap();
    let audits = audit_count(&store, acme);
    let revoked = together(&store, 8, move |s, _| {
        s.revoke_token(
            acme,
            "jti-1",
            at(600),
            &audit_in(acme, "oauth.token.revoke"),
        )
        .unwrap()
    });
    assert_eq!(revoked.iter().filter(|r| **r).count(), 1, "{revoked:?}");
    assert_eq!(audit_count(&store, acme), audits + 1, "one event");
    assert!(
        store.authz_version().unwrap() > version,
        "the account is stamped"
    );
    assert!(store.is_token_revoked("jti-1").unwrap());
    assert!(!store.is_token_revoked("jti-2").unwrap());
    assert_eq!(store.prune_revoked_tokens(at(599)).unwrap(), 0);
    assert_eq!(store.prune_revoked_tokens(at(601)).unwrap(), 1);
    assert!(!store.is_token_revoked("jti-1").unwrap());
}

fn grant(account: AccountId, user: tessera_domain::ids::UserId, n: u8, client: &str) -> Grant {
    Grant {
        id: GrantId(Hex32([n; 16])),
        account_id: account,
        user_id: user,
        client_id: client.into(),
        scopes: ScopeSet::parse("openid user_management.read").unwrap(),
        created_at: at(0),
        revoked_at: None,
    }
}

fn grants_are_per_account_and_revoked_once(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme");
    let other = account(&store, "other").account.id;
    let (a, owner) = (acme.account.id, acme.owner.id);
    let g = grant(a, owner, 1, "client-1");
    store
        .create_grant(&g, &audit_in(a, "oauth.grant.create"))
        .unwrap();
    assert_eq!(store.get_grant(a, g.id).unwrap(), g);
    assert_eq!(store.get_grant(other, g.id), Err(RepoError::NotFound));
    assert_eq!(
        store.revoke_grant(other, g.id, at(5), &audit_in(other, "oauth.grant.revoke")),
        Err(RepoError::NotFound),
        "another account's grant is not found"
    );
    assert!(matches!(
        store.create_grant(&g, &audit_in(a, "oauth.grant.create")),
        Err(RepoError::Conflict(_))
    ));
    let version = store.authz_version().unwrap();
    let revoked = together(&store, 8, move |s, _| {
        s.revoke_grant(
            a,
            GrantId(Hex32([1; 16])),
            at(5),
            &audit_in(a, "oauth.grant.revoke"),
        )
        .unwrap()
    });
    assert_eq!(revoked.iter().filter(|r| **r).count(), 1, "{revoked:?}");
    assert_eq!(store.get_grant(a, g.id).unwrap().revoked_at, Some(at(5)));
    assert!(store.authz_version().unwrap() > version);
    // A deleted client's grants all go at once.
    store
        .create_grant(
            &grant(a, owner, 2, "client-2"),
            &audit_in(a, "oauth.grant.create"),
        )
        .unwrap();
    store
        .create_grant(
            &grant(a, owner, 3, "client-2"),
            &audit_in(a, "oauth.grant.create"),
        )
        .unwrap();
    store
        .create_grant(
            &grant(a, owner, 4, "client-3"),
            &audit_in(a, "oauth.grant.create"),
        )
        .unwrap();
    assert_eq!(
        store
            .revoke_client_grants(
                "client-2",
                at(9),
                &audit_in(a, "oauth.client_grants.revoke")
            )
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .revoke_client_grants(
                "client-2",
                at(10),
                &audit_in(a, "oauth.client_grants.revoke")
            )
            .unwrap(),
        0
    );
    assert!(
        store
            .get_grant(a, GrantId(Hex32([4; 16])))
            .unwrap()
            .revoked_at
            .is_none()
    );
}

backend_tests!(
    instances_starting_together_agree_on_one_current_key,
    a_rotation_retires_the_current_key_and_pruning_drops_old_ones,
    a_sealed_key_is_replaced_only_while_unchanged,
    a_token_is_revoked_once_however_many_revoke_it_together,
    grants_are_per_account_and_revoked_once,
);
