//! argon2id password hashing on a few background-priority threads, with reused memory.
//!
//! Each hash needs `m` KiB of working memory (19 MiB by default). Hashes run on `concurrency`
//! dedicated threads; each keeps one buffer of the configured size, allocated on first use, so
//! memory stays at `concurrency × m` however many sign-ins arrive together, and the allocator
//! never sees 19 MiB come and go. Callers (blocking threads) queue their hash and wait for it.
//!
//! On Linux the hashing threads run at nice [`HASHING_NICENESS`]: hashing gets the CPU that
//! serving requests leaves, so a storm of sign-ins (each an expensive hash by design) slows
//! sign-ins, not every other request. Elsewhere they run at normal priority.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use parking_lot::Mutex;
use subtle::ConstantTimeEq;
use tessera_domain::Secret;
use tessera_domain::ports::{HashError, PasswordHasher};
use zeroize::Zeroizing;

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

/// The nice value of the hashing threads (Linux), the lowest there is: a busy serving thread
/// (nice 0) gets about seventy times their share of a contended core, and preempts them as soon
/// as it wakes. Sign-ins still progress when the CPU is saturated, slowly (unlike `SCHED_IDLE`).
pub const HASHING_NICENESS: i32 = 19;

/// Work for a hashing thread, given the thread's kept buffer.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// How busy the hashing threads are, at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashLoad {
    /// Hashes queued, waiting for a free hashing thread.
    pub queued: usize,
    /// Hashes running now.
    pub running: usize,
    /// Hashing threads.
    pub threads: usize,
}

/// Queued and running hashes (shared with the hashing threads).
#[derive(Default)]
struct Depth {
    queued: AtomicUsize,
    running: AtomicUsize,
}

/// The production [`PasswordHasher`].
pub struct Argon2Hasher {
    params: HashParams,
    concurrency: usize,
    /// The configured parameters' block count: the size of each thread's kept buffer.
    blocks: usize,
    jobs: Mutex<mpsc::Sender<Job>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    depth: Arc<Depth>,
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

/// Lowers the calling thread's priority (Linux: per-thread nice value).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) =
        rustix::process::setpriority_process(Some(rustix::thread::gettid()), HASHING_NICENESS)
    {
        tracing::warn!(error = %e, "the hashing thread keeps normal priority");
    }
}

/// A hashing thread: runs jobs until the hasher is dropped.
fn hashing_thread(jobs: &Mutex<mpsc::Receiver<Job>>) {
    lower_priority();
    let mut kept = Vec::new();
    loop {
        let job = jobs.lock().recv();
        let Ok(job) = job else { return };
        job(&mut kept);
    }
}

impl Argon2Hasher {
    /// A hasher running at most `concurrency` hashes at once with `params`.
    ///
    /// # Panics
    /// When `params` are outside argon2's ranges, or a hashing thread cannot be started.
    #[must_use]
    pub fn new(params: HashParams, concurrency: usize) -> Self {
        let blocks = argon(params)
            .expect("valid argon2 parameters")
            .params()
            .block_count();
        let concurrency = concurrency.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let depth = Arc::new(Depth::default());
        let threads = (0..concurrency)
            .map(|i| {
                let queue = queue.clone();
                std::thread::Builder::new()
                    .name(format!("argon2-{i}"))
                    .spawn(move || hashing_thread(&queue))
                    .expect("a hashing thread starts")
            })
            .collect();
        let mut hasher = Self {
            params,
            concurrency,
            blocks,
            jobs: Mutex::new(jobs),
            threads,
            depth,
            rng: SystemRandom::new(),
            dummy: String::new(),
        };
        let salt = hasher.salt();
        hasher.dummy = encode(params, &salt, &[0u8; OUTPUT_LEN]);
        hasher
    }

    /// Hashes queued and running now (for metrics).
    #[must_use]
    pub fn load(&self) -> HashLoad {
        HashLoad {
            queued: self.depth.queued.load(Ordering::Relaxed),
            running: self.depth.running.load(Ordering::Relaxed),
            threads: self.concurrency,
        }
    }

    fn salt(&self) -> [u8; SALT_LEN] {
        let mut salt = [0u8; SALT_LEN];
        self.rng
            .fill(&mut salt)
            .expect("the operating system's random source failed");
        salt
    }

    /// Runs `f` on a hashing thread with that thread's kept buffer, and waits for its result.
    fn on_hashing_thread<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> R + Send + 'static,
    ) -> Result<R, HashError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let depth = self.depth.clone();
        // The counts change before the answer is sent: a caller that has its answer sees its
        // hash neither queued nor running.
        let job: Job = Box::new(move |kept| {
            depth.queued.fetch_sub(1, Ordering::Relaxed);
            depth.running.fetch_add(1, Ordering::Relaxed);
            let out = f(kept);
            depth.running.fetch_sub(1, Ordering::Relaxed);
            let _gone = reply.send(out);
        });
        let stopped = || HashError::Failed("the hashing threads stopped".into());
        self.depth.queued.fetch_add(1, Ordering::Relaxed);
        if self.jobs.lock().send(job).is_err() {
            self.depth.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(stopped());
        }
        answer.recv().map_err(|_| stopped())
    }

    fn compute(
        &self,
        params: HashParams,
        password: &[u8],
        salt: &[u8],
    ) -> Result<[u8; OUTPUT_LEN], HashError> {
        let a = argon(params)?;
        let blocks = a.params().block_count();
        let kept_size = self.blocks;
        let password = Zeroizing::new(password.to_vec());
        let salt = salt.to_vec();
        self.on_hashing_thread(move |kept| {
            let mut out = [0u8; OUTPUT_LEN];
            let mut other;
            let memory: &mut [Block] = if blocks == kept_size {
                if kept.len() != blocks {
                    *kept = vec![Block::new(); blocks];
                }
                kept
            } else {
                other = vec![Block::new(); blocks];
                &mut other
            };
            a.hash_password_into_with_memory(&password, &salt, &mut out, memory)
                .map(|()| out)
                .map_err(|e| HashError::Failed(e.to_string()))
        })?
    }
}

impl Drop for Argon2Hasher {
    /// Closes the queue and waits for the threads to finish what is queued and stop.
    fn drop(&mut self) {
        *self.jobs.get_mut() = mpsc::channel().0;
        for t in self.threads.drain(..) {
            let _panicked = t.join();
        }
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
        let threads = Arc::new(Mutex::new(std::collections::HashSet::new()));
        std::thread::scope(|s| {
            for _ in 0..8 {
                let (h, running, peak, threads) =
                    (h.clone(), running.clone(), peak.clone(), threads.clone());
                s.spawn(move || {
                    for _ in 0..5 {
                        let (running, peak, threads) =
                            (running.clone(), peak.clone(), threads.clone());
                        h.on_hashing_thread(move |_| {
                            threads.lock().insert(std::thread::current().id());
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(2));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .unwrap();
                    }
                });
            }
        });
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        assert!(
            threads.lock().len() <= 2,
            "two threads hash, and keep their buffers"
        );
    }

    #[test]
    fn load_counts_queued_and_running_hashes() {
        let h = Arc::new(Argon2Hasher::new(
            HashParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            1,
        ));
        assert_eq!(
            h.load(),
            HashLoad {
                queued: 0,
                running: 0,
                threads: 1
            }
        );
        // The one thread is held until released; two more jobs queue behind it.
        let (release, held) = mpsc::channel::<()>();
        let (started, running) = mpsc::channel::<()>();
        let first = {
            let h = h.clone();
            std::thread::spawn(move || {
                h.on_hashing_thread(move |_| {
                    started.send(()).unwrap();
                    held.recv().unwrap();
                })
                .unwrap();
            })
        };
        running.recv().unwrap();
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let h = h.clone();
                std::thread::spawn(move || h.on_hashing_thread(|_| ()).unwrap())
            })
            .collect();
        while h.load().queued < 2 {
            std::thread::yield_now();
        }
        assert_eq!(
            h.load(),
            HashLoad {
                queued: 2,
                running: 1,
                threads: 1
            }
        );
        release.send(()).unwrap();
        first.join().unwrap();
        for t in queued {
            t.join().unwrap();
        }
        assert_eq!((h.load().queued, h.load().running), (0, 0));
    }

    #[test]
    fn a_thread_keeps_one_buffer_of_the_configured_size() {
        let h = small();
        h.hash(&Secret::new("Correct-Horse-1")).unwrap();
        let other = Argon2Hasher::new(HashParams::default(), 1)
            .hash(&Secret::new("Correct-Horse-1"))
            .unwrap();
        // A hash with other parameters borrows a buffer of its own size and leaves the kept one.
        assert!(h.verify(&other, &Secret::new("Correct-Horse-1")).unwrap());
        let sizes: Vec<usize> = (0..4)
            .map(|_| h.on_hashing_thread(|kept| kept.len()).unwrap())
            .collect();
        assert!(sizes.iter().all(|&n| n == 0 || n == 64), "{sizes:?}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn hashing_threads_run_at_background_priority() {
        let h = small();
        let (tid, nice) = h
            .on_hashing_thread(|_| {
                let tid = rustix::thread::gettid();
                (
                    tid,
                    rustix::process::getpriority_process(Some(tid)).unwrap(),
                )
            })
            .unwrap();
        assert_eq!(nice, HASHING_NICENESS);
        // The kernel's own view of that thread.
        let stat =
            std::fs::read_to_string(format!("/proc/self/task/{}/stat", tid.as_raw_nonzero()))
                .unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let nice_field: i32 = after_name.split(' ').nth(16).unwrap().parse().unwrap();
        assert_eq!(nice_field, HASHING_NICENESS);
        // And the caller's priority is untouched.
        assert_eq!(
            rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap(),
            0
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn dropping_the_hasher_stops_its_threads() {
        let h = small();
        let tid = h
            .on_hashing_thread(|_| rustix::thread::gettid().as_raw_nonzero())
            .unwrap();
        let task = format!("/proc/self/task/{tid}");
        assert!(std::path::Path::new(&task).exists());
        drop(h);
        assert!(!std::path::Path::new(&task).exists(), "{task} still runs");
    }
}
