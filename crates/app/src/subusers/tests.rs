use tessera_domain::DomainError;
use tessera_domain::Secret;
use tessera_domain::audit::{ActorKind, RequestMeta};
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::policy::Reason;
use tessera_domain::ports::{ListQuery, Page, RepoError, RoleChange, UserWithSecret};
use tessera_domain::roles::ids;
use tessera_domain::user::UserStatus;
use tessera_domain::{Entity, Field};

use super::*;
use crate::AppError;
use crate::testing::{ACME, Mocks, principal, user};

fn meta() -> RequestMeta {
    RequestMeta {
        client_ip: Some("10.0.0.1".into()),
        request_id: Some("req-7".into()),
    }
}

fn create(login: &str, roles: &[RoleId]) -> CreateSubuser {
    CreateSubuser {
        login: login.into(),
        password: Some(Secret::new("Str0ng-Pass")),
        email: Some("new@example.com".into()),
        phone_number: None,
        description: None,
        status: None,
        roles: roles.to_vec(),
    }
}

fn owner() -> Principal {
    principal(1, &[ids::OWNER, ids::ADMINISTRATOR])
}

// ---- create ----

#[test]
fn an_owner_creates_a_user_with_roles_and_a_hashed_password() {
    let mut m = Mocks::new();
    m.hasher
        .expect_hash()
        .withf(|p| p.expose() == "Str0ng-Pass")
        .times(1)
        .returning(|_| Ok("$argon2id$h".into()));
    m.users
        .expect_create_user()
        .withf(|u, limit, a| {
            *limit == 1000
                && u.login.as_str() == "new.user"
                && u.password_hash.as_deref() == Some("$argon2id$h")
                && u.roles == vec![ids::DEVELOPER, ids::SUPPORT]
                && u.status == UserStatus::Active
                && a.action == "user.create"
                && a.actor.kind == ActorKind::User
                && a.actor.id == "1"
                && a.client_ip.as_deref() == Some("10.0.0.1")
                && a.request_id.as_deref() == Some("req-7")
                && !a.details.to_string().contains("Str0ng-Pass")
        })
        .times(1)
        .returning(|u, _, _| Ok(user(5, u.login.as_str(), &u.roles)));
    let made = m
        .app()
        .create_subuser(
            &owner(),
            &meta(),
            ACME,
            create("New.User", &[ids::SUPPORT, ids::DEVELOPER, ids::SUPPORT]),
        )
        .unwrap();
    assert_eq!(made.id, UserId(5));
}

#[test]
fn a_developer_may_not_create_users_and_nothing_is_written() {
    let mut m = Mocks::new();
    m.users.expect_create_user().times(0);
    m.hasher.expect_hash().times(0);
    let err = m
        .app()
        .create_subuser(
            &principal(2, &[ids::DEVELOPER]),
            &meta(),
            ACME,
            create("someone", &[]),
        )
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Forbidden(r) if matches!(r[0], Reason::NotGranted { .. })),
        "{err:?}"
    );
}

#[test]
fn another_account_answers_not_found() {
    let mut m = Mocks::new();
    m.accounts
        .expect_get_account()
        .returning(|_| Err(RepoError::NotFound));
    m.users.expect_create_user().times(0);
    let err = m
        .app()
        .create_subuser(&owner(), &meta(), AccountId(2), create("someone", &[]))
        .unwrap_err();
    assert_eq!(err, AppError::NotFound(Entity::Account));
}

#[test]
fn each_broken_rule_is_reported_before_anything_is_hashed_or_written() {
    let cases: Vec<(CreateSubuser, DomainError)> = vec![
        (create("abc", &[]), DomainError::LoginLength),
        (create("9lives", &[]), DomainError::LoginMustStartWithLetter),
        (create("bad login", &[]), DomainError::LoginCharacters),
        (
            CreateSubuser {
                password: Some(Secret::new("weakpass")),
                ..create("someone", &[])
            },
            DomainError::PasswordTooWeak("it needs an upper-case letter"),
        ),
        (
            CreateSubuser {
                password: Some(Secret::new("Has Space1!")),
                ..create("someone", &[])
            },
            DomainError::PasswordHasWhitespace,
        ),
        (
            create("someone", &[RoleId(999)]),
            DomainError::UnknownRoleId(999),
        ),
        (
            CreateSubuser {
                email: Some("x".into()),
                ..create("someone", &[])
            },
            DomainError::invalid("email", "must be an email address"),
        ),
    ];
    for (cmd, expected) in cases {
        let mut m = Mocks::new();
        m.users.expect_count_users().times(0);
        m.hasher.expect_hash().times(0);
        m.users.expect_create_user().times(0);
        let err = m
            .app()
            .create_subuser(&owner(), &meta(), ACME, cmd)
            .unwrap_err();
        assert_eq!(err, AppError::Invalid(expected));
    }
}

#[test]
fn an_administrator_cannot_grant_owner() {
    let mut m = Mocks::new();
    m.users.expect_create_user().times(0);
    let err = m
        .app()
        .create_subuser(
            &principal(2, &[ids::ADMINISTRATOR]),
            &meta(),
            ACME,
            create("someone", &[ids::OWNER]),
        )
        .unwrap_err();
    assert!(matches!(err, AppError::RoleNotGrantable(_)), "{err:?}");
}

#[test]
fn a_turnkey_administrator_grants_turnkey_roles_only() {
    let taa = principal(2, &[ids::TURNKEY_ADMINISTRATOR]);
    let mut m = Mocks::new();
    m.users.expect_create_user().times(0);
    let err = m
        .app()
        .create_subuser(&taa, &meta(), ACME, create("someone", &[ids::DEVELOPER]))
        .unwrap_err();
    assert!(
        matches!(&err, AppError::RoleNotGrantable(r) if r == &vec![Reason::RoleAccessMissing { role_id: ids::DEVELOPER }])
    );

    let mut m = Mocks::new();
    m.hasher.expect_hash().returning(|_| Ok("h".into()));
    m.users
        .expect_create_user()
        .times(1)
        .returning(|u, _, _| Ok(user(9, u.login.as_str(), &u.roles)));
    m.app()
        .create_subuser(
            &taa,
            &meta(),
            ACME,
            create("someone", &[ids::TURNKEY_DEVELOPER]),
        )
        .unwrap();
}

#[test]
fn the_user_limit_is_enforced_by_the_inserting_transaction() {
    let mut m = Mocks::new();
    m.settings.max_users_per_account = 3;
    m.hasher.expect_hash().returning(|_| Ok("h".into()));
    m.users
        .expect_create_user()
        .withf(|_, limit, _| *limit == 3)
        .times(1)
        .returning(|_, _, _| Err(RepoError::LimitReached));
    let err = m
        .app()
        .create_subuser(&owner(), &meta(), ACME, create("someone", &[]))
        .unwrap_err();
    assert_eq!(err, AppError::TooManyUsers(3));
}

#[test]
fn a_taken_login_is_a_conflict() {
    let mut m = Mocks::new();
    m.hasher.expect_hash().returning(|_| Ok("h".into()));
    m.users
        .expect_create_user()
        .returning(|_, _, _| Err(RepoError::Conflict(Field::Login)));
    let err = m
        .app()
        .create_subuser(&owner(), &meta(), ACME, create("someone", &[]))
        .unwrap_err();
    assert_eq!(err, AppError::Conflict(Field::Login));
}

// ---- read ----

#[test]
fn users_read_themselves_without_user_management() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .withf(|a, id| *a == ACME && *id == UserId(2))
        .returning(|_, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
    let app = m.app();
    let dev = principal(2, &[ids::DEVELOPER]);
    assert_eq!(
        app.get_subuser(&dev, ACME, UserId(2)).unwrap().id,
        UserId(2)
    );
    assert!(matches!(
        app.get_subuser(&dev, ACME, UserId(3)),
        Err(AppError::Forbidden(_))
    ));
}

#[test]
fn a_missing_user_is_not_found() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _| Err(RepoError::NotFound));
    assert_eq!(
        m.app().get_subuser(&owner(), ACME, UserId(77)).unwrap_err(),
        AppError::NotFound(Entity::User)
    );
}

#[test]
fn listing_needs_user_management_read() {
    let mut m = Mocks::new();
    m.users.expect_list_users().times(1).returning(|_, _| {
        Ok(Page {
            items: vec![user(1, "admin", &[ids::OWNER])],
            total: 1,
        })
    });
    let app = m.app();
    assert_eq!(
        app.list_subusers(
            &principal(3, &[ids::USER_READ]),
            ACME,
            &ListQuery::default()
        )
        .unwrap()
        .total,
        1
    );
    assert!(matches!(
        app.list_subusers(&principal(4, &[ids::SUPPORT]), ACME, &ListQuery::default()),
        Err(AppError::Forbidden(_))
    ));
}

// ---- update ----

fn with_password(
    hash: &str,
) -> impl Fn(AccountId, &tessera_domain::user::Login) -> Result<Option<UserWithSecret>, RepoError> {
    let hash = hash.to_owned();
    move |_, _| {
        Ok(Some(UserWithSecret {
            user: user(2, "dev01", &[ids::DEVELOPER]),
            password_hash: Some(hash.clone()),
        }))
    }
}

fn new_password(old: Option<&str>) -> UpdateSubuser {
    UpdateSubuser {
        new_password: Some(Secret::new("N3w-Password")),
        old_password: old.map(Secret::new),
        ..UpdateSubuser::default()
    }
}

#[test]
fn changing_ones_own_password_needs_the_old_one() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
    m.users.expect_update_user().times(0);
    let err = m
        .app()
        .update_subuser(
            &principal(2, &[ids::DEVELOPER]),
            &meta(),
            ACME,
            UserId(2),
            new_password(None),
        )
        .unwrap_err();
    assert_eq!(err, AppError::OldPasswordRequired);
}

#[test]
fn a_wrong_old_password_is_refused() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
    m.users
        .expect_find_user_by_login()
        .returning(with_password("$old"));
    m.hasher.expect_verify().returning(|_, _| Ok(false));
    m.users.expect_update_user().times(0);
    let err = m
        .app()
        .update_subuser(
            &principal(2, &[ids::DEVELOPER]),
            &meta(),
            ACME,
            UserId(2),
            new_password(Some("Wr0ng-Old")),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        AppError::Invalid(DomainError::Invalid {
            field: "old_password",
            ..
        })
    ));
}

#[test]
fn a_user_changes_its_own_password_without_user_management() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
    m.users
        .expect_find_user_by_login()
        .returning(with_password("$old"));
    m.hasher
        .expect_verify()
        .withf(|h, p| h == "$old" && p.expose() == "0ld-Password")
        .returning(|_, _| Ok(true));
    m.hasher.expect_hash().returning(|_| Ok("$new".into()));
    m.users
        .expect_update_user()
        .withf(|_, id, c, a| {
            *id == UserId(2)
                && c.password_hash.as_deref() == Some("$new")
                && a.action == "user.update"
        })
        .times(1)
        .returning(|_, _, _, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
    m.app()
        .update_subuser(
            &principal(2, &[ids::DEVELOPER]),
            &meta(),
            ACME,
            UserId(2),
            new_password(Some("0ld-Password")),
        )
        .unwrap();
}

#[test]
fn users_cannot_change_their_own_status() {
    let mut m = Mocks::new();
    m.users.expect_update_user().times(0);
    let cmd = UpdateSubuser {
        status: Some(UserStatus::Active),
        ..UpdateSubuser::default()
    };
    let err = m
        .app()
        .update_subuser(
            &principal(2, &[ids::DEVELOPER]),
            &meta(),
            ACME,
            UserId(2),
            cmd,
        )
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)));
}

#[test]
fn an_administrator_resets_a_developers_password_without_the_old_one() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
    m.authz
        .expect_policy_rules_for_user()
        .withf(|_, u| *u == UserId(2))
        .returning(|_, _| Ok(vec![]));
    m.users.expect_find_user_by_login().times(0);
    m.hasher.expect_hash().returning(|_| Ok("$new".into()));
    m.users
        .expect_update_user()
        .times(1)
        .returning(|_, _, _, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
    m.app()
        .update_subuser(
            &principal(3, &[ids::ADMINISTRATOR]),
            &meta(),
            ACME,
            UserId(2),
            new_password(None),
        )
        .unwrap();
}

#[test]
fn an_administrator_cannot_touch_an_owner() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _| Ok(user(1, "admin", &[ids::OWNER])));
    m.users.expect_update_user().times(0);
    m.users.expect_delete_user().times(0);
    let app = m.app();
    let admin = principal(3, &[ids::ADMINISTRATOR]);
    assert!(matches!(
        app.update_subuser(&admin, &meta(), ACME, UserId(1), new_password(None)),
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.delete_subuser(&admin, &meta(), ACME, UserId(1)),
        Err(AppError::Forbidden(_))
    ));
}

#[test]
fn deactivating_the_last_owner_is_refused() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _| Ok(user(1, "admin", &[ids::OWNER])));
    m.users
        .expect_update_user()
        .returning(|_, _, _, _| Err(RepoError::LastOwner));
    let cmd = UpdateSubuser {
        status: Some(UserStatus::Inactive),
        ..UpdateSubuser::default()
    };
    let err = m
        .app()
        .update_subuser(&owner(), &meta(), ACME, UserId(1), cmd)
        .unwrap_err();
    assert_eq!(err, AppError::LastOwner);
}

// ---- delete and roles ----

#[test]
fn deleting_writes_an_audit_event_naming_the_login() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
    m.users
        .expect_delete_user()
        .withf(|_, id, a| {
            *id == UserId(2) && a.action == "user.delete" && a.details["login"] == "dev01"
        })
        .times(1)
        .returning(|_, _, _| Ok(()));
    m.app()
        .delete_subuser(&owner(), &meta(), ACME, UserId(2))
        .unwrap();
}

#[test]
fn deleting_a_missing_user_is_not_found() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _| Err(RepoError::NotFound));
    m.users.expect_delete_user().times(0);
    assert_eq!(
        m.app()
            .delete_subuser(&owner(), &meta(), ACME, UserId(2))
            .unwrap_err(),
        AppError::NotFound(Entity::User)
    );
}

#[test]
fn role_changes_check_every_named_role() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
    m.users.expect_change_user_roles().times(0);
    let app = m.app();
    assert_eq!(
        app.change_subuser_roles(
            &owner(),
            &meta(),
            ACME,
            UserId(2),
            RoleChange::Add(vec![RoleId(0)])
        )
        .unwrap_err(),
        AppError::Invalid(DomainError::UnknownRoleId(0))
    );
    let admin = principal(3, &[ids::ADMINISTRATOR]);
    assert!(matches!(
        app.change_subuser_roles(
            &admin,
            &meta(),
            ACME,
            UserId(2),
            RoleChange::Add(vec![ids::OWNER])
        ),
        Err(AppError::RoleNotGrantable(_))
    ));
}

#[test]
fn role_changes_are_applied_with_an_audit_event() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
    m.users
        .expect_change_user_roles()
        .withf(|_, _, c, _, a| {
            *c == RoleChange::Remove {
                roles: vec![ids::DEVELOPER],
                from_keys: true,
            } && a.action == "user.roles.remove"
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(user(2, "dev01", &[])));
    let change = RoleChange::Remove {
        roles: vec![ids::DEVELOPER],
        from_keys: true,
    };
    let after = m
        .app()
        .change_subuser_roles(
            &principal(3, &[ids::ADMINISTRATOR]),
            &meta(),
            ACME,
            UserId(2),
            change,
        )
        .unwrap();
    assert!(after.roles.is_empty());
}
