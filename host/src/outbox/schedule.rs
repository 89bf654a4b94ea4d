//! When to try again after a failed attempt.
//!
//! Queued deliveries follow the configured schedule (default 1 min, 5 min, 15 min: four
//! attempts in all) with ±10% jitter; a `Retry-After` on 429/503 can push the next attempt
//! later, up to an hour. Fast-path deliveries retry quickly and only inside their callback
//! budget, after which they are `expired`.

use std::time::Duration;

use rand::Rng;

use super::record::Outcome;

/// Longest `Retry-After` the platform honours.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Fast-path retry delays (the last repeats until the budget ends).
pub const FAST_DELAYS: [Duration; 4] = [
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
];

/// The queued lane's retry delays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

impl Default for RetrySchedule {
    fn default() -> Self {
        Self(vec![Duration::from_secs(60), Duration::from_secs(300), Duration::from_secs(900)])
    }
}

impl std::str::FromStr for RetrySchedule {
    type Err = String;

    /// Comma-separated durations: `1m,5m,15m` (the setting's format).
    fn from_str(text: &str) -> Result<Self, String> {
        let delays = text.split(',').map(|part| crate::clock::parse_duration(part.trim()));
        delays.collect::<Result<_, _>>().map(Self)
    }
}

impl RetrySchedule {
    /// The outcome of a failed attempt at `now` (epoch ms) for a delivery at `step` of its
    /// schedule; `expires_at` marks a fast-path delivery.
    pub fn after_failure(
        &self,
        now: i64,
        step: i64,
        expires_at: Option<i64>,
        retry_after: Option<Duration>,
    ) -> Outcome {
        let index = usize::try_from(step).unwrap_or(usize::MAX);
        if let Some(deadline) = expires_at {
            let delay = FAST_DELAYS[index.min(FAST_DELAYS.len() - 1)];
            let at = now + millis(delay);
            return if at >= deadline {
                Outcome::Expired
            } else {
                Outcome::Retry { at, step: step + 1 }
            };
        }
        let Some(&base) = self.0.get(index) else {
            return Outcome::Failed;
        };
        let jitter = rand::thread_rng().gen_range(0.9..=1.1);
        let mut delay = base.mul_f64(jitter);
        if let Some(asked) = retry_after {
            delay = delay.max(asked.min(MAX_RETRY_AFTER));
        }
        Outcome::Retry { at: now + millis(delay), step: step + 1 }
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_deliveries_follow_the_schedule_then_fail() {
        let schedule = RetrySchedule::default();
        let Outcome::Retry { at, step } = schedule.after_failure(0, 0, None, None) else {
            panic!()
        };
        assert!((54_000..=66_000).contains(&at) && step == 1, "{at}");
        let Outcome::Retry { at, .. } = schedule.after_failure(0, 2, None, None) else { panic!() };
        assert!((810_000..=990_000).contains(&at));
        assert_eq!(schedule.after_failure(0, 3, None, None), Outcome::Failed);
        let asked = Some(Duration::from_secs(7200));
        let Outcome::Retry { at, .. } = schedule.after_failure(0, 0, None, asked) else { panic!() };
        assert_eq!(at, 3_600_000, "Retry-After is capped at an hour");
    }

    #[test]
    fn fast_deliveries_expire_with_their_budget() {
        let schedule = RetrySchedule::default();
        assert_eq!(
            schedule.after_failure(0, 0, Some(1_000), None),
            Outcome::Retry { at: 100, step: 1 }
        );
        assert_eq!(schedule.after_failure(900, 1, Some(1_000), None), Outcome::Expired);
    }
}
