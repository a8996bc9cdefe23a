//! The Dockerfile and docker-compose.yml, checked without a container engine: the files they
//! name exist, ports match the configured bind port, their environment keys are settings, every
//! `tessera` command they run parses as the binary parses it, and README's compose commands
//! name a real service and its data volume. The load balancer in front of the instances, and
//! its nginx configuration: `balancer`.

mod balancer;
mod nginx;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde_norway::Value;
use tessera_server::cli::{Cli, Command};
use tessera_server::config::Settings;
use tessera_server::credentials::INITIAL_CREDENTIALS;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/server is two levels down")
        .to_path_buf()
}

fn read(name: &str) -> String {
    std::fs::read_to_string(repo_root().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The Dockerfile's instructions of the final stage and the whole file's, continuation lines
/// joined: `(INSTRUCTION, arguments)`.
struct Dockerfile {
    all: Vec<(String, String)>,
    last_stage: Vec<(String, String)>,
}

impl Dockerfile {
    fn parse(text: &str) -> Self {
        let mut all = Vec::new();
        let mut pending = String::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || (line.is_empty() && pending.is_empty()) {
                continue;
            }
            if let Some(head) = line.strip_suffix('\\') {
                pending.push_str(head);
                pending.push(' ');
                continue;
            }
            pending.push_str(line);
            let (word, args) = pending.split_once(' ').unwrap_or((&pending, ""));
            all.push((word.to_ascii_uppercase(), args.trim().to_owned()));
            pending.clear();
        }
        let start = all.iter().rposition(|(w, _)| w == "FROM").expect("a FROM");
        let last_stage = all[start..].to_vec();
        Self { all, last_stage }
    }

    fn args(&self, instruction: &str) -> Vec<&str> {
        self.last_stage
            .iter()
            .filter(|(w, _)| w == instruction)
            .map(|(_, a)| a.as_str())
            .collect()
    }

    /// `ENV K=V K2=V2` of the final stage.
    fn env(&self) -> HashMap<String, String> {
        self.args("ENV")
            .iter()
            .flat_map(|a| a.split_whitespace())
            .map(|kv| {
                let (k, v) = kv.split_once('=').expect("ENV in K=V form");
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    /// An exec-form instruction's JSON array.
    fn exec_form(args: &str) -> Vec<String> {
        serde_json::from_str(args).unwrap_or_else(|e| panic!("not an exec form '{args}': {e}"))
    }
}

/// The arguments after `tessera` parse as the binary parses them; the command they select.
fn tessera_command(argv: &[String]) -> Option<Command> {
    assert_eq!(
        argv.first().map(String::as_str),
        Some("tessera"),
        "{argv:?}"
    );
    Cli::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("`{}` does not parse: {e}", argv.join(" ")))
        .command
}

/// Settings as the container sees them: compiled-in defaults (there is no config/ in the image)
/// and this environment. Unknown keys are refused.
fn settings(env: HashMap<String, String>) -> Settings {
    Settings::load_from(Path::new("/nonexistent-config"), env)
        .unwrap_or_else(|e| panic!("the deployment's environment: {e}"))
}

#[test]
fn the_dockerfile_runs_the_binary_and_checks_its_health() {
    let docker = Dockerfile::parse(&read("Dockerfile"));
    let build = docker
        .all
        .iter()
        .find(|(w, a)| w == "RUN" && a.contains("cargo build"))
        .expect("a cargo build");
    assert!(
        build.1.contains(&format!("-p {}", env!("CARGO_PKG_NAME"))),
        "{build:?}"
    );
    let copy = docker.args("COPY");
    let binary = Path::new(env!("CARGO_BIN_EXE_tessera"))
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        copy.iter()
            .any(|c| c.contains(&format!("target/release/{binary} /usr/local/bin/{binary}"))),
        "{copy:?}"
    );

    let mut argv = Dockerfile::exec_form(docker.args("ENTRYPOINT")[0]);
    argv.extend(Dockerfile::exec_form(docker.args("CMD")[0]));
    assert!(matches!(tessera_command(&argv), Some(Command::Serve(_))));

    let health = docker.args("HEALTHCHECK");
    assert_eq!(health.len(), 1, "one HEALTHCHECK");
    let (_, cmd) = health[0]
        .split_once("CMD ")
        .expect("HEALTHCHECK … CMD [...]");
    let argv = Dockerfile::exec_form(cmd);
    assert!(matches!(
        tessera_command(&argv),
        Some(Command::Healthcheck(_))
    ));

    let s = settings(docker.env());
    let port = s.bind_addr().unwrap().port();
    assert_eq!(docker.args("EXPOSE"), [port.to_string()]);
    let data_dir = s.data_dir.to_string_lossy().into_owned();
    assert!(
        docker
            .args("RUN")
            .iter()
            .any(|r| r.contains(&format!("mkdir {data_dir}"))),
        "the image creates {data_dir}"
    );
}

/// The compose file, merge keys (`<<: *tessera`) applied.
fn compose() -> Value {
    let mut doc: Value = serde_norway::from_str(&read("docker-compose.yml")).expect("YAML");
    doc.apply_merge().expect("merge keys");
    doc
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .map(|x| x.as_str().expect("a string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The services built from this repository: `name → (settings, service)`.
fn tessera_services(doc: &Value) -> Vec<(String, Settings, Value)> {
    let docker = Dockerfile::parse(&read("Dockerfile"));
    doc["services"]
        .as_mapping()
        .expect("services")
        .iter()
        .filter(|(_, svc)| svc.get("build").is_some())
        .map(|(name, svc)| {
            let mut env = docker.env();
            for (k, v) in svc["environment"].as_mapping().expect("a map environment") {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => serde_norway::to_string(other).unwrap().trim().to_owned(),
                };
                env.insert(k.as_str().expect("a key").to_owned(), v);
            }
            (
                name.as_str().expect("a name").to_owned(),
                settings(env),
                svc.clone(),
            )
        })
        .collect()
}

#[test]
fn every_tessera_service_builds_here_listens_where_exposed_and_checks_its_health() {
    let doc = compose();
    let services = tessera_services(&doc);
    assert!(services.len() >= 2, "two instances");
    let volumes = doc["volumes"].as_mapping().expect("named volumes");
    for (name, settings, svc) in &services {
        let context = match &svc["build"] {
            Value::String(dir) => repo_root().join(dir),
            other => repo_root().join(other["context"].as_str().expect("build.context")),
        };
        assert!(
            context.join("Dockerfile").is_file(),
            "{name}: build context"
        );

        // Reached by the balancer at the port it listens on (balancer.rs checks the balancer
        // names it there).
        let port = settings.bind_addr().unwrap().port();
        assert_eq!(
            str_list(&svc["expose"]),
            [port.to_string()],
            "{name} exposes server.bind's port"
        );

        let test = str_list(&svc["healthcheck"]["test"]);
        assert_eq!(
            test.first().map(String::as_str),
            Some("CMD"),
            "{name}: {test:?}"
        );
        assert!(
            matches!(tessera_command(&test[1..]), Some(Command::Healthcheck(_))),
            "{name}: {test:?}"
        );

        let data_dir = settings.data_dir.to_string_lossy().into_owned();
        let mounts = str_list(&svc["volumes"]);
        let data = mounts
            .iter()
            .find_map(|m| m.split_once(':').filter(|(_, at)| *at == data_dir))
            .unwrap_or_else(|| panic!("{name}: nothing mounted at {data_dir}: {mounts:?}"));
        assert!(
            volumes.contains_key(data.0),
            "{name}: {} is a named volume",
            data.0
        );

        for dep in svc["depends_on"].as_mapping().into_iter().flatten() {
            assert!(
                doc["services"].get(dep.0).is_some(),
                "{name} depends on {:?}",
                dep.0
            );
        }
    }
}

#[test]
fn the_readme_reads_the_credentials_from_a_real_service_and_its_data_volume() {
    let doc = compose();
    let services = tessera_services(&doc);
    let readme = read("README.md");
    let commands: Vec<&str> = readme
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("docker compose exec") || l.starts_with("docker compose cp"))
        .collect();
    assert!(commands.len() >= 2, "{commands:?}");
    for line in commands {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (service, path) = match words[2] {
            "exec" => (words[3], *words.last().unwrap()),
            _ => {
                let (service, path) = words[3].split_once(':').expect("service:path");
                (service, path)
            }
        };
        let (_, settings, _) = services
            .iter()
            .find(|(n, _, _)| n == service)
            .unwrap_or_else(|| panic!("{line}: no service {service}"));
        assert_eq!(
            Path::new(path),
            settings.data_dir.join(INITIAL_CREDENTIALS),
            "{line}"
        );
    }
}
