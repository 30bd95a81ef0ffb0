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

/// Counters of one direction (frames that entered on an access port, or on a core port).
///
/// Every received frame ends in exactly one of `forwarded`, `replied_*` or
/// `dropped_*`, so `rx = forwarded + replied + dropped` holds at any quiet moment.
/// `monitored` and `unparsed` are subsets of `forwarded`.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct DirCounters {
    pub rx: Counter,
    pub forwarded: Counter,
    /// Frames answered with a TCP RST (the reply was sent, the frame dropped).
    pub replied_rst: Counter,
    /// Frames answered with an ICMP administratively-prohibited.
    pub replied_icmp: Counter,
    /// Dropped by the policy (action `drop`, or a reply that may not be sent).
    pub dropped_policy: Counter,
    /// Dropped because replies were over `reply.rate_per_sec`.
    pub dropped_rate_limit: Counter,
    /// Dropped because a transmit queue stayed full (forwarded frames or replies).
    pub dropped_tx_full: Counter,
    /// TCP fragments RFC 1858 says to drop.
    pub dropped_tiny_fragment: Counter,
    /// A reply was due but no mbuf was free for it.
    pub dropped_no_mbuf: Counter,
    /// Forwarded under a monitor-mode pool (enforce would have blocked them).
    pub monitored: Counter,
    /// Forwarded unchanged because they could not be parsed.
    pub unparsed: Counter,
}

/// One worker's counters, alone on their cache lines so workers never share a line.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct WorkerCounters {
    /// Index 0: from access ports (outbound), 1: from core ports (inbound).
    pub dir: [DirCounters; 2],
    /// Loop iterations (each one a quiescent state): shows a live worker.
    pub loops: Counter,
    /// Blocked-flow samples lost because the worker's sample ring was full.
    pub samples_dropped: Counter,
    /// Frames received in multi-segment (chained) mbufs.
    pub multi_segment: Counter,
}

/// Totals of one direction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DirTotals {
    pub rx: u64,
    pub forwarded: u64,
    pub replied: u64,
    pub replied_rst: u64,
    pub replied_icmp: u64,
    pub dropped: u64,
    pub dropped_policy: u64,
    pub dropped_rate_limit: u64,
    pub dropped_tx_full: u64,
    pub dropped_tiny_fragment: u64,
    pub dropped_no_mbuf: u64,
    pub monitored: u64,
    pub unparsed: u64,
}

impl DirTotals {
    fn add(&mut self, c: &DirCounters) {
        self.rx += c.rx.get();
        self.forwarded += c.forwarded.get();
        self.replied_rst += c.replied_rst.get();
        self.replied_icmp += c.replied_icmp.get();
        self.dropped_policy += c.dropped_policy.get();
        self.dropped_rate_limit += c.dropped_rate_limit.get();
        self.dropped_tx_full += c.dropped_tx_full.get();
        self.dropped_tiny_fragment += c.dropped_tiny_fragment.get();
        self.dropped_no_mbuf += c.dropped_no_mbuf.get();
        self.monitored += c.monitored.get();
        self.unparsed += c.unparsed.get();
        self.replied = self.replied_rst + self.replied_icmp;
        self.dropped = self.dropped_policy
            + self.dropped_rate_limit
            + self.dropped_tx_full
            + self.dropped_tiny_fragment
            + self.dropped_no_mbuf;
    }

    fn merge(&mut self, o: &DirTotals) {
        macro_rules! m { ($($f:ident),*) => { $(self.$f += o.$f;)* } }
        m!(
            rx,
            forwarded,
            replied,
            replied_rst,
            replied_icmp,
            dropped,
            dropped_policy,
            dropped_rate_limit,
            dropped_tx_full,
            dropped_tiny_fragment,
            dropped_no_mbuf,
            monitored,
            unparsed
        );
    }
}

/// The sum over all workers, as printed at exit and written by `--stats-json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub rx: u64,
    pub forwarded: u64,
    pub replied: u64,
    pub dropped: u64,
    pub monitored: u64,
    pub unparsed: u64,
    /// Frames that entered on access ports.
    pub outbound: DirTotals,
    /// Frames that entered on core ports.
    pub inbound: DirTotals,
    pub samples_dropped: u64,
    pub multi_segment: u64,
}

impl Totals {
    pub fn sum<'a>(workers: impl IntoIterator<Item = &'a WorkerCounters>) -> Self {
        let mut t = Totals::default();
        for w in workers {
            t.outbound.add(&w.dir[0]);
            t.inbound.add(&w.dir[1]);
            t.samples_dropped += w.samples_dropped.get();
            t.multi_segment += w.multi_segment.get();
        }
        let mut all = t.outbound.clone();
        all.merge(&t.inbound);
        t.rx = all.rx;
        t.forwarded = all.forwarded;
        t.replied = all.replied;
        t.dropped = all.dropped;
        t.monitored = all.monitored;
        t.unparsed = all.unparsed;
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
    fn totals_sum_every_worker_direction_and_reason() {
        let a = WorkerCounters::default();
        let b = WorkerCounters::default();
        a.dir[0].rx.bump(10);
        a.dir[0].forwarded.bump(6);
        a.dir[0].replied_rst.bump(2);
        a.dir[0].dropped_rate_limit.bump(1);
        a.dir[0].dropped_tx_full.bump(1);
        b.dir[1].rx.bump(5);
        b.dir[1].forwarded.bump(4);
        b.dir[1].replied_icmp.bump(1);
        let t = Totals::sum([&a, &b]);
        assert_eq!((t.rx, t.forwarded, t.replied, t.dropped), (15, 10, 3, 2));
        assert_eq!(t.rx, t.forwarded + t.replied + t.dropped);
        assert_eq!(
            t.outbound.rx,
            t.outbound.forwarded + t.outbound.replied + t.outbound.dropped
        );
        assert_eq!(
            t.inbound.rx,
            t.inbound.forwarded + t.inbound.replied + t.inbound.dropped
        );
    }
}
