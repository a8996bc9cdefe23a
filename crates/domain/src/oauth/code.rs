//! The authorization code flow's stored objects: single-use authorization codes (RFC 6749
//! §4.1.2) and rotating refresh tokens (RFC 6749 §6, OAuth 2.0 Security BCP §4.14). Both are
//! random values shown once and stored only as SHA-256 digests.

use chrono::{DateTime, TimeDelta, Utc};

use crate::ids::{AccountId, UserId};
use crate::oauth::ScopeSet;
use crate::oauth::pkce::CodeChallenge;

/// How long an authorization code can be redeemed: RFC 6749 §4.1.2 says at most 10 minutes; the
/// browser hands it to the client at once, so two minutes are ample.
pub const CODE_TTL: TimeDelta = TimeDelta::seconds(120);

/// How long a spent or expired code is kept so that a replay is recognised (and its grant
/// revoked) instead of answered as unknown.
pub const CODE_RETENTION: TimeDelta = TimeDelta::hours(1);

/// How long a refresh token lives unused: 30 days. Each use replaces it with a new one.
pub const REFRESH_TTL: TimeDelta = TimeDelta::days(30);

/// How long a spent refresh token is kept to recognise its reuse: as long as it could have lived.
pub const REFRESH_RETENTION: TimeDelta = REFRESH_TTL;

/// The prefix of an authorization code (so a leaked one is recognisable in a scanner).
pub const CODE_PREFIX: &str = "tsc_";

/// The prefix of a refresh token.
pub const REFRESH_PREFIX: &str = "tsf_";

/// An issued authorization code, as stored: bound to the client, the redirect URI, the PKCE
/// challenge, the nonce, the granted scopes, the user and the grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// SHA-256 of the code.
    pub digest: Vec<u8>,
    /// The client it was issued to.
    pub client_id: String,
    /// The grant it belongs to (revoked when the code is replayed).
    pub grant_id: String,
    /// The user's account.
    pub account_id: AccountId,
    /// The user who consented.
    pub user_id: UserId,
    /// The redirect URI of the authorization request (the token request must repeat it).
    pub redirect_uri: String,
    /// Whether the authorization request named the redirect URI (RFC 6749 §4.1.3: then the
    /// token request must too).
    pub redirect_uri_given: bool,
    /// The PKCE challenge, when the request had one.
    pub code_challenge: Option<CodeChallenge>,
    /// The OpenID Connect nonce, when the request had one.
    pub nonce: Option<String>,
    /// The scopes granted.
    pub scopes: ScopeSet,
    /// When the user signed in (`auth_time`).
    pub auth_time: DateTime<Utc>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops being redeemable.
    pub expires_at: DateTime<Utc>,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// The code was unspent and is now spent: this caller alone has it (its expiry is still to
    /// be checked).
    Redeemed(AuthorizationCode),
    /// The code had been spent already: a replay (its grant must be revoked).
    Replayed(AuthorizationCode),
    /// No such code (never issued, or purged).
    Unknown,
}

/// A refresh token, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// SHA-256 of the token.
    pub digest: Vec<u8>,
    /// The grant it belongs to.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The user's account.
    pub account_id: AccountId,
    /// The user.
    pub user_id: UserId,
    /// The scopes of the grant (a refresh may narrow the access token's, never these).
    pub scopes: ScopeSet,
    /// When the user signed in (the ID token's `auth_time` after a refresh).
    pub auth_time: DateTime<Utc>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it lapses unused.
    pub expires_at: DateTime<Utc>,
    /// When it was spent (rotated or revoked), if it was.
    pub used_at: Option<DateTime<Utc>>,
}

impl RefreshToken {
    /// Whether it can still be used at `now`: unspent and unexpired.
    #[must_use]
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

/// What rotating a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRotation {
    /// The old token is spent and the new one stored.
    Rotated,
    /// The old token had been spent already (a concurrent or later reuse): nothing was stored,
    /// and its grant must be revoked.
    Replayed,
}
