//! The policy engine: one pure function decides every request of both APIs and says why.
//!
//! Rules (SPEC §5):
//! - roles grant account-wide; `Owner` holds every capability in its account;
//! - user-group policies grant (allow) or take away (deny) only inside their resource groups'
//!   scope; deny overrides any allow, a role's included;
//! - `write` implies `read` (an allow of `write` grants `read`; a deny of `read` denies `write`);
//! - a service key gets the intersection of its roles and its owner's current permissions; a key
//!   without roles gets nothing beyond the basic methods (which need no permission);
//! - an OAuth access token's principal gets its subject's permissions ∩ the token's scopes;
//! - another account's resources are never allowed, except to a principal of an ancestor
//!   account holding Manage Enterprise Accounts at the requested level, through its roles.

mod engine;
mod grants;
pub mod resource;

pub use engine::{Decision, Effect, PolicyIndex, PolicyRule, Reason, Request, Subject, decide};
pub use grants::{check_holds, check_manage, check_permissions, check_role_grant};
pub use resource::{ResourceKey, ResourceType, Scope, ScopeObjects};
