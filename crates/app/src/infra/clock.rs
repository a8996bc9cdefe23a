use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use tessera_domain::ports::Clock;

/// The system clock, truncated to microseconds (what both databases store).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        now.duration_trunc(TimeDelta::microseconds(1))
            .unwrap_or(now)
    }
}
