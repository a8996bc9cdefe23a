//! A user's own enrolment: shown once, sealed at rest, confirmed with a code, read, removed.

use tessera_domain::ids::UserId;
use tessera_domain::ports::Sealer;
use tessera_domain::roles::ids;
use tessera_domain::{DomainError, Entity, Secret};

use super::{fixture, hotp, meta, seed_of};
use crate::AppError;
use crate::testing::{access_key_principal, key_principal, principal};

fn dev() -> crate::Principal {
    principal(2, &[ids::DEVELOPER])
}

fn is_invalid_code(err: &AppError) -> bool {
    matches!(
        err,
        AppError::Invalid(DomainError::Invalid { field: "code", .. })
    )
}

#[test]
fn the_seed_is_shown_once_and_stored_sealed_for_its_user_only() {
    let fx = fixture(false, |_| {});
    let shown = fx.app.begin_totp_enrolment(&dev(), &meta()).unwrap();
    let seed = seed_of(&shown);
    assert_eq!(seed.len(), 20, "160 bits");
    let uri = shown.otpauth_uri.expose();
    assert!(
        uri.starts_with("otpauth://totp/Tessera:dev01%20%28account%201%29?secret="),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={}", shown.secret.expose())));
    assert!(uri.contains("issuer=Tessera"), "{uri}");
    let stored = fx.enrolment(2).expect("pending");
    assert!(!stored.is_confirmed());
    assert!(
        !stored.sealed_secret.windows(seed.len()).any(|w| w == seed),
        "the seed is not in the row in clear"
    );
    assert_eq!(
        fx.sealer.open("totp:2", &stored.sealed_secret).unwrap(),
        seed
    );
    assert!(
        fx.sealer.open("totp:3", &stored.sealed_secret).is_err(),
        "bound to its user: copied to another row it does not open"
    );
    assert_eq!(fx.audited("mfa.totp.enrol").len(), 1);
    let status = fx.app.mfa_status(&dev()).unwrap();
    assert!(!status.enrolled && status.pending && status.confirmed_at.is_none());
}

#[test]
fn starting_again_replaces_a_pending_enrolment_but_not_a_confirmed_one() {
    let fx = fixture(false, |_| {});
    let first = seed_of(&fx.app.begin_totp_enrolment(&dev(), &meta()).unwrap());
    let second = seed_of(&fx.app.begin_totp_enrolment(&dev(), &meta()).unwrap());
    assert_ne!(first, second);
    let err = fx
        .app
        .confirm_totp_enrolment(&dev(), &meta(), &fx.code(&first, 0))
        .unwrap_err();
    assert!(is_invalid_code(&err), "the replaced seed's code: {err:?}");
    let codes = fx
        .app
        .confirm_totp_enrolment(&dev(), &meta(), &fx.code(&second, 0))
        .unwrap();
    assert_eq!(codes.len(), 10);
    let before = fx.enrolment(2).unwrap();
    let err = fx.app.begin_totp_enrolment(&dev(), &meta()).unwrap_err();
    assert_eq!(err, AppError::MfaEnrolled);
    assert_eq!(fx.enrolment(2).unwrap(), before, "nothing changed");
    let err = fx
        .app
        .confirm_totp_enrolment(&dev(), &meta(), &fx.code(&second, 0))
        .unwrap_err();
    assert_eq!(err, AppError::MfaEnrolled);
}

#[test]
fn a_wrong_or_malformed_code_confirms_nothing() {
    let fx = fixture(false, |_| {});
    let seed = seed_of(&fx.app.begin_totp_enrolment(&dev(), &meta()).unwrap());
    let right = fx.code(&seed, 0).expose().to_owned();
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
    for bad in [
        wrong.as_str(),
        "",
        "12345",
        "1234567",
        "abcdef",
        "0000000000000000",
        &"9".repeat(10_000),
    ] {
        let err = fx
            .app
            .confirm_totp_enrolment(&dev(), &meta(), &Secret::new(bad))
            .unwrap_err();
        assert!(is_invalid_code(&err), "{bad:?}: {err:?}");
        let stored = fx.enrolment(2).unwrap();
        assert!(!stored.is_confirmed() && stored.last_step.is_none());
        assert_eq!(stored.recovery_codes_left, 0);
    }
    assert!(fx.audited("mfa.totp.confirm").is_empty());
    // Spaces and a dash in a right code are forgiven.
    let spaced = format!("{} {}", &right[..3], &right[3..]);
    fx.app
        .confirm_totp_enrolment(&dev(), &meta(), &Secret::new(spaced))
        .unwrap();
    let status = fx.app.mfa_status(&dev()).unwrap();
    assert!(status.enrolled && !status.pending);
    assert_eq!(status.recovery_codes_left, 10);
    assert_eq!(status.confirmed_at, Some(fx.now()));
}

#[test]
fn confirming_without_an_enrolment_is_not_found() {
    let fx = fixture(false, |_| {});
    let err = fx
        .app
        .confirm_totp_enrolment(&dev(), &meta(), &Secret::new("123456"))
        .unwrap_err();
    assert_eq!(err, AppError::NotFound(Entity::TotpEnrolment));
}

#[test]
fn recovery_codes_are_ten_distinct_and_stored_as_digests() {
    let fx = fixture(false, |_| {});
    let (_, codes) = fx.enrol(2, &[ids::DEVELOPER]);
    let mut distinct: Vec<&str> = codes.iter().map(Secret::expose).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    for c in &codes {
        let text = c.expose();
        assert_eq!(text.len(), 19, "xxxx-xxxx-xxxx-xxxx: {text}");
        assert!(
            text.split('-')
                .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_hexdigit()))
        );
    }
    let stored = fx.mfa.enrolments.lock();
    let (_, digests) = stored.get(&UserId(2)).unwrap();
    for (digest, used) in digests {
        assert!(!used);
        assert_eq!(digest.len(), 32, "SHA-256");
        assert!(
            codes
                .iter()
                .all(|c| !digest.windows(4).any(|w| w == &c.expose().as_bytes()[..4])),
            "no code in clear"
        );
    }
}

#[test]
fn only_the_users_own_session_changes_its_enrolment() {
    let fx = fixture(false, |_| {});
    let key = access_key_principal(2, &[ids::DEVELOPER]);
    let service = key_principal(Some(2), &[ids::DEVELOPER], &[ids::DEVELOPER]);
    let account_key = key_principal(None, &[], &[ids::OWNER]);
    for p in [&key, &service, &account_key] {
        assert_eq!(
            fx.app.begin_totp_enrolment(p, &meta()).unwrap_err(),
            AppError::SessionRequired
        );
        assert_eq!(
            fx.app
                .confirm_totp_enrolment(p, &meta(), &Secret::new("123456"))
                .unwrap_err(),
            AppError::SessionRequired
        );
        assert_eq!(
            fx.app
                .remove_totp_enrolment(p, &meta(), &Secret::new("123456"))
                .unwrap_err(),
            AppError::SessionRequired
        );
    }
    assert!(fx.enrolment(2).is_none(), "nothing changed");
    assert!(fx.audit.lock().is_empty() && fx.mfa.audit.lock().is_empty());
    // The user's access key may read the status; a service key may not.
    assert!(!fx.app.mfa_status(&key).unwrap().enrolled);
    assert_eq!(
        fx.app.mfa_status(&service).unwrap_err(),
        AppError::SessionRequired
    );
}

#[test]
fn removing_takes_a_current_or_recovery_code_and_a_wrong_one_counts_as_a_failure() {
    let fx = fixture(false, |_| {});
    let (seed, codes) = fx.enrol(2, &[ids::DEVELOPER]);
    let right = fx.code(&seed, 0).expose().to_owned();
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 7) % 1_000_000);
    let err = fx
        .app
        .remove_totp_enrolment(&dev(), &meta(), &Secret::new(wrong))
        .unwrap_err();
    assert!(is_invalid_code(&err), "{err:?}");
    assert!(fx.enrolment(2).unwrap().is_confirmed(), "still there");
    assert_eq!(
        fx.app
            .lockout_of(crate::testing::ACME, "dev01")
            .unwrap()
            .failures,
        1,
        "counted under the login, as a wrong password is"
    );
    // The code that confirmed it (the step before) is used: refused too.
    let replay = Secret::new(hotp(&seed, u64::try_from(fx.step() - 1).unwrap(), 6));
    assert!(is_invalid_code(
        &fx.app
            .remove_totp_enrolment(&dev(), &meta(), &replay)
            .unwrap_err()
    ));
    fx.app
        .remove_totp_enrolment(&dev(), &meta(), &codes[3])
        .unwrap();
    assert!(fx.enrolment(2).is_none());
    assert_eq!(fx.audited("mfa.totp.remove").len(), 1);
    assert_eq!(
        fx.app
            .remove_totp_enrolment(&dev(), &meta(), &Secret::new(right))
            .unwrap_err(),
        AppError::NotFound(Entity::TotpEnrolment)
    );
}

#[test]
fn removal_guesses_stop_at_the_login_limit() {
    let fx = fixture(false, |_| {});
    let (seed, _) = fx.enrol(2, &[ids::DEVELOPER]);
    let right = fx.code(&seed, 0).expose().to_owned();
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
    for _ in 0..5 {
        let err = fx
            .app
            .remove_totp_enrolment(&dev(), &meta(), &Secret::new(wrong.clone()))
            .unwrap_err();
        assert!(is_invalid_code(&err));
    }
    let err = fx
        .app
        .remove_totp_enrolment(&dev(), &meta(), &Secret::new(right))
        .unwrap_err();
    assert!(matches!(err, AppError::RateLimited { .. }), "{err:?}");
    assert!(fx.enrolment(2).unwrap().is_confirmed(), "nothing changed");
}
