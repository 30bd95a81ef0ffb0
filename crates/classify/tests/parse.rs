//! Parsing every access encapsulation, IPv4 options and fragments, IPv6
//! extension headers, and malformed frames.

mod support;

use classify::wire::tcp::flags;
use classify::{parse, Family, Fragment, Outcome, UnparsedReason};
use support::frames::{icmp_frame, udp_frame, wrap, Encap, Seg, ROUTER_MAC};

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in data.chunks(2) {
        sum += u32::from(pair[0]) << 8 | pair.get(1).copied().map_or(0, u32::from);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn fix_ipv4_checksum(ip: &mut [u8]) {
    let hl = usize::from(ip[0] & 0x0f) * 4;
    ip[10..12].fill(0);
    let sum = checksum(&ip[..hl]);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
}

/// An IPv4 packet with `options` inserted after the fixed header.
fn ipv4_with_options(seg: &Seg, options: &[u8]) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0);
    let base = seg.ip_packet();
    let mut ip = base[..20].to_vec();
    ip.extend_from_slice(options);
    ip.extend_from_slice(&base[20..]);
    ip[0] = 0x40 | ((20 + options.len()) / 4) as u8;
    let total = ip.len() as u16;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    fix_ipv4_checksum(&mut ip);
    ip
}

/// Cuts an IPv4 packet's payload to `[from, to)` and marks it as the fragment at `from`.
fn ipv4_fragment(ip: &[u8], from: usize, to: usize, more: bool) -> Vec<u8> {
    let hl = usize::from(ip[0] & 0x0f) * 4;
    let mut out = ip[..hl].to_vec();
    out.extend_from_slice(&ip[hl + from..hl + to]);
    let total = out.len() as u16;
    out[2..4].copy_from_slice(&total.to_be_bytes());
    assert_eq!(from % 8, 0);
    let flag_off = (from / 8) as u16 | if more { 0x2000 } else { 0 };
    out[6..8].copy_from_slice(&flag_off.to_be_bytes());
    fix_ipv4_checksum(&mut out);
    out
}

/// An IPv6 packet with extension headers `(kind, whole header bytes)` inserted
/// before the upper-layer header; next-header fields are chained here.
fn ipv6_with_exts(seg: &Seg, exts: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let base = seg.ip_packet();
    let upper_nh = base[6];
    let mut ip = base[..40].to_vec();
    if let Some((first, _)) = exts.first() {
        ip[6] = *first;
    }
    for (i, (_, body)) in exts.iter().enumerate() {
        let mut body = body.clone();
        body[0] = exts.get(i + 1).map_or(upper_nh, |(kind, _)| *kind);
        ip.extend_from_slice(&body);
    }
    ip.extend_from_slice(&base[40..]);
    let payload_len = (ip.len() - 40) as u16;
    ip[4..6].copy_from_slice(&payload_len.to_be_bytes());
    ip
}

fn options_header(units: u8) -> Vec<u8> {
    let mut h = vec![0u8; (usize::from(units) + 1) * 8];
    h[1] = units;
    h[2] = 1; // PadN covering the rest
    h[3] = (h.len() - 4) as u8;
    h
}

fn fragment_header(offset_units: u16, more: bool) -> Vec<u8> {
    let word = (offset_units << 3) | u16::from(more);
    let mut h = vec![0u8, 0, 0, 0, 0, 0, 0x12, 0x34];
    h[2..4].copy_from_slice(&word.to_be_bytes());
    h
}

fn v4_syn() -> Seg {
    Seg::syn("198.51.100.10", "192.0.2.25", 25)
}

fn v6_syn() -> Seg {
    Seg::syn("2001:db8:100::10", "2001:db8:2::25", 25)
}

#[test]
fn every_encapsulation_and_family_parses_to_the_tcp_fields() {
    for (name, encap) in Encap::all() {
        for seg in [v4_syn().data(b"EHLO"), v6_syn().data(b"EHLO")] {
            let frame = seg.frame(&encap);
            let p = parse(&frame);
            assert_eq!(p.outcome, Outcome::Tcp, "{name}");
            assert_eq!(
                p.family,
                if seg.is_v6() { Family::V6 } else { Family::V4 },
                "{name}"
            );
            assert_eq!(p.src_ip(), Some(seg.src), "{name}");
            assert_eq!(p.dst_ip(), Some(seg.dst), "{name}");
            assert_eq!((p.tcp.src_port, p.tcp.dst_port), (49152, 25), "{name}");
            assert_eq!(p.tcp.seq, 0x1000_0000, "{name}");
            assert_eq!(
                p.tcp.flags & (flags::SYN | flags::PSH),
                flags::SYN | flags::PSH,
                "{name}"
            );
            assert_eq!(p.tcp.payload_len, 4, "{name}");
            assert_eq!(p.tcp.header_len, 20, "{name}");
            assert_eq!(p.fragment, Fragment::None, "{name}");
            assert!(!p.dst_mac_group, "{name}");
            let vids: Vec<u16> = encap.tags().iter().map(|(_, tci)| tci & 0xfff).collect();
            assert_eq!(p.vlans(), &vids[..], "{name}");
            assert_eq!(p.pppoe_session, encap.pppoe_session(), "{name}");
            let l2 = 14 + 4 * vids.len() + if p.pppoe_session.is_some() { 8 } else { 0 };
            assert_eq!(p.l3_offset as usize, l2, "{name}");
            let ip_len = seg.ip_packet().len();
            assert_eq!(p.ip_end as usize, l2 + ip_len, "{name}");
        }
    }
}

#[test]
fn full_frames_from_etherparse_vlan_builders_parse_too() {
    let seg = v4_syn();
    let single = etherparse::PacketBuilder::ethernet2(support::frames::CLIENT_MAC, ROUTER_MAC)
        .single_vlan(etherparse::VlanId::try_new(100).unwrap())
        .ipv4([198, 51, 100, 10], [192, 0, 2, 25], 64)
        .tcp(40000, 25, 7, 1024)
        .syn();
    let mut frame = Vec::new();
    single.write(&mut frame, &[]).unwrap();
    let p = parse(&frame);
    assert_eq!(
        (p.outcome, p.vlans(), p.tcp.dst_port),
        (Outcome::Tcp, &[100u16][..], 25)
    );

    let double = etherparse::PacketBuilder::ethernet2(support::frames::CLIENT_MAC, ROUTER_MAC)
        .double_vlan(
            etherparse::VlanId::try_new(10).unwrap(),
            etherparse::VlanId::try_new(20).unwrap(),
        )
        .ipv6(
            [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            64,
        )
        .tcp(40000, 25, 7, 1024)
        .syn();
    let mut frame = Vec::new();
    double.write(&mut frame, &[]).unwrap();
    let p = parse(&frame);
    assert_eq!(
        (p.outcome, p.vlans(), p.family),
        (Outcome::Tcp, &[10u16, 20][..], Family::V6)
    );
    let _ = seg;
}

#[test]
fn eight_stacked_tags_parse_and_a_ninth_is_unparsed() {
    let ip = v4_syn().ip_packet();
    let eight = Encap::Tags((0..8).map(|i| (0x8100, 100 + i)).collect());
    let p = parse(&wrap(&eight, ROUTER_MAC, &ip, false));
    assert_eq!(p.outcome, Outcome::Tcp);
    assert_eq!(p.vlans(), &[100, 101, 102, 103, 104, 105, 106, 107]);
    let nine = Encap::Tags((0..9).map(|i| (0x88a8, 100 + i)).collect());
    let p = parse(&wrap(&nine, ROUTER_MAC, &ip, false));
    assert_eq!(
        p.outcome,
        Outcome::Unparsed(UnparsedReason::TooManyVlanTags)
    );
}

#[test]
fn broadcast_and_multicast_destinations_are_flagged() {
    let ip = v4_syn().ip_packet();
    for mac in [
        [0xff; 6],
        [0x01, 0x00, 0x5e, 0x00, 0x00, 0x19],
        [0x33, 0x33, 0, 0, 0, 1],
    ] {
        let p = parse(&wrap(&Encap::Untagged, mac, &ip, false));
        assert!(p.dst_mac_group);
        assert_eq!(p.outcome, Outcome::Tcp);
    }
}

#[test]
fn ipv4_options_move_the_transport_header() {
    let seg = v4_syn().data(b"x");
    // Record Route (type 7) with room for one address, then NOP padding.
    let ip = ipv4_with_options(&seg, &[7, 7, 4, 0, 0, 0, 0, 1]);
    let p = parse(&wrap(&Encap::Dot1q(5), ROUTER_MAC, &ip, false));
    assert_eq!(p.outcome, Outcome::Tcp);
    assert_eq!(p.l4_offset - p.l3_offset, 28);
    assert_eq!((p.tcp.dst_port, p.tcp.payload_len), (25, 1));
}

#[test]
fn ipv4_fragments_first_non_first_tiny_and_overlapping() {
    let seg = v4_syn().data(&[0xab; 64]);
    let ip = seg.ip_packet();
    for (name, encap) in Encap::all() {
        let first = parse(&wrap(
            &encap,
            ROUTER_MAC,
            &ipv4_fragment(&ip, 0, 40, true),
            false,
        ));
        assert_eq!(
            (first.outcome, first.fragment),
            (Outcome::Tcp, Fragment::First),
            "{name}"
        );
        assert_eq!(
            (first.tcp.dst_port, first.tcp.payload_len),
            (25, 20),
            "{name}"
        );

        let later = parse(&wrap(
            &encap,
            ROUTER_MAC,
            &ipv4_fragment(&ip, 40, 84, false),
            false,
        ));
        assert_eq!(
            (later.outcome, later.fragment),
            (Outcome::NonFirstFragment, Fragment::NonFirst),
            "{name}"
        );

        // RFC 1858 §3: a first fragment that does not hold the whole fixed TCP header.
        let tiny = parse(&wrap(
            &encap,
            ROUTER_MAC,
            &ipv4_fragment(&ip, 0, 8, true),
            false,
        ));
        assert_eq!(tiny.outcome, Outcome::TinyFragment, "{name}");
        let tiny16 = parse(&wrap(
            &encap,
            ROUTER_MAC,
            &ipv4_fragment(&ip, 0, 16, true),
            false,
        ));
        assert_eq!(tiny16.outcome, Outcome::TinyFragment, "{name}");

        // RFC 1858 §4: offset 1 (8 octets) rewrites the TCP flags.
        let overlap = parse(&wrap(
            &encap,
            ROUTER_MAC,
            &ipv4_fragment(&ip, 8, 24, true),
            false,
        ));
        assert_eq!(overlap.outcome, Outcome::TinyFragment, "{name}");
    }
}

#[test]
fn a_udp_fragment_at_offset_eight_is_just_a_non_first_fragment() {
    let udp = udp_frame(&Encap::Untagged, "198.51.100.10", "192.0.2.53", 53);
    let mut ip = udp[14..].to_vec();
    let total = u16::from_be_bytes([ip[2], ip[3]]) as usize;
    ip.truncate(total);
    let frag = ipv4_fragment(&ip, 8, 13, false);
    assert_eq!(
        parse(&wrap(&Encap::Untagged, ROUTER_MAC, &frag, false)).outcome,
        Outcome::NonFirstFragment
    );
}

#[test]
fn ipv6_extension_headers_are_walked() {
    let seg = v6_syn().data(b"MAIL");
    let routing_done = {
        let mut h = vec![0u8; 24];
        h[1] = 2;
        h[2] = 0; // type 0 (deprecated) with no segments left
        h[3] = 0;
        h
    };
    let chain = vec![
        (0u8, options_header(0)),
        (60u8, options_header(1)),
        (43u8, routing_done),
        (44u8, fragment_header(0, false)), // atomic fragment: a whole packet
        (60u8, options_header(0)),
    ];
    for (name, encap) in Encap::all() {
        let ip = ipv6_with_exts(&seg, &chain);
        let p = parse(&wrap(&encap, ROUTER_MAC, &ip, true));
        assert_eq!(p.outcome, Outcome::Tcp, "{name}");
        assert_eq!(p.fragment, Fragment::None, "{name}");
        assert_eq!(
            p.l4_offset - p.l3_offset,
            40 + 8 + 16 + 24 + 8 + 8,
            "{name}"
        );
        assert_eq!(
            (p.tcp.dst_port, p.tcp.payload_len, p.ip_protocol),
            (25, 4, 6),
            "{name}"
        );
        assert!(!p.ipv6_routed, "{name}");
    }
}

#[test]
fn ipv6_fragments_first_non_first_and_tiny() {
    let seg = v6_syn().data(&[7; 40]);
    let whole = ipv6_with_exts(&seg, &[(44, fragment_header(0, true))]);
    // First fragment: fixed header + fragment header + 20 TCP + 12 data.
    let mut first = whole[..40 + 8 + 32].to_vec();
    first[4..6].copy_from_slice(&40u16.to_be_bytes());
    let p = parse(&wrap(&Encap::Pppoe(9), ROUTER_MAC, &first, true));
    assert_eq!(
        (p.outcome, p.fragment, p.tcp.payload_len),
        (Outcome::Tcp, Fragment::First, 12)
    );

    let mut tiny = whole[..40 + 8 + 16].to_vec();
    tiny[4..6].copy_from_slice(&24u16.to_be_bytes());
    let p = parse(&wrap(&Encap::Untagged, ROUTER_MAC, &tiny, true));
    assert_eq!(p.outcome, Outcome::TinyFragment);

    let later = ipv6_with_exts(
        &Seg::syn("2001:db8:100::10", "2001:db8:2::25", 25).data(&[1; 16]),
        &[(44, fragment_header(4, false))],
    );
    let p = parse(&wrap(&Encap::Dot1q(7), ROUTER_MAC, &later, true));
    assert_eq!(
        (p.outcome, p.fragment),
        (Outcome::NonFirstFragment, Fragment::NonFirst)
    );

    let overlap = ipv6_with_exts(&v6_syn(), &[(44, fragment_header(1, true))]);
    assert_eq!(
        parse(&wrap(&Encap::Untagged, ROUTER_MAC, &overlap, true)).outcome,
        Outcome::TinyFragment
    );
}

#[test]
fn ipv6_routing_header_with_segments_left_marks_the_packet_routed() {
    let mut routing = vec![0u8; 24];
    routing[1] = 2;
    routing[2] = 2; // type 2 (Mobile IPv6) has exactly one address
    routing[1] = 2;
    routing[3] = 1;
    let ip = ipv6_with_exts(&v6_syn(), &[(43, routing)]);
    let p = parse(&wrap(&Encap::Untagged, ROUTER_MAC, &ip, true));
    assert_eq!(p.outcome, Outcome::Tcp);
    assert!(p.ipv6_routed);
}

#[test]
fn bad_ipv6_extension_chains_are_unparsed() {
    let seg = v6_syn();
    let hbh_second = ipv6_with_exts(&seg, &[(60, options_header(0)), (0, options_header(0))]);
    assert_eq!(
        parse(&wrap(&Encap::Untagged, ROUTER_MAC, &hbh_second, true)).outcome,
        Outcome::Unparsed(UnparsedReason::Ipv6ExtHeader)
    );
    let nine: Vec<(u8, Vec<u8>)> = (0..9).map(|_| (60u8, options_header(0))).collect();
    let long = ipv6_with_exts(&seg, &nine);
    assert_eq!(
        parse(&wrap(&Encap::Untagged, ROUTER_MAC, &long, true)).outcome,
        Outcome::Unparsed(UnparsedReason::TooManyIpv6ExtHeaders)
    );
    // A destination-options header claiming 64 octets at the end of the packet.
    let mut runs_off = ipv6_with_exts(&seg, &[(60, options_header(0))]);
    runs_off[41] = 7;
    assert_eq!(
        parse(&wrap(&Encap::Untagged, ROUTER_MAC, &runs_off, true)).outcome,
        Outcome::Unparsed(UnparsedReason::Ipv6ExtHeader)
    );
}

#[test]
fn lying_lengths_are_unparsed_not_trusted() {
    let ip = v4_syn().data(b"abc").ip_packet();
    let cases: Vec<(&str, Vec<u8>, UnparsedReason)> = vec![
        (
            "total length past frame",
            {
                let mut b = ip.clone();
                b[2..4].copy_from_slice(&200u16.to_be_bytes());
                b
            },
            UnparsedReason::Ipv4Length,
        ),
        (
            "total length below header",
            {
                let mut b = ip.clone();
                b[2..4].copy_from_slice(&12u16.to_be_bytes());
                b
            },
            UnparsedReason::Ipv4Length,
        ),
        (
            "ihl 4",
            {
                let mut b = ip.clone();
                b[0] = 0x44;
                b
            },
            UnparsedReason::Ipv4Header,
        ),
        (
            "version 6 behind ethertype 0800",
            {
                let mut b = ip.clone();
                b[0] = 0x65;
                b
            },
            UnparsedReason::Ipv4Header,
        ),
        (
            "tcp data offset 4",
            {
                let mut b = ip.clone();
                b[32] = 0x40;
                b
            },
            UnparsedReason::TcpHeader,
        ),
        (
            "tcp data offset past segment",
            {
                let mut b = ip.clone();
                b[32] = 0xf0;
                b
            },
            UnparsedReason::TcpHeader,
        ),
        (
            "tcp header cut",
            ip[..30].to_vec().tap_total(),
            UnparsedReason::TcpHeader,
        ),
    ];
    for (name, bytes, reason) in cases {
        let p = parse(&wrap(&Encap::Untagged, ROUTER_MAC, &bytes, false));
        assert_eq!(p.outcome, Outcome::Unparsed(reason), "{name}");
    }

    let v6 = v6_syn().ip_packet();
    let mut long = v6.clone();
    long[4..6].copy_from_slice(&100u16.to_be_bytes());
    assert_eq!(
        parse(&wrap(&Encap::Untagged, ROUTER_MAC, &long, true)).outcome,
        Outcome::Unparsed(UnparsedReason::Ipv6Length)
    );
    let frame = wrap(&Encap::Untagged, ROUTER_MAC, &v6, true);
    assert_eq!(
        parse(&frame[..14 + 39]).outcome,
        Outcome::Unparsed(UnparsedReason::Ipv6Header)
    );
}

trait TapTotal {
    fn tap_total(self) -> Self;
}

impl TapTotal for Vec<u8> {
    /// Sets the IPv4 Total Length to the buffer's length.
    fn tap_total(mut self) -> Self {
        let total = self.len() as u16;
        self[2..4].copy_from_slice(&total.to_be_bytes());
        fix_ipv4_checksum(&mut self);
        self
    }
}

#[test]
fn pppoe_lengths_bound_the_ip_packet() {
    let ip = v4_syn().ip_packet();
    let frame = wrap(&Encap::Pppoe(1), ROUTER_MAC, &ip, false);
    // LENGTH past the end of the frame.
    let mut bad = frame.clone();
    bad[18..20].copy_from_slice(&2000u16.to_be_bytes());
    assert_eq!(
        parse(&bad).outcome,
        Outcome::Unparsed(UnparsedReason::PppoeHeader)
    );
    // LENGTH shorter than the IP packet it carries: the IP total length now lies.
    let mut short = frame.clone();
    short[18..20].copy_from_slice(&30u16.to_be_bytes());
    assert_eq!(
        parse(&short).outcome,
        Outcome::Unparsed(UnparsedReason::Ipv4Length)
    );
    // Bad version/type.
    let mut ver = frame.clone();
    ver[14] = 0x12;
    assert_eq!(
        parse(&ver).outcome,
        Outcome::Unparsed(UnparsedReason::PppoeHeader)
    );
    // Cut inside the header.
    assert_eq!(
        parse(&frame[..17]).outcome,
        Outcome::Unparsed(UnparsedReason::PppoeHeader)
    );
    // Padding after the PPPoE payload is fine.
    let mut padded = frame.clone();
    padded.extend_from_slice(&[0; 20]);
    assert_eq!(parse(&padded).outcome, Outcome::Tcp);
}

#[test]
fn pppoe_control_and_discovery_frames_are_not_ip() {
    // LCP Echo-Request inside a session.
    let mut lcp = wrap(
        &Encap::Pppoe(3),
        ROUTER_MAC,
        &[9, 1, 0, 8, 0, 0, 0, 0],
        false,
    );
    lcp[20..22].copy_from_slice(&0xc021u16.to_be_bytes());
    assert_eq!(parse(&lcp).outcome, Outcome::NotIp);
    // PADI (discovery stage, EtherType 0x8863, code 0x09).
    let mut padi = vec![0xff; 6];
    padi.extend_from_slice(&support::frames::CLIENT_MAC);
    padi.extend_from_slice(&[0x88, 0x63, 0x11, 0x09, 0, 0, 0, 4, 0x01, 0x01, 0, 0]);
    padi.resize(60, 0);
    assert_eq!(parse(&padi).outcome, Outcome::NotIp);
    // ARP.
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&support::frames::CLIENT_MAC);
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.resize(60, 0);
    assert_eq!(parse(&arp).outcome, Outcome::NotIp);
}

#[test]
fn pppoe_with_a_compressed_protocol_field_parses() {
    let ip = v4_syn().ip_packet();
    let mut frame = wrap(&Encap::Pppoe(5), ROUTER_MAC, &ip, false);
    // Drop the leading 0x00 of the protocol field and shorten LENGTH.
    frame.remove(20);
    let length = (ip.len() + 1) as u16;
    frame[18..20].copy_from_slice(&length.to_be_bytes());
    let p = parse(&frame);
    assert_eq!((p.outcome, p.l3_offset), (Outcome::Tcp, 21));
}

#[test]
fn udp_and_icmp_are_not_tcp_and_icmp_errors_are_marked() {
    for (name, encap) in Encap::all() {
        for (src, dst) in [
            ("198.51.100.1", "192.0.2.1"),
            ("2001:db8:100::1", "2001:db8::1"),
        ] {
            assert_eq!(
                parse(&udp_frame(&encap, src, dst, 25)).outcome,
                Outcome::NotTcp { icmp_error: false },
                "{name}"
            );
            assert_eq!(
                parse(&icmp_frame(&encap, src, dst, false)).outcome,
                Outcome::NotTcp { icmp_error: false },
                "{name}"
            );
            assert_eq!(
                parse(&icmp_frame(&encap, src, dst, true)).outcome,
                Outcome::NotTcp { icmp_error: true },
                "{name}"
            );
        }
    }
}

#[test]
fn every_prefix_of_a_frame_parses_without_panicking() {
    for (_, encap) in Encap::all() {
        for seg in [v4_syn().data(b"data"), v6_syn().data(b"data")] {
            let frame = seg.frame(&encap);
            let end = parse(&frame).ip_end as usize;
            for cut in 0..end {
                let p = parse(&frame[..cut]);
                assert_ne!(
                    p.outcome,
                    Outcome::Tcp,
                    "cut at {cut} still parsed as a whole segment"
                );
            }
        }
    }
}

#[test]
fn unparsed_reasons_have_distinct_stable_names() {
    let names: std::collections::HashSet<&str> =
        UnparsedReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(names.len(), UnparsedReason::ALL.len());
    for (i, r) in UnparsedReason::ALL.iter().enumerate() {
        assert_eq!(r.index(), i);
    }
}
