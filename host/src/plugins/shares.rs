//! Fair shares between organisations: at most `org_slots` runs of one organisation at once,
//! and at most `org_cpu_ms_per_second` of plugin time per organisation — a token bucket
//! holding one second's worth, charged with the CPU time each run's thread actually spends
//! on it (measured around every poll of its future, so a run waiting on a timer costs
//! nothing, and a run preempted by other work is not charged for it).
//! A run over its organisation's share waits for it within its own deadline, then answers
//! `busy`; other organisations' runs never wait on it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::PluginLimits;

/// Every organisation's share. Entries are created on an organisation's first run.
pub struct OrgShares {
    limits: PluginLimits,
    orgs: Mutex<HashMap<String, Arc<OrgShare>>>,
}

struct OrgShare {
    slots: Arc<Semaphore>,
    cpu: Mutex<Bucket>,
}

/// Plugin time an organisation may still spend, in microseconds (negative: owed).
struct Bucket {
    micros: f64,
    updated: Instant,
}

/// A run admitted within its organisation's share: holds one of its slots; charge it with
/// the time the run took.
pub struct Admission {
    share: Arc<OrgShare>,
    _slot: OwnedSemaphorePermit,
    /// Refill per microsecond, and the bucket's size.
    rate: f64,
    capacity: f64,
}

impl OrgShares {
    /// Shares per `limits`.
    pub fn new(limits: PluginLimits) -> Self {
        Self { limits, orgs: Mutex::new(HashMap::new()) }
    }

    /// Admits a run of `org_id` by `until`: one of the organisation's slots, and a positive
    /// CPU budget; otherwise why not.
    pub async fn admit(&self, org_id: &str, until: Instant) -> Result<Admission, String> {
        let share = self.share(org_id);
        let slot = tokio::time::timeout_at(until.into(), share.slots.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| {
                format!(
                    "all {} run slots of this organisation stayed busy until the deadline",
                    self.limits.org_slots
                )
            })?;
        let admission = Admission {
            share,
            _slot: slot,
            rate: f64::from(self.limits.org_cpu_ms_per_second) / 1_000.0,
            capacity: f64::from(self.limits.org_cpu_ms_per_second) * 1_000.0,
        };
        loop {
            let owed = admission.refill();
            if owed <= 0.0 {
                return Ok(admission);
            }
            let wait = Duration::from_micros((owed / admission.rate).ceil() as u64 + 1);
            if Instant::now() + wait > until {
                return Err(format!(
                    "this organisation's plugin time ({} ms per second) is used up",
                    self.limits.org_cpu_ms_per_second
                ));
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn share(&self, org_id: &str) -> Arc<OrgShare> {
        let mut orgs = self.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        orgs.entry(org_id.to_owned())
            .or_insert_with(|| {
                Arc::new(OrgShare {
                    slots: Arc::new(Semaphore::new(self.limits.org_slots.max(1) as usize)),
                    cpu: Mutex::new(Bucket {
                        micros: f64::from(self.limits.org_cpu_ms_per_second) * 1_000.0,
                        updated: Instant::now(),
                    }),
                })
            })
            .clone()
    }
}

impl Admission {
    /// Refills the bucket up to now; returns the microseconds still owed (≤ 0: none).
    fn refill(&self) -> f64 {
        let mut bucket = self.share.cpu.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let elapsed = now.duration_since(bucket.updated).as_micros() as f64;
        bucket.micros = (bucket.micros + elapsed * self.rate).min(self.capacity);
        bucket.updated = now;
        -bucket.micros
    }

    /// Charges the organisation with `spent` of plugin time.
    pub fn charge(&self, spent: Duration) {
        self.refill();
        let mut bucket = self.share.cpu.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        bucket.micros -= spent.as_micros() as f64;
    }
}

/// A future that adds up the CPU time its thread spends inside its polls: what running it
/// cost.
pub struct Metered<F> {
    inner: Pin<Box<F>>,
    spent: Duration,
}

impl<F: Future> Metered<F> {
    /// Measures `inner`.
    pub fn new(inner: F) -> Self {
        Self { inner: Box::pin(inner), spent: Duration::ZERO }
    }
}

impl<F: Future> Future for Metered<F> {
    /// The output and the time spent polling.
    type Output = (F::Output, Duration);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let started = thread_cpu_time();
        let polled = self.inner.as_mut().poll(cx);
        self.spent += thread_cpu_time().saturating_sub(started);
        polled.map(|output| (output, self.spent))
    }
}

/// CPU time the current thread has used.
fn thread_cpu_time() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(cpu_ms: u32) -> PluginLimits {
        PluginLimits { org_slots: 2, org_cpu_ms_per_second: cpu_ms, ..PluginLimits::default() }
    }

    /// An organisation at its slot share waits; another is admitted at once.
    #[tokio::test]
    async fn slots_are_shared_per_organisation() {
        let shares = OrgShares::new(limits(1_000));
        let soon = || Instant::now() + Duration::from_millis(30);
        let _a1 = shares.admit("a", soon()).await.unwrap();
        let _a2 = shares.admit("a", soon()).await.unwrap();
        let refused = shares.admit("a", soon()).await.err().unwrap();
        assert!(refused.contains("slots"), "{refused}");
        assert!(shares.admit("b", soon()).await.is_ok(), "another organisation is unaffected");
    }

    /// Time spent beyond the budget is owed: the next run waits for the refill, within its
    /// deadline.
    #[tokio::test]
    async fn cpu_time_is_budgeted_per_organisation() {
        let shares = OrgShares::new(limits(100));
        let first = shares.admit("a", Instant::now() + Duration::from_millis(10)).await.unwrap();
        first.charge(Duration::from_millis(150));
        drop(first);
        let refused = shares.admit("a", Instant::now() + Duration::from_millis(10)).await;
        assert!(refused.err().unwrap().contains("used up"));
        assert!(shares.admit("b", Instant::now()).await.is_ok(), "b has its own budget");
        let started = Instant::now();
        let later = shares.admit("a", Instant::now() + Duration::from_secs(2)).await;
        assert!(later.is_ok(), "the refill admits it");
        assert!(started.elapsed() >= Duration::from_millis(400), "it waited for the refill");
    }
}
