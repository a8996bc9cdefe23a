//! Every refused authentication is audited (`auth.failure`, actor `anonymous` with the login or
//! key id, never the secret) — wrong secrets, unknown principals, inactive users or accounts,
//! SSO-enforced domains, locked logins and addresses — without letting an attacker grow the
//! audit table without bound: the first failure of a kind (same account, who, credential,
//! reason and client address) within the fold window is written at once; identical ones after
//! it are counted, and written as one event with their count when the window ends.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;
use serde_json::json;
use tessera_domain::audit::{Actor, ActorKind, AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::AccountId;

use crate::App;

/// Most kinds of failure folded at once; beyond, failures are written one by one (memory
/// stays bounded; an attacker who varies every field makes distinct events anyway).
const MAX_FOLDS: usize = 10_000;

/// A refused authentication, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Refusal {
    /// The account concerned, when known.
    pub account: Option<AccountId>,
    /// The login or key id presented (never a secret).
    pub who: String,
    /// `password`, `access_key`, `service_key`, `session`, `any`.
    pub credential: &'static str,
    /// Why it was refused.
    pub reason: String,
}

struct Fold {
    since: DateTime<Utc>,
    repeats: u64,
    last: AuditRecord,
}

/// Counts repeated identical failures within a window.
pub(crate) struct AuditFolder {
    window: TimeDelta,
    folds: Mutex<HashMap<(Refusal, Option<String>), Fold>>,
}

impl AuditFolder {
    pub(crate) fn new(window_secs: i64) -> Self {
        Self {
            window: TimeDelta::seconds(window_secs.max(1)),
            folds: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `record` is to be written now (the first of its kind in the window); otherwise
    /// it is counted, to be written with its count when the window ends.
    fn admit(&self, refusal: &Refusal, record: &AuditRecord) -> bool {
        let key = (refusal.clone(), record.client_ip.clone());
        let mut folds = self.folds.lock();
        if let Some(fold) = folds.get_mut(&key) {
            if record.at - fold.since < self.window {
                fold.repeats += 1;
                fold.last = record.clone();
                return false;
            }
        }
        if folds.len() >= MAX_FOLDS && !folds.contains_key(&key) {
            return true;
        }
        folds.insert(
            key,
            Fold {
                since: record.at,
                repeats: 0,
                last: record.clone(),
            },
        );
        true
    }

    /// Counts `record` into the open fold of its kind, if there is one: then nothing is to be
    /// written now (and nothing was read or written but memory). `false` when it would be the
    /// first of its kind in the window ([`AuditFolder::admit`] then decides).
    pub(crate) fn absorb(&self, refusal: &Refusal, record: &AuditRecord) -> bool {
        let key = (refusal.clone(), record.client_ip.clone());
        let mut folds = self.folds.lock();
        match folds.get_mut(&key) {
            Some(fold) if record.at - fold.since < self.window => {
                fold.repeats += 1;
                fold.last = record.clone();
                true
            }
            _ => false,
        }
    }

    /// The events of the windows that ended by `now`: one per kind that repeated, with the
    /// count of repeats after the first.
    fn due(&self, now: DateTime<Utc>) -> Vec<AuditRecord> {
        let mut out = Vec::new();
        self.folds.lock().retain(|_, fold| {
            if now - fold.since < self.window {
                return true;
            }
            if fold.repeats > 0 {
                let mut record = fold.last.clone();
                if let Some(details) = record.details.as_object_mut() {
                    details.insert("repeated".into(), json!(fold.repeats));
                    details.insert("since".into(), json!(fold.since));
                }
                out.push(record);
            }
            false
        });
        out
    }
}

impl App {
    /// Records a refused authentication (folded with identical ones from the same address).
    pub(crate) fn audit_failure(&self, refusal: &Refusal, meta: &RequestMeta, now: DateTime<Utc>) {
        self.audit_refusal("auth.failure", refusal, meta, now);
    }

    /// Audits a refusal under `action` (`auth.failure`, `sso.login`), folding repeats like
    /// `audit_failure`.
    pub(crate) fn audit_refusal(
        &self,
        action: &str,
        refusal: &Refusal,
        meta: &RequestMeta,
        now: DateTime<Utc>,
    ) {
        let record = AuditRecord {
            account_id: refusal.account,
            actor: Actor {
                kind: ActorKind::Anonymous,
                id: refusal.who.clone(),
            },
            action: action.into(),
            target: None,
            outcome: Outcome::Failure,
            client_ip: meta.client_ip.clone(),
            request_id: meta.request_id.clone(),
            at: now,
            details: json!({ "credential": refusal.credential, "reason": refusal.reason }),
        };
        if self.folder.admit(refusal, &record) {
            self.write_failure(&record);
        }
    }

    /// Audits `record` (a refusal keyed by `refusal`), folding repeats like `audit_failure`.
    pub(crate) fn audit_folded(&self, refusal: &Refusal, record: &AuditRecord) {
        if self.folder.admit(refusal, record) {
            self.write_failure(record);
        }
    }

    /// Writes the folded failures whose window ended (from the periodic upkeep).
    pub(crate) fn flush_failures(&self, now: DateTime<Utc>) {
        for record in self.folder.due(now) {
            self.write_failure(&record);
        }
    }

    fn write_failure(&self, record: &AuditRecord) {
        if let Err(e) = self.ports.audit.append_audit(record) {
            tracing::warn!(error = %e, "could not record an authentication failure");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::now;

    fn refusal(who: &str) -> Refusal {
        Refusal {
            account: Some(AccountId(1)),
            who: who.into(),
            credential: "password",
            reason: "authentication failed".into(),
        }
    }

    fn record(at: DateTime<Utc>, ip: &str) -> AuditRecord {
        AuditRecord {
            account_id: Some(AccountId(1)),
            actor: Actor {
                kind: ActorKind::Anonymous,
                id: "bob".into(),
            },
            action: "auth.failure".into(),
            target: None,
            outcome: Outcome::Failure,
            client_ip: Some(ip.into()),
            request_id: None,
            at,
            details: json!({ "reason": "authentication failed" }),
        }
    }

    #[test]
    fn repeats_within_the_window_become_one_event_with_a_count() {
        let f = AuditFolder::new(60);
        let t = now();
        assert!(
            f.admit(&refusal("bob"), &record(t, "10.0.0.1")),
            "the first is written"
        );
        for s in 1..=9 {
            assert!(!f.admit(
                &refusal("bob"),
                &record(t + TimeDelta::seconds(s), "10.0.0.1")
            ));
        }
        assert!(
            f.admit(&refusal("bob"), &record(t, "10.0.0.2")),
            "another address is another kind"
        );
        assert!(f.admit(&refusal("alice"), &record(t, "10.0.0.1")));
        assert!(f.due(t + TimeDelta::seconds(30)).is_empty(), "not yet");
        let due = f.due(t + TimeDelta::seconds(61));
        assert_eq!(due.len(), 1, "only the kind that repeated");
        assert_eq!(due[0].details["repeated"], 9);
        assert!(
            f.admit(
                &refusal("bob"),
                &record(t + TimeDelta::seconds(62), "10.0.0.1")
            ),
            "a new window writes again"
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let f = AuditFolder::new(60);
        for n in 0..(MAX_FOLDS + 50) {
            assert!(f.admit(&refusal(&format!("u{n}")), &record(now(), "10.0.0.1")));
        }
        assert_eq!(f.folds.lock().len(), MAX_FOLDS);
    }
}
