//! The sign-in page and the session cookie: `/signin` and its assets under their policy, the
//! cookie set only when asked for, accepted wherever a bearer session is (a header wins), and
//! the CSRF rule that refuses every cookie-authenticated write without the session's token or
//! from another origin — with the requests an attacker's page would make. Then a real browser:
//! Chromium, through chromedriver, signs in on the page, reads with the cookie, is refused a
//! write from another origin, and signs out.

use std::time::Duration;

use serde_json::{Value, json};
use tessera_tests::{DbBackend, PASSWORD, TestApp};

use crate::peers::{connect_browser, free_port, start_chromedriver, tool};

/// The owner's password.
fn owner_password(app: &TestApp) -> String {
    app.initial_credentials()["owner"]["password"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A browser's sign-in (`"cookie": true`): the raw answer.
async fn browser_sign_in(app: &TestApp, login: &str, password: &str) -> reqwest::Response {
    app.send(
        "POST",
        "/v1/sessions",
        None,
        &[],
        Some(json!({"account_id": 1, "login": login, "password": password, "cookie": true})),
    )
    .await
}

/// Signs in as a browser: the token and the CSRF token.
async fn cookie_session(app: &TestApp, login: &str, password: &str) -> (String, String) {
    let res = browser_sign_in(app, login, password).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    (
        body["result"]["token"].as_str().unwrap().to_owned(),
        body["result"]["csrf_token"].as_str().unwrap().to_owned(),
    )
}

/// Sends a request with the session cookie `token` and the extra `headers`: status and body.
async fn with_cookie(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let cookie = format!("theme=dark; tessera_session={token}");
    let mut all = vec![("cookie", cookie.as_str())];
    all.extend_from_slice(headers);
    let res = app.send(method, path, None, &all, body).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Whether account 1 has a user called `login` (read with `token`).
async fn user_exists(app: &TestApp, token: &str, login: &str) -> bool {
    let (status, body) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/users?name={login}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    !body["result"].as_array().unwrap().is_empty()
}

fn new_user(login: &str) -> Value {
    json!({"login": login, "password": PASSWORD, "roles": []})
}

async fn the_page_and_its_assets_are_served_under_a_strict_policy(app: TestApp) {
    let res = app.send("GET", "/signin", None, &[], None).await;
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    // The SSO form redirects to the IdP: a form-action list would stop it in the browser.
    assert!(!csp.contains("form-action"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.get("set-cookie").is_none(), "the page sets nothing");
    let page = res.text().await.unwrap();
    assert!(page.contains("<script src=\"/signin/signin.js\" defer></script>"));
    assert!(page.contains("<main id=\"main\""));
    for (path, kind, needle) in [
        ("/signin/signin.js", "text/javascript", "/v1/sessions"),
        ("/signin/signin.css", "text/css", "[hidden]"),
    ] {
        let res = app.send("GET", path, None, &[], None).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        assert!(res.text().await.unwrap().contains(needle), "{path}");
    }
    let res = app.send("POST", "/signin", None, &[], None).await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET");
}

async fn a_browser_sign_in_sets_the_cookie_and_an_api_client_gets_none(app: TestApp) {
    let password = owner_password(&app);
    let res = browser_sign_in(&app, "admin", &password).await;
    assert_eq!(res.status(), 200);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body: Value = res.json().await.unwrap();
    let token = body["result"]["token"].as_str().unwrap();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    assert!(
        cookie.starts_with(&format!("tessera_session={token};")),
        "{cookie}"
    );
    for attribute in [
        "; Secure",
        "; HttpOnly",
        "; SameSite=Lax",
        "; Path=/",
        "; Max-Age=3600",
    ] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "host-only: {cookie}");
    let csrf = body["result"]["csrf_token"].as_str().unwrap();
    assert_eq!(csrf.len(), 43, "SHA-256, base64url: {csrf}");
    assert!(!csrf.contains(&token[4..]));

    // An API client that does not ask gets no cookie and no CSRF token.
    let res = app
        .send(
            "POST",
            "/v1/sessions",
            None,
            &[],
            Some(json!({"account_id": 1, "login": "admin", "password": password})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none());
    let body: Value = res.json().await.unwrap();
    assert!(body["result"].get("csrf_token").is_none(), "{body}");

    // Another site's page may not sign a browser in (into the attacker's account, say).
    let before = app.audit_events(token, "session.create").await.len();
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let res = app
            .send(
                "POST",
                "/v1/sessions",
                None,
                &[(name, value)],
                Some(json!({"account_id": 1, "login": "admin", "password": password, "cookie": true})),
            )
            .await;
        assert_eq!(res.status(), 403);
        assert!(res.headers().get("set-cookie").is_none());
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], 4035, "{body}");
    }
    assert_eq!(
        app.audit_events(token, "session.create").await.len(),
        before,
        "no session was opened"
    );
    let own = app.base.clone();
    let res = app
        .send(
            "POST",
            "/v1/sessions",
            None,
            &[("origin", own.as_str()), ("sec-fetch-site", "same-origin")],
            Some(json!({"account_id": 1, "login": "admin", "password": password, "cookie": true})),
        )
        .await;
    assert_eq!(res.status(), 200, "the page's own origin");
}

async fn the_cookie_reads_and_its_writes_need_the_csrf_token_and_this_origin(app: TestApp) {
    let owner = app.owner().await;
    let (token, csrf) = cookie_session(&app, "admin", &owner_password(&app)).await;
    let (status, body) = with_cookie(&app, "GET", "/v1/accounts/1/users", &token, &[], None).await;
    assert_eq!(status, 200, "a cookie read: {body}");
    let (status, body) = with_cookie(&app, "GET", "/v1/sessions", &token, &[], None).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["result"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["current"] == true)
    );

    let refused = |status: u16, body: &Value, code: u64| {
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["errors"][0]["code"], code, "{body}");
    };
    let path = "/v1/accounts/1/users";
    let (status, body) =
        with_cookie(&app, "POST", path, &token, &[], Some(new_user("nocsrf"))).await;
    refused(status, &body, 4034);
    let other = {
        let (_, other_csrf) = cookie_session(&app, "admin", &owner_password(&app)).await;
        other_csrf
    };
    for wrong in [other.as_str(), "", "x", &csrf[..42]] {
        let (status, body) = with_cookie(
            &app,
            "POST",
            path,
            &token,
            &[("x-csrf-token", wrong)],
            Some(new_user("wrongcsrf")),
        )
        .await;
        refused(status, &body, 4034);
    }
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("origin", &format!("http://localhost:{}", app.addr.port())),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let (status, body) = with_cookie(
            &app,
            "POST",
            path,
            &token,
            &[("x-csrf-token", &csrf), (name, value)],
            Some(new_user("foreign")),
        )
        .await;
        refused(status, &body, 4035);
    }
    // An attacker's cross-site form post: urlencoded, the cookie attached by the browser.
    let cookie = format!("tessera_session={token}");
    let res = app
        .client
        .post(app.url(path))
        .header("cookie", cookie)
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("login=formpost&password=Str0ng-Pass%21")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], 4035, "{body}");
    // The same with no Origin (a browser always sends one, but still): no token, refused.
    let (status, body) = with_cookie(&app, "DELETE", "/v1/sessions", &token, &[], None).await;
    refused(status, &body, 4034);
    for login in ["nocsrf", "wrongcsrf", "foreign", "formpost"] {
        assert!(!user_exists(&app, &owner, login).await, "{login} was made");
    }
    assert_eq!(
        with_cookie(&app, "GET", "/v1/sessions", &token, &[], None)
            .await
            .0,
        200,
        "the session was not ended"
    );

    // The page's own write: the token, this origin.
    let own = app.base.clone();
    let (status, body) = with_cookie(
        &app,
        "POST",
        path,
        &token,
        &[
            ("x-csrf-token", &csrf),
            ("origin", &own),
            ("sec-fetch-site", "same-origin"),
        ],
        Some(new_user("pagemade")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(user_exists(&app, &owner, "pagemade").await);
}

async fn an_authorization_header_wins_over_the_cookie(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "cookied", &[]).await;
    let (dev_token, _) = cookie_session(&app, "cookied", PASSWORD).await;
    // The bearer's write needs no CSRF token, whatever cookie rides along; it acts as the
    // bearer's user, not the cookie's.
    let cookie = format!("tessera_session={dev_token}");
    let res = app
        .send(
            "POST",
            "/v1/accounts/1/users",
            Some(&owner),
            &[("cookie", &cookie)],
            Some(new_user("bybearer")),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .send(
            "GET",
            "/v1/sessions",
            Some(&owner),
            &[("cookie", &cookie)],
            None,
        )
        .await;
    let body: Value = res.json().await.unwrap();
    let current: Vec<&Value> = body["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["current"] == true)
        .collect();
    assert_eq!(
        current.len(),
        1,
        "the owner's session is listed as current: {body}"
    );
    // A bad header is not rescued by a good cookie.
    let res = app
        .send(
            "GET",
            "/v1/sessions",
            Some("tss_not-a-session"),
            &[("cookie", &cookie)],
            None,
        )
        .await;
    assert_eq!(res.status(), 401);
    // Nor by X-Auth-Email + X-Auth-Key: those headers win too.
    let res = app
        .send(
            "GET",
            "/v1/sessions",
            None,
            &[
                ("cookie", &cookie),
                ("x-auth-email", "nobody@example.com"),
                ("x-auth-key", "tsr_AKABCDEFGHIJ01234567_nope"),
            ],
            None,
        )
        .await;
    assert_eq!(res.status(), 401);
}

async fn the_cookie_holds_a_session_or_nothing(app: TestApp) {
    let owner = app.owner().await;
    let (token, _) = cookie_session(&app, "admin", &owner_password(&app)).await;
    let access_key = app.initial_credentials()["access_key"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for cookie in [
        format!("tessera_session={access_key}"),
        format!("tessera_session={token}; tessera_session=tss_planted"),
        "tessera_session=tss_unknown".to_owned(),
        "tessera_session=".to_owned(),
    ] {
        let res = app
            .send("GET", "/v1/sessions", None, &[("cookie", &cookie)], None)
            .await;
        assert_eq!(res.status(), 401, "{cookie}");
    }
    // The method API never reads it (it takes writes over GET).
    let res = app
        .client
        .post(app.url("/platform_api/GetSubUsers"))
        .header("cookie", format!("tessera_session={token}"))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert!(body.get("error").is_some(), "{body}");
    assert_eq!(
        with_cookie(&app, "GET", "/v1/sessions", &token, &[], None)
            .await
            .0,
        200
    );
    drop(owner);
}

async fn signing_out_with_the_cookie_clears_it(app: TestApp) {
    let (token, csrf) = cookie_session(&app, "admin", &owner_password(&app)).await;
    let cookie = format!("tessera_session={token}");
    let res = app
        .send(
            "DELETE",
            "/v1/sessions",
            None,
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let cleared = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert_eq!(
        cleared,
        "tessera_session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax"
    );
    assert_eq!(
        with_cookie(&app, "GET", "/v1/sessions", &token, &[], None)
            .await
            .0,
        401
    );
    // A bearer sign-out sets no cookie.
    let bearer = app.owner().await;
    let res = app
        .send("DELETE", "/v1/sessions", Some(&bearer), &[], None)
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none());
}

tessera_tests::e2e!(
    the_page_and_its_assets_are_served_under_a_strict_policy,
    a_browser_sign_in_sets_the_cookie_and_an_api_client_gets_none,
    the_cookie_reads_and_its_writes_need_the_csrf_token_and_this_origin,
    an_authorization_header_wins_over_the_cookie,
    the_cookie_holds_a_session_or_nothing,
    signing_out_with_the_cookie_clears_it
);

/// The page runs in Chromium with no Content-Security-Policy violation.
#[tokio::test]
async fn the_page_runs_under_its_policy_in_chromium() {
    let Some(chromium) = tool(&["chromium", "chromium-browser", "google-chrome"]) else {
        return;
    };
    let app = TestApp::spawn(DbBackend::Sqlite).await.unwrap();
    let profile = app.data_dir.join("chromium-dump-profile");
    let url = app.url("/signin");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(chromium)
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
                "--virtual-time-budget=5000",
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
    assert!(dom.contains("Sign in to Tessera"), "{dom}");
    let violations: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Content Security Policy"))
        .collect();
    assert!(violations.is_empty(), "{violations:#?}");
}

/// Serves `page` (HTML) to every request on 127.0.0.1:`port`: a site of another origin than
/// Tessera's (the same host, another port: same-site, so a `SameSite=Lax` cookie rides along).
fn serve_foreign_page(port: u16, page: String) -> tokio::task::JoinHandle<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tokio::spawn(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("a port");
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let page = page.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _read = socket.read(&mut buf).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _written = socket.write_all(answer.as_bytes()).await;
            });
        }
    })
}

/// What the browser test saw, step by step.
struct Seen {
    token: String,
    cookie: String,
    cookie_flags: (Option<bool>, Option<bool>, String),
    read: Value,
    fetch_write: Value,
    signed_out: String,
    cookie_after: bool,
    foreign: Value,
}

async fn drive_signin(
    browser: &fantoccini::Client,
    app: &TestApp,
    foreign: &str,
) -> Result<Seen, String> {
    use fantoccini::Locator::Css;
    let step = |what: &'static str| move |e: fantoccini::error::CmdError| format!("{what}: {e}");
    let password = owner_password(app);
    let sign_in = || async {
        browser
            .goto(&app.url("/signin"))
            .await
            .map_err(step("opening /signin"))?;
        for (id, value) in [
            ("#account_id", "1"),
            ("#login", "admin"),
            ("#password", password.as_str()),
        ] {
            browser
                .wait()
                .for_element(Css(id))
                .await
                .map_err(step("a field"))?
                .send_keys(value)
                .await
                .map_err(step("typing"))?;
        }
        browser
            .find(Css("#password-form button[type=submit]"))
            .await
            .map_err(step("the Sign in button"))?
            .click()
            .await
            .map_err(step("signing in"))?;
        browser
            .wait()
            .for_element(Css("#signed-in:not([hidden])"))
            .await
            .map_err(step("the signed-in view"))?;
        browser
            .find(Css("#token"))
            .await
            .map_err(step("the token"))?
            .prop("value")
            .await
            .map_err(step("reading the token"))?
            .ok_or_else(|| "no token shown".to_owned())
    };
    let token = sign_in().await?;
    let cookies = browser
        .get_all_cookies()
        .await
        .map_err(step("the cookies"))?;
    let ours = cookies
        .iter()
        .find(|c| c.name() == "tessera_session")
        .ok_or_else(|| format!("no session cookie among {cookies:?}"))?;
    let cookie = ours.value().to_owned();
    let cookie_flags = (
        ours.http_only(),
        ours.secure(),
        format!("{:?}", ours.same_site()),
    );
    // A read with the cookie alone, from the page's own script context.
    let read = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/v1/sessions', {credentials: 'same-origin'})
               .then(r => r.json().then(b => done({status: r.status, body: b})))
               .catch(e => done({error: String(e)}));",
            vec![],
        )
        .await
        .map_err(step("a cookie read"))?;
    // A write from the page's context that forgets the CSRF token.
    let fetch_write = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/v1/accounts/1/users', {method: 'POST', credentials: 'same-origin',
               headers: {'Content-Type': 'application/json'},
               body: JSON.stringify({login: 'fetchmade', password: 'Str0ng-Pass!'})})
               .then(r => r.json().then(b => done({status: r.status, body: b})))
               .catch(e => done({error: String(e)}));",
            vec![],
        )
        .await
        .map_err(step("a write without the CSRF token"))?;
    // Signing out through the page.
    browser
        .find(Css("#sign-out"))
        .await
        .map_err(step("the Sign out button"))?
        .click()
        .await
        .map_err(step("signing out"))?;
    // The page goes to /signin?signed_out=1, which says so.
    let mut signed_out = String::new();
    for _ in 0..200 {
        let url = browser.current_url().await.map_err(step("the address"))?;
        if url.as_str().ends_with("/signin?signed_out=1") {
            if let Ok(status) = browser.find(Css("#status")).await {
                signed_out = status.text().await.unwrap_or_default();
                if !signed_out.is_empty() {
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cookie_after = browser
        .get_all_cookies()
        .await
        .map_err(step("the cookies after"))?
        .iter()
        .any(|c| c.name() == "tessera_session");
    // Signed in again, the browser visits another origin's page, whose form posts to Tessera.
    sign_in().await?;
    browser
        .goto(foreign)
        .await
        .map_err(step("the foreign page"))?;
    browser
        .wait()
        .for_element(Css("#go"))
        .await
        .map_err(step("the foreign form"))?
        .click()
        .await
        .map_err(step("submitting the foreign form"))?;
    let shown = browser
        .wait()
        .for_element(Css("pre"))
        .await
        .map_err(step("Tessera's answer to the foreign form"))?
        .text()
        .await
        .map_err(step("reading that answer"))?;
    let foreign = serde_json::from_str(&shown).map_err(|e| format!("{shown:?}: {e}"))?;
    Ok(Seen {
        token,
        cookie,
        cookie_flags,
        read,
        fetch_write,
        signed_out,
        cookie_after,
        foreign,
    })
}

/// A real browser signs in on `/signin`: the page shows the token and the server set the
/// cookie (HttpOnly, Secure, Lax); the cookie alone reads; a write without the CSRF token, and
/// a form posted from another origin's page, are refused and change nothing; signing out
/// through the page ends the session and clears the cookie.
#[tokio::test]
async fn a_browser_signs_in_reads_with_the_cookie_and_is_refused_a_foreign_write() {
    let Some(chromium) = tool(&["chromium", "chromium-browser", "google-chrome"]) else {
        return;
    };
    let Some(chromedriver) = tool(&["chromedriver"]) else {
        return;
    };
    let app = TestApp::spawn(DbBackend::Sqlite).await.unwrap();
    let port = free_port();
    let foreign_page = format!(
        "<!DOCTYPE html><html><body><form method=\"post\" \
         action=\"{}/v1/accounts/1/users\">\
         <input name=\"login\" value=\"formmade\"><input name=\"password\" value=\"Str0ng-Pass!\">\
         <button id=\"go\" type=\"submit\">Win a prize</button></form></body></html>",
        app.base
    );
    let server = serve_foreign_page(port, foreign_page);
    let driver = start_chromedriver(&chromedriver);
    let profile = app.data_dir.join("chromium-signin-profile");
    let browser = connect_browser(&chromium, &driver, &profile).await;
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        drive_signin(&browser, &app, &format!("http://127.0.0.1:{port}/")),
    )
    .await
    .unwrap_or_else(|_| Err("the browser took over a minute".into()));
    let page = browser.source().await.unwrap_or_default();
    let _closed = browser.close().await;
    server.abort();
    let seen = outcome
        .unwrap_or_else(|e| panic!("{e}\npage: {}", &page[page.len().saturating_sub(3000)..]));

    assert!(seen.token.starts_with("tss_"), "{}", seen.token);
    assert_eq!(
        seen.cookie, seen.token,
        "the cookie holds the session shown"
    );
    assert_eq!(
        seen.cookie_flags,
        (Some(true), Some(true), "Some(Lax)".to_owned())
    );
    assert_eq!(seen.read["status"], 200, "{}", seen.read);
    assert!(
        seen.read["body"]["result"]
            .as_array()
            .is_some_and(|list| list.iter().any(|s| s["current"] == true)),
        "{}",
        seen.read
    );
    assert_eq!(seen.fetch_write["status"], 403, "{}", seen.fetch_write);
    assert_eq!(seen.fetch_write["body"]["errors"][0]["code"], 4034);
    assert!(
        seen.signed_out.contains("signed out"),
        "{}",
        seen.signed_out
    );
    assert!(!seen.cookie_after, "the cookie is cleared");
    assert_eq!(
        app.call("GET", "/v1/sessions", Some(&seen.token), None)
            .await
            .0,
        401,
        "the session shown has ended"
    );
    assert_eq!(seen.foreign["success"], false, "{}", seen.foreign);
    assert_eq!(seen.foreign["errors"][0]["code"], 4035, "{}", seen.foreign);
    let owner = app.owner().await;
    for login in ["fetchmade", "formmade"] {
        assert!(!user_exists(&app, &owner, login).await, "{login} was made");
    }
}
