//! The fast pass (`classify::passes`) against the full path: it short-cuts
//! the common frames of every encapsulation, never a blocked one, and no
//! single-octet change or truncation of a frame makes it claim a frame the
//! full path would not forward uncounted.

mod support;

use classify::{classify_one, passes, Direction, ForwardReason, Verdict};
use policy::Tables;
use support::config::{tables, CONFIG, SCOPED_CONFIG};
use support::frames::{icmp_frame, udp_frame, wrap, Encap, Seg, ROUTER_MAC};

const DIRS: [Direction; 2] = [Direction::Outbound, Direction::Inbound];

fn forwarded_uncounted(v: Verdict) -> bool {
    matches!(v, Verdict::Forward(r) if !matches!(r, ForwardReason::Unparsed(_)))
}

/// Frames of one encapsulation: (what, frame, the fast pass must take it outbound).
fn frames(encap: &Encap) -> Vec<(String, Vec<u8>, bool)> {
    let mut out = Vec::new();
    for (v6, src, dst) in [
        (false, "198.51.100.7", "192.0.2.80"),
        (true, "2001:db8:100::7", "2001:db8:2::80"),
    ] {
        let fam = if v6 { "v6" } else { "v4" };
        for port in [443u16, 587, 465, 80] {
            let seg = Seg::syn(src, dst, port).data(b"hello");
            out.push((format!("{fam} tcp/{port}"), seg.frame(encap), true));
        }
        let blocked = Seg::syn(src, dst, 25);
        out.push((format!("{fam} tcp/25"), blocked.frame(encap), false));
        if v6 {
            // Extension headers directly after the fixed header take the full
            // parse whatever the port: the atomic and the first fragment, a
            // routing header with segments left, destination options.
            let ip = blocked.ip_packet();
            for (what, next, ext) in [
                ("atomic fragment", 44, [6, 0, 0, 0, 0, 0, 0, 1]),
                ("first fragment", 44, [6, 0, 0, 1, 0, 0, 0, 2]),
                ("routing", 43, [6, 0, 4, 1, 0, 0, 0, 0]),
                ("destination options", 60, [6, 0, 1, 4, 0, 0, 0, 0]),
            ] {
                let mut p = ip.clone();
                p[6] = next;
                let len = u16::from_be_bytes([p[4], p[5]]) + 8;
                p[4..6].copy_from_slice(&len.to_be_bytes());
                p.splice(40..40, ext);
                for (port, name) in [(25u16, "tcp/25"), (443, "tcp/443")] {
                    let mut q = p.clone();
                    q[48 + 2..48 + 4].copy_from_slice(&port.to_be_bytes());
                    out.push((
                        format!("{fam} {name} after {what}"),
                        wrap(encap, ROUTER_MAC, &q, true),
                        false,
                    ));
                }
            }
        }
        out.push((
            format!("{fam} udp/53"),
            udp_frame(encap, src, dst, 53),
            true,
        ));
        out.push((
            format!("{fam} icmp error"),
            icmp_frame(encap, src, dst, true),
            true,
        ));
    }
    out
}

fn check_contract(t: &Tables, frame: &[u8], what: &str) {
    for dir in DIRS {
        if passes(t, dir, frame) {
            let v = classify_one(t, dir, frame);
            assert!(
                forwarded_uncounted(v),
                "{what} {dir:?}: fast pass, full path {v:?}"
            );
        }
    }
}

#[test]
fn common_frames_of_every_encapsulation_take_the_fast_pass() {
    for yaml in [CONFIG, SCOPED_CONFIG] {
        let t = tables(yaml);
        for (name, encap) in Encap::all() {
            for (what, frame, expected) in frames(&encap) {
                assert_eq!(
                    passes(&t, Direction::Outbound, &frame),
                    expected,
                    "{name} {what}"
                );
                check_contract(&t, &frame, &format!("{name} {what}"));
            }
        }
    }
}

#[test]
fn inbound_uses_the_source_port_and_the_inbound_rule() {
    let seg = Seg::syn("192.0.2.80", "198.51.100.7", 40000).ports(25, 40000);
    let frame = seg.frame(&Encap::Untagged);
    // CONFIG enables the inbound rule: source port 25 takes the full path.
    assert!(!passes(&tables(CONFIG), Direction::Inbound, &frame));
    // SCOPED_CONFIG has no inbound rule: every inbound segment is forwarded.
    assert!(passes(&tables(SCOPED_CONFIG), Direction::Inbound, &frame));
    assert!(passes(&tables(CONFIG), Direction::Outbound, &frame));
}

#[test]
fn no_single_octet_change_or_truncation_breaks_the_contract() {
    // With the inbound rule on (CONFIG) and off, with two blocked ports (SCOPED_CONFIG).
    for yaml in [CONFIG, SCOPED_CONFIG] {
        mutate_all(&tables(yaml));
    }
}

fn mutate_all(t: &Tables) {
    for (name, encap) in Encap::all() {
        for (what, frame, _) in frames(&encap) {
            let what = format!("{name} {what}");
            for cut in 0..frame.len() {
                check_contract(t, &frame[..cut], &format!("{what} cut at {cut}"));
            }
            // Every value at every offset of the headers (the first 80 octets).
            let mut f = frame.clone();
            for at in 0..frame.len().min(80) {
                for byte in 0..=255u8 {
                    f[at] = byte;
                    check_contract(t, &f, &format!("{what} octet {at} = {byte:#04x}"));
                }
                f[at] = frame[at];
            }
        }
    }
}
