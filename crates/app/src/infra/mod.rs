//! Production adapters of the non-storage ports.

mod argon2;
mod clock;
mod random;
mod rsa;
mod sealer;

pub use self::argon2::{Argon2Hasher, HashLoad, HashParams};
pub use clock::SystemClock;
pub use random::OsRandom;
pub use rsa::AwsLcKeyPairs;
pub use sealer::{AesGcmSealer, SECRETS_KEY_LEN};
