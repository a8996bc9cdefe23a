use tessera_domain::Field;
use tessera_domain::ids::{AccountId, Hex32, SsoConnectorId};
use tessera_domain::ports::{AuditFilter, AuditRepo, RepoError, SsoChanges, SsoRepo};
use tessera_domain::sso::{SsoConnector, VerificationStatus};
use tessera_store::backend_tests;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{account, at, audit_in};

pub fn connector(account: AccountId, n: u8, domain: &str) -> SsoConnector {
    let id = SsoConnectorId(Hex32([n; 16]));
    SsoConnector {
        id,
        account_id: account,
        email_domain: domain.into(),
        enabled: false,
        use_fedramp_language: false,
        verification_code: SsoConnector::code_for(id),
        verification_status: VerificationStatus::Awaiting,
        created_on: at(n.into()),
        updated_on: at(n.into()),
        idp: None,
    }
}

pub fn changes(status: Option<VerificationStatus>, enabled: Option<bool>) -> SsoChanges {
    SsoChanges {
        enabled,
        use_fedramp_language: None,
        verification_status: status,
        idp: None,
        updated_on: at(100),
    }
}

fn connectors_round_trip_and_stay_in_their_account(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other").account.id;
    let made = store
        .create_sso(
            &connector(acme, 1, "acme.example"),
            &audit_in(acme, "sso.create"),
        )
        .unwrap();
    assert_eq!(made, connector(acme, 1, "acme.example"));
    assert_eq!(store.get_sso(acme, made.id).unwrap(), made);
    assert_eq!(store.get_sso(other, made.id), Err(RepoError::NotFound));
    assert_eq!(store.list_sso(other).unwrap(), vec![]);
    assert_eq!(
        store.update_sso(
            other,
            made.id,
            &changes(None, Some(true)),
            &audit_in(other, "sso.update")
        ),
        Err(RepoError::NotFound)
    );
    assert_eq!(
        store.delete_sso(other, made.id, &audit_in(other, "sso.delete")),
        Err(RepoError::NotFound)
    );
    assert_eq!(store.get_sso(acme, made.id).unwrap(), made, "unchanged");

    let second = store
        .create_sso(
            &connector(acme, 2, "b.example"),
            &audit_in(acme, "sso.create"),
        )
        .unwrap();
    let listed: Vec<_> = store
        .list_sso(acme)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, vec![made.id, second.id], "oldest first");

    store
        .delete_sso(acme, made.id, &audit_in(acme, "sso.delete"))
        .unwrap();
    assert_eq!(store.get_sso(acme, made.id), Err(RepoError::NotFound));
    let actions: Vec<_> = store
        .list_audit(
            acme,
            &AuditFilter {
                limit: 10,
                ..AuditFilter::default()
            },
        )
        .unwrap()
        .into_iter()
        .map(|e| (e.record.action, e.record.target))
        .collect();
    assert!(actions.contains(&(
        "sso.delete".to_owned(),
        Some(format!("sso_connector:{}", made.id))
    )));
    assert!(
        !actions
            .iter()
            .any(|(_, t)| t.as_deref() == Some("account:other")),
        "no event of the other account here"
    );
}

fn a_domain_is_unique_within_an_account_only(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other").account.id;
    store
        .create_sso(
            &connector(acme, 1, "acme.example"),
            &audit_in(acme, "sso.create"),
        )
        .unwrap();
    assert_eq!(
        store.create_sso(
            &connector(acme, 2, "acme.example"),
            &audit_in(acme, "sso.create")
        ),
        Err(RepoError::Conflict(Field::EmailDomain))
    );
    assert_eq!(store.list_sso(acme).unwrap().len(), 1, "nothing added");
    store
        .create_sso(
            &connector(other, 3, "acme.example"),
            &audit_in(other, "sso.create"),
        )
        .expect("domains are unique per account; DNS proves ownership");
}

fn updates_keep_what_they_do_not_name(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let made = store
        .create_sso(
            &connector(acme, 1, "acme.example"),
            &audit_in(acme, "sso.create"),
        )
        .unwrap();
    let pending = store
        .update_sso(
            acme,
            made.id,
            &changes(Some(VerificationStatus::Pending), None),
            &audit_in(acme, "sso.begin_verification"),
        )
        .unwrap();
    assert_eq!(pending.verification_status, VerificationStatus::Pending);
    assert!(!pending.enabled);
    assert_eq!(pending.updated_on, at(100));
    assert_eq!(pending.created_on, made.created_on);
    let enabled = store
        .update_sso(
            acme,
            made.id,
            &changes(None, Some(true)),
            &audit_in(acme, "sso.update"),
        )
        .unwrap();
    assert!(enabled.enabled);
    assert_eq!(enabled.verification_status, VerificationStatus::Pending);
}

fn the_verifier_sees_pending_connectors_of_every_account(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other").account.id;
    let a = store
        .create_sso(
            &connector(acme, 1, "a.example"),
            &audit_in(acme, "sso.create"),
        )
        .unwrap();
    let b = store
        .create_sso(
            &connector(other, 2, "b.example"),
            &audit_in(other, "sso.create"),
        )
        .unwrap();
    store
        .create_sso(
            &connector(acme, 3, "c.example"),
            &audit_in(acme, "sso.create"),
        )
        .unwrap();
    assert_eq!(store.pending_sso().unwrap(), vec![]);
    for (account, id) in [(acme, a.id), (other, b.id)] {
        store
            .update_sso(
                account,
                id,
                &changes(Some(VerificationStatus::Pending), None),
                &audit_in(account, "sso.begin_verification"),
            )
            .unwrap();
    }
    let mut pending: Vec<_> = store
        .pending_sso()
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    pending.sort();
    assert_eq!(pending, vec![a.id, b.id]);
    store
        .update_sso(
            acme,
            a.id,
            &changes(Some(VerificationStatus::Verified), None),
            &audit_in(acme, "sso.verified"),
        )
        .unwrap();
    let pending: Vec<_> = store
        .pending_sso()
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(pending, vec![b.id]);
}

backend_tests!(
    connectors_round_trip_and_stay_in_their_account,
    a_domain_is_unique_within_an_account_only,
    updates_keep_what_they_do_not_name,
    the_verifier_sees_pending_connectors_of_every_account
);
