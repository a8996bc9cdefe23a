use chrono::TimeDelta;
use tessera_domain::Field;
use tessera_domain::audit::ActorKind;
use tessera_domain::roles::ids;

use super::*;
use crate::testing::{ACME, Mocks, now, principal};

const CHILD: AccountId = AccountId(7);

fn from(ip: &str) -> RequestMeta {
    RequestMeta {
        client_ip: Some(ip.into()),
        request_id: Some("req-1".into()),
    }
}

fn net(s: &str) -> Network {
    Network::parse("authorized_ip", s).unwrap()
}

fn entry(s: &str, allowed: bool, age_secs: i64) -> AuthorizedIp {
    AuthorizedIp {
        network: net(s),
        allowed,
        description: Some(format!("entry {s}")),
        created: now() - TimeDelta::seconds(age_secs),
    }
}

fn owner() -> Principal {
    principal(1, &[ids::OWNER])
}

fn add(network: &str, allowed: bool, force: bool) -> AddAuthorizedIp {
    AddAuthorizedIp {
        network: net(network),
        allowed,
        description: Some("office".into()),
        force,
    }
}

fn listing(m: &mut Mocks, entries: Vec<AuthorizedIp>) {
    m.authorized_ips
        .expect_list_authorized_ips()
        .withf(|a| *a == ACME)
        .returning(move |_| Ok(entries.clone()));
}

#[test]
fn an_owner_adds_an_entry_audited_in_the_same_call() {
    let mut m = Mocks::new();
    listing(&mut m, vec![]);
    m.authorized_ips
        .expect_add_authorized_ip()
        .withf(|account, e, limit, a| {
            *account == ACME
                && e.network == net("192.0.2.0/24")
                && e.allowed
                && e.description.as_deref() == Some("office")
                && e.created == now()
                && *limit == 1000
                && a.action == "authorized_ip.add"
                && a.actor.kind == ActorKind::User
                && a.target.as_deref() == Some("authorized_ip:192.0.2.0/24")
                && a.client_ip.as_deref() == Some("192.0.2.10")
                && a.details["allowed"] == true
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    let added = m
        .app()
        .add_authorized_ip(
            &owner(),
            &from("192.0.2.10"),
            ACME,
            add("192.0.2.7/24", true, false),
        )
        .unwrap();
    assert_eq!(added.network.to_string(), "192.0.2.0/24");
}

#[test]
fn managing_the_list_needs_account_settings_write_and_reading_it_read() {
    let mut m = Mocks::new();
    m.authorized_ips.expect_add_authorized_ip().times(0);
    m.authorized_ips.expect_delete_authorized_ips().times(0);
    let app = m.app();
    // Support holds Account Settings read only.
    let support = principal(4, &[ids::SUPPORT]);
    let refused = app
        .add_authorized_ip(
            &support,
            &from("192.0.2.10"),
            ACME,
            add("192.0.2.0/24", true, true),
        )
        .unwrap_err();
    assert!(matches!(refused, AppError::Forbidden(_)), "{refused:?}");
    let refused = app
        .delete_authorized_ips(
            &support,
            &from("192.0.2.10"),
            ACME,
            DeleteAuthorizedIps {
                target: IpTarget::All,
                allowed: None,
                force: true,
            },
        )
        .unwrap_err();
    assert!(matches!(refused, AppError::Forbidden(_)), "{refused:?}");
    assert!(
        app.list_authorized_ips(&support, ACME, &AuthorizedIpFilter::default())
            .is_ok()
    );
    assert!(
        app.check_authorized_ip(&support, ACME, "192.0.2.1".parse().unwrap())
            .is_ok()
    );
    let developer_free = principal(5, &[ids::USER_READ]);
    assert!(matches!(
        app.list_authorized_ips(&developer_free, ACME, &AuthorizedIpFilter::default()),
        Err(AppError::Forbidden(_))
    ));
}

#[test]
fn another_accounts_list_is_not_found() {
    let mut m = Mocks::new();
    m.accounts
        .expect_get_account()
        .returning(|_| Err(RepoError::NotFound));
    m.authorized_ips.expect_add_authorized_ip().times(0);
    let app = m.app();
    assert_eq!(
        app.add_authorized_ip(
            &owner(),
            &from("192.0.2.10"),
            CHILD,
            add("192.0.2.0/24", true, true)
        )
        .unwrap_err(),
        AppError::NotFound(Entity::Account)
    );
    assert_eq!(
        app.list_authorized_ips(&owner(), CHILD, &AuthorizedIpFilter::default())
            .unwrap_err(),
        AppError::NotFound(Entity::Account)
    );
}

#[test]
fn an_allow_list_that_excludes_the_callers_address_needs_force() {
    let mut m = Mocks::new();
    listing(&mut m, vec![]);
    m.authorized_ips
        .expect_add_authorized_ip()
        .withf(|_, _, _, a| a.details["force"] == true)
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    let app = m.app();
    assert_eq!(
        app.add_authorized_ip(
            &owner(),
            &from("203.0.113.9"),
            ACME,
            add("192.0.2.0/24", true, false)
        )
        .unwrap_err(),
        AppError::WouldLockOut("203.0.113.9".into())
    );
    assert_eq!(
        app.add_authorized_ip(
            &owner(),
            &RequestMeta::default(),
            ACME,
            add("192.0.2.0/24", true, false)
        )
        .unwrap_err(),
        AppError::WouldLockOut("unknown".into()),
        "an unknown address is refused by any list"
    );
    assert_eq!(
        app.add_authorized_ip(
            &owner(),
            &from("203.0.113.9"),
            ACME,
            add("203.0.113.0/24", false, false)
        )
        .unwrap_err(),
        AppError::WouldLockOut("203.0.113.9".into()),
        "a deny entry covering the caller too"
    );
    app.add_authorized_ip(
        &owner(),
        &from("203.0.113.9"),
        ACME,
        add("192.0.2.0/24", true, true),
    )
    .unwrap();
}

#[test]
fn entries_that_keep_the_callers_address_admitted_need_no_force() {
    let mut m = Mocks::new();
    listing(&mut m, vec![entry("192.0.2.0/24", true, 10)]);
    m.authorized_ips
        .expect_add_authorized_ip()
        .times(2)
        .returning(|_, _, _, _| Ok(()));
    let app = m.app();
    app.add_authorized_ip(
        &owner(),
        &from("192.0.2.10"),
        ACME,
        add("198.51.100.0/24", true, false),
    )
    .unwrap();
    app.add_authorized_ip(
        &owner(),
        &from("192.0.2.10"),
        ACME,
        add("192.0.2.66", false, false),
    )
    .unwrap();
}

#[test]
fn a_parent_changing_a_childs_list_is_not_locked_out_by_it() {
    let mut m = Mocks::new();
    m.authorized_ips
        .expect_list_authorized_ips()
        .withf(|a| *a == CHILD)
        .returning(|_| Ok(vec![]));
    m.accounts.expect_get_account().returning(|id| {
        Ok(tessera_domain::account::Account {
            id,
            name: "child".into(),
            email: "c@example.com".into(),
            parent_id: (id == CHILD).then_some(ACME),
            active: true,
            created_at: now(),
            max_key_lifetime_days: None,
            require_mfa: false,
        })
    });
    m.authorized_ips
        .expect_add_authorized_ip()
        .withf(|a, _, _, _| *a == CHILD)
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    m.app()
        .add_authorized_ip(
            &owner(),
            &from("203.0.113.9"),
            CHILD,
            add("192.0.2.0/24", true, false),
        )
        .unwrap();
}

#[test]
fn the_limit_and_a_duplicate_are_named() {
    let mut m = Mocks::new();
    listing(&mut m, vec![]);
    let mut seq = mockall::Sequence::new();
    m.authorized_ips
        .expect_add_authorized_ip()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _, _| Err(RepoError::LimitReached));
    m.authorized_ips
        .expect_add_authorized_ip()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _, _| Err(RepoError::Conflict(Field::AuthorizedIp)));
    let app = m.app();
    assert_eq!(
        app.add_authorized_ip(
            &owner(),
            &from("192.0.2.1"),
            ACME,
            add("192.0.2.0/24", true, true)
        )
        .unwrap_err(),
        AppError::TooManyAuthorizedIps(1000)
    );
    assert_eq!(
        app.add_authorized_ip(
            &owner(),
            &from("192.0.2.1"),
            ACME,
            add("192.0.2.0/24", true, true)
        )
        .unwrap_err(),
        AppError::Conflict(Field::AuthorizedIp)
    );
}

#[test]
fn a_bad_description_is_refused_before_anything_is_written() {
    let mut m = Mocks::new();
    m.authorized_ips.expect_add_authorized_ip().times(0);
    let app = m.app();
    for bad in ["x".repeat(256), "two\nlines".into()] {
        let refused = app
            .add_authorized_ip(
                &owner(),
                &from("192.0.2.1"),
                ACME,
                AddAuthorizedIp {
                    description: Some(bad),
                    ..add("192.0.2.0/24", true, true)
                },
            )
            .unwrap_err();
        assert!(
            matches!(&refused, AppError::Invalid(e) if e.to_string().starts_with("description: ")),
            "{refused:?}"
        );
    }
}

#[test]
fn a_removal_names_entries_by_network_by_address_or_all() {
    let mut m = Mocks::new();
    listing(
        &mut m,
        vec![
            entry("10.0.0.0/8", true, 30),
            entry("10.1.0.0/16", false, 20),
            entry("192.0.2.0/24", true, 10),
        ],
    );
    m.authorized_ips
        .expect_delete_authorized_ips()
        .withf(|a, n, allowed, audit| {
            *a == ACME
                && *n == [net("10.0.0.0/8"), net("10.1.0.0/16")]
                && allowed.is_none()
                && audit.action == "authorized_ip.delete"
                && audit.details["target"] == "contains 10.1.2.3"
        })
        .times(1)
        .returning(|_, n, _, _| Ok(n.len() as u64));
    m.authorized_ips
        .expect_delete_authorized_ips()
        .withf(|_, n, allowed, _| *n == [net("10.1.0.0/16")] && *allowed == Some(false))
        .times(1)
        .returning(|_, _, _, _| Ok(1));
    let app = m.app();
    let at = from("192.0.2.10");
    let removed = app
        .delete_authorized_ips(
            &owner(),
            &at,
            ACME,
            DeleteAuthorizedIps {
                target: IpTarget::Containing("10.1.2.3".parse().unwrap()),
                allowed: None,
                force: false,
            },
        )
        .unwrap();
    assert_eq!(removed, 2);
    let removed = app
        .delete_authorized_ips(
            &owner(),
            &at,
            ACME,
            DeleteAuthorizedIps {
                target: IpTarget::All,
                allowed: Some(false),
                force: false,
            },
        )
        .unwrap();
    assert_eq!(removed, 1);
    // Naming nothing changes nothing, and writes nothing.
    let removed = app
        .delete_authorized_ips(
            &owner(),
            &at,
            ACME,
            DeleteAuthorizedIps {
                target: IpTarget::Network(net("172.16.0.0/12")),
                allowed: None,
                force: false,
            },
        )
        .unwrap();
    assert_eq!(removed, 0);
}

#[test]
fn removing_the_allow_entry_that_admits_the_caller_needs_force() {
    let mut m = Mocks::new();
    listing(
        &mut m,
        vec![
            entry("192.0.2.0/24", true, 20),
            entry("198.51.100.0/24", true, 10),
        ],
    );
    m.authorized_ips
        .expect_delete_authorized_ips()
        .times(1)
        .returning(|_, _, _, _| Ok(1));
    let app = m.app();
    let cmd = |force| DeleteAuthorizedIps {
        target: IpTarget::Network(net("192.0.2.0/24")),
        allowed: None,
        force,
    };
    assert_eq!(
        app.delete_authorized_ips(&owner(), &from("192.0.2.10"), ACME, cmd(false))
            .unwrap_err(),
        AppError::WouldLockOut("192.0.2.10".into())
    );
    assert_eq!(
        app.delete_authorized_ips(&owner(), &from("192.0.2.10"), ACME, cmd(true))
            .unwrap(),
        1
    );
}

#[test]
fn lists_filter_and_page_oldest_first() {
    let mut m = Mocks::new();
    listing(
        &mut m,
        vec![
            entry("10.0.0.0/8", true, 30),
            entry("10.1.0.0/16", false, 20),
            entry("2001:db8::/32", true, 10),
        ],
    );
    let app = m.app();
    let all = app
        .list_authorized_ips(&owner(), ACME, &AuthorizedIpFilter::default())
        .unwrap();
    assert_eq!(all.total, 3);
    let page = app
        .list_authorized_ips(
            &owner(),
            ACME,
            &AuthorizedIpFilter {
                limit: 1,
                offset: 1,
                ..AuthorizedIpFilter::default()
            },
        )
        .unwrap();
    assert_eq!((page.total, page.items.len()), (3, 1));
    assert_eq!(page.items[0].network, net("10.1.0.0/16"));
    let containing = app
        .list_authorized_ips(
            &owner(),
            ACME,
            &AuthorizedIpFilter {
                containing: Some("10.1.9.9".parse().unwrap()),
                allowed: Some(true),
                ..AuthorizedIpFilter::default()
            },
        )
        .unwrap();
    assert_eq!(containing.items.len(), 1);
    assert_eq!(containing.items[0].network, net("10.0.0.0/8"));
    let described = app
        .list_authorized_ips(
            &owner(),
            ACME,
            &AuthorizedIpFilter {
                description: Some("ENTRY 2001".into()),
                ..AuthorizedIpFilter::default()
            },
        )
        .unwrap();
    assert_eq!(described.items.len(), 1);
    let exact = app
        .list_authorized_ips(
            &owner(),
            ACME,
            &AuthorizedIpFilter {
                network: Some(net("10.1.0.0/16")),
                ..AuthorizedIpFilter::default()
            },
        )
        .unwrap();
    assert_eq!(exact.total, 1);
}

#[test]
fn a_check_names_the_deciding_entry() {
    let mut m = Mocks::new();
    listing(
        &mut m,
        vec![
            entry("10.0.0.0/8", true, 30),
            entry("10.1.0.0/16", false, 20),
        ],
    );
    let app = m.app();
    let c = app
        .check_authorized_ip(&owner(), ACME, "10.1.2.3".parse().unwrap())
        .unwrap();
    assert!(!c.allowed);
    assert_eq!(c.matched, Some(net("10.1.0.0/16")));
    let c = app
        .check_authorized_ip(&owner(), ACME, "10.2.0.1".parse().unwrap())
        .unwrap();
    assert!(c.allowed);
    let c = app
        .check_authorized_ip(&owner(), ACME, "192.0.2.1".parse().unwrap())
        .unwrap();
    assert_eq!((c.allowed, c.matched), (false, None));
}
