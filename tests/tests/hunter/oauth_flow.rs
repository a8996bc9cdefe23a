//! The authorization code flow in the hunt: a signed-in user consents to one of the account's
//! OAuth clients for every scope the client may ask, and (a public client, which needs no
//! secret) exchanges the code. What the grant holds, and what the access token carries, must be
//! within what the user holds ([`crate::apply::Handed::OAuthGrant`]).

use tessera_app::{App, AppError, AppResult, ClientCredentials, CodeExchange, Principal};
use tessera_domain::Secret;
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::OAuthClientId;
use tessera_domain::oauth::{AuthorizeParams, CodeChallenge, ScopeSet, TokenEndpointAuthMethod};

const VERIFIER: &str = "the-hunters-pkce-verifier-of-forty-three-chars";

/// Consents as `p` (signed in with `session`) to client `id` for all its scopes; answers the
/// scopes granted, or those the access token carries when the client is public.
pub fn consent_and_exchange(
    app: &App,
    p: &Principal,
    session: Option<&Secret>,
    id: OAuthClientId,
    m: &RequestMeta,
) -> AppResult<ScopeSet> {
    // Only a person's session consents: anything else is refused like the page refuses it.
    let Some(session) = session else {
        return Err(AppError::Forbidden(Vec::new()));
    };
    let client = app
        .oauth_client(&id.to_string())?
        .ok_or(AppError::NotFound(tessera_domain::Entity::OAuthClient))?;
    let params = AuthorizeParams {
        client_id: Some(id.to_string()),
        redirect_uri: client.settings.redirect_uris.first().cloned(),
        response_type: Some("code".into()),
        scope: Some(client.settings.scope_set().to_string()),
        state: None,
        code_challenge: Some(CodeChallenge::of_verifier(VERIFIER).as_str().to_owned()),
        code_challenge_method: Some("S256".into()),
        nonce: None,
    };
    let authorization = app.check_authorization(&params)?.map_err(|e| {
        AppError::Invalid(tessera_domain::DomainError::invalid(
            "authorization",
            format!("{e:?}"),
        ))
    })?;
    let granted = app.consent(p, &authorization.request)?.granted;
    let code = app.approve_authorization(p, session, &authorization.request, m)?;
    if client.is_confidential() {
        return Ok(granted);
    }
    let tokens = app.exchange_code(
        &CodeExchange {
            client: ClientCredentials {
                client_id: id.to_string(),
                secret: None,
                method: TokenEndpointAuthMethod::None,
            },
            code,
            redirect_uri: None,
            code_verifier: Some(VERIFIER.into()),
            issuer: "https://hunt.example".into(),
        },
        m,
    )?;
    assert!(
        tokens.access.scopes.is_subset(&granted),
        "the token carries more than the grant"
    );
    Ok(tokens.access.scopes)
}
