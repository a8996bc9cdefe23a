//! The sign-in page's markup: the form steps (password, one-time code, authenticator set-up,
//! SSO) and the signed-in view, which the script fills after a sign-in and the server fills
//! itself for [`super::signed_in_page`].

use std::fmt::Write as _;

use tessera_domain::sso::Continuation;

use super::html::{Escaped, layout};
use crate::sessions::SessionView;

/// What the signed-in view shows: the session token (once), its expiry, and the CSRF token the
/// script sends with the sign-out. Empty values: the view is a template the script fills.
struct SignedIn<'a> {
    token: &'a str,
    expires_at: &'a str,
    csrf: &'a str,
    visible: bool,
}

fn signed_in_view(v: &SignedIn<'_>) -> String {
    let hidden = if v.visible { "" } else { " hidden" };
    let expires_text = if v.expires_at.is_empty() {
        String::new()
    } else {
        format!("{} (UTC)", v.expires_at.replace('T', " "))
    };
    format!(
        r##"<section id="signed-in" class="step" aria-labelledby="done-heading" data-csrf="{csrf}"{hidden}>
<h2 id="done-heading" tabindex="-1">You are signed in</h2>
<p>This browser keeps the session in a cookie (<code>tessera_session</code>: secure, HTTP only,
sent to this server alone), so its requests to the API are signed in until the session expires or
you sign out.</p>
<p>For an API client, copy the session token below: it is shown <strong>only this once</strong>.
Send it as <code>Authorization: Bearer &lt;token&gt;</code>.</p>
<div class="field token">
<label for="token">Session token</label>
<input id="token" name="token" type="text" readonly spellcheck="false" autocomplete="off" value="{token}">
<button type="button" id="copy">Copy the token</button>
</div>
<p>It expires at <time id="expires" datetime="{expires_at}">{expires_text}</time>.</p>
<section id="recovery" aria-labelledby="recovery-heading" hidden>
<h2 id="recovery-heading">Recovery codes</h2>
<p>Each code signs you in once instead of a one-time code, if you lose your authenticator.
Store them somewhere safe now: they are not shown again.</p>
<ul id="recovery-codes" class="codes"></ul>
</section>
<p id="continue" hidden><a id="continue-link" href="#">Continue to the application</a></p>
<p><button type="button" id="sign-out">Sign out</button></p>
</section>"##,
        csrf = Escaped(v.csrf),
        token = Escaped(v.token),
        expires_at = Escaped(v.expires_at),
        expires_text = Escaped(&expires_text),
    )
}

/// The page at `/signin`: every step, the first one shown. With `next` (an authorization
/// request that sent the browser here to sign in), both ways of signing in go on there: the
/// script once the session cookie is set, the SSO callback by its `return_to`.
#[must_use]
pub fn form_page(next: Option<&Continuation>) -> String {
    let return_to = next.map_or("page", Continuation::as_str);
    let next_attr = next.map_or(String::new(), |n| {
        format!(" data-return-to=\"{}\"", Escaped(n.as_str()))
    });
    let mut main = format!(
        r##"<h1 id="title">Sign in to Tessera</h1>
<p id="status" class="status" role="status" aria-live="polite"></p>
<p id="error" class="error" role="alert" aria-live="assertive"></p>
<noscript><p class="error">Signing in with a password needs JavaScript. Signing in through your
organization's identity provider (SSO, below) works without it.</p></noscript>
<section id="password-step" class="step" aria-labelledby="password-heading">
<h2 id="password-heading">With a password</h2>
<form id="password-form" novalidate{next_attr}>
<div class="field">
<label for="account_id">Account id</label>
<input id="account_id" name="account_id" type="text" inputmode="numeric" autocomplete="on" required aria-describedby="account_id-hint">
<p id="account_id-hint" class="hint">The number of your account, for example 1.</p>
</div>
<div class="field">
<label for="login">Login</label>
<input id="login" name="login" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="100">
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
</div>
<p><button type="submit">Sign in</button></p>
</form>
</section>
<section id="totp-step" class="step" aria-labelledby="totp-heading" hidden>
<h2 id="totp-heading" tabindex="-1">Enter your one-time code</h2>
<form id="totp-form" novalidate>
<div class="field">
<label for="code">One-time code</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" spellcheck="false" required aria-describedby="code-hint">
<p id="code-hint" class="hint">The six digits your authenticator app shows now, or one of your recovery codes.</p>
</div>
<p><button type="submit">Verify</button></p>
</form>
</section>
<section id="enrol-step" class="step" aria-labelledby="enrol-heading" hidden>
<h2 id="enrol-heading" tabindex="-1">Set up a second factor</h2>
<p>Your account asks for a one-time code at every sign-in. Add Tessera to an authenticator app
(one that supports TOTP), then enter the code it shows.</p>
<p><button type="button" id="enrol-start">Show the set-up key</button></p>
<div id="enrol-details" hidden>
<p>Enter this key in your authenticator app:</p>
<p><code id="enrol-secret" class="secret"></code></p>
<p>Or open this link on the device that holds the app:</p>
<p><code id="enrol-uri" class="secret"></code></p>
<form id="enrol-form" novalidate>
<div class="field">
<label for="enrol-code">One-time code</label>
<input id="enrol-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" spellcheck="false" required>
</div>
<p><button type="submit">Verify and sign in</button></p>
</form>
</div>
</section>
<section id="sso-step" class="step" aria-labelledby="sso-heading">
<h2 id="sso-heading">With your organization's identity provider (SSO)</h2>
<form id="sso-form" method="get" action="/v1/sso/login">
<div class="field">
<label for="email">Work email</label>
<input id="email" name="email" type="email" autocomplete="email" spellcheck="false" required>
</div>
<input type="hidden" name="return_to" value="{return_to}">
<p><button type="submit">Sign in with SSO</button></p>
</form>
</section>
"##,
        return_to = Escaped(return_to),
    );
    main.push_str(&signed_in_view(&SignedIn {
        token: "",
        expires_at: "",
        csrf: "",
        visible: false,
    }));
    layout("Sign in", &main)
}

/// The page once signed in (an SSO callback's answer): the signed-in view, filled.
#[must_use]
pub fn signed_in_page(view: &SessionView) -> String {
    let expires_at = view
        .expires_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let csrf = view.csrf_token.clone().unwrap_or_default();
    let mut main = String::new();
    let _ = write!(
        main,
        "<h1 id=\"title\">Signed in to Tessera</h1>\n\
         <p id=\"status\" class=\"status\" role=\"status\" aria-live=\"polite\"></p>\n\
         <p id=\"error\" class=\"error\" role=\"alert\" aria-live=\"assertive\"></p>\n{}",
        signed_in_view(&SignedIn {
            token: &view.token,
            expires_at: &expires_at,
            csrf: &csrf,
            visible: true,
        })
    );
    layout("Signed in", &main)
}
