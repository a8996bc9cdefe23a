//! The OpenID Connect relying party of SSO sign-in, on the `openidconnect` crate: discovery and
//! JWKS fetched from each issuer and cached as their `Cache-Control` allows, the authorization
//! URL (code flow, PKCE S256), the code redeemed at the token endpoint, and the ID token verified
//! (signature by the issuer's keys, `iss`, `aud`, `azp`, `nonce`, `exp`, `iat`).
//!
//! A token signed by a key the cached JWKS lacks makes the JWKS be fetched again (at most once a
//! second per issuer) before it is refused: that is how a provider's key rotation is followed.

mod fetch;
mod slots;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthorizationCode, ClaimsVerificationError, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenFields, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    Scope, SignatureVerificationError, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tessera_domain::Secret;
use tessera_domain::ports::{AuthorizationRequest, IdpError, OidcRelyingParty};
use tessera_domain::sso::{IdpIdentity, IdpSettings};

use self::slots::{Call, Slots};

pub use fetch::{Fetcher, install_crypto_provider, is_public};

/// Every claim of the ID token beyond the standard ones, to read a connector's `email_claim`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

type IdToken = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<IdToken, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointMaybeSet,
>;

/// Seconds discovery and JWKS are kept when the provider does not say.
const DEFAULT_MAX_AGE: u64 = 300;
/// Shortest keeping, whatever the provider says: sign-in storms do not become fetch storms.
const MIN_MAX_AGE: u64 = 5;
/// Most issuers cached at once.
const MAX_ISSUERS: usize = 1000;
/// Shortest interval between two JWKS refreshes of one issuer for an unknown key.
const JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(1);
/// ID tokens issued longer ago than this are refused.
const MAX_ID_TOKEN_AGE: TimeDelta = TimeDelta::minutes(10);
/// Clock skew allowed for `iat` in the future.
const SKEW: TimeDelta = TimeDelta::seconds(60);
/// How long a provider whose discovery failed is answered "unavailable" without asking it.
const FAILURE_MEMORY: Duration = Duration::from_secs(30);

/// One issuer's documents.
#[derive(Clone)]
struct Provider {
    metadata: CoreProviderMetadata,
    metadata_until: Instant,
    jwks_until: Instant,
    jwks_fetched: Instant,
    /// When a token with an unknown key last forced a JWKS fetch.
    forced_at: Option<Instant>,
}

/// The relying party, with its private runtime for the HTTP calls (use cases are synchronous).
pub struct OpenIdConnect {
    /// `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    fetcher: Fetcher,
    providers: Mutex<HashMap<String, Provider>>,
    /// Calls in progress and waiting, per issuer.
    slots: Slots,
    /// Issuers whose discovery failed, when, and why.
    failures: Mutex<HashMap<String, (Instant, String)>>,
}

impl Drop for OpenIdConnect {
    /// Lets the runtime go without waiting for it (it may be dropped on an async thread).
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn unavailable(e: impl std::fmt::Display) -> IdpError {
    IdpError::Unavailable(e.to_string())
}

impl OpenIdConnect {
    /// A relying party; `allow_local` admits `http` issuers and non-public addresses
    /// (development and tests only).
    ///
    /// # Errors
    /// A message when the runtime or the HTTP client cannot be built.
    pub fn new(allow_local: bool) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tessera-oidc")
            .enable_all()
            .build()
            .map_err(|e| format!("OIDC runtime: {e}"))?;
        let fetcher = {
            let _inside = runtime.enter();
            Fetcher::new(allow_local)?
        };
        Ok(Self {
            runtime: Some(runtime),
            fetcher,
            providers: Mutex::new(HashMap::new()),
            slots: Slots::default(),
            failures: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for a call to `issuer` ([`Slots::acquire`]), or "unavailable" when its discovery
    /// failed within the last 30 seconds.
    fn call(&self, issuer: &str) -> Result<Call<'_>, IdpError> {
        if let Some((at, why)) = self.failures.lock().get(issuer) {
            if at.elapsed() < FAILURE_MEMORY {
                return Err(unavailable(format!("{why} (not asked again for 30 s)")));
            }
        }
        self.slots.acquire(issuer)
    }

    /// The issuer's cached discovery document while it is fresh (no call needed).
    fn fresh_metadata(&self, issuer: &str) -> Option<Provider> {
        self.providers
            .lock()
            .get(issuer)
            .filter(|p| p.metadata_until > Instant::now())
            .cloned()
    }

    /// Remembers that `issuer`'s discovery failed.
    fn failed(&self, issuer: &str, why: &IdpError) {
        let mut failures = self.failures.lock();
        if failures.len() >= MAX_ISSUERS {
            failures.retain(|_, (at, _)| at.elapsed() < FAILURE_MEMORY);
        }
        if failures.len() < MAX_ISSUERS {
            failures.insert(issuer.to_owned(), (Instant::now(), why.to_string()));
        }
    }

    fn block_on<T>(&self, f: impl Future<Output = T>) -> Result<T, IdpError> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| unavailable("the OIDC runtime has stopped"))?;
        Ok(runtime.block_on(f))
    }

    /// The issuer's documents, from the cache while fresh; `refresh_jwks` fetches the JWKS
    /// again (unless it was fetched within the last second).
    async fn provider(&self, issuer: &str, refresh_jwks: bool) -> Result<Provider, IdpError> {
        let now = Instant::now();
        let cached = self.providers.lock().get(issuer).cloned();
        let (metadata, metadata_until) = match &cached {
            Some(p) if p.metadata_until > now => (p.metadata.clone(), p.metadata_until),
            _ => match self.discover(issuer).await {
                Ok(found) => found,
                Err(e) => {
                    self.failed(issuer, &e);
                    return Err(e);
                }
            },
        };
        // A forced refresh is allowed once a second per issuer, whatever the cache says.
        let forced = refresh_jwks
            && cached.as_ref().is_none_or(|p| {
                p.forced_at
                    .is_none_or(|at| now.duration_since(at) >= JWKS_REFRESH_INTERVAL)
            });
        let jwks_fresh = cached.as_ref().is_some_and(|p| {
            p.jwks_until > now && p.metadata.jwks_uri() == metadata.jwks_uri() && !forced
        });
        let provider = match cached {
            Some(p) if jwks_fresh => Provider {
                metadata: metadata.set_jwks(p.metadata.jwks().clone()),
                metadata_until,
                ..p
            },
            _ => {
                let answer = self
                    .fetcher
                    .get_json(metadata.jwks_uri().url().as_str())
                    .await
                    .map_err(unavailable)?;
                let jwks: CoreJsonWebKeySet = serde_json::from_slice(&answer.body)
                    .map_err(|e| unavailable(format!("the JWKS is not a key set: {e}")))?;
                let age = fetch::max_age(&answer.headers, DEFAULT_MAX_AGE).max(MIN_MAX_AGE);
                Provider {
                    metadata: metadata.set_jwks(jwks),
                    metadata_until,
                    jwks_until: now + Duration::from_secs(age),
                    jwks_fetched: now,
                    forced_at: if forced {
                        Some(now)
                    } else {
                        cached.as_ref().and_then(|p| p.forced_at)
                    },
                }
            }
        };
        let mut providers = self.providers.lock();
        if providers.len() >= MAX_ISSUERS && !providers.contains_key(issuer) {
            let oldest = providers
                .iter()
                .min_by_key(|(_, p)| p.jwks_fetched)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                providers.remove(&oldest);
            }
        }
        providers.insert(issuer.to_owned(), provider.clone());
        Ok(provider)
    }

    /// Fetches `<issuer>/.well-known/openid-configuration`, which must name `issuer` exactly.
    async fn discover(&self, issuer: &str) -> Result<(CoreProviderMetadata, Instant), IdpError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let answer = self.fetcher.get_json(&url).await.map_err(unavailable)?;
        let metadata: CoreProviderMetadata = serde_json::from_slice(&answer.body)
            .map_err(|e| unavailable(format!("the discovery document is not valid: {e}")))?;
        if metadata.issuer().as_str() != issuer {
            return Err(unavailable(format!(
                "the discovery document names the issuer {}, not {issuer}",
                metadata.issuer().as_str()
            )));
        }
        let age = fetch::max_age(&answer.headers, DEFAULT_MAX_AGE).max(MIN_MAX_AGE);
        Ok((metadata, Instant::now() + Duration::from_secs(age)))
    }

    /// The client of `idp` over `provider`'s documents.
    fn client(
        provider: &Provider,
        idp: &IdpSettings,
        secret: Option<&Secret>,
        redirect_uri: &str,
    ) -> Result<OidcClient, IdpError> {
        let metadata = &provider.metadata;
        let token_url = metadata
            .token_endpoint()
            .cloned()
            .ok_or_else(|| unavailable("the provider has no token endpoint"))?;
        // client_secret_basic unless the provider only takes client_secret_post.
        let post_only = metadata
            .token_endpoint_auth_methods_supported()
            .is_some_and(|m| {
                !m.contains(&CoreClientAuthMethod::ClientSecretBasic)
                    && m.contains(&CoreClientAuthMethod::ClientSecretPost)
            });
        let client = Client::from_provider_metadata(
            metadata.clone(),
            ClientId::new(idp.client_id.clone()),
            secret.map(|s| ClientSecret::new(s.expose().to_owned())),
        )
        .set_token_uri(token_url)
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_owned())
                .map_err(|e| unavailable(format!("redirect URI: {e}")))?,
        )
        .set_auth_type(if post_only {
            AuthType::RequestBody
        } else {
            AuthType::BasicAuth
        });
        Ok(client)
    }

    /// Redeems the code and verifies the ID token against `provider`.
    async fn redeem_with(
        &self,
        provider: &Provider,
        idp: &IdpSettings,
        secret: &Secret,
        request: AuthorizationRequest<'_>,
        code: &str,
    ) -> Result<StandardTokenResponse<IdToken, CoreTokenType>, IdpError> {
        let client = Self::client(provider, idp, Some(secret), request.redirect_uri)?;
        let fetcher = self.fetcher.clone();
        let http = move |req: openidconnect::HttpRequest| {
            let fetcher = fetcher.clone();
            async move { send(&fetcher, req).await }
        };
        client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(request.pkce_verifier.to_owned()))
            .request_async(&http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => IdpError::Refused(format!(
                    "{}{}",
                    r.error(),
                    r.error_description()
                        .map(|d| format!(": {}", d.chars().take(200).collect::<String>()))
                        .unwrap_or_default()
                )),
                RequestTokenError::Parse(e, _) => {
                    unavailable(format!("the token response is not valid: {e}"))
                }
                other => unavailable(other),
            })
    }

    /// Verifies the response's ID token and reads the identity.
    fn identity(
        provider: &Provider,
        idp: &IdpSettings,
        secret: &Secret,
        request: AuthorizationRequest<'_>,
        response: &StandardTokenResponse<IdToken, CoreTokenType>,
    ) -> Result<IdpIdentity, ClaimsVerificationError> {
        let client = Self::client(provider, idp, Some(secret), request.redirect_uri)
            .map_err(|e| ClaimsVerificationError::Other(e.to_string()))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| ClaimsVerificationError::Other("no ID token in the answer".into()))?;
        let now = Utc::now();
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs([
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
                CoreJwsSigningAlgorithm::RsaSsaPssSha256,
                CoreJwsSigningAlgorithm::RsaSsaPssSha384,
                CoreJwsSigningAlgorithm::RsaSsaPssSha512,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
                CoreJwsSigningAlgorithm::EcdsaP384Sha384,
                CoreJwsSigningAlgorithm::EdDsa,
            ])
            .set_issue_time_verifier_fn(move |iat| {
                if iat > now + SKEW {
                    Err("issued in the future".into())
                } else if iat < now - MAX_ID_TOKEN_AGE {
                    Err("issued too long ago".into())
                } else {
                    Ok(())
                }
            });
        let claims = id_token.claims(&verifier, &Nonce::new(request.nonce.to_owned()))?;
        let email = if idp.email_claim == "email" {
            claims.email().map(|e| e.as_str().to_owned())
        } else {
            claims
                .additional_claims()
                .claims
                .get(&idp.email_claim)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        Ok(IdpIdentity {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email,
            email_verified: claims.email_verified(),
        })
    }
}

/// Sends an `openidconnect` request through the guarded client.
async fn send(
    fetcher: &Fetcher,
    req: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, std::io::Error> {
    let (parts, body) = req.into_parts();
    let url = reqwest::Url::parse(&parts.uri.to_string()).map_err(std::io::Error::other)?;
    let mut request = fetcher.client().request(parts.method, url).body(body);
    for (name, value) in &parts.headers {
        request = request.header(name, value);
    }
    let request = request.build().map_err(std::io::Error::other)?;
    let answer = fetcher.send(request).await.map_err(std::io::Error::other)?;
    let mut response = openidconnect::http::Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        response = response.header(name, value);
    }
    response.body(answer.body).map_err(std::io::Error::other)
}

impl OidcRelyingParty for OpenIdConnect {
    fn authorization_url(
        &self,
        idp: &IdpSettings,
        request: AuthorizationRequest<'_>,
    ) -> Result<String, IdpError> {
        // Only the discovery document is needed: from the cache while fresh, without a call.
        let provider = match self.fresh_metadata(&idp.issuer) {
            Some(provider) => provider,
            None => {
                let _call = self.call(&idp.issuer)?;
                self.block_on(self.provider(&idp.issuer, false))??
            }
        };
        let client = Self::client(&provider, idp, None, request.redirect_uri)?;
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            request.pkce_verifier.to_owned(),
        ));
        let state = request.state.to_owned();
        let nonce = request.nonce.to_owned();
        let mut auth = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .set_pkce_challenge(challenge);
        for scope in idp.scopes.iter().filter(|s| s.as_str() != "openid") {
            auth = auth.add_scope(Scope::new(scope.clone()));
        }
        let (url, _, _) = auth.url();
        Ok(url.to_string())
    }

    fn redeem(
        &self,
        idp: &IdpSettings,
        client_secret: &Secret,
        request: AuthorizationRequest<'_>,
        code: &str,
    ) -> Result<IdpIdentity, IdpError> {
        let _call = self.call(&idp.issuer)?;
        self.block_on(async {
            let provider = self.provider(&idp.issuer, false).await?;
            let response = self
                .redeem_with(&provider, idp, client_secret, request, code)
                .await?;
            match Self::identity(&provider, idp, client_secret, request, &response) {
                Err(ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                )) => {
                    // A key the cached JWKS lacks: the provider may have rotated its keys.
                    let provider = self.provider(&idp.issuer, true).await?;
                    Self::identity(&provider, idp, client_secret, request, &response)
                }
                other => other,
            }
            .map_err(|e| {
                IdpError::InvalidIdToken(match e {
                    ClaimsVerificationError::SignatureVerification(inner) => {
                        format!("signature: {inner}")
                    }
                    other => other.to_string(),
                })
            })
        })?
    }
}

/// Identity providers are turned off (the relying party could not be built): every sign-in
/// through one answers unavailable, with the reason.
pub struct NoOidc(pub String);

impl OidcRelyingParty for NoOidc {
    fn authorization_url(
        &self,
        _: &IdpSettings,
        _: AuthorizationRequest<'_>,
    ) -> Result<String, IdpError> {
        Err(unavailable(&self.0))
    }

    fn redeem(
        &self,
        _: &IdpSettings,
        _: &Secret,
        _: AuthorizationRequest<'_>,
        _: &str,
    ) -> Result<IdpIdentity, IdpError> {
        Err(unavailable(&self.0))
    }
}
