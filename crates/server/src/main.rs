//! `tessera`: parses the command line and runs the chosen command.

use std::process::ExitCode;

use clap::Parser;
use tessera_server::cli::{Cli, Command};
use tessera_server::config::Settings;
use tessera_server::startup::{Application, bootstrap_settings, wire};
use tessera_server::{credentials, one_line, telemetry};

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("tessera: {}", one_line(error));
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&cli.config_dir) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    telemetry::init(&settings.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => match wire(&settings) {
            Ok(_) => {
                eprintln!("tessera: migrations applied");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Command::Bootstrap => bootstrap(&settings),
        Command::Unlock { account, login } => unlock(&settings, account, &login),
    }
}

fn unlock(settings: &Settings, account: i64, login: &str) -> ExitCode {
    let wired = match wire(settings) {
        Ok(w) => w,
        Err(e) => return fail(&e),
    };
    match wired
        .app
        .unlock_login(tessera_domain::ids::AccountId(account), login)
    {
        Ok(true) => {
            eprintln!("tessera: cleared the failed sign-ins of {login} in account {account}");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("tessera: {login} in account {account} had no failed sign-ins to clear");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn serve(settings: Settings) -> ExitCode {
    actix_web::rt::System::new().block_on(async move {
        match Application::build(settings).await {
            Ok(app) => match app.run().await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            },
            Err(e) => fail(&e),
        }
    })
}

fn bootstrap(settings: &Settings) -> ExitCode {
    let wired = match wire(settings) {
        Ok(w) => w,
        Err(e) => return fail(&e),
    };
    match wired.app.bootstrap(&bootstrap_settings(settings)) {
        Ok(Some(creds)) => {
            let json = credentials::to_json(&creds);
            if let Err(e) = credentials::write_files(&settings.data_dir, &creds) {
                return fail(&e);
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("tessera: the database already holds an account; nothing to bootstrap");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}
