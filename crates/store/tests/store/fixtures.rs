use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use tessera_domain::audit::{Actor, AuditRecord, Outcome};
use tessera_domain::ids::AccountId;
use tessera_domain::ports::{
    AccountRepo, AuditFilter, AuditRepo, BootstrappedAccount, NewAccount, NewUser,
};
use tessera_domain::roles::RoleId;
use tessera_domain::user::{Login, UserStatus};
use tessera_store::Store;
use tessera_store::db::AnyConnection;
use tessera_store::testing::TestDatabase;

pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + secs, 0).unwrap()
}

pub fn audit(action: &str) -> AuditRecord {
    AuditRecord {
        account_id: None,
        actor: Actor::system(),
        action: action.into(),
        target: None,
        outcome: Outcome::Success,
        client_ip: Some("127.0.0.1".into()),
        request_id: Some("req-1".into()),
        at: at(0),
        details: serde_json::json!({}),
    }
}

pub fn audit_in(account: AccountId, action: &str) -> AuditRecord {
    AuditRecord {
        account_id: Some(account),
        ..audit(action)
    }
}

pub fn new_account(name: &str) -> NewAccount {
    NewAccount {
        name: name.into(),
        email: format!("{name}@example.com"),
        parent_id: None,
        owner_login: Login::parse("admin").unwrap(),
        owner_email: Some(format!("admin@{name}.example.com")),
        owner_password_hash: "$argon2id$fake".into(),
        created_at: at(0),
        owner_access_key: None,
        service_key: None,
    }
}

pub fn account(store: &Store, name: &str) -> BootstrappedAccount {
    store
        .create_account(&new_account(name), 100, &audit("account.create"))
        .unwrap()
}

pub fn new_user(account: AccountId, login: &str, roles: &[RoleId]) -> NewUser {
    NewUser {
        account_id: account,
        login: Login::parse(login).unwrap(),
        email: Some(format!("{login}@example.com")),
        phone_number: None,
        description: Some("test user".into()),
        status: UserStatus::Active,
        password_hash: Some("$argon2id$fake".into()),
        roles: roles.to_vec(),
        created_at: at(1),
    }
}

/// How many audit events `account` has (up to 1000).
pub fn audit_count(store: &Store, account: AccountId) -> usize {
    store
        .list_audit(
            account,
            &AuditFilter {
                limit: 1000,
                ..AuditFilter::default()
            },
        )
        .unwrap()
        .len()
}

/// Whether some session of this test's database waits for a lock, running a query that
/// mentions `table`.
pub fn someone_waits_for_a_lock(db: &TestDatabase, table: &str) -> bool {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let AnyConnection::Postgresql(mut conn) = db.db.dedicated_connection().unwrap() else {
        unreachable!("postgres")
    };
    let w: Waiting = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE NOT l.granted AND a.datname = current_database() \
         AND a.query LIKE '%' || $1 || '%'",
    )
    .bind::<diesel::sql_types::Text, _>(table)
    .get_result(&mut conn)
    .unwrap();
    w.n > 0
}
