use tessera_domain::ids::{AccountId, Hex32, OAuthClientId};
use tessera_domain::oauth::{ClientInput, ClientSettings, OAuthClient, Visibility};
use tessera_domain::ports::{OAuthClientRepo, RepoError};
use tessera_store::backend_tests;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{account, at, audit_count, audit_in};

fn settings(name: &str, method: &str) -> ClientSettings {
    ClientSettings::checked(ClientInput {
        client_name: name.into(),
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        response_types: vec!["code".into()],
        redirect_uris: vec!["https://app.example.com/cb".into()],
        scopes: vec!["usage.read".into()],
        token_endpoint_auth_method: method.into(),
        logo_uri: Some("https://app.example.com/logo.png".into()),
        ..ClientInput::default()
    })
    .unwrap()
}

pub fn client(account: AccountId, n: u8) -> OAuthClient {
    OAuthClient {
        id: OAuthClientId(Hex32([n; 16])),
        account_id: account,
        settings: settings(&format!("client {n}"), "client_secret_basic"),
        visibility: Visibility::Private,
        secret_digest: Some(vec![n; 32]),
        previous_secret_digest: None,
        created_at: at(n.into()),
        updated_at: at(n.into()),
        promoted_at: None,
    }
}

fn clients_round_trip_and_stay_in_their_account(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other").account.id;
    let made = store
        .create_oauth_client(
            &client(acme, 1),
            100,
            &audit_in(acme, "oauth_client.create"),
        )
        .unwrap();
    assert_eq!(made, client(acme, 1));
    assert_eq!(store.get_oauth_client(acme, made.id).unwrap(), made);
    assert_eq!(
        store.find_oauth_client(made.id).unwrap(),
        Some(made.clone())
    );
    assert_eq!(
        store
            .find_oauth_client(OAuthClientId(Hex32([9; 16])))
            .unwrap(),
        None
    );
    let before = audit_count(&store, other);
    assert_eq!(
        store.get_oauth_client(other, made.id),
        Err(RepoError::NotFound)
    );
    assert_eq!(store.list_oauth_clients(other).unwrap(), vec![]);
    let new = settings("renamed", "client_secret_post");
    assert_eq!(
        store.update_oauth_client(other, made.id, &new, at(50), &audit_in(other, "x")),
        Err(RepoError::NotFound)
    );
    assert_eq!(
        store.rotate_oauth_client_secret(other, made.id, &[7; 32], at(50), &audit_in(other, "x")),
        Err(RepoError::NotFound)
    );
    assert_eq!(
        store.delete_rotated_oauth_client_secret(other, made.id, at(50), &audit_in(other, "x")),
        Err(RepoError::NotFound)
    );
    assert_eq!(
        store.delete_oauth_client(other, made.id, &audit_in(other, "x")),
        Err(RepoError::NotFound)
    );
    assert_eq!(audit_count(&store, other), before, "nothing audited");
    assert_eq!(
        store.get_oauth_client(acme, made.id).unwrap(),
        made,
        "unchanged"
    );

    let updated = store
        .update_oauth_client(
            acme,
            made.id,
            &new,
            at(60),
            &audit_in(acme, "oauth_client.update"),
        )
        .unwrap();
    assert_eq!(updated.settings, new);
    assert_eq!(updated.updated_at, at(60));
    assert_eq!(
        updated.secret_digest, made.secret_digest,
        "an update keeps the secret"
    );

    let second = store
        .create_oauth_client(
            &client(acme, 2),
            100,
            &audit_in(acme, "oauth_client.create"),
        )
        .unwrap();
    let listed: Vec<_> = store
        .list_oauth_clients(acme)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, vec![made.id, second.id], "oldest first");
    store
        .delete_oauth_client(acme, made.id, &audit_in(acme, "oauth_client.delete"))
        .unwrap();
    assert_eq!(
        store.find_oauth_client(made.id).unwrap(),
        None,
        "gone for every lookup"
    );
    assert_eq!(
        store.get_oauth_client(acme, made.id),
        Err(RepoError::NotFound)
    );
}

fn a_rotation_keeps_the_previous_secret_until_it_is_dropped(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let made = store
        .create_oauth_client(&client(acme, 1), 100, &audit_in(acme, "c"))
        .unwrap();
    let rotated = store
        .rotate_oauth_client_secret(acme, made.id, &[2; 32], at(10), &audit_in(acme, "r"))
        .unwrap();
    assert_eq!(rotated.secret_digest, Some(vec![2; 32]));
    assert_eq!(rotated.previous_secret_digest, Some(vec![1; 32]));
    assert!(rotated.has_rotated_secret());
    let again = store
        .rotate_oauth_client_secret(acme, made.id, &[3; 32], at(11), &audit_in(acme, "r"))
        .unwrap();
    assert_eq!(again.secret_digest, Some(vec![3; 32]));
    assert_eq!(
        again.previous_secret_digest,
        Some(vec![2; 32]),
        "the oldest is gone"
    );
    let dropped = store
        .delete_rotated_oauth_client_secret(acme, made.id, at(12), &audit_in(acme, "d"))
        .unwrap();
    assert_eq!(dropped.secret_digest, Some(vec![3; 32]));
    assert_eq!(dropped.previous_secret_digest, None);
    assert!(!dropped.has_rotated_secret());

    let mut public = client(acme, 4);
    public.settings = settings("spa", "none");
    public.secret_digest = None;
    let public = store
        .create_oauth_client(&public, 100, &audit_in(acme, "c"))
        .unwrap();
    assert_eq!(
        store.rotate_oauth_client_secret(acme, public.id, &[5; 32], at(13), &audit_in(acme, "r")),
        Err(RepoError::NotFound),
        "a public client has no secret to rotate"
    );
    assert_eq!(store.get_oauth_client(acme, public.id).unwrap(), public);
}

fn concurrent_rotations_leave_two_valid_secrets(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let made = store
        .create_oauth_client(&client(acme, 1), 100, &audit_in(acme, "c"))
        .unwrap();
    let rotations: Vec<u8> = (10..16).collect();
    std::thread::scope(|s| {
        for n in &rotations {
            let store = store.clone();
            s.spawn(move || {
                store
                    .rotate_oauth_client_secret(
                        acme,
                        made.id,
                        &[*n; 32],
                        at(20),
                        &audit_in(acme, "r"),
                    )
                    .unwrap();
            });
        }
    });
    let after = store.get_oauth_client(acme, made.id).unwrap();
    let current = after.secret_digest.clone().unwrap();
    let previous = after.previous_secret_digest.clone().unwrap();
    assert_ne!(current, previous);
    // Every rotation ran, one after the other: the previous secret is one of them too (the
    // original secret is not valid any more), and only these two digests are stored.
    assert!(rotations.contains(&current[0]), "{current:?}");
    assert!(rotations.contains(&previous[0]), "{previous:?}");
    assert_eq!(audit_count(&store, acme), 1 + 1 + rotations.len());
}

fn concurrent_creations_never_exceed_the_limit(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let made: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (1..=6)
            .map(|n| {
                let store = store.clone();
                s.spawn(move || {
                    match store.create_oauth_client(&client(acme, n), 3, &audit_in(acme, "c")) {
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
    assert_eq!(store.list_oauth_clients(acme).unwrap().len(), 3);
}

backend_tests!(
    clients_round_trip_and_stay_in_their_account,
    a_rotation_keeps_the_previous_secret_until_it_is_dropped,
    concurrent_rotations_leave_two_valid_secrets,
    concurrent_creations_never_exceed_the_limit
);
