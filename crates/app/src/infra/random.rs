use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use tessera_domain::Secret;
use tessera_domain::ids::Hex32;
use tessera_domain::ports::IdGenerator;
use tessera_domain::user::check_password_policy;

/// Ids and secrets from the operating system's CSPRNG (through aws-lc).
#[derive(Debug, Default)]
pub struct OsRandom {
    rng: SystemRandom,
}

impl OsRandom {
    /// A generator.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        self.rng
            .fill(&mut out)
            .expect("the operating system's random source failed");
        out
    }

    /// `len` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
    fn chars(&self, alphabet: &[u8], len: usize) -> String {
        let limit = 256 - (256 % alphabet.len());
        let mut out = String::with_capacity(len);
        while out.len() < len {
            for b in self.bytes::<64>() {
                if usize::from(b) < limit && out.len() < len {
                    out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
                }
            }
        }
        out
    }
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const PASSWORD: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.!@#%+=";

impl IdGenerator for OsRandom {
    fn hex32(&self) -> Hex32 {
        Hex32(self.bytes())
    }

    fn uuid(&self) -> uuid::Uuid {
        uuid::Builder::from_random_bytes(self.bytes()).into_uuid()
    }

    fn access_key_id(&self) -> String {
        format!("AK{}", self.chars(UPPER_DIGITS, 18))
    }

    fn secret(&self) -> Secret {
        // 40 alphanumerics: 238 bits.
        Secret::new(self.chars(ALNUM, 40))
    }

    fn password(&self) -> Secret {
        loop {
            let candidate = Secret::new(self.chars(PASSWORD, 20));
            if check_password_policy(&candidate).is_ok() {
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use tessera_domain::ids::AccessKeyId;

    use super::*;

    #[test]
    fn generated_values_have_their_documented_shapes() {
        let r = OsRandom::new();
        for _ in 0..50 {
            assert!(r.access_key_id().parse::<AccessKeyId>().is_ok());
            assert!(check_password_policy(&r.password()).is_ok());
            let s = r.secret();
            assert_eq!(s.expose().len(), 40);
            assert!(s.expose().bytes().all(|b| b.is_ascii_alphanumeric()));
            assert_eq!(r.uuid().get_version_num(), 4);
        }
    }

    #[test]
    fn generated_values_do_not_repeat() {
        let r = OsRandom::new();
        let ids: HashSet<_> = (0..1000).map(|_| r.hex32()).collect();
        let secrets: HashSet<_> = (0..1000).map(|_| r.secret().expose().to_owned()).collect();
        assert_eq!(ids.len(), 1000);
        assert_eq!(secrets.len(), 1000);
    }
}
