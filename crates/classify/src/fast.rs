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
use policy::Tables;

/// VLAN tags the fast pass walks (802.1Q, QinQ); deeper stacks take the full parse.
pub const FAST_VLAN_TAGS: usize = 2;

#[inline(always)]
fn be16(data: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([data[at], data[at + 1]])
}

/// True when the frame is certainly forwarded unchanged and uncounted under
/// `tables` in direction `dir` (see the module documentation). Never panics.
#[inline]
pub fn passes(tables: &Tables, dir: Direction, frame: &[u8]) -> bool {
    let len = frame.len();
    if len < 14 {
        return false;
    }
    let mut ether_type = be16(frame, 12);
    let mut offset = 14;
    for _ in 0..FAST_VLAN_TAGS {
        if !is_vlan_tpid(ether_type) {
            break;
        }
        if len < offset + 4 {
            return false;
        }
        ether_type = be16(frame, offset + 2);
        offset += 4;
    }
    // Where the IP packet starts, where its bytes end, and its version.
    let (l3, limit, v4) = match ether_type {
        ethertype::IPV4 => (offset, len, true),
        ethertype::IPV6 => (offset, len, false),
        ethertype::PPPOE_SESSION => {
            // RFC 2516 §6: VER/TYPE 0x11, CODE 0, LENGTH within the frame, an
            // uncompressed two-octet PPP protocol field.
            if len < offset + 8 || frame[offset] != 0x11 || frame[offset + 1] != 0 {
                return false;
            }
            let end = offset + 6 + usize::from(be16(frame, offset + 4));
            if end > len || end < offset + 8 || frame[offset + 6] & 1 == 1 {
                return false;
            }
            match be16(frame, offset + 6) {
                ppp_protocol::IPV4 => (offset + 8, end, true),
                ppp_protocol::IPV6 => (offset + 8, end, false),
                // LCP, IPCP, authentication: the session's control plane, not IP.
                _ => return true,
            }
        }
        // A third tag: the full parse walks (and bounds) deep stacks.
        t if is_vlan_tpid(t) => return false,
        // ARP, PPPoE discovery, LLDP, any other EtherType: not IP.
        _ => return true,
    };
    let packet = &frame[l3..limit];
    let segment = if v4 {
        // RFC 791 §3.1, checked as `Ipv4Packet::new_checked` does.
        if packet.len() < 20 || packet[0] >> 4 != 4 {
            return false;
        }
        let header_len = usize::from(packet[0] & 0x0f) * 4;
        let total = usize::from(be16(packet, 2));
        if header_len < 20 || total < header_len || total > packet.len() {
            return false;
        }
        if packet[9] != ip_protocol::TCP {
            // Not TCP (any fragment of it too): forwarded by rule 1.
            return true;
        }
        if be16(packet, 6) & 0x3fff != 0 {
            // A TCP fragment: RFC 1858 checks in the full parse.
            return false;
        }
        &packet[header_len..total]
    } else {
        // RFC 8200 §3, checked as `Ipv6Packet::new_checked` does.
        if packet.len() < 40 || packet[0] >> 4 != 6 {
            return false;
        }
        let end = 40 + usize::from(be16(packet, 4));
        if end > packet.len() {
            return false;
        }
        match packet[6] {
            ip_protocol::TCP => &packet[40..end],
            // Extension headers: the full parse walks them.
            ip_protocol::HOP_BY_HOP
            | ip_protocol::IPV6_ROUTING
            | ip_protocol::IPV6_DEST_OPTIONS
            | ip_protocol::IPV6_FRAGMENT => return false,
            _ => return true,
        }
    };
    // RFC 9293 §3.1: the fixed header, and a data offset within the segment.
    if segment.len() < 20 {
        return false;
    }
    let header_len = usize::from(segment[12] >> 4) * 4;
    if header_len < 20 || header_len > segment.len() {
        return false;
    }
    let port = match dir {
        Direction::Outbound => be16(segment, 2),
        Direction::Inbound => {
            if !tables.inbound_enabled() {
                return true;
            }
            be16(segment, 0)
        }
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
