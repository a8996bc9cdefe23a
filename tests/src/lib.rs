//! The end-to-end harness: starts the real `tessera` server (the same `Application` the binary
//! runs) on a free port with a fresh database, and talks to it over HTTP.

pub mod dns;
pub mod idp;
pub mod metrics;
pub mod proxy;
mod rpc;

pub use rpc::{Via, jwt, rpc_code, rpc_ok};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use tessera_server::config::Settings;
use tessera_server::startup::Application;
use tessera_store::Backend;
use tessera_store::testing::TestDatabase;

pub use tessera_store::Backend as DbBackend;

/// A running server and what it runs on.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// The settings the server runs with.
    pub settings: Settings,
    db: Option<TestDatabase>,
    /// Where the SQLite file and the bootstrap files are.
    pub data_dir: PathBuf,
    temp_root: Option<PathBuf>,
    backend: Backend,
    stop: Option<actix_web::dev::ServerHandle>,
    thread: Option<JoinHandle<()>>,
}

fn temp_dir() -> PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tessera-e2e-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create data dir");
    dir
}

/// Test settings: a free port, quiet logs, the given database and data directory.
#[must_use]
pub fn settings_for(db: &TestDatabase, data_dir: &std::path::Path) -> Settings {
    let mut s = Settings::defaults();
    s.server.bind = "127.0.0.1:0".into();
    s.server.workers = 2;
    s.server.shutdown_timeout_secs = 1;
    s.data_dir = data_dir.to_path_buf();
    s.database.url = Some(match &db.url {
        tessera_store::DatabaseUrl::Postgres(u) => u.clone(),
        tessera_store::DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
    });
    s.database.connect_timeout_secs = 1;
    s.database.pool_size = 4;
    // Tests sign in concurrently from one address; the sign-in gate has its own test.
    s.auth.sign_in_queue = 1000;
    s.auth.sign_in_queue_per_address = 1000;
    s
}

impl TestApp {
    /// Starts a server on a fresh database of `backend`; `None` for Postgres when
    /// `TEST_DATABASE_URL` is unset.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like [`TestApp::spawn`], with settings adjusted by `adjust`.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<Self> {
        let db = TestDatabase::of(backend)?;
        let data_dir = temp_dir();
        let mut settings = settings_for(&db, &data_dir);
        adjust(&mut settings);
        // A test may move the data directory below the temporary one (to see the server create
        // it); the temporary one is what gets removed.
        let mut app = Self::start(db, data_dir.clone(), settings, backend);
        if app.settings.data_dir != data_dir && app.settings.data_dir.starts_with(&data_dir) {
            app.data_dir = app.settings.data_dir.clone();
            app.temp_root = Some(data_dir);
        }
        Some(app)
    }

    /// Starts a server with these settings on `db`.
    ///
    /// # Panics
    /// When the server fails to start.
    #[must_use]
    pub fn start(
        db: TestDatabase,
        data_dir: PathBuf,
        settings: Settings,
        backend: Backend,
    ) -> Self {
        let mut app = Self::serve(data_dir, settings, backend);
        app.db = Some(db);
        app
    }

    /// A second instance on this one's database (like two replicas behind a load balancer),
    /// with its own data directory; the first one keeps owning the database.
    #[must_use]
    pub fn another(&self) -> Self {
        let data_dir = temp_dir();
        let mut settings = self.settings.clone();
        settings.server.bind = "127.0.0.1:0".into();
        settings.data_dir = data_dir.clone();
        // Replicas share one secrets key, as they must in production.
        let key = self
            .data_dir
            .join(tessera_server::secrets::SECRETS_KEY_FILE);
        if key.exists() {
            std::fs::copy(
                &key,
                data_dir.join(tessera_server::secrets::SECRETS_KEY_FILE),
            )
            .expect("copy the secrets key");
        }
        Self::serve(data_dir, settings, self.backend)
    }

    fn serve(data_dir: PathBuf, settings: Settings, backend: Backend) -> Self {
        tessera_server::idp::install_crypto_provider();
        let (tx, rx) = mpsc::channel();
        let s = settings.clone();
        let thread = std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                match Application::build(s).await {
                    Ok(app) => {
                        tx.send(Ok((app.addr(), app.handle())))
                            .expect("harness waits");
                        app.run().await.expect("server runs");
                    }
                    Err(e) => tx.send(Err(e.to_string())).expect("harness waits"),
                }
            });
        });
        let (addr, handle) = rx
            .recv()
            .expect("server thread answers")
            .unwrap_or_else(|e| panic!("server failed to start: {e}"));
        Self {
            base: format!("http://{addr}"),
            addr,
            client: reqwest::Client::new(),
            settings,
            db: None,
            data_dir,
            temp_root: None,
            backend,
            stop: Some(handle),
            thread: Some(thread),
        }
    }

    /// The database (removed when the app is dropped).
    ///
    /// # Panics
    /// Never while the app runs.
    #[must_use]
    pub fn db(&self) -> &TestDatabase {
        self.db.as_ref().expect("a running app has its database")
    }

    /// The backend under test.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Stops the server and starts it again on the same database and data directory.
    #[must_use]
    pub fn restart(mut self) -> Self {
        self.shutdown();
        let mut settings = self.settings.clone();
        settings.server.bind = "127.0.0.1:0".into();
        let db = self.db.take().expect("a running app has its database");
        let data_dir = std::mem::take(&mut self.data_dir);
        Self::start(db, data_dir, settings, self.backend)
    }

    fn shutdown(&mut self) {
        if let Some(handle) = self.stop.take() {
            // The stop command is sent at once; the returned future only awaits completion,
            // which joining the thread does.
            drop(handle.stop(false));
        }
        if let Some(thread) = self.thread.take() {
            let _joined = thread.join();
        }
    }

    /// `base` + `path`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET `path`, returning the status and the JSON body (`Null` when the body is not JSON).
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Creates a child account of the caller's account; returns the creation's `result`
    /// (the child's id and its owner's credentials).
    pub async fn child_account(&self, owner: &str) -> serde_json::Value {
        let (status, body) = self
            .call(
                "POST",
                "/v1/accounts",
                Some(owner),
                Some(serde_json::json!({"name": "Child", "email": "child@example.com"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["result"].clone()
    }

    /// Publishes the TXT record of SSO connector `id` of account 1 for `domain` on `dns`, waits
    /// (10 s at most) until the verifier has marked it verified, and enables it.
    ///
    /// # Panics
    /// When it is not verified in time or cannot be enabled.
    pub async fn verify_and_enable_sso(
        &self,
        owner: &str,
        dns: &dns::DnsResponder,
        id: &str,
        domain: &str,
    ) {
        dns.set_txt(domain, &[&format!("tessera_sso={id}")]);
        let one = format!("/v1/accounts/1/sso_connectors/{id}");
        let mut verified = false;
        for _ in 0..100 {
            let (_, c) = self.call("GET", &one, Some(owner), None).await;
            if c["result"]["verification"]["status"] == "verified" {
                verified = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(verified, "{domain} was not verified in 10 s");
        let (status, c) = self
            .call(
                "PATCH",
                &one,
                Some(owner),
                Some(serde_json::json!({"enabled": true})),
            )
            .await;
        assert_eq!(
            (status, &c["result"]["enabled"]),
            (200, &serde_json::json!(true)),
            "{c}"
        );
    }

    /// The id of account 1's permission group called `name`.
    pub async fn permission_group(&self, token: &str, name: &str) -> String {
        let path = format!(
            "/v1/accounts/1/iam/permission_groups?name={}",
            name.replace(' ', "%20")
        );
        let (status, body) = self.call("GET", &path, Some(token), None).await;
        assert_eq!(status, 200, "{body}");
        body["result"][0]["id"]
            .as_str()
            .expect("a permission group")
            .to_owned()
    }

    /// Creates a resource group of account 1 naming `objects` (object keys, or `*`); returns
    /// its id.
    pub async fn resource_group(&self, token: &str, objects: &[&str]) -> String {
        let (status, body) = self
            .call(
                "POST",
                "/v1/accounts/1/iam/resource_groups",
                Some(token),
                Some(serde_json::json!({
                    "name": format!("rg {}", objects.join(",")),
                    "scope": {
                        "key": "com.tessera.api.account.1",
                        "objects": objects.iter().map(|o| serde_json::json!({"key": o})).collect::<Vec<_>>(),
                    },
                })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["result"]["id"].as_str().expect("an id").to_owned()
    }

    /// Creates a user group of account 1 with one policy (`allow` or `deny` permission group
    /// `pg` on resource group `rg`) and puts `member` in it; returns the group's and the
    /// policy's ids.
    pub async fn group_with_policy(
        &self,
        token: &str,
        access: &str,
        pg: &str,
        rg: &str,
        member: i64,
    ) -> (String, String) {
        let (status, body) = self
            .call(
                "POST",
                "/v1/accounts/1/iam/user_groups",
                Some(token),
                Some(serde_json::json!({
                    "name": format!("{access} group {pg} {rg}"),
                    "policies": [{"access": access, "permission_groups": [{"id": pg}], "resource_groups": [{"id": rg}]}],
                })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let group = body["result"]["id"].as_str().expect("an id").to_owned();
        let policy = body["result"]["policies"][0]["id"]
            .as_str()
            .expect("a policy id")
            .to_owned();
        let (status, body) = self
            .call(
                "POST",
                &format!("/v1/accounts/1/iam/user_groups/{group}/members"),
                Some(token),
                Some(serde_json::json!([{"id": member.to_string()}])),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        (group, policy)
    }

    /// `GET path` with no credentials.
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// `GET path` with no credentials; the body as text (the status must be 200).
    pub async fn get_text(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status().as_u16(), 200, "GET {path}");
        res.text().await.expect("a text body")
    }
}

/// A password every test user gets.
pub const PASSWORD: &str = "Str0ng-Pass!";

/// Seconds since the Unix epoch.
///
/// # Panics
/// When the clock is before 1970.
#[must_use]
pub fn unix_now() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("seconds fit")
}

impl TestApp {
    /// The bootstrap file's JSON.
    ///
    /// # Panics
    /// When the server did not write it.
    #[must_use]
    pub fn initial_credentials(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.data_dir.join("initial-credentials.json"))
            .expect("initial-credentials.json");
        serde_json::from_str(&text).expect("JSON")
    }

    /// Sends a request with an optional bearer token and JSON body; returns status and JSON.
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Sends a request with an optional bearer token, extra headers and JSON body; returns the
    /// raw response (for its headers).
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request sent")
    }

    /// The audit events of account 1 with `action`, newest first, read by `token`.
    pub async fn audit_events(&self, token: &str, action: &str) -> Vec<serde_json::Value> {
        let (status, body) = self
            .call(
                "GET",
                &format!("/v1/accounts/1/audit_logs?per_page=1000&action={action}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["result"].as_array().expect("events").clone()
    }

    /// A password sign-in in account 1: the status and the answer.
    pub async fn sign_in(&self, login: &str, password: &str) -> (u16, serde_json::Value) {
        self.call(
            "POST",
            "/v1/sessions",
            None,
            Some(serde_json::json!({"account_id": 1, "login": login, "password": password})),
        )
        .await
    }

    /// Signs in; returns the session token.
    ///
    /// # Panics
    /// When the sign-in fails.
    pub async fn login(&self, account: i64, login: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                "POST",
                "/v1/sessions",
                None,
                Some(serde_json::json!({"account_id": account, "login": login, "password": password})),
            )
            .await;
        assert_eq!(status, 200, "sign-in of {login}: {body}");
        body["result"]["token"].as_str().expect("token").to_owned()
    }

    /// A session of the bootstrap owner.
    pub async fn owner(&self) -> String {
        let creds = self.initial_credentials();
        let password = creds["owner"]["password"]
            .as_str()
            .expect("password")
            .to_owned();
        self.login(1, "admin", &password).await
    }

    /// Creates a user of account 1 with [`PASSWORD`] and these role names; returns its id.
    ///
    /// # Panics
    /// When the creation fails.
    pub async fn create_user(&self, token: &str, login: &str, roles: &[&str]) -> i64 {
        let (status, body) = self
            .call(
                "POST",
                "/v1/accounts/1/users",
                Some(token),
                Some(serde_json::json!({
                    "login": login,
                    "password": PASSWORD,
                    "email": format!("{login}@example.com"),
                    "roles": roles,
                })),
            )
            .await;
        assert_eq!(status, 200, "create {login}: {body}");
        body["result"]["id"].as_i64().expect("id")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown();
        if let Some(root) = &self.temp_root {
            let _removed = std::fs::remove_dir_all(root);
        }
        if !self.data_dir.as_os_str().is_empty() {
            let _removed = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// Declares each listed `async fn name(app: TestApp)` twice, in modules `sqlite` and `postgres`,
/// each on a fresh server and database. The Postgres copies skip (and say so) when
/// `TEST_DATABASE_URL` is unset.
#[macro_export]
macro_rules! e2e {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let app = $crate::TestApp::spawn($crate::DbBackend::Sqlite).await.expect("sqlite");
                    super::$name(app).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(app) = $crate::TestApp::spawn($crate::DbBackend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )+
        }
    };
}
