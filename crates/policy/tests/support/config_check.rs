//! The config fuzz property, shared by `fuzz/fuzz_targets/config.rs` and the
//! corpus-replay test (`tests/fuzz_corpus.rs`): whatever the bytes,
//! `load_str` never panics; a rejection is a non-empty list of positioned
//! errors; an accepted config compiles to the same tables (and hash) every
//! time, its lookups agree with a linear scan over its own prefixes, and
//! `decide`/`explain`/`summary`/`impact` answer for any address and port.

use policy::{Decision, Direction, Mode, Prefix, Tables, NEVER_BLOCKED_PORTS};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Addresses probed for every accepted config: fixed ones plus the first and
/// last address of (and the addresses just outside) each configured prefix.
const MAX_PROBES: usize = 12;

/// Panics (with a description) when any invariant fails for `bytes`.
pub fn check_config(bytes: &[u8]) {
    let loaded = match policy::load_str("fuzz.yaml", bytes) {
        Ok(loaded) => loaded,
        Err(errors) => {
            assert!(!errors.is_empty(), "a rejection without an error");
            for e in errors.iter() {
                assert!(
                    e.line >= 1 && e.column >= 1,
                    "error without a position: {e}"
                );
                assert!(!e.message.is_empty(), "error without a message: {e:?}");
                assert!(e.to_string().starts_with("fuzz.yaml:"), "{e}");
                // The span-aware validation must catch everything the typed
                // parse would (the message may quote the input, so the
                // suffix is what identifies that path).
                assert!(
                    !e.message
                        .ends_with("(the YAML readers disagree; please report this config)"),
                    "{e}"
                );
            }
            let _ = errors.to_string();
            return;
        }
    };
    for w in &loaded.warnings {
        assert!(!w.message.is_empty());
        let _ = w.to_string();
    }
    let t = &loaded.tables;
    assert!(!t.pools().is_empty(), "accepted without pools");
    assert_eq!(t.hash().len(), 64, "hash {}", t.hash());

    // Same bytes, same tables: the hash names a generation.
    let again = policy::load_str("other-name.yaml", bytes)
        .unwrap_or_else(|e| panic!("accepted once, rejected the second time:\n{e}"));
    assert_eq!(t.hash(), again.tables.hash(), "hash not stable");
    let recompiled = Tables::compile(&loaded.config).expect("the typed config compiles again");
    assert_eq!(t.hash(), recompiled.hash(), "compile is not deterministic");
    assert!(
        NEVER_BLOCKED_PORTS
            .iter()
            .all(|p| !t.blocked_ports().contains(*p)),
        "587/465 accepted as blocked ports"
    );

    // The facts about each probe, by linear scans over the config's own prefixes.
    let probes: Vec<Probe> = probes(t)
        .into_iter()
        .map(|addr| Probe {
            addr,
            pool: reference_pool(t, addr),
            relay: in_any(t.relay_entries(), addr),
            in_scope: !t.has_scope() || in_any(t.scope_entries(), addr),
        })
        .collect();
    for p in &probes {
        let a = p.addr;
        assert_eq!(t.lookup_src(a), p.pool, "longest-prefix match of {a}");
        assert_eq!(t.is_relay(a), p.relay, "relay {a}");
        assert_eq!(!t.has_scope() || t.in_scope(a), p.in_scope, "scope {a}");
    }
    let mut ports: Vec<u16> = t.blocked_ports().iter().take(1).collect();
    ports.extend([587, 80]);
    for dir in [Direction::Outbound, Direction::Inbound] {
        for (i, a) in probes.iter().enumerate() {
            for (j, b) in probes.iter().enumerate() {
                for &port in &ports {
                    let (sport, dport) = match dir {
                        Direction::Outbound => (49152, port),
                        Direction::Inbound => (port, 49152),
                    };
                    let d = t.decide(dir, a.addr, sport, b.addr, dport);
                    assert_eq!(
                        d,
                        reference_decide(t, dir, a, b, port),
                        "{dir:?} {a:?} {b:?}"
                    );
                    if NEVER_BLOCKED_PORTS.contains(&port) {
                        assert!(d.is_forwarded(), "{port} blocked: {d:?}");
                    }
                    if i == j && port != 80 {
                        let e = t.explain(dir, a.addr, sport, b.addr, dport);
                        assert_eq!(e.decision, d, "explain and decide disagree");
                        assert!(!e.verdict_line().is_empty());
                    }
                }
            }
        }
    }
    let summary = t.summary();
    assert_eq!(summary.pools.len(), t.pools().len());
    let impact = t.impact();
    assert!(!impact.to_markdown().is_empty());
}

/// The pool of the longest prefix containing `addr`, by scanning every pool.
fn reference_pool(t: &Tables, addr: IpAddr) -> Option<policy::PoolId> {
    let mut best: Option<(u8, policy::PoolId)> = None;
    for id in 0..t.pools().len() {
        let id = policy::PoolId::try_from(id).expect("pool ids fit");
        for p in t.pool_prefixes(id) {
            if p.contains(addr) && !matches!(best, Some((len, _)) if len >= p.prefix_len()) {
                best = Some((p.prefix_len(), id));
            }
        }
    }
    best.map(|(_, id)| id)
}

fn in_any<'a>(mut entries: impl Iterator<Item = (&'a str, &'a [Prefix])>, addr: IpAddr) -> bool {
    entries.any(|(_, prefixes)| prefixes.iter().any(|p| p.contains(addr)))
}

/// A probed address and what the config says about it.
#[derive(Debug)]
struct Probe {
    addr: IpAddr,
    pool: Option<policy::PoolId>,
    relay: bool,
    in_scope: bool,
}

/// DESIGN.md rules 2-5 and the inbound rule, written out plainly; `port` is
/// the mail port of the direction (destination outbound, source inbound).
fn reference_decide(t: &Tables, dir: Direction, src: &Probe, dst: &Probe, port: u16) -> Decision {
    use policy::Reason;
    let (subscriber, peer) = match dir {
        Direction::Outbound => (src, dst),
        Direction::Inbound if !t.inbound_enabled() => {
            return Decision::Forward(Reason::InboundDisabled)
        }
        Direction::Inbound => (dst, src),
    };
    if !t.blocked_ports().contains(port) {
        return Decision::Forward(Reason::PortNotBlocked);
    }
    let Some(pool) = subscriber.pool else {
        return Decision::Forward(Reason::NoPool);
    };
    let info = t.pool(pool);
    if info.mode == Mode::Exempt {
        return Decision::Forward(Reason::ExemptPool { pool });
    }
    if peer.relay {
        return Decision::Forward(Reason::Relay);
    }
    if !peer.in_scope {
        return Decision::Forward(Reason::OutOfScope);
    }
    match info.mode {
        Mode::Monitor => Decision::Monitor { pool },
        _ => Decision::Block {
            pool,
            action: info.action,
        },
    }
}

/// Up to [`MAX_PROBES`] addresses around the configured prefixes.
fn probes(t: &Tables) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = vec![
        Ipv4Addr::new(192, 0, 2, 1).into(),
        Ipv4Addr::new(0, 0, 0, 0).into(),
        Ipv4Addr::new(255, 255, 255, 255).into(),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).into(),
        Ipv6Addr::UNSPECIFIED.into(),
        Ipv4Addr::new(198, 51, 100, 25).to_ipv6_mapped().into(),
    ];
    let mut prefixes: Vec<Prefix> = Vec::new();
    for id in 0..t.pools().len() {
        let id = policy::PoolId::try_from(id).expect("pool ids fit");
        prefixes.extend_from_slice(t.pool_prefixes(id));
    }
    for (_, p) in t.relay_entries().chain(t.scope_entries()) {
        prefixes.extend_from_slice(p);
    }
    for p in prefixes {
        if out.len() >= MAX_PROBES {
            break;
        }
        let (first, last) = bounds(&p);
        out.push(first);
        out.push(last);
        if let Some(after) = step(last, 1) {
            out.push(after);
        }
        if let Some(before) = step(first, -1) {
            out.push(before);
        }
    }
    out.truncate(MAX_PROBES);
    out
}

fn bounds(p: &Prefix) -> (IpAddr, IpAddr) {
    match p.addr() {
        IpAddr::V4(a) => {
            let host = u32::MAX.checked_shr(u32::from(p.prefix_len())).unwrap_or(0);
            let first = u32::from(a) & !host;
            (
                Ipv4Addr::from(first).into(),
                Ipv4Addr::from(first | host).into(),
            )
        }
        IpAddr::V6(a) => {
            let host = u128::MAX
                .checked_shr(u32::from(p.prefix_len()))
                .unwrap_or(0);
            let first = u128::from(a) & !host;
            (
                Ipv6Addr::from(first).into(),
                Ipv6Addr::from(first | host).into(),
            )
        }
    }
}

fn step(a: IpAddr, by: i8) -> Option<IpAddr> {
    match a {
        IpAddr::V4(a) => {
            let v = u32::from(a);
            let v = if by > 0 {
                v.checked_add(1)
            } else {
                v.checked_sub(1)
            }?;
            Some(Ipv4Addr::from(v).into())
        }
        IpAddr::V6(a) => {
            let v = u128::from(a);
            let v = if by > 0 {
                v.checked_add(1)
            } else {
                v.checked_sub(1)
            }?;
            Some(Ipv6Addr::from(v).into())
        }
    }
}
