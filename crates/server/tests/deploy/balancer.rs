//! The balancer of docker-compose.yml: nginx with deploy/nginx.conf in front of every tessera
//! instance, round robin, retrying the next instance; the instances share one database and
//! believe the balancer's X-Forwarded-For, and no one else's.

use std::net::IpAddr;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use ipnet::Ipv4Net;
use serde_norway::Value;
use tessera_server::config::Settings;
use tessera_store::DatabaseUrl;

use super::nginx::{self, Directive, all, one};
use super::{compose, read, repo_root, str_list, tessera_services};

/// The one service running nginx (by its image): `(name, service)`.
fn balancer(doc: &Value) -> (String, Value) {
    let found: Vec<(String, Value)> = doc["services"]
        .as_mapping()
        .expect("services")
        .iter()
        .filter(|(_, svc)| {
            svc["image"]
                .as_str()
                .is_some_and(|i| i.starts_with("nginx"))
        })
        .map(|(name, svc)| (name.as_str().expect("a name").to_owned(), svc.clone()))
        .collect();
    assert_eq!(found.len(), 1, "one nginx service: {found:?}");
    found.into_iter().next().unwrap()
}

/// The configuration file the balancer mounts into nginx's `conf.d` (inside the image's `http`
/// block), parsed.
fn balancer_config(svc: &Value) -> Vec<Directive> {
    let mounts = str_list(&svc["volumes"]);
    let (file, target) = mounts
        .iter()
        .find_map(|m| {
            let mut parts = m.split(':');
            let (file, target) = (parts.next()?, parts.next()?);
            target.starts_with("/etc/nginx/").then_some((file, target))
        })
        .unwrap_or_else(|| panic!("the balancer mounts no configuration: {mounts:?}"));
    assert!(
        target.starts_with("/etc/nginx/conf.d/") && target.ends_with(".conf"),
        "{target}: the image includes conf.d/*.conf in its http block"
    );
    let file = file.trim_start_matches("./");
    assert!(repo_root().join(file).is_file(), "{file} exists");
    nginx::parse(&read(file))
}

/// `host:port` of an upstream `server` line.
fn host_port(server: &Directive) -> (String, u16) {
    let (host, port) = server.args[0]
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{:?}: host:port", server.args));
    (host.to_owned(), port.parse().expect("a port"))
}

fn header_values<'a>(location: &'a [Directive], header: &str) -> Vec<&'a str> {
    all(location, "proxy_set_header")
        .into_iter()
        .filter(|d| d.args[0].eq_ignore_ascii_case(header))
        .map(|d| d.args[1].as_str())
        .collect()
}

#[test]
fn the_balancer_sends_every_request_round_robin_to_the_instances_and_retries_the_next() {
    let doc = compose();
    let (name, svc) = balancer(&doc);
    let conf = balancer_config(&svc);
    let instances = tessera_services(&doc);

    let server = one(&conf, "server");
    let location = all(&server.block, "location")
        .into_iter()
        .find(|l| l.args == ["/"])
        .expect("location /");
    let pass = &one(&location.block, "proxy_pass").args[0];
    let upstream_name = pass.strip_prefix("http://").expect("proxy_pass http://…");
    let upstream = all(&conf, "upstream")
        .into_iter()
        .find(|u| u.args == [upstream_name])
        .unwrap_or_else(|| panic!("no upstream {upstream_name}"));

    // Every instance, at the port it listens on, once; nothing else.
    let mut servers: Vec<(String, u16)> = all(&upstream.block, "server")
        .into_iter()
        .map(host_port)
        .collect();
    let mut expected: Vec<(String, u16)> = instances
        .iter()
        .map(|(n, s, _)| (n.clone(), s.bind_addr().unwrap().port()))
        .collect();
    servers.sort();
    expected.sort();
    assert_eq!(servers, expected, "the upstream names every instance");
    for s in all(&upstream.block, "server") {
        for param in &s.args[1..] {
            assert!(
                !matches!(param.as_str(), "down" | "backup" | "max_fails=0"),
                "{:?}: every instance takes its share and is checked",
                s.args
            );
        }
    }
    // Round robin: nginx's default, when no other method is named.
    for method in ["ip_hash", "hash", "least_conn", "random", "least_time"] {
        assert!(all(&upstream.block, method).is_empty(), "{method}");
    }
    // Kept-alive upstream connections need HTTP/1.1 and no `Connection: close` passed on.
    if !all(&upstream.block, "keepalive").is_empty() {
        assert_eq!(one(&location.block, "proxy_http_version").args, ["1.1"]);
        assert_eq!(header_values(&location.block, "Connection"), [""]);
    }

    assert_eq!(
        header_values(&location.block, "X-Forwarded-For"),
        ["$proxy_add_x_forwarded_for"],
        "the client's address is appended for the instances"
    );
    let retry = &one(&location.block, "proxy_next_upstream").args;
    for condition in ["error", "timeout", "http_502", "http_503", "http_504"] {
        assert!(
            retry.iter().any(|a| a == condition),
            "retries on {condition}: {retry:?}"
        );
    }
    assert!(
        !retry.iter().any(|a| a == "non_idempotent"),
        "a POST that reached an instance is never sent to another: {retry:?}"
    );

    let listen = &one(&server.block, "listen").args[0];
    let published = str_list(&svc["ports"]);
    assert!(
        published
            .iter()
            .any(|p| p.rsplit(':').next() == Some(listen)),
        "{name} publishes its listen port {listen}: {published:?}"
    );
    let depends = svc["depends_on"].as_mapping().expect("depends_on");
    for (instance, _, _) in &instances {
        assert_eq!(
            depends
                .get(instance.as_str())
                .and_then(|d| d["condition"].as_str()),
            Some("service_healthy"),
            "{name} starts once {instance} answers /readyz"
        );
    }
}

#[test]
fn the_instances_share_one_database_and_one_data_volume() {
    let doc = compose();
    let instances = tessera_services(&doc);
    let (first, settings, _) = &instances[0];
    let url = settings.database_url().unwrap();
    let DatabaseUrl::Postgres(pg) = &url else {
        panic!("{first}: instances share Postgres, not an SQLite file each: {url:?}");
    };
    let host = pg
        .split_once('@')
        .map_or(pg.as_str(), |(_, rest)| rest)
        .split([':', '/'])
        .next()
        .unwrap();
    let database = &doc["services"][host];
    assert!(
        database["healthcheck"]["test"].as_sequence().is_some(),
        "{host} is a service with a healthcheck"
    );
    let data = |svc: &Value, s: &Settings| {
        let dir = s.data_dir.to_string_lossy().into_owned();
        str_list(&svc["volumes"])
            .iter()
            .find_map(|m| {
                m.split_once(':')
                    .filter(|(_, at)| *at == dir)
                    .map(|(v, _)| v.to_owned())
            })
            .expect("a data volume")
    };
    for (name, s, svc) in &instances {
        assert_eq!(
            s.database_url().unwrap(),
            url,
            "{name} shares {first}'s database"
        );
        assert_eq!(
            svc["depends_on"][host]["condition"].as_str(),
            Some("service_healthy"),
            "{name} waits for {host}"
        );
        assert_eq!(data(svc, s), data(&instances[0].2, settings), "{name}");
    }
}

/// `services.<svc>.networks.<net>.ipv4_address`, with the network's name.
fn fixed_address(name: &str, svc: &Value) -> (String, IpAddr) {
    let networks = svc["networks"].as_mapping().unwrap_or_else(|| {
        panic!("{name}: networks with a fixed ipv4_address");
    });
    let (net, cfg) = networks.iter().next().expect("a network");
    let ip = cfg["ipv4_address"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: ipv4_address"))
        .parse()
        .expect("an address");
    (net.as_str().unwrap().to_owned(), ip)
}

fn forwarded_for(value: &'static str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        HeaderName::from_static("x-forwarded-for"),
        HeaderValue::from_static(value),
    );
    h
}

#[test]
fn the_instances_believe_the_balancer_s_forwarded_for_and_no_one_else_s() {
    let doc = compose();
    let (name, svc) = balancer(&doc);
    let (net, lb_ip) = fixed_address(&name, &svc);
    let ipam = &doc["networks"][net.as_str()]["ipam"]["config"][0];
    let subnet: Ipv4Net = ipam["subnet"].as_str().expect("a subnet").parse().unwrap();
    // Addresses docker hands out (to services without a fixed one) come from ip_range, away
    // from the fixed ones.
    let dynamic: Ipv4Net = ipam["ip_range"]
        .as_str()
        .expect("an ip_range")
        .parse()
        .unwrap();
    let in_net = |ip: IpAddr| matches!(ip, IpAddr::V4(v4) if subnet.contains(&v4));
    let fixed = |ip: IpAddr| !matches!(ip, IpAddr::V4(v4) if dynamic.contains(&v4));
    assert!(
        in_net(lb_ip) && fixed(lb_ip),
        "{name}: {lb_ip} in {subnet}, outside {dynamic}"
    );
    let other_container = IpAddr::V4(dynamic.hosts().next().unwrap());

    let mut addresses = vec![lb_ip];
    for (instance, settings, svc) in tessera_services(&doc) {
        let (n, ip) = fixed_address(&instance, &svc);
        assert_eq!(n, net, "{instance} is on {name}'s network");
        assert!(in_net(ip) && fixed(ip), "{instance}: {ip}");
        addresses.push(ip);
        assert!(
            svc.get("ports").is_none(),
            "{instance} is reached through {name} only"
        );

        let client = settings.client_address().unwrap();
        assert_eq!(
            client.resolve(Some(lb_ip), &forwarded_for("203.0.113.7")),
            Some("203.0.113.7".parse().unwrap()),
            "{instance} takes the client address {name} appended"
        );
        assert_eq!(
            client.resolve(Some(lb_ip), &forwarded_for("203.0.113.7, 198.51.100.9")),
            Some("198.51.100.9".parse().unwrap()),
            "{instance}: the entry {name} appended, not what the client wrote before it"
        );
        assert_eq!(
            client.resolve(Some(other_container), &forwarded_for("203.0.113.7")),
            Some(other_container),
            "{instance} ignores the header from anyone but {name}"
        );
    }
    let count = addresses.len();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), count, "every fixed address is different");
}

/// `35s`, `1m30s`, `2m` in seconds.
fn compose_duration(text: &str) -> u64 {
    let mut total = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().unwrap_or_else(|_| panic!("{text}"));
        number.clear();
        total += match c {
            's' => n,
            'm' => n * 60,
            'h' => n * 3600,
            _ => panic!("{text}: unit {c}"),
        };
    }
    assert!(number.is_empty(), "{text}: a unit");
    total
}

#[test]
fn a_stopped_instance_drains_before_docker_kills_it() {
    assert_eq!(compose_duration("1m30s"), 90);
    for (name, settings, svc) in tessera_services(&compose()) {
        // docker stop sends SIGTERM, then SIGKILL after stop_grace_period (10 s by default).
        let grace = svc["stop_grace_period"]
            .as_str()
            .map_or(10, compose_duration);
        assert!(
            grace > settings.server.shutdown_timeout_secs,
            "{name}: stop_grace_period {grace} s must exceed server.shutdown_timeout_secs {}",
            settings.server.shutdown_timeout_secs
        );
    }
}
