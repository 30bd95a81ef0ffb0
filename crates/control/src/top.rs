//! The subscribers with the most blocked attempts in a sliding window: the
//! likely infected ones, for `GET /v1/top`.
//!
//! The window is cut into [`BUCKETS`] time buckets; each tracked subscriber
//! keeps its counts per bucket, and buckets older than the window are
//! dropped. The number of tracked subscribers is bounded: once full, attempts
//! of new subscribers are only counted as untracked.
//!
//! Memory is bounded by the tracked subscribers: each keeps at most
//! [`BUCKETS`] buckets (24 bytes each), at most [`MAX_POOLS_PER_SOURCE`] pool
//! names (the least recently seen gives way to a new one) and the time of its
//! newest attempt: about 2.5 KiB for a subscriber active in every bucket
//! (some 250 MiB at the default 100 000 subscribers), under 1 KiB for one
//! seen once. Entries leave when their last bucket leaves the window.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use dataplane::{SampleAction, SampleRecord};
use serde::Serialize;

/// Buckets per window.
pub const BUCKETS: u64 = 60;

/// Pool names kept per subscriber. An address is in one pool per
/// configuration; more only come from pools renamed or re-cut by pushes
/// within the window, and only the most recently seen of those matter.
pub const MAX_POOLS_PER_SOURCE: usize = 8;

#[derive(Debug, Default)]
struct Entry {
    /// (bucket index, blocked, monitored), oldest first.
    buckets: VecDeque<(u64, u64, u64)>,
    blocked: u64,
    monitored: u64,
    /// Pool name -> last bucket it was seen in.
    pools: BTreeMap<String, u64>,
    last_seen: String,
}

/// One subscriber in a `top` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopEntry {
    /// The subscriber: the source of an outbound attempt, the destination of
    /// an inbound one (the triangular-routing rule).
    pub src: IpAddr,
    /// Sampled attempts in the window: blocked + monitored.
    pub attempts: u64,
    pub blocked: u64,
    /// Attempts a monitor-mode pool let through (enforce would block them).
    pub monitored: u64,
    pub pools: Vec<String>,
    /// Time of the newest attempt (RFC 3339).
    pub last_seen: String,
}

/// The sliding window.
#[derive(Debug)]
pub struct TopWindow {
    window: Duration,
    bucket_ms: u64,
    max_sources: usize,
    entries: HashMap<IpAddr, Entry>,
    swept_at: u64,
    /// Attempts not tracked because `max_sources` subscribers were already tracked.
    pub untracked: u64,
}

impl TopWindow {
    /// A window of `window` (at least one second) tracking at most `max_sources` subscribers.
    pub fn new(window: Duration, max_sources: usize) -> TopWindow {
        let window = window.max(Duration::from_secs(1));
        let bucket_ms = (window.as_millis() as u64).div_ceil(BUCKETS).max(1);
        TopWindow {
            window,
            bucket_ms,
            max_sources: max_sources.max(1),
            entries: HashMap::new(),
            swept_at: 0,
            untracked: 0,
        }
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Subscribers tracked now.
    pub fn sources(&self) -> usize {
        self.entries.len()
    }

    fn oldest_kept(&self, now_bucket: u64) -> u64 {
        (now_bucket + 1).saturating_sub(BUCKETS)
    }

    /// Counts the samples at `now_ms` (milliseconds on a monotonic clock).
    pub fn record(&mut self, now_ms: u64, records: &[SampleRecord]) {
        let b = now_ms / self.bucket_ms;
        if b != self.swept_at {
            self.expire(b);
        }
        for r in records {
            let key = if r.direction == "inbound" {
                r.dst
            } else {
                r.src
            };
            let full = self.entries.len() >= self.max_sources;
            let e = match self.entries.get_mut(&key) {
                Some(e) => e,
                None if full => {
                    self.untracked += 1;
                    continue;
                }
                None => self.entries.entry(key).or_default(),
            };
            let monitored = r.action == SampleAction::Monitor;
            match e.buckets.back_mut() {
                Some(last) if last.0 == b => {
                    if monitored {
                        last.2 += 1
                    } else {
                        last.1 += 1
                    }
                }
                _ => e
                    .buckets
                    .push_back((b, u64::from(!monitored), u64::from(monitored))),
            }
            if monitored {
                e.monitored += 1;
            } else {
                e.blocked += 1;
            }
            match e.pools.get_mut(&r.pool) {
                Some(seen) => *seen = b,
                None => {
                    if e.pools.len() >= MAX_POOLS_PER_SOURCE {
                        // The least recently seen pool gives way (ties: the
                        // first by name).
                        let oldest = e
                            .pools
                            .iter()
                            .min_by_key(|(_, seen)| **seen)
                            .map(|(name, _)| name.clone());
                        if let Some(oldest) = oldest {
                            e.pools.remove(&oldest);
                        }
                    }
                    e.pools.insert(r.pool.clone(), b);
                }
            }
            if r.time > e.last_seen {
                e.last_seen.clone_from(&r.time);
            }
        }
    }

    /// Drops buckets that left the window, and subscribers left with none.
    pub fn expire(&mut self, now_bucket: u64) {
        self.swept_at = now_bucket;
        let keep_from = self.oldest_kept(now_bucket);
        self.entries.retain(|_, e| {
            while let Some(&(b, blocked, monitored)) = e.buckets.front() {
                if b >= keep_from {
                    break;
                }
                e.blocked -= blocked;
                e.monitored -= monitored;
                e.buckets.pop_front();
            }
            e.pools.retain(|_, seen| *seen >= keep_from);
            !e.buckets.is_empty()
        });
    }

    /// The `n` subscribers with the most attempts at `now_ms`, most first (ties:
    /// the most recent first, then by address).
    pub fn top(&mut self, now_ms: u64, n: usize) -> Vec<TopEntry> {
        self.expire(now_ms / self.bucket_ms);
        let mut all: Vec<TopEntry> = self
            .entries
            .iter()
            .map(|(src, e)| TopEntry {
                src: *src,
                attempts: e.blocked + e.monitored,
                blocked: e.blocked,
                monitored: e.monitored,
                pools: e.pools.keys().cloned().collect(),
                last_seen: e.last_seen.clone(),
            })
            .collect();
        all.sort_by(|a, b| {
            b.attempts
                .cmp(&a.attempts)
                .then_with(|| b.last_seen.cmp(&a.last_seen))
                .then_with(|| a.src.cmp(&b.src))
        });
        all.truncate(n);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::record;

    const MIN: u64 = 60_000;

    #[test]
    fn ranks_subscribers_by_attempts_and_names_their_pools() {
        let mut t = TopWindow::new(Duration::from_secs(600), 100);
        let mut recs = vec![record("198.51.100.7", "ftth", false); 5];
        recs.extend(vec![record("198.51.100.9", "ftth", false); 2]);
        recs.push(record("198.51.100.9", "mobile", true));
        recs.push(record("2001:db8:100::1", "v6", false));
        t.record(0, &recs);
        let top = t.top(1000, 10);
        assert_eq!(top.len(), 3);
        assert_eq!(top[0].src.to_string(), "198.51.100.7");
        assert_eq!((top[0].attempts, top[0].blocked), (5, 5));
        assert_eq!(top[1].src.to_string(), "198.51.100.9");
        assert_eq!(
            (top[1].attempts, top[1].blocked, top[1].monitored),
            (3, 2, 1)
        );
        assert_eq!(top[1].pools, ["ftth", "mobile"]);
        assert_eq!(t.top(1000, 1).len(), 1);
    }

    #[test]
    fn attempts_leave_the_window_when_it_slides_past_them() {
        let mut t = TopWindow::new(Duration::from_secs(600), 100);
        t.record(0, &[record("198.51.100.7", "a", false)]);
        t.record(5 * MIN, &[record("198.51.100.7", "b", false)]);
        t.record(9 * MIN, &[record("198.51.100.8", "a", false)]);
        let top = t.top(9 * MIN, 10);
        assert_eq!(top[0].attempts, 2);
        assert_eq!(top[0].pools, ["a", "b"]);
        // 10 minutes and a bit later the first attempt (and pool "a" of .7) is gone.
        let top = t.top(10 * MIN + 20_000, 10);
        let seven = top
            .iter()
            .find(|e| e.src.to_string() == "198.51.100.7")
            .unwrap();
        assert_eq!(seven.attempts, 1);
        assert_eq!(seven.pools, ["b"]);
        // Much later everything is gone, and nothing is tracked.
        assert!(t.top(60 * MIN, 10).is_empty());
        assert_eq!(t.sources(), 0);
    }

    #[test]
    fn the_number_of_tracked_subscribers_is_bounded() {
        let mut t = TopWindow::new(Duration::from_secs(60), 2);
        t.record(
            0,
            &[
                record("198.51.100.1", "p", false),
                record("198.51.100.2", "p", false),
                record("198.51.100.3", "p", false),
                record("198.51.100.1", "p", false),
            ],
        );
        assert_eq!(t.sources(), 2);
        assert_eq!(t.untracked, 1);
        assert_eq!(t.top(0, 10)[0].attempts, 2);
    }

    #[test]
    fn pool_names_per_subscriber_are_bounded_and_the_newest_kept() {
        // Thousands of distinct pool labels for one subscriber within the
        // window (the soak's leak: one label per swap) keep a bounded list.
        let mut t = TopWindow::new(Duration::from_secs(600), 10);
        for i in 0..5000u64 {
            let r = record("198.51.100.7", &format!("#0 (generation {i})"), false);
            // Ten buckets a second, so "least recently seen" is well defined.
            t.record(i * 10_000 / 5000, &[r]);
        }
        let top = t.top(10_000, 1);
        assert_eq!(top[0].attempts, 5000, "attempts are all still counted");
        assert_eq!(top[0].pools.len(), MAX_POOLS_PER_SOURCE);
        assert!(top[0].pools.contains(&"#0 (generation 4999)".to_string()));
        assert!(!top[0].pools.contains(&"#0 (generation 0)".to_string()));
        // A pool seen again stays when newer ones arrive.
        let mut t = TopWindow::new(Duration::from_secs(60), 10);
        t.record(0, &[record("198.51.100.7", "ftth", false)]);
        for i in 0..20u64 {
            t.record(
                1000 * (i + 1),
                &[
                    record("198.51.100.7", &format!("p{i}"), false),
                    record("198.51.100.7", "ftth", false),
                ],
            );
        }
        let top = t.top(21_000, 1);
        assert_eq!(top[0].pools.len(), MAX_POOLS_PER_SOURCE);
        assert!(top[0].pools.contains(&"ftth".to_string()));
        assert!(top[0].pools.contains(&"p19".to_string()));
    }

    #[test]
    fn inbound_attempts_count_for_the_subscriber_they_target() {
        let mut t = TopWindow::new(Duration::from_secs(60), 10);
        let mut r = record("192.0.2.25", "p", false);
        r.direction = "inbound";
        r.dst = "198.51.100.44".parse().unwrap();
        t.record(0, &[r]);
        assert_eq!(t.top(0, 1)[0].src.to_string(), "198.51.100.44");
    }
}
