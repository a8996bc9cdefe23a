use diesel::prelude::*;
use tessera_domain::audit::Outcome;
use tessera_domain::ports::{AuditFilter, AuditRepo};
use tessera_store::backend_tests;
use tessera_store::schema::audit_events;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{account, at, audit_in};

fn events_list_newest_first_with_filters_and_a_keyset_cursor(db: &TestDatabase) {
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let other = account(&store, "other").account.id;
    for i in 0..5 {
        let mut r = audit_in(
            acme,
            if i % 2 == 0 {
                "user.create"
            } else {
                "auth.failure"
            },
        );
        r.actor.id = format!("actor{}", i % 2);
        r.at = at(100 + i);
        r.outcome = if i % 2 == 0 {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        store.append_audit(&r).unwrap();
    }
    store.append_audit(&audit_in(other, "user.create")).unwrap();

    let all = store
        .list_audit(
            acme,
            &AuditFilter {
                limit: 100,
                ..AuditFilter::default()
            },
        )
        .unwrap();
    // 5 appended + the account's creation.
    assert_eq!(all.len(), 6);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert!(all.iter().all(|e| e.record.account_id == Some(acme)));

    let failures = store
        .list_audit(
            acme,
            &AuditFilter {
                action: Some("auth.failure".into()),
                limit: 100,
                ..AuditFilter::default()
            },
        )
        .unwrap();
    assert_eq!(failures.len(), 2);
    assert!(
        failures
            .iter()
            .all(|e| e.record.outcome == Outcome::Failure)
    );

    let by_actor = store
        .list_audit(
            acme,
            &AuditFilter {
                actor: Some("actor0".into()),
                since: Some(at(101)),
                before: Some(at(104)),
                limit: 100,
                ..AuditFilter::default()
            },
        )
        .unwrap();
    assert_eq!(by_actor.len(), 1);
    assert_eq!(by_actor[0].record.at, at(102));

    let first = store
        .list_audit(
            acme,
            &AuditFilter {
                limit: 2,
                ..AuditFilter::default()
            },
        )
        .unwrap();
    let next = store
        .list_audit(
            acme,
            &AuditFilter {
                limit: 2,
                before_id: Some(first[1].id),
                ..AuditFilter::default()
            },
        )
        .unwrap();
    assert_eq!(next[0].id, all[2].id);
    assert_eq!(next[1].id, all[3].id);

    // Page numbers: the second page of two starts at the third event, the fourth is partial
    // and the one after the end is empty.
    let page = |offset: u64| {
        store
            .list_audit(
                acme,
                &AuditFilter {
                    limit: 2,
                    offset,
                    ..AuditFilter::default()
                },
            )
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(page(2), vec![all[2].id, all[3].id]);
    assert_eq!(page(4), vec![all[4].id, all[5].id]);
    assert_eq!(page(6), Vec::<i64>::new());
}

fn audit_events_cannot_be_changed_or_deleted(db: &TestDatabase) {
    let store = db.store();
    account(&store, "acme");
    let mut conn = db.db.conn().unwrap();
    assert!(
        diesel::update(audit_events::table)
            .set(audit_events::action.eq("forged"))
            .execute(&mut *conn)
            .is_err()
    );
    assert!(
        diesel::delete(audit_events::table)
            .execute(&mut *conn)
            .is_err()
    );
    let count: i64 = audit_events::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(count, 1);
}

backend_tests!(
    events_list_newest_first_with_filters_and_a_keyset_cursor,
    audit_events_cannot_be_changed_or_deleted
);
