use tessera_domain::groups::{MemberStatus, Meta, Policy, ResourceGroup, UserGroup};
use tessera_domain::ids::{
    AccountId, Hex32, PermissionGroupId, PolicyId, ResourceGroupId, UserGroupId, UserId,
};
use tessera_domain::permissions::{Capability, Permission, groups as catalog};
use tessera_domain::policy::{Effect, ResourceKey, ResourceType, Scope, ScopeObjects};
use tessera_domain::ports::{
    AuthzRepo, ListQuery, RepoError, ResourceGroupRepo, UserGroupRepo, UserRepo,
};
use tessera_domain::{Entity, Field};
use tessera_store::backend_tests;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{account, at, audit_in, new_user};

fn hex(n: u8) -> Hex32 {
    Hex32([n; 16])
}

fn resource_group(account: AccountId, n: u8, objects: ScopeObjects) -> ResourceGroup {
    ResourceGroup {
        id: ResourceGroupId(hex(n)),
        account_id: account,
        name: format!("rg {n}"),
        meta: Some(Meta {
            key: Some("team".into()),
            value: Some("ops".into()),
        }),
        scope: Scope { account, objects },
        created_at: at(0),
        updated_at: at(0),
    }
}

fn pg(p: Permission) -> PermissionGroupId {
    catalog::for_permission(p).id
}

fn user_group(account: AccountId, n: u8, policies: Vec<Policy>) -> UserGroup {
    UserGroup {
        id: UserGroupId(hex(n)),
        account_id: account,
        name: format!("ug {n}"),
        policies,
        created_on: at(0),
        modified_on: at(0),
    }
}

fn policy(n: u8, access: Effect, pgs: Vec<PermissionGroupId>, rgs: Vec<ResourceGroupId>) -> Policy {
    Policy {
        id: PolicyId(hex(n)),
        access,
        permission_groups: pgs,
        resource_groups: rgs,
    }
}

const UM_READ: Permission = Permission::read(Capability::UserManagement);
const UM_WRITE: Permission = Permission::write(Capability::UserManagement);

fn resource_groups_round_trip_and_names_are_unique(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let objects = ScopeObjects::Only(vec![ResourceKey::new(ResourceType::User, 7)]);
    let made = store
        .create_resource_group(
            &resource_group(acme, 1, objects.clone()),
            &audit_in(acme, "rg"),
        )
        .unwrap();
    assert_eq!(made.scope.objects, objects);
    assert_eq!(made.meta.as_ref().unwrap().value.as_deref(), Some("ops"));
    let mut dup = resource_group(acme, 2, ScopeObjects::Everything);
    dup.name = made.name.clone();
    assert_eq!(
        store.create_resource_group(&dup, &audit_in(acme, "rg")),
        Err(RepoError::Conflict(Field::Name))
    );
    let changed = ResourceGroup {
        name: "renamed".into(),
        meta: None,
        scope: Scope {
            account: acme,
            objects: ScopeObjects::Everything,
        },
        updated_at: at(5),
        ..made.clone()
    };
    let updated = store
        .update_resource_group(&changed, &audit_in(acme, "rg"))
        .unwrap();
    assert_eq!(updated.updated_at, at(5));
    assert_eq!(
        (updated.name.as_str(), updated.meta, updated.scope.objects),
        ("renamed", None, ScopeObjects::Everything)
    );
    let other = account(&store, "other").account.id;
    assert_eq!(
        store.get_resource_group(other, made.id),
        Err(RepoError::NotFound)
    );
    let found = store
        .find_resource_groups(acme, &[made.id, ResourceGroupId(hex(99))])
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(
        store
            .find_resource_groups(other, &[made.id])
            .unwrap()
            .is_empty()
    );
}

fn a_resource_group_in_use_cannot_be_deleted(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let rg = store
        .create_resource_group(
            &resource_group(acme, 1, ScopeObjects::Everything),
            &audit_in(acme, "rg"),
        )
        .unwrap();
    let ug = store
        .create_user_group(
            &user_group(
                acme,
                2,
                vec![policy(3, Effect::Allow, vec![pg(UM_READ)], vec![rg.id])],
            ),
            &audit_in(acme, "ug"),
        )
        .unwrap();
    assert_eq!(
        store.delete_resource_group(acme, rg.id, &audit_in(acme, "rg")),
        Err(RepoError::InUse(Entity::Policy))
    );
    store
        .delete_user_group(acme, ug.id, &audit_in(acme, "ug"))
        .unwrap();
    store
        .delete_resource_group(acme, rg.id, &audit_in(acme, "rg"))
        .unwrap();
}

fn user_groups_keep_policies_in_order_and_replace_them(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let rg = store
        .create_resource_group(
            &resource_group(acme, 1, ScopeObjects::Everything),
            &audit_in(acme, "rg"),
        )
        .unwrap();
    let policies = vec![
        policy(10, Effect::Deny, vec![pg(UM_WRITE)], vec![rg.id]),
        policy(
            11,
            Effect::Allow,
            vec![pg(UM_READ), pg(Permission::read(Capability::Usage))],
            vec![rg.id],
        ),
    ];
    let made = store
        .create_user_group(
            &user_group(acme, 2, policies.clone()),
            &audit_in(acme, "ug"),
        )
        .unwrap();
    assert_eq!(made.policies.len(), 2);
    assert_eq!(made.policies[0].access, Effect::Deny);
    assert_eq!(made.policies[1].permission_groups.len(), 2);
    assert_eq!(store.get_user_group(acme, made.id).unwrap(), made);
    let epoch = store.authz_version().unwrap();
    let replaced = store
        .replace_user_group(
            acme,
            made.id,
            "renamed",
            &[policy(12, Effect::Allow, vec![pg(UM_READ)], vec![rg.id])],
            at(7),
            &audit_in(acme, "ug"),
        )
        .unwrap();
    assert_eq!(replaced.name, "renamed");
    assert_eq!(
        replaced.policies.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![PolicyId(hex(12))]
    );
    assert_eq!(replaced.modified_on, at(7));
    assert!(store.authz_version().unwrap() > epoch);
    let page = store.list_user_groups(acme, &ListQuery::default()).unwrap();
    assert_eq!((page.total, page.items[0].policies.len()), (1, 1));
    let other = account(&store, "other").account.id;
    assert_eq!(
        store.get_user_group(other, made.id),
        Err(RepoError::NotFound)
    );
}

fn members_are_added_replaced_and_removed(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other");
    let a = store
        .create_user(&new_user(acme, "alice", &[]), 1000, &audit_in(acme, "u"))
        .unwrap();
    let b = store
        .create_user(&new_user(acme, "bobby", &[]), 1000, &audit_in(acme, "u"))
        .unwrap();
    let ug = store
        .create_user_group(&user_group(acme, 2, vec![]), &audit_in(acme, "ug"))
        .unwrap();
    let members = store
        .set_members(
            acme,
            ug.id,
            &[
                (a.id, MemberStatus::Accepted),
                (b.id, MemberStatus::Pending),
            ],
            false,
            at(1),
            &audit_in(acme, "m"),
        )
        .unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[1].status, MemberStatus::Pending);
    assert_eq!(members[0].email.as_deref(), Some("alice@example.com"));
    assert_eq!(
        store.set_members(
            acme,
            ug.id,
            &[(other.owner.id, MemberStatus::Accepted)],
            false,
            at(1),
            &audit_in(acme, "m")
        ),
        Err(RepoError::NotFound),
        "another account's user cannot join"
    );
    let replaced = store
        .set_members(
            acme,
            ug.id,
            &[(b.id, MemberStatus::Accepted)],
            true,
            at(2),
            &audit_in(acme, "m"),
        )
        .unwrap();
    assert_eq!(
        replaced
            .iter()
            .map(|m| (m.user_id, m.status))
            .collect::<Vec<_>>(),
        vec![(b.id, MemberStatus::Accepted)]
    );
    assert_eq!(
        store
            .remove_member(acme, ug.id, b.id, &audit_in(acme, "m"))
            .unwrap()
            .user_id,
        b.id
    );
    assert_eq!(
        store.remove_member(acme, ug.id, b.id, &audit_in(acme, "m")),
        Err(RepoError::NotFound)
    );
    assert!(store.list_members(acme, ug.id).unwrap().is_empty());
    assert_eq!(
        store.list_members(other.account.id, ug.id),
        Err(RepoError::NotFound)
    );
}

fn concurrent_replacements_of_the_same_members_all_succeed(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let a = store
        .create_user(&new_user(acme, "alice", &[]), 1000, &audit_in(acme, "u"))
        .unwrap();
    let ug = store
        .create_user_group(&user_group(acme, 2, vec![]), &audit_in(acme, "ug"))
        .unwrap();
    let barrier = std::sync::Barrier::new(6);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let store = store.clone();
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    store.set_members(
                        acme,
                        ug.id,
                        &[(a.id, MemberStatus::Accepted)],
                        true,
                        at(1),
                        &audit_in(acme, "m"),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in results {
        let members = r.expect("every replacement succeeds");
        assert_eq!(members.len(), 1);
    }
    assert_eq!(store.list_members(acme, ug.id).unwrap().len(), 1);
}

fn the_engine_gets_the_policies_of_accepted_memberships_only(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let u = store
        .create_user(&new_user(acme, "carol", &[]), 1000, &audit_in(acme, "u"))
        .unwrap();
    let objects = ScopeObjects::Only(vec![ResourceKey::new(ResourceType::User, 5)]);
    let rg = store
        .create_resource_group(
            &resource_group(acme, 1, objects.clone()),
            &audit_in(acme, "rg"),
        )
        .unwrap();
    let accepted = store
        .create_user_group(
            &user_group(
                acme,
                2,
                vec![policy(20, Effect::Deny, vec![pg(UM_WRITE)], vec![rg.id])],
            ),
            &audit_in(acme, "ug"),
        )
        .unwrap();
    let pending = store
        .create_user_group(
            &user_group(
                acme,
                3,
                vec![policy(21, Effect::Allow, vec![pg(UM_READ)], vec![rg.id])],
            ),
            &audit_in(acme, "ug"),
        )
        .unwrap();
    store
        .set_members(
            acme,
            accepted.id,
            &[(u.id, MemberStatus::Accepted)],
            false,
            at(1),
            &audit_in(acme, "m"),
        )
        .unwrap();
    store
        .set_members(
            acme,
            pending.id,
            &[(u.id, MemberStatus::Pending)],
            false,
            at(1),
            &audit_in(acme, "m"),
        )
        .unwrap();
    let rules = store.policy_rules_for_user(acme, u.id).unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].id, PolicyId(hex(20)));
    assert_eq!(rules[0].user_group, accepted.id);
    assert_eq!(rules[0].effect, Effect::Deny);
    assert_eq!(rules[0].permissions, vec![UM_WRITE]);
    assert_eq!(
        rules[0].scopes,
        vec![Scope {
            account: acme,
            objects
        }]
    );
    assert!(
        store
            .policy_rules_for_user(acme, UserId(999))
            .unwrap()
            .is_empty()
    );
}

backend_tests!(
    resource_groups_round_trip_and_names_are_unique,
    a_resource_group_in_use_cannot_be_deleted,
    user_groups_keep_policies_in_order_and_replace_them,
    members_are_added_replaced_and_removed,
    concurrent_replacements_of_the_same_members_all_succeed,
    the_engine_gets_the_policies_of_accepted_memberships_only
);
