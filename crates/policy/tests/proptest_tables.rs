//! Compiled tables agree with a naive model on random configs and addresses:
//! longest-prefix match of sources to pools, relay/scope membership, and verdicts.

use policy::{load_str, Action, Decision, Direction, Mode, Reason};
use proptest::prelude::*;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone)]
struct Net {
    addr: IpAddr,
    len: u8,
}

impl Net {
    fn contains(&self, a: IpAddr) -> bool {
        match (self.addr, a) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let m = if self.len == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.len)
                };
                u32::from(n) & m == u32::from(a) & m
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let m = if self.len == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.len)
                };
                u128::from(n) & m == u128::from(a) & m
            }
            _ => false,
        }
    }
    fn text(&self) -> String {
        format!("\"{}/{}\"", self.addr, self.len)
    }
}

/// Addresses cluster in the documentation ranges so prefixes nest and collide often.
fn v4_addr() -> impl Strategy<Value = u32> {
    prop_oneof![
        (0u32..256).prop_map(|x| 0xC633_6400 | x), // 198.51.100.0/24
        (0u32..256).prop_map(|x| 0xC000_0200 | x), // 192.0.2.0/24
        (0u32..0x40_0000).prop_map(|x| 0x6440_0000 | x), // 100.64.0.0/10
    ]
}

fn v6_addr() -> impl Strategy<Value = u128> {
    let base: u128 = 0x2001_0db8 << 96;
    prop_oneof![
        (0u128..256).prop_map(move |x| base | (x << 80)),
        any::<u64>().prop_map(move |x| base | (0x100u128 << 80) | u128::from(x)),
        any::<u32>().prop_map(move |x| base | (u128::from(x) << 64)),
    ]
}

fn net() -> impl Strategy<Value = Net> {
    prop_oneof![
        4 => (v4_addr(), prop_oneof![Just(0u8), Just(32u8), 8u8..=32]).prop_map(|(a, len)| {
            let m = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            Net { addr: IpAddr::V4(Ipv4Addr::from(a & m)), len }
        }),
        3 => (v6_addr(), prop_oneof![Just(0u8), Just(128u8), 16u8..=128]).prop_map(|(a, len)| {
            let m = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            Net { addr: IpAddr::V6(Ipv6Addr::from(a & m)), len }
        }),
    ]
}

fn addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        v4_addr().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        v6_addr().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
    ]
}

#[derive(Debug, Clone)]
struct Model {
    pools: Vec<(Mode, Option<Action>, Vec<Net>)>,
    default_action: Action,
    relays: Vec<Net>,
    scope: Option<Vec<Net>>,
    inbound: bool,
}

fn dedup(nets: Vec<Net>, seen: &mut HashSet<(IpAddr, u8)>) -> Vec<Net> {
    nets.into_iter()
        .filter(|n| seen.insert((n.addr, n.len)))
        .collect()
}

fn model() -> impl Strategy<Value = Model> {
    let mode = prop_oneof![Just(Mode::Enforce), Just(Mode::Monitor), Just(Mode::Exempt)];
    let action = prop_oneof![Just(Action::Rst), Just(Action::Icmp), Just(Action::Drop)];
    (
        prop::collection::vec(
            (
                mode,
                prop::option::of(action.clone()),
                prop::collection::vec(net(), 1..12),
            ),
            1..8,
        ),
        action,
        prop::collection::vec(net(), 0..6),
        prop::option::of(prop::collection::vec(net(), 1..6)),
        any::<bool>(),
    )
        .prop_map(|(pools, default_action, relays, scope, inbound)| {
            let mut seen = HashSet::new();
            let pools = pools
                .into_iter()
                .map(|(m, a, nets)| (m, a, dedup(nets, &mut seen)))
                .filter(|(_, _, nets)| !nets.is_empty())
                .collect::<Vec<_>>();
            Model {
                pools,
                default_action,
                relays: dedup(relays, &mut HashSet::new()),
                scope: scope.map(|s| dedup(s, &mut HashSet::new())),
                inbound,
            }
        })
        .prop_filter("at least one pool", |m| !m.pools.is_empty())
}

fn yaml(m: &Model) -> String {
    let list = |nets: &[Net]| nets.iter().map(Net::text).collect::<Vec<_>>().join(", ");
    let mut y = format!("version: 1\ndefault_action: {}\npools:\n", m.default_action);
    for (i, (mode, action, nets)) in m.pools.iter().enumerate() {
        y.push_str(&format!("  - name: p{i}\n    mode: {mode}\n"));
        if let Some(a) = action {
            y.push_str(&format!("    action: {a}\n"));
        }
        y.push_str(&format!("    prefixes: [{}]\n", list(nets)));
    }
    if !m.relays.is_empty() {
        y.push_str(&format!(
            "relays:\n  - name: r\n    prefixes: [{}]\n",
            list(&m.relays)
        ));
    }
    if let Some(s) = &m.scope {
        y.push_str(&format!(
            "scope:\n  - name: s\n    prefixes: [{}]\n",
            list(s)
        ));
    }
    y.push_str(&format!("inbound: {{enabled: {}}}\n", m.inbound));
    y
}

/// Naive longest-prefix match: the pool index of the longest containing prefix.
fn naive_pool(m: &Model, a: IpAddr) -> Option<u16> {
    let mut best: Option<(u8, u16)> = None;
    for (i, (_, _, nets)) in m.pools.iter().enumerate() {
        for n in nets {
            if n.contains(a) && best.map_or(true, |(l, _)| n.len > l) {
                best = Some((n.len, i as u16));
            }
        }
    }
    best.map(|(_, i)| i)
}

fn naive_decide(
    m: &Model,
    dir: Direction,
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
) -> Decision {
    let (sub, peer, port) = match dir {
        Direction::Outbound => (src, dst, dport),
        Direction::Inbound if !m.inbound => return Decision::Forward(Reason::InboundDisabled),
        Direction::Inbound => (dst, src, sport),
    };
    if port != 25 {
        return Decision::Forward(Reason::PortNotBlocked);
    }
    let Some(pool) = naive_pool(m, sub) else {
        return Decision::Forward(Reason::NoPool);
    };
    let (mode, action, _) = &m.pools[pool as usize];
    if *mode == Mode::Exempt {
        return Decision::Forward(Reason::ExemptPool { pool });
    }
    if m.relays.iter().any(|n| n.contains(peer)) {
        return Decision::Forward(Reason::Relay);
    }
    if let Some(s) = &m.scope {
        if !s.iter().any(|n| n.contains(peer)) {
            return Decision::Forward(Reason::OutOfScope);
        }
    }
    match mode {
        Mode::Monitor => Decision::Monitor { pool },
        _ => Decision::Block {
            pool,
            action: action.unwrap_or(m.default_action),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn compiled_tables_agree_with_the_naive_model(
        m in model(),
        probes in prop::collection::vec((addr(), addr(), prop_oneof![Just(25u16), Just(587u16), any::<u16>()]), 1..40),
    ) {
        let text = yaml(&m);
        let loaded = load_str("p.yaml", text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let t = &loaded.tables;
        // Probe random addresses plus every prefix's first address.
        let mut addrs: Vec<IpAddr> = probes.iter().flat_map(|(a, b, _)| [*a, *b]).collect();
        addrs.extend(m.pools.iter().flat_map(|(_, _, nets)| nets.iter().map(|n| n.addr)));
        for &a in &addrs {
            let want = naive_pool(&m, a);
            let got = match a {
                IpAddr::V4(v) => t.lookup_src_v4(u32::from(v)),
                IpAddr::V6(v) => t.lookup_src_v6(u128::from(v)),
            };
            prop_assert_eq!(got, want, "source {}", a);
            prop_assert_eq!(t.is_relay(a), m.relays.iter().any(|n| n.contains(a)));
            let in_scope = m.scope.as_ref().map_or(true, |s| s.iter().any(|n| n.contains(a)));
            prop_assert_eq!(t.in_scope(a), in_scope);
        }
        for (src, dst, port) in probes {
            for dir in [Direction::Outbound, Direction::Inbound] {
                let (sport, dport) = match dir { Direction::Outbound => (40000, port), Direction::Inbound => (port, 40000) };
                let want = naive_decide(&m, dir, src, sport, dst, dport);
                prop_assert_eq!(t.decide(dir, src, sport, dst, dport), want, "{:?} {} {} {}", dir, src, dst, port);
                prop_assert_eq!(t.explain(dir, src, sport, dst, dport).decision, want);
            }
        }
    }
}
