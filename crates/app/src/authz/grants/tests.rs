//! The grant rule, on mocked ports: removals are grants, nobody below the Owner touches an
//! Owner, policies reach members, keys carry their roles' weight.

use tessera_domain::audit::RequestMeta;
use tessera_domain::groups::{Member, MemberStatus, Policy, UserGroup};
use tessera_domain::ids::{
    Hex32, PermissionGroupId, PolicyId, ResourceGroupId, UserGroupId, UserId,
};
use tessera_domain::permissions::groups as catalog;
use tessera_domain::policy::Effect;
use tessera_domain::ports::RoleChange;
use tessera_domain::roles::{RoleId, ids};

use crate::testing::{ACME, KEY, Mocks, now, principal, service_key, user};
use crate::{AppError, UpdateSubuser};

const GROUP: UserGroupId = UserGroupId(Hex32([7; 16]));

fn pg(name: &str) -> PermissionGroupId {
    catalog::catalog()
        .iter()
        .find(|g| g.name == name)
        .expect("a permission group")
        .id
}

fn group(access: Effect, pg_name: &str) -> UserGroup {
    UserGroup {
        id: GROUP,
        account_id: ACME,
        name: "g".into(),
        policies: vec![Policy {
            id: PolicyId(Hex32([1; 16])),
            access,
            permission_groups: vec![pg(pg_name)],
            resource_groups: vec![ResourceGroupId(Hex32([2; 16]))],
        }],
        created_on: now(),
        modified_on: now(),
    }
}

fn member(id: i64) -> Member {
    Member {
        user_id: UserId(id),
        email: None,
        status: MemberStatus::Accepted,
    }
}

fn users_by_id(m: &mut Mocks, table: &'static [(i64, &'static [RoleId])]) {
    m.users.expect_get_users().returning(move |_, wanted| {
        Ok(table
            .iter()
            .filter(|(id, _)| wanted.contains(&UserId(*id)))
            .map(|(id, roles)| user(*id, &format!("user{id}"), roles))
            .collect())
    });
    m.users.expect_get_user().returning(move |_, id| {
        table
            .iter()
            .find(|(u, _)| *u == id.0)
            .map(|(u, roles)| user(*u, &format!("user{u}"), roles))
            .ok_or(tessera_domain::ports::RepoError::NotFound)
    });
}

#[test]
fn taking_a_role_away_is_a_grant_decision() {
    let mut m = Mocks::new();
    users_by_id(&mut m, &[(5, &[ids::SUPPORT, ids::DEVELOPER])]);
    m.users.expect_change_user_roles().times(0);
    m.users.expect_update_user().times(0);
    let app = m.app();
    // An Administrator holds every Support permission, but its Role Access covers only the
    // Restcomm roles: it may not take Support away, by removal or by replacement.
    let admin = principal(3, &[ids::ADMINISTRATOR]);
    let removal = RoleChange::Remove {
        roles: vec![ids::SUPPORT],
        from_keys: true,
    };
    assert!(matches!(
        app.change_subuser_roles(&admin, &RequestMeta::default(), ACME, UserId(5), removal),
        Err(AppError::RoleNotGrantable(_))
    ));
    let replace = UpdateSubuser {
        roles: Some(vec![ids::DEVELOPER]),
        ..UpdateSubuser::default()
    };
    assert!(matches!(
        app.update_subuser(&admin, &RequestMeta::default(), ACME, UserId(5), replace),
        Err(AppError::RoleNotGrantable(_))
    ));
}

#[test]
fn a_refused_role_change_writes_no_other_field_either() {
    let mut m = Mocks::new();
    users_by_id(&mut m, &[(5, &[ids::DEVELOPER])]);
    m.hasher.expect_hash().times(0);
    m.users.expect_update_user().times(0);
    let cmd = UpdateSubuser {
        description: Some(Some("changed".into())),
        new_password: Some(tessera_domain::Secret::new("N3w-Password!")),
        roles: Some(vec![ids::OWNER]),
        ..UpdateSubuser::default()
    };
    let err = m
        .app()
        .update_subuser(
            &principal(3, &[ids::ADMIN]),
            &RequestMeta::default(),
            ACME,
            UserId(5),
            cmd,
        )
        .unwrap_err();
    assert!(matches!(err, AppError::RoleNotGrantable(_)), "{err:?}");
}

#[test]
fn profile_and_roles_go_to_storage_in_one_call() {
    let mut m = Mocks::new();
    users_by_id(&mut m, &[(5, &[ids::DEVELOPER])]);
    m.users
        .expect_update_user()
        .withf(|_, _, c, _| {
            c.description == Some(Some("ops".into())) && c.roles == Some(vec![ids::SUPPORT])
        })
        .times(1)
        .returning(|_, _, _, _| Ok(user(5, "user5", &[ids::SUPPORT])));
    m.users.expect_change_user_roles().times(0);
    let cmd = UpdateSubuser {
        description: Some(Some("ops".into())),
        roles: Some(vec![ids::SUPPORT]),
        ..UpdateSubuser::default()
    };
    m.app()
        .update_subuser(
            &principal(1, &[ids::OWNER]),
            &RequestMeta::default(),
            ACME,
            UserId(5),
            cmd,
        )
        .unwrap();
}

#[test]
fn nobody_below_the_owner_puts_a_deny_on_an_owner() {
    let mut m = Mocks::new();
    users_by_id(&mut m, &[(1, &[ids::OWNER]), (5, &[ids::DEVELOPER])]);
    m.user_groups
        .expect_get_user_group()
        .returning(|_, _| Ok(group(Effect::Deny, "Call Logs Read")));
    m.user_groups
        .expect_list_members()
        .returning(|_, _| Ok(vec![]));
    m.user_groups.expect_set_members().times(0);
    let app = m.app();
    let admin = principal(3, &[ids::ADMIN]);
    let err = app
        .set_members(
            &admin,
            &RequestMeta::default(),
            ACME,
            GROUP,
            vec![(UserId(1), MemberStatus::Accepted)],
            false,
        )
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)), "{err:?}");
}

#[test]
fn leaving_a_deny_group_needs_what_it_denies_and_managing_the_member() {
    let mut m = Mocks::new();
    users_by_id(&mut m, &[(1, &[ids::OWNER]), (5, &[ids::SUPPORT])]);
    m.user_groups
        .expect_get_user_group()
        .returning(|_, _| Ok(group(Effect::Deny, "Manage Enterprise Accounts Read")));
    m.user_groups
        .expect_list_members()
        .returning(|_, _| Ok(vec![member(1), member(5)]));
    m.user_groups.expect_remove_member().times(0);
    m.user_groups.expect_delete_user_group().times(0);
    m.user_groups.expect_replace_user_group().times(0);
    let app = m.app();
    let admin = principal(3, &[ids::ADMIN]);
    let meta = RequestMeta::default();
    // Admin does not hold Manage Enterprise Accounts: lifting that deny is beyond it.
    assert!(matches!(
        app.remove_member(&admin, &meta, ACME, GROUP, UserId(5)),
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.delete_user_group(&admin, &meta, ACME, GROUP),
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.replace_user_group(&admin, &meta, ACME, GROUP, None, Some(vec![])),
        Err(AppError::Forbidden(_))
    ));
    assert_eq!(
        app.remove_member(&admin, &meta, ACME, GROUP, UserId(9)),
        Err(AppError::NotFound(tessera_domain::Entity::Member)),
        "not a member: nothing to lift"
    );
}

#[test]
fn changing_a_groups_policies_needs_managing_every_member() {
    let mut m = Mocks::new();
    users_by_id(&mut m, &[(1, &[ids::OWNER])]);
    m.user_groups
        .expect_get_user_group()
        .returning(|_, _| Ok(group(Effect::Allow, "Call Logs Read")));
    m.user_groups
        .expect_list_members()
        .returning(|_, _| Ok(vec![member(1)]));
    m.resource_groups
        .expect_find_resource_groups()
        .returning(|_, ids| {
            Ok(ids
                .iter()
                .map(|id| tessera_domain::groups::ResourceGroup {
                    id: *id,
                    account_id: ACME,
                    name: "rg".into(),
                    meta: None,
                    scope: tessera_domain::policy::Scope {
                        account: ACME,
                        objects: tessera_domain::policy::ScopeObjects::Everything,
                    },
                    created_at: now(),
                    updated_at: now(),
                })
                .collect())
        });
    m.ids.expect_hex32().returning(|| Hex32([3; 16]));
    m.user_groups.expect_replace_user_group().times(0);
    let deny = crate::PolicyInput {
        id: None,
        access: Effect::Deny,
        permission_groups: vec![pg("User Management Write")],
        resource_groups: vec![ResourceGroupId(Hex32([2; 16]))],
    };
    let err = m
        .app()
        .replace_user_group(
            &principal(3, &[ids::ADMIN]),
            &RequestMeta::default(),
            ACME,
            GROUP,
            None,
            Some(vec![deny]),
        )
        .unwrap_err();
    assert!(
        matches!(err, AppError::Forbidden(_)),
        "the Owner is a member: {err:?}"
    );
}

#[test]
fn changing_a_key_needs_the_right_to_grant_each_of_its_roles() {
    let mut m = Mocks::new();
    m.service_keys
        .expect_get_service_key()
        .returning(|_, id| Ok(service_key(id, None, &[ids::OWNER])));
    m.service_keys.expect_delete_service_key().times(0);
    m.service_keys.expect_change_service_key_roles().times(0);
    m.service_keys.expect_update_service_key().times(0);
    let app = m.app();
    let dev = principal(4, &[ids::DEVELOPER]);
    let meta = RequestMeta::default();
    assert!(matches!(
        app.delete_service_key(&dev, &meta, ACME, KEY),
        Err(AppError::RoleNotGrantable(_))
    ));
    assert!(matches!(
        app.change_service_key_roles(
            &dev,
            &meta,
            ACME,
            KEY,
            RoleChange::Remove {
                roles: vec![ids::OWNER],
                from_keys: false
            }
        ),
        Err(AppError::RoleNotGrantable(_))
    ));
    assert!(matches!(
        app.update_service_key(
            &dev,
            &meta,
            ACME,
            KEY,
            tessera_domain::ports::ServiceKeyChanges {
                name: Some("mine now".into()),
                description: None,
                allowed_ips: None,
            }
        ),
        Err(AppError::RoleNotGrantable(_))
    ));
}
