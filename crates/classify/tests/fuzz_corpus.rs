//! Replays the in-tree cargo-fuzz corpus (`fuzz/corpus/packet/`) through the
//! fuzz target's property, so every regression input runs with `cargo test`.
//! `write_fuzz_corpus` (ignored) regenerates the seed files from the fixtures.

mod support;

use std::path::PathBuf;
use support::frames::{icmp_frame, udp_frame, wrap, Encap, Seg, ROUTER_MAC};
use support::packet_check::check_packet;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/packet")
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, encap) in Encap::all() {
        for (fam, src, dst) in [
            ("v4", "198.51.100.10", "192.0.2.80"),
            ("v6", "2001:db8:100::10", "2001:db8:2::80"),
        ] {
            let syn = Seg::syn(src, dst, 25);
            out.push((format!("{name}-{fam}-syn25"), syn.frame(&encap)));
            out.push((
                format!("{name}-{fam}-ack-data"),
                syn.clone()
                    .no_syn()
                    .ack(7)
                    .data(b"MAIL FROM:<a@example.com>")
                    .frame(&encap),
            ));
            out.push((
                format!("{name}-{fam}-rst"),
                syn.clone().no_syn().rst().frame(&encap),
            ));
            out.push((
                format!("{name}-{fam}-inbound-synack"),
                Seg::syn(dst, src, 40000)
                    .ports(25, 40000)
                    .ack(1)
                    .frame(&encap),
            ));
            out.push((format!("{name}-{fam}-udp"), udp_frame(&encap, src, dst, 25)));
            out.push((
                format!("{name}-{fam}-icmp-error"),
                icmp_frame(&encap, src, dst, true),
            ));
        }
    }
    // Fragments and malformed frames.
    let mut ip = Seg::syn("198.51.100.10", "192.0.2.80", 25)
        .data(&[1; 40])
        .ip_packet();
    let mut first = ip.clone();
    first.truncate(52);
    first[2..4].copy_from_slice(&52u16.to_be_bytes());
    first[6..8].copy_from_slice(&0x2000u16.to_be_bytes());
    out.push((
        "v4-first-fragment".into(),
        wrap(&Encap::Untagged, ROUTER_MAC, &first, false),
    ));
    let mut tiny = first.clone();
    tiny.truncate(28);
    tiny[2..4].copy_from_slice(&28u16.to_be_bytes());
    out.push((
        "v4-tiny-fragment".into(),
        wrap(&Encap::Untagged, ROUTER_MAC, &tiny, false),
    ));
    ip[6..8].copy_from_slice(&0x0001u16.to_be_bytes());
    out.push((
        "v4-offset-8-overlap".into(),
        wrap(&Encap::Untagged, ROUTER_MAC, &ip, false),
    ));
    let mut lying = Seg::syn("198.51.100.10", "192.0.2.80", 25).frame(&Encap::Pppoe(1));
    lying[18..20].copy_from_slice(&0xffffu16.to_be_bytes());
    out.push(("pppoe-length-lies".into(), lying));
    let mut v6ext = Seg::syn("2001:db8:100::10", "2001:db8:2::80", 25).ip_packet();
    let tcp = v6ext.split_off(40);
    v6ext[6] = 0; // hop-by-hop, then a fragment header (atomic), then TCP
    v6ext.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]);
    v6ext.extend_from_slice(&[6, 0, 0, 0, 0, 0, 0, 1]);
    v6ext.extend_from_slice(&tcp);
    let plen = (v6ext.len() - 40) as u16;
    v6ext[4..6].copy_from_slice(&plen.to_be_bytes());
    out.push((
        "v6-hbh-fragment-tcp".into(),
        wrap(&Encap::Dot1q(9), ROUTER_MAC, &v6ext, true),
    ));
    out.push((
        "nine-tags".into(),
        wrap(
            &Encap::Tags((0..9).map(|i| (0x8100, i)).collect()),
            ROUTER_MAC,
            &[0x45; 40],
            false,
        ),
    ));
    out.push((
        "broadcast-syn".into(),
        wrap(
            &Encap::Untagged,
            [0xff; 6],
            &Seg::syn("198.51.100.10", "192.0.2.80", 25).ip_packet(),
            false,
        ),
    ));
    out
}

#[test]
#[ignore = "writes fuzz/corpus/packet; run when the fixtures change"]
fn write_fuzz_corpus() {
    let dir = corpus_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in seeds() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn every_seed_satisfies_the_fuzz_property() {
    for (name, bytes) in seeds() {
        let result = std::panic::catch_unwind(|| check_packet(&bytes));
        assert!(result.is_ok(), "seed {name}");
    }
}

#[test]
fn the_in_tree_fuzz_corpus_replays_cleanly() {
    let dir = corpus_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the fuzz corpus {}: {e}", dir.display()));
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| check_packet(&bytes));
        assert!(result.is_ok(), "corpus file {}", path.display());
        count += 1;
    }
    assert!(count >= seeds().len(), "corpus has only {count} files");
}
