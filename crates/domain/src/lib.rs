//! Tessera's domain: entities and their rules, the permission catalog (Restcomm matrix, roles,
//! permission groups), the policy engine and the ports the use cases depend on.
//!
//! No IO happens here: no database, no network, no clock, no randomness.

pub mod account;
pub mod audit;
pub mod authorized_ips;
pub mod entity;
pub mod error;
pub mod groups;
pub mod ids;
pub mod keys;
pub mod mfa;
pub mod oauth;
pub mod permissions;
pub mod policy;
pub mod ports;
pub mod roles;
pub mod secret;
pub mod sso;
pub mod user;

pub use entity::{Entity, Field};
pub use error::DomainError;
pub use secret::Secret;
