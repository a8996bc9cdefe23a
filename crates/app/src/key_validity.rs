//! When keys work: the validity a new key gets and the checks on a change of it, under the
//! account's `max_key_lifetime_days`.

use serde_json::Value;
use tessera_domain::Entity;
use tessera_domain::ids::AccountId;
use tessera_domain::keys::{KeyValidity, ValidityChange};

use crate::App;
use crate::error::{AppError, AppResult};

impl App {
    /// The account's longest key lifetime, in days, when it sets one.
    fn max_key_lifetime(&self, account: AccountId) -> AppResult<Option<u32>> {
        Ok(self
            .ports
            .accounts
            .get_account(account)
            .map_err(AppError::from_repo(Entity::Account))?
            .max_key_lifetime_days)
    }

    /// The validity of a key created now in `account` with `asked`: by default, the account's
    /// longest lifetime from now; checked against it.
    ///
    /// # Errors
    /// `Invalid` naming `expires_at` or `not_before`.
    pub(crate) fn new_key_validity(
        &self,
        account: AccountId,
        asked: KeyValidity,
    ) -> AppResult<KeyValidity> {
        let now = self.ports.clock.now();
        let max = self.max_key_lifetime(account)?;
        let validity = KeyValidity::for_new_key(asked.not_before, asked.expires_at, now, max);
        validity.check(now, max, true)?;
        Ok(validity)
    }

    /// Checks `change` of a key whose validity is `current`: the result must be one a key may
    /// be given now (a new `expires_at` in the future and within the account's longest
    /// lifetime).
    ///
    /// # Errors
    /// `Invalid` naming `expires_at` or `not_before`.
    pub(crate) fn check_validity_change(
        &self,
        account: AccountId,
        current: KeyValidity,
        change: ValidityChange,
    ) -> AppResult<()> {
        let now = self.ports.clock.now();
        let expiry_set = change.expires_at.is_some();
        let max = if expiry_set {
            self.max_key_lifetime(account)?
        } else {
            None
        };
        change.apply(current).check(now, max, expiry_set)?;
        Ok(())
    }
}

/// `details` (an audit record's, a JSON object) with the ends of `change` it names: a time, or
/// `null` for an end opened.
pub(crate) fn with_validity(mut details: Value, change: &ValidityChange) -> Value {
    if let Value::Object(map) = &mut details {
        for (name, end) in [
            ("not_before", change.not_before),
            ("expires_at", change.expires_at),
        ] {
            if let Some(at) = end {
                map.insert(name.to_owned(), serde_json::json!(at));
            }
        }
    }
    details
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use serde_json::json;

    use super::*;
    use crate::testing::now;

    #[test]
    fn audit_details_name_only_the_ends_changed() {
        let change = ValidityChange {
            not_before: None,
            expires_at: Some(Some(now() + TimeDelta::days(1))),
        };
        assert_eq!(
            with_validity(json!({ "name": "k" }), &change),
            json!({ "name": "k", "expires_at": "2026-11-27T12:00:00Z" })
        );
        let opened = ValidityChange {
            not_before: Some(None),
            expires_at: None,
        };
        assert_eq!(
            with_validity(json!({}), &opened),
            json!({ "not_before": null })
        );
    }
}
