//! What the test IdP is started with: its clients and users (written as `config.json` for
//! `tests/idp/idp.mjs`).

use std::path::Path;

use serde_json::{Map, Value, json};

/// How a client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the client id and secret.
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
}

impl ClientAuth {
    /// The OAuth name: `client_secret_basic` or `client_secret_post`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "client_secret_basic",
            Self::Post => "client_secret_post",
        }
    }
}

/// The algorithm the provider signs a client's ID tokens with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigningAlg {
    /// RSA PKCS#1 v1.5 with SHA-256 (the OpenID Connect default).
    Rs256,
    /// ECDSA P-256 with SHA-256.
    Es256,
}

impl SigningAlg {
    /// The JOSE name: `RS256` or `ES256`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }
}

/// A relying party registered at the provider.
#[derive(Clone, Debug)]
pub struct IdpClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
    /// The exact redirect URIs the provider accepts.
    pub redirect_uris: Vec<String>,
    /// Token endpoint authentication; the provider refuses any other method for this client.
    pub auth: ClientAuth,
    /// How its ID tokens are signed.
    pub id_token_alg: SigningAlg,
    /// A third-party client: the person is asked to consent. First-party clients (`false`) get
    /// `openid email profile` without a consent page.
    pub consent: bool,
}

impl IdpClient {
    /// A first-party client with `client_secret_basic` and RS256 ID tokens.
    #[must_use]
    pub fn new(client_id: &str, client_secret: &str, redirect_uri: &str) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uris: vec![redirect_uri.into()],
            auth: ClientAuth::Basic,
            id_token_alg: SigningAlg::Rs256,
            consent: false,
        }
    }
}

/// A person who can sign in at the provider.
#[derive(Clone, Debug)]
pub struct IdpUser {
    /// What the login form's first field takes.
    pub login: String,
    /// The password.
    pub password: String,
    /// The subject (`sub`); the login when `None`.
    pub sub: Option<String>,
    /// The `email` claim.
    pub email: String,
    /// The `email_verified` claim.
    pub email_verified: bool,
    /// More claims (`name`, `groups`, …), released with the `profile` scope.
    pub claims: Map<String, Value>,
}

impl IdpUser {
    /// A user whose email is verified, with no other claims; `sub` is the login.
    #[must_use]
    pub fn new(login: &str, password: &str, email: &str) -> Self {
        Self {
            login: login.into(),
            password: password.into(),
            sub: None,
            email: email.into(),
            email_verified: true,
            claims: Map::new(),
        }
    }
}

/// What the provider is started with.
#[derive(Clone, Debug)]
pub struct IdpConfig {
    /// The registered clients (at least one).
    pub clients: Vec<IdpClient>,
    /// The people (at least one).
    pub users: Vec<IdpUser>,
    /// `Cache-Control` on the discovery document and the JWKS; `None` serves them as
    /// oidc-provider does, without one. Default `public, max-age=300`.
    pub cache_control: Option<String>,
    /// `true`: the scope claims (email, …) only at the userinfo endpoint, not in the ID token
    /// (oidc-provider's strict default). Default `false`: they are in the ID token.
    pub conform_id_token_claims: bool,
}

impl IdpConfig {
    /// These clients and users, the other settings at their defaults.
    #[must_use]
    pub fn new(clients: Vec<IdpClient>, users: Vec<IdpUser>) -> Self {
        Self {
            clients,
            users,
            cache_control: Some("public, max-age=300".into()),
            conform_id_token_claims: false,
        }
    }

    pub(super) fn to_json(
        &self,
        port: u16,
        issuer: Option<&str>,
        generation: u64,
        keys: &Path,
    ) -> Value {
        let clients: Vec<Value> = self
            .clients
            .iter()
            .map(|c| {
                json!({
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "redirect_uris": c.redirect_uris,
                    "token_endpoint_auth_method": c.auth.as_str(),
                    "id_token_signed_response_alg": c.id_token_alg.as_str(),
                    "consent": c.consent,
                })
            })
            .collect();
        let users: Vec<Value> = self
            .users
            .iter()
            .map(|u| {
                json!({
                    "login": u.login,
                    "password": u.password,
                    "sub": u.sub.as_deref().unwrap_or(&u.login),
                    "email": u.email,
                    "email_verified": u.email_verified,
                    "claims": u.claims,
                })
            })
            .collect();
        let mut config = json!({
            "port": port,
            "clients": clients,
            "users": users,
            "generation": generation.to_string(),
            "keys_file": keys,
            "cache_control": self.cache_control,
            "conform_id_token_claims": self.conform_id_token_claims,
            "test_controls": true,
        });
        if let Some(issuer) = issuer {
            config["issuer"] = json!(issuer);
        }
        config
    }
}
