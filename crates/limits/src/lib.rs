//! Throttling and quotas, as API Gateway applies them: token buckets (rate + burst) and
//! usage-plan quotas per API key and period (DAY, WEEK, MONTH, with an offset).
//!
//! Counters live behind [`Limits`]; time comes from a [`Clock`] so that tests control it.
//! This in-process implementation keeps everything in memory; quota and usage counters can be
//! snapshotted and restored so a restart loses no counts (the binary persists them). A Redis
//! implementation for several nodes is a later issue.

mod clock;
mod quota;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use clock::{Clock, ManualClock, SystemClock};
pub use quota::{Period, QuotaSpec, UsageRecord, period_start};

/// A rate limit: `rate` requests per second on average, bursts of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    pub rate: f64,
    pub burst: u32,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last_ms: i64,
    limit: Throttle,
}

impl Bucket {
    fn new(limit: Throttle, now_ms: i64) -> Bucket {
        Bucket {
            tokens: f64::from(limit.burst),
            last_ms: now_ms,
            limit,
        }
    }

    /// Refills by elapsed time, then takes one token if there is one.
    fn take(&mut self, limit: Throttle, now_ms: i64) -> bool {
        if limit != self.limit {
            // A changed limit starts from a full bucket of the new size.
            *self = Bucket::new(limit, now_ms);
        }
        let elapsed = (now_ms - self.last_ms).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * limit.rate).min(f64::from(limit.burst));
        self.last_ms = now_ms;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Throttled,
    QuotaExceeded,
}

/// What the data plane asks of throttle and quota counters. [`Limits`] keeps them in this
/// process; a shared implementation (Redis, for several nodes) is a second implementation.
pub trait Counters: Send + Sync + std::fmt::Debug {
    /// Takes a token from the bucket `key`.
    fn throttle(&self, key: &str, limit: Throttle) -> Result<(), Refusal>;
    /// Takes a token from the account's bucket.
    fn throttle_account(&self, limit: Throttle) -> Result<(), Refusal>;
    /// Counts a request of `key_id` under `plan_id` against its quota and daily usage.
    fn consume(&self, plan_id: &str, key_id: &str, quota: Option<QuotaSpec>)
    -> Result<(), Refusal>;
}

impl Counters for Limits {
    fn throttle(&self, key: &str, limit: Throttle) -> Result<(), Refusal> {
        Limits::throttle(self, key, limit)
    }

    fn throttle_account(&self, limit: Throttle) -> Result<(), Refusal> {
        Limits::throttle_account(self, limit)
    }

    fn consume(
        &self,
        plan_id: &str,
        key_id: &str,
        quota: Option<QuotaSpec>,
    ) -> Result<(), Refusal> {
        Limits::consume(self, plan_id, key_id, quota)
    }
}

/// Throttle buckets and quota counters.
pub struct Limits {
    clock: Arc<dyn Clock>,
    /// The account's bucket, touched by every request: kept apart from the keyed map.
    account: Mutex<Option<Bucket>>,
    buckets: Mutex<HashMap<String, Bucket>>,
    quotas: quota::Quotas,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits").finish_non_exhaustive()
    }
}

impl Limits {
    pub fn new(clock: Arc<dyn Clock>) -> Limits {
        Limits {
            clock,
            account: Mutex::new(None),
            buckets: Mutex::new(HashMap::new()),
            quotas: quota::Quotas::default(),
        }
    }

    pub fn now_millis(&self) -> i64 {
        self.clock.now_millis()
    }

    /// Takes a token from the account's bucket.
    pub fn throttle_account(&self, limit: Throttle) -> Result<(), Refusal> {
        let now = self.clock.now_millis();
        let mut account = self.account.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = account.get_or_insert_with(|| Bucket::new(limit, now));
        if bucket.take(limit, now) {
            Ok(())
        } else {
            Err(Refusal::Throttled)
        }
    }

    /// Takes a token from the bucket `key` (created full on first use).
    pub fn throttle(&self, key: &str, limit: Throttle) -> Result<(), Refusal> {
        let now = self.clock.now_millis();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let ok = match buckets.get_mut(key) {
            Some(b) => b.take(limit, now),
            None => {
                let mut b = Bucket::new(limit, now);
                let ok = b.take(limit, now);
                buckets.insert(key.to_string(), b);
                ok
            }
        };
        if ok { Ok(()) } else { Err(Refusal::Throttled) }
    }

    /// Counts one request of `key_id` under usage plan `plan_id` against its quota (if any)
    /// and in the per-day usage. Refuses when the quota of the current period is used up.
    pub fn consume(
        &self,
        plan_id: &str,
        key_id: &str,
        quota: Option<QuotaSpec>,
    ) -> Result<(), Refusal> {
        let now = self.clock.now_millis();
        self.quotas.consume(plan_id, key_id, quota, now)
    }

    /// Every counter, for persistence.
    pub fn usage_snapshot(&self) -> Vec<UsageRecord> {
        self.quotas.snapshot()
    }

    /// Whether counters changed since the last call (cheap; for a periodic flusher).
    pub fn take_dirty(&self) -> bool {
        self.quotas.take_dirty()
    }

    /// Restores counters saved by [`Limits::usage_snapshot`].
    pub fn restore_usage(&self, records: Vec<UsageRecord>) {
        self.quotas.restore(records);
    }

    /// Sets the remaining quota of a key (UpdateUsage).
    pub fn set_remaining(&self, plan_id: &str, key_id: &str, quota: QuotaSpec, remaining: u64) {
        self.quotas
            .set_remaining(plan_id, key_id, quota, remaining, self.clock.now_millis());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> (Arc<ManualClock>, Limits) {
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        (clock.clone(), Limits::new(clock))
    }

    #[test]
    fn token_bucket_allows_burst_then_rate() {
        let (clock, l) = limits();
        let t = Throttle {
            rate: 2.0,
            burst: 3,
        };
        for _ in 0..3 {
            assert_eq!(l.throttle("k", t), Ok(()));
        }
        assert_eq!(l.throttle("k", t), Err(Refusal::Throttled));
        clock.advance(499);
        assert_eq!(l.throttle("k", t), Err(Refusal::Throttled));
        clock.advance(1);
        assert_eq!(
            l.throttle("k", t),
            Ok(()),
            "2/s refills one token in 500 ms"
        );
        clock.advance(10_000);
        for _ in 0..3 {
            assert_eq!(l.throttle("k", t), Ok(()));
        }
        assert_eq!(
            l.throttle("k", t),
            Err(Refusal::Throttled),
            "never more than the burst"
        );
        assert_eq!(l.throttle("other", t), Ok(()), "buckets are independent");
    }

    #[test]
    fn zero_limits_refuse_everything() {
        let (_, l) = limits();
        assert_eq!(
            l.throttle(
                "z",
                Throttle {
                    rate: 0.0,
                    burst: 0
                }
            ),
            Err(Refusal::Throttled)
        );
    }
}
