//! Policy decisions: Tessera's engine against cedar-policy on equivalent policy sets of 10,
//! 1,000 and 100,000 policies. See docs/benchmarks.md for how the sets are made equivalent.

use std::hint::black_box;
use std::str::FromStr;

use cedar_policy::{Authorizer, Context, Decision as CedarDecision, Entities, EntityUid, PolicySet, Request as CedarRequest};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use tessera_domain::ids::{AccountId, Hex32, PolicyId, UserGroupId};
use tessera_domain::permissions::{Capability, Level, Permission};
use tessera_domain::policy::{
    Effect, PolicyIndex, PolicyRule, Request, ResourceKey, ResourceType, Scope, ScopeObjects, Subject, decide,
};

const ACCOUNT: AccountId = AccountId(1);
const GROUPS: usize = 100;

/// The i-th policy, described once and rendered for both engines.
struct Spec {
    effect: Effect,
    permission: Permission,
    /// `None` = the whole account.
    object: Option<u64>,
    group: usize,
}

fn spec(i: usize) -> Spec {
    Spec {
        effect: if i % 50 == 49 { Effect::Deny } else { Effect::Allow },
        permission: Permission::new(
            Capability::ALL[i % Capability::ALL.len()],
            if i % 2 == 0 { Level::Read } else { Level::Write },
        ),
        object: (i % 10 != 0).then_some(i as u64),
        group: i % GROUPS,
    }
}

fn hex(i: usize) -> Hex32 {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(i as u64).to_be_bytes());
    Hex32(b)
}

fn tessera_rules(n: usize) -> Vec<PolicyRule> {
    (0..n)
        .map(|i| {
            let s = spec(i);
            PolicyRule {
                id: PolicyId(hex(i)),
                user_group: UserGroupId(hex(s.group)),
                effect: s.effect,
                permissions: vec![s.permission],
                scopes: vec![Scope {
                    account: ACCOUNT,
                    objects: match s.object {
                        None => ScopeObjects::Everything,
                        Some(o) => ScopeObjects::Only(vec![ResourceKey::new(ResourceType::User, o)]),
                    },
                }],
            }
        })
        .collect()
}

fn action(p: Permission) -> String {
    format!("Action::\"{}:{}\"", p.capability.slug(), p.level)
}

/// Cedar text for the same policies. Tessera's level rules become explicit action lists: an
/// allow of `write` also allows `read`; a deny of `read` also denies `write`.
fn cedar_policies(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        let s = spec(i);
        let read = Permission::read(s.permission.capability);
        let write = Permission::write(s.permission.capability);
        let actions = match (s.effect, s.permission.level) {
            (Effect::Allow, Level::Write) | (Effect::Deny, Level::Read) => {
                format!("action in [{}, {}]", action(read), action(write))
            }
            _ => format!("action == {}", action(s.permission)),
        };
        let resource = match s.object {
            None => "resource in Account::\"1\"".to_owned(),
            Some(o) => format!("resource == Resource::\"user.{o}\""),
        };
        let verb = match s.effect {
            Effect::Allow => "permit",
            Effect::Deny => "forbid",
        };
        text.push_str(&format!(
            "@id(\"p{i}\")\n{verb}(principal in Group::\"g{}\", {actions}, {resource});\n",
            s.group
        ));
    }
    text
}

fn cedar_entities(objects: &[u64]) -> Entities {
    let mut list = vec![serde_json::json!({
        "uid": {"type": "User", "id": "alice"},
        "attrs": {},
        "parents": (0..GROUPS).map(|g| serde_json::json!({"type": "Group", "id": format!("g{g}")})).collect::<Vec<_>>(),
    })];
    for o in objects {
        list.push(serde_json::json!({
            "uid": {"type": "Resource", "id": format!("user.{o}")},
            "attrs": {},
            "parents": [{"type": "Account", "id": "1"}],
        }));
    }
    Entities::from_json_value(serde_json::Value::Array(list), None).expect("entities")
}

/// The requests asked of both engines: (permission, object).
fn requests() -> Vec<(Permission, u64)> {
    vec![
        (Permission::read(Capability::UserManagement), 5),
        (Permission::write(Capability::UserManagement), 5),
        (Permission::read(Capability::Usage), 21),
        (Permission::write(Capability::ApiCredentials), 7),
        (Permission::read(Capability::AccountSettings), 49),
        (Permission::write(Capability::Recordings), 99_999),
        (Permission::read(Capability::AuditApi), 12_345),
        (Permission::write(Capability::CmCampaigns), 3),
    ]
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("decision");
    for n in [10usize, 1_000, 100_000] {
        let rules = tessera_rules(n);
        let subject = Subject {
            account: ACCOUNT,
            roles: vec![],
            policies: PolicyIndex::compile(ACCOUNT, &rules),
            key_roles: None,
        };
        let asks = requests();
        let keys: Vec<ResourceKey> = asks.iter().map(|(_, o)| ResourceKey::new(ResourceType::User, *o)).collect();

        let policies = PolicySet::from_str(&cedar_policies(n)).expect("cedar policies parse");
        let entities = cedar_entities(&asks.iter().map(|(_, o)| *o).collect::<Vec<_>>());
        let principal = EntityUid::from_str("User::\"alice\"").expect("uid");
        let cedar_requests: Vec<CedarRequest> = asks
            .iter()
            .map(|(p, o)| {
                CedarRequest::new(
                    principal.clone(),
                    EntityUid::from_str(&action(*p)).expect("action"),
                    EntityUid::from_str(&format!("Resource::\"user.{o}\"")).expect("resource"),
                    Context::empty(),
                    None,
                )
                .expect("request")
            })
            .collect();
        let authorizer = Authorizer::new();

        // The two engines must agree on every request, or the comparison means nothing.
        let mut allowed = 0;
        for ((p, _), (key, creq)) in asks.iter().zip(keys.iter().zip(&cedar_requests)) {
            let ours = decide(&subject, &Request { account: ACCOUNT, permission: *p, resource: Some(key), ancestors: &[] });
            let theirs = authorizer.is_authorized(creq, &policies, &entities).decision() == CedarDecision::Allow;
            assert_eq!(ours.allowed, theirs, "n={n} {p} on {key}: tessera {:?}", ours.reasons);
            allowed += usize::from(ours.allowed);
        }
        eprintln!("n={n}: {allowed} of {} requests allowed by both engines", asks.len());

        group.bench_with_input(BenchmarkId::new("tessera", n), &n, |b, _| {
            let mut i = 0;
            b.iter(|| {
                let k = i % asks.len();
                i += 1;
                black_box(decide(
                    &subject,
                    &Request { account: ACCOUNT, permission: asks[k].0, resource: Some(&keys[k]), ancestors: &[] },
                ))
            });
        });
        group.bench_with_input(BenchmarkId::new("cedar", n), &n, |b, _| {
            let mut i = 0;
            b.iter(|| {
                let k = i % asks.len();
                i += 1;
                black_box(authorizer.is_authorized(&cedar_requests[k], &policies, &entities))
            });
        });
        group.bench_with_input(BenchmarkId::new("tessera_compile", n), &n, |b, _| {
            b.iter(|| black_box(PolicyIndex::compile(ACCOUNT, &rules)));
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
