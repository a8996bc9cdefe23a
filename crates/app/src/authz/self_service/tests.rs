//! The self-service rule, on mocked ports: what users do to themselves, what service keys
//! never do, and the deny that beats both.

use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::{Hex32, PolicyId, UserGroupId};
use tessera_domain::keys::KeyValidity;
use tessera_domain::permissions::Capability;
use tessera_domain::policy::{Effect, PolicyRule, ResourceKey, ResourceType, Scope, ScopeObjects};
use tessera_domain::ports::KeyPairGenerator;
use tessera_domain::roles::ids;
use tessera_domain::{DomainError, Secret};

use crate::testing::{
    ACME, KEY, Mocks, access_key_principal, key_principal, principal, principal_with, service_key,
    user,
};
use crate::{AppError, CreateServiceKey, UpdateSubuser};
use tessera_domain::ids::UserId;

fn deny_on_user(id: i64, capability: Capability) -> PolicyRule {
    PolicyRule {
        id: PolicyId(Hex32([1; 16])),
        user_group: UserGroupId(Hex32([2; 16])),
        effect: Effect::Deny,
        permissions: vec![tessera_domain::permissions::Permission::read(capability)],
        scopes: vec![Scope {
            account: ACME,
            objects: ScopeObjects::Only(vec![ResourceKey::new(ResourceType::User, id)]),
        }],
    }
}

fn phone(number: &str) -> UpdateSubuser {
    UpdateSubuser {
        phone_number: Some(Some(number.into())),
        ..UpdateSubuser::default()
    }
}

#[test]
fn a_service_key_never_acts_as_its_owner() {
    let mut m = Mocks::new();
    m.users.expect_get_user().times(0);
    m.users.expect_update_user().times(0);
    m.access_keys.expect_create_access_key().times(0);
    m.service_keys.expect_create_service_key().times(0);
    let app = m.app();
    let key = key_principal(Some(2), &[ids::DEVELOPER], &[]);
    let meta = RequestMeta::default();
    assert!(matches!(
        app.get_subuser(&key, ACME, UserId(2)),
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.update_subuser(&key, &meta, ACME, UserId(2), phone("+1 555 0100")),
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.create_access_key(&key, &meta, ACME, UserId(2), None, KeyValidity::default()),
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.effective_permissions(&key, ACME, UserId(2)),
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.create_service_key(&key, &meta, ACME, CreateServiceKey::default()),
        Err(AppError::Forbidden(_))
    ));
}

#[test]
fn sessions_and_access_keys_act_as_their_user() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, id| Ok(user(id.0, "dev01", &[ids::SUPPORT])));
    m.users
        .expect_update_user()
        .withf(|_, id, c, _| *id == UserId(2) && c.phone_number.is_some() && c.roles.is_none())
        .times(2)
        .returning(|_, id, _, _| Ok(user(id.0, "dev01", &[ids::SUPPORT])));
    let app = m.app();
    let meta = RequestMeta::default();
    for p in [
        principal(2, &[ids::SUPPORT]),
        access_key_principal(2, &[ids::SUPPORT]),
    ] {
        assert_eq!(app.get_subuser(&p, ACME, UserId(2)).unwrap().id, UserId(2));
        app.update_subuser(&p, &meta, ACME, UserId(2), phone("+1 555 0100"))
            .unwrap();
        assert!(matches!(
            app.get_subuser(&p, ACME, UserId(3)),
            Err(AppError::Forbidden(_))
        ));
    }
}

#[test]
fn a_deny_policy_beats_self_service() {
    let mut m = Mocks::new();
    m.users.expect_get_user().times(0);
    let app = m.app();
    let denied = principal_with(
        2,
        &[ids::SUPPORT],
        &[deny_on_user(2, Capability::UserManagement)],
    );
    let err = app.get_subuser(&denied, ACME, UserId(2)).unwrap_err();
    assert!(
        matches!(&err, AppError::Forbidden(r) if matches!(r[0], tessera_domain::policy::Reason::Policy { effect: Effect::Deny, .. })),
        "{err:?}"
    );
}

#[test]
fn status_and_roles_are_never_self_service() {
    let mut m = Mocks::new();
    m.users.expect_update_user().times(0);
    let app = m.app();
    let me = principal(2, &[ids::SUPPORT]);
    for cmd in [
        UpdateSubuser {
            status: Some(tessera_domain::user::UserStatus::Active),
            ..UpdateSubuser::default()
        },
        UpdateSubuser {
            roles: Some(vec![ids::SUPPORT]),
            ..UpdateSubuser::default()
        },
    ] {
        assert!(matches!(
            app.update_subuser(&me, &RequestMeta::default(), ACME, UserId(2), cmd),
            Err(AppError::Forbidden(_))
        ));
    }
}

fn key_pairs(m: &mut Mocks) {
    m.key_pairs
        .expect_rsa_2048()
        .returning(|| crate::infra::AwsLcKeyPairs.rsa_2048());
    m.ids
        .expect_uuid()
        .returning(|| uuid::Uuid::from_u128(0x77));
    m.accounts.expect_get_account().returning(|id| {
        Ok(tessera_domain::account::Account {
            id,
            name: "Acme".into(),
            email: "ops@acme.test".into(),
            parent_id: None,
            active: true,
            created_at: crate::testing::now(),
            max_key_lifetime_days: None,
            require_mfa: false,
        })
    });
}

#[test]
fn users_create_their_own_service_keys_with_roles_they_hold() {
    let mut m = Mocks::new();
    key_pairs(&mut m);
    m.service_keys
        .expect_create_service_key()
        .withf(|k, _, _| k.owner == Some(UserId(2)) && k.roles == vec![ids::SUPPORT])
        .times(1)
        .returning(|k, _, _| Ok(service_key(k.id, Some(2), &k.roles)));
    let app = m.app();
    let support = principal(2, &[ids::SUPPORT]);
    let made = app
        .create_service_key(
            &support,
            &RequestMeta::default(),
            ACME,
            CreateServiceKey {
                roles: vec![ids::SUPPORT],
                ..CreateServiceKey::default()
            },
        )
        .unwrap();
    assert_eq!(made.key.owner, Some(UserId(2)));
    let err = app
        .create_service_key(
            &support,
            &RequestMeta::default(),
            ACME,
            CreateServiceKey {
                roles: vec![ids::DEVELOPER],
                ..CreateServiceKey::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, AppError::RoleNotGrantable(_)), "{err:?}");
}

#[test]
fn a_service_key_reads_itself_and_nothing_else_without_roles() {
    let mut m = Mocks::new();
    m.service_keys
        .expect_get_service_key()
        .returning(|_, id| Ok(service_key(id, Some(2), &[])));
    let app = m.app();
    let key = key_principal(Some(2), &[ids::OWNER], &[]);
    assert_eq!(app.get_service_key(&key, ACME, KEY).unwrap().id, KEY);
    let other = tessera_domain::ids::ServiceKeyId(uuid::Uuid::from_u128(9));
    assert!(matches!(
        app.get_service_key(&key, ACME, other),
        Err(AppError::Forbidden(_))
    ));
    let page = app
        .list_service_keys(
            &key,
            ACME,
            &tessera_domain::ports::ListQuery::default(),
            None,
        )
        .unwrap();
    assert_eq!(
        page.items.iter().map(|k| k.id).collect::<Vec<_>>(),
        vec![KEY]
    );
}

#[test]
fn own_email_may_not_leave_or_enter_an_enforced_sso_domain() {
    use tessera_domain::ids::SsoConnectorId;
    use tessera_domain::sso::{SsoConnector, VerificationStatus};
    let mut m = Mocks::new();
    m.users.expect_get_user().returning(|_, _| {
        let mut u = user(2, "dev01", &[ids::SUPPORT]);
        u.email = Some("dev@corp.example".into());
        Ok(u)
    });
    m.sso.expect_list_sso().returning(|_| {
        let id = SsoConnectorId(Hex32([4; 16]));
        Ok(vec![SsoConnector {
            id,
            account_id: ACME,
            email_domain: "corp.example".into(),
            enabled: true,
            use_fedramp_language: false,
            verification_code: SsoConnector::code_for(id),
            verification_status: VerificationStatus::Verified,
            created_on: crate::testing::now(),
            updated_on: crate::testing::now(),
            idp: None,
        }])
    });
    m.users.expect_update_user().times(0);
    let err = m
        .app()
        .update_subuser(
            &principal(2, &[ids::SUPPORT]),
            &RequestMeta::default(),
            ACME,
            UserId(2),
            UpdateSubuser {
                email: Some(Some("dev@gmail.example".into())),
                ..UpdateSubuser::default()
            },
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::Invalid(DomainError::Invalid { field: "email", .. })
        ),
        "{err:?}"
    );
}

#[test]
fn a_password_change_through_self_service_needs_the_old_password_even_for_admins() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _| Ok(user(1, "admin", &[ids::OWNER])));
    m.users.expect_update_user().times(0);
    let err = m
        .app()
        .update_subuser(
            &principal(1, &[ids::OWNER]),
            &RequestMeta::default(),
            ACME,
            UserId(1),
            UpdateSubuser {
                new_password: Some(Secret::new("N3w-Password!")),
                ..UpdateSubuser::default()
            },
        )
        .unwrap_err();
    assert_eq!(err, AppError::OldPasswordRequired);
}
