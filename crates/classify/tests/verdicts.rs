//! Verdicts for every encapsulation × address family × rule of DESIGN.md,
//! by the burst classifier, checked against the per-packet reference and
//! against `policy`'s `decide()`; every reply verdict builds a valid reply.

mod support;

use classify::reply::{build_reply, MAX_REPLY_LEN};
use classify::{
    classify_burst, classify_one, parse, Direction, DropReason, ForwardReason, Outcome, Parsed,
    ReplyKind, UnparsedReason, Verdict, MAX_BURST,
};
use policy::{Reason, Tables};
use support::config::{pool_id, tables, CONFIG, SCOPED_CONFIG};
use support::frames::{icmp_frame, udp_frame, wrap, Encap, Seg, ROUTER_MAC};
use support::reference::check_reply;

/// Classifies one frame through the burst path, checks it against the
/// reference, `decide()`, and builds the reply when there is one.
fn verdict(tables: &Tables, dir: Direction, frame: &[u8]) -> Verdict {
    let mut parsed = [Parsed::EMPTY; 1];
    let mut out = [Verdict::EMPTY; 1];
    assert_eq!(
        classify_burst(tables, dir, &[frame], &mut parsed, &mut out),
        1
    );
    let v = out[0];
    assert_eq!(
        v,
        classify_one(tables, dir, frame),
        "burst and reference disagree"
    );
    let p = parsed[0];
    if p.outcome == Outcome::Tcp {
        let d = tables.decide(
            dir,
            p.src_ip().unwrap(),
            p.tcp.src_port,
            p.dst_ip().unwrap(),
            p.tcp.dst_port,
        );
        assert_eq!(v.decision(), Some(d), "verdict disagrees with decide()");
    } else {
        assert_eq!(v.decision(), None);
    }
    if let Verdict::Reply { kind, .. } = v {
        let mut reply = [0u8; MAX_REPLY_LEN];
        let len = build_reply(kind, frame, &p, &mut reply).expect("a Reply verdict must build");
        check_reply(&reply[..len]).unwrap_or_else(|e| panic!("bad reply: {e}"));
    }
    v
}

/// (IPv4, IPv6) address pairs for a role.
struct Addr {
    v4: &'static str,
    v6: &'static str,
}

const FTTH: Addr = Addr {
    v4: "198.51.100.10",
    v6: "2001:db8:100::10",
};
const FIXED: Addr = Addr {
    v4: "198.51.100.201",
    v6: "2001:db8:1ff::1",
};
const MOBILE: Addr = Addr {
    v4: "198.51.100.70",
    v6: "2001:db8:200::7",
};
const BUSINESS: Addr = Addr {
    v4: "203.0.113.9",
    v6: "2001:db8:300::9",
};
const TRIAL: Addr = Addr {
    v4: "203.0.113.200",
    v6: "2001:db8:400::200",
};
const NO_POOL: Addr = Addr {
    v4: "192.0.2.99",
    v6: "2001:db8:9::99",
};
const MAIL: Addr = Addr {
    v4: "192.0.2.80",
    v6: "2001:db8:2::80",
};
const RELAY: Addr = Addr {
    v4: "192.0.2.25",
    v6: "2001:db8:ff::25",
};
const OUT_OF_SCOPE: Addr = Addr {
    v4: "192.0.2.200",
    v6: "2001:db8:3::80",
};

fn pick(a: &Addr, v6: bool) -> &'static str {
    if v6 {
        a.v6
    } else {
        a.v4
    }
}

#[test]
fn outbound_rules_for_every_encapsulation_and_family() {
    let t = tables(CONFIG);
    let ftth = pool_id(&t, "ftth-dynamic");
    let fixed = pool_id(&t, "fixed-ip");
    let mobile = pool_id(&t, "mobile");
    let business = pool_id(&t, "business");
    let trial = pool_id(&t, "trial");
    for (name, encap) in Encap::all() {
        for v6 in [false, true] {
            let cases: Vec<(&str, Seg, Verdict)> = vec![
                (
                    "enforce rst",
                    Seg::syn(pick(&FTTH, v6), pick(&MAIL, v6), 25),
                    Verdict::Reply {
                        pool: ftth,
                        kind: ReplyKind::Rst,
                    },
                ),
                (
                    "enforce rst, established",
                    Seg::syn(pick(&FTTH, v6), pick(&MAIL, v6), 25)
                        .no_syn()
                        .ack(9)
                        .data(b"DATA"),
                    Verdict::Reply {
                        pool: ftth,
                        kind: ReplyKind::Rst,
                    },
                ),
                (
                    "enforce icmp",
                    Seg::syn(pick(&BUSINESS, v6), pick(&MAIL, v6), 25),
                    Verdict::Reply {
                        pool: business,
                        kind: ReplyKind::Icmp,
                    },
                ),
                (
                    "enforce drop",
                    Seg::syn(pick(&MOBILE, v6), pick(&MAIL, v6), 25),
                    Verdict::Drop(DropReason::Policy { pool: mobile }),
                ),
                (
                    "monitor",
                    Seg::syn(pick(&TRIAL, v6), pick(&MAIL, v6), 25),
                    Verdict::Monitor { pool: trial },
                ),
                (
                    "exempt, longest prefix wins",
                    Seg::syn(pick(&FIXED, v6), pick(&MAIL, v6), 25),
                    Verdict::Forward(ForwardReason::Policy(Reason::ExemptPool { pool: fixed })),
                ),
                (
                    "relay",
                    Seg::syn(pick(&FTTH, v6), pick(&RELAY, v6), 25),
                    Verdict::Forward(ForwardReason::Policy(Reason::Relay)),
                ),
                (
                    "no pool",
                    Seg::syn(pick(&NO_POOL, v6), pick(&MAIL, v6), 25),
                    Verdict::Forward(ForwardReason::Policy(Reason::NoPool)),
                ),
                (
                    "submission 587",
                    Seg::syn(pick(&FTTH, v6), pick(&MAIL, v6), 587),
                    Verdict::Forward(ForwardReason::Policy(Reason::PortNotBlocked)),
                ),
                (
                    "smtps 465",
                    Seg::syn(pick(&FTTH, v6), pick(&MAIL, v6), 465),
                    Verdict::Forward(ForwardReason::Policy(Reason::PortNotBlocked)),
                ),
                (
                    "source port 25 outbound is not the rule",
                    Seg::syn(pick(&FTTH, v6), pick(&MAIL, v6), 40000).ports(25, 40000),
                    Verdict::Forward(ForwardReason::Policy(Reason::PortNotBlocked)),
                ),
                (
                    "rst from an enforce pool is dropped silently",
                    Seg::syn(pick(&FTTH, v6), pick(&MAIL, v6), 25)
                        .no_syn()
                        .rst()
                        .ack(1),
                    Verdict::Drop(DropReason::ReplyNotAllowed {
                        pool: ftth,
                        kind: ReplyKind::Rst,
                    }),
                ),
                (
                    "icmp pool, rst segment",
                    Seg::syn(pick(&BUSINESS, v6), pick(&MAIL, v6), 25)
                        .no_syn()
                        .rst(),
                    Verdict::Drop(DropReason::ReplyNotAllowed {
                        pool: business,
                        kind: ReplyKind::Icmp,
                    }),
                ),
            ];
            for (case, seg, expected) in cases {
                let frame = seg.frame(&encap);
                assert_eq!(
                    verdict(&t, Direction::Outbound, &frame),
                    expected,
                    "{name} v6={v6}: {case}"
                );
            }
        }
    }
}

#[test]
fn blocked_segments_to_group_macs_are_dropped_not_answered() {
    let t = tables(CONFIG);
    let ftth = pool_id(&t, "ftth-dynamic");
    for (_, encap) in Encap::all() {
        for v6 in [false, true] {
            let seg = Seg::syn(pick(&FTTH, v6), pick(&MAIL, v6), 25);
            let frame = wrap(&encap, [0xff; 6], &seg.ip_packet(), v6);
            assert_eq!(
                verdict(&t, Direction::Outbound, &frame),
                Verdict::Drop(DropReason::ReplyNotAllowed {
                    pool: ftth,
                    kind: ReplyKind::Rst
                })
            );
        }
    }
}

#[test]
fn scope_limits_blocking_to_its_destinations() {
    let t = tables(SCOPED_CONFIG);
    let ftth = pool_id(&t, "ftth-dynamic");
    let trial = pool_id(&t, "trial");
    for (name, encap) in Encap::all() {
        for v6 in [false, true] {
            let to = |src: &Addr, dst: &Addr, port| {
                Seg::syn(pick(src, v6), pick(dst, v6), port).frame(&encap)
            };
            let out = Direction::Outbound;
            assert_eq!(
                verdict(&t, out, &to(&FTTH, &MAIL, 25)),
                Verdict::Reply {
                    pool: ftth,
                    kind: ReplyKind::Rst
                },
                "{name}"
            );
            assert_eq!(
                verdict(&t, out, &to(&FTTH, &MAIL, 2525)),
                Verdict::Reply {
                    pool: ftth,
                    kind: ReplyKind::Rst
                },
                "{name}"
            );
            assert_eq!(
                verdict(&t, out, &to(&TRIAL, &MAIL, 25)),
                Verdict::Monitor { pool: trial },
                "{name}"
            );
            assert_eq!(
                verdict(&t, out, &to(&FTTH, &OUT_OF_SCOPE, 25)),
                Verdict::Forward(ForwardReason::Policy(Reason::OutOfScope)),
                "{name}"
            );
            assert_eq!(
                verdict(&t, out, &to(&TRIAL, &OUT_OF_SCOPE, 25)),
                Verdict::Forward(ForwardReason::Policy(Reason::OutOfScope)),
                "{name}"
            );
            // The relay is outside the scope too; relay wins as DESIGN.md orders it.
            assert_eq!(
                verdict(&t, out, &to(&FTTH, &RELAY, 25)),
                Verdict::Forward(ForwardReason::Policy(Reason::Relay)),
                "{name}"
            );
        }
    }
}

#[test]
fn inbound_rule_blocks_smtp_answers_toward_enforced_pools() {
    let t = tables(CONFIG);
    let ftth = pool_id(&t, "ftth-dynamic");
    let trial = pool_id(&t, "trial");
    let fixed = pool_id(&t, "fixed-ip");
    let mobile = pool_id(&t, "mobile");
    let inb = Direction::Inbound;
    for (name, encap) in Encap::all() {
        for v6 in [false, true] {
            // A SYN+ACK from a mail server's port 25 toward a subscriber (triangular routing).
            let answer = |from: &Addr, to: &Addr| {
                Seg::syn(pick(from, v6), pick(to, v6), 40000)
                    .ports(25, 40000)
                    .ack(77)
                    .frame(&encap)
            };
            assert_eq!(
                verdict(&t, inb, &answer(&MAIL, &FTTH)),
                Verdict::Reply {
                    pool: ftth,
                    kind: ReplyKind::Rst
                },
                "{name}"
            );
            assert_eq!(
                verdict(&t, inb, &answer(&MAIL, &TRIAL)),
                Verdict::Monitor { pool: trial },
                "{name}"
            );
            assert_eq!(
                verdict(&t, inb, &answer(&MAIL, &MOBILE)),
                Verdict::Drop(DropReason::Policy { pool: mobile }),
                "{name}"
            );
            assert_eq!(
                verdict(&t, inb, &answer(&RELAY, &FTTH)),
                Verdict::Forward(ForwardReason::Policy(Reason::Relay)),
                "{name}"
            );
            assert_eq!(
                verdict(&t, inb, &answer(&MAIL, &FIXED)),
                Verdict::Forward(ForwardReason::Policy(Reason::ExemptPool { pool: fixed })),
                "{name}"
            );
            assert_eq!(
                verdict(&t, inb, &answer(&MAIL, &NO_POOL)),
                Verdict::Forward(ForwardReason::Policy(Reason::NoPool)),
                "{name}"
            );
            // Destination port 25 from the core is not the inbound rule.
            let to_25 = Seg::syn(pick(&MAIL, v6), pick(&FTTH, v6), 25).frame(&encap);
            assert_eq!(
                verdict(&t, inb, &to_25),
                Verdict::Forward(ForwardReason::Policy(Reason::PortNotBlocked)),
                "{name}"
            );
        }
    }
    // With the inbound rule disabled, the core side forwards everything TCP.
    let scoped = tables(SCOPED_CONFIG);
    let frame = Seg::syn(MAIL.v4, FTTH.v4, 40000)
        .ports(25, 40000)
        .ack(1)
        .frame(&Encap::Untagged);
    assert_eq!(
        verdict(&scoped, inb, &frame),
        Verdict::Forward(ForwardReason::Policy(Reason::InboundDisabled))
    );
}

#[test]
fn parse_outcomes_settle_the_verdict_in_both_directions() {
    let t = tables(CONFIG);
    for dir in [Direction::Outbound, Direction::Inbound] {
        for (name, encap) in Encap::all() {
            for v6 in [false, true] {
                let (src, dst) = (pick(&FTTH, v6), pick(&MAIL, v6));
                assert_eq!(
                    verdict(&t, dir, &udp_frame(&encap, src, dst, 25)),
                    Verdict::Forward(ForwardReason::NotTcp),
                    "{name}"
                );
                assert_eq!(
                    verdict(&t, dir, &icmp_frame(&encap, src, dst, true)),
                    Verdict::Forward(ForwardReason::NotTcp),
                    "{name}"
                );
            }
            let mut arp = wrap(&encap, [0xff; 6], &[0; 28], false);
            let et = 12 + 4 * encap.tags().len();
            if encap.pppoe_session().is_none() {
                arp[et..et + 2].copy_from_slice(&[0x08, 0x06]);
                assert_eq!(
                    verdict(&t, dir, &arp),
                    Verdict::Forward(ForwardReason::NotIp),
                    "{name}"
                );
            }
        }
        // Fragments: tiny dropped, non-first forwarded.
        let mut ip = Seg::syn(FTTH.v4, MAIL.v4, 25).ip_packet();
        ip.truncate(20 + 8);
        ip[2..4].copy_from_slice(&28u16.to_be_bytes());
        ip[6..8].copy_from_slice(&0x2000u16.to_be_bytes());
        let tiny = wrap(&Encap::Untagged, ROUTER_MAC, &ip, false);
        assert_eq!(
            verdict(&t, dir, &tiny),
            Verdict::Drop(DropReason::TinyFragment)
        );
        let mut ip = Seg::syn(FTTH.v4, MAIL.v4, 25).data(&[0; 40]).ip_packet();
        ip[6..8].copy_from_slice(&0x0003u16.to_be_bytes());
        let later = wrap(&Encap::Dot1q(2), ROUTER_MAC, &ip, false);
        assert_eq!(
            verdict(&t, dir, &later),
            Verdict::Forward(ForwardReason::NonFirstFragment)
        );
        // Unparsable: forwarded unchanged and counted by reason.
        let mut bad = Seg::syn(FTTH.v4, MAIL.v4, 25).frame(&Encap::Untagged);
        bad[14] = 0x43;
        assert_eq!(
            verdict(&t, dir, &bad),
            Verdict::Forward(ForwardReason::Unparsed(UnparsedReason::Ipv4Header))
        );
        assert_eq!(
            verdict(&t, dir, &bad[..10]),
            Verdict::Forward(ForwardReason::Unparsed(UnparsedReason::EthernetTruncated))
        );
    }
}

#[test]
fn first_fragments_are_classified_by_their_ports() {
    let t = tables(CONFIG);
    let ftth = pool_id(&t, "ftth-dynamic");
    let mut ip = Seg::syn(FTTH.v4, MAIL.v4, 25).data(&[1; 64]).ip_packet();
    ip.truncate(20 + 32);
    ip[2..4].copy_from_slice(&52u16.to_be_bytes());
    ip[6..8].copy_from_slice(&0x2000u16.to_be_bytes());
    let frame = wrap(&Encap::Pppoe(8), ROUTER_MAC, &ip, false);
    assert_eq!(
        verdict(&t, Direction::Outbound, &frame),
        Verdict::Reply {
            pool: ftth,
            kind: ReplyKind::Rst
        }
    );
}

fn mixed_burst(n: usize) -> Vec<Vec<u8>> {
    let encaps = Encap::all();
    let srcs = [&FTTH, &FIXED, &MOBILE, &BUSINESS, &TRIAL, &NO_POOL];
    let dsts = [&MAIL, &RELAY, &OUT_OF_SCOPE];
    (0..n)
        .map(|i| {
            let v6 = i % 3 == 1;
            let encap = &encaps[i % encaps.len()].1;
            let src = pick(srcs[i % srcs.len()], v6);
            let dst = pick(dsts[i % dsts.len()], v6);
            match i % 7 {
                5 => udp_frame(encap, src, dst, 25),
                6 => Seg::syn(src, dst, 587).frame(encap),
                _ => Seg::syn(src, dst, 25).seq(i as u32).frame(encap),
            }
        })
        .collect()
}

#[test]
fn bursts_longer_than_max_burst_are_processed_in_chunks() {
    let t = tables(CONFIG);
    for n in [
        0,
        1,
        MAX_BURST - 1,
        MAX_BURST,
        MAX_BURST + 1,
        3 * MAX_BURST + 5,
    ] {
        let frames = mixed_burst(n);
        let refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
        for dir in [Direction::Outbound, Direction::Inbound] {
            let mut parsed = vec![Parsed::EMPTY; n];
            let mut out = vec![Verdict::EMPTY; n];
            assert_eq!(classify_burst(&t, dir, &refs, &mut parsed, &mut out), n);
            for (i, frame) in refs.iter().enumerate() {
                assert_eq!(out[i], classify_one(&t, dir, frame), "frame {i} of {n}");
                assert_eq!(parsed[i], parse(frame), "frame {i} of {n}");
            }
        }
        if n > 0 {
            let blocked = refs
                .iter()
                .filter(|f| {
                    matches!(
                        classify_one(&t, Direction::Outbound, f),
                        Verdict::Reply { .. }
                    )
                })
                .count();
            assert!(blocked > 0 || n < 7, "the mixed burst exercises blocking");
        }
    }
}

#[test]
fn mismatched_slice_lengths_process_the_common_prefix() {
    let t = tables(CONFIG);
    let frames = mixed_burst(10);
    let refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
    let mut parsed = vec![Parsed::EMPTY; 7];
    let mut out = vec![Verdict::EMPTY; 9];
    assert_eq!(
        classify_burst(&t, Direction::Outbound, &refs, &mut parsed, &mut out),
        7
    );
    assert_eq!(out[7], Verdict::EMPTY);
    assert_eq!(out[8], Verdict::EMPTY);
    for i in 0..7 {
        assert_eq!(out[i], classify_one(&t, Direction::Outbound, refs[i]));
    }
}

#[test]
fn verdict_helpers_report_pool_and_forwarding() {
    let v = Verdict::Reply {
        pool: 3,
        kind: ReplyKind::Icmp,
    };
    assert_eq!((v.pool(), v.is_forwarded()), (Some(3), false));
    let v = Verdict::Monitor { pool: 1 };
    assert_eq!((v.pool(), v.is_forwarded()), (Some(1), true));
    let v = Verdict::Drop(DropReason::TinyFragment);
    assert_eq!(
        (v.pool(), v.is_forwarded(), v.decision()),
        (None, false, None)
    );
    let v = Verdict::Forward(ForwardReason::Policy(Reason::ExemptPool { pool: 2 }));
    assert_eq!((v.pool(), v.is_forwarded()), (Some(2), true));
}
