//! Per-worker counters and their totals.
//!
//! Each worker owns one cache-line-aligned block of counters and is its only
//! writer; the control core reads them with relaxed loads and sums them
//! (VPP's per-thread counters). A single writer needs no atomic read-modify-write:
//! `bump` is a relaxed load and store, which on x86-64 is two plain moves.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// A counter written by exactly one worker thread.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`. Only the owning worker may call this (single writer).
    #[inline(always)]
    pub fn bump(&self, n: u64) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One worker's counters, alone on their cache lines so workers never share a line.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct WorkerCounters {
    /// Frames received from access ports.
    pub rx_access: Counter,
    /// Frames received from core ports.
    pub rx_core: Counter,
    /// Frames sent on toward the peer port.
    pub forwarded: Counter,
    /// Replies (RST or ICMP) sent back out of the ingress port.
    pub replied: Counter,
    /// Frames dropped because the peer port's transmit queue stayed full.
    pub dropped_tx_full: Counter,
    /// Frames forwarded under a monitor-mode pool.
    pub monitored: Counter,
    /// Worker loop iterations (each one is a quiescent state): shows a live worker.
    pub loops: Counter,
}

/// The sum over all workers, as printed at exit and written by `--stats-json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub rx: u64,
    pub rx_access: u64,
    pub rx_core: u64,
    pub forwarded: u64,
    pub replied: u64,
    pub dropped: u64,
    pub dropped_tx_full: u64,
    pub monitored: u64,
}

impl Totals {
    pub fn sum<'a>(workers: impl IntoIterator<Item = &'a WorkerCounters>) -> Self {
        let mut t = Totals::default();
        for w in workers {
            t.rx_access += w.rx_access.get();
            t.rx_core += w.rx_core.get();
            t.forwarded += w.forwarded.get();
            t.replied += w.replied.get();
            t.dropped_tx_full += w.dropped_tx_full.get();
            t.monitored += w.monitored.get();
        }
        t.rx = t.rx_access + t.rx_core;
        t.dropped = t.dropped_tx_full;
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_counters_occupy_whole_cache_lines() {
        assert_eq!(std::mem::align_of::<WorkerCounters>(), 64);
        assert_eq!(std::mem::size_of::<WorkerCounters>() % 64, 0);
    }

    #[test]
    fn totals_sum_every_worker_and_drop_reason() {
        let a = WorkerCounters::default();
        let b = WorkerCounters::default();
        a.rx_access.bump(10);
        a.forwarded.bump(9);
        a.dropped_tx_full.bump(1);
        b.rx_core.bump(5);
        b.forwarded.bump(5);
        let t = Totals::sum([&a, &b]);
        assert_eq!((t.rx, t.forwarded, t.dropped), (15, 14, 1));
        assert_eq!(t.rx, t.forwarded + t.replied + t.dropped);
    }
}
