//! Verdicts: what the worker does with each frame, by the rules of DESIGN.md
//! ("Configuration", semantics per packet on an access or a core port).
//!
//! [`classify_burst`] works like a VPP graph: each stage runs over the whole
//! burst before the next begins (parse all, gather the subscriber addresses
//! that need a pool, look them all up, decide all), so the independent loads
//! of one stage overlap and the instruction cache stays hot. It uses fixed
//! arrays of [`MAX_BURST`] entries and never allocates; longer bursts are
//! processed in chunks. [`classify_one`] is the plain per-packet reference it
//! is tested against, itself built on [`policy::Tables::decide`].
//!
//! Prefetching of frame data is left to the dataplane (it owns the mbufs, and
//! the prefetch intrinsic needs `unsafe`, which this crate forbids).

use crate::parse::{parse, parse_to, Family, Outcome, Parsed, UnparsedReason};
use crate::reply::{reply_allowed, ReplyKind};
use policy::{Action, Decision, Mode, PoolId, Reason, Tables};

pub use policy::Direction;

/// Frames per stage run; longer bursts are processed in chunks of this size.
pub const MAX_BURST: usize = 64;

/// Why a frame is forwarded unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ForwardReason {
    /// Not IP (ARP, PPPoE discovery and control, other EtherTypes).
    NotIp,
    /// IP but not TCP (rule 1).
    NotTcp,
    /// A fragment without the TCP header (rule 1).
    NonFirstFragment,
    /// Could not be parsed: forwarded unchanged and counted.
    Unparsed(UnparsedReason),
    /// A TCP segment the policy lets through (rules 2–4, inbound rule).
    Policy(Reason),
}

/// Why a frame is dropped without a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The pool's action is `drop`.
    Policy {
        /// The enforce pool.
        pool: PoolId,
    },
    /// The pool's action asks for a reply, but none may be sent (the segment
    /// is a RST, or was sent to a broadcast/multicast MAC or a non-unicast
    /// address): dropped silently instead.
    ReplyNotAllowed {
        /// The enforce pool.
        pool: PoolId,
        /// The reply the action asked for.
        kind: ReplyKind,
    },
    /// A TCP fragment RFC 1858 says to drop (tiny first fragment, or offset 8).
    TinyFragment,
}

/// What the worker does with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Forward unchanged to the other port.
    Forward(ForwardReason),
    /// Forward, count and sample: a monitor pool's traffic that enforce would block.
    Monitor {
        /// The monitor pool.
        pool: PoolId,
    },
    /// Drop the frame and send a reply of `kind` out of the port it came in on.
    Reply {
        /// The enforce pool.
        pool: PoolId,
        /// RST or ICMP.
        kind: ReplyKind,
    },
    /// Drop the frame silently.
    Drop(DropReason),
}

impl Verdict {
    /// A placeholder for initialising arrays.
    pub const EMPTY: Verdict = Verdict::Forward(ForwardReason::NotIp);

    /// The pool the verdict is charged to, for per-pool counters.
    pub fn pool(&self) -> Option<PoolId> {
        match *self {
            Verdict::Monitor { pool }
            | Verdict::Reply { pool, .. }
            | Verdict::Drop(DropReason::Policy { pool })
            | Verdict::Drop(DropReason::ReplyNotAllowed { pool, .. }) => Some(pool),
            Verdict::Forward(ForwardReason::Policy(Reason::ExemptPool { pool })) => Some(pool),
            _ => None,
        }
    }

    /// True when the original frame goes on to the other port.
    pub fn is_forwarded(&self) -> bool {
        matches!(self, Verdict::Forward(_) | Verdict::Monitor { .. })
    }

    /// The policy decision behind this verdict, for a frame that reached the
    /// policy (a parsed TCP segment); `None` for frames settled by parsing.
    pub fn decision(&self) -> Option<Decision> {
        Some(match *self {
            Verdict::Forward(ForwardReason::Policy(reason)) => Decision::Forward(reason),
            Verdict::Forward(_) | Verdict::Drop(DropReason::TinyFragment) => return None,
            Verdict::Monitor { pool } => Decision::Monitor { pool },
            Verdict::Reply { pool, kind }
            | Verdict::Drop(DropReason::ReplyNotAllowed { pool, kind }) => Decision::Block {
                pool,
                action: match kind {
                    ReplyKind::Rst => Action::Rst,
                    ReplyKind::Icmp => Action::Icmp,
                },
            },
            Verdict::Drop(DropReason::Policy { pool }) => Decision::Block {
                pool,
                action: Action::Drop,
            },
        })
    }
}

/// The verdict for a frame whose parse settled it (anything but TCP).
fn verdict_from_outcome(outcome: Outcome) -> Option<Verdict> {
    Some(match outcome {
        Outcome::Tcp => return None,
        Outcome::NotTcp { .. } => Verdict::Forward(ForwardReason::NotTcp),
        Outcome::NotIp => Verdict::Forward(ForwardReason::NotIp),
        Outcome::NonFirstFragment => Verdict::Forward(ForwardReason::NonFirstFragment),
        Outcome::TinyFragment => Verdict::Drop(DropReason::TinyFragment),
        Outcome::Unparsed(reason) => Verdict::Forward(ForwardReason::Unparsed(reason)),
    })
}

/// Rule 5 for an enforce pool: its action, a reply only where one is allowed.
fn enforce(parsed: &Parsed, pool: PoolId, action: Action) -> Verdict {
    let kind = match action {
        Action::Drop => return Verdict::Drop(DropReason::Policy { pool }),
        Action::Rst => ReplyKind::Rst,
        Action::Icmp => ReplyKind::Icmp,
    };
    if reply_allowed(parsed).is_ok() {
        Verdict::Reply { pool, kind }
    } else {
        Verdict::Drop(DropReason::ReplyNotAllowed { pool, kind })
    }
}

/// Maps a policy decision for a parsed TCP segment to a verdict.
fn from_decision(parsed: &Parsed, decision: Decision) -> Verdict {
    match decision {
        Decision::Forward(reason) => Verdict::Forward(ForwardReason::Policy(reason)),
        Decision::Monitor { pool } => Verdict::Monitor { pool },
        Decision::Block { pool, action } => enforce(parsed, pool, action),
    }
}

/// The plain per-packet reference: parse, then [`Tables::decide`].
pub fn classify_one(tables: &Tables, dir: Direction, frame: &[u8]) -> Verdict {
    let parsed = parse(frame);
    classify_parsed(tables, dir, &parsed)
}

/// The verdict for an already parsed frame, by the per-packet reference path.
pub fn classify_parsed(tables: &Tables, dir: Direction, parsed: &Parsed) -> Verdict {
    if let Some(verdict) = verdict_from_outcome(parsed.outcome) {
        return verdict;
    }
    let (Some(src), Some(dst)) = (parsed.src_ip(), parsed.dst_ip()) else {
        // Unreachable for Outcome::Tcp; forwarded like any unparsable frame.
        return Verdict::Forward(ForwardReason::Unparsed(UnparsedReason::TcpHeader));
    };
    let t = &parsed.tcp;
    from_decision(parsed, tables.decide(dir, src, t.src_port, dst, t.dst_port))
}

/// Classifies a burst: parses `frames[i]` into `parsed[i]` and writes its
/// verdict to `verdicts[i]`, stage by stage over the whole burst.
///
/// Handles the first `n = min(frames.len(), parsed.len(), verdicts.len())`
/// entries and returns `n`; the caller sizes the three slices alike. Never
/// allocates; bursts longer than [`MAX_BURST`] are processed in chunks.
pub fn classify_burst(
    tables: &Tables,
    dir: Direction,
    frames: &[&[u8]],
    parsed: &mut [Parsed],
    verdicts: &mut [Verdict],
) -> usize {
    let n = frames.len().min(parsed.len()).min(verdicts.len());
    let mut start = 0;
    while start < n {
        let end = (start + MAX_BURST).min(n);
        classify_chunk(
            tables,
            dir,
            &frames[start..end],
            &mut parsed[start..end],
            &mut verdicts[start..end],
        );
        start = end;
    }
    n
}

/// Subscriber addresses of one chunk that need a pool lookup, by family.
struct Keys {
    v4: [u32; MAX_BURST],
    v4_at: [u8; MAX_BURST],
    v4_len: usize,
    v6: [u128; MAX_BURST],
    v6_at: [u8; MAX_BURST],
    v6_len: usize,
}

/// One chunk of at most `MAX_BURST` entries, all slices the same length.
fn classify_chunk(
    tables: &Tables,
    dir: Direction,
    frames: &[&[u8]],
    parsed: &mut [Parsed],
    verdicts: &mut [Verdict],
) {
    // Stage 1: parse every frame.
    for (p, frame) in parsed.iter_mut().zip(frames) {
        parse_to(frame, p);
    }

    // Stage 2: settle what parsing and the port already decide, and gather the
    // subscriber address of every segment on a blocked port.
    let inbound = dir == Direction::Inbound;
    let inbound_disabled = inbound && !tables.inbound_enabled();
    let blocked = tables.blocked_ports();
    let mut keys = Keys {
        v4: [0; MAX_BURST],
        v4_at: [0; MAX_BURST],
        v4_len: 0,
        v6: [0; MAX_BURST],
        v6_at: [0; MAX_BURST],
        v6_len: 0,
    };
    for (i, (p, verdict)) in parsed.iter().zip(verdicts.iter_mut()).enumerate() {
        if let Some(settled) = verdict_from_outcome(p.outcome) {
            *verdict = settled;
            continue;
        }
        if inbound_disabled {
            *verdict = Verdict::Forward(ForwardReason::Policy(Reason::InboundDisabled));
            continue;
        }
        let (port, subscriber) = if inbound {
            (p.tcp.src_port, p.dst)
        } else {
            (p.tcp.dst_port, p.src)
        };
        if !blocked.contains(port) {
            *verdict = Verdict::Forward(ForwardReason::Policy(Reason::PortNotBlocked));
            continue;
        }
        // Provisional; stage 4 overwrites it for every gathered key.
        *verdict = Verdict::Forward(ForwardReason::Policy(Reason::NoPool));
        match p.family {
            Family::V4 => {
                keys.v4[keys.v4_len] = subscriber as u32;
                keys.v4_at[keys.v4_len] = i as u8;
                keys.v4_len += 1;
            }
            _ => {
                keys.v6[keys.v6_len] = subscriber;
                keys.v6_at[keys.v6_len] = i as u8;
                keys.v6_len += 1;
            }
        }
    }

    // Stage 3: longest-prefix match of all gathered subscriber addresses.
    let mut pools4 = [None; MAX_BURST];
    let mut pools6 = [None; MAX_BURST];
    tables.lookup_src_v4_bulk(&keys.v4[..keys.v4_len], &mut pools4[..keys.v4_len]);
    tables.lookup_src_v6_bulk(&keys.v6[..keys.v6_len], &mut pools6[..keys.v6_len]);

    // Stage 4: rules 3–5 for every segment that found a pool.
    let found4 = keys.v4_at[..keys.v4_len].iter().zip(&pools4);
    let found6 = keys.v6_at[..keys.v6_len].iter().zip(&pools6);
    for (&at, &pool) in found4.chain(found6) {
        if let Some(pool) = pool {
            let at = usize::from(at);
            verdicts[at] = decide_pool(tables, inbound, &parsed[at], pool);
        }
    }
}

/// Rules 3 (exempt) to 5 for a segment whose subscriber is in `pool`.
fn decide_pool(tables: &Tables, inbound: bool, p: &Parsed, pool: PoolId) -> Verdict {
    let info = tables.pool(pool);
    if info.mode == Mode::Exempt {
        return Verdict::Forward(ForwardReason::Policy(Reason::ExemptPool { pool }));
    }
    let peer = if inbound { p.src } else { p.dst };
    let (relay, in_scope) = match p.family {
        Family::V4 => (
            tables.is_relay_v4(peer as u32),
            tables.in_scope_v4(peer as u32),
        ),
        _ => (tables.is_relay_v6(peer), tables.in_scope_v6(peer)),
    };
    if relay {
        Verdict::Forward(ForwardReason::Policy(Reason::Relay))
    } else if !in_scope {
        Verdict::Forward(ForwardReason::Policy(Reason::OutOfScope))
    } else if info.mode == Mode::Monitor {
        Verdict::Monitor { pool }
    } else {
        enforce(p, pool, info.action)
    }
}
