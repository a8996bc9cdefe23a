//! How many calls to identity providers run at once. Each call holds a blocking thread while it
//! waits for the provider, so a slow (or tarpitting) provider must not take them all: at most
//! [`MAX_CALLS`] in all and [`MAX_CALLS_PER_ISSUER`] per issuer. A burst of one organisation's
//! sign-ins queues briefly for a slot ([`SLOT_WAIT`]) instead of failing; the queue is bounded
//! too (a waiter holds a thread as well), and past it the answer is "busy" at once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use tessera_domain::ports::IdpError;

/// Calls to identity providers at once, in all.
const MAX_CALLS: usize = 32;
/// Calls to one issuer at once.
const MAX_CALLS_PER_ISSUER: usize = 4;
/// Sign-ins waiting for a slot, in all.
const MAX_WAITING: usize = 64;
/// Sign-ins waiting for a slot of one issuer.
const MAX_WAITING_PER_ISSUER: usize = 32;
/// How long a sign-in waits for a slot before answering "busy".
const SLOT_WAIT: Duration = Duration::from_secs(3);

/// Calls in progress and sign-ins waiting, per issuer (an issuer with neither has no entry).
#[derive(Default)]
struct Counts {
    in_flight: HashMap<String, usize>,
    waiting: HashMap<String, usize>,
}

/// One more (`up`) or one fewer of `issuer` in `map`, removing it at zero.
fn count(map: &mut HashMap<String, usize>, issuer: &str, up: bool) {
    if up {
        *map.entry(issuer.to_owned()).or_default() += 1;
    } else if let Some(n) = map.get_mut(issuer) {
        *n -= 1;
        if *n == 0 {
            map.remove(issuer);
        }
    }
}

/// The call slots of every issuer.
#[derive(Default)]
pub(crate) struct Slots {
    counts: Mutex<Counts>,
    /// Signalled whenever a call gives its slot back.
    freed: Condvar,
}

/// A call in progress to an issuer; its slot is given back when dropped.
pub(crate) struct Call<'a> {
    slots: &'a Slots,
    issuer: String,
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        count(&mut self.slots.counts.lock().in_flight, &self.issuer, false);
        // Waiters of any issuer may now fit under the total.
        self.slots.freed.notify_all();
    }
}

fn busy() -> IdpError {
    IdpError::Unavailable("too many calls to identity providers in progress".into())
}

impl Slots {
    /// A slot for a call to `issuer`: at once when the issuer and everyone are under their
    /// limits, else once one is given back within [`SLOT_WAIT`].
    ///
    /// # Errors
    /// "Unavailable" (busy) when the wait ends first, or when too many already wait.
    pub(crate) fn acquire(&self, issuer: &str) -> Result<Call<'_>, IdpError> {
        self.acquire_within(issuer, SLOT_WAIT)
    }

    fn acquire_within(&self, issuer: &str, wait: Duration) -> Result<Call<'_>, IdpError> {
        let deadline = Instant::now() + wait;
        let mut counts = self.counts.lock();
        loop {
            let total: usize = counts.in_flight.values().sum();
            let mine = counts.in_flight.get(issuer).copied().unwrap_or(0);
            if total < MAX_CALLS && mine < MAX_CALLS_PER_ISSUER {
                count(&mut counts.in_flight, issuer, true);
                return Ok(Call {
                    slots: self,
                    issuer: issuer.to_owned(),
                });
            }
            let waiting: usize = counts.waiting.values().sum();
            let waiting_mine = counts.waiting.get(issuer).copied().unwrap_or(0);
            if waiting >= MAX_WAITING || waiting_mine >= MAX_WAITING_PER_ISSUER {
                return Err(busy());
            }
            count(&mut counts.waiting, issuer, true);
            let timed_out = self.freed.wait_until(&mut counts, deadline).timed_out();
            count(&mut counts.waiting, issuer, false);
            if timed_out {
                return Err(busy());
            }
        }
    }

    /// Sign-ins waiting for a slot of `issuer`.
    #[cfg(test)]
    fn waiting(&self, issuer: &str) -> usize {
        self.counts.lock().waiting.get(issuer).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Waits (without a deadline that could make the test flaky) until `n` wait for `issuer`.
    fn until_waiting(slots: &Slots, issuer: &str, n: usize) {
        while slots.waiting(issuer) != n {
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_call_past_the_issuers_limit_waits_for_a_slot_given_back() {
        let slots = Arc::new(Slots::default());
        let held: Vec<_> = (0..MAX_CALLS_PER_ISSUER)
            .map(|_| slots.acquire("https://idp.a").unwrap())
            .collect();
        // Another issuer is not held up.
        drop(slots.acquire("https://idp.b").unwrap());
        let waiter = {
            let slots = Arc::clone(&slots);
            std::thread::spawn(move || {
                slots
                    .acquire_within("https://idp.a", Duration::from_secs(3600))
                    .map(drop)
                    .is_ok()
            })
        };
        until_waiting(&slots, "https://idp.a", 1);
        drop(held);
        assert!(waiter.join().unwrap(), "the waiter got the slot given back");
        assert_eq!(slots.waiting("https://idp.a"), 0);
    }

    #[test]
    fn past_the_waiting_limit_the_answer_is_busy_at_once_and_the_wait_ends() {
        let slots = Arc::new(Slots::default());
        let held: Vec<_> = (0..MAX_CALLS_PER_ISSUER)
            .map(|_| slots.acquire("https://idp.a").unwrap())
            .collect();
        let waiters: Vec<_> = (0..MAX_WAITING_PER_ISSUER)
            .map(|_| {
                let slots = Arc::clone(&slots);
                std::thread::spawn(move || {
                    slots
                        .acquire_within("https://idp.a", Duration::from_secs(3600))
                        .map(drop)
                        .is_ok()
                })
            })
            .collect();
        until_waiting(&slots, "https://idp.a", MAX_WAITING_PER_ISSUER);
        // Full queue: refused without waiting (an hour's wait would hang the test).
        assert!(matches!(
            slots.acquire_within("https://idp.a", Duration::from_secs(3600)),
            Err(IdpError::Unavailable(_))
        ));
        // A wait that ends refuses too, and leaves the queue as it was.
        drop(held);
        assert!(waiters.into_iter().all(|w| w.join().unwrap()));
        let held: Vec<_> = (0..MAX_CALLS_PER_ISSUER)
            .map(|_| slots.acquire("https://idp.a").unwrap())
            .collect();
        assert!(matches!(
            slots.acquire_within("https://idp.a", Duration::ZERO),
            Err(IdpError::Unavailable(_))
        ));
        assert_eq!(slots.waiting("https://idp.a"), 0);
        drop(held);
    }

    #[test]
    fn the_total_limit_holds_across_issuers() {
        let slots = Slots::default();
        let held: Vec<_> = (0..MAX_CALLS)
            .map(|i| slots.acquire(&format!("https://idp{i}.example")).unwrap())
            .collect();
        assert!(matches!(
            slots.acquire_within("https://fresh.example", Duration::ZERO),
            Err(IdpError::Unavailable(_))
        ));
        drop(held);
        assert!(slots.acquire("https://fresh.example").is_ok());
    }
}
