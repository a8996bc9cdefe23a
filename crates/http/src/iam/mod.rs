//! Cloudflare-compatible IAM under `/v1/accounts/{account_id}/iam`: the role and permission-group
//! catalogs, resource groups, user groups with policies and members, and the explain endpoint.

pub mod authorize;
pub mod catalog;
pub mod members;
pub mod resource_groups;
pub mod user_groups;

use serde::{Deserialize, Serialize};
use tessera_domain::groups::Meta;
use utoipa::ToSchema;

/// `{key, value}` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MetaView {
    /// Key.
    pub key: Option<String>,
    /// Value.
    pub value: Option<String>,
}

impl From<Meta> for MetaView {
    fn from(m: Meta) -> Self {
        Self {
            key: m.key,
            value: m.value,
        }
    }
}

impl From<MetaView> for Meta {
    fn from(m: MetaView) -> Self {
        Self {
            key: m.key,
            value: m.value,
        }
    }
}

/// `{"id": …}`, how requests name another object.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct IdRef {
    /// The object's id (32 hex digits).
    #[schema(pattern = "^[0-9a-fA-F]{32}$")]
    pub id: String,
}
