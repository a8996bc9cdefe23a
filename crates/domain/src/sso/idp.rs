//! The identity provider behind a connector: an OpenID Connect issuer Tessera signs users in
//! through (authorization code flow with PKCE), and what a sign-in through it needs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{AccountId, SsoConnectorId};
use crate::roles::RoleId;

/// The only provider type so far.
pub const IDP_TYPE_OIDC: &str = "oidc";
/// The claim holding the user's email unless the connector names another.
pub const DEFAULT_EMAIL_CLAIM: &str = "email";
/// Longest issuer URL.
pub const MAX_ISSUER_LEN: usize = 2000;
/// Most scopes a connector asks for.
pub const MAX_SCOPES: usize = 20;
/// Longest client secret.
pub const MAX_CLIENT_SECRET_LEN: usize = 1024;
/// Minutes a sign-in through the IdP may take, from redirect to callback.
pub const LOGIN_TTL_MINUTES: i64 = 10;

/// A connector's OpenID Connect provider (the client secret is kept sealed beside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpSettings {
    /// The issuer, exactly as the ID tokens' `iss` (its discovery document is at
    /// `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// Tessera's client id at the IdP.
    pub client_id: String,
    /// Scopes asked for; always holds `openid`.
    pub scopes: Vec<String>,
    /// The ID token claim holding the email.
    pub email_claim: String,
    /// Just-in-time creation of users signing in for the first time, with this role; `None`:
    /// only existing users sign in.
    pub jit_role: Option<RoleId>,
}

/// What an administrator sends for a connector's IdP.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdpInput {
    /// `oidc`.
    pub kind: String,
    /// Issuer URL.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Scopes (`openid` is added); empty: `openid email profile`.
    pub scopes: Vec<String>,
    /// Email claim; `None`: `email`.
    pub email_claim: Option<String>,
    /// Just-in-time creation with this role.
    pub jit_role: Option<RoleId>,
}

fn visible_ascii(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_graphic())
}

/// Checks an issuer URL: `https://host[/path]` (or `http://` when `allow_http`), no query, no
/// fragment, no credentials, visible ASCII, at most 2000 characters.
///
/// # Errors
/// `Invalid` naming `idp.issuer`.
pub fn parse_issuer(raw: &str, allow_http: bool) -> Result<String, DomainError> {
    let issuer = raw.trim();
    let rest = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://").filter(|_| allow_http));
    let host = rest.map(|r| r.split('/').next().unwrap_or_default());
    let ok = issuer.len() <= MAX_ISSUER_LEN
        && visible_ascii(issuer)
        && !issuer.contains(['?', '#', '@', '\\', '"', '<', '>'])
        && host.is_some_and(|h| !h.is_empty() && !h.starts_with(':'));
    if ok {
        Ok(issuer.to_owned())
    } else {
        Err(DomainError::invalid(
            "idp.issuer",
            if allow_http {
                "must be an http(s) URL without query, fragment or credentials"
            } else {
                "must be an https URL without query, fragment or credentials"
            },
        ))
    }
}

impl IdpInput {
    /// Checks and normalises the input.
    ///
    /// # Errors
    /// `Invalid` naming the field (`idp.type`, `idp.issuer`, `idp.client_id`, `idp.scopes`,
    /// `idp.email_claim`, `idp.jit_role`).
    pub fn parse(self, allow_http: bool) -> Result<IdpSettings, DomainError> {
        if self.kind != IDP_TYPE_OIDC {
            return Err(DomainError::invalid("idp.type", "must be \"oidc\""));
        }
        let issuer = parse_issuer(&self.issuer, allow_http)?;
        let client_id = self.client_id.trim().to_owned();
        if client_id.is_empty() || client_id.len() > 255 || !visible_ascii(&client_id) {
            return Err(DomainError::invalid(
                "idp.client_id",
                "must be 1 to 255 visible ASCII characters",
            ));
        }
        let mut scopes = vec!["openid".to_owned()];
        let asked = if self.scopes.is_empty() {
            vec!["email".to_owned(), "profile".to_owned()]
        } else {
            self.scopes
        };
        for s in asked {
            let s = s.trim().to_owned();
            if s.is_empty() || s.len() > 64 || !visible_ascii(&s) || s.contains(['"', '\\']) {
                return Err(DomainError::invalid(
                    "idp.scopes",
                    "each scope is 1 to 64 visible ASCII characters",
                ));
            }
            if !scopes.contains(&s) {
                scopes.push(s);
            }
        }
        if scopes.len() > MAX_SCOPES {
            return Err(DomainError::invalid(
                "idp.scopes",
                format!("at most {MAX_SCOPES} scopes"),
            ));
        }
        let email_claim = self
            .email_claim
            .map_or_else(|| DEFAULT_EMAIL_CLAIM.to_owned(), |c| c.trim().to_owned());
        if email_claim.is_empty()
            || email_claim.len() > 64
            || !email_claim
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
        {
            return Err(DomainError::invalid(
                "idp.email_claim",
                "must be 1 to 64 letters, digits, '_', '.', ':' or '-'",
            ));
        }
        if self.jit_role == Some(crate::roles::ids::OWNER) {
            return Err(DomainError::invalid(
                "idp.jit_role",
                "users created at sign-in can never be Owners",
            ));
        }
        Ok(IdpSettings {
            issuer,
            client_id,
            scopes,
            email_claim,
            jit_role: self.jit_role,
        })
    }
}

/// Checks a client secret's length (its content is the IdP's business).
///
/// # Errors
/// `Invalid` naming `idp.client_secret`.
pub fn check_client_secret(secret: &str) -> Result<(), DomainError> {
    if secret.is_empty() || secret.len() > MAX_CLIENT_SECRET_LEN {
        Err(DomainError::invalid(
            "idp.client_secret",
            format!("must be 1 to {MAX_CLIENT_SECRET_LEN} bytes"),
        ))
    } else {
        Ok(())
    }
}

/// Where the browser goes once an SSO sign-in completes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnTo {
    /// The callback answers the session as JSON (API clients).
    Api,
    /// The callback sets the session cookie and shows the sign-in page's success view.
    Page,
    /// The callback sets the session cookie and sends the browser on to this authorization
    /// request of Tessera's own (a [`Continuation`]: the OAuth sign-in of a third-party app).
    Continue(Continuation),
}

impl ReturnTo {
    /// Storage name (the continuation's path itself for [`ReturnTo::Continue`]).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Api => "api",
            Self::Page => "page",
            Self::Continue(c) => c.as_str(),
        }
    }

    /// Parses a storage or query name: `api`, `page`, or a [`Continuation`].
    ///
    /// # Errors
    /// `Invalid` naming `return_to`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "api" => Ok(Self::Api),
            "page" => Ok(Self::Page),
            _ => Continuation::parse(s).map(Self::Continue).map_err(|_| {
                DomainError::invalid(
                    "return_to",
                    "must be api, page, or a path of /oauth/authorize",
                )
            }),
        }
    }
}

/// The path the authorization endpoint continues at once the user has signed in.
pub const CONTINUATION_PATH: &str = "/oauth/authorize";

/// The longest continuation accepted (an authorization request's query: a scope string of the
/// whole catalog is about 2.4 KB).
pub const MAX_CONTINUATION_LEN: usize = 8192;

/// Where a sign-in continues: a path of Tessera's own authorization endpoint
/// (`/oauth/authorize?…`), never another origin (no open redirect): it starts with that exact
/// path, followed by nothing or a query, and holds only visible ASCII without `\` or `#`, so no
/// browser reads it as another host, scheme or path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation(String);

impl Continuation {
    /// Checks a continuation.
    ///
    /// # Errors
    /// `Invalid` naming `return_to`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let rest = s.strip_prefix(CONTINUATION_PATH);
        let shaped = matches!(rest, Some(r) if r.is_empty() || r.starts_with('?'));
        let clean = s
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'\\' && b != b'#');
        if shaped && clean && s.len() <= MAX_CONTINUATION_LEN {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::invalid(
                "return_to",
                "must be a path of /oauth/authorize",
            ))
        }
    }

    /// The path and query.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A sign-in in progress at the IdP: created when the browser is sent there, consumed (once)
/// by the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoLogin {
    /// SHA-256 of the `state` handed to the IdP (the state itself is never stored).
    pub state_digest: Vec<u8>,
    /// The connector.
    pub connector_id: SsoConnectorId,
    /// Its account.
    pub account_id: AccountId,
    /// The ID token must carry this nonce.
    pub nonce: String,
    /// The PKCE verifier, sealed (purpose `sso_login:<hex state digest>`).
    pub sealed_verifier: Vec<u8>,
    /// SHA-256 of the browser binding: a random value set as a cookie on the browser that
    /// started the sign-in, so that a callback URL carried to another browser (login CSRF)
    /// is refused.
    pub binding_digest: Vec<u8>,
    /// The redirect URI given to the IdP (the token request repeats it).
    pub redirect_uri: String,
    /// Where the browser goes at the end.
    pub return_to: ReturnTo,
    /// The client address that started it.
    pub client_ip: Option<String>,
    /// Start.
    pub created_at: DateTime<Utc>,
    /// It is refused after this.
    pub expires_at: DateTime<Utc>,
}

/// What a verified ID token says about its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpIdentity {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// The connector's email claim, when present.
    pub email: Option<String>,
    /// `email_verified`, when the IdP sent it.
    pub email_verified: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_continuation_is_only_a_path_of_the_authorization_endpoint() {
        for good in [
            "/oauth/authorize",
            "/oauth/authorize?client_id=abc&scope=openid%20email&state=x",
        ] {
            let parsed = ReturnTo::parse(good).unwrap();
            assert_eq!(parsed.as_str(), good);
            assert!(matches!(parsed, ReturnTo::Continue(_)));
        }
        assert_eq!(ReturnTo::parse("page").unwrap(), ReturnTo::Page);
        assert_eq!(ReturnTo::parse("api").unwrap(), ReturnTo::Api);
        for bad in [
            "",
            "https://evil.example/oauth/authorize",
            "//evil.example/oauth/authorize",
            "/\\evil.example/oauth/authorize",
            "/oauth/authorize/../../evil",
            "/oauth/authorizex",
            "/oauth/authorize#x",
            "/oauth/authorize?x=\\y",
            "/oauth/authorize? x",
            "/oauth/authorize?\nLocation: x",
            "/OAUTH/authorize",
            "oauth/authorize",
            "javascript:alert(1)",
            "/signin",
            "/oauth/authorize?é",
        ] {
            assert!(ReturnTo::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("/oauth/authorize?s={}", "a".repeat(MAX_CONTINUATION_LEN));
        assert!(ReturnTo::parse(&long).is_err());
    }

    fn input() -> IdpInput {
        IdpInput {
            kind: "oidc".into(),
            issuer: "https://idp.example.com/realms/acme".into(),
            client_id: "tessera".into(),
            ..IdpInput::default()
        }
    }

    #[test]
    fn defaults_ask_for_openid_email_profile_and_read_email() {
        let s = input().parse(false).unwrap();
        assert_eq!(s.scopes, ["openid", "email", "profile"]);
        assert_eq!(s.email_claim, "email");
        let s = IdpInput {
            scopes: vec!["email".into(), "openid".into(), "email".into()],
            ..input()
        }
        .parse(false)
        .unwrap();
        assert_eq!(s.scopes, ["openid", "email"], "openid first, no duplicates");
    }

    #[test]
    fn issuers_are_https_urls_unless_http_is_allowed() {
        for bad in [
            "http://idp.example.com",
            "ftp://idp.example.com",
            "https://",
            "https:///path",
            "https://idp.example.com?x=1",
            "https://idp.example.com#f",
            "https://user:pw@idp.example.com",
            "https://idp example.com",
            "idp.example.com",
        ] {
            assert!(parse_issuer(bad, false).is_err(), "{bad}");
        }
        assert!(parse_issuer("http://127.0.0.1:9000", true).is_ok());
        assert!(parse_issuer(&format!("https://a.com/{}", "p".repeat(2000)), false).is_err());
        assert_eq!(
            parse_issuer(" https://idp.example.com/ ", false).unwrap(),
            "https://idp.example.com/",
            "a trailing slash is kept: iss must match exactly"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let field = |i: IdpInput| match i.parse(false).unwrap_err() {
            DomainError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(IdpInput {
                kind: "saml".into(),
                ..input()
            }),
            "idp.type"
        );
        assert_eq!(
            field(IdpInput {
                client_id: " ".into(),
                ..input()
            }),
            "idp.client_id"
        );
        assert_eq!(
            field(IdpInput {
                client_id: "a b".into(),
                ..input()
            }),
            "idp.client_id"
        );
        assert_eq!(
            field(IdpInput {
                scopes: vec!["a\"b".into()],
                ..input()
            }),
            "idp.scopes"
        );
        assert_eq!(
            field(IdpInput {
                scopes: (0..25).map(|i| format!("s{i}")).collect(),
                ..input()
            }),
            "idp.scopes"
        );
        assert_eq!(
            field(IdpInput {
                email_claim: Some("e mail".into()),
                ..input()
            }),
            "idp.email_claim"
        );
        assert_eq!(
            field(IdpInput {
                jit_role: Some(crate::roles::ids::OWNER),
                ..input()
            }),
            "idp.jit_role"
        );
        assert!(check_client_secret("").is_err());
        assert!(check_client_secret(&"s".repeat(1025)).is_err());
        assert!(check_client_secret("s").is_ok());
    }
}
