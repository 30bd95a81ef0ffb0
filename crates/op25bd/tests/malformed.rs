//! The malformed-traffic corpus (`op25b_bench::malformed`) replayed through
//! op25bd on `net_pcap`, both directions at once, under
//! `pcap-fixtures/verdicts.yaml`: truncation at every octet of every header,
//! bad IHL and Total Length, IPv6 extension-header chains that repeat or run
//! past the packet, lying PPPoE lengths, up to sixteen VLAN tags, runts,
//! jumbo frames received as chained mbufs, zero-length payloads.
//!
//! Checked against the labels the generator gave each frame (independent of
//! the classifier): op25bd exits cleanly; every non-subject frame leaves the
//! other port byte-identical and in order; nothing is answered but the
//! frames labelled with a reply, and those get exactly the reply the builder
//! makes; counters add up; chained mbufs were seen; no mbuf leaked.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::*;
use op25b_bench::malformed::{corpus, Case, Expect, ReplyKind, Side, MAX_FRAME};
use op25b_bench::pcap;

/// The mbuf data room op25bd's mempool uses: longer frames arrive chained.
const MBUF_DATA_ROOM: usize = 2048;

fn frames(p: &Path) -> Vec<Vec<u8>> {
    pcap::read_file(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .into_iter()
        .map(|r| r.data)
        .collect()
}

/// The reply the reference builder makes for a frame labelled with one.
fn reference_reply(c: &Case, kind: ReplyKind) -> Vec<u8> {
    let kind = match kind {
        ReplyKind::Rst => classify::ReplyKind::Rst,
        ReplyKind::Icmp => classify::ReplyKind::Icmp,
    };
    let parsed = classify::parse(&c.frame);
    let mut buf = vec![0u8; classify::reply::MAX_REPLY_LEN];
    let n = classify::build_reply(kind, &c.frame, &parsed, &mut buf)
        .unwrap_or_else(|| panic!("{}: labelled {kind:?} but no reply can be built", c.name));
    buf.truncate(n);
    buf
}

/// Matches what left the peer port against the input in order. Returns how
/// many frames were forwarded; panics on a missing, reordered, altered or
/// unexpected frame.
fn check_forwarded(side: &str, input: &[Case], got: &[Vec<u8>]) -> u64 {
    let mut at = 0;
    let mut problems = Vec::new();
    for c in input {
        if got.get(at) == Some(&c.frame) {
            at += 1;
            if let Expect::Reply(_) = c.expect {
                problems.push(format!("forwarded, but must be answered: {}", c.name));
            }
        } else if c.expect == Expect::Forward {
            problems.push(format!(
                "not forwarded byte-identical in order: {} ({} octets)",
                c.name,
                c.frame.len()
            ));
        }
    }
    if at != got.len() {
        problems.push(format!(
            "{} frames left out of order or unexpected (first at output index {at})",
            got.len() - at
        ));
    }
    assert!(
        problems.is_empty(),
        "{side}: {} problems:\n{}",
        problems.len(),
        problems[..problems.len().min(40)].join("\n")
    );
    at as u64
}

/// Checks the replies sent back out of the ingress port, in order.
fn check_replies(side: &str, input: &[Case], got: &[Vec<u8>]) -> (u64, u64) {
    let expected: Vec<(&Case, ReplyKind, Vec<u8>)> = input
        .iter()
        .filter_map(|c| match c.expect {
            Expect::Reply(kind) => Some((c, kind, reference_reply(c, kind))),
            _ => None,
        })
        .collect();
    let mut problems = Vec::new();
    let mut at = 0;
    for (c, kind, want) in &expected {
        if got.get(at) == Some(want) {
            at += 1;
        } else {
            problems.push(format!("no {kind:?} (or a different one) for {}", c.name));
        }
    }
    if at != got.len() {
        problems.push(format!(
            "{} replies nothing asked for (first at output index {at}, {} octets)",
            got.len() - at,
            got[at].len()
        ));
    }
    assert!(
        problems.is_empty(),
        "{side}: {} problems:\n{}",
        problems.len(),
        problems[..problems.len().min(40)].join("\n")
    );
    let rst = expected
        .iter()
        .filter(|(_, k, _)| *k == ReplyKind::Rst)
        .count() as u64;
    (rst, expected.len() as u64 - rst)
}

/// Replays both sides through op25bd and checks everything against the labels.
fn replay(name: &str, access: &[Case], core: &[Case]) {
    let s = Scratch::new(name);
    let fx = root().join("pcap-fixtures");
    let write = |name: &str, cases: &[Case]| {
        let p = s.path(name);
        let frames: Vec<Vec<u8>> = cases.iter().map(|c| c.frame.clone()).collect();
        pcap::write_file(&p, &frames).unwrap();
        p
    };
    let (in_access, in_core) = (write("access.pcap", access), write("core.pcap", core));
    let (to_access, to_core, stats) = (
        s.path("to-access.pcap"),
        s.path("to-core.pcap"),
        s.path("stats.json"),
    );
    let mut args = s.eal();
    args.push(format!(
        "--vdev=net_pcap0,rx_pcap={},tx_pcap={}",
        in_access.display(),
        to_access.display()
    ));
    args.push(format!(
        "--vdev=net_pcap1,rx_pcap={},tx_pcap={}",
        in_core.display(),
        to_core.display()
    ));
    args.extend(["--", "--idle-exit-ms", "500", "--stats-json"].map(String::from));
    args.push(stats.display().to_string());
    args.push("--config".into());
    args.push(fx.join("verdicts.yaml").display().to_string());
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out));

    // Each output port carries the other side's forwarded frames and this
    // side's replies; they are told apart by origin.
    let split = |got: Vec<Vec<u8>>, from: &[Case]| {
        let inputs: HashSet<&Vec<u8>> = from.iter().map(|c| &c.frame).collect();
        got.into_iter()
            .partition::<Vec<_>, _>(|f| inputs.contains(f))
    };
    let (fwd_up, replies_core) = split(frames(&to_core), access);
    let (fwd_down, replies_access) = split(frames(&to_access), core);
    let forwarded_up = check_forwarded("toward the core", access, &fwd_up);
    let forwarded_down = check_forwarded("toward subscribers", core, &fwd_down);
    let (rst_up, icmp_up) = check_replies("replies to subscribers", access, &replies_access);
    let (rst_down, icmp_down) = check_replies("replies toward the core", core, &replies_core);

    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    for (dir, cases, fwd, rst, icmp) in [
        ("outbound", access, forwarded_up, rst_up, icmp_up),
        ("inbound", core, forwarded_down, rst_down, icmp_down),
    ] {
        let d = &j[dir];
        let g = |k: &str| d[k].as_u64().unwrap_or_else(|| panic!("{dir}.{k} in {j}"));
        assert_eq!(g("rx"), cases.len() as u64, "{dir}: every frame received");
        assert_eq!(
            g("rx"),
            g("forwarded") + g("replied") + g("dropped"),
            "{dir}: counters add up"
        );
        assert_eq!(g("forwarded"), fwd, "{dir}: forwarded frames counted");
        assert_eq!((g("replied_rst"), g("replied_icmp")), (rst, icmp), "{dir}");
        assert_eq!(g("dropped_tx_full") + g("dropped_no_mbuf"), 0, "{dir}");
        assert_eq!(
            g("dropped_rate_limit"),
            0,
            "{dir}: the corpus is under the burst"
        );
        let malformed = cases
            .iter()
            .filter(|c| c.expect == Expect::Forward && c.frame.len() < 34)
            .count() as u64;
        assert!(
            g("unparsed") >= malformed,
            "{dir}: {} unparsed, at least {malformed} runts",
            g("unparsed")
        );
    }
    let chained = access
        .iter()
        .chain(core)
        .filter(|c| c.frame.len() > MBUF_DATA_ROOM)
        .count() as u64;
    assert_eq!(
        j["multi_segment"].as_u64(),
        Some(chained),
        "frames longer than the mbuf data room arrive as chained mbufs: {j}"
    );
    assert_eq!(
        j["mempool_in_use"].as_u64(),
        Some(0),
        "every mbuf back in the pool: {j}"
    );
}

#[test]
fn malformed_frames_never_crash_and_get_only_the_answers_the_rules_allow() {
    replay("malformed", &corpus(Side::Access), &corpus(Side::Core));
}

#[test]
fn blocked_segments_in_chained_mbufs_are_answered() {
    let big = |side| -> Vec<Case> {
        corpus(side)
            .into_iter()
            .filter(|c| c.frame.len() > MBUF_DATA_ROOM)
            .collect()
    };
    replay("chained", &big(Side::Access), &big(Side::Core));
}

#[test]
fn the_corpus_reaches_the_sizes_and_cases_the_replay_relies_on() {
    for side in [Side::Access, Side::Core] {
        let c = corpus(side);
        assert!(c.iter().any(|x| x.frame.len() == MAX_FRAME));
        assert!(c.iter().any(|x| x.frame.is_empty()));
        assert!(
            c.iter()
                .filter(|x| matches!(x.expect, Expect::Reply(_)))
                .count()
                < 500,
            "replies stay under the reply burst of the default rate"
        );
        // Every frame labelled with a reply parses as the classifier's TCP,
        // so a missing reply is the dataplane's fault, not the label's.
        for x in c.iter().filter(|x| matches!(x.expect, Expect::Reply(_))) {
            assert_eq!(
                classify::parse(&x.frame).outcome,
                classify::Outcome::Tcp,
                "{}",
                x.name
            );
        }
    }
}
