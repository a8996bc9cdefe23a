#![doc = include_str!("../README.md")]

pub mod cause;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod dns;
pub mod idp;
pub mod probe;
pub mod secrets;
pub mod shutdown;
pub mod startup;
pub mod telemetry;
pub mod tls;
mod upkeep;

/// Collapses an error into one line (libpq messages span several).
#[must_use]
pub fn one_line(error: &dyn std::fmt::Display) -> String {
    error
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
