//! `tessera`: parses the command line and runs the chosen command.

use std::process::ExitCode;

use clap::Parser;
use tessera_server::cli::{Cli, Command, HealthcheckArgs, KeysCommand, SecretsCommand, ServeArgs};
use tessera_server::config::ConfigError;
use tessera_server::config::Settings;
use tessera_server::probe::{Target, probe};
use tessera_server::startup::{self, Application, bootstrap_settings, check_data_dir, wire};
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
    match cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::default()))
    {
        Command::Serve(args) => match with_overrides(settings, args) {
            Ok(settings) => serve(settings),
            Err(e) => fail(&e),
        },
        Command::Migrate => match wire(&settings) {
            Ok(_) => {
                eprintln!("tessera: migrations applied");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Command::Bootstrap => bootstrap(&settings),
        Command::Healthcheck(args) => healthcheck(&settings, &args),
        Command::Openapi => openapi(),
        Command::Unlock { account, login } => unlock(&settings, account, &login),
        Command::Secrets(SecretsCommand::Generate) => {
            println!("{}", tessera_server::secrets::generate_key_text().as_str());
            ExitCode::SUCCESS
        }
        Command::Secrets(SecretsCommand::Reseal) => reseal(&settings),
        Command::Keys(KeysCommand::Rotate) => rotate_keys(&settings),
    }
}

/// Prints the OpenAPI document; a reader that stops early (`| head`) is not an error.
fn openapi() -> ExitCode {
    use std::io::Write;
    let json = match serde_json::to_string_pretty(&startup::openapi()) {
        Ok(json) => json,
        Err(e) => return fail(&e),
    };
    match writeln!(std::io::stdout().lock(), "{json}") {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// `serve --bind --data-dir` over the files and the environment.
fn with_overrides(mut settings: Settings, args: ServeArgs) -> Result<Settings, ConfigError> {
    if let Some(bind) = args.bind {
        settings.server.bind = bind;
    }
    if let Some(dir) = args.data_dir {
        settings.data_dir = dir;
    }
    settings.validate()?;
    Ok(settings)
}

/// Exit 0 when the server answers 200 at `/readyz` (or `--url`), 1 otherwise.
fn healthcheck(settings: &Settings, args: &HealthcheckArgs) -> ExitCode {
    let target = match &args.url {
        Some(url) => match Target::parse(url) {
            Ok(t) => t,
            Err(e) => return fail(&e),
        },
        None => match settings.bind_addr() {
            Ok(bind) => Target::readyz(bind, settings.tls.cert.is_some()),
            Err(e) => return fail(&e),
        },
    };
    match probe(
        &target,
        settings.tls.cert.as_deref(),
        std::time::Duration::from_secs(args.timeout),
    ) {
        Ok(()) => {
            println!("{}: ready", target.url());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn reseal(settings: &Settings) -> ExitCode {
    let wired = match wire(settings) {
        Ok(w) => w,
        Err(e) => return fail(&e),
    };
    match wired.app.reseal_secrets() {
        Ok(done) => {
            eprintln!(
                "tessera: sealed {} IdP client secret(s), {} TOTP seed(s) and {} OAuth signing key(s) again under the current key; {} already were",
                done.client_secrets, done.totp_seeds, done.signing_keys, done.current
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn rotate_keys(settings: &Settings) -> ExitCode {
    let wired = match wire(settings) {
        Ok(w) => w,
        Err(e) => return fail(&e),
    };
    match wired.app.rotate_signing_key() {
        Ok(kid) => {
            println!("{kid}");
            eprintln!(
                "tessera: the OAuth token-signing key {kid} is current; the previous one stays in /oauth/jwks until its tokens expire"
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
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
    if let Err(e) = check_data_dir(&settings.data_dir) {
        return fail(&e);
    }
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
