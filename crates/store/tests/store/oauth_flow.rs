//! What the authorization code flow stores: codes spent exactly once (a replay recognised as
//! such), refresh tokens rotated exactly once, a grant's codes and tokens spent together, and
//! purging.

use std::sync::{Arc, Barrier};

use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::oauth::{
    AuthorizationCode, CodeChallenge, CodeRedemption, RefreshRotation, RefreshToken, ScopeSet,
};
use tessera_domain::ports::{OAuthFlowRepo, RepoError};
use tessera_store::backend_tests;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{account, at};

fn code(account: AccountId, n: u8, grant: &str, expires: i64) -> AuthorizationCode {
    AuthorizationCode {
        digest: vec![n; 32],
        client_id: "client-1".into(),
        grant_id: grant.into(),
        account_id: account,
        user_id: UserId(7),
        redirect_uri: "https://app.example/callback".into(),
        redirect_uri_given: true,
        code_challenge: Some(CodeChallenge::of_verifier(&"v".repeat(43))),
        nonce: Some(format!("nonce-{n}")),
        scopes: ScopeSet::parse("openid offline_access user_management.read").unwrap(),
        auth_time: at(0),
        created_at: at(0),
        expires_at: at(expires),
    }
}

fn refresh(account: AccountId, n: u8, grant: &str) -> RefreshToken {
    RefreshToken {
        digest: vec![n; 32],
        grant_id: grant.into(),
        client_id: "client-1".into(),
        account_id: account,
        user_id: UserId(7),
        scopes: ScopeSet::parse("openid offline_access user_management.write").unwrap(),
        auth_time: at(0),
        created_at: at(0),
        expires_at: at(1000),
        used_at: None,
    }
}

fn a_code_is_read_back_whole_and_spent_once_then_replayed(db: &TestDatabase) {
    let store = &db.store();
    let acme = account(store, "acme").account.id;
    let issued = code(acme, 1, "g1", 120);
    store.store_code(&issued).unwrap();
    let without = AuthorizationCode {
        code_challenge: None,
        nonce: None,
        redirect_uri_given: false,
        ..code(acme, 2, "g1", 120)
    };
    store.store_code(&without).unwrap();

    assert_eq!(
        store.redeem_code(&[1; 32], at(5)).unwrap(),
        CodeRedemption::Redeemed(issued.clone())
    );
    assert_eq!(
        store.redeem_code(&[1; 32], at(6)).unwrap(),
        CodeRedemption::Replayed(issued)
    );
    assert_eq!(
        store.redeem_code(&[2; 32], at(6)).unwrap(),
        CodeRedemption::Redeemed(without)
    );
    assert_eq!(
        store.redeem_code(&[3; 32], at(6)).unwrap(),
        CodeRedemption::Unknown
    );
}

fn of_eight_concurrent_redemptions_of_a_code_exactly_one_wins(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    for round in 0..3u8 {
        store.store_code(&code(acme, 10 + round, "g", 120)).unwrap();
        let barrier = Arc::new(Barrier::new(8));
        let results: Vec<CodeRedemption> = (0..8)
            .map(|_| {
                let store = store.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    store.redeem_code(&[10 + round; 32], at(5)).unwrap()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let won = results
            .iter()
            .filter(|r| matches!(r, CodeRedemption::Redeemed(_)))
            .count();
        let replayed = results
            .iter()
            .filter(|r| matches!(r, CodeRedemption::Replayed(_)))
            .count();
        assert_eq!((won, replayed), (1, 7), "round {round}");
    }
}

fn a_refresh_token_rotates_once_and_its_reuse_is_a_replay(db: &TestDatabase) {
    let store = &db.store();
    let acme = account(store, "acme").account.id;
    let first = refresh(acme, 1, "g1");
    store.store_refresh(&first).unwrap();
    assert_eq!(store.find_refresh(&[1; 32]).unwrap(), Some(first.clone()));
    assert!(first.is_live(at(10)));
    assert!(!first.is_live(at(1000)));

    let second = refresh(acme, 2, "g1");
    assert_eq!(
        store.rotate_refresh(&[1; 32], &second, at(10)).unwrap(),
        RefreshRotation::Rotated
    );
    let spent = store.find_refresh(&[1; 32]).unwrap().unwrap();
    assert_eq!(spent.used_at, Some(at(10)));
    assert!(!spent.is_live(at(11)));
    assert_eq!(store.find_refresh(&[2; 32]).unwrap(), Some(second));

    // Reusing the spent one stores nothing.
    assert_eq!(
        store
            .rotate_refresh(&[1; 32], &refresh(acme, 3, "g1"), at(20))
            .unwrap(),
        RefreshRotation::Replayed
    );
    assert_eq!(store.find_refresh(&[3; 32]).unwrap(), None);
    assert_eq!(
        store
            .rotate_refresh(&[9; 32], &refresh(acme, 4, "g1"), at(20))
            .unwrap_err(),
        RepoError::NotFound
    );
    assert_eq!(store.find_refresh(&[4; 32]).unwrap(), None);
}

fn of_eight_concurrent_rotations_of_a_refresh_token_exactly_one_stores_its_successor(
    db: &TestDatabase,
) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    store.store_refresh(&refresh(acme, 1, "g1")).unwrap();
    let barrier = Arc::new(Barrier::new(8));
    let results: Vec<RefreshRotation> = (0..8u8)
        .map(|i| {
            let store = store.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                store
                    .rotate_refresh(&[1; 32], &refresh(acme, 100 + i, "g1"), at(5))
                    .unwrap()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let rotated = results
        .iter()
        .filter(|r| **r == RefreshRotation::Rotated)
        .count();
    assert_eq!(rotated, 1, "{results:?}");
    let successors = (0..8u8)
        .filter(|i| store.find_refresh(&[100 + i; 32]).unwrap().is_some())
        .count();
    assert_eq!(successors, 1);
}

fn spending_a_grant_spends_its_codes_and_tokens_only(db: &TestDatabase) {
    let store = &db.store();
    let acme = account(store, "acme").account.id;
    store.store_code(&code(acme, 1, "g1", 120)).unwrap();
    store.store_code(&code(acme, 2, "g2", 120)).unwrap();
    store.store_refresh(&refresh(acme, 3, "g1")).unwrap();
    store.store_refresh(&refresh(acme, 4, "g1")).unwrap();
    store.store_refresh(&refresh(acme, 5, "g2")).unwrap();
    assert_eq!(store.spend_grant("g1", at(7)).unwrap(), 3);
    assert_eq!(store.spend_grant("g1", at(8)).unwrap(), 0, "once");
    assert!(matches!(
        store.redeem_code(&[1; 32], at(9)).unwrap(),
        CodeRedemption::Replayed(_)
    ));
    for n in [3, 4] {
        let t = store.find_refresh(&[n; 32]).unwrap().unwrap();
        assert_eq!(t.used_at, Some(at(7)));
    }
    // The other grant is untouched.
    assert!(
        store
            .find_refresh(&[5; 32])
            .unwrap()
            .unwrap()
            .is_live(at(9))
    );
    assert!(matches!(
        store.redeem_code(&[2; 32], at(9)).unwrap(),
        CodeRedemption::Redeemed(_)
    ));
}

fn purging_removes_codes_after_their_retention_and_tokens_after_expiry(db: &TestDatabase) {
    let store = &db.store();
    let acme = account(store, "acme").account.id;
    store.store_code(&code(acme, 1, "g1", 120)).unwrap();
    store.store_refresh(&refresh(acme, 2, "g1")).unwrap();
    // Expired but retained: a replay is still recognised.
    assert_eq!(store.purge_oauth_flow(at(121)).unwrap(), 0);
    assert!(store.find_refresh(&[2; 32]).unwrap().is_some());
    assert_eq!(store.purge_oauth_flow(at(1000)).unwrap(), 1, "the token");
    assert_eq!(
        store.purge_oauth_flow(at(120 + 3600)).unwrap(),
        1,
        "the code"
    );
    assert_eq!(
        store.redeem_code(&[1; 32], at(4000)).unwrap(),
        CodeRedemption::Unknown
    );
    assert!(store.find_refresh(&[2; 32]).unwrap().is_none());
    assert_eq!(store.purge_oauth_flow(at(999_999)).unwrap(), 0);
}

backend_tests!(
    a_code_is_read_back_whole_and_spent_once_then_replayed,
    of_eight_concurrent_redemptions_of_a_code_exactly_one_wins,
    a_refresh_token_rotates_once_and_its_reuse_is_a_replay,
    of_eight_concurrent_rotations_of_a_refresh_token_exactly_one_stores_its_successor,
    spending_a_grant_spends_its_codes_and_tokens_only,
    purging_removes_codes_after_their_retention_and_tokens_after_expiry,
);
