use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tessera_domain::ports::UserRepo;
use tessera_store::db::AnyConnection;
use tessera_store::testing::TestDatabase;
use tessera_store::{Backend, Database, PoolOptions, backend_tests};

const PG: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

fn tables(db: &TestDatabase) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let mut conn = db.db.conn().unwrap();
    let sql = match db.db.backend() {
        Backend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_\\_%' ORDER BY 1"
        }
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite%' AND name NOT LIKE '\\_\\_%' ESCAPE '\\' ORDER BY 1"
        }
    };
    let names: Vec<Name> = match &mut *conn {
        AnyConnection::Postgresql(c) => diesel::sql_query(sql).load(c).unwrap(),
        AnyConnection::Sqlite(c) => diesel::sql_query(sql).load(c).unwrap(),
    };
    names.into_iter().map(|n| n.name).collect()
}

const TABLES: &[&str] = &[
    "access_keys",
    "accounts",
    "audit_events",
    "auth_attempts",
    "authorized_ips",
    "authz_versions",
    "mfa_challenges",
    "mfa_recovery_codes",
    "mfa_totp",
    "oauth_clients",
    "oauth_codes",
    "oauth_grants",
    "oauth_refresh_tokens",
    "oauth_revoked_tokens",
    "oauth_signing_keys",
    "policies",
    "policy_permission_groups",
    "policy_resource_groups",
    "resource_groups",
    "service_key_roles",
    "service_keys",
    "sessions",
    "sso_connectors",
    "sso_logins",
    "user_group_members",
    "user_groups",
    "user_roles",
    "users",
];

/// How many migrations the repository holds (the same names for both backends).
fn migration_count() -> usize {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/postgres");
    let count = std::fs::read_dir(dir).unwrap().count();
    let sqlite = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/sqlite");
    assert_eq!(std::fs::read_dir(sqlite).unwrap().count(), count);
    count
}

fn migrations_create_every_table_and_run_down_and_up_again(db: &TestDatabase) {
    assert_eq!(tables(db), TABLES);
    {
        let mut conn = db.db.conn().unwrap();
        match &mut *conn {
            AnyConnection::Postgresql(c) => {
                c.revert_all_migrations(PG).unwrap();
            }
            AnyConnection::Sqlite(c) => {
                c.revert_all_migrations(SQLITE).unwrap();
            }
        }
    }
    assert!(tables(db).is_empty(), "down.sql leaves {:?}", tables(db));
    assert_eq!(db.db.migrate().unwrap().len(), migration_count());
    assert_eq!(tables(db), TABLES);
    assert!(
        db.db.migrate().unwrap().is_empty(),
        "a second run applies nothing"
    );
}

fn every_schema_column_exists(db: &TestDatabase) {
    // Selecting every column diesel knows of fails if a migration misses one.
    use tessera_store::schema::*;
    let mut conn = db.db.conn().unwrap();
    let c = &mut *conn;
    macro_rules! check {
        ($($t:ident),+) => {$(
            $t::table.select($t::all_columns).limit(0).execute(c).unwrap();
        )+};
    }
    check!(
        accounts,
        users,
        user_roles,
        service_keys,
        service_key_roles,
        access_keys,
        sessions,
        resource_groups,
        user_groups,
        policies,
        policy_permission_groups,
        policy_resource_groups,
        user_group_members,
        sso_connectors,
        audit_events,
        authz_versions,
        auth_attempts,
        authorized_ips,
        mfa_totp,
        mfa_recovery_codes,
        mfa_challenges,
        oauth_clients
    );
}

/// The user-count migration counts the users an account already has.
fn the_user_count_migration_counts_existing_users(db: &TestDatabase) {
    let store = db.store();
    let acme = crate::fixtures::account(&store, "acme").account.id;
    for login in ["alice", "bobby"] {
        store
            .create_user(
                &crate::fixtures::new_user(acme, login, &[]),
                1000,
                &crate::fixtures::audit_in(acme, "user.create"),
            )
            .unwrap();
    }
    {
        let mut conn = db.db.conn().unwrap();
        match &mut *conn {
            AnyConnection::Postgresql(c) => {
                c.revert_last_migration(PG).unwrap();
            }
            AnyConnection::Sqlite(c) => {
                c.revert_last_migration(SQLITE).unwrap();
            }
        }
    }
    assert_eq!(db.db.migrate().unwrap().len(), 1);
    assert_eq!(
        store.count_users(acme).unwrap(),
        3,
        "the owner and two users"
    );
}

/// Reverts the migrations down to (and including) the one named `version`.
fn revert_to_before(db: &TestDatabase, version: &str) {
    let mut conn = db.db.conn().unwrap();
    loop {
        let reverted = match &mut *conn {
            AnyConnection::Postgresql(c) => c.revert_last_migration(PG).unwrap().to_string(),
            AnyConnection::Sqlite(c) => c.revert_last_migration(SQLITE).unwrap().to_string(),
        };
        if reverted.as_str() <= version {
            return;
        }
    }
}

/// Sessions opened before the sessions migration keep working after it: each gets an id of
/// its own (32 hex digits, none shared) and counts as a password sign-in.
fn sessions_from_before_their_migration_get_ids_of_their_own(db: &TestDatabase) {
    use diesel::sql_types::{BigInt, Binary, Timestamp};
    use tessera_domain::keys::SignInMethod;
    use tessera_domain::ports::SessionRepo;
    let store = db.store();
    let acme = crate::fixtures::account(&store, "acme");
    revert_to_before(db, "20261130000009");
    {
        let mut conn = db.db.conn().unwrap();
        for n in [1u8, 2] {
            let insert = diesel::sql_query(match db.db.backend() {
                Backend::Postgres => {
                    "INSERT INTO sessions (token_hash, account_id, user_id, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)"
                }
                Backend::Sqlite => {
                    "INSERT INTO sessions (token_hash, account_id, user_id, created_at, expires_at) \
                     VALUES (?, ?, ?, ?, ?)"
                }
            })
            .bind::<Binary, _>(vec![n; 32])
            .bind::<BigInt, _>(acme.account.id.0)
            .bind::<BigInt, _>(acme.owner.id.0)
            .bind::<Timestamp, _>(crate::fixtures::at(0).naive_utc())
            .bind::<Timestamp, _>(crate::fixtures::at(1000).naive_utc());
            match &mut *conn {
                AnyConnection::Postgresql(c) => insert.execute(c).unwrap(),
                AnyConnection::Sqlite(c) => insert.execute(c).unwrap(),
            };
        }
    }
    assert!(!db.db.migrate().unwrap().is_empty());
    let one = store.find_session(&[1; 32]).unwrap().expect("kept");
    let two = store.find_session(&[2; 32]).unwrap().expect("kept");
    assert_ne!(one.id, two.id);
    for s in [&one, &two] {
        assert_eq!(s.id.to_string().len(), 32);
        assert_eq!(s.method, SignInMethod::Password);
        assert_eq!(
            (s.user_id, s.expires_at),
            (acme.owner.id, crate::fixtures::at(1000))
        );
        assert_eq!((s.created_from.as_deref(), s.last_used_at), (None, None));
    }
}

/// Instances started together on an empty Postgres database each migrate it as they start: they
/// take turns, so none fails, and every migration is applied once.
#[test]
fn instances_migrating_one_postgres_database_at_once_take_turns() {
    const INSTANCES: usize = 4;
    let Some(empty) = TestDatabase::postgres_unmigrated() else {
        return;
    };
    let barrier = std::sync::Barrier::new(INSTANCES);
    let results: Vec<_> = std::thread::scope(|s| {
        let instances: Vec<_> = (0..INSTANCES)
            .map(|_| {
                s.spawn(|| {
                    let db = Database::open(&empty.url, &PoolOptions::default()).unwrap();
                    barrier.wait();
                    db.migrate()
                })
            })
            .collect();
        instances.into_iter().map(|i| i.join().unwrap()).collect()
    });
    let applied: usize = results
        .into_iter()
        .map(|r| r.expect("every instance migrates").len())
        .sum();
    assert_eq!(applied, migration_count(), "each migration applied once");
    assert_eq!(tables(&empty), TABLES);
}

backend_tests!(
    migrations_create_every_table_and_run_down_and_up_again,
    every_schema_column_exists,
    the_user_count_migration_counts_existing_users,
    sessions_from_before_their_migration_get_ids_of_their_own
);
