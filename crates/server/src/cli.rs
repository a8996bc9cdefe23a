//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Tessera: identity and access management for a communications platform.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about)]
pub struct Cli {
    /// Directory holding default.toml and <TESSERA_ENV>.toml.
    #[arg(long, env = "TESSERA_CONFIG_DIR", default_value = "config")]
    pub config_dir: PathBuf,

    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Clone, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Migrate the database, bootstrap it if empty, and serve the APIs.
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Migrate, create the first account if the database is empty, and print its credentials.
    Bootstrap,
    /// Clear a login's failed sign-ins and lift its lock (audited); works with the server
    /// stopped or running.
    Unlock {
        /// The account's id.
        #[arg(long)]
        account: i64,
        /// The login.
        #[arg(long)]
        login: String,
    },
}
