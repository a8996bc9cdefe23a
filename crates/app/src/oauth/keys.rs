//! Tessera's token-signing keys: ES256 (P-256) pairs generated here, private halves sealed at
//! rest. One is current (it signs); retired ones stay published in the JWKS until every token
//! they signed has expired. Each instance reads them at most every
//! [`KEY_CACHE_SECS`](tessera_domain::oauth::KEY_CACHE_SECS), so a rotation reaches all of
//! them within that time; a token naming a key this instance has not read yet makes it read
//! again (at most once a second).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use parking_lot::{Mutex, RwLock};
use tessera_domain::audit::{Actor, ActorKind, AuditRecord, Outcome};
use tessera_domain::oauth::{KEY_CACHE_SECS, SigningKey, key_retention};
use tessera_domain::ports::RepoError;

use crate::App;
use crate::error::{AppError, AppResult};

/// How often a token naming an unknown key may make this instance read the keys again.
const UNKNOWN_KID_RELOAD: TimeDelta = TimeDelta::seconds(1);

/// Attempts at a rotation when another one commits meanwhile.
const ROTATE_ATTEMPTS: usize = 3;

/// When [`App::read_keys`] may answer with what is held instead of reading.
#[derive(Debug, Clone, Copy)]
enum Reading {
    /// Never: a key was just made.
    Always,
    /// When it is fresh (read within [`KEY_CACHE_SECS`]).
    UnlessFresh,
    /// When it was read after the given time (by another thread meanwhile).
    UnlessReadAfter(DateTime<Utc>),
}

/// The keys as this instance last read them.
pub(crate) struct Loaded {
    read_at: DateTime<Utc>,
    /// The current key: its `kid` and its private half.
    pub(crate) current: Option<(String, Arc<EncodingKey>)>,
    /// The published keys' public halves, by `kid`.
    pub(crate) verifying: HashMap<String, Arc<DecodingKey>>,
    /// The published keys, current first.
    pub(crate) jwks: JwkSet,
}

/// The keys this instance holds, re-read when older than [`KEY_CACHE_SECS`].
#[derive(Default)]
pub(crate) struct KeyRing {
    loaded: RwLock<Option<Arc<Loaded>>>,
    reading: Mutex<()>,
}

impl App {
    /// Makes sure a current signing key exists: creates one when none does (at startup; two
    /// instances starting together agree on one).
    ///
    /// # Errors
    /// Storage errors; `Internal` when the key cannot be generated.
    pub fn ensure_signing_key(&self) -> AppResult<()> {
        if self
            .ports
            .oauth_tokens
            .signing_keys()?
            .iter()
            .all(|k| k.retired_at.is_some())
        {
            let key = self.new_signing_key()?;
            if self.ports.oauth_tokens.create_first_signing_key(&key)? {
                tracing::info!(kid = %key.kid, "created the first OAuth token-signing key");
            }
        }
        self.read_keys(self.ports.clock.now(), Reading::Always)?;
        Ok(())
    }

    /// Makes a new current signing key (`tessera keys rotate`); the previous one stays
    /// published until the tokens it signed have expired, then is pruned. Answers the new
    /// key's `kid`.
    ///
    /// # Errors
    /// Storage errors; `Conflict` when other rotations kept committing meanwhile.
    pub fn rotate_signing_key(&self) -> AppResult<String> {
        let mut last = None;
        for _ in 0..ROTATE_ATTEMPTS {
            let key = self.new_signing_key()?;
            let audit = AuditRecord {
                account_id: None,
                actor: Actor {
                    kind: ActorKind::System,
                    id: "tessera keys rotate".into(),
                },
                action: "oauth.key.rotate".into(),
                target: Some(format!("oauth_signing_key:{}", key.kid)),
                outcome: Outcome::Success,
                client_ip: None,
                request_id: None,
                at: key.created_at,
                details: serde_json::json!({ "kid": key.kid }),
            };
            match self.ports.oauth_tokens.rotate_signing_key(&key, &audit) {
                Ok(()) => {
                    self.read_keys(self.ports.clock.now(), Reading::Always)?;
                    return Ok(key.kid);
                }
                Err(e @ RepoError::Conflict(_)) => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last.map_or_else(|| AppError::Internal("rotation".into()), Into::into))
    }

    /// The published keys as a JWK Set (RFC 7517): public halves only.
    ///
    /// # Errors
    /// Storage errors; `Internal` for a stored key that does not read.
    pub fn jwks(&self) -> AppResult<serde_json::Value> {
        let loaded = self.signing_keys(self.ports.clock.now())?;
        serde_json::to_value(&loaded.jwks).map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Removes the keys retired long enough ago that nothing they signed is valid any more.
    pub(crate) fn prune_signing_keys(&self, now: DateTime<Utc>) -> AppResult<u64> {
        Ok(self
            .ports
            .oauth_tokens
            .prune_signing_keys(now - key_retention())?)
    }

    /// The keys, as read within the last [`KEY_CACHE_SECS`].
    pub(crate) fn signing_keys(&self, now: DateTime<Utc>) -> AppResult<Arc<Loaded>> {
        if let Some(loaded) = self.fresh_keys(now) {
            return Ok(loaded);
        }
        self.read_keys(now, Reading::UnlessFresh)
    }

    fn fresh_keys(&self, now: DateTime<Utc>) -> Option<Arc<Loaded>> {
        self.signing_keys.loaded.read().clone().filter(|loaded| {
            now >= loaded.read_at && now - loaded.read_at < TimeDelta::seconds(KEY_CACHE_SECS)
        })
    }

    /// The public half of key `kid`, reading the keys again when it is unknown and they were
    /// not read within the last second.
    pub(crate) fn verifying_key(
        &self,
        kid: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<Arc<DecodingKey>>> {
        let loaded = self.signing_keys(now)?;
        if let Some(key) = loaded.verifying.get(kid) {
            return Ok(Some(key.clone()));
        }
        if now - loaded.read_at < UNKNOWN_KID_RELOAD {
            return Ok(None);
        }
        // Of the threads that meet an unknown kid together, one reads; the others take its read.
        Ok(self
            .read_keys(now, Reading::UnlessReadAfter(loaded.read_at))?
            .verifying
            .get(kid)
            .cloned())
    }

    /// The current key, for signing.
    pub(crate) fn current_signing_key(
        &self,
        now: DateTime<Utc>,
    ) -> AppResult<(String, Arc<EncodingKey>)> {
        self.signing_keys(now)?
            .current
            .clone()
            .ok_or_else(|| AppError::Internal("no current OAuth signing key".into()))
    }

    /// Reads the keys from storage, one thread at a time; what another thread read while this
    /// one waited may do, as `reading` says.
    fn read_keys(&self, now: DateTime<Utc>, reading: Reading) -> AppResult<Arc<Loaded>> {
        let _one_reader = self.signing_keys.reading.lock();
        let held = match reading {
            Reading::Always => None,
            Reading::UnlessFresh => self.fresh_keys(now),
            Reading::UnlessReadAfter(seen) => self
                .signing_keys
                .loaded
                .read()
                .clone()
                .filter(|loaded| loaded.read_at > seen),
        };
        if let Some(loaded) = held {
            return Ok(loaded);
        }
        let stored = self.ports.oauth_tokens.signing_keys()?;
        let mut loaded = Loaded {
            read_at: now,
            current: None,
            verifying: HashMap::new(),
            jwks: JwkSet { keys: Vec::new() },
        };
        for key in stored.iter().filter(|k| k.published_at(now)) {
            let jwk: Jwk = serde_json::from_str(&key.public_jwk)
                .map_err(|e| AppError::Internal(format!("signing key {}: {e}", key.kid)))?;
            let decoding = DecodingKey::from_jwk(&jwk)
                .map_err(|e| AppError::Internal(format!("signing key {}: {e}", key.kid)))?;
            if key.retired_at.is_none() && loaded.current.is_none() {
                let der = zeroize::Zeroizing::new(
                    self.ports
                        .sealer
                        .open(&SigningKey::seal_purpose(&key.kid), &key.sealed_private)
                        .map_err(|e| AppError::Internal(format!("signing key {}: {e}", key.kid)))?,
                );
                loaded.current = Some((key.kid.clone(), Arc::new(EncodingKey::from_ec_der(&der))));
                loaded.jwks.keys.insert(0, jwk);
            } else {
                loaded.jwks.keys.push(jwk);
            }
            loaded.verifying.insert(key.kid.clone(), Arc::new(decoding));
        }
        let loaded = Arc::new(loaded);
        *self.signing_keys.loaded.write() = Some(loaded.clone());
        Ok(loaded)
    }

    /// A new key pair: its `kid` is the RFC 7638 thumbprint of its public half.
    fn new_signing_key(&self) -> AppResult<SigningKey> {
        let pair = self.ports.key_pairs.p256().map_err(AppError::Internal)?;
        let pem = pem::parse(pair.private_pem.expose())
            .map_err(|e| AppError::Internal(format!("P-256 key: {e}")))?;
        let der = zeroize::Zeroizing::new(pem.into_contents());
        let encoding = EncodingKey::from_ec_der(&der);
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256)
            .map_err(|e| AppError::Internal(format!("P-256 key: {e}")))?;
        let kid = jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256);
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let public_jwk =
            serde_json::to_string(&jwk).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(SigningKey {
            sealed_private: self
                .ports
                .sealer
                .seal(&SigningKey::seal_purpose(&kid), &der),
            kid,
            public_jwk,
            created_at: self.ports.clock.now(),
            retired_at: None,
        })
    }
}
