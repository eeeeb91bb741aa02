//! Usage-plan quotas and per-day usage counters.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use portico_model::time::{civil_from_days, days_from_civil};
use serde::{Deserialize, Serialize};

use crate::Refusal;

/// A quota's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "DAY" => Some(Period::Day),
            "WEEK" => Some(Period::Week),
            "MONTH" => Some(Period::Month),
            _ => None,
        }
    }
}

/// `quota {limit, period, offset}` of a usage plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaSpec {
    pub limit: u64,
    pub period: Period,
    /// Days into the period where it starts (WEEK: 0 = Sunday; MONTH: 0 = the 1st).
    pub offset: u32,
}

const DAY_MS: i64 = 86_400_000;

/// The start (epoch ms, UTC) of the quota period containing `now`.
pub fn period_start(q: QuotaSpec, now_ms: i64) -> i64 {
    let day = now_ms.div_euclid(DAY_MS);
    match q.period {
        Period::Day => day * DAY_MS,
        Period::Week => {
            // 1970-01-01 was a Thursday: day 0 is weekday 4 counting from Sunday.
            let weekday = (day + 4).rem_euclid(7);
            let since = (weekday - i64::from(q.offset % 7)).rem_euclid(7);
            (day - since) * DAY_MS
        }
        Period::Month => {
            let (y, m, d) = civil_from_days(day);
            let offset = i64::from(q.offset.min(27));
            let this_month = days_from_civil(y, m, 1) + offset;
            let start = if i64::from(d) > offset {
                this_month
            } else {
                let (py, pm) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
                days_from_civil(py, pm, 1) + offset
            };
            start * DAY_MS
        }
    }
}

/// One key's counters under one plan, as persisted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageRecord {
    #[serde(rename = "usagePlanId")]
    pub plan_id: String,
    #[serde(rename = "keyId")]
    pub key_id: String,
    /// Start of the quota period the count belongs to.
    #[serde(rename = "periodStart")]
    pub period_start: i64,
    /// Requests counted in that period.
    pub used: u64,
    /// Requests per UTC day (`yyyy-MM-dd`).
    pub daily: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
pub(crate) struct Quotas {
    counters: Mutex<HashMap<(String, String), UsageRecord>>,
    dirty: AtomicBool,
}

impl Quotas {
    pub(crate) fn consume(
        &self,
        plan_id: &str,
        key_id: &str,
        quota: Option<QuotaSpec>,
        now_ms: i64,
    ) -> Result<(), Refusal> {
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let rec = counters
            .entry((plan_id.to_string(), key_id.to_string()))
            .or_insert_with(|| UsageRecord {
                plan_id: plan_id.to_string(),
                key_id: key_id.to_string(),
                ..Default::default()
            });
        if let Some(q) = quota {
            let start = period_start(q, now_ms);
            if rec.period_start != start {
                rec.period_start = start;
                rec.used = 0;
            }
            if rec.used >= q.limit {
                return Err(Refusal::QuotaExceeded);
            }
            rec.used += 1;
        }
        let day = portico_model::time::date(now_ms.div_euclid(1000));
        *rec.daily.entry(day).or_insert(0) += 1;
        if rec.daily.len() > 400 {
            // Keep about a year and a month of daily history.
            if let Some(oldest) = rec.daily.keys().next().cloned() {
                rec.daily.remove(&oldest);
            }
        }
        self.dirty.store(true, Ordering::Relaxed);
        Ok(())
    }

    pub(crate) fn set_remaining(
        &self,
        plan_id: &str,
        key_id: &str,
        q: QuotaSpec,
        remaining: u64,
        now_ms: i64,
    ) {
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let rec = counters
            .entry((plan_id.to_string(), key_id.to_string()))
            .or_insert_with(|| UsageRecord {
                plan_id: plan_id.to_string(),
                key_id: key_id.to_string(),
                ..Default::default()
            });
        rec.period_start = period_start(q, now_ms);
        rec.used = q.limit.saturating_sub(remaining);
        self.dirty.store(true, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Vec<UsageRecord> {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        counters.values().cloned().collect()
    }

    pub(crate) fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::Relaxed)
    }

    pub(crate) fn restore(&self, records: Vec<UsageRecord>) {
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        for r in records {
            counters.insert((r.plan_id.clone(), r.key_id.clone()), r);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Limits, ManualClock};

    // 2026-11-21 (a Saturday) 14:57:14 UTC
    const NOW: i64 = 1_795_273_034_000;

    #[test]
    fn period_starts() {
        let day = QuotaSpec {
            limit: 1,
            period: Period::Day,
            offset: 0,
        };
        assert_eq!(
            portico_model::time::iso8601(period_start(day, NOW) / 1000),
            "2026-11-21T00:00:00Z"
        );
        let week = QuotaSpec {
            limit: 1,
            period: Period::Week,
            offset: 0,
        };
        assert_eq!(
            portico_model::time::iso8601(period_start(week, NOW) / 1000),
            "2026-11-15T00:00:00Z"
        );
        let week_mon = QuotaSpec { offset: 1, ..week };
        assert_eq!(
            portico_model::time::iso8601(period_start(week_mon, NOW) / 1000),
            "2026-11-16T00:00:00Z"
        );
        let month = QuotaSpec {
            limit: 1,
            period: Period::Month,
            offset: 0,
        };
        assert_eq!(
            portico_model::time::iso8601(period_start(month, NOW) / 1000),
            "2026-11-01T00:00:00Z"
        );
        let month_late = QuotaSpec {
            offset: 25,
            ..month
        };
        assert_eq!(
            portico_model::time::iso8601(period_start(month_late, NOW) / 1000),
            "2026-10-26T00:00:00Z"
        );
    }

    #[test]
    fn quota_refuses_past_limit_and_resets_next_period() {
        let clock = Arc::new(ManualClock::new(NOW));
        let l = Limits::new(clock.clone());
        let q = Some(QuotaSpec {
            limit: 2,
            period: Period::Day,
            offset: 0,
        });
        assert_eq!(l.consume("p", "k", q), Ok(()));
        assert_eq!(l.consume("p", "k", q), Ok(()));
        assert_eq!(l.consume("p", "k", q), Err(Refusal::QuotaExceeded));
        assert_eq!(l.consume("p", "other", q), Ok(()), "per key");
        clock.advance(DAY_MS);
        assert_eq!(l.consume("p", "k", q), Ok(()), "a new day, a new quota");
    }

    #[test]
    fn counts_survive_snapshot_and_restore() {
        let clock = Arc::new(ManualClock::new(NOW));
        let l = Limits::new(clock.clone());
        let q = Some(QuotaSpec {
            limit: 3,
            period: Period::Month,
            offset: 0,
        });
        l.consume("p", "k", q).unwrap();
        l.consume("p", "k", q).unwrap();
        assert!(l.take_dirty());
        let saved = l.usage_snapshot();
        let restarted = Limits::new(clock);
        restarted.restore_usage(saved);
        assert_eq!(restarted.consume("p", "k", q), Ok(()));
        assert_eq!(restarted.consume("p", "k", q), Err(Refusal::QuotaExceeded));
        assert_eq!(
            restarted.usage_snapshot()[0].daily.get("2026-11-21"),
            Some(&3)
        );
    }
}
