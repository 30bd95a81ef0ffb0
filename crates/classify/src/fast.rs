//! The fast pass: the verdict of the common frame from a few header fields.
//!
//! On an access link almost every frame is one the policy forwards without a
//! pool lookup: not IP, not TCP, or TCP on a port that is not blocked (web,
//! QUIC, DNS, and submission on 587/465). [`passes`] recognises those by
//! reading the handful of fields that decide it (EtherType, up to two VLAN
//! tags, the PPPoE session header, the IP header's version, lengths, protocol
//! and fragment field, the TCP data offset and ports), with every length
//! checked and nothing written. Every other frame (a blocked port, a TCP
//! fragment, IPv6 extension headers, three or more VLAN tags, a compressed
//! PPP protocol field, anything malformed) answers `false` and takes the full
//! parse and [`classify_burst`](crate::classify_burst).
//!
//! The contract, tested on every generated and mutated frame of the property
//! tests, on the fuzz corpus and by the `packet` fuzz target: when [`passes`]
//! says `true`, [`classify_one`](crate::classify_one) forwards the frame for a
//! reason that is not [`ForwardReason::Unparsed`](crate::ForwardReason) (the
//! one forward verdict the dataplane counts). A `false` promises nothing; it
//! only costs the full parse.

use crate::verdict::Direction;
use crate::wire::ethernet::{ethertype, is_vlan_tpid};
use crate::wire::ip_protocol;
use crate::wire::pppoe::ppp_protocol;
use crate::wire::{EthernetFrame, Ipv4Packet, Ipv6Packet, PppoeHeader, TcpSegment, VlanTag};
use policy::Tables;

/// VLAN tags the fast pass walks (802.1Q, QinQ); deeper stacks take the full parse.
pub const FAST_VLAN_TAGS: usize = 2;

/// True when the frame is certainly forwarded unchanged and uncounted under
/// `tables` in direction `dir` (see the module documentation). Never panics.
///
/// Every header goes through the same checked views ([`crate::wire`]) as the
/// full parse, so a header the parser would call malformed never passes.
#[inline]
pub fn passes(tables: &Tables, dir: Direction, frame: &[u8]) -> bool {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return false;
    };
    let mut ether_type = eth.ethertype();
    let mut offset = EthernetFrame::<&[u8]>::HEADER_LEN;
    for _ in 0..FAST_VLAN_TAGS {
        if !is_vlan_tpid(ether_type) {
            break;
        }
        let Ok(tag) = VlanTag::new_checked(&frame[offset..]) else {
            return false;
        };
        ether_type = tag.ethertype();
        offset += VlanTag::<&[u8]>::HEADER_LEN;
    }
    // The IP packet (up to the PPPoE LENGTH, as the parser bounds it) and its version.
    let (packet, v4) = match ether_type {
        ethertype::IPV4 => (&frame[offset..], true),
        ethertype::IPV6 => (&frame[offset..], false),
        ethertype::PPPOE_SESSION => {
            let Ok(pppoe) = PppoeHeader::new_checked(&frame[offset..]) else {
                return false;
            };
            let payload = offset + PppoeHeader::<&[u8]>::HEADER_LEN;
            let ip = payload + 2..payload + usize::from(pppoe.length());
            match pppoe.ppp_protocol() {
                Some((ppp_protocol::IPV4, 2)) => (&frame[ip], true),
                Some((ppp_protocol::IPV6, 2)) => (&frame[ip], false),
                // LCP, IPCP, authentication: the session's control plane, not IP.
                Some((_, 2)) => return true,
                // A compressed protocol field (it may be IP), or none.
                _ => return false,
            }
        }
        // A third tag: the full parse walks (and bounds) deep stacks.
        t if is_vlan_tpid(t) => return false,
        // ARP, PPPoE discovery, LLDP, any other EtherType: not IP.
        _ => return true,
    };
    if v4 {
        let Ok(ip) = Ipv4Packet::new_checked(packet) else {
            return false;
        };
        if ip.protocol() != ip_protocol::TCP {
            // Not TCP (any fragment of it too): forwarded by rule 1.
            return true;
        }
        // A TCP fragment: RFC 1858 checks in the full parse.
        !ip.more_frags() && ip.frag_offset_units() == 0 && tcp_passes(tables, dir, ip.payload())
    } else {
        let Ok(ip) = Ipv6Packet::new_checked(packet) else {
            return false;
        };
        match ip.next_header() {
            ip_protocol::TCP => tcp_passes(tables, dir, ip.payload()),
            // Extension headers: the full parse walks them.
            ip_protocol::HOP_BY_HOP
            | ip_protocol::IPV6_ROUTING
            | ip_protocol::IPV6_DEST_OPTIONS
            | ip_protocol::IPV6_FRAGMENT => false,
            _ => true,
        }
    }
}

/// A whole TCP header (RFC 9293 §3.1) on a port the policy does not look at
/// in this direction, or any inbound segment when the inbound rule is off.
#[inline(always)]
fn tcp_passes(tables: &Tables, dir: Direction, segment: &[u8]) -> bool {
    let Ok(tcp) = TcpSegment::new_checked(segment) else {
        return false;
    };
    if !tcp.is_complete() {
        return false;
    }
    let port = match dir {
        Direction::Outbound => tcp.dst_port(),
        Direction::Inbound if !tables.inbound_enabled() => return true,
        Direction::Inbound => tcp.src_port(),
    };
    !tables.blocked_ports().contains(port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{classify_one, ForwardReason, Verdict};

    fn tables(yaml: &str) -> Tables {
        policy::load_str("t.yaml", yaml.as_bytes()).unwrap().tables
    }

    const CONFIG: &str = "version: 1\npools:\n  - name: dynamic\n    mode: enforce\n    prefixes: [198.51.100.0/24, 2001:db8:1::/48]\ninbound:\n  enabled: true\n";

    /// An untagged IPv4 TCP segment 198.51.100.7:40000 -> 192.0.2.80:`dport`.
    fn v4_tcp(dport: u16) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 0xfe, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        f.extend_from_slice(&[0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0]);
        f.extend_from_slice(&[198, 51, 100, 7, 192, 0, 2, 80]);
        f.extend_from_slice(&[0x9c, 0x40]);
        f.extend_from_slice(&dport.to_be_bytes());
        f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
        f.resize(60, 0);
        f
    }

    fn forwarded_uncounted(v: Verdict) -> bool {
        matches!(v, Verdict::Forward(r) if !matches!(r, ForwardReason::Unparsed(_)))
    }

    #[test]
    fn common_frames_pass_and_blocked_ports_do_not() {
        let t = tables(CONFIG);
        for port in [80, 443, 587, 465, 2525] {
            let f = v4_tcp(port);
            assert!(passes(&t, Direction::Outbound, &f), "port {port}");
            assert!(forwarded_uncounted(classify_one(
                &t,
                Direction::Outbound,
                &f
            )));
        }
        assert!(!passes(&t, Direction::Outbound, &v4_tcp(25)));
        // Inbound (the rule is on), the source port counts: 40000 is not blocked.
        assert!(passes(&t, Direction::Inbound, &v4_tcp(25)));
        let mut from_25 = v4_tcp(40000);
        from_25[34..36].copy_from_slice(&25u16.to_be_bytes());
        assert!(!passes(&t, Direction::Inbound, &from_25));
        // With the inbound rule off, every inbound segment is forwarded.
        let off = tables(&CONFIG.replace("enabled: true", "enabled: false"));
        assert!(passes(&off, Direction::Inbound, &from_25));
    }

    #[test]
    fn every_truncation_and_every_byte_keeps_the_contract() {
        let t = tables(CONFIG);
        let base = v4_tcp(443);
        for dir in [Direction::Outbound, Direction::Inbound] {
            for cut in 0..=base.len() {
                let f = &base[..cut];
                if passes(&t, dir, f) {
                    assert!(forwarded_uncounted(classify_one(&t, dir, f)), "cut {cut}");
                }
            }
            for at in 0..base.len() {
                for byte in [
                    0x00, 0x01, 0x06, 0x11, 0x19, 0x21, 0x45, 0x4f, 0x60, 0x81, 0xff,
                ] {
                    let mut f = base.clone();
                    f[at] = byte;
                    if passes(&t, dir, &f) {
                        let v = classify_one(&t, dir, &f);
                        assert!(forwarded_uncounted(v), "byte {at} = {byte:#x}: {v:?}");
                    }
                }
            }
        }
    }
}
