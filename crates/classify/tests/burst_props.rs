//! Property tests: the staged burst classifier against the plain per-packet
//! reference (and `policy`'s `decide()`), over generated and mutated frames.

mod support;

use classify::reply::{build_reply, reply_allowed, MAX_REPLY_LEN};
use classify::{
    classify_burst, classify_one, parse, passes, Direction, ForwardReason, Outcome, Parsed,
    ReplyKind, Verdict,
};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use support::config::{tables, CONFIG, SCOPED_CONFIG};
use support::frames::{wrap, Encap, Seg, ROUTER_MAC};
use support::reference::check_reply;

/// Address bases: the pools, their exempt holes, relays, scope, and nothing.
const V4_BASES: [u32; 8] = [
    0xc633_6400, // 198.51.100.0/24 ftth, .64/26 mobile, .200/29 fixed
    0xcb00_7100, // 203.0.113.0/24 business / trial
    0xc000_0200, // 192.0.2.0/24 mail, relay .25, scope /25
    0xc633_64c8, // 198.51.100.200
    0xc000_0219, // 192.0.2.25 relay
    0xcb00_7180, // 203.0.113.128
    0xc633_6440, // 198.51.100.64
    0xc000_0280, // 192.0.2.128
];
const V6_BASES: [u128; 8] = [
    0x2001_0db8_0100_0000_0000_0000_0000_0000,
    0x2001_0db8_01ff_0000_0000_0000_0000_0000,
    0x2001_0db8_0200_0000_0000_0000_0000_0000,
    0x2001_0db8_0300_0000_0000_0000_0000_0000,
    0x2001_0db8_0400_0000_0000_0000_0000_0000,
    0x2001_0db8_00ff_0000_0000_0000_0000_0025,
    0x2001_0db8_0002_0000_0000_0000_0000_0080,
    0x2001_0db8_0003_0000_0000_0000_0000_0080,
];

fn addr(v6: bool, base: usize, low: u8) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(V6_BASES[base] | u128::from(low & 0x0f)))
    } else {
        IpAddr::V4(Ipv4Addr::from(V4_BASES[base] | u32::from(low & 0x07)))
    }
}

#[derive(Debug, Clone)]
struct FrameSpec {
    encap: usize,
    v6: bool,
    src: (usize, u8),
    dst: (usize, u8),
    sport: u16,
    dport: u16,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    rst: bool,
    payload: usize,
    group_mac: bool,
    mutation: Option<(usize, u8)>,
    cut: Option<usize>,
}

fn port() -> impl Strategy<Value = u16> {
    prop_oneof![Just(25u16), Just(587), Just(465), Just(2525), any::<u16>()]
}

fn spec() -> impl Strategy<Value = FrameSpec> {
    (
        (
            0usize..7,
            any::<bool>(),
            (0usize..8, any::<u8>()),
            (0usize..8, any::<u8>()),
        ),
        (
            port(),
            port(),
            any::<u32>(),
            proptest::option::of(any::<u32>()),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            prop::bool::weighted(0.1),
            0usize..80,
        ),
        (
            prop::bool::weighted(0.1),
            proptest::option::weighted(0.2, (any::<usize>(), any::<u8>())),
            proptest::option::weighted(0.1, any::<usize>()),
        ),
    )
        .prop_map(|(a, b, c, d)| FrameSpec {
            encap: a.0,
            v6: a.1,
            src: a.2,
            dst: a.3,
            sport: b.0,
            dport: b.1,
            seq: b.2,
            ack: b.3,
            syn: c.0,
            fin: c.1,
            rst: c.2,
            payload: c.3,
            group_mac: d.0,
            mutation: d.1,
            cut: d.2,
        })
}

fn build(spec: &FrameSpec) -> Vec<u8> {
    let encap = &Encap::all()[spec.encap].1;
    let seg = Seg {
        src: addr(spec.v6, spec.src.0, spec.src.1),
        dst: addr(spec.v6, spec.dst.0, spec.dst.1),
        sport: spec.sport,
        dport: spec.dport,
        seq: spec.seq,
        ack: spec.ack,
        syn: spec.syn,
        fin: spec.fin,
        rst: spec.rst,
        psh: false,
        payload: vec![0x42; spec.payload],
    };
    let mac = if spec.group_mac {
        [0x01, 0x00, 0x5e, 0, 0, 1]
    } else {
        ROUTER_MAC
    };
    let mut frame = wrap(encap, mac, &seg.ip_packet(), spec.v6);
    if let Some((at, byte)) = spec.mutation {
        let at = at % frame.len();
        frame[at] = byte;
    }
    if let Some(cut) = spec.cut {
        frame.truncate(cut % (frame.len() + 1));
    }
    frame
}

fn frames() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let one = prop_oneof![
        9 => spec().prop_map(|s| build(&s)),
        1 => proptest::collection::vec(any::<u8>(), 0..120),
    ];
    proptest::collection::vec(one, 0..150)
}

fn check(tables: &policy::Tables, dir: Direction, frames: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
    let mut parsed = vec![Parsed::EMPTY; refs.len()];
    let mut out = vec![Verdict::EMPTY; refs.len()];
    prop_assert_eq!(
        classify_burst(tables, dir, &refs, &mut parsed, &mut out),
        refs.len()
    );
    let mut reply = vec![0u8; MAX_REPLY_LEN];
    for (i, frame) in refs.iter().enumerate() {
        prop_assert_eq!(parsed[i], parse(frame));
        prop_assert_eq!(out[i], classify_one(tables, dir, frame), "frame {}", i);
        let p = parsed[i];
        if p.outcome == Outcome::Tcp {
            let d = tables.decide(
                dir,
                p.src_ip().unwrap(),
                p.tcp.src_port,
                p.dst_ip().unwrap(),
                p.tcp.dst_port,
            );
            prop_assert_eq!(out[i].decision(), Some(d));
        }
        for kind in [ReplyKind::Rst, ReplyKind::Icmp] {
            match build_reply(kind, frame, &p, &mut reply) {
                Some(len) => {
                    prop_assert!(reply_allowed(&p).is_ok());
                    prop_assert!(len <= MAX_REPLY_LEN);
                    if let Err(e) = check_reply(&reply[..len]) {
                        return Err(TestCaseError::fail(format!("{kind:?} reply invalid: {e}")));
                    }
                }
                None => prop_assert!(reply_allowed(&p).is_err()),
            }
        }
        if let Verdict::Reply { .. } = out[i] {
            prop_assert!(reply_allowed(&p).is_ok());
        }
        if passes(tables, dir, frame) {
            prop_assert!(
                matches!(out[i], Verdict::Forward(r) if !matches!(r, ForwardReason::Unparsed(_))),
                "fast pass on frame {} that the full path gives {:?}",
                i,
                out[i]
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn burst_agrees_with_the_per_packet_reference(frames in frames(), inbound in any::<bool>()) {
        let dir = if inbound { Direction::Inbound } else { Direction::Outbound };
        check(&tables(CONFIG), dir, &frames)?;
    }

    #[test]
    fn burst_agrees_with_the_reference_under_a_scoped_policy(frames in frames(), inbound in any::<bool>()) {
        let dir = if inbound { Direction::Inbound } else { Direction::Outbound };
        check(&tables(SCOPED_CONFIG), dir, &frames)?;
    }
}
