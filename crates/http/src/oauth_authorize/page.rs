//! The consent screen and the authorization endpoint's error page, in the sign-in page's
//! layout (same stylesheet, script and Content-Security-Policy).

use std::fmt::Write as _;

use tessera_app::Consent;
use tessera_domain::oauth::authorize::PageError;
use tessera_domain::oauth::{AuthorizeRequest, Scope};
use tessera_domain::permissions::Level;

use crate::signin::html::{Escaped, layout};

/// A scope's name for people.
#[must_use]
pub fn scope_name(scope: Scope) -> String {
    match scope {
        Scope::Identity(i) => i.name().to_owned(),
        Scope::Permission(p) => format!(
            "{}: {}",
            p.capability.name(),
            match p.level {
                Level::Read => "view",
                Level::Write => "view and change",
            }
        ),
    }
}

/// The hidden fields that repeat `request` in the consent form (the POST checks it again from
/// scratch, and its binding to this very request).
fn hidden_fields(request: &AuthorizeRequest, csrf: &str, binding: &str) -> String {
    let mut out = String::new();
    let mut field = |name: &str, value: &str| {
        let _ = writeln!(
            out,
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            Escaped(value)
        );
    };
    field("client_id", &request.client_id);
    if request.redirect_uri_given {
        field("redirect_uri", &request.redirect_uri);
    }
    field("response_type", "code");
    field("scope", &request.scopes.to_string());
    if let Some(state) = &request.state {
        field("state", state);
    }
    if let Some(challenge) = &request.code_challenge {
        field("code_challenge", challenge.as_str());
        field("code_challenge_method", "S256");
    }
    if let Some(nonce) = &request.nonce {
        field("nonce", nonce);
    }
    field("csrf_token", csrf);
    field("consent", binding);
    out
}

fn scope_items(consent: &Consent, grantable: bool) -> String {
    let mut out = String::new();
    for line in consent.scopes.iter().filter(|l| l.grantable == grantable) {
        let _ = writeln!(
            out,
            "<li>{} <code>{}</code></li>",
            Escaped(&scope_name(line.scope)),
            Escaped(&line.scope.to_string())
        );
    }
    out
}

/// Where the browser goes back to, for people: the redirect URI's scheme and host.
fn destination(redirect_uri: &str) -> &str {
    let after_scheme = redirect_uri.find("://").map_or(0, |i| i + 3);
    let end = redirect_uri[after_scheme..]
        .find(['/', '?'])
        .map_or(redirect_uri.len(), |i| after_scheme + i);
    &redirect_uri[..end]
}

/// The consent screen: who asks, what for (the scopes the user can grant, and those they cannot
/// because they do not hold them), and Allow / Deny.
#[must_use]
pub fn consent_page(
    client_name: &str,
    request: &AuthorizeRequest,
    consent: &Consent,
    csrf: &str,
    binding: &str,
) -> String {
    let name = Escaped(client_name);
    let mut main = String::new();
    let _ = write!(
        main,
        "<h1 id=\"title\">Allow {name} to use your Tessera account?</h1>\n\
         <section id=\"consent\" aria-labelledby=\"granted-heading\">\n\
         <h2 id=\"granted-heading\">{name} will be able to</h2>\n\
         <ul id=\"granted\" class=\"scopes\">\n{granted}</ul>\n",
        granted = scope_items(consent, true),
    );
    let refused = scope_items(consent, false);
    if !refused.is_empty() {
        let _ = write!(
            main,
            "<h2 id=\"refused-heading\">Asked for, but not granted</h2>\n\
             <p>You do not hold these permissions, so you cannot give them to {name}:</p>\n\
             <ul id=\"refused\" class=\"scopes not-granted\">\n{refused}</ul>\n"
        );
    }
    let _ = write!(
        main,
        "<p>Allowing sends you back to <strong>{dest}</strong>. You can revoke the access at \
         any time.</p>\n\
         <form id=\"consent-form\" method=\"post\" action=\"/oauth/authorize\">\n{fields}\
         <p><button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></p>\n\
         </form>\n</section>",
        dest = Escaped(destination(&request.redirect_uri)),
        fields = hidden_fields(request, csrf, binding),
    );
    layout(&format!("Allow {client_name}?"), &main)
}

/// The page of an authorization request that cannot be answered at the client's redirect URI.
#[must_use]
pub fn error_page(error: PageError) -> String {
    let main = format!(
        "<h1 id=\"title\">This sign-in request cannot go on</h1>\n\
         <p id=\"error\" class=\"error\" role=\"alert\">{}</p>\n\
         <p>Go back to the application and start again; if it keeps happening, tell the \
         application's developers.</p>",
        Escaped(&error.to_string())
    );
    layout("Sign-in request refused", &main)
}

/// A page for a consent decision that was refused (no session, a foreign origin, a CSRF token
/// or binding that does not match).
#[must_use]
pub fn refused_page(why: &str) -> String {
    let main = format!(
        "<h1 id=\"title\">This decision was not accepted</h1>\n\
         <p id=\"error\" class=\"error\" role=\"alert\">{}</p>",
        Escaped(why)
    );
    layout("Decision refused", &main)
}

#[cfg(test)]
mod tests {
    use tessera_app::ConsentScope;
    use tessera_domain::oauth::{CodeChallenge, ScopeSet};

    use super::*;

    fn request() -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: "c1".into(),
            redirect_uri: "https://app.example/cb?x=\"1\"".into(),
            redirect_uri_given: true,
            scopes: ScopeSet::parse("openid user_management.write").unwrap(),
            state: Some("<state>".into()),
            code_challenge: Some(CodeChallenge::of_verifier(&"v".repeat(43))),
            nonce: Some("n'1".into()),
        }
    }

    #[test]
    fn the_consent_page_escapes_everything_and_splits_what_cannot_be_granted() {
        let req = request();
        let consent = Consent {
            scopes: req
                .scopes
                .iter()
                .map(|scope| ConsentScope {
                    scope,
                    grantable: !scope.to_string().ends_with("write"),
                })
                .collect(),
            granted: ScopeSet::parse("openid user_management.read").unwrap(),
        };
        let page = consent_page("<b>Evil</b> app", &req, &consent, "csrf\"x", "bind");
        assert!(page.contains("Allow &lt;b&gt;Evil&lt;/b&gt; app to use"));
        assert!(!page.contains("<b>Evil"));
        assert!(page.contains("name=\"state\" value=\"&lt;state&gt;\""));
        assert!(page.contains("name=\"nonce\" value=\"n&#39;1\""));
        assert!(
            page.contains("name=\"redirect_uri\" value=\"https://app.example/cb?x=&quot;1&quot;\"")
        );
        assert!(page.contains("name=\"csrf_token\" value=\"csrf&quot;x\""));
        assert!(page.contains("name=\"consent\" value=\"bind\""));
        assert!(page.contains("<strong>https://app.example</strong>"));
        let refused = &page[page.find("id=\"refused\"").unwrap()..];
        assert!(refused.contains("<code>user_management.write</code>"));
        let granted =
            &page[page.find("id=\"granted\"").unwrap()..page.find("id=\"refused\"").unwrap()];
        assert!(granted.contains("<code>openid</code>"));
        assert!(granted.contains("<code>user_management.read</code>"));
        assert!(!page.contains("<script>"));
        assert!(!page.contains(" style="));
    }

    #[test]
    fn the_destination_is_the_origin_of_the_redirect_uri() {
        assert_eq!(destination("https://a.example/cb?x=1"), "https://a.example");
        assert_eq!(
            destination("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(destination("com.example.app:/cb"), "com.example.app:");
    }
}
