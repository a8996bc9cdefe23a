//! The escalation hunter: a property test that searches for escalation instead of listing the
//! cases we know. A few principals with random roles, group memberships and keys, in an
//! account and its child, apply random sequences of every mutating use case as random callers
//! (sessions, access keys, service keys, OAuth access tokens of access keys with random scopes),
//! over the real use cases on an embedded database.
//! After every step it checks the invariants of `invariants.rs` and `mfa.rs` (documented in
//! `docs/authorization.md`). Password sign-ins complete a second factor where one is due (and
//! enrol where the account requires it), as a client would.
//!
//! `cargo test` runs a modest number of cases; for a long hunt:
//!
//! ```sh
//! HUNTER_CASES=1000 HUNTER_STEPS=60 cargo test --release -p tessera-tests --test hunter
//! ```

mod apply;
mod invariants;
mod mfa;
mod model;
mod oauth_flow;
mod world;

use proptest::test_runner::Config;
use proptest_state_machine::{StateMachineTest, prop_state_machine};

use model::{Hunt, Start, Step};
use world::World;

struct Hunter;

impl StateMachineTest for Hunter {
    type SystemUnderTest = World;
    type Reference = Hunt;

    fn init_test(start: &Start) -> World {
        World::new(start)
    }

    fn apply(mut world: World, _: &Start, step: Step) -> World {
        world.stats.steps += 1;
        let Some(caller) = world.authenticate(&step.caller) else {
            return world;
        };
        world.stats.authenticated += 1;
        let account = if step.elsewhere {
            world.other(caller.account_id)
        } else {
            caller.account_id
        };
        let before = world.snapshot();
        let addresses = world.addresses();
        let sessions = world.sessions();
        let ran = world.run(&caller, account, &step.action);
        let after = world.snapshot();
        let describe = format!(
            "{:?} as {:?} ({:?}) in account {account}: {:?}",
            step.action, step.caller, caller.credential, ran.result
        );
        world.check_step(&caller, &before, &after, ran.handed, &describe);
        world.check_mfa(&caller, &before, &after, ran.handed, &describe);
        world.check_addresses(&caller, &addresses, &world.addresses(), &before, &describe);
        world.check_sessions(&caller, &sessions, &world.sessions(), &before, &describe);
        if ran.result.is_ok() {
            world.stats.succeeded += 1;
        }
        world
    }

    fn teardown(world: World, _: Start) {
        if std::env::var_os("HUNTER_STATS").is_some() {
            eprintln!("{:?}", world.stats);
        }
    }

    fn check_invariants(world: &World, _: &Start) {
        world.check_keys(&world.snapshot());
        world.check_answers();
    }
}

fn env(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config() -> Config {
    Config {
        cases: env("HUNTER_CASES", 12),
        failure_persistence: None,
        ..Config::default()
    }
}

prop_state_machine! {
    #![proptest_config(config())]

    #[test]
    fn no_sequence_of_operations_escalates(sequential 1..steps() => Hunter);
}

fn steps() -> usize {
    usize::try_from(env("HUNTER_STEPS", 30)).unwrap_or(30)
}

#[test]
fn the_hunt_starts_from_a_world_where_every_invariant_holds() {
    let start = Start {
        root_users: vec![vec![0], vec![2], vec![10], vec![]],
        child_users: vec![vec![1], vec![]],
        groups: vec![(
            vec![model::PolicySpec {
                allow: false,
                perms: vec![9],
                rg: 0,
            }],
            vec![1, 2],
        )],
        keys: vec![vec![2], vec![]],
    };
    let world = World::new(&start);
    let now = world.snapshot();
    assert!(
        now.principals.len() >= 10,
        "users and keys of both accounts: {}",
        now.principals.len()
    );
    world.check_keys(&now);
    world.check_answers();
}
