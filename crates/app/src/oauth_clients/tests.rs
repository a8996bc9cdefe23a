//! OAuth clients: who may manage them, the no-escalation rule on their scopes, secrets shown
//! once and stored as digests, rotation, and the protocol endpoints' lookups.

use std::sync::{Arc, Mutex};

use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::{Hex32, OAuthClientId};
use tessera_domain::oauth::{ClientInput, ClientSettings, OAuthClient, Visibility};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::Reason;
use tessera_domain::ports::RepoError;
use tessera_domain::roles::ids;
use tessera_domain::{Entity, Secret};

use super::OAuthClientUpdate;
use crate::App;
use crate::auth::secret_digest;
use crate::error::{AppError, OAuthClientFailure};
use crate::testing::{ACME, Mocks, now, principal};

const ID: OAuthClientId = OAuthClientId(Hex32([7; 16]));

fn input(scopes: &[&str], method: &str) -> ClientInput {
    ClientInput {
        client_name: "Dashboard".into(),
        grant_types: vec!["authorization_code".into()],
        response_types: vec!["code".into()],
        redirect_uris: vec!["https://app.example.com/cb".into()],
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        token_endpoint_auth_method: method.into(),
        ..ClientInput::default()
    }
}

fn stored(scopes: &[&str], method: &str, secret: Option<&str>) -> OAuthClient {
    OAuthClient {
        id: ID,
        account_id: ACME,
        settings: ClientSettings::checked(input(scopes, method)).unwrap(),
        visibility: Visibility::Private,
        secret_digest: secret.map(|s| secret_digest(&Secret::new(s))),
        previous_secret_digest: None,
        created_at: now(),
        updated_at: now(),
        promoted_at: None,
    }
}

fn ids_and_secret(m: &mut Mocks) {
    m.ids.expect_hex32().returning(|| Hex32([7; 16]));
    m.ids
        .expect_secret()
        .returning(|| Secret::new("s3cret-value"));
}

#[test]
fn creating_a_client_needs_api_credentials_write() {
    let mut m = Mocks::new();
    m.oauth_clients.expect_create_oauth_client().times(0);
    let app = m.app();
    let lacking: Vec<_> = tessera_domain::roles::ROLES
        .iter()
        .filter(|r| {
            !r.permissions()
                .contains(Permission::write(Capability::ApiCredentials))
        })
        .collect();
    assert!(lacking.len() > 3);
    for role in lacking {
        let roles = [role.id];
        let err = app
            .create_oauth_client(
                &principal(2, &roles),
                &RequestMeta::default(),
                ACME,
                input(&["email"], "none"),
            )
            .unwrap_err();
        assert!(matches!(err, AppError::Forbidden(_)), "{roles:?}: {err:?}");
    }
}

#[test]
fn a_client_never_carries_a_scope_its_creator_does_not_hold() {
    let mut m = Mocks::new();
    ids_and_secret(&mut m);
    m.oauth_clients.expect_create_oauth_client().times(0);
    let app = m.app();
    // An Administrator manages API credentials but holds no Turnkey capability.
    let err = app
        .create_oauth_client(
            &principal(2, &[ids::ADMINISTRATOR]),
            &RequestMeta::default(),
            ACME,
            input(
                &["usage.read", "aa_provisioning.write"],
                "client_secret_basic",
            ),
        )
        .unwrap_err();
    let AppError::ScopeNotGrantable(reasons) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        reasons,
        vec![Reason::NotGranted {
            permission: Permission::write(Capability::AaProvisioning)
        }]
    );
}

#[test]
fn a_confidential_client_gets_a_secret_once_stored_as_its_digest() {
    let mut m = Mocks::new();
    ids_and_secret(&mut m);
    let stored_with = Arc::new(Mutex::new(None));
    let seen = stored_with.clone();
    m.oauth_clients
        .expect_create_oauth_client()
        .times(1)
        .returning(move |client, limit, audit| {
            assert_eq!(limit, 100);
            assert_eq!(audit.action, "oauth_client.create");
            assert!(
                !audit.details.to_string().contains("s3cret-value"),
                "no secret in the audit"
            );
            *seen.lock().unwrap() = Some(client.clone());
            Ok(client.clone())
        });
    let app = m.app();
    let created = app
        .create_oauth_client(
            &principal(2, &[ids::OWNER]),
            &RequestMeta::default(),
            ACME,
            input(&["user_management.write"], "client_secret_post"),
        )
        .unwrap();
    assert_eq!(created.secret.as_ref().unwrap().expose(), "s3cret-value");
    let client = stored_with.lock().unwrap().clone().unwrap();
    assert_eq!(
        client.secret_digest,
        Some(secret_digest(&Secret::new("s3cret-value")))
    );
    assert_eq!(client.visibility, Visibility::Private);
    assert_eq!(client.id, ID);
}

#[test]
fn a_public_client_gets_no_secret_and_none_to_rotate() {
    let mut m = Mocks::new();
    ids_and_secret(&mut m);
    m.oauth_clients
        .expect_create_oauth_client()
        .returning(|c, _, _| Ok(c.clone()));
    m.oauth_clients
        .expect_get_oauth_client()
        .returning(|_, _| Ok(stored(&["email"], "none", None)));
    m.oauth_clients.expect_rotate_oauth_client_secret().times(0);
    let app = m.app();
    let owner = principal(2, &[ids::OWNER]);
    let created = app
        .create_oauth_client(
            &owner,
            &RequestMeta::default(),
            ACME,
            input(&["email"], "none"),
        )
        .unwrap();
    assert!(created.secret.is_none());
    assert_eq!(created.client.secret_digest, None);
    let err = app
        .rotate_oauth_client_secret(&owner, &RequestMeta::default(), ACME, ID)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "token_endpoint_auth_method: a public client (none) has no secret to rotate"
    );
}

#[test]
fn the_account_limit_is_reported_as_such() {
    let mut m = Mocks::new();
    ids_and_secret(&mut m);
    m.oauth_clients
        .expect_create_oauth_client()
        .returning(|_, _, _| Err(RepoError::LimitReached));
    let err = m
        .app()
        .create_oauth_client(
            &principal(2, &[ids::OWNER]),
            &RequestMeta::default(),
            ACME,
            input(&["email"], "none"),
        )
        .unwrap_err();
    assert_eq!(err, AppError::TooManyOAuthClients(100));
}

#[test]
fn updates_are_checked_whole_and_vouched_for_by_the_caller() {
    let mut m = Mocks::new();
    m.oauth_clients.expect_get_oauth_client().returning(|_, _| {
        Ok(stored(
            &["aa_provisioning.read"],
            "client_secret_basic",
            Some("x"),
        ))
    });
    m.oauth_clients.expect_update_oauth_client().times(0);
    let app = m.app();
    let meta = RequestMeta::default();
    let admin = principal(2, &[ids::ADMINISTRATOR]);
    let owner = principal(3, &[ids::OWNER]);
    // Renaming a client worth a Turnkey capability the caller lacks: refused (it could point the
    // redirect URIs at itself next).
    let rename = OAuthClientUpdate {
        client_name: Some("mine".into()),
        ..OAuthClientUpdate::default()
    };
    let err = app
        .update_oauth_client(&admin, &meta, ACME, ID, rename)
        .unwrap_err();
    assert!(matches!(err, AppError::ScopeNotGrantable(_)), "{err:?}");
    let err = app
        .rotate_oauth_client_secret(&admin, &meta, ACME, ID)
        .unwrap_err();
    assert!(matches!(err, AppError::ScopeNotGrantable(_)), "{err:?}");
    for (update, expected) in [
        (
            OAuthClientUpdate::default(),
            "body: name at least one field to change",
        ),
        (
            OAuthClientUpdate {
                token_endpoint_auth_method: Some("none".into()),
                ..OAuthClientUpdate::default()
            },
            "token_endpoint_auth_method: a client cannot switch between public (none) and \
             confidential (client_secret_basic, client_secret_post): create another client",
        ),
        (
            OAuthClientUpdate {
                visibility: Some("public".into()),
                ..OAuthClientUpdate::default()
            },
            "visibility: promotion to public needs a verified client_uri host, which Tessera \
             does not verify: clients stay private",
        ),
        (
            OAuthClientUpdate {
                redirect_uris: Some(vec!["http://evil.example/cb".into()]),
                ..OAuthClientUpdate::default()
            },
            "redirect_uris: 'http://evil.example/cb' must be https (http only for a loopback host)",
        ),
    ] {
        let err = app
            .update_oauth_client(&owner, &meta, ACME, ID, update)
            .unwrap_err();
        assert_eq!(err.to_string(), expected);
    }
}

#[test]
fn an_update_keeps_what_it_does_not_name() {
    let mut m = Mocks::new();
    m.oauth_clients
        .expect_get_oauth_client()
        .returning(|_, _| Ok(stored(&["usage.read"], "client_secret_basic", Some("x"))));
    m.oauth_clients
        .expect_update_oauth_client()
        .times(1)
        .returning(|_, _, settings, _, audit| {
            assert_eq!(audit.action, "oauth_client.update");
            let mut c = stored(&["usage.read"], "client_secret_basic", Some("x"));
            c.settings = settings.clone();
            Ok(c)
        });
    let updated = m
        .app()
        .update_oauth_client(
            &principal(2, &[ids::OWNER]),
            &RequestMeta::default(),
            ACME,
            ID,
            OAuthClientUpdate {
                grant_types: Some(vec!["authorization_code".into(), "refresh_token".into()]),
                token_endpoint_auth_method: Some("client_secret_post".into()),
                ..OAuthClientUpdate::default()
            },
        )
        .unwrap();
    let scopes: Vec<String> = updated
        .settings
        .scopes
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(scopes, ["offline_access", "usage.read"]);
    assert_eq!(
        updated.settings.redirect_uris,
        ["https://app.example.com/cb"]
    );
    assert_eq!(updated.settings.client_name, "Dashboard");
}

#[test]
fn another_accounts_client_is_not_found() {
    let mut m = Mocks::new();
    m.oauth_clients
        .expect_get_oauth_client()
        .returning(|_, _| Err(RepoError::NotFound));
    m.oauth_clients
        .expect_delete_oauth_client()
        .returning(|_, _, _| Err(RepoError::NotFound));
    let app = m.app();
    let owner = principal(2, &[ids::OWNER]);
    let meta = RequestMeta::default();
    let not_found = AppError::NotFound(Entity::OAuthClient);
    assert_eq!(
        app.get_oauth_client(&owner, ACME, ID).unwrap_err(),
        not_found
    );
    assert_eq!(
        app.delete_oauth_client(&owner, &meta, ACME, ID)
            .unwrap_err(),
        not_found
    );
    assert_eq!(
        app.rotate_oauth_client_secret(&owner, &meta, ACME, ID)
            .unwrap_err(),
        not_found
    );
}

#[test]
fn deleting_a_client_revokes_its_grants_after_the_delete() {
    let mut m = Mocks::new();
    let mut seq = mockall::Sequence::new();
    m.oauth_clients
        .expect_delete_oauth_client()
        .withf(|account, id, _| *account == ACME && *id == ID)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _| Ok(()));
    m.oauth_tokens
        .expect_revoke_client_grants()
        .withf(|client, _, audit| *client == ID.to_string() && audit.account_id == Some(ACME))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _| Ok(2));
    let app = m.app();
    let owner = principal(2, &[ids::OWNER]);
    app.delete_oauth_client(&owner, &RequestMeta::default(), ACME, ID)
        .unwrap();
}

fn authenticating(client: OAuthClient) -> App {
    let mut m = Mocks::new();
    m.oauth_clients
        .expect_find_oauth_client()
        .returning(move |id| Ok((id == ID).then(|| client.clone())));
    m.app()
}

#[test]
fn a_confidential_client_authenticates_with_its_current_or_previous_secret() {
    let mut client = stored(&["email"], "client_secret_basic", Some("new"));
    client.previous_secret_digest = Some(secret_digest(&Secret::new("old")));
    let app = authenticating(client);
    let id = ID.to_string();
    for good in ["new", "old"] {
        assert_eq!(
            app.authenticate_oauth_client(&id, Some(&Secret::new(good)))
                .unwrap()
                .id,
            ID
        );
    }
    for (client_id, secret, why) in [
        (id.as_str(), Some("older"), OAuthClientFailure::WrongSecret),
        (id.as_str(), Some(""), OAuthClientFailure::WrongSecret),
        (id.as_str(), None, OAuthClientFailure::SecretRequired),
        (
            "0".repeat(32).as_str(),
            Some("new"),
            OAuthClientFailure::UnknownClient,
        ),
        ("not-an-id", Some("new"), OAuthClientFailure::UnknownClient),
    ] {
        let err = app
            .authenticate_oauth_client(client_id, secret.map(Secret::new).as_ref())
            .unwrap_err();
        assert_eq!(err, AppError::OAuthClient(why), "{client_id} {secret:?}");
    }
    assert!(app.oauth_client("not-an-id").unwrap().is_none());
}

#[test]
fn a_public_client_authenticates_without_a_secret_only() {
    let app = authenticating(stored(&["email"], "none", None));
    let id = ID.to_string();
    assert!(app.authenticate_oauth_client(&id, None).is_ok());
    assert_eq!(
        app.authenticate_oauth_client(&id, Some(&Secret::new("")))
            .unwrap_err(),
        AppError::OAuthClient(OAuthClientFailure::SecretNotExpected)
    );
}

#[test]
fn the_scope_catalog_lists_every_scope_once() {
    let scopes = App::oauth_scopes();
    assert_eq!(scopes.len(), 4 + Capability::ALL.len() * 2);
    let write = scopes
        .iter()
        .find(|s| s.id == "user_management.write")
        .unwrap();
    assert_eq!(write.name, "User Management Write");
    assert_eq!(write.category, "Platform Resources");
    assert_eq!(
        write.permissions,
        ["user_management.read", "user_management.write"]
    );
    let openid = scopes.iter().find(|s| s.id == "openid").unwrap();
    assert_eq!(openid.category, "OpenID Connect");
    assert!(openid.permissions.is_empty());
}
