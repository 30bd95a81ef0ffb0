//! Deterministic traffic: the bundled fixtures and the benchmark mixes.
//!
//! Address plan (documentation ranges only, matching `configs/example.yaml`):
//! - dynamic subscribers 198.51.100.0/24 and 2001:db8:100::/40,
//! - fixed-IP (exempt) subscribers 198.51.100.200/29,
//! - the ISP's relay 203.0.113.25 and 2001:db8:ff::25,
//! - outside mail and web servers in 192.0.2.0/24 and 2001:db8:200::/48.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::frame::{self, L2, L3, L4};
use crate::rng::SplitMix64;

/// Which side of the appliance a frame enters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// From subscribers (access port).
    Access,
    /// From the core (toward subscribers).
    Core,
}

/// Encapsulations an access network carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encap {
    Untagged,
    Vlan,
    QinQ,
    QinQ9100,
    Pppoe,
    VlanPppoe,
}

pub const ENCAPS: [Encap; 6] = [
    Encap::Untagged,
    Encap::Vlan,
    Encap::QinQ,
    Encap::QinQ9100,
    Encap::Pppoe,
    Encap::VlanPppoe,
];

impl Encap {
    pub fn l2(self, rng: &mut SplitMix64, side: Side) -> L2 {
        let vid = 100 + rng.below(3900) as u16;
        let inner = 10 + rng.below(4000) as u16;
        let session = 1 + rng.below(0xfffe) as u16;
        let (src, dst) = macs(rng, side);
        let (tags, pppoe) = match self {
            Encap::Untagged => (vec![], None),
            Encap::Vlan => (vec![(frame::ETH_VLAN, vid)], None),
            Encap::QinQ => (vec![(frame::ETH_QINQ, vid), (frame::ETH_VLAN, inner)], None),
            Encap::QinQ9100 => (
                vec![(frame::ETH_QINQ_OLD, vid), (frame::ETH_VLAN, inner)],
                None,
            ),
            Encap::Pppoe => (vec![], Some(session)),
            Encap::VlanPppoe => (vec![(frame::ETH_VLAN, vid)], Some(session)),
        };
        L2 {
            dst,
            src,
            tags,
            pppoe,
        }
    }
}

fn macs(rng: &mut SplitMix64, side: Side) -> ([u8; 6], [u8; 6]) {
    // Locally administered unicast addresses: subscriber CPEs and the BNG/router.
    let n = rng.below(250) as u8;
    let cpe = [0x02, 0x00, 0x5e, 0x10, 0x00, n];
    let router = [0x02, 0x00, 0x5e, 0x20, 0x00, 0x01];
    match side {
        Side::Access => (cpe, router),
        Side::Core => (router, cpe),
    }
}

pub fn dynamic_v4(rng: &mut SplitMix64) -> Ipv4Addr {
    Ipv4Addr::new(198, 51, 100, 1 + rng.below(190) as u8)
}

pub fn fixed_v4(rng: &mut SplitMix64) -> Ipv4Addr {
    Ipv4Addr::new(198, 51, 100, 200 + rng.below(8) as u8)
}

pub fn dynamic_v6(rng: &mut SplitMix64) -> Ipv6Addr {
    Ipv6Addr::new(
        0x2001,
        0xdb8,
        0x100 + rng.below(0xff) as u16,
        rng.below(0xffff) as u16,
        0,
        0,
        0,
        1 + rng.below(0xfffe) as u16,
    )
}

pub fn outside_v4(rng: &mut SplitMix64) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, 1 + rng.below(254) as u8)
}

pub fn outside_v6(rng: &mut SplitMix64) -> Ipv6Addr {
    Ipv6Addr::new(
        0x2001,
        0xdb8,
        0x200,
        0,
        0,
        0,
        0,
        1 + rng.below(0xfffe) as u16,
    )
}

pub const RELAY_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 25);
pub const RELAY_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 0x25);

fn payload(rng: &mut SplitMix64, max: u64) -> Vec<u8> {
    let n = rng.below(max + 1) as usize;
    (0..n).map(|_| rng.next_u32() as u8).collect()
}

/// One frame of the mixed fixture: every encapsulation, both families, TCP to
/// blocked and allowed ports with and without ACK, UDP, ICMP, ARP, PPPoE
/// discovery, IPv4 fragments and options, IPv6 extension headers.
pub fn mixed_frame(rng: &mut SplitMix64, side: Side) -> Vec<u8> {
    let encap = *rng.pick(&ENCAPS);
    let l2 = encap.l2(rng, side);
    let kind = rng.below(100);
    if kind < 3 {
        return frame::arp_request(&l2, dynamic_v4(rng), Ipv4Addr::new(198, 51, 100, 254));
    }
    if kind < 5 {
        return frame::pppoe_padi(&l2);
    }
    let v6 = rng.chance(40);
    let (sub, srv): (std::net::IpAddr, std::net::IpAddr) = if v6 {
        let srv = if rng.chance(20) {
            RELAY_V6
        } else {
            outside_v6(rng)
        };
        (dynamic_v6(rng).into(), srv.into())
    } else {
        let sub = if rng.chance(15) {
            fixed_v4(rng)
        } else {
            dynamic_v4(rng)
        };
        let srv = if rng.chance(20) {
            RELAY_V4
        } else {
            outside_v4(rng)
        };
        (sub.into(), srv.into())
    };
    let server_port = *rng.pick(&[25u16, 25, 25, 587, 465, 80, 443]);
    let client_port = 32768 + rng.below(28000) as u16;
    let l4 = match rng.below(10) {
        0 => L4::Udp {
            sport: client_port,
            dport: 33434,
            payload: payload(rng, 60),
        },
        1 => {
            // Echo request: identifier and sequence number, then data.
            let mut body = rng.next_u32().to_be_bytes().to_vec();
            body.extend(payload(rng, 56));
            L4::Icmp {
                ty: if v6 { 128 } else { 8 },
                code: 0,
                body,
            }
        }
        2..=4 => L4::syn(client_port, server_port),
        5 => {
            let mut t = L4::tcp(client_port, server_port, frame::TCP_SYN);
            if let L4::Tcp { payload: p, .. } = &mut t {
                *p = payload(rng, 40); // SYN with data (TFO-like)
            }
            t
        }
        6 => L4::tcp(client_port, server_port, frame::TCP_FIN | frame::TCP_ACK),
        7 => L4::tcp(client_port, server_port, frame::TCP_RST | frame::TCP_ACK),
        _ => {
            let mut t = L4::tcp(client_port, server_port, frame::TCP_ACK | frame::TCP_PSH);
            if let L4::Tcp {
                payload: p,
                seq,
                ack,
                ..
            } = &mut t
            {
                *p = payload(rng, 1200);
                *seq = rng.next_u32();
                *ack = rng.next_u32();
            }
            t
        }
    };
    // From the core the roles swap: server -> subscriber.
    let (src, dst, l4) = match side {
        Side::Access => (sub, srv, l4),
        Side::Core => (srv, sub, swap_ports(l4)),
    };
    let mut l3 = match (src, dst) {
        (std::net::IpAddr::V4(s), std::net::IpAddr::V4(d)) => L3::v4(s, d),
        (std::net::IpAddr::V6(s), std::net::IpAddr::V6(d)) => L3::v6(s, d),
        _ => unreachable!("families always match"),
    };
    match &mut l3 {
        L3::V4 {
            options,
            more_fragments,
            frag_offset,
            dont_fragment,
            ..
        } => match rng.below(20) {
            0 => *options = vec![1, 1, 1, 0], // NOPs + end of list
            1 => {
                *dont_fragment = false;
                *more_fragments = true; // first fragment
            }
            2 => {
                *dont_fragment = false;
                *frag_offset = 1 + rng.below(100) as u16; // non-first fragment
                let len = 8 + 8 * rng.below(20) as usize;
                let bytes = (0..len).map(|_| rng.next_u32() as u8).collect();
                return frame::build(
                    &l2,
                    &l3,
                    &L4::Raw {
                        proto: frame::PROTO_TCP,
                        bytes,
                    },
                );
            }
            _ => {}
        },
        L3::V6 { ext, .. } => match rng.below(10) {
            0 => ext.push((0, vec![1, 4, 0, 0, 0, 0])), // hop-by-hop with a PadN
            1 => ext.push((60, vec![1, 4, 0, 0, 0, 0])), // destination options
            2 => ext.push((44, vec![0, 0, 0, 0, 0, 42])), // atomic fragment (offset 0, M=0)
            _ => {}
        },
    }
    frame::build(&l2, &l3, &l4)
}

fn swap_ports(l4: L4) -> L4 {
    match l4 {
        L4::Tcp {
            sport,
            dport,
            seq,
            ack,
            flags,
            window,
            options,
            payload,
        } => L4::Tcp {
            sport: dport,
            dport: sport,
            seq,
            ack,
            flags,
            window,
            options,
            payload,
        },
        L4::Udp {
            sport,
            dport,
            payload,
        } => L4::Udp {
            sport: dport,
            dport: sport,
            payload,
        },
        other => other,
    }
}

/// `n` mixed frames entering on `side`, from `seed`.
pub fn mixed(seed: u64, n: usize, side: Side) -> Vec<Vec<u8>> {
    let mut rng = SplitMix64::new(seed);
    (0..n).map(|_| mixed_frame(&mut rng, side)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_traffic_is_deterministic_and_varied() {
        let a = mixed(42, 300, Side::Access);
        assert_eq!(a, mixed(42, 300, Side::Access));
        assert_ne!(a, mixed(43, 300, Side::Access));
        let ethertype_at = |f: &Vec<u8>, o: usize| u16::from_be_bytes([f[o], f[o + 1]]);
        let outer: std::collections::BTreeSet<u16> =
            a.iter().map(|f| ethertype_at(f, 12)).collect();
        for t in [
            frame::ETH_IPV4,
            frame::ETH_IPV6,
            frame::ETH_VLAN,
            frame::ETH_QINQ,
            frame::ETH_QINQ_OLD,
            frame::ETH_PPPOE_SESS,
        ] {
            assert!(
                outer.contains(&t),
                "ethertype {t:#06x} missing from the mix"
            );
        }
        assert!(a.iter().all(|f| f.len() >= 60 && f.len() <= 1518 + 8));
    }
}

/// The verdict a fixture frame must get, known from how it was built (not
/// from the classifier): the expected-verdict fixtures are labelled with these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Forward,
    Monitor,
    Rst,
    Icmp,
    Drop,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Forward => "forward",
            Label::Monitor => "monitor",
            Label::Rst => "rst",
            Label::Icmp => "icmp",
            Label::Drop => "drop",
        }
    }

    pub fn parse(s: &str) -> Option<Label> {
        Some(match s {
            "forward" => Label::Forward,
            "monitor" => Label::Monitor,
            "rst" => Label::Rst,
            "icmp" => Label::Icmp,
            "drop" => Label::Drop,
            _ => return None,
        })
    }
}

/// The config the labelled fixtures are built for (`pcap-fixtures/verdicts.yaml`).
pub const VERDICTS_CONFIG: &str = "\
# Config for pcap-fixtures/verdicts-*.pcap: one pool per mode and action.
# Generated by op25b-gen; the labels in verdicts-*.txt follow from it.
version: 1
blocked_ports: [25]
default_action: rst
pools:
  - name: dyn-rst
    mode: enforce
    prefixes: [198.51.100.0/26, \"2001:db8:100::/48\"]
  - name: dyn-icmp
    mode: enforce
    action: icmp
    prefixes: [198.51.100.64/26, \"2001:db8:101::/48\"]
  - name: dyn-drop
    mode: enforce
    action: drop
    prefixes: [198.51.100.128/26, \"2001:db8:102::/48\"]
  - name: dyn-monitor
    mode: monitor
    prefixes: [198.51.100.192/27, \"2001:db8:103::/48\"]
  - name: fixed
    mode: exempt
    prefixes: [198.51.100.224/27, \"2001:db8:104::/48\"]
relays:
  - name: own-relay
    prefixes: [203.0.113.25/32, \"2001:db8:ff::25/128\"]
inbound:
  enabled: true
";

/// The pools of [`VERDICTS_CONFIG`], in order, with what enforce means for each.
const VERDICT_POOLS: [(&str, Option<Label>); 6] = [
    ("dyn-rst", Some(Label::Rst)),
    ("dyn-icmp", Some(Label::Icmp)),
    ("dyn-drop", Some(Label::Drop)),
    ("dyn-monitor", Some(Label::Monitor)),
    ("fixed", None),
    ("none", None),
];

fn subscriber(rng: &mut SplitMix64, pool: usize, v6: bool) -> std::net::IpAddr {
    if v6 {
        let net = 0x100 + pool as u16; // 2001:db8:10N::/48; "none" is 2001:db8:105::
        Ipv6Addr::new(
            0x2001,
            0xdb8,
            net,
            rng.below(0xffff) as u16,
            0,
            0,
            0,
            1 + rng.below(0xfffe) as u16,
        )
        .into()
    } else {
        match pool {
            5 => Ipv4Addr::new(203, 0, 113, 100 + rng.below(100) as u8).into(), // in no pool
            p => {
                let base = [0u8, 64, 128, 192, 224][p];
                Ipv4Addr::new(198, 51, 100, base + 1 + rng.below(25) as u8).into()
            }
        }
    }
}

/// Labelled frames: `n` entering on `side`, with the verdict each must get under
/// [`VERDICTS_CONFIG`]. Covers every encapsulation, both families, every pool,
/// relays, allowed ports, segments with and without ACK, RSTs (never answered),
/// non-TCP traffic and non-first fragments; on the core side, the inbound rule.
pub fn labelled(seed: u64, n: usize, side: Side) -> Vec<(Vec<u8>, Label)> {
    let mut rng = SplitMix64::new(seed);
    (0..n).map(|_| labelled_frame(&mut rng, side)).collect()
}

fn labelled_frame(rng: &mut SplitMix64, side: Side) -> (Vec<u8>, Label) {
    let encap = *rng.pick(&ENCAPS);
    let l2 = encap.l2(rng, side);
    let v6 = rng.chance(40);
    let pool = rng.below(VERDICT_POOLS.len() as u64) as usize;
    let sub = subscriber(rng, pool, v6);
    let relay = rng.chance(15);
    let srv: std::net::IpAddr = match (v6, relay) {
        (false, false) => outside_v4(rng).into(),
        (false, true) => RELAY_V4.into(),
        (true, false) => outside_v6(rng).into(),
        (true, true) => RELAY_V6.into(),
    };
    let mail_port = *rng.pick(&[25u16, 25, 25, 25, 587, 465, 80]);
    let client_port = 32768 + rng.below(28000) as u16;
    let kind = rng.below(20);
    let (l4, is_tcp, is_rst) = match kind {
        0 => (
            L4::Udp {
                sport: client_port,
                dport: 33434,
                payload: payload(rng, 30),
            },
            false,
            false,
        ),
        1 => (
            L4::tcp(client_port, mail_port, frame::TCP_RST | frame::TCP_ACK),
            true,
            true,
        ),
        2 => (
            L4::tcp(client_port, mail_port, frame::TCP_FIN | frame::TCP_ACK),
            true,
            false,
        ),
        3..=5 => {
            let mut t = L4::tcp(client_port, mail_port, frame::TCP_ACK | frame::TCP_PSH);
            if let L4::Tcp {
                payload: p,
                seq,
                ack,
                ..
            } = &mut t
            {
                *p = payload(rng, 300);
                *seq = rng.next_u32();
                *ack = rng.next_u32();
            }
            (t, true, false)
        }
        _ => (L4::syn(client_port, mail_port), true, false),
    };
    // Who is the subscriber depends on the side: outbound src, inbound dst.
    let (src, dst, l4) = match side {
        Side::Access => (sub, srv, l4),
        Side::Core => (srv, sub, swap_ports(l4)),
    };
    let l3 = match (src, dst) {
        (std::net::IpAddr::V4(s), std::net::IpAddr::V4(d)) => L3::v4(s, d),
        (std::net::IpAddr::V6(s), std::net::IpAddr::V6(d)) => L3::v6(s, d),
        _ => unreachable!("families always match"),
    };
    let label = if !is_tcp || mail_port != 25 || relay {
        Label::Forward
    } else {
        match VERDICT_POOLS[pool].1 {
            None => Label::Forward,
            Some(Label::Monitor) => Label::Monitor,
            // A RST is never answered: a blocked RST is dropped.
            Some(Label::Rst | Label::Icmp) if is_rst => Label::Drop,
            Some(l) => l,
        }
    };
    (frame::build(&l2, &l3, &l4), label)
}
