//! Replies against RFC 9293 / 792 / 4443 arithmetic, re-parsed and
//! checksum-verified by etherparse (the independent reference).

mod support;

use classify::reply::{
    build_icmp, build_reply, build_rst, reply_allowed, reply_len, NoReply, ReplyKind, MAX_REPLY_LEN,
};
use classify::{parse, Outcome};
use std::net::IpAddr;
use support::frames::{icmp_frame, wrap, Encap, Seg, CLIENT_MAC, ROUTER_MAC};
use support::reference::{check_reply, ReplyL4, ReplyView};

fn rst_for(seg: &Seg, encap: &Encap) -> ReplyView {
    let frame = seg.frame(encap);
    let parsed = parse(&frame);
    assert_eq!(parsed.outcome, Outcome::Tcp);
    let mut out = [0xeeu8; MAX_REPLY_LEN];
    let len = build_rst(&frame, &parsed, &mut out).expect("reply allowed");
    assert_eq!(Some(len), reply_len(ReplyKind::Rst, &frame, &parsed));
    check_reply(&out[..len]).unwrap_or_else(|e| panic!("invalid reply: {e}"))
}

fn icmp_for(frame: &[u8]) -> (ReplyView, Vec<u8>) {
    let parsed = parse(frame);
    let mut out = vec![0xeeu8; MAX_REPLY_LEN];
    let len = build_icmp(frame, &parsed, &mut out).expect("reply allowed");
    let view = check_reply(&out[..len]).unwrap_or_else(|e| panic!("invalid reply: {e}"));
    (view, out[..len].to_vec())
}

fn tcp_fields(view: &ReplyView) -> (u32, u32, bool, bool, bool) {
    match view.l4 {
        ReplyL4::Tcp {
            seq,
            ack,
            rst,
            ack_flag,
            syn,
            ..
        } => (seq, ack, rst, ack_flag, syn),
        _ => panic!("not TCP: {view:?}"),
    }
}

fn v4() -> Seg {
    Seg::syn("198.51.100.10", "192.0.2.25", 25)
}

fn v6() -> Seg {
    Seg::syn("2001:db8:100::10", "2001:db8:2::25", 25)
}

#[test]
fn rst_keeps_the_encapsulation_swaps_macs_addresses_and_ports() {
    for (name, encap) in Encap::all() {
        for seg in [v4(), v6()] {
            let view = rst_for(&seg, &encap);
            assert_eq!(view.dst_mac, CLIENT_MAC, "{name}");
            assert_eq!(view.src_mac, ROUTER_MAC, "{name}");
            assert_eq!(
                view.tags,
                encap.tags(),
                "{name}: same TPIDs and TCIs, in order"
            );
            assert_eq!(view.pppoe.map(|(s, _)| s), encap.pppoe_session(), "{name}");
            if let Some((_, length)) = view.pppoe {
                assert_eq!(usize::from(length), 2 + view.ip_len, "{name}");
            }
            assert_eq!((view.src, view.dst), (seg.dst, seg.src), "{name}");
            assert_eq!(view.hop_limit, 64, "{name}");
            match view.ipv4_fields {
                Some((df, mf, id, hl)) => {
                    assert_eq!((df, mf, id, hl), (true, false, 0, 20), "{name}")
                }
                None => assert!(!view.ipv6_has_extensions, "{name}"),
            }
            match view.l4 {
                ReplyL4::Tcp {
                    src_port,
                    dst_port,
                    window,
                    data_offset,
                    urgent,
                    payload_len,
                    psh,
                    fin,
                    ..
                } => {
                    assert_eq!((src_port, dst_port), (25, 49152), "{name}");
                    assert_eq!(
                        (window, data_offset, urgent, payload_len),
                        (0, 5, 0, 0),
                        "{name}"
                    );
                    assert!(!psh && !fin, "{name}");
                }
                _ => panic!("{name}: not TCP"),
            }
            assert!(view.frame_len >= 60, "{name}");
        }
    }
}

#[test]
fn rst_to_a_syn_acknowledges_the_syn() {
    for seg in [v4(), v6()] {
        let (seq, ack, rst, ack_flag, syn) = tcp_fields(&rst_for(&seg, &Encap::Untagged));
        assert_eq!((seq, ack), (0, 0x1000_0001));
        assert!(rst && ack_flag && !syn);
    }
}

#[test]
fn rst_to_a_syn_with_data_counts_the_data() {
    // RFC 9293 §3.10.7.1: ACK = SEG.SEQ + SEG.LEN, SEG.LEN counting SYN and data.
    let seg = v4().seq(1000).data(&[0x41; 37]);
    let (seq, ack, _, ack_flag, _) = tcp_fields(&rst_for(&seg, &Encap::Dot1q(3)));
    assert_eq!((seq, ack, ack_flag), (0, 1000 + 37 + 1, true));
}

#[test]
fn rst_to_a_syn_fin_counts_both_flags() {
    let seg = v6().seq(500).fin().data(b"hi");
    let (seq, ack, ..) = tcp_fields(&rst_for(&seg, &Encap::Pppoe(2)));
    assert_eq!((seq, ack), (0, 500 + 2 + 1 + 1));
}

#[test]
fn rst_sequence_arithmetic_wraps_at_two_to_the_32() {
    let seg = v4().seq(u32::MAX - 1).data(&[0; 5]);
    let (_, ack, ..) = tcp_fields(&rst_for(&seg, &Encap::Untagged));
    // (2^32 - 2) + 5 + 1 = 2^32 + 4 ≡ 4
    assert_eq!(ack, 4);
    let seg = v4().seq(u32::MAX);
    assert_eq!(tcp_fields(&rst_for(&seg, &Encap::Untagged)).1, 0);
}

#[test]
fn rst_to_a_segment_with_ack_takes_its_sequence_from_seg_ack() {
    // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>, ACK field 0.
    for (name, encap) in Encap::all() {
        for seg in [v4(), v6()] {
            let seg = seg
                .no_syn()
                .seq(77)
                .ack(0xdead_beef)
                .data(b"RCPT TO:<x@example.com>");
            let (seq, ack, rst, ack_flag, syn) = tcp_fields(&rst_for(&seg, &encap));
            assert_eq!((seq, ack), (0xdead_beef, 0), "{name}");
            assert!(rst && !ack_flag && !syn, "{name}");
        }
    }
}

#[test]
fn rst_to_a_syn_ack_uses_seg_ack() {
    // Inbound rule: a SYN+ACK coming back from the core.
    let seg = Seg::syn("192.0.2.25", "198.51.100.10", 49152)
        .ports(25, 49152)
        .ack(12345);
    let (seq, ack, rst, ack_flag, _) = tcp_fields(&rst_for(&seg, &Encap::Untagged));
    assert_eq!((seq, ack, rst, ack_flag), (12345, 0, true, false));
}

#[test]
fn rst_to_a_bare_fin_counts_the_fin() {
    let seg = v4().no_syn().fin().seq(900);
    let (seq, ack, ..) = tcp_fields(&rst_for(&seg, &Encap::Untagged));
    assert_eq!((seq, ack), (0, 901));
}

#[test]
fn icmpv4_quotes_the_header_and_as_much_data_as_fits_576() {
    for (name, encap) in Encap::all() {
        // Small: the whole datagram is quoted.
        let seg = v4().data(b"EHLO example");
        let frame = seg.frame(&encap);
        let (view, _) = icmp_for(&frame);
        let ip = seg.ip_packet();
        match &view.l4 {
            ReplyL4::Icmp {
                icmp_type,
                code,
                rest_of_header,
                quote,
            } => {
                assert_eq!(
                    (*icmp_type, *code, *rest_of_header),
                    (3, 13, [0; 4]),
                    "{name}"
                );
                assert_eq!(quote, &ip, "{name}");
            }
            _ => panic!("{name}: not ICMP"),
        }
        assert_eq!((view.src, view.dst), (seg.dst, seg.src), "{name}");
        assert_eq!(view.hop_limit, 64);
        assert_eq!(view.tags, encap.tags(), "{name}");
        if let Some((_, length)) = view.pppoe {
            assert_eq!(usize::from(length), 2 + view.ip_len, "{name}");
        }

        // Large: cut so that the ICMP datagram is exactly 576 octets.
        let seg = v4().no_syn().ack(1).data(&[0x5a; 1400]);
        let frame = seg.frame(&encap);
        let (view, _) = icmp_for(&frame);
        assert_eq!(view.ip_len, 576, "{name}");
        match &view.l4 {
            ReplyL4::Icmp { quote, .. } => {
                assert_eq!(&quote[..], &seg.ip_packet()[..548], "{name}")
            }
            _ => panic!(),
        }
    }
}

#[test]
fn icmpv6_quotes_as_much_as_fits_1280() {
    for (name, encap) in Encap::all() {
        let seg = v6().data(b"EHLO");
        let (view, _) = icmp_for(&seg.frame(&encap));
        match &view.l4 {
            ReplyL4::Icmp {
                icmp_type,
                code,
                rest_of_header,
                quote,
            } => {
                assert_eq!(
                    (*icmp_type, *code, *rest_of_header),
                    (1, 1, [0; 4]),
                    "{name}"
                );
                assert_eq!(quote, &seg.ip_packet(), "{name}");
            }
            _ => panic!("{name}: not ICMPv6"),
        }
        assert!(!view.ipv6_has_extensions);

        let seg = v6().no_syn().ack(9).data(&[0x33; 1400]);
        let (view, frame) = icmp_for(&seg.frame(&encap));
        assert_eq!(view.ip_len, 1280, "{name}");
        assert!(frame.len() <= MAX_REPLY_LEN);
        match &view.l4 {
            ReplyL4::Icmp { quote, .. } => {
                assert_eq!(&quote[..], &seg.ip_packet()[..1232], "{name}")
            }
            _ => panic!(),
        }
    }
}

#[test]
fn short_replies_are_padded_to_the_ethernet_minimum_with_zeros() {
    let frame = v4().frame(&Encap::Untagged);
    let parsed = parse(&frame);
    let mut out = [0xeeu8; 128];
    let len = build_rst(&frame, &parsed, &mut out).unwrap();
    assert_eq!(len, 60);
    assert_eq!(&out[54..60], &[0; 6]);
    assert_eq!(out[60], 0xee, "nothing written past the reply");
    // PPPoE: LENGTH excludes the padding.
    let frame = v4().frame(&Encap::Pppoe(4));
    let len = build_rst(&frame, &parse(&frame), &mut out).unwrap();
    let view = check_reply(&out[..len]).unwrap();
    assert_eq!(view.pppoe, Some((4, 42)));
    assert_eq!(view.frame_len, 62);
}

#[test]
fn no_reply_to_a_rst() {
    for seg in [v4().no_syn().rst().seq(5), v4().no_syn().rst().ack(5)] {
        let frame = seg.frame(&Encap::Untagged);
        let parsed = parse(&frame);
        assert_eq!(reply_allowed(&parsed), Err(NoReply::Rst));
        let mut out = [0u8; MAX_REPLY_LEN];
        assert_eq!(build_rst(&frame, &parsed, &mut out), None);
        assert_eq!(build_icmp(&frame, &parsed, &mut out), None);
    }
}

#[test]
fn no_reply_to_broadcast_or_multicast_frames() {
    for mac in [
        [0xff; 6],
        [0x01, 0x00, 0x5e, 0, 0, 1],
        [0x33, 0x33, 0, 0, 0, 0x25],
    ] {
        let frame = wrap(&Encap::Dot1q(1), mac, &v4().ip_packet(), false);
        let parsed = parse(&frame);
        assert_eq!(reply_allowed(&parsed), Err(NoReply::GroupMac));
        let mut out = [0u8; MAX_REPLY_LEN];
        assert_eq!(build_reply(ReplyKind::Rst, &frame, &parsed, &mut out), None);
        assert_eq!(
            build_reply(ReplyKind::Icmp, &frame, &parsed, &mut out),
            None
        );
    }
}

#[test]
fn no_reply_between_non_unicast_addresses() {
    for (src, dst) in [
        ("0.0.0.0", "192.0.2.25"),
        ("198.51.100.1", "224.0.0.25"),
        ("198.51.100.1", "255.255.255.255"),
        ("127.0.0.1", "192.0.2.25"),
        ("::", "2001:db8::25"),
        ("2001:db8::1", "ff02::1"),
    ] {
        let frame = Seg::syn(src, dst, 25).frame(&Encap::Untagged);
        assert_eq!(
            reply_allowed(&parse(&frame)),
            Err(NoReply::NotUnicast),
            "{src} -> {dst}"
        );
    }
}

#[test]
fn no_reply_to_non_tcp_non_first_fragments_or_icmp_errors() {
    let mut out = [0u8; MAX_REPLY_LEN];
    for error in [false, true] {
        for (src, dst) in [
            ("198.51.100.1", "192.0.2.1"),
            ("2001:db8::1", "2001:db8::2"),
        ] {
            let frame = icmp_frame(&Encap::Untagged, src, dst, error);
            let parsed = parse(&frame);
            assert_eq!(reply_allowed(&parsed), Err(NoReply::NotTcp));
            assert_eq!(build_icmp(&frame, &parsed, &mut out), None);
        }
    }
    let mut ip = v4().data(&[0; 40]).ip_packet();
    ip[6..8].copy_from_slice(&0x0005u16.to_be_bytes()); // offset 40, not first
    let frame = wrap(&Encap::Untagged, ROUTER_MAC, &ip, false);
    let parsed = parse(&frame);
    assert_eq!(parsed.outcome, Outcome::NonFirstFragment);
    assert_eq!(build_rst(&frame, &parsed, &mut out), None);
}

#[test]
fn a_buffer_one_octet_short_gets_no_reply_and_is_not_written_past() {
    for seg in [v4().data(&[1; 700]), v6().data(&[1; 700])] {
        let frame = seg.frame(&Encap::PppoeIn(vec![(0x8100, 1)], 1));
        let parsed = parse(&frame);
        for kind in [ReplyKind::Rst, ReplyKind::Icmp] {
            let need = reply_len(kind, &frame, &parsed).unwrap();
            let mut out = vec![0xeeu8; need - 1];
            assert_eq!(build_reply(kind, &frame, &parsed, &mut out), None);
            let mut out = vec![0xeeu8; need];
            assert_eq!(build_reply(kind, &frame, &parsed, &mut out), Some(need));
        }
    }
}

#[test]
fn a_parsed_summary_from_another_frame_never_panics() {
    let big = v6()
        .data(&[0; 600])
        .frame(&Encap::Tags(vec![(0x88a8, 1), (0x8100, 2)]));
    let parsed = parse(&big);
    let small = v4().frame(&Encap::Untagged);
    let mut out = [0u8; MAX_REPLY_LEN];
    assert_eq!(build_icmp(&small, &parsed, &mut out), None);
    // Same length, different layout: still no panic, whatever comes out.
    let _ = build_rst(&big[..parsed.ip_end as usize], &parse(&small), &mut out);
}

#[test]
fn replies_to_first_fragments_are_valid() {
    let seg = v4().data(&[9; 100]);
    let mut ip = seg.ip_packet();
    ip.truncate(20 + 20 + 16);
    ip[2..4].copy_from_slice(&56u16.to_be_bytes());
    ip[6..8].copy_from_slice(&0x2000u16.to_be_bytes());
    let frame = wrap(&Encap::Untagged, ROUTER_MAC, &ip, false);
    let parsed = parse(&frame);
    let mut out = [0u8; MAX_REPLY_LEN];
    let len = build_rst(&frame, &parsed, &mut out).unwrap();
    let view = check_reply(&out[..len]).unwrap();
    // The ACK covers what this fragment carries; ISS < ACK <= SND.NXT, still acceptable.
    assert_eq!(tcp_fields(&view).1, 0x1000_0000 + 16 + 1);
    let len = build_icmp(&frame, &parsed, &mut out).unwrap();
    let view = check_reply(&out[..len]).unwrap();
    assert!(matches!(view.l4, ReplyL4::Icmp { ref quote, .. } if quote.len() == 56));
    assert_eq!(view.src, "192.0.2.25".parse::<IpAddr>().unwrap());
}

#[test]
fn the_reference_rejects_a_reply_with_any_checksum_broken() {
    for seg in [v4().data(b"x"), v6().data(b"x")] {
        for kind in [ReplyKind::Rst, ReplyKind::Icmp] {
            let frame = seg.frame(&Encap::Pppoe(1));
            let parsed = parse(&frame);
            let mut out = [0u8; MAX_REPLY_LEN];
            let len = build_reply(kind, &frame, &parsed, &mut out).unwrap();
            assert!(check_reply(&out[..len]).is_ok());
            // Flip one bit in the transport checksum field (and, for IPv4, the header checksum).
            let l4 = parsed.l3_offset as usize + if seg.is_v6() { 40 } else { 20 };
            let at = l4 + if kind == ReplyKind::Rst { 16 } else { 2 };
            out[at] ^= 0x01;
            assert!(
                check_reply(&out[..len]).is_err(),
                "{kind:?} transport checksum"
            );
            out[at] ^= 0x01;
            if !seg.is_v6() {
                out[parsed.l3_offset as usize + 10] ^= 0x80;
                assert!(
                    check_reply(&out[..len]).is_err(),
                    "{kind:?} IPv4 header checksum"
                );
            }
        }
    }
}
