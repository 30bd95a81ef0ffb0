//! The labelled fixtures (`pcap-fixtures/verdicts-*`) replayed through op25bd on
//! `net_pcap`, both directions at once, compared frame by frame with the labels
//! the generator gave each frame (independent of the classifier): forwarded
//! frames byte-identical and in order, every blocked frame answered (RST or
//! ICMP, byte-exact against the reply builder) or dropped, counters that add up.

mod common;

use std::collections::HashSet;

use common::*;
use op25b_bench::fixtures::Label;
use op25b_bench::pcap;

fn frames(p: &std::path::Path) -> Vec<Vec<u8>> {
    pcap::read_file(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .into_iter()
        .map(|r| r.data)
        .collect()
}

fn labels(p: &std::path::Path) -> Vec<Label> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| Label::parse(l).expect("label"))
        .collect()
}

/// What must leave each side for the frames that entered on the other one.
fn expected(
    input: &[Vec<u8>],
    labels: &[Label],
    tables: &policy::Tables,
    dir: classify::Direction,
) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut forwarded = Vec::new();
    let mut replies = Vec::new();
    for (f, l) in input.iter().zip(labels) {
        let v = classify::classify_one(tables, dir, f);
        match l {
            Label::Forward | Label::Monitor => forwarded.push(f.clone()),
            Label::Rst | Label::Icmp => {
                let kind = if *l == Label::Rst {
                    classify::ReplyKind::Rst
                } else {
                    classify::ReplyKind::Icmp
                };
                assert!(
                    matches!(v, classify::Verdict::Reply { kind: k, .. } if k == kind),
                    "label {l:?}, classifier {v:?}"
                );
                let mut buf = vec![0u8; classify::reply::MAX_REPLY_LEN];
                let n =
                    classify::build_reply(kind, f, &classify::parse(f), &mut buf).expect("reply");
                buf.truncate(n);
                replies.push(buf);
            }
            Label::Drop => {}
        }
    }
    (forwarded, replies)
}

#[test]
fn labelled_fixtures_get_their_verdicts_frame_by_frame() {
    let s = Scratch::new("verdicts");
    let fx = root().join("pcap-fixtures");
    let cfg = fx.join("verdicts.yaml");
    let tables = policy::load_file(&cfg).expect("fixture config").tables;
    let (up, down) = (
        frames(&fx.join("verdicts-access.pcap")),
        frames(&fx.join("verdicts-core.pcap")),
    );
    let (up_l, down_l) = (
        labels(&fx.join("verdicts-access.txt")),
        labels(&fx.join("verdicts-core.txt")),
    );
    assert_eq!((up.len(), down.len()), (up_l.len(), down_l.len()));
    let (to_access, to_core, stats) = (
        s.path("to-access.pcap"),
        s.path("to-core.pcap"),
        s.path("stats.json"),
    );
    let mut args = s.eal();
    args.push(format!(
        "--vdev=net_pcap0,rx_pcap={},tx_pcap={}",
        fx.join("verdicts-access.pcap").display(),
        to_access.display()
    ));
    args.push(format!(
        "--vdev=net_pcap1,rx_pcap={},tx_pcap={}",
        fx.join("verdicts-core.pcap").display(),
        to_core.display()
    ));
    args.extend(["--", "--idle-exit-ms", "300", "--stats-json"].map(String::from));
    args.push(stats.display().to_string());
    args.push("--config".into());
    args.push(cfg.display().to_string());
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out));

    let (fwd_up, replies_up) = expected(&up, &up_l, &tables, classify::Direction::Outbound);
    let (fwd_down, replies_down) = expected(&down, &down_l, &tables, classify::Direction::Inbound);
    // Each output port carries the other side's forwarded frames and this side's
    // replies; the two interleave by timing, so they are separated by origin.
    let split = |got: Vec<Vec<u8>>, forwarded_from: &[Vec<u8>]| {
        let inputs: HashSet<&Vec<u8>> = forwarded_from.iter().collect();
        got.into_iter()
            .partition::<Vec<_>, _>(|f| inputs.contains(f))
    };
    let (got_fwd_up, got_replies_down) = split(frames(&to_core), &up);
    let (got_fwd_down, got_replies_up) = split(frames(&to_access), &down);
    assert_eq!(
        got_fwd_up.len(),
        fwd_up.len(),
        "frames forwarded toward the core"
    );
    assert!(
        got_fwd_up == fwd_up,
        "forwarded toward the core: not the expected frames in order"
    );
    assert!(
        got_fwd_down == fwd_down,
        "forwarded toward subscribers: not the expected frames in order"
    );
    assert_eq!(
        got_replies_up.len(),
        replies_up.len(),
        "replies to subscribers"
    );
    assert!(
        got_replies_up == replies_up,
        "replies to subscribers differ from the reference builder"
    );
    assert!(
        got_replies_down == replies_down,
        "replies toward the core (inbound rule) differ"
    );

    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let count =
        |ls: &[Label], want: &[Label]| ls.iter().filter(|l| want.contains(l)).count() as u64;
    for (dir, ls) in [("outbound", &up_l), ("inbound", &down_l)] {
        let d = &j[dir];
        let g = |k: &str| d[k].as_u64().unwrap_or_else(|| panic!("{dir}.{k} in {j}"));
        assert_eq!(g("rx"), ls.len() as u64);
        assert_eq!(
            g("rx"),
            g("forwarded") + g("replied") + g("dropped"),
            "{dir}: counters add up"
        );
        assert_eq!(
            g("forwarded"),
            count(ls, &[Label::Forward, Label::Monitor]),
            "{dir}"
        );
        assert_eq!(g("monitored"), count(ls, &[Label::Monitor]), "{dir}");
        assert_eq!(g("replied_rst"), count(ls, &[Label::Rst]), "{dir}");
        assert_eq!(g("replied_icmp"), count(ls, &[Label::Icmp]), "{dir}");
        assert_eq!(g("dropped_policy"), count(ls, &[Label::Drop]), "{dir}");
    }
    let all: Vec<Label> = up_l.iter().chain(&down_l).copied().collect();
    let pools = &j["pools"];
    let blocked: u64 = pools
        .as_object()
        .unwrap()
        .values()
        .map(|p| p["blocked"].as_u64().unwrap())
        .sum();
    assert_eq!(
        blocked,
        count(&all, &[Label::Rst, Label::Icmp, Label::Drop]),
        "{pools}"
    );
    assert_eq!(
        pools["dyn-monitor"]["monitored"].as_u64(),
        Some(count(&all, &[Label::Monitor])),
        "{pools}"
    );
    assert_eq!(pools["fixed"]["blocked"].as_u64(), Some(0), "{pools}");
    assert_eq!(
        j["mempool_in_use"].as_u64(),
        Some(0),
        "every mbuf back in the pool: {j}"
    );
}

#[test]
fn blocked_flows_are_sampled_to_the_blocked_log() {
    let s = Scratch::new("blog");
    let fx = root().join("pcap-fixtures");
    let log = s.path("blocked.jsonl");
    let mut args = s.eal();
    args.push(format!(
        "--vdev=net_pcap0,rx_pcap={},tx_pcap={}",
        fx.join("verdicts-access.pcap").display(),
        s.path("a.pcap").display()
    ));
    args.push(format!(
        "--vdev=net_pcap1,tx_pcap={}",
        s.path("c.pcap").display()
    ));
    args.extend(["--", "--idle-exit-ms", "300", "--blocked-log"].map(String::from));
    args.push(log.display().to_string());
    args.push("--config".into());
    args.push(fx.join("verdicts.yaml").display().to_string());
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out));
    let labels = labels(&fx.join("verdicts-access.txt"));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let expect = labels.iter().filter(|l| **l != Label::Forward).count();
    assert_eq!(
        lines.len(),
        expect,
        "one sample per blocked or monitored frame"
    );
    for l in &lines {
        for k in [
            "time",
            "src",
            "sport",
            "dst",
            "dport",
            "pool",
            "action",
            "direction",
        ] {
            assert!(!l[k].is_null(), "{k} missing in {l}");
        }
        assert_eq!(l["dport"], 25, "{l}");
        assert!(l["pool"].as_str().unwrap().starts_with("dyn-"), "{l}");
        assert!(
            ["rst", "icmp", "drop", "monitor"].contains(&l["action"].as_str().unwrap()),
            "{l}"
        );
    }
    assert!(
        lines.iter().any(|l| l.get("vlan").is_some()),
        "VLAN ids recorded"
    );
    assert!(
        lines.iter().any(|l| l.get("pppoe_session").is_some()),
        "PPPoE sessions recorded"
    );
}
