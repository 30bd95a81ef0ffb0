//! The worker loop: one tight loop per lcore (DPDK l2fwd/l3fwd), each burst in
//! stages (VPP): receive -> the fast pass over the whole burst -> classify
//! the frames it leaves -> build the replies -> forward / reply / free ->
//! transmit. No allocation, lock or system call.
//!
//! Once per loop iteration the worker reports a quiescent state: the only
//! point where it holds no reference into the published [`Generation`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use classify::reply::MAX_REPLY_LEN;
use classify::{
    classify_burst, passes, Direction, DropReason, ForwardReason, Parsed, ReplyKind, Verdict,
    MAX_BURST,
};
use dpdk::ring::Producer;
use dpdk::{Burst, Mbuf, Mempool, QsbrReader, RcuCell, RxQueue, TxQueue};

use crate::generation::Generation;
use crate::latency::LatencyBuckets;
use crate::ports::PairQueues;
use crate::ratelimit::TokenBucket;
use crate::sample::{Sample, SampleAction};
use crate::stats::{Counter, WorkerCounters};

const _: () = assert!(MAX_BURST == dpdk::MAX_BURST, "one burst size end to end");
const _: () = assert!(MAX_BURST <= 256, "frame indexes in a burst are u8");

/// How often a partial tx_burst is retried before the rest is dropped.
pub const TX_RETRIES: usize = 8;

/// Extra loop rounds after a stop request, to drain what is already queued.
pub const DRAIN_ROUNDS: usize = 64;

/// Bytes of a chained (multi-segment) frame copied out for classification: a
/// whole jumbo frame (9216-octet frames and their encapsulations fit), since
/// the parser checks the IP length against the frame and a truncated copy
/// would look malformed and be forwarded, a policy bypass. Longer chained
/// frames are classified on their first `SCRATCH` octets (counted as
/// unparsed and forwarded). 64 slots of this: 1 MiB per worker, allocated once.
pub const SCRATCH: usize = 16 * 1024;

const _: () = assert!(SCRATCH >= MAX_REPLY_LEN);

/// What a worker lcore runs: everything it needs, built before launch.
pub struct Worker {
    pub index: usize,
    pub queues: Vec<PairQueues>,
    pub counters: Arc<WorkerCounters>,
    pub latency: Option<Arc<LatencyBuckets>>,
    pub samples: Producer<Sample>,
    pub tables: Arc<RcuCell<Generation>>,
    pub reader: QsbrReader,
    pub pool: Mempool,
    pub stop: Arc<AtomicBool>,
    pub tsc_hz: u64,
}

/// The worker's scratch space, allocated once before the loop.
struct State {
    rx: Burst,
    replies: Burst,
    reply_kinds: [ReplyKind; MAX_BURST],
    parsed: [Parsed; MAX_BURST],
    verdicts: [Verdict; MAX_BURST],
    keep: [bool; MAX_BURST],
    scratch: Box<[[u8; SCRATCH]]>,
    bucket: TokenBucket,
}

/// The ports one direction of a pair uses.
struct Lane<'a> {
    dir: Direction,
    rx: &'a mut RxQueue,
    /// Toward the peer port.
    fwd: &'a mut TxQueue,
    /// Back out of the ingress port.
    reply: &'a mut TxQueue,
}

impl Worker {
    /// The loop. Returns 0 (the lcore's return code) after a stop request and a
    /// bounded drain.
    pub fn run(self) -> i32 {
        let Worker {
            index,
            mut queues,
            counters,
            latency,
            mut samples,
            tables,
            mut reader,
            pool,
            stop,
            tsc_hz,
        } = self;
        let c = &*counters;
        let rate = tables.read(&mut reader).tables.reply_rate_per_sec();
        let mut st = State {
            rx: Burst::new(),
            replies: Burst::new(),
            reply_kinds: [ReplyKind::Rst; MAX_BURST],
            parsed: [Parsed::EMPTY; MAX_BURST],
            verdicts: [Verdict::EMPTY; MAX_BURST],
            keep: [false; MAX_BURST],
            scratch: vec![[0u8; SCRATCH]; MAX_BURST].into_boxed_slice(),
            bucket: TokenBucket::new(rate, tsc_hz, dpdk::cycles::rdtsc()),
        };
        let mut round = |reader: &mut QsbrReader, st: &mut State| -> usize {
            let generation = tables.read(reader);
            st.bucket.set_rate(generation.tables.reply_rate_per_sec());
            let mut got = 0;
            for q in queues.iter_mut() {
                let PairQueues {
                    access_rx,
                    access_tx,
                    core_rx,
                    core_tx,
                    ..
                } = q;
                let out = Lane {
                    dir: Direction::Outbound,
                    rx: access_rx,
                    fwd: core_tx,
                    reply: access_tx,
                };
                got += process(
                    out,
                    generation,
                    index,
                    st,
                    c,
                    &pool,
                    &mut samples,
                    latency.as_deref(),
                );
                let inb = Lane {
                    dir: Direction::Inbound,
                    rx: core_rx,
                    fwd: access_tx,
                    reply: core_tx,
                };
                got += process(
                    inb,
                    generation,
                    index,
                    st,
                    c,
                    &pool,
                    &mut samples,
                    latency.as_deref(),
                );
            }
            got
        };
        while !stop.load(Ordering::Relaxed) {
            round(&mut reader, &mut st);
            reader.quiescent();
            c.loops.bump(1);
        }
        // Drain what is already queued (bounded: an endless source never empties).
        for _ in 0..DRAIN_ROUNDS {
            let got = round(&mut reader, &mut st);
            reader.quiescent();
            if got == 0 {
                break;
            }
        }
        0
    }
}

/// One burst of one lane, stage by stage. Returns how many frames arrived.
#[allow(clippy::too_many_arguments)]
#[inline]
fn process(
    lane: Lane<'_>,
    generation: &Generation,
    worker: usize,
    st: &mut State,
    c: &WorkerCounters,
    mempool: &Mempool,
    samples: &mut Producer<Sample>,
    latency: Option<&LatencyBuckets>,
) -> usize {
    let n = lane.rx.rx_burst_into(&mut st.rx);
    if n == 0 {
        return 0;
    }
    let t0 = dpdk::cycles::rdtsc();
    let di = match lane.dir {
        Direction::Outbound => 0,
        Direction::Inbound => 1,
    };
    let d = &c.dir[di];
    d.rx.bump(n as u64);

    // Stage 1: the fast pass (classify::fast) over the burst, one look at each
    // frame's headers: what it settles (not TCP, or TCP on a port that is not
    // blocked: nearly everything) is forwarded as it is. The rest, the `slow`
    // frames, get a contiguous view for the full path: chained mbufs (rare:
    // jumbo frames on small segments) are copied out whole, up to SCRATCH, so
    // the parser sees their real length; they are still forwarded as they are.
    let tables = &generation.tables;
    let mut frames: [&[u8]; MAX_BURST] = [&[]; MAX_BURST];
    let mut slow_at = [0u8; MAX_BURST];
    let mut slow = 0;
    let mut slots = st.scratch.iter_mut();
    for (i, m) in st.rx.as_slice().iter().enumerate() {
        let frame: &[u8] = if m.is_contiguous() {
            let data = m.data();
            if passes(tables, lane.dir, data) {
                st.keep[i] = true;
                continue;
            }
            data
        } else {
            c.multi_segment.bump(1);
            // A slot per frame is always there (MAX_BURST of each); were it
            // not, the empty view would be forwarded and counted as unparsed.
            match slots.next() {
                Some(slot) => {
                    m.copy_to(0, slot);
                    let slot: &[u8; SCRATCH] = slot;
                    &slot[..(m.pkt_len() as usize).min(SCRATCH)]
                }
                None => &[],
            }
        };
        frames[slow] = frame;
        slow_at[slow] = i as u8;
        slow += 1;
    }

    // Stage 2: parse, look up and decide the slow frames, as a burst.
    classify_burst(
        tables,
        lane.dir,
        &frames[..slow],
        &mut st.parsed[..slow],
        &mut st.verdicts[..slow],
    );

    // Stage 3: act. Replies are built into fresh mbufs; counters and samples.
    let counts = &generation.pool_counts[worker.min(generation.pool_counts.len() - 1)].0;
    let now = t0;
    let mut n_replies = 0;
    for (j, frame) in frames.iter().enumerate().take(slow) {
        let p = &st.parsed[j];
        let mut sample = |pool: u16, action: SampleAction| {
            let s = Sample::new(p, now, generation.number, pool, action, di as u8);
            if samples.enqueue(s).is_err() {
                c.samples_dropped.bump(1);
            }
        };
        st.keep[usize::from(slow_at[j])] = match st.verdicts[j] {
            Verdict::Forward(reason) => {
                if matches!(reason, ForwardReason::Unparsed(_)) {
                    d.unparsed.bump(1);
                }
                true
            }
            Verdict::Monitor { pool } => {
                d.monitored.bump(1);
                counts[usize::from(pool)].monitored.bump(1);
                sample(pool, SampleAction::Monitor);
                true
            }
            Verdict::Reply { pool, kind } => {
                counts[usize::from(pool)].blocked.bump(1);
                if !st.bucket.take(now) {
                    d.dropped_rate_limit.bump(1);
                    sample(pool, SampleAction::RateLimited);
                } else {
                    match reply_mbuf(kind, frame, p, mempool) {
                        Some(m) => {
                            st.reply_kinds[n_replies] = kind;
                            n_replies += 1;
                            // Cannot fail: at most one reply per received frame.
                            let _ = st.replies.push(m);
                            sample(
                                pool,
                                if kind == ReplyKind::Rst {
                                    SampleAction::Rst
                                } else {
                                    SampleAction::Icmp
                                },
                            );
                        }
                        None => d.dropped_no_mbuf.bump(1),
                    }
                }
                false
            }
            Verdict::Drop(DropReason::Policy { pool })
            | Verdict::Drop(DropReason::ReplyNotAllowed { pool, .. }) => {
                counts[usize::from(pool)].blocked.bump(1);
                d.dropped_policy.bump(1);
                sample(pool, SampleAction::Drop);
                false
            }
            Verdict::Drop(DropReason::TinyFragment) => {
                d.dropped_tiny_fragment.bump(1);
                false
            }
        };
    }

    // Stage 4: originals to the peer port (in arrival order) or freed.
    let mut i = 0;
    st.rx.retain(|_| {
        let keep = st.keep[i];
        i += 1;
        keep
    });
    let sent = send(lane.fwd, &mut st.rx, &d.dropped_tx_full);
    d.forwarded.bump(sent as u64);
    if n_replies > 0 {
        let sent = send(lane.reply, &mut st.replies, &d.dropped_tx_full);
        let rst = st.reply_kinds[..sent]
            .iter()
            .filter(|k| **k == ReplyKind::Rst)
            .count();
        d.replied_rst.bump(rst as u64);
        d.replied_icmp.bump((sent - rst) as u64);
    }
    if let Some(l) = latency {
        l.record(dpdk::cycles::rdtsc().wrapping_sub(t0));
    }
    n
}

/// A reply of `kind` to the frame, in a fresh mbuf; `None` when no mbuf is free
/// (or, defensively, when the reply does not fit one).
#[inline]
fn reply_mbuf(kind: ReplyKind, frame: &[u8], parsed: &Parsed, mempool: &Mempool) -> Option<Mbuf> {
    let len = classify::reply::reply_len(kind, frame, parsed)?;
    let mut m = Mbuf::alloc(mempool)?;
    let buf = m.append(u16::try_from(len).ok()?)?;
    let written = classify::build_reply(kind, frame, parsed, buf)?;
    if written != len {
        m.trim((len - written) as u16);
    }
    Some(m)
}

/// Transmits all of `burst`, retrying a partial send; what could not be sent is
/// counted in `dropped` and freed. Returns how many went out (the first ones).
#[inline]
pub fn send(tx: &mut TxQueue, burst: &mut Burst, dropped: &Counter) -> usize {
    let mut sent = tx.tx_burst(burst);
    let mut tries = 0;
    while !burst.is_empty() && tries < TX_RETRIES {
        sent += tx.tx_burst(burst);
        tries += 1;
    }
    if !burst.is_empty() {
        dropped.bump(burst.len() as u64);
        burst.clear();
    }
    sent
}
