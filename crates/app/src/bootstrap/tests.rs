use mockall::predicate::always;
use tessera_domain::DomainError;
use tessera_domain::Secret;
use tessera_domain::account::Account;
use tessera_domain::audit::ActorKind;
use tessera_domain::ports::{BootstrappedAccount, RepoError};
use tessera_domain::roles::ids;

use super::*;
use crate::AppError;
use crate::testing::{ACME, Mocks, now, user};

fn settings() -> BootstrapSettings {
    BootstrapSettings {
        account_name: "Tessera".into(),
        account_email: "owner@example.com".into(),
        owner_login: "Admin".into(),
        owner_email: Some("owner@example.com".into()),
    }
}

fn made() -> BootstrappedAccount {
    BootstrappedAccount {
        account: Account {
            id: ACME,
            name: "Tessera".into(),
            email: "owner@example.com".into(),
            parent_id: None,
            active: true,
            created_at: now(),
            max_key_lifetime_days: None,
            require_mfa: false,
        },
        owner: user(1, "admin", &[ids::OWNER, ids::ADMINISTRATOR]),
    }
}

fn generators(m: &mut Mocks) {
    m.ids
        .expect_access_key_id()
        .returning(|| "AKABCDEFGHIJ01234567".into());
    m.ids
        .expect_secret()
        .returning(|| Secret::new("key-secret"));
    m.ids
        .expect_uuid()
        .returning(|| uuid::Uuid::from_bytes([7; 16]));
    m.key_pairs.expect_rsa_2048().returning(|| {
        Ok(tessera_domain::ports::GeneratedKeyPair {
            private_pem: Secret::new("-----BEGIN PRIVATE KEY-----"),
            public_pem: "-----BEGIN PUBLIC KEY-----".into(),
        })
    });
}

#[test]
fn an_empty_database_gets_an_account_and_an_owner_with_a_generated_password() {
    let mut m = Mocks::new();
    generators(&mut m);
    m.accounts
        .expect_has_accounts()
        .times(1)
        .returning(|| Ok(false));
    m.ids
        .expect_password()
        .times(1)
        .returning(|| Secret::new("Generated-Pass-1"));
    m.hasher
        .expect_hash()
        .withf(|p| p.expose() == "Generated-Pass-1")
        .times(1)
        .returning(|_| Ok("$argon2id$hash".into()));
    m.accounts
        .expect_bootstrap()
        .withf(|r| {
            r.account.owner_login.as_str() == "admin"
                && r.account.owner_password_hash == "$argon2id$hash"
                && r.audit.action == "account.bootstrap"
                && r.audit.actor.kind == ActorKind::System
                && !r.audit.details.to_string().contains("Generated-Pass-1")
                && r.account
                    .service_key
                    .as_ref()
                    .is_some_and(|k| k.roles == vec![ids::OWNER])
                && r.account.owner_access_key.as_ref().is_some_and(|k| {
                    k.secret_digest == crate::auth::secret_digest(&Secret::new("key-secret"))
                })
        })
        .times(1)
        .returning(|_| Ok(Some(made())));
    let creds = m.app().bootstrap(&settings()).unwrap().unwrap();
    assert_eq!(creds.owner_password.expose(), "Generated-Pass-1");
    assert_eq!(creds.owner.login.as_str(), "admin");
    assert_eq!(
        creds.access_key.token.expose(),
        "tsr_AKABCDEFGHIJ01234567_key-secret"
    );
    assert_eq!(
        creds.service_key.private_key.expose(),
        "-----BEGIN PRIVATE KEY-----"
    );
}

#[test]
fn a_database_with_an_account_is_left_alone_without_hashing() {
    let mut m = Mocks::new();
    m.accounts.expect_has_accounts().returning(|| Ok(true));
    m.hasher.expect_hash().times(0);
    m.accounts.expect_bootstrap().times(0);
    assert!(m.app().bootstrap(&settings()).unwrap().is_none());
}

#[test]
fn losing_a_bootstrap_race_creates_nothing() {
    let mut m = Mocks::new();
    generators(&mut m);
    m.accounts.expect_has_accounts().returning(|| Ok(false));
    m.ids
        .expect_password()
        .returning(|| Secret::new("Generated-Pass-1"));
    m.hasher
        .expect_hash()
        .returning(|_| Ok("$argon2id$hash".into()));
    m.accounts
        .expect_bootstrap()
        .with(always())
        .returning(|_| Ok(None));
    assert!(m.app().bootstrap(&settings()).unwrap().is_none());
}

#[test]
fn bad_settings_are_refused_before_touching_storage() {
    let mut m = Mocks::new();
    m.accounts.expect_has_accounts().times(0);
    let app = m.app();
    let mut s = settings();
    s.owner_login = "1admin".into();
    assert_eq!(
        app.bootstrap(&s).unwrap_err(),
        AppError::Invalid(DomainError::LoginMustStartWithLetter)
    );
    let mut s = settings();
    s.account_email = "nope".into();
    assert!(matches!(
        app.bootstrap(&s),
        Err(AppError::Invalid(DomainError::Invalid {
            field: "email",
            ..
        }))
    ));
}

#[test]
fn storage_failures_surface_as_unavailable() {
    let mut m = Mocks::new();
    m.accounts
        .expect_has_accounts()
        .returning(|| Err(RepoError::Unavailable("down".into())));
    assert_eq!(
        m.app().bootstrap(&settings()).unwrap_err(),
        AppError::Unavailable("down".into())
    );
}
