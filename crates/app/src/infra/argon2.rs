//! argon2id password hashing with bounded concurrency and reused memory.
//!
//! Each hash needs `m` KiB of working memory (19 MiB by default). Hashes run on the caller's
//! (blocking) thread, at most `concurrency` at once; each running hash borrows one of at most
//! `concurrency` buffers, allocated on first use and kept, so memory stays at
//! `concurrency × m` however many sign-ins arrive together, and the allocator never sees
//! 19 MiB come and go.

use std::fmt;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use parking_lot::{Condvar, Mutex};
use subtle::ConstantTimeEq;
use tessera_domain::Secret;
use tessera_domain::ports::{HashError, PasswordHasher};

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory, KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashParams {
    /// OWASP's argon2id minimum: m = 19 MiB, t = 2, p = 1.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

const OUTPUT_LEN: usize = 32;
const SALT_LEN: usize = 16;

struct Pool {
    free: Vec<Vec<Block>>,
    running: usize,
}

/// The production [`PasswordHasher`].
pub struct Argon2Hasher {
    params: HashParams,
    concurrency: usize,
    pool: Mutex<Pool>,
    freed: Condvar,
    rng: SystemRandom,
    dummy: String,
}

impl fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("params", &self.params)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

fn argon(params: HashParams) -> Result<Argon2<'static>, HashError> {
    let p = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(OUTPUT_LEN),
    )
    .map_err(|e| HashError::Failed(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
}

/// A decoded PHC string.
struct Phc {
    params: HashParams,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn encode(params: HashParams, salt: &[u8], hash: &[u8]) -> String {
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        B64.encode(salt),
        B64.encode(hash)
    )
}

fn decode(s: &str) -> Result<Phc, HashError> {
    let parts: Vec<&str> = s.split('$').collect();
    let ["", "argon2id", "v=19", params, salt, hash] = parts.as_slice() else {
        return Err(HashError::Malformed);
    };
    let mut p = HashParams {
        memory_kib: 0,
        iterations: 0,
        parallelism: 0,
    };
    for kv in params.split(',') {
        let (k, v) = kv.split_once('=').ok_or(HashError::Malformed)?;
        let v: u32 = v.parse().map_err(|_| HashError::Malformed)?;
        match k {
            "m" => p.memory_kib = v,
            "t" => p.iterations = v,
            "p" => p.parallelism = v,
            _ => return Err(HashError::Malformed),
        }
    }
    Ok(Phc {
        params: p,
        salt: B64.decode(salt).map_err(|_| HashError::Malformed)?,
        hash: B64.decode(hash).map_err(|_| HashError::Malformed)?,
    })
}

impl Argon2Hasher {
    /// A hasher running at most `concurrency` hashes at once with `params`.
    ///
    /// # Panics
    /// When `params` are outside argon2's ranges.
    #[must_use]
    pub fn new(params: HashParams, concurrency: usize) -> Self {
        argon(params).expect("valid argon2 parameters");
        let mut hasher = Self {
            params,
            concurrency: concurrency.max(1),
            pool: Mutex::new(Pool {
                free: Vec::new(),
                running: 0,
            }),
            freed: Condvar::new(),
            rng: SystemRandom::new(),
            dummy: String::new(),
        };
        let salt = hasher.salt();
        hasher.dummy = encode(params, &salt, &[0u8; OUTPUT_LEN]);
        hasher
    }

    fn salt(&self) -> [u8; SALT_LEN] {
        let mut salt = [0u8; SALT_LEN];
        self.rng
            .fill(&mut salt)
            .expect("the operating system's random source failed");
        salt
    }

    /// Runs `f` with a buffer of `blocks` blocks, waiting while `concurrency` hashes run.
    fn with_memory<R>(&self, blocks: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
        let mut buffer = {
            let mut pool = self.pool.lock();
            while pool.running >= self.concurrency {
                self.freed.wait(&mut pool);
            }
            pool.running += 1;
            pool.free.pop()
        }
        .filter(|b| b.len() == blocks)
        .unwrap_or_else(|| vec![Block::new(); blocks]);
        let result = f(&mut buffer);
        let mut pool = self.pool.lock();
        pool.running -= 1;
        if blocks == self.block_count() {
            pool.free.push(buffer);
        }
        drop(pool);
        self.freed.notify_one();
        result
    }

    fn block_count(&self) -> usize {
        argon(self.params)
            .map(|a| a.params().block_count())
            .unwrap_or_default()
    }

    fn compute(
        &self,
        params: HashParams,
        password: &[u8],
        salt: &[u8],
    ) -> Result<[u8; OUTPUT_LEN], HashError> {
        let a = argon(params)?;
        let mut out = [0u8; OUTPUT_LEN];
        self.with_memory(a.params().block_count(), |memory| {
            a.hash_password_into_with_memory(password, salt, &mut out, memory)
        })
        .map_err(|e| HashError::Failed(e.to_string()))?;
        Ok(out)
    }
}

impl PasswordHasher for Argon2Hasher {
    fn hash(&self, password: &Secret) -> Result<String, HashError> {
        let salt = self.salt();
        let out = self.compute(self.params, password.expose().as_bytes(), &salt)?;
        Ok(encode(self.params, &salt, &out))
    }

    fn verify(&self, hash: &str, password: &Secret) -> Result<bool, HashError> {
        let phc = decode(hash)?;
        if phc.hash.len() != OUTPUT_LEN {
            return Err(HashError::Malformed);
        }
        let out = self.compute(phc.params, password.expose().as_bytes(), &phc.salt)?;
        Ok(bool::from(out.ct_eq(phc.hash.as_slice())))
    }

    fn waste_time(&self, password: &Secret) {
        let _always_false = self.verify(&self.dummy, password);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn small() -> Argon2Hasher {
        Argon2Hasher::new(
            HashParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            2,
        )
    }

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let h = small();
        let pw = Secret::new("Correct-Horse-1");
        let a = h.hash(&pw).unwrap();
        let b = h.hash(&pw).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(h.verify(&a, &pw).unwrap());
        assert!(!h.verify(&a, &Secret::new("Correct-Horse-2")).unwrap());
        assert_eq!(h.verify("$bcrypt$x", &pw), Err(HashError::Malformed));
    }

    #[test]
    fn default_parameters_are_19_mib_two_passes_one_lane() {
        let h = Argon2Hasher::new(HashParams::default(), 1);
        let hash = h.hash(&Secret::new("Correct-Horse-1")).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        // A hash made with other parameters still verifies.
        let old = small().hash(&Secret::new("Correct-Horse-1")).unwrap();
        assert!(h.verify(&old, &Secret::new("Correct-Horse-1")).unwrap());
    }

    #[test]
    fn matches_the_reference_implementation() {
        // RFC 9106-style check: our encoding of argon2's raw output is the PHC string that the
        // argon2 crate itself computes for the same salt and parameters.
        let params = HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let salt = *b"0123456789abcdef";
        let h = small();
        let out = h.compute(params, b"password", &salt).unwrap();
        let mut expected = [0u8; OUTPUT_LEN];
        argon(params)
            .unwrap()
            .hash_password_into_with_memory(
                b"password",
                &salt,
                &mut expected,
                vec![Block::new(); 64],
            )
            .unwrap();
        assert_eq!(out, expected);
        let phc = decode(&encode(params, &salt, &out)).unwrap();
        assert_eq!(
            (phc.params, phc.salt.as_slice(), phc.hash.as_slice()),
            (params, &salt[..], &out[..])
        );
    }

    #[test]
    fn no_more_than_the_configured_number_of_hashes_run_at_once() {
        let h = Arc::new(small());
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..8 {
                let (h, running, peak) = (h.clone(), running.clone(), peak.clone());
                s.spawn(move || {
                    for _ in 0..5 {
                        h.with_memory(64, |_| {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(2));
                            running.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                });
            }
        });
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        assert!(
            h.pool.lock().free.len() <= 2,
            "buffers are reused, not piled up"
        );
    }
}
