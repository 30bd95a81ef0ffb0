//! The worker loop: one tight loop per lcore, as in DPDK's l2fwd/l3fwd.
//!
//! rx_burst from each port of each pair it serves -> process the burst -> tx_burst
//! to the peer port; a partial tx is retried a few times, then what is left is
//! counted as dropped and freed, never leaked. No allocation, lock or system call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dpdk::{Burst, RxQueue, TxQueue};

use crate::ports::PairQueues;
use crate::stats::{Counter, WorkerCounters};

/// How often a partial tx_burst is retried before the rest is dropped.
pub const TX_RETRIES: usize = 8;

/// Extra loop rounds after a stop request, to drain what is already queued.
pub const DRAIN_ROUNDS: usize = 64;

/// What a worker lcore runs: everything it needs, built before launch.
pub struct Worker {
    pub id: usize,
    pub queues: Vec<PairQueues>,
    pub counters: Arc<WorkerCounters>,
    pub stop: Arc<AtomicBool>,
}

impl Worker {
    /// The loop. Returns 0 (the lcore's return code) after a stop request and a
    /// bounded drain.
    pub fn run(mut self) -> i32 {
        let mut burst = Burst::new();
        let c = &*self.counters;
        while !self.stop.load(Ordering::Relaxed) {
            for q in self.queues.iter_mut() {
                pump(
                    &mut q.access_rx,
                    &mut q.core_tx,
                    &mut burst,
                    &c.rx_access,
                    c,
                );
                pump(&mut q.core_rx, &mut q.access_tx, &mut burst, &c.rx_core, c);
            }
            c.loops.bump(1);
        }
        // Drain: keep going until the rx queues are empty (bounded: an infinite
        // source such as `infinite_rx=1` never empties).
        for _ in 0..DRAIN_ROUNDS {
            let mut got = 0;
            for q in self.queues.iter_mut() {
                got += pump(
                    &mut q.access_rx,
                    &mut q.core_tx,
                    &mut burst,
                    &c.rx_access,
                    c,
                );
                got += pump(&mut q.core_rx, &mut q.access_tx, &mut burst, &c.rx_core, c);
            }
            if got == 0 {
                break;
            }
        }
        0
    }
}

/// One burst from `rx` to `tx`. Returns how many frames were received.
#[inline]
fn pump(
    rx: &mut RxQueue,
    tx: &mut TxQueue,
    burst: &mut Burst,
    rx_count: &Counter,
    c: &WorkerCounters,
) -> usize {
    let n = rx.rx_burst_into(burst);
    if n == 0 {
        return 0;
    }
    rx_count.bump(n as u64);
    send(tx, burst, &c.forwarded, c);
    n
}

/// Transmits all of `burst`, retrying a partial send; counts what went out into
/// `sent_count` and what could not into `dropped_tx_full`. Leaves `burst` empty.
#[inline]
pub fn send(tx: &mut TxQueue, burst: &mut Burst, sent_count: &Counter, c: &WorkerCounters) {
    let mut sent = tx.tx_burst(burst);
    let mut tries = 0;
    while !burst.is_empty() && tries < TX_RETRIES {
        sent += tx.tx_burst(burst);
        tries += 1;
    }
    sent_count.bump(sent as u64);
    if !burst.is_empty() {
        c.dropped_tx_full.bump(burst.len() as u64);
        burst.clear();
    }
}
