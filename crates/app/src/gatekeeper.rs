//! The gatekeeper: a gateway in front of another service of the platform (nginx `auth_request`,
//! Envoy `ext_authz`) asks whether an authenticated principal may do what a route needs — a
//! capability at a level, in an account, on an object if the route names one.
//!
//! The decision is the policy engine's, exactly as for Tessera's own routes (the principal's
//! roles, policies, a service key's roles, authorized IPs checked at authentication, Manage
//! Enterprise Accounts for child accounts). Two differences, both for gateways:
//! - an account the principal cannot see is refused like any other refusal (`Forbidden`, with
//!   the engine's "account N is not visible"), never `NotFound`: a gateway passes 401 and 403
//!   on, and the answer is the same whether the account exists or not;
//! - it is built for the hot path: [`App::check_cached`] decides from memory (no storage
//!   access) for the principal's own account, for an account whose ancestry was read before
//!   (accounts never change parents), and for any account when the principal cannot reach child
//!   accounts at all; a refusal is audited from memory too while an identical one is being
//!   folded ([`AuditFolder`](crate::auth::AuditFolder)). Anything else goes through
//!   [`App::check`], which may read storage.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use serde_json::json;
use tessera_domain::audit::{AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::AccountId;
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{self, Decision, Request, ResourceKey};

use crate::App;
use crate::auth::Refusal;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

/// The audit action of a refused check.
pub const CHECK_REFUSED: &str = "authz.check";

/// What a gateway's route needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The account the route acts in; `None`: the principal's own.
    pub account: Option<AccountId>,
    /// The capability and level.
    pub permission: Permission,
    /// The object acted on, if the route names one.
    pub resource: Option<ResourceKey>,
}

/// Most accounts whose ancestry is remembered; past it the memory starts over.
const ANCESTRIES_KEPT: usize = 100_000;

/// The ancestors of accounts read so far. An account's parent is set when it is created and
/// never changes, and accounts are never deleted, so an ancestry once read stays true.
#[derive(Default)]
pub(crate) struct Ancestries(RwLock<HashMap<AccountId, Arc<[AccountId]>>>);

impl Ancestries {
    fn get(&self, account: AccountId) -> Option<Arc<[AccountId]>> {
        self.0.read().get(&account).cloned()
    }

    fn insert(&self, account: AccountId, ancestors: Arc<[AccountId]>) {
        let mut known = self.0.write();
        if known.len() >= ANCESTRIES_KEPT {
            known.clear();
        }
        known.insert(account, ancestors);
    }
}

impl App {
    /// Decides `check` for `principal` from memory only: no storage access, safe on an async
    /// worker. `None` means "ask [`App::check`]".
    ///
    /// # Errors
    /// As [`App::check`].
    pub fn check_cached(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        check: &Check,
    ) -> Option<AppResult<AccountId>> {
        let account = check.account.unwrap_or(principal.account_id);
        let decision = self.decide_in_memory(principal, account, check)?;
        if decision.allowed {
            return Some(Ok(account));
        }
        let now = self.ports.clock.now();
        let (refusal, record) = refusal_record(principal, meta, account, check, &decision, now);
        if !self.folder.absorb(&refusal, &record) {
            // The first refusal of its kind in the fold window is written: storage.
            return None;
        }
        self.telemetry.denied(check.permission.capability);
        Some(Err(AppError::Forbidden(decision.reasons)))
    }

    /// Whether `principal` may do what `check` says: the account it was decided in.
    ///
    /// # Errors
    /// `Forbidden` with the engine's reasons — for an account the principal cannot see too (a
    /// gateway's answer must not tell which accounts exist); storage errors. Every refusal is
    /// audited (`authz.check`, in the principal's account), identical ones from one address
    /// folded into one event with a count.
    pub fn check(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        check: &Check,
    ) -> AppResult<AccountId> {
        let account = check.account.unwrap_or(principal.account_id);
        let decision = match self.decide_in_memory(principal, account, check) {
            Some(decision) => decision,
            None => decide(principal, account, check, &self.ancestry(account)?),
        };
        if decision.allowed {
            return Ok(account);
        }
        let now = self.ports.clock.now();
        let (refusal, record) = refusal_record(principal, meta, account, check, &decision, now);
        self.telemetry.denied(check.permission.capability);
        self.audit_folded(&refusal, &record);
        Err(AppError::Forbidden(decision.reasons))
    }

    /// The decision when it needs nothing from storage; `None` when it needs the ancestry of
    /// an account not read yet.
    fn decide_in_memory(
        &self,
        principal: &Principal,
        account: AccountId,
        check: &Check,
    ) -> Option<Decision> {
        if account == principal.account_id {
            return Some(decide(principal, account, check, &[]));
        }
        if let Some(ancestors) = self.ancestries.get(account) {
            return Some(decide(principal, account, check, &ancestors));
        }
        // Another account is reached only through Manage Enterprise Accounts at the requested
        // level in the principal's own account: without it, every other account is invisible,
        // whatever its ancestors.
        let reach = Permission::new(Capability::EnterpriseAccounts, check.permission.level);
        let home = policy::decide(
            &principal.subject,
            &Request {
                account: principal.account_id,
                permission: reach,
                resource: None,
                ancestors: &[],
            },
        );
        (!home.allowed).then(|| decide(principal, account, check, &[]))
    }

    /// The ancestors of `account` (remembered once read); none for an account that does not
    /// exist (then invisible to everyone, and not remembered: it may be created).
    ///
    /// # Errors
    /// Storage errors.
    fn ancestry(&self, account: AccountId) -> AppResult<Arc<[AccountId]>> {
        if let Some(known) = self.ancestries.get(account) {
            return Ok(known);
        }
        match self.ancestors_of(account) {
            Ok(chain) => {
                let chain: Arc<[AccountId]> = chain.into();
                self.ancestries.insert(account, chain.clone());
                Ok(chain)
            }
            Err(AppError::NotFound(_)) => Ok(Arc::from(Vec::new())),
            Err(e) => Err(e),
        }
    }
}

/// The engine's decision of `check` in `account` for `principal`, given the account's
/// ancestors.
fn decide(
    principal: &Principal,
    account: AccountId,
    check: &Check,
    ancestors: &[AccountId],
) -> Decision {
    policy::decide(
        &principal.subject,
        &Request {
            account,
            permission: check.permission,
            resource: check.resource.as_ref(),
            ancestors,
        },
    )
}

/// A refused check as the audit folder keys it (every field of the question, so that distinct
/// refusals are distinct events) and as the audit log records it. No credential is recorded:
/// the actor is the principal's id (user, access key id or service key id).
fn refusal_record(
    principal: &Principal,
    meta: &RequestMeta,
    account: AccountId,
    check: &Check,
    decision: &Decision,
    now: DateTime<Utc>,
) -> (Refusal, AuditRecord) {
    let actor = principal.actor();
    let reasons = decision
        .reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let resource = check.resource.as_ref().map(ToString::to_string);
    let refusal = Refusal {
        account: Some(principal.account_id),
        who: actor.id.clone(),
        credential: actor.kind.as_str(),
        reason: format!(
            "{} in account {account} on {}: {reasons}",
            check.permission,
            resource.as_deref().unwrap_or("*")
        ),
    };
    let record = AuditRecord {
        account_id: Some(principal.account_id),
        actor,
        action: CHECK_REFUSED.into(),
        target: Some(format!("account:{account}")),
        outcome: Outcome::Failure,
        client_ip: meta.client_ip.clone(),
        request_id: meta.request_id.clone(),
        at: now,
        details: json!({
            "account_id": account,
            "capability": check.permission.capability,
            "level": check.permission.level,
            "resource": resource,
            "reason": reasons,
        }),
    };
    (refusal, record)
}

#[cfg(test)]
mod tests;
