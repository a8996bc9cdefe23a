//! The codes: RFC 6238's own test vectors, agreement with an independent HOTP (RFC 4226 on
//! aws-lc's HMAC-SHA-1) over many random seeds and times, skew and replay, what a typed code
//! reads as.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use chrono::{DateTime, Utc};
use tessera_domain::Secret;
use totp_rs::{Algorithm, TOTP};

use super::*;
use crate::infra::OsRandom;
use crate::mfa::tests::hotp;

/// RFC 6238 Appendix B, SHA-1 rows: the seed is the ASCII string "12345678901234567890",
/// eight digits, 30-second steps.
const RFC6238_SHA1: [(u64, &str); 6] = [
    (59, "94287082"),
    (1_111_111_109, "07081804"),
    (1_111_111_111, "14050471"),
    (1_234_567_890, "89005924"),
    (2_000_000_000, "69279037"),
    (20_000_000_000, "65353130"),
];

const RFC_SEED: &[u8] = b"12345678901234567890";

#[test]
fn totp_rs_gives_rfc_6238s_sha1_test_vectors() {
    let totp = TOTP::new(
        Algorithm::SHA1,
        8,
        1,
        30,
        RFC_SEED.to_vec(),
        None,
        String::new(),
    )
    .unwrap();
    for (time, code) in RFC6238_SHA1 {
        assert_eq!(totp.generate(time), code, "T = {time}");
    }
}

#[test]
fn the_independent_hotp_gives_rfc_6238s_vectors_and_rfc_4226s() {
    for (time, code) in RFC6238_SHA1 {
        assert_eq!(hotp(RFC_SEED, time / 30, 8), code, "T = {time}");
    }
    // RFC 4226 Appendix D: HOTP values for counters 0–9, six digits.
    let rfc4226 = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    for (counter, code) in (0u64..).zip(rfc4226) {
        assert_eq!(hotp(RFC_SEED, counter, 6), code, "counter {counter}");
    }
}

#[test]
fn the_generator_agrees_with_the_independent_hotp_on_random_seeds_and_times() {
    let rng = SystemRandom::new();
    for _ in 0..500 {
        let mut seed = [0u8; 20];
        rng.fill(&mut seed).unwrap();
        let mut t = [0u8; 8];
        rng.fill(&mut t).unwrap();
        // Any time up to the year 9999.
        let time = u64::from_le_bytes(t) % 253_402_300_799;
        let totp = generator(&seed, label("alice", tessera_domain::ids::AccountId(1))).unwrap();
        let step = i64::try_from(time / 30).unwrap();
        assert_eq!(
            code_at(&totp, step),
            hotp(&seed, time / 30, 6),
            "seed {seed:?}, time {time}"
        );
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

#[test]
fn a_code_matches_its_step_and_one_either_side_never_two() {
    let totp = generator(RFC_SEED, String::new()).unwrap();
    let now = at(1_111_111_111);
    let current = step_at(now);
    let code = |offset: i64| code_at(&totp, current + offset);
    assert_eq!(
        matching_step(&totp, &code(0), now, None),
        StepMatch::Step(current)
    );
    assert_eq!(
        matching_step(&totp, &code(-1), now, None),
        StepMatch::Step(current - 1)
    );
    assert_eq!(
        matching_step(&totp, &code(1), now, None),
        StepMatch::Step(current + 1)
    );
    for offset in [-2, 2, -3, 3] {
        assert_eq!(
            matching_step(&totp, &code(offset), now, None),
            StepMatch::None,
            "offset {offset}"
        );
    }
    // Once a step is accepted, its code and earlier ones are replays.
    assert_eq!(
        matching_step(&totp, &code(0), now, Some(current)),
        StepMatch::Used
    );
    assert_eq!(
        matching_step(&totp, &code(-1), now, Some(current)),
        StepMatch::Used
    );
    assert_eq!(
        matching_step(&totp, &code(1), now, Some(current)),
        StepMatch::Step(current + 1)
    );
    assert_eq!(
        matching_step(&totp, &code(1), now, Some(current + 1)),
        StepMatch::Used
    );
}

#[test]
fn a_typed_code_reads_as_totp_recovery_or_neither() {
    let read = |s: &str| read_code(&Secret::new(s));
    assert_eq!(read("123456"), CodeForm::Totp("123456".into()));
    assert_eq!(read(" 123 456 "), CodeForm::Totp("123456".into()));
    assert_eq!(read("123-456"), CodeForm::Totp("123456".into()));
    for malformed in [
        "",
        "12345",
        "1234567",
        "12345a",
        "١٢٣٤٥٦",
        "abcdef",
        "0x1234",
        "\u{0}23456",
    ] {
        assert_eq!(read(malformed), CodeForm::Malformed, "{malformed:?}");
    }
    let recovery = |s: &str| match read(s) {
        CodeForm::Recovery(n) => Some(n.to_string()),
        _ => None,
    };
    assert_eq!(
        recovery("abcd-ef01-2345-6789").as_deref(),
        Some("abcdef0123456789")
    );
    assert_eq!(
        recovery("ABCD EF01 2345 6789").as_deref(),
        Some("abcdef0123456789")
    );
    assert_eq!(recovery("abcd-ef01-2345-678"), None, "15 digits");
    assert_eq!(recovery("abcd-ef01-2345-678g"), None);
    assert_eq!(recovery(&"a".repeat(100_000)), None);
}

#[test]
fn seeds_and_recovery_codes_are_fresh_and_well_formed() {
    let ids = OsRandom::new();
    let a = new_seed(&ids);
    let b = new_seed(&ids);
    assert_eq!((a.len(), b.len()), (SEED_BYTES, SEED_BYTES));
    assert_ne!(*a, *b);
    let code = new_recovery_code(&ids);
    let normalised = normalise_recovery_code(code.expose()).expect("its own form reads back");
    assert_eq!(normalised.len(), 16);
    assert_eq!(recovery_digest(&normalised).len(), 32);
    assert_ne!(
        new_recovery_code(&ids).expose(),
        code.expose(),
        "64 random bits each"
    );
}

#[test]
fn a_recovery_code_is_found_by_digest_among_the_unused() {
    let codes: Vec<tessera_domain::mfa::RecoveryCode> = (0..10)
        .map(|position| tessera_domain::mfa::RecoveryCode {
            position,
            digest: recovery_digest(&format!("{position:016x}")),
        })
        .collect();
    assert_eq!(
        matching_recovery_code(&codes, &recovery_digest("0000000000000007")),
        Some(7)
    );
    assert_eq!(
        matching_recovery_code(&codes, &recovery_digest("000000000000000a")),
        None
    );
    assert_eq!(matching_recovery_code(&[], &recovery_digest("00")), None);
}
