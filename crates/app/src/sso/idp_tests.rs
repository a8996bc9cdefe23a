//! Setting a connector's identity provider: who may, and what the stored secret follows.

use tessera_domain::Secret;
use tessera_domain::ids::Hex32;
use tessera_domain::roles::ids;

use super::signin_tests::{CONNECTOR, connector, idp, meta, sealing};
use super::{CreateSso, IdpUpdate, UpdateSso};
use crate::error::AppError;
use crate::testing::{ACME, Mocks};

/// An account-wide deny of Role Access (write).
fn no_role_access() -> tessera_domain::policy::PolicyRule {
    use tessera_domain::ids::{PolicyId, UserGroupId};
    use tessera_domain::permissions::{Capability, Permission};
    use tessera_domain::policy::{Effect, PolicyRule, Scope, ScopeObjects};
    PolicyRule {
        id: PolicyId(Hex32([1; 16])),
        user_group: UserGroupId(Hex32([2; 16])),
        effect: Effect::Deny,
        permissions: vec![Permission::write(Capability::RoleAccess)],
        scopes: vec![Scope {
            account: ACME,
            objects: ScopeObjects::Everything,
        }],
    }
}

fn idp_update(issuer: &str, secret: Option<&str>) -> IdpUpdate {
    IdpUpdate {
        input: tessera_domain::sso::IdpInput {
            kind: "oidc".into(),
            issuer: issuer.into(),
            client_id: "tessera".into(),
            jit_role: Some(ids::DEVELOPER),
            ..Default::default()
        },
        client_secret: secret.map(Secret::new),
    }
}

/// Whoever sets the IdP decides who signs in as every user of the domain: only a caller with
/// an Owner's power may (an Administrator, or an Owner under a deny policy, may not).
#[test]
fn only_an_owner_level_caller_sets_an_identity_provider() {
    for caller in [
        crate::testing::principal(2, &[ids::ADMIN]),
        crate::testing::principal(2, &[ids::VERIFICATION]),
        crate::testing::principal_with(2, &[ids::OWNER], &[no_role_access()]),
    ] {
        let mut m = Mocks::new();
        sealing(&mut m);
        m.ids.expect_hex32().returning(|| Hex32([7; 16]));
        m.sso.expect_create_sso().times(0);
        m.sso.expect_update_sso().times(0);
        m.sso
            .expect_get_sso()
            .returning(|_, _| Ok(connector(true, Some(idp(None)))));
        let app = m.app();
        let err = app
            .create_sso(
                &caller,
                &meta(),
                ACME,
                CreateSso {
                    email_domain: "corp.example".into(),
                    idp: Some(idp_update("https://idp.example.com", Some("s"))),
                    ..CreateSso::default()
                },
            )
            .unwrap_err();
        assert!(matches!(err, AppError::Forbidden(_)), "{err:?}");
        let err = app
            .update_sso(
                &caller,
                &meta(),
                ACME,
                CONNECTOR,
                UpdateSso {
                    idp: Some(Some(idp_update("https://evil.example", None))),
                    ..UpdateSso::default()
                },
            )
            .unwrap_err();
        assert!(matches!(err, AppError::Forbidden(_)), "{err:?}");
    }
}

/// The stored client secret never follows a new issuer (whose token endpoint would get it).
#[test]
fn a_new_issuer_or_client_id_needs_its_own_secret() {
    let mut m = Mocks::new();
    sealing(&mut m);
    m.sso
        .expect_get_sso()
        .returning(|_, _| Ok(connector(true, Some(idp(None)))));
    m.sso.expect_update_sso().times(0);
    let err = m
        .app()
        .update_sso(
            &crate::testing::principal(1, &[ids::OWNER]),
            &meta(),
            ACME,
            CONNECTOR,
            UpdateSso {
                idp: Some(Some(idp_update("https://evil.example", None))),
                ..UpdateSso::default()
            },
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::Invalid(tessera_domain::DomainError::Invalid {
                field: "idp.client_secret",
                ..
            })
        ),
        "{err:?}"
    );
}
