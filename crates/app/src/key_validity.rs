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
    use chrono::{DateTime, TimeDelta, Utc};
    use serde_json::json;
    use tessera_domain::DomainError;
    use tessera_domain::Secret;
    use tessera_domain::account::Account;
    use tessera_domain::audit::RequestMeta;
    use tessera_domain::ids::UserId;
    use tessera_domain::keys::{AccessKey, KeyStatus};
    use tessera_domain::ports::{AccessKeyChanges, GeneratedKeyPair, ServiceKeyChanges};
    use tessera_domain::roles::ids;

    use super::*;
    use crate::testing::{ACME, KEY, Mocks, now, principal, service_key, user};
    use crate::{CreateServiceKey, UpdateAccount};

    fn acme(max_key_lifetime_days: Option<u32>) -> Account {
        Account {
            id: ACME,
            name: "Acme".into(),
            email: "acme@example.com".into(),
            parent_id: None,
            active: true,
            created_at: now(),
            max_key_lifetime_days,
            require_mfa: false,
        }
    }

    fn days(n: i64) -> DateTime<Utc> {
        now() + TimeDelta::days(n)
    }

    fn ends(not_before: Option<DateTime<Utc>>, expires_at: Option<DateTime<Utc>>) -> KeyValidity {
        KeyValidity {
            not_before,
            expires_at,
        }
    }

    /// Mocks of an account (with `max` days as its key lifetime) whose user 2 creates access
    /// keys for itself: the store's create answers with what it was given.
    fn creating_access_keys(max: Option<u32>) -> Mocks {
        let mut m = Mocks::new();
        m.accounts
            .expect_get_account()
            .returning(move |_| Ok(acme(max)));
        m.users
            .expect_get_user()
            .returning(|_, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
        m.ids
            .expect_access_key_id()
            .returning(|| "AKABCDEFGHIJ01234567".into());
        m.ids.expect_secret().returning(|| Secret::new("s3cret"));
        m
    }

    fn stored(new: &tessera_domain::ports::NewAccessKey) -> AccessKey {
        AccessKey {
            id: new.id.clone(),
            account_id: new.account_id,
            user_id: new.user_id,
            name: new.name.clone(),
            status: KeyStatus::Active,
            created_at: new.created_at,
            last_used_at: None,
            last_used_from: None,
            validity: new.validity,
            allowed_ips: Vec::new(),
        }
    }

    #[test]
    fn a_new_key_of_a_limited_account_expires_at_the_limit_unless_it_asks_less() {
        let mut m = creating_access_keys(Some(30));
        m.access_keys
            .expect_create_access_key()
            .withf(|k, _, audit| {
                k.validity == ends(None, Some(days(30)))
                    && audit.details["expires_at"] == json!(days(30))
            })
            .times(1)
            .returning(|k, _, _| Ok(stored(k)));
        m.access_keys
            .expect_create_access_key()
            .withf(|k, _, _| k.validity == ends(Some(days(1)), Some(days(2))))
            .times(1)
            .returning(|k, _, _| Ok(stored(k)));
        let app = m.app();
        let me = principal(2, &[ids::DEVELOPER]);
        let meta = RequestMeta::default();
        let made = app
            .create_access_key(&me, &meta, ACME, UserId(2), None, KeyValidity::default())
            .unwrap();
        assert_eq!(made.key.validity.expires_at, Some(days(30)));
        app.create_access_key(
            &me,
            &meta,
            ACME,
            UserId(2),
            None,
            ends(Some(days(1)), Some(days(2))),
        )
        .unwrap();
    }

    #[test]
    fn a_bad_validity_stores_nothing() {
        let cases = [
            (
                None,
                ends(None, Some(now())),
                "expires_at",
                "must be in the future",
            ),
            (
                None,
                ends(Some(days(3)), Some(days(2))),
                "not_before",
                "must be before expires_at",
            ),
            (
                Some(30),
                ends(None, Some(days(30) + TimeDelta::seconds(1))),
                "expires_at",
                "must be at most 30 days from now (the account's max_key_lifetime_days)",
            ),
            (
                None,
                ends(None, Some("+10000-01-01T00:00:00Z".parse().unwrap())),
                "expires_at",
                "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z",
            ),
        ];
        for (max, validity, field, reason) in cases {
            let mut m = creating_access_keys(max);
            m.access_keys.expect_create_access_key().times(0);
            m.service_keys.expect_create_service_key().times(0);
            let app = m.app();
            let me = principal(2, &[ids::DEVELOPER]);
            let meta = RequestMeta::default();
            let expected = AppError::Invalid(DomainError::Invalid {
                field,
                reason: reason.into(),
            });
            assert_eq!(
                app.create_access_key(&me, &meta, ACME, UserId(2), None, validity)
                    .unwrap_err(),
                expected
            );
            assert_eq!(
                app.create_service_key(
                    &me,
                    &meta,
                    ACME,
                    CreateServiceKey {
                        validity,
                        ..CreateServiceKey::default()
                    },
                )
                .unwrap_err(),
                expected
            );
        }
    }

    #[test]
    fn the_method_apis_create_key_gets_the_accounts_limit_too() {
        let mut m = creating_access_keys(Some(7));
        m.ids.expect_uuid().returning(|| uuid::Uuid::from_u128(7));
        m.key_pairs.expect_rsa_2048().returning(|| {
            Ok(GeneratedKeyPair {
                private_pem: Secret::new("private"),
                public_pem: "public".into(),
            })
        });
        m.service_keys
            .expect_create_service_key()
            .withf(|k, _, _| k.validity == ends(None, Some(days(7))))
            .times(1)
            .returning(|k, _, _| {
                let mut key = service_key(k.id, k.owner.map(|u| u.0), &k.roles);
                key.validity = k.validity;
                Ok(key)
            });
        let made = m
            .app()
            .create_service_key(
                &principal(2, &[ids::DEVELOPER]),
                &RequestMeta::default(),
                ACME,
                CreateServiceKey::default(),
            )
            .unwrap();
        assert_eq!(made.key.validity.expires_at, Some(days(7)));
    }

    /// Mocks holding `KEY`, owned by user 2 (Developer), with `roles` and `validity`.
    fn holding_key(
        roles: &'static [tessera_domain::roles::RoleId],
        validity: KeyValidity,
    ) -> Mocks {
        let mut m = Mocks::new();
        m.accounts
            .expect_get_account()
            .returning(|_| Ok(acme(Some(90))));
        m.users
            .expect_get_user()
            .returning(|_, _| Ok(user(2, "dev01", &[ids::DEVELOPER])));
        m.service_keys
            .expect_get_service_key()
            .returning(move |_, id| {
                let mut k = service_key(id, Some(2), roles);
                k.validity = validity;
                Ok(k)
            });
        m
    }

    fn revalidate(validity: ValidityChange) -> ServiceKeyChanges {
        ServiceKeyChanges {
            validity,
            ..ServiceKeyChanges::default()
        }
    }

    #[test]
    fn reviving_ones_own_key_needs_its_roles_but_ending_it_sooner_does_not() {
        // User 2 lost the Admin role its key still holds.
        let expired = ends(None, Some(now() - TimeDelta::days(1)));
        let extend = ValidityChange {
            not_before: None,
            expires_at: Some(Some(days(10))),
        };
        let mut m = holding_key(&[ids::ADMIN], expired);
        m.service_keys.expect_update_service_key().times(0);
        let me = principal(2, &[ids::DEVELOPER]);
        let err = m
            .app()
            .update_service_key(&me, &RequestMeta::default(), ACME, KEY, revalidate(extend))
            .unwrap_err();
        assert!(matches!(err, AppError::RoleNotGrantable(_)), "{err:?}");

        let live = ends(None, Some(days(10)));
        let sooner = ValidityChange {
            not_before: None,
            expires_at: Some(Some(days(1))),
        };
        let mut m = holding_key(&[ids::ADMIN], live);
        m.service_keys
            .expect_update_service_key()
            .withf(move |_, _, c, a| {
                c.validity == sooner && a.details["expires_at"] == json!(days(1))
            })
            .times(1)
            .returning(|_, id, _, _| Ok(service_key(id, Some(2), &[ids::ADMIN])));
        m.app()
            .update_service_key(&me, &RequestMeta::default(), ACME, KEY, revalidate(sooner))
            .unwrap();
    }

    #[test]
    fn a_new_expiry_obeys_the_account_limit_and_clearing_it_is_refused_under_one() {
        let me = principal(2, &[ids::DEVELOPER]);
        for (change, reason) in [
            (
                ValidityChange {
                    not_before: None,
                    expires_at: Some(None),
                },
                "must be set: the account's keys live at most 90 days (max_key_lifetime_days)",
            ),
            (
                ValidityChange {
                    not_before: None,
                    expires_at: Some(Some(days(91))),
                },
                "must be at most 90 days from now (the account's max_key_lifetime_days)",
            ),
        ] {
            let mut m = holding_key(&[ids::DEVELOPER], ends(None, Some(days(10))));
            m.service_keys.expect_update_service_key().times(0);
            assert_eq!(
                m.app()
                    .update_service_key(&me, &RequestMeta::default(), ACME, KEY, revalidate(change))
                    .unwrap_err(),
                AppError::Invalid(DomainError::Invalid {
                    field: "expires_at",
                    reason: reason.into(),
                })
            );
        }
    }

    #[test]
    fn another_users_access_key_expiry_needs_what_that_user_holds() {
        let mut m = creating_access_keys(None);
        m.access_keys.expect_update_access_key().times(0);
        m.access_keys.expect_get_access_key().times(0);
        m.users.checkpoint();
        m.users
            .expect_get_user()
            .returning(|_, id| Ok(user(id.0, "owner1", &[ids::OWNER])));
        // A User Manager with API Credentials write (Administrator) does not hold what an
        // Owner holds.
        let admin = principal(3, &[ids::ADMINISTRATOR]);
        let err = m
            .app()
            .update_access_key(
                &admin,
                &RequestMeta::default(),
                ACME,
                UserId(1),
                &"AKABCDEFGHIJ01234567".parse().unwrap(),
                AccessKeyChanges {
                    validity: ValidityChange {
                        not_before: None,
                        expires_at: Some(None),
                    },
                    ..AccessKeyChanges::default()
                },
            )
            .unwrap_err();
        assert!(
            matches!(err, AppError::Forbidden(_) | AppError::RoleNotGrantable(_)),
            "{err:?}"
        );
    }

    #[test]
    fn the_key_lifetime_is_an_account_setting() {
        let lifetime = |days: Option<u32>| UpdateAccount {
            max_key_lifetime_days: Some(days),
            ..UpdateAccount::default()
        };
        let mut m = Mocks::new();
        m.accounts.expect_update_account().times(0);
        let app = m.app();
        let meta = RequestMeta::default();
        let accountant = principal(4, &[ids::ACCOUNTANT]);
        assert!(matches!(
            app.update_account(&accountant, &meta, ACME, lifetime(Some(30))),
            Err(AppError::Forbidden(_))
        ));
        let owner = principal(1, &[ids::OWNER]);
        for bad in [0, 3651] {
            assert_eq!(
                app.update_account(&owner, &meta, ACME, lifetime(Some(bad)))
                    .unwrap_err(),
                AppError::Invalid(DomainError::Invalid {
                    field: "max_key_lifetime_days",
                    reason: "must be between 1 and 3650".into(),
                })
            );
        }
        let mut m = Mocks::new();
        m.accounts
            .expect_update_account()
            .withf(|_, c, a| {
                c.max_key_lifetime_days == Some(None)
                    && a.details["max_key_lifetime_days"].is_null()
                    && a.details.get("max_key_lifetime_days").is_some()
            })
            .times(1)
            .returning(|_, _, _| Ok(acme(None)));
        m.app()
            .update_account(&owner, &meta, ACME, lifetime(None))
            .unwrap();
    }

    #[test]
    fn lists_filter_on_expiry_at_the_clocks_now() {
        let mut m = creating_access_keys(None);
        let key = |n: u8, end: Option<DateTime<Utc>>| AccessKey {
            id: format!("AKABCDEFGHIJ0123456{n}").parse().unwrap(),
            account_id: ACME,
            user_id: UserId(2),
            name: None,
            status: KeyStatus::Active,
            created_at: now(),
            last_used_at: None,
            last_used_from: None,
            validity: ends(None, end),
            allowed_ips: Vec::new(),
        };
        let keys = vec![key(1, Some(now())), key(2, Some(days(1))), key(3, None)];
        m.access_keys
            .expect_list_access_keys()
            .returning(move |_, _| Ok(keys.clone()));
        let app = m.app();
        let me = principal(2, &[ids::DEVELOPER]);
        let ids_of = |expired| {
            app.list_access_keys(&me, ACME, UserId(2), expired)
                .unwrap()
                .into_iter()
                .map(|k| k.id.to_string().chars().last().unwrap_or(' '))
                .collect::<String>()
        };
        assert_eq!(ids_of(None), "123");
        assert_eq!(ids_of(Some(true)), "1");
        assert_eq!(ids_of(Some(false)), "23");
    }

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
