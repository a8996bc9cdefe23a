//! The permission catalog: capabilities, levels, permission sets, the Restcomm matrix and the
//! Cloudflare-style permission groups derived from it.

pub mod capability;
pub mod groups;
pub mod matrix;
pub mod set;

pub use capability::{Capability, Level, Permission, Section};
pub use groups::PermissionGroup;
pub use set::PermSet;
