//! Real peers nobody here wrote: nginx as the reverse proxy in front of Tessera, Chromium
//! running Swagger UI under Tessera's Content-Security-Policy, and Chromium driven through
//! chromedriver (WebDriver, `fantoccini`) as a person uses Swagger UI. Each test needs its tools
//! on the PATH; without them the test says so and passes, unless `TESSERA_REQUIRE_PEERS=1` (CI
//! sets it, after installing them from Debian's packages in `.ci/run`), which makes a missing
//! tool fail.

use std::io::Write;
use std::net::{IpAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tessera_tests::{DbBackend, TestApp};

/// The tool's path, or `None` (after saying so) when it is missing and not required.
pub(crate) fn tool(names: &[&str]) -> Option<PathBuf> {
    let found = names.iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .chain([PathBuf::from("/usr/sbin")])
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        assert!(
            std::env::var("TESSERA_REQUIRE_PEERS").as_deref() != Ok("1"),
            "{names:?} is required (TESSERA_REQUIRE_PEERS=1) but not installed"
        );
        eprintln!("peers: skipped, {names:?} is not installed");
    }
    found
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _killed = self.child.kill();
        let _waited = self.child.wait();
        let _removed = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_nginx(binary: &PathBuf, port: u16, upstream: &str) -> Nginx {
    run_nginx(
        binary,
        port,
        &format!(
            "server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
               proxy_pass http://{upstream};\n\
               proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
               proxy_set_header Host $host;\n    }}\n  }}\n"
        ),
    )
}

/// Runs nginx (in the foreground, stopped on drop) with `http` as the body of its `http`
/// block, and waits until it listens on `port`.
pub(crate) fn run_nginx(binary: &PathBuf, port: u16, http: &str) -> Nginx {
    let dir = std::env::temp_dir().join(format!("tessera-nginx-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("nginx.conf");
    let d = dir.display();
    let mut f = std::fs::File::create(&conf).unwrap();
    write!(
        f,
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
           {http}\n}}\n"
    )
    .unwrap();
    let child = Command::new(binary)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Nginx { child, dir }
}

impl Nginx {
    /// nginx's error log so far (for a failing assertion's message).
    pub(crate) fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

/// Behind real nginx (`proxy_add_x_forwarded_for`), a client connecting from 127.0.0.2 that
/// sends its own `X-Forwarded-For` is recorded as 127.0.0.2, never as what it sent.
#[tokio::test]
async fn behind_nginx_the_client_cannot_choose_its_address() {
    let Some(nginx) = tool(&["nginx"]) else {
        return;
    };
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| {
        s.server.trust_forwarded_for = true;
        s.server.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await
    .unwrap();
    let owner = app.owner().await;
    let port = free_port();
    let _proxy = start_nginx(&nginx, port, &app.addr.to_string());
    let client = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse::<IpAddr>().unwrap()))
        .build()
        .unwrap();
    let res = client
        .post(format!("http://127.0.0.1:{port}/v1/sessions"))
        .header("x-forwarded-for", "6.6.6.6")
        .json(&json!({"account_id": 1, "login": "victim3", "password": "Wr0ng-Pass!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "through nginx");
    let addresses: Vec<Value> = app
        .audit_events(&owner, "auth.failure")
        .await
        .into_iter()
        .filter(|e| e["actor"]["id"] == "victim3")
        .map(|e| e["client_ip"].clone())
        .collect();
    assert_eq!(addresses, vec![json!("127.0.0.2")]);
}

/// Swagger UI renders in Chromium with no Content-Security-Policy violation: every script and
/// style it runs is one Tessera serves.
#[tokio::test]
async fn swagger_ui_runs_under_its_content_security_policy_in_chromium() {
    let Some(chromium) = tool(&["chromium", "chromium-browser", "google-chrome"]) else {
        return;
    };
    let app = TestApp::spawn(DbBackend::Sqlite).await.unwrap();
    let profile = app.data_dir.join("chromium-profile");
    let url = app.url("/docs/");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(chromium)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=10000",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .output()
            .expect("chromium runs")
    })
    .await
    .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        dom.contains("/v1/accounts/{account_id}/users") && dom.contains("/platform_api/AddSubUser"),
        "Swagger UI rendered the operations: {}",
        &dom[..dom.len().min(500)]
    );
    let violations: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Content Security Policy"))
        .collect();
    assert!(violations.is_empty(), "{violations:#?}");
}

/// chromedriver on a port of its own, stopped on drop.
pub(crate) struct ChromeDriver {
    child: Child,
    pub(crate) url: String,
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _killed = self.child.kill();
        let _waited = self.child.wait();
    }
}

pub(crate) fn start_chromedriver(binary: &PathBuf) -> ChromeDriver {
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ChromeDriver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// A WebDriver session of headless Chromium (`chromium`, through `driver`) with a profile of
/// its own in `profile`.
pub(crate) async fn connect_browser(
    chromium: &std::path::Path,
    driver: &ChromeDriver,
    profile: &std::path::Path,
) -> fantoccini::Client {
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=1280,2000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!("an object")
    };
    fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

/// The XPath of Swagger UI's block for the operation `method path`.
fn opblock(method: &str, path: &str) -> String {
    format!(
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' opblock-{method} ') \
         and .//*[@data-path='{path}']]"
    )
}

/// What Swagger UI showed for a call.
struct Shown {
    /// The status code.
    status: String,
    /// The response body.
    body: Value,
    /// The request, as the curl command it offers.
    curl: String,
}

/// Swagger UI's block for `method path`, after "Try it out", `fill`, and "Execute": the status
/// and the JSON body the page shows.
async fn try_it_out(
    browser: &fantoccini::Client,
    method: &str,
    path: &str,
    fill: &[(&str, &str)],
) -> Result<Shown, String> {
    use fantoccini::Locator::{Css, XPath};
    let block_xpath = opblock(method, path);
    let step = |what: &'static str| move |e: fantoccini::error::CmdError| format!("{what}: {e}");
    let block = browser
        .wait()
        .for_element(XPath(&block_xpath))
        .await
        .map_err(step("the operation is listed"))?;
    block
        .find(Css(".opblock-summary-control"))
        .await
        .map_err(step("its summary"))?
        .click()
        .await
        .map_err(step("expanding it"))?;
    browser
        .wait()
        .for_element(XPath(&format!(
            "{block_xpath}//button[contains(@class,'try-out__btn')]"
        )))
        .await
        .map_err(step("its Try it out button"))?
        .click()
        .await
        .map_err(step("clicking Try it out"))?;
    for (param, value) in fill {
        block
            .find(Css(&format!("tr[data-param-name='{param}'] input")))
            .await
            .map_err(step("a parameter's input"))?
            .send_keys(value)
            .await
            .map_err(step("typing a parameter"))?;
    }
    browser
        .wait()
        .for_element(XPath(&format!(
            "{block_xpath}//button[contains(@class,'execute')]"
        )))
        .await
        .map_err(step("its Execute button"))?
        .click()
        .await
        .map_err(step("clicking Execute"))?;
    let live = format!("{block_xpath}//table[contains(@class,'live-responses-table')]");
    let status = browser
        .wait()
        .for_element(XPath(&format!(
            "{live}//tbody//td[contains(@class,'response-col_status')]"
        )))
        .await
        .map_err(step("the live response's status"))?
        .text()
        .await
        .map_err(step("reading the status"))?;
    let body = browser
        .find(XPath(&format!(
            "{live}//div[contains(@class,'highlight-code')]//pre"
        )))
        .await
        .map_err(step("the live response's body"))?
        .text()
        .await
        .map_err(step("reading the body"))?;
    let json = serde_json::from_str(&body).map_err(|e| format!("the body shown {body:?}: {e}"))?;
    let curl = browser
        .find(XPath(&format!(
            "{block_xpath}//div[contains(@class,'curl-command')]"
        )))
        .await
        .map_err(step("the request's curl command"))?
        .text()
        .await
        .map_err(step("reading the curl command"))?;
    Ok(Shown {
        status: status.trim().to_owned(),
        body: json,
        curl,
    })
}

/// Signs Swagger UI in with `token` (the bearer scheme), then runs list-users and
/// `GetSubUsers` through "Try it out"; returns what the page showed for each.
async fn drive_swagger_ui(
    browser: &fantoccini::Client,
    docs: &str,
    token: &str,
) -> Result<[Shown; 2], String> {
    use fantoccini::Locator::{Css, XPath};
    let step = |what: &'static str| move |e: fantoccini::error::CmdError| format!("{what}: {e}");
    browser.goto(docs).await.map_err(step("opening /docs/"))?;
    browser
        .wait()
        .for_element(Css(".scheme-container button.authorize"))
        .await
        .map_err(step("the Authorize button"))?
        .click()
        .await
        .map_err(step("clicking Authorize"))?;
    browser
        .wait()
        .for_element(Css("#auth-bearer-value"))
        .await
        .map_err(step("the bearer input"))?
        .send_keys(token)
        .await
        .map_err(step("typing the token"))?;
    browser
        .find(XPath(
            "//input[@id='auth-bearer-value']/ancestor::form//button[@type='submit']",
        ))
        .await
        .map_err(step("the scheme's Authorize button"))?
        .click()
        .await
        .map_err(step("authorizing"))?;
    browser
        .wait()
        .for_element(Css(".modal-ux button.btn-done"))
        .await
        .map_err(step("the Close button"))?
        .click()
        .await
        .map_err(step("closing the dialog"))?;
    let users = try_it_out(
        browser,
        "get",
        "/v1/accounts/{account_id}/users",
        &[("account_id", "1")],
    )
    .await?;
    let subusers = try_it_out(browser, "post", "/platform_api/GetSubUsers", &[]).await?;
    Ok([users, subusers])
}

/// Swagger UI works in a real browser: Chromium (through chromedriver) opens `/docs/`,
/// authorizes with the bootstrap access key, and "Try it out" on list-users and on the method
/// `GetSubUsers` shows the bootstrap owner in each answer.
#[tokio::test]
async fn swagger_ui_tries_out_rest_and_method_calls_in_chromium() {
    let Some(chromium) = tool(&["chromium", "chromium-browser", "google-chrome"]) else {
        return;
    };
    let Some(chromedriver) = tool(&["chromedriver"]) else {
        return;
    };
    let app = TestApp::spawn(DbBackend::Sqlite).await.unwrap();
    let token = app.initial_credentials()["access_key"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let driver = start_chromedriver(&chromedriver);
    let profile = app.data_dir.join("chromium-webdriver-profile");
    let browser = connect_browser(&chromium, &driver, &profile).await;
    let outcome = drive_swagger_ui(&browser, &app.url("/docs/"), &token).await;
    let page = browser.source().await.unwrap_or_default();
    let _closed = browser.close().await;
    let [users, method] = outcome
        .unwrap_or_else(|e| panic!("{e}\npage: {}", &page[page.len().saturating_sub(3000)..]));
    let curls = format!("{}\n{}", users.curl, method.curl);
    let (users_status, method_status) = (users.status, method.status);
    let (users, method) = (users.body, method.body);
    assert_eq!(
        (users_status.as_str(), method_status.as_str()),
        ("200", "200"),
        "{curls}"
    );
    assert_eq!(users["success"], true, "{users}");
    assert!(
        users["result"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["login"] == "admin"),
        "{users}"
    );
    assert!(method.get("error").is_none(), "{method}\n{curls}");
    assert!(
        method["result"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["subuser_name"] == "admin"),
        "{method}"
    );
    assert_eq!(method["count"], method["result"].as_array().unwrap().len());
}
