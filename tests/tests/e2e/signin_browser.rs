//! The sign-in page in a real browser, past the password: Chromium, through chromedriver, signs
//! a user with a second factor in (password, then a wrong one-time code refused with no
//! session, then a right one), and signs a domain user in through the local identity provider's
//! own pages (SSO, the page's form, the IdP's login form, Tessera's callback rendering the
//! signed-in page). Each time the page shows the token, the browser holds it as the
//! `tessera_session` cookie, and the cookie alone reads the API. Skipped without Chromium,
//! chromedriver or Node (failing instead with `TESSERA_REQUIRE_PEERS=1`).

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::Locator::Css;
use serde_json::{Value, json};
use tessera_tests::dns::DnsResponder;
use tessera_tests::idp::{Idp, IdpClient, IdpConfig, IdpUser};
use tessera_tests::{DbBackend, PASSWORD, TestApp};

use crate::mfa::{Authenticator, enrol};
use crate::peers::{ChromeDriver, connect_browser, start_chromedriver, tool};

/// A failed browser step, with what was being done.
pub(crate) type Step<T> = Result<T, String>;

pub(crate) fn step(what: &'static str) -> impl Fn(fantoccini::error::CmdError) -> String {
    move |e| format!("{what}: {e}")
}

/// Chromium and chromedriver, or `None` when either is missing and not required.
pub(crate) fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let chromium = tool(&["chromium", "chromium-browser", "google-chrome"])?;
    let chromedriver = tool(&["chromedriver"])?;
    Some((chromium, chromedriver))
}

/// A headless Chromium session with a profile under the app's data directory; the driver must
/// outlive the client.
pub(crate) async fn launch(
    app: &TestApp,
    (chromium, chromedriver): &(PathBuf, PathBuf),
    name: &str,
) -> (ChromeDriver, fantoccini::Client) {
    let driver = start_chromedriver(chromedriver);
    let profile = app.data_dir.join(format!("chromium-{name}-profile"));
    let browser = connect_browser(chromium, &driver, &profile).await;
    (driver, browser)
}

/// Runs `drive` with a one-minute limit, closes the browser, and panics with the page's end
/// when a step failed.
pub(crate) async fn finish<T>(
    browser: fantoccini::Client,
    drive: impl std::future::Future<Output = Step<T>>,
) -> T {
    let outcome = tokio::time::timeout(Duration::from_secs(90), drive)
        .await
        .unwrap_or_else(|_| Err("the browser took over 90 seconds".into()));
    let url = browser
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    let page = browser.source().await.unwrap_or_default();
    let _closed = browser.close().await;
    outcome.unwrap_or_else(|e| {
        panic!(
            "{e}\nat {url}\npage: {}",
            page.chars()
                .skip(page.chars().count().saturating_sub(3000))
                .collect::<String>()
        )
    })
}

/// Types `value` into the (emptied) field `css`, once it is there.
pub(crate) async fn fill(browser: &fantoccini::Client, css: &str, value: &str) -> Step<()> {
    let field = browser
        .wait()
        .for_element(Css(css))
        .await
        .map_err(|e| format!("the field {css}: {e}"))?;
    field.clear().await.map_err(step("emptying a field"))?;
    field.send_keys(value).await.map_err(step("typing"))
}

/// Clicks the element `css`.
pub(crate) async fn click(browser: &fantoccini::Client, css: &str) -> Step<()> {
    browser
        .wait()
        .for_element(Css(css))
        .await
        .map_err(|e| format!("the button {css}: {e}"))?
        .click()
        .await
        .map_err(|e| format!("clicking {css}: {e}"))
}

/// The text of `css` once it is not empty (10 seconds at most).
async fn text_of(browser: &fantoccini::Client, css: &str) -> Step<String> {
    for _ in 0..200 {
        if let Ok(el) = browser.find(Css(css)).await {
            let text = el.text().await.unwrap_or_default();
            if !text.trim().is_empty() {
                return Ok(text);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("{css} stayed empty"))
}

/// The browser's address once it starts with `prefix` (10 seconds at most).
pub(crate) async fn url_starting(browser: &fantoccini::Client, prefix: &str) -> Step<String> {
    let mut url = String::new();
    for _ in 0..200 {
        url = browser
            .current_url()
            .await
            .map_err(step("the address"))?
            .to_string();
        if url.starts_with(prefix) {
            return Ok(url);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("never reached {prefix}: still at {url}"))
}

/// Whether the element `css` is there and not hidden.
async fn shown(browser: &fantoccini::Client, css: &str) -> Step<bool> {
    let el = browser
        .find(Css(css))
        .await
        .map_err(|e| format!("{css}: {e}"))?;
    Ok(el
        .attr("hidden")
        .await
        .map_err(step("reading hidden"))?
        .is_none())
}

/// The token the signed-in view shows, once it is shown.
async fn signed_in_token(browser: &fantoccini::Client) -> Step<String> {
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
}

/// The value of the browser's `tessera_session` cookie, if it holds one.
async fn session_cookie(browser: &fantoccini::Client) -> Step<Option<String>> {
    Ok(browser
        .get_all_cookies()
        .await
        .map_err(step("the cookies"))?
        .iter()
        .find(|c| c.name() == "tessera_session")
        .map(|c| c.value().to_owned()))
}

/// `GET path` from the page's own script context, with the cookie alone: `{status, body}`.
async fn page_read(browser: &fantoccini::Client, path: &str) -> Step<Value> {
    browser
        .execute_async(
            "const [path, done] = arguments;
             fetch(path, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
               .then(r => r.json().then(b => done({status: r.status, body: b})))
               .catch(e => done({error: String(e)}));",
            vec![json!(path)],
        )
        .await
        .map_err(|e| format!("a cookie read of {path}: {e}"))
}

/// The user's live sessions, as the owner sees them.
async fn sessions_of(app: &TestApp, owner: &str, user: i64) -> usize {
    let (status, body) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/users/{user}/sessions"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["result"].as_array().expect("sessions").len()
}

/// Whether a cookie read of `/v1/sessions` answered 200 with the current session listed.
fn lists_current(read: &Value) -> bool {
    read["status"] == 200
        && read["body"]["result"]
            .as_array()
            .is_some_and(|list| list.iter().any(|s| s["current"] == true))
}

/// What the TOTP sign-in showed.
struct TotpSeen {
    /// The page's error after the wrong code.
    wrong_error: String,
    /// Whether the signed-in view was shown after the wrong code.
    wrong_signed_in: bool,
    /// The session cookie after the wrong code.
    wrong_cookie: Option<String>,
    /// The user's sessions after the wrong code.
    wrong_sessions: usize,
    /// The token shown.
    token: String,
    /// The cookie after the right code.
    cookie: Option<String>,
    /// A cookie read of `/v1/sessions`.
    sessions_read: Value,
    /// A cookie read of `/v1/mfa`.
    mfa_read: Value,
}

async fn drive_totp(
    browser: &fantoccini::Client,
    app: &TestApp,
    owner: &str,
    user: i64,
    auth: &mut Authenticator,
) -> Step<TotpSeen> {
    browser
        .goto(&app.url("/signin"))
        .await
        .map_err(step("opening /signin"))?;
    fill(browser, "#account_id", "1").await?;
    fill(browser, "#login", "totp01").await?;
    fill(browser, "#password", PASSWORD).await?;
    click(browser, "#password-form button[type=submit]").await?;
    browser
        .wait()
        .for_element(Css("#totp-step:not([hidden])"))
        .await
        .map_err(step("the one-time code step"))?;
    if shown(browser, "#password-step").await? {
        return Err("the password step is still shown".into());
    }

    // A wrong code: an error, no session.
    fill(browser, "#code", &auth.wrong()).await?;
    click(browser, "#totp-form button[type=submit]").await?;
    let wrong_error = text_of(browser, "#error").await?;
    let wrong_signed_in = shown(browser, "#signed-in").await?;
    let wrong_cookie = session_cookie(browser).await?;
    let wrong_sessions = sessions_of(app, owner, user).await;

    // The right code (one of a step the enrolment did not use).
    let code = auth.code().await;
    fill(browser, "#code", &code).await?;
    click(browser, "#totp-form button[type=submit]").await?;
    let token = signed_in_token(browser).await?;
    let cookie = session_cookie(browser).await?;
    let sessions_read = page_read(browser, "/v1/sessions").await?;
    let mfa_read = page_read(browser, "/v1/mfa").await?;
    Ok(TotpSeen {
        wrong_error,
        wrong_signed_in,
        wrong_cookie,
        wrong_sessions,
        token,
        cookie,
        sessions_read,
        mfa_read,
    })
}

/// A user with a password and TOTP signs in on the page: the password step leads to the code
/// step; a wrong code shows an error and opens nothing; the right code shows the token, sets
/// the cookie, and the cookie alone reads as that user.
#[tokio::test]
async fn a_user_with_totp_signs_in_on_the_page_and_a_wrong_code_opens_nothing() {
    let Some(tools) = browser_tools() else { return };
    let app = TestApp::spawn(DbBackend::Sqlite).await.unwrap();
    let owner = app.owner().await;
    let user = app.create_user(&owner, "totp01", &[]).await;
    let api_session = app.login(1, "totp01", PASSWORD).await;
    let (mut auth, _recovery) = enrol(&app, &api_session).await;
    assert_eq!(
        sessions_of(&app, &owner, user).await,
        1,
        "the API's session"
    );

    let (_driver, browser) = launch(&app, &tools, "totp").await;
    let seen = finish(
        browser.clone(),
        drive_totp(&browser, &app, &owner, user, &mut auth),
    )
    .await;

    assert!(
        seen.wrong_error.contains("code is not right"),
        "{}",
        seen.wrong_error
    );
    assert!(!seen.wrong_signed_in, "a wrong code signs nobody in");
    assert_eq!(seen.wrong_cookie, None, "a wrong code sets no cookie");
    assert_eq!(seen.wrong_sessions, 1, "a wrong code opens no session");

    assert!(seen.token.starts_with("tss_"), "{}", seen.token);
    assert_eq!(seen.cookie.as_deref(), Some(seen.token.as_str()));
    assert!(lists_current(&seen.sessions_read), "{}", seen.sessions_read);
    assert_eq!(seen.mfa_read["status"], 200, "{}", seen.mfa_read);
    assert_eq!(
        seen.mfa_read["body"]["result"]["enrolled"], true,
        "the cookie reads as the enrolled user: {}",
        seen.mfa_read
    );
    assert_eq!(
        sessions_of(&app, &owner, user).await,
        2,
        "the page's session"
    );
    let (status, body) = app.call("GET", "/v1/mfa", Some(&seen.token), None).await;
    assert_eq!((status, &body["result"]["enrolled"]), (200, &json!(true)));
}

const SSO: &str = "/v1/accounts/1/sso_connectors";
const CLIENT_SECRET: &str = "tessera-browser-secret";

/// What the SSO sign-in showed.
struct SsoSeen {
    /// The address of the IdP's login page.
    idp_page: String,
    /// The address the browser ended on.
    landed: String,
    /// The page's title there.
    title: String,
    /// The token shown.
    token: String,
    /// The cookie.
    cookie: Option<String>,
    /// A cookie read of `/v1/sessions`.
    sessions_read: Value,
}

async fn drive_sso(browser: &fantoccini::Client, app: &TestApp, issuer: &str) -> Step<SsoSeen> {
    browser
        .goto(&app.url("/signin"))
        .await
        .map_err(step("opening /signin"))?;
    fill(browser, "#email", "alice@corp.example").await?;
    // Records what the page's Content-Security-Policy blocks, to say why the IdP is not reached.
    browser
        .execute(
            "window.violations = [];
             document.addEventListener('securitypolicyviolation', (e) =>
               window.violations.push(e.effectiveDirective + ' blocked ' + e.blockedURI));",
            vec![],
        )
        .await
        .map_err(step("listening for policy violations"))?;
    click(browser, "#sso-form button[type=submit]").await?;
    // The IdP's own login page (the sign-in page has fields of the same names: wait to leave it).
    let at_idp = format!("{}/", issuer.trim_end_matches('/'));
    let idp_page = match url_starting(browser, &at_idp).await {
        Ok(url) => url,
        Err(e) => {
            let violations = browser
                .execute("return window.violations || []", vec![])
                .await
                .unwrap_or_default();
            return Err(format!("{e}; the page's policy violations: {violations}"));
        }
    };
    let form = "form[action^='/interaction/']";
    fill(browser, &format!("{form} input[name=login]"), "alice").await?;
    fill(
        browser,
        &format!("{form} input[name=password]"),
        "alice-password",
    )
    .await?;
    click(browser, &format!("{form} button[type=submit]")).await?;
    // Back at Tessera's callback, which renders the signed-in page.
    let token = signed_in_token(browser).await?;
    let landed = browser
        .current_url()
        .await
        .map_err(step("the address"))?
        .to_string();
    let title = text_of(browser, "#title").await?;
    let cookie = session_cookie(browser).await?;
    let sessions_read = page_read(browser, "/v1/sessions").await?;
    Ok(SsoSeen {
        idp_page,
        landed,
        title,
        token,
        cookie,
        sessions_read,
    })
}

/// A domain user signs in with SSO from the page: the page's form starts the flow, the browser
/// signs in on the identity provider's own login page, and Tessera's callback sets the cookie
/// and renders the signed-in page with the token; the cookie alone reads as that user. The
/// provider accepts both the shared callback and the connector's own, so the test holds
/// whichever Tessera registers.
#[tokio::test]
async fn a_domain_user_signs_in_with_sso_through_the_idps_pages() {
    let Some(tools) = browser_tools() else { return };
    let dns = DnsResponder::start();
    let app = TestApp::spawn_with(DbBackend::Sqlite, |s| {
        s.sso.nameserver = dns.addr.to_string();
        s.sso.verify_interval_secs = 1;
        s.sso.allow_local_idp = true;
    })
    .await
    .unwrap();
    let owner = app.owner().await;
    let (status, c) = app
        .call(
            "POST",
            SSO,
            Some(&owner),
            Some(json!({"email_domain": "corp.example", "begin_verification": true})),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    let connector = c["result"]["id"].as_str().unwrap().to_owned();
    let mut client = IdpClient::new("tessera", CLIENT_SECRET, &app.url("/v1/sso/callback"));
    client
        .redirect_uris
        .push(app.url(&format!("/v1/sso/callback/{connector}")));
    let Some(idp) = Idp::start(IdpConfig::new(
        vec![client],
        vec![IdpUser::new(
            "alice",
            "alice-password",
            "alice@corp.example",
        )],
    ))
    .await
    else {
        return;
    };
    let one = format!("{SSO}/{connector}");
    let (status, c) = app
        .call(
            "PATCH",
            &one,
            Some(&owner),
            Some(json!({"idp": {
                "type": "oidc",
                "issuer": idp.issuer(),
                "client_id": "tessera",
                "client_secret": CLIENT_SECRET,
            }})),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["result"]["idp"]["client_secret_set"], true, "{c}");
    app.verify_and_enable_sso(&owner, &dns, &connector, "corp.example")
        .await;
    let (status, u) = app
        .call(
            "POST",
            "/v1/accounts/1/users",
            Some(&owner),
            Some(json!({"login": "alice01", "email": "alice@corp.example", "roles": []})),
        )
        .await;
    assert_eq!(status, 200, "{u}");
    let alice = u["result"]["id"].as_i64().unwrap();
    assert_eq!(sessions_of(&app, &owner, alice).await, 0);

    let (_driver, browser) = launch(&app, &tools, "sso").await;
    let seen = finish(browser.clone(), drive_sso(&browser, &app, idp.issuer())).await;

    assert!(
        seen.idp_page.starts_with(idp.issuer()) && seen.idp_page.contains("/interaction/"),
        "the IdP's own page: {}",
        seen.idp_page
    );
    assert!(
        seen.landed.starts_with(&app.url("/v1/sso/callback")),
        "{}",
        seen.landed
    );
    assert_eq!(seen.title, "Signed in to Tessera");
    assert!(seen.token.starts_with("tss_"), "{}", seen.token);
    assert_eq!(seen.cookie.as_deref(), Some(seen.token.as_str()));
    assert!(lists_current(&seen.sessions_read), "{}", seen.sessions_read);
    assert_eq!(sessions_of(&app, &owner, alice).await, 1, "alice's session");
    let (status, body) = app
        .call("GET", "/v1/sessions", Some(&seen.token), None)
        .await;
    assert_eq!(status, 200, "the token shown works: {body}");
    let logins = app.audit_events(&owner, "sso.login").await;
    assert!(
        logins
            .iter()
            .any(|e| e["outcome"] == "success" && e["details"]["subject"] == "alice"),
        "{logins:?}"
    );
}
