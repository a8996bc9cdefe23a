//! Re-sealing: after the secrets key is rotated, every sealed value is opened (under whichever
//! key sealed it) and sealed again under the current key, so that the old key can be dropped.

use tessera_domain::ids::{SsoConnectorId, UserId};
use tessera_domain::sso::SsoConnector;

use crate::App;
use crate::error::{AppError, AppResult};

/// What a re-sealing pass changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resealed {
    /// IdP client secrets sealed again.
    pub client_secrets: u64,
    /// TOTP seeds sealed again.
    pub totp_seeds: u64,
    /// OAuth token-signing keys sealed again.
    pub signing_keys: u64,
    /// Values already under the current key.
    pub current: u64,
}

/// Rows read per page.
const PAGE: u32 = 500;

impl App {
    /// Seals every stored secret again under the current key (an operator's command, not an
    /// API: it needs the server's configuration). A value changed meanwhile is left alone (it
    /// was sealed under the current key by its change).
    ///
    /// # Errors
    /// Storage errors; `Internal` naming a value no configured key opens.
    pub fn reseal_secrets(&self) -> AppResult<Resealed> {
        let mut done = Resealed::default();
        let mut after: Option<SsoConnectorId> = None;
        loop {
            let page = self.ports.sso.sealed_client_secrets(after, PAGE)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(*last);
            for (id, sealed) in page {
                let purpose = SsoConnector::secret_purpose(id);
                if let Some(fresh) = self.resealed(&purpose, &sealed, &mut done)? {
                    if self.ports.sso.replace_client_secret(id, &sealed, &fresh)? {
                        done.client_secrets += 1;
                    }
                }
            }
        }
        let mut after: Option<UserId> = None;
        loop {
            let page = self.ports.mfa.sealed_totp_seeds(after, PAGE)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(*last);
            for (user, sealed) in page {
                let purpose = crate::mfa::seal_purpose(user);
                if let Some(fresh) = self.resealed(&purpose, &sealed, &mut done)? {
                    if self.ports.mfa.replace_totp_seed(user, &sealed, &fresh)? {
                        done.totp_seeds += 1;
                    }
                }
            }
        }
        for key in self.ports.oauth_tokens.signing_keys()? {
            let purpose = tessera_domain::oauth::SigningKey::seal_purpose(&key.kid);
            if let Some(fresh) = self.resealed(&purpose, &key.sealed_private, &mut done)? {
                if self.ports.oauth_tokens.replace_sealed_signing_key(
                    &key.kid,
                    &key.sealed_private,
                    &fresh,
                )? {
                    done.signing_keys += 1;
                }
            }
        }
        Ok(done)
    }

    /// `sealed` sealed again under the current key, or `None` (counted) when it already is.
    fn resealed(
        &self,
        purpose: &str,
        sealed: &[u8],
        done: &mut Resealed,
    ) -> AppResult<Option<Vec<u8>>> {
        if self.ports.sealer.is_current(sealed) {
            done.current += 1;
            return Ok(None);
        }
        let plain = zeroize::Zeroizing::new(
            self.ports
                .sealer
                .open(purpose, sealed)
                .map_err(|e| AppError::Internal(format!("{purpose}: {e}")))?,
        );
        Ok(Some(self.ports.sealer.seal(purpose, &plain)))
    }
}

#[cfg(test)]
mod tests {
    use tessera_domain::ids::Hex32;
    use tessera_domain::ports::SealError;

    use crate::testing::Mocks;

    use super::*;

    #[test]
    fn old_values_are_sealed_again_and_current_ones_left_alone() {
        let id = |n: u8| SsoConnectorId(Hex32([n; 16]));
        let mut m = Mocks::new();
        m.sso
            .expect_sealed_client_secrets()
            .returning(move |after, _| {
                Ok(match after {
                    None => vec![(id(1), b"old:a".to_vec()), (id(2), b"new:b".to_vec())],
                    Some(_) => vec![],
                })
            });
        m.sealer
            .expect_is_current()
            .returning(|s| s.starts_with(b"new:"));
        m.sealer.expect_open().returning(|_, s| {
            s.strip_prefix(b"old:")
                .map(<[u8]>::to_vec)
                .ok_or(SealError::UnknownKey)
        });
        m.sealer
            .expect_seal()
            .returning(|_, p| [b"new:".as_slice(), p].concat());
        m.mfa.enrolments.lock().insert(
            UserId(4),
            (
                tessera_domain::mfa::TotpEnrolment {
                    account_id: crate::testing::ACME,
                    user_id: UserId(4),
                    sealed_secret: b"old:seed".to_vec(),
                    created_at: crate::testing::now(),
                    confirmed_at: Some(crate::testing::now()),
                    last_step: None,
                    recovery_codes_left: 10,
                },
                Vec::new(),
            ),
        );
        let mfa = m.mfa.clone();
        m.sso
            .expect_replace_client_secret()
            .withf(move |i, old, new| *i == id(1) && old == b"old:a" && new == b"new:a")
            .times(1)
            .returning(|_, _, _| Ok(true));
        m.oauth_tokens.expect_signing_keys().returning(|| {
            Ok(vec![tessera_domain::oauth::SigningKey {
                kid: "k1".into(),
                public_jwk: "{}".into(),
                sealed_private: b"old:private".to_vec(),
                created_at: crate::testing::now(),
                retired_at: None,
            }])
        });
        m.oauth_tokens
            .expect_replace_sealed_signing_key()
            .withf(|kid, old, new| kid == "k1" && old == b"old:private" && new == b"new:private")
            .times(1)
            .returning(|_, _, _| Ok(true));
        assert_eq!(
            m.app().reseal_secrets().unwrap(),
            Resealed {
                client_secrets: 1,
                totp_seeds: 1,
                signing_keys: 1,
                current: 1
            }
        );
        assert_eq!(
            mfa.enrolments.lock()[&UserId(4)].0.sealed_secret,
            b"new:seed"
        );
    }
}
