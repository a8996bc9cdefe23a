//! The credential report on mocked ports: who may read it, what a deny hides, the
//! `unused_days` filter, and that it reads the whole account in chunks.

use chrono::TimeDelta;
use tessera_domain::Entity;
use tessera_domain::ids::{AccountId, Hex32, PolicyId, ServiceKeyId, UserGroupId, UserId};
use tessera_domain::keys::{AccessKey, KeyStatus, KeyValidity, ServiceKey};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{Effect, PolicyRule, ResourceKey, ResourceType, Scope, ScopeObjects};
use tessera_domain::ports::{Page, RepoError};
use tessera_domain::roles::ids;
use tessera_domain::user::UserStatus;

use super::*;
use crate::AppError;
use crate::testing::{
    ACME, Mocks, key_principal, now, principal, principal_with, service_key, user,
};

fn deny(kind: ResourceType, id: &str, capability: Capability) -> PolicyRule {
    PolicyRule {
        id: PolicyId(Hex32([1; 16])),
        user_group: UserGroupId(Hex32([2; 16])),
        effect: Effect::Deny,
        permissions: vec![Permission::read(capability)],
        scopes: vec![Scope {
            account: ACME,
            objects: ScopeObjects::Only(vec![ResourceKey::new(kind, id)]),
        }],
    }
}

fn access_key(n: u8, user: i64, last_used_days_ago: Option<i64>) -> AccessKey {
    AccessKey {
        id: format!("AK00000000000000000{n}").parse().unwrap(),
        account_id: ACME,
        user_id: UserId(user),
        name: Some(format!("=cmd|{n}")),
        status: KeyStatus::Active,
        created_at: now() - TimeDelta::days(400),
        last_used_at: last_used_days_ago.map(|d| now() - TimeDelta::days(d)),
        last_used_from: last_used_days_ago.map(|_| "192.0.2.1".to_owned()),
        // Key n expires in n days.
        validity: KeyValidity {
            not_before: None,
            expires_at: Some(now() + TimeDelta::days(i64::from(n))),
        },
        allowed_ips: Vec::new(),
    }
}

fn key(
    n: u128,
    owner: Option<i64>,
    created_days_ago: i64,
    used_days_ago: Option<i64>,
) -> ServiceKey {
    ServiceKey {
        created_at: now() - TimeDelta::days(created_days_ago),
        last_used_at: used_days_ago.map(|d| now() - TimeDelta::days(d)),
        last_used_from: used_days_ago.map(|_| "2001:db8::1".to_owned()),
        validity: KeyValidity {
            not_before: None,
            expires_at: (n == 11).then(|| now() + TimeDelta::days(90)),
        },
        ..service_key(
            ServiceKeyId(uuid::Uuid::from_u128(n)),
            owner,
            &[ids::DEVELOPER],
        )
    }
}

/// An account with the owner (1) and user 2, each with an access key; an account key and a
/// key of user 2. Captures the hidden ids the lists were asked to leave out.
fn with_account(m: &mut Mocks) {
    m.users.expect_list_users().returning(|_, q| {
        let mut owner = user(1, "owner", &[ids::OWNER]);
        owner.last_sign_in_at = Some(now() - TimeDelta::hours(1));
        owner.last_sign_in_from = Some("203.0.113.9".into());
        let mut second = user(2, "second", &[ids::DEVELOPER]);
        second.status = UserStatus::Inactive;
        let items: Vec<_> = [owner, second]
            .into_iter()
            .filter(|u| !q.hidden.contains(&u.id.to_string()))
            .collect();
        Ok(Page::whole(items))
    });
    m.access_keys
        .expect_list_account_access_keys()
        .returning(|_| Ok(vec![access_key(1, 1, Some(31)), access_key(2, 2, None)]));
    m.service_keys
        .expect_list_service_keys()
        .returning(|_, owner, q| {
            assert_eq!(owner, None);
            let items: Vec<_> = [key(10, None, 40, Some(29)), key(11, Some(2), 40, None)]
                .into_iter()
                .filter(|k| {
                    !q.hidden.contains(&k.id.to_string())
                        && !k.owner.is_some_and(|o| q.hidden_owners.contains(&o.0))
                })
                .collect();
            Ok(Page::whole(items))
        });
}

fn kinds_and_ids(report: &CredentialReport) -> Vec<(&'static str, String)> {
    report
        .rows
        .iter()
        .map(|r| (r.kind.as_str(), r.id.clone()))
        .collect()
}

#[test]
fn the_report_lists_every_user_then_access_keys_then_service_keys() {
    let mut m = Mocks::new();
    with_account(&mut m);
    let app = m.app();
    let report = app
        .credential_report(&principal(1, &[ids::OWNER]), ACME, ReportFilter::default())
        .unwrap();
    assert_eq!(report.generated_at, now());
    assert_eq!(
        kinds_and_ids(&report),
        vec![
            ("user", "1".into()),
            ("user", "2".into()),
            ("access_key", "AK000000000000000001".into()),
            ("access_key", "AK000000000000000002".into()),
            ("service_key", uuid::Uuid::from_u128(10).to_string()),
            ("service_key", uuid::Uuid::from_u128(11).to_string()),
        ]
    );
    let owner = &report.rows[0];
    assert_eq!(owner.login.as_deref(), Some("owner"));
    assert_eq!(owner.last_used_at, Some(now() - TimeDelta::hours(1)));
    assert_eq!(owner.last_used_from.as_deref(), Some("203.0.113.9"));
    assert_eq!(report.rows[1].status, CredentialStatus::Inactive);
    let ak = &report.rows[2];
    assert_eq!(
        (ak.user_id, ak.login.as_deref(), ak.name.as_deref()),
        (Some(UserId(1)), Some("owner"), Some("=cmd|1"))
    );
    assert_eq!(ak.last_used_from.as_deref(), Some("192.0.2.1"));
    let account_key = &report.rows[4];
    assert_eq!(
        (account_key.user_id, account_key.login.as_deref()),
        (None, None)
    );
    assert_eq!(account_key.last_used_from.as_deref(), Some("2001:db8::1"));
    assert_eq!(report.rows[5].login.as_deref(), Some("second"));
    let expiries: Vec<_> = report.rows.iter().map(|r| r.expires_at).collect();
    assert_eq!(
        expiries,
        vec![
            None,
            None,
            Some(now() + TimeDelta::days(1)),
            Some(now() + TimeDelta::days(2)),
            None,
            Some(now() + TimeDelta::days(90)),
        ]
    );
}

#[test]
fn reading_it_takes_user_management_read_and_api_credentials_read() {
    for roles in [&[ids::USER_READ][..], &[ids::SUPPORT][..]] {
        let mut m = Mocks::new();
        m.users.expect_list_users().times(0);
        m.access_keys.expect_list_account_access_keys().times(0);
        m.service_keys.expect_list_service_keys().times(0);
        let app = m.app();
        assert!(matches!(
            app.credential_report(&principal(2, roles), ACME, ReportFilter::default()),
            Err(AppError::Forbidden(_))
        ));
    }
    // A service key is bounded by its own roles, whatever its owner holds.
    let m = Mocks::new();
    let app = m.app();
    let key = key_principal(None, &[ids::OWNER], &[ids::USER_READ]);
    assert!(matches!(
        app.credential_report(&key, ACME, ReportFilter::default()),
        Err(AppError::Forbidden(_))
    ));
}

#[test]
fn another_accounts_report_is_not_found() {
    let mut m = Mocks::new();
    m.accounts
        .expect_get_account()
        .returning(|_| Err(RepoError::NotFound));
    m.users.expect_list_users().times(0);
    let app = m.app();
    assert_eq!(
        app.credential_report(
            &principal(1, &[ids::OWNER]),
            AccountId(2),
            ReportFilter::default()
        )
        .unwrap_err(),
        AppError::NotFound(Entity::Account)
    );
}

#[test]
fn unused_days_outside_one_to_36500_is_refused_before_anything_is_read() {
    for days in [0, MAX_UNUSED_DAYS + 1, u32::MAX] {
        let mut m = Mocks::new();
        m.users.expect_list_users().times(0);
        m.access_keys.expect_list_account_access_keys().times(0);
        m.service_keys.expect_list_service_keys().times(0);
        let app = m.app();
        let err = app
            .credential_report(
                &principal(1, &[ids::OWNER]),
                ACME,
                ReportFilter {
                    unused_days: Some(days),
                },
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unused_days: must be a whole number of days from 1 to 36500",
            "{days}"
        );
        assert!(matches!(err, AppError::Invalid(_)));
    }
}

#[test]
fn unused_days_keeps_the_keys_last_used_or_made_that_long_ago_and_no_users() {
    let mut m = Mocks::new();
    with_account(&mut m);
    let app = m.app();
    let report = app
        .credential_report(
            &principal(1, &[ids::OWNER]),
            ACME,
            ReportFilter {
                unused_days: Some(30),
            },
        )
        .unwrap();
    // AK…1 last used 31 days ago; AK…2 never used, made 400 days ago; key 10 used 29 days
    // ago (left out); key 11 never used, made 40 days ago.
    assert_eq!(
        kinds_and_ids(&report),
        vec![
            ("access_key", "AK000000000000000001".into()),
            ("access_key", "AK000000000000000002".into()),
            ("service_key", uuid::Uuid::from_u128(11).to_string()),
        ]
    );
    let report = app
        .credential_report(
            &principal(1, &[ids::OWNER]),
            ACME,
            ReportFilter {
                unused_days: Some(401),
            },
        )
        .unwrap();
    assert!(report.rows.is_empty());
}

#[test]
fn a_deny_on_a_user_hides_it_and_its_keys_and_a_deny_on_a_key_hides_the_key() {
    let mut m = Mocks::new();
    with_account(&mut m);
    let app = m.app();
    let admin = principal_with(
        1,
        &[ids::ADMIN],
        &[deny(ResourceType::User, "2", Capability::UserManagement)],
    );
    let report = app
        .credential_report(&admin, ACME, ReportFilter::default())
        .unwrap();
    assert_eq!(
        kinds_and_ids(&report),
        vec![
            ("user", "1".into()),
            ("access_key", "AK000000000000000001".into()),
            ("service_key", uuid::Uuid::from_u128(10).to_string()),
        ]
    );
    // API Credentials denied on the user: the user shows, its keys do not.
    let admin = principal_with(
        1,
        &[ids::ADMIN],
        &[deny(ResourceType::User, "2", Capability::ApiCredentials)],
    );
    let ids_seen = kinds_and_ids(
        &app.credential_report(&admin, ACME, ReportFilter::default())
            .unwrap(),
    );
    assert!(ids_seen.contains(&("user", "2".into())));
    assert!(!ids_seen.contains(&("access_key", "AK000000000000000002".into())));
    assert!(!ids_seen.contains(&("service_key", uuid::Uuid::from_u128(11).to_string())));
    // A deny on one key of each kind.
    let admin = principal_with(
        1,
        &[ids::ADMIN],
        &[
            deny(
                ResourceType::AccessKey,
                "AK000000000000000001",
                Capability::ApiCredentials,
            ),
            deny(
                ResourceType::ServiceKey,
                &uuid::Uuid::from_u128(10).to_string(),
                Capability::ApiCredentials,
            ),
        ],
    );
    let ids_seen = kinds_and_ids(
        &app.credential_report(&admin, ACME, ReportFilter::default())
            .unwrap(),
    );
    assert_eq!(
        ids_seen,
        vec![
            ("user", "1".into()),
            ("user", "2".into()),
            ("access_key", "AK000000000000000002".into()),
            ("service_key", uuid::Uuid::from_u128(11).to_string()),
        ]
    );
}

#[test]
fn an_account_wide_deny_refuses_the_report() {
    let mut m = Mocks::new();
    m.users.expect_list_users().times(0);
    let app = m.app();
    let mut rule = deny(ResourceType::User, "2", Capability::ApiCredentials);
    rule.scopes[0].objects = ScopeObjects::Everything;
    let admin = principal_with(1, &[ids::ADMIN], &[rule]);
    assert!(matches!(
        app.credential_report(&admin, ACME, ReportFilter::default()),
        Err(AppError::Forbidden(_))
    ));
}

#[test]
fn users_and_service_keys_are_read_in_chunks_of_a_thousand_to_the_end() {
    let mut m = Mocks::new();
    m.users.expect_list_users().returning(|_, q| {
        assert_eq!(q.limit, 1000);
        let start: i64 = q.after.as_deref().map_or(0, |a| a.parse().unwrap());
        let end = (start + 1000).min(1500);
        Ok(Page {
            items: (start + 1..=end)
                .map(|id| user(id, &format!("user{id:05}"), &[]))
                .collect(),
            total: 1500,
        })
    });
    m.access_keys
        .expect_list_account_access_keys()
        .returning(|_| Ok(Vec::new()));
    m.service_keys
        .expect_list_service_keys()
        .times(2)
        .returning(|_, _, q| {
            let first = q.after.is_none();
            Ok(Page {
                items: if first {
                    (1..=1000u128).map(|n| key(n, None, 1, None)).collect()
                } else {
                    assert_eq!(q.after, Some(uuid::Uuid::from_u128(1000).to_string()));
                    Vec::new()
                },
                total: 1000,
            })
        });
    let app = m.app();
    let report = app
        .credential_report(&principal(1, &[ids::OWNER]), ACME, ReportFilter::default())
        .unwrap();
    assert_eq!(report.rows.len(), 2500);
    assert_eq!(report.rows[1499].id, "1500");
}

#[test]
fn every_principal_reads_its_own_account_and_only_it() {
    let mut m = Mocks::new();
    m.accounts
        .expect_get_account()
        .withf(|id| *id == ACME)
        .times(1)
        .returning(|id| Ok(crate::testing::account(id)));
    let app = m.app();
    // A key without roles: the basic method needs no permission.
    let key = key_principal(Some(2), &[ids::DEVELOPER], &[]);
    let account = app.own_account(&key).unwrap();
    assert_eq!((account.id, account.name.as_str()), (ACME, "Acme"));
}

#[test]
fn the_last_column_says_which_users_have_a_second_factor() {
    let mut m = Mocks::new();
    with_account(&mut m);
    let audit = tessera_domain::audit::AuditRecord {
        account_id: Some(ACME),
        actor: tessera_domain::audit::Actor::system(),
        action: "mfa.totp.enrol".into(),
        target: None,
        outcome: tessera_domain::audit::Outcome::Success,
        client_ip: None,
        request_id: None,
        at: now(),
        details: serde_json::json!({}),
    };
    let mfa = m.mfa.clone();
    for user in [1, 2] {
        tessera_domain::ports::MfaRepo::begin_totp_enrolment(
            mfa.as_ref(),
            &tessera_domain::ports::NewTotpEnrolment {
                account_id: ACME,
                user_id: UserId(user),
                sealed_secret: vec![1],
                created_at: now(),
            },
            &audit,
        )
        .unwrap();
    }
    // The owner confirms; user 2's enrolment stays pending (it protects nothing yet).
    tessera_domain::ports::MfaRepo::confirm_totp_enrolment(
        mfa.as_ref(),
        &tessera_domain::ports::Redemption {
            account_id: ACME,
            user_id: UserId(1),
            sealed_secret: vec![1],
            challenge: None,
            at: now(),
        },
        1,
        &[],
        &audit,
    )
    .unwrap();
    let report = m
        .app()
        .credential_report(&principal(1, &[ids::OWNER]), ACME, ReportFilter::default())
        .unwrap();
    let mfa: Vec<(&str, String, &str)> = report
        .rows
        .iter()
        .map(|r| (r.kind.as_str(), r.id.clone(), r.mfa.as_str()))
        .collect();
    assert_eq!(mfa[0], ("user", "1".to_owned(), "totp"));
    assert_eq!(mfa[1], ("user", "2".to_owned(), "none"));
    assert!(
        mfa[2..]
            .iter()
            .all(|(kind, _, m)| *kind != "user" && *m == "none"),
        "keys are one factor: {mfa:?}"
    );
}
