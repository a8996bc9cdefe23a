//! The DNS adapter of the SSO verifier: TXT lookups with hickory-resolver, through the system's
//! resolvers or one configured name server (`sso.nameserver`).

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::{Resolver, TokioResolver};
use tessera_domain::ports::DnsResolver;

/// TXT lookups on a private single-threaded runtime (the verifier calls from its own thread).
pub struct HickoryDns {
    /// `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    resolver: TokioResolver,
}

impl Drop for HickoryDns {
    /// Lets the runtime go without waiting for it: the resolver may be dropped on an async
    /// thread (a server that failed to start), where a blocking shutdown panics.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl HickoryDns {
    /// A resolver asking `nameserver`, or the system's resolvers when `None`.
    ///
    /// # Errors
    /// A message when the runtime cannot start or the system configuration cannot be read.
    pub fn new(nameserver: Option<SocketAddr>) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("DNS runtime: {e}"))?;
        let _inside = runtime.enter();
        let mut builder = match nameserver {
            Some(addr) => Resolver::builder_with_config(
                ResolverConfig::from_parts(
                    None,
                    vec![],
                    NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true),
                ),
                TokioConnectionProvider::default(),
            ),
            None => {
                Resolver::builder_tokio().map_err(|e| format!("system DNS configuration: {e}"))?
            }
        };
        let options = builder.options_mut();
        options.timeout = Duration::from_secs(2);
        options.attempts = 1;
        options.cache_size = 0;
        let resolver = builder.build();
        drop(_inside);
        Ok(Self {
            runtime: Some(runtime),
            resolver,
        })
    }
}

impl DnsResolver for HickoryDns {
    fn txt_records(&self, domain: &str) -> Result<Vec<String>, String> {
        let name = format!("{}.", domain.trim_end_matches('.'));
        let Some(runtime) = &self.runtime else {
            return Err("the DNS runtime has stopped".into());
        };
        match runtime.block_on(self.resolver.txt_lookup(name)) {
            Ok(lookup) => Ok(lookup
                .iter()
                .map(|txt| {
                    txt.txt_data()
                        .iter()
                        .map(|part| String::from_utf8_lossy(part).into_owned())
                        .collect::<String>()
                })
                .collect()),
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Used when no resolver could be set up: every lookup fails, so verifications stay pending
/// (and the log says why at startup).
pub struct NoDns(pub String);

impl DnsResolver for NoDns {
    fn txt_records(&self, _domain: &str) -> Result<Vec<String>, String> {
        Err(self.0.clone())
    }
}
